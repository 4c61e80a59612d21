"""Benchmark the proofs service: the clerk → officer → clerk round trip, and data-sharing answers.

    python bench/proofs.py [--quick] [--duration 8] [--warmup 2] [--concurrency 1,8,32]
                           [--holders 500] [--cases roundtrip,datasharing] [--no-echo]

Starts the whole certfree stack in this process (``Stack.start(..., insecure_dev=True)``:
embedded Valkey, or REDIS_URL; ledger, licenses, proofs and gateway, every port 0, a
temporary data dir) and a bare unary echo server (the baseline), then measures with a
load generator in a child process, so that this process's CPU is the servers' alone:

1. Round trip at each concurrency N (round trips in flight), the Fuqing scenario: a clerk
   of the service centre ``11350181MB1234505L`` creates a department_verification request
   for 施工图设计文件审查合格证明 (``construction-drawing-review.verification``) about a
   company, with the legal representative's consent; the housing bureau's officer stream
   (``11350181MB12345671``, INCOMING) delivers its CREATED event; the officer accepts and
   answers CONFIRMED with the item's answer claims (signed SD-JWT, attested in the ledger);
   the centre's clerk stream (OUTGOING) delivers the ANSWERED event with the signed
   answer. One officer stream and one clerk stream shared by all callers, events
   dispatched by client request id, as a deployment's pages would. Printed: round trips/s,
   p50/p99 of the whole round trip and of its parts (create → officer sees; the accept
   call; the answer call; answer sent → clerk sees), CPU per round trip of the servers,
   the store and the client, and round trips/s against the echo's calls/s at the same N
   (the same client sending the create request's bytes). The issue's target, p99 ≤ 200 ms
   on loopback, is printed next to the figure, never asserted.
2. data_sharing at each N: ``--holders`` business licenses (``11100000000013127D001``,
   issued by ``11350100MB01234565``) are issued first, one per company; then the clerk
   creates a ``business-license.existence`` request per holder, round robin, each answered
   at once from the shared license (lookup in the licenses service, answer signed by the
   license's issuer, attested). Printed: answers/s, p50/p99, CPU per answer, and the
   ratio to the echo.

Every reply is checked (states, outcome CONFIRMED, a signed answer with its ledger index,
the stream's answer equal to the answer call's); failures are counted and printed, never
hidden. The machine's load average is printed next to each row: other work on the box
moves these figures. Timings are this machine's; compare the ratios across changes.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from common import (
    ECHO,
    add_baseline_options,
    echo_server,
    fill_defaults,
    integers,
    names,
    percentile,
    warm_child,
)
from licenses import ISSUER, ISSUER_METADATA, holder_uscc, issue_request, store_cpu

from certfree.stack import Stack
from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.licenses.v1 import licenses_pb2
from genproto.certfree.proofs.v1 import proofs_pb2
from runtime.config import load
from runtime.identity import DEPARTMENT_HEADER, ROLE_HEADER
from runtime.logs import configure

CENTRE = "11350181MB1234505L"
"""福清市行政服务中心管理委员会: the window clerks' department (licenses sample catalogue)."""
HOUSING_BUREAU = "11350181MB12345671"
"""福清市住房和城乡建设局: the drawing review's authoritative department."""
DRAWING_REVIEW = "construction-drawing-review.verification"
"""施工图设计文件审查合格证明, department_verification (services/proofs/catalog.yaml)."""
BUSINESS_LICENSE_PROOF = "business-license.existence"
"""营业执照(市场主体登记)证明, data_sharing from the business license."""
CLERK_METADATA = ((DEPARTMENT_HEADER, CENTRE), (ROLE_HEADER, "clerk"))
OFFICER_METADATA = ((DEPARTMENT_HEADER, HOUSING_BUREAU), (ROLE_HEADER, "officer"))
ANSWER_CLAIMS = {
    "certificate_number": "闽施审2026-0042",
    "project_name": "福清市示例综合楼",
    "passed_on": "2026-03-02",
}
"""The drawing review's answer claims (made up)."""
AGENT_ID = "11010519491231002X"
"""The legal representative who consents: GB 11643's published example ID, nobody's."""

SERVICE = "/certfree.proofs.v1.ProofService/"
TARGET_P99_MS = 200.0
"""The issue's target: round-trip p99 on loopback at most this."""
WAIT_S = 10.0
"""How long a caller waits for a stream to deliver its event before counting a failure."""


def consent() -> common_pb2.HolderConsent:
    """Consent given at the window by the company's legal representative, ID checked."""
    given = common_pb2.HolderConsent(
        given_by=common_pb2.CONSENT_GIVER_LEGAL_REPRESENTATIVE,
        agent=common_pb2.HolderRef(resident_id=AGENT_ID),
        method=common_pb2.CONSENT_METHOD_AT_WINDOW_ID_CHECKED,
    )
    given.given_at.GetCurrentTime()
    return given


def create_request(
    item: str, client_request_id: str, holder: str
) -> proofs_pb2.CreateProofRequestRequest:
    """A clerk's request for `item` about company `holder`, with consent."""
    return proofs_pb2.CreateProofRequestRequest(
        client_request_id=client_request_id,
        proof_item_code=item,
        holder=common_pb2.HolderRef(uscc=holder),
        purpose=common_pb2.AccessPurpose(
            purpose="construction permit", case_reference=f"FQ-{client_request_id[-24:]}"
        ),
        consent=consent(),
        note="施工许可办件缺施工图审查合格证明",
    )


def answer_request(request_id: str) -> proofs_pb2.AnswerProofRequestRequest:
    """The officer's CONFIRMED answer with the drawing review's claims."""
    answer = proofs_pb2.AnswerProofRequestRequest(
        request_id=request_id,
        outcome=proofs_pb2.PROOF_OUTCOME_CONFIRMED,
        explanation="审查合格书核对无误",
    )
    answer.claims.update(ANSWER_CLAIMS)
    return answer


# --- the load generator (runs in a child process) --------------------------------------


@dataclass(frozen=True)
class LoadSpec:
    """What the child process does: which case, to which port, how many at once, how long."""

    port: int
    case: str
    """``roundtrip``, ``datasharing`` or ``issue`` (preparing the holders' licenses)."""
    echo: bool
    """Send the create request's bytes to the echo server instead."""
    concurrency: int
    warmup: float
    duration: float
    run: str
    """Makes this run's client request ids unique in the store (REDIS_URL may be reused)."""
    tag: str = "A"
    """Makes this case's holders unique (one letter of the USCC alphabet)."""
    holders: int = 0
    """datasharing: the holders with a license (tag ``holder_tag``, 0..holders-1);
    issue: how many licenses to issue."""
    holder_tag: str = "A"


@dataclass
class LoadResult:
    """What the child measured; latencies are of round trips or calls done in the window."""

    calls: int = 0
    window: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    parts_ms: dict[str, list[float]] = field(default_factory=dict)
    """Round trip only: each part's latencies, by part name."""
    sent: int = 0
    """Every round trip or call completed, warm-up and tail included (what CPU covers)."""
    client_cpu: float = 0.0
    request_bytes: int = 0
    errors: int = 0
    first_error: str = ""

    @property
    def per_s(self) -> float:
        """Completed round trips (or calls) per second in the window."""
        return self.calls / self.window if self.window else 0.0


PARTS = ("create→officer", "accept", "answer", "answer→clerk")
"""The parts of a round trip, in order."""


def run_load(spec: LoadSpec) -> LoadResult:
    """Entry point of the child process."""
    return asyncio.run(_load(spec))


class _Refused(Exception):
    """A reply or event that does not show the work done."""


@dataclass(frozen=True)
class Arrival:
    """An inbox event and when the stream delivered it (``time.perf_counter``)."""

    event: proofs_pb2.InboxEvent
    at: float


class Inbox:
    """One department's live inbox stream, its events handed to waiters by client request id."""

    def __init__(self, call: Any, event_type: int) -> None:
        self._call = call
        self._type = event_type
        self._waiting: dict[str, asyncio.Future[Arrival]] = {}
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls, channel: grpc.aio.Channel, metadata: Any, direction: int, event_type: int
    ) -> Inbox:
        """Open the stream at the live end and wait for its first message (the position)."""
        stream = channel.unary_stream(
            SERVICE + "StreamInbox",
            request_serializer=proofs_pb2.StreamInboxRequest.SerializeToString,
            response_deserializer=proofs_pb2.StreamInboxResponse.FromString,
        )
        call = stream(proofs_pb2.StreamInboxRequest(direction=direction), metadata=metadata)  # type: ignore[arg-type]
        inbox = cls(call, event_type)
        first = await call.read()
        if first is grpc.aio.EOF or first.events:
            raise _Refused("a stream opened at the live end did not start with its position")
        inbox._task = asyncio.create_task(inbox._dispatch())
        return inbox

    def expect(self, client_request_id: str) -> asyncio.Future[Arrival]:
        """The coming event of this inbox's type for the request (register before creating)."""
        future: asyncio.Future[Arrival] = asyncio.get_running_loop().create_future()
        self._waiting[client_request_id] = future
        return future

    def forget(self, client_request_id: str) -> None:
        """Stop waiting for a request (it failed)."""
        self._waiting.pop(client_request_id, None)

    async def _dispatch(self) -> None:
        try:
            async for message in self._messages():
                now = time.perf_counter()
                for event in message.events:
                    if event.event.type != self._type:
                        continue
                    future = self._waiting.pop(event.request.client_request_id, None)
                    if future is not None and not future.done():
                        future.set_result(Arrival(event, now))
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.CANCELLED:
                for future in self._waiting.values():
                    if not future.done():
                        future.set_exception(error)

    async def _messages(self) -> AsyncIterator[proofs_pb2.StreamInboxResponse]:
        while True:
            message = await self._call.read()
            if message is grpc.aio.EOF:
                return
            yield message

    async def close(self) -> None:
        """Cancel the stream."""
        self._call.cancel()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)


async def _arrival(future: asyncio.Future[Arrival], what: str) -> tuple[Any, float]:
    try:
        arrived = await asyncio.wait_for(future, WAIT_S)
    except TimeoutError:
        raise _Refused(f"the {what} stream did not deliver the event within {WAIT_S:g} s") from None
    return arrived.event, arrived.at


async def _load(spec: LoadSpec) -> LoadResult:
    cpu = time.process_time()
    result = LoadResult(parts_ms={part: [] for part in PARTS})
    options = [("grpc.max_receive_message_length", 64 << 20)]
    counter = iter(range(1 << 62))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{spec.port}", options=options) as channel:

        def unary(path: str, request_type: Any, reply_type: Any) -> Any:
            return channel.unary_unary(
                ECHO if spec.echo else path,
                request_serializer=request_type.SerializeToString,
                # The echo sends the request's bytes back: decode them as what they are.
                response_deserializer=(request_type if spec.echo else reply_type).FromString,
            )

        create = unary(
            SERVICE + "CreateProofRequest",
            proofs_pb2.CreateProofRequestRequest,
            proofs_pb2.CreateProofRequestResponse,
        )
        accept = unary(
            SERVICE + "AcceptProofRequest",
            proofs_pb2.AcceptProofRequestRequest,
            proofs_pb2.AcceptProofRequestResponse,
        )
        answer = unary(
            SERVICE + "AnswerProofRequest",
            proofs_pb2.AnswerProofRequestRequest,
            proofs_pb2.AnswerProofRequestResponse,
        )
        issue = unary(
            "/certfree.licenses.v1.LicenseService/IssueLicense",
            licenses_pb2.IssueLicenseRequest,
            licenses_pb2.IssueLicenseResponse,
        )
        officer = clerk = None
        if spec.case == "roundtrip" and not spec.echo:
            officer = await Inbox.open(
                channel,
                OFFICER_METADATA,
                proofs_pb2.REQUEST_DIRECTION_INCOMING,
                proofs_pb2.PROOF_REQUEST_EVENT_TYPE_CREATED,
            )
            clerk = await Inbox.open(
                channel,
                CLERK_METADATA,
                proofs_pb2.REQUEST_DIRECTION_OUTGOING,
                proofs_pb2.PROOF_REQUEST_EVENT_TYPE_ANSWERED,
            )

        async def round_trip(n: int) -> dict[str, float]:
            """One Fuqing round trip; the times of its steps."""
            assert officer is not None and clerk is not None
            client_id = f"bench-{spec.run}-{spec.tag}-{n}"
            message = create_request(DRAWING_REVIEW, client_id, holder_uscc(spec.tag, n))
            result.request_bytes = result.request_bytes or message.ByteSize()
            seen_by_officer = officer.expect(client_id)
            seen_by_clerk = clerk.expect(client_id)
            try:
                started = time.perf_counter()
                reply = await create(message, metadata=CLERK_METADATA)
                created = reply.request
                if reply.duplicate:
                    raise _Refused("a create that is a replay")
                if created.state != proofs_pb2.PROOF_REQUEST_STATE_SUBMITTED:
                    raise _Refused(f"created in state {created.state}, not SUBMITTED")
                event, officer_saw = await _arrival(seen_by_officer, "officer's")
                if event.request.request_id != created.request_id:
                    raise _Refused("the officer's stream delivered another request's event")
                rid = created.request_id
                accepted = await accept(
                    proofs_pb2.AcceptProofRequestRequest(request_id=rid, note="受理"),
                    metadata=OFFICER_METADATA,
                )
                if accepted.request.state != proofs_pb2.PROOF_REQUEST_STATE_ACCEPTED:
                    raise _Refused("an accept that did not leave the request ACCEPTED")
                answer_sent = time.perf_counter()
                answered = (await answer(answer_request(rid), metadata=OFFICER_METADATA)).request
                answer_done = time.perf_counter()
                signed = answered.answer
                if (
                    answered.state != proofs_pb2.PROOF_REQUEST_STATE_ANSWERED
                    or signed.outcome != proofs_pb2.PROOF_OUTCOME_CONFIRMED
                    or not signed.sd_jwt
                    or not signed.HasField("ledger_index")
                ):
                    raise _Refused("an answer not CONFIRMED, signed and attested")
                event, clerk_saw = await _arrival(seen_by_clerk, "clerk's")
                if event.request.answer.sd_jwt != signed.sd_jwt:
                    raise _Refused(
                        "the clerk's stream delivered an answer other than the one given"
                    )
            except BaseException:
                officer.forget(client_id)
                clerk.forget(client_id)
                raise
            return {
                "started": started,
                "ended": clerk_saw,
                "create→officer": officer_saw - started,
                "accept": answer_sent - officer_saw,
                "answer": answer_done - answer_sent,
                "answer→clerk": clerk_saw - answer_sent,
            }

        async def one_call(n: int) -> dict[str, float]:
            """One create (data sharing or the echo) or one issuance; its start and end."""
            if spec.case == "issue":
                license_request = issue_request(spec.run, spec.holder_tag, n)
                started = time.perf_counter()
                issued = await issue(license_request, metadata=ISSUER_METADATA)
                if issued.duplicate or not issued.license.HasField("ledger_index"):
                    raise _Refused("an issuance that is a replay or carries no ledger index")
                return {"started": started, "ended": time.perf_counter()}
            if spec.case == "datasharing":
                holder = holder_uscc(spec.holder_tag, n % spec.holders)
                item = BUSINESS_LICENSE_PROOF
            else:
                holder, item = holder_uscc(spec.tag, n), DRAWING_REVIEW
            message = create_request(item, f"bench-{spec.run}-{spec.tag}-{n}", holder)
            result.request_bytes = result.request_bytes or message.ByteSize()
            started = time.perf_counter()
            reply = await create(message, metadata=CLERK_METADATA)
            ended = time.perf_counter()
            if not spec.echo:
                done = reply.request
                if (
                    reply.duplicate
                    or done.state != proofs_pb2.PROOF_REQUEST_STATE_ANSWERED
                    or done.answer.outcome != proofs_pb2.PROOF_OUTCOME_CONFIRMED
                    or not done.answer.sd_jwt
                    or done.answer.answering_department != ISSUER
                ):
                    raise _Refused(
                        "a data-sharing request not answered CONFIRMED with an SD-JWT signed "
                        f"by the license's issuer (state {done.state}, outcome "
                        f"{done.answer.outcome})"
                    )
            return {"started": started, "ended": ended}

        step = round_trip if spec.case == "roundtrip" and not spec.echo else one_call
        begin = time.perf_counter()
        window_start = begin + spec.warmup
        window_end = window_start + spec.duration
        remaining = [spec.holders]

        def more() -> bool:
            if spec.case == "issue":
                remaining[0] -= 1
                return remaining[0] >= 0
            return time.perf_counter() < window_end

        async def worker() -> None:
            while more():
                try:
                    times = await step(next(counter))
                except (grpc.aio.AioRpcError, _Refused) as error:
                    result.errors += 1
                    result.first_error = result.first_error or str(error)[:300]
                    if spec.case == "issue":
                        raise
                    continue
                result.sent += 1
                if spec.case == "issue" or window_start <= times["ended"] <= window_end:
                    result.calls += 1
                    result.latencies_ms.append((times["ended"] - times["started"]) * 1000)
                    for part in PARTS:
                        if part in times:
                            result.parts_ms[part].append(times[part] * 1000)

        try:
            await asyncio.gather(*(worker() for _ in range(spec.concurrency)))
        finally:
            for inbox in (officer, clerk):
                if inbox is not None:
                    await inbox.close()
        result.window = time.perf_counter() - begin if spec.case == "issue" else spec.duration
    result.latencies_ms.sort()
    for values in result.parts_ms.values():
        values.sort()
    result.client_cpu = time.process_time() - cpu
    return result


# --- the servers ---------------------------------------------------------------------------


async def start_stack(root: Path) -> Stack:
    """certfree as ``certfree up --insecure-dev`` runs it, on loopback with every port 0."""
    settings = load(
        {},
        data_dir=root,
        redis_url=os.environ.get("REDIS_URL", ""),
        ledger_port=0,
        licenses_port=0,
        proofs_port=0,
        gateway_port=0,
        ledger_origin=f"bench.certfree.localhost/proofs-{os.urandom(3).hex()}",
        grace_seconds=3.0,
    )
    return await Stack.start(settings, insecure_dev=True)


def port_of(stack: Stack, name: str) -> int:
    """The loopback port a service of the stack listens on."""
    return int(stack.addresses()[name].rsplit(":", 1)[1])


# --- the cases ------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of a table: a load, the CPU it cost, and the machine's load average."""

    case: str
    load: LoadResult
    server_cpu: float
    store_cpu: float
    wall: float
    concurrency: int
    load_average: float
    echo_per_s: float = 0.0


@dataclass
class Bench:
    """What every case needs: the pool, the stack, the ports, the flags, the run's id."""

    args: argparse.Namespace
    pool: concurrent.futures.ProcessPoolExecutor
    stack: Stack
    echo_port: int
    run: str = field(default_factory=lambda: os.urandom(3).hex())
    tags: list[str] = field(default_factory=lambda: list("BCDEFGHJKLMNPQRTUWXY"))
    rows: list[Row] = field(default_factory=list)

    async def measure(self, spec: LoadSpec, case: str) -> Row:
        """Run one load in the child; measure this process's and the store's CPU around it."""
        loop = asyncio.get_running_loop()
        average = os.getloadavg()[0]
        store, server, wall = await store_cpu(self.stack), time.process_time(), time.perf_counter()
        load = await loop.run_in_executor(self.pool, run_load, spec)
        wall = time.perf_counter() - wall
        server = time.process_time() - server
        store = await store_cpu(self.stack) - store
        return Row(case, load, server, store, wall, spec.concurrency, average)

    async def pair(self, case: str, concurrency: int, **extra: Any) -> Row:
        """The echo with the case's create request bytes, then the case itself, at the same N."""
        common: dict[str, Any] = {
            "case": case,
            "concurrency": concurrency,
            "warmup": self.args.warmup,
            "duration": self.args.duration,
            "run": self.run,
            **extra,
        }
        echo = None
        if not self.args.no_echo:
            spec = LoadSpec(self.echo_port, echo=True, tag=self.tags[0], **common)
            echo = await self.measure(spec, "echo")
            print_row(echo)
        port = port_of(self.stack, "proofs")
        row = await self.measure(
            LoadSpec(port, echo=False, tag=self.tags.pop(0), **common),
            "round trip" if case == "roundtrip" else "data sharing",
        )
        if echo is not None:
            row.echo_per_s = echo.load.per_s
        print_row(row)
        if case == "roundtrip":
            print_parts(row)
        self.rows.append(row)
        return row

    async def issue(self, holders: int) -> str:
        """Issue a business license to each of `holders` companies, 16 at a time; their tag."""
        tag = self.tags.pop(0)
        spec = LoadSpec(
            port_of(self.stack, "licenses"),
            case="issue",
            echo=False,
            concurrency=16,
            warmup=0.0,
            duration=0.0,
            run=self.run,
            holders=holders,
            holder_tag=tag,
        )
        row = await self.measure(spec, "issue")
        load = row.load
        if load.errors or load.calls != holders:
            raise RuntimeError(f"issuing the holders' licenses failed: {load.first_error}")
        print(
            f"  {holders:,} business licenses issued in {load.window:,.1f} s "
            f"({load.per_s:,.0f}/s at N=16)",
            flush=True,
        )
        return tag


# --- printing ---------------------------------------------------------------------------------

ROW_HEADER = (
    f"{'case':<14}{'N':>4}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}{'srv CPU':>8}"
    f"{'µs CPU/op: srv':>16}{'store':>7}{'client':>8}{'req B':>7}{'÷ echo':>8}"
    f"{'target':>9}{'load':>6}"
)
PART_INDENT = " " * 14


def print_row(row: Row) -> None:
    """One line of the table (printed as soon as it is measured)."""
    load = row.load
    per_op = 1e6 / max(load.sent, 1)
    ratio = f"{load.per_s / row.echo_per_s:>8.3f}" if row.echo_per_s else f"{'-':>8}"
    p99 = percentile(load.latencies_ms, 0.99)
    target = ""
    if row.case == "round trip":
        target = f"{'≤' if p99 <= TARGET_P99_MS else '>'}{TARGET_P99_MS:.0f} " + (
            "ok" if p99 <= TARGET_P99_MS and load.calls else "NO"
        )
    errors = f"  FAILED={load.errors}: {load.first_error}" if load.errors else ""
    print(
        f"{row.case:<14}{row.concurrency:>4}{load.per_s:>9,.1f}"
        f"{percentile(load.latencies_ms, 0.5):>9.1f}{p99:>9.1f}"
        f"{row.server_cpu / row.wall:>8.0%}{row.server_cpu * per_op:>16,.0f}"
        f"{row.store_cpu * per_op:>7,.0f}{load.client_cpu * per_op:>8,.0f}"
        f"{load.request_bytes:>7,}{ratio}{target:>9}{row.load_average:>6.2f}{errors}",
        flush=True,
    )


def print_parts(row: Row) -> None:
    """The round trip's parts, p50/p99 each, under its line."""
    parts = "  ".join(
        f"{part} {percentile(values, 0.5):.1f}/{percentile(values, 0.99):.1f}"
        for part, values in row.load.parts_ms.items()
    )
    print(f"{PART_INDENT}parts p50/p99 ms: {parts}", flush=True)


# --- main ---------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    """Start the stack and the echo, run the cases, print their tables."""
    configure(load({"CERTFREE_LOG_FORMAT": "json", "CERTFREE_LOG_LEVEL": args.log_level}))
    context = multiprocessing.get_context("spawn")
    with (
        tempfile.TemporaryDirectory(prefix="certfree-bench-") as tmp,
        concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool,
    ):
        await asyncio.get_running_loop().run_in_executor(pool, warm_child)
        stack = await start_stack(Path(tmp))
        echo, echo_port = await echo_server()
        try:
            await run_cases(Bench(args, pool, stack, echo_port))
        finally:
            await echo.stop(0)
            await stack.stop()


async def run_cases(bench: Bench) -> None:
    """The two cases, as the flags choose."""
    args = bench.args
    store_name = "REDIS_URL" if os.environ.get("REDIS_URL") else "embedded Valkey"
    averages = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"certfree bench/proofs.py  store={store_name}  cores={os.cpu_count()}  "
        f"python={sys.version.split()[0]}  grpcio={grpc.__version__}  "
        f"load average at start {averages}",
        flush=True,
    )
    print(
        f"{args.duration:g} s per case after {args.warmup:g} s warm-up; echo = the same client "
        "sending the create request's bytes to a bare echo server at the same N; CPU per "
        "operation includes warm-up; load = the machine's 1-minute load average before the row",
        flush=True,
    )
    if "roundtrip" in args.cases:
        print(
            f"\n1. Round trip: clerk {CENTRE} creates {DRAWING_REVIEW} (department "
            f"verification) → officer stream of {HOUSING_BUREAU} delivers it → officer accepts "
            "and answers CONFIRMED (signed SD-JWT, attested) → clerk stream delivers the "
            f"signed answer. N = round trips in flight; per s = round trips/s; target p99 ≤ "
            f"{TARGET_P99_MS:.0f} ms",
            flush=True,
        )
        print(ROW_HEADER, flush=True)
        for concurrency in args.concurrency:
            await bench.pair("roundtrip", concurrency)
    if "datasharing" in args.cases:
        print(
            f"\n2. data_sharing: {BUSINESS_LICENSE_PROOF} answered at once from the holder's "
            f"business license (lookup in the licenses service, signed by {ISSUER}, attested); "
            f"{args.holders:,} holders, round robin; per s = answers/s",
            flush=True,
        )
        holder_tag = await bench.issue(args.holders)
        print(ROW_HEADER, flush=True)
        for concurrency in args.concurrency:
            await bench.pair(
                "datasharing", concurrency, holders=args.holders, holder_tag=holder_tag
            )
    failed = sum(row.load.errors for row in bench.rows)
    averages = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"\nfailures: {failed} (every reply and stream event checked); load average at end "
        f"{averages}",
        flush=True,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line flags; --quick shortens everything."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds per case")
    parser.add_argument("--duration", type=float, help="measured seconds per case (default 8)")
    parser.add_argument("--warmup", type=float, help="seconds before measuring (default 2)")
    parser.add_argument(
        "--concurrency",
        type=integers,
        default=[1, 8, 32],
        help="round trips or calls in flight (default 1,8,32)",
    )
    parser.add_argument(
        "--holders", type=int, help="companies with a business license (default 500)"
    )
    parser.add_argument(
        "--cases",
        type=names(("roundtrip", "datasharing")),
        default=["roundtrip", "datasharing"],
        help="which cases (default roundtrip,datasharing)",
    )
    add_baseline_options(parser)
    args = parser.parse_args(argv)
    defaults: dict[str, Any] = {
        "duration": 2.0 if args.quick else 8.0,
        "warmup": 1.0 if args.quick else 2.0,
        "holders": 100 if args.quick else 500,
    }
    fill_defaults(args, defaults)
    if args.holders < 1 or not args.concurrency or min(args.concurrency) < 1:
        parser.error("--holders and every --concurrency must be at least 1")
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
