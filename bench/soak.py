"""Soak certfree with a realistic mix for a set time; report throughput, latency, errors, memory.

    python bench/soak.py [--quick] [--duration 60] [--warmup 5] [--concurrency 8]
                         [--rate 0] [--seed-licenses 20] [--sample 1.0]

Starts the whole certfree stack in this process, as ``certfree up --insecure-dev`` runs
it (``Stack.start``: embedded Valkey, or REDIS_URL; ledger, licenses, proofs and gateway,
every port 0, a temporary data dir), and runs the load in a child process, so that the
servers' and the clients' memory and CPU stay apart. ``--concurrency`` window sessions
run at once (``--rate`` > 0 caps how many start per second); each picks one of:

=================  ======  ==============================================================
session            weight  calls (each timed as its own operation)
=================  ======  ==============================================================
issue                  15  ``IssueLicense``: a business license to a new company
verify                 30  ``VerifyLicense`` of an issued license (must be valid)
lookup                 10  ``ListHolderLicenses`` of a company, with purpose and case
cancelled               5  ``CreateProofRequest`` residence-proof.cancelled → NOT_REQUIRED
data_sharing           10  ``CreateProofRequest`` business-license.existence → CONFIRMED
commitment             10  create construction-drawing-review.accept-with-gaps, then
                           ``RecordCommitment`` → COMMITTED (attested)
verification           10  create construction-drawing-review.verification; the housing
                           bureau's officer ``AcceptProofRequest`` and
                           ``AnswerProofRequest`` CONFIRMED (signed, attested)
inbox                  10  ``ListProofRequests`` INCOMING, as the officer lists an inbox
=================  ======  ==============================================================

``--seed-licenses`` business licenses are issued first, so that verify, lookup and
data_sharing have licenses from the start. Every reply is checked (valid, the outcome
the route must give, a ledger index where one is due); a failed check counts as an
error ``WRONG`` next to the gRPC codes. Printed at the end: per operation calls, calls/s,
p50/p95/p99 latency and errors by code in the measured window (after ``--warmup``);
then memory: the RSS of the servers' process and of the load generator at the start
and end of the window with the least-squares slope in MiB per minute, and the store's
``INFO memory`` (used_memory, used_memory_rss) the same way. The last line counts the
unexpected errors (every error is unexpected: nothing here is meant to fail). Timings
are this machine's and never asserted; ``--quick`` is a 15-second run.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import itertools
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from common import percentile, warm_child
from licenses import ISSUER, ISSUER_METADATA, VERIFIER_METADATA, holder_uscc, issue_request
from proofs import (
    AGENT_ID,
    BUSINESS_LICENSE_PROOF,
    CLERK_METADATA,
    DRAWING_REVIEW,
    OFFICER_METADATA,
    answer_request,
    consent,
    create_request,
    port_of,
    start_stack,
)

from certfree.stack import Stack
from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.licenses.v1 import licenses_pb2, licenses_pb2_grpc
from genproto.certfree.proofs.v1 import proofs_pb2, proofs_pb2_grpc
from runtime.config import load
from runtime.logs import configure

CANCELLED_PROOF = "residence-proof.cancelled"
"""居住证明, directly cancelled: NOT_REQUIRED at once."""
COMMITMENT_PROOF = "construction-drawing-review.accept-with-gaps"
"""施工图审查合格证明 (容缺受理), answered by the applicant's commitment."""
SESSIONS = {
    "issue": 15,
    "verify": 30,
    "lookup": 10,
    "cancelled": 5,
    "data_sharing": 10,
    "commitment": 10,
    "verification": 10,
    "inbox": 10,
}
"""Window sessions and their weights in the mix."""
OPERATIONS = (
    "issue",
    "verify",
    "lookup",
    "create cancelled",
    "create data_sharing",
    "create commitment",
    "record commitment",
    "create verification",
    "accept",
    "answer",
    "inbox",
)
"""The timed operations, in report order."""
WRONG = "WRONG"
"""The error code of a reply that does not show the work done."""
LOOKUP_PURPOSE = common_pb2.AccessPurpose(
    purpose="construction permit", case_reference="FQ-SOAK-LOOKUP"
)
MIB = 1 << 20


# --- the load generator (runs in a child process) ------------------------------------------


@dataclass(frozen=True)
class MixSpec:
    """What the child runs: ports, how many sessions at once, for how long."""

    licenses_port: int
    proofs_port: int
    concurrency: int
    rate: float
    """Sessions started per second at most; 0 for as fast as the sessions go."""
    warmup: float
    duration: float
    seed_licenses: int
    run: str
    """Makes this run's request ids and companies unique (REDIS_URL may be reused)."""
    random_seed: int = 0


@dataclass
class MixResult:
    """What the child measured in the window (after warm-up), by operation."""

    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, Counter[str]] = field(default_factory=dict)
    first_errors: dict[str, str] = field(default_factory=dict)
    window_start: float = 0.0
    """``time.time()`` when the window opened (the parent samples memory against it)."""
    window_end: float = 0.0
    sessions: int = 0


class _Wrong(Exception):
    """A reply that does not show the work done."""


def run_mix(spec: MixSpec) -> MixResult:
    """Entry point of the child process."""
    return asyncio.run(_mix(spec))


@dataclass
class _Shared:
    """What the sessions share: issued licenses, the commitment text, counters."""

    sd_jwts: list[str] = field(default_factory=list)
    holders: list[str] = field(default_factory=list)
    commitment_text: str = ""
    numbers: itertools.count[int] = field(default_factory=itertools.count)


async def _mix(spec: MixSpec) -> MixResult:
    result = MixResult(
        latencies_ms={name: [] for name in OPERATIONS},
        errors={name: Counter() for name in OPERATIONS},
    )
    # Companies unique to this run, so that a reused REDIS_URL holds no earlier licenses
    # of theirs (holder_uscc takes numbers below 31^7).
    shared = _Shared(numbers=itertools.count((int(spec.run, 16) % 2_000_000) * 10_000))
    chooser = random.Random(spec.random_seed)  # noqa: S311 - a load mix, not a secret
    sessions, weights = zip(*SESSIONS.items(), strict=True)
    loop = asyncio.get_running_loop()
    measuring = [False]

    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{spec.licenses_port}") as licenses_channel,
        grpc.aio.insecure_channel(f"127.0.0.1:{spec.proofs_port}") as proofs_channel,
    ):
        licenses = licenses_pb2_grpc.LicenseServiceStub(licenses_channel)
        proofs = proofs_pb2_grpc.ProofServiceStub(proofs_channel)
        catalog = proofs_pb2_grpc.ProofCatalogServiceStub(proofs_channel)

        async def timed(operation: str, call: Callable[[], Awaitable[Any]]) -> Any:
            """One call, timed and counted under `operation` while measuring."""
            started = loop.time()
            try:
                reply = await call()
            except grpc.aio.AioRpcError as error:
                if measuring[0]:
                    result.errors[operation][error.code().name] += 1
                    result.first_errors.setdefault(operation, str(error.details())[:200])
                raise
            if measuring[0]:
                result.latencies_ms[operation].append((loop.time() - started) * 1000)
            return reply

        def refuse(operation: str, why: str) -> _Wrong:
            if measuring[0]:
                result.errors[operation][WRONG] += 1
                result.first_errors.setdefault(operation, why)
            return _Wrong(why)

        async def issue() -> None:
            n = next(shared.numbers)
            request = issue_request(spec.run, "R", n)
            reply = await timed(
                "issue", lambda: licenses.IssueLicense(request, metadata=ISSUER_METADATA)
            )
            if reply.duplicate or not reply.license.HasField("ledger_index"):
                raise refuse("issue", "an issuance that is a replay or carries no ledger index")
            shared.sd_jwts.append(reply.license.sd_jwt)
            shared.holders.append(request.holder.uscc)

        async def verify() -> None:
            request = licenses_pb2.VerifyLicenseRequest(sd_jwt=chooser.choice(shared.sd_jwts))
            reply = await timed(
                "verify", lambda: licenses.VerifyLicense(request, metadata=VERIFIER_METADATA)
            )
            if not reply.valid:
                raise refuse("verify", "an issued license failed verification")

        async def lookup() -> None:
            request = licenses_pb2.ListHolderLicensesRequest(
                holder=common_pb2.HolderRef(uscc=chooser.choice(shared.holders)),
                purpose=LOOKUP_PURPOSE,
            )
            reply = await timed(
                "lookup", lambda: licenses.ListHolderLicenses(request, metadata=VERIFIER_METADATA)
            )
            if len(reply.licenses) != 1:
                raise refuse("lookup", f"{len(reply.licenses)} licenses for a one-license holder")

        async def create(
            operation: str, item: str, holder: str = "", person: str = ""
        ) -> proofs_pb2.ProofRequest:
            client_id = f"soak-{spec.run}-{next(shared.numbers)}"
            request = create_request(item, client_id, holder or holder_uscc("T", 0))
            if person:
                request.holder.resident_id = person  # the oneof drops the company
            reply = await timed(
                operation, lambda: proofs.CreateProofRequest(request, metadata=CLERK_METADATA)
            )
            made: proofs_pb2.ProofRequest = reply.request
            if reply.duplicate or made.client_request_id != client_id:
                raise refuse(operation, "a create answered with another request")
            return made

        def expect(
            operation: str, made: proofs_pb2.ProofRequest, state: int, outcome: int = 0
        ) -> None:
            if made.state != state or (outcome and made.answer.outcome != outcome):
                raise refuse(
                    operation,
                    f"state {proofs_pb2.ProofRequestState.Name(made.state)}, outcome "
                    f"{proofs_pb2.ProofOutcome.Name(made.answer.outcome)}",
                )

        async def cancelled() -> None:
            made = await create("create cancelled", CANCELLED_PROOF, person=AGENT_ID)
            expect(
                "create cancelled",
                made,
                proofs_pb2.PROOF_REQUEST_STATE_ANSWERED,
                proofs_pb2.PROOF_OUTCOME_NOT_REQUIRED,
            )

        async def data_sharing() -> None:
            holder = chooser.choice(shared.holders)
            made = await create("create data_sharing", BUSINESS_LICENSE_PROOF, holder)
            expect(
                "create data_sharing",
                made,
                proofs_pb2.PROOF_REQUEST_STATE_ANSWERED,
                proofs_pb2.PROOF_OUTCOME_CONFIRMED,
            )
            if made.answer.answering_department != ISSUER or not made.answer.sd_jwt:
                raise refuse("create data_sharing", "an answer not signed by the issuer")

        async def commitment() -> None:
            holder = holder_uscc("U", next(shared.numbers))
            made = await create("create commitment", COMMITMENT_PROOF, holder)
            expect("create commitment", made, proofs_pb2.PROOF_REQUEST_STATE_SUBMITTED)
            request = proofs_pb2.RecordCommitmentRequest(
                request_id=made.request_id, text=shared.commitment_text, made=consent()
            )
            recorded = await timed(
                "record commitment",
                lambda: proofs.RecordCommitment(request, metadata=CLERK_METADATA),
            )
            expect(
                "record commitment",
                recorded.request,
                proofs_pb2.PROOF_REQUEST_STATE_ANSWERED,
                proofs_pb2.PROOF_OUTCOME_COMMITTED,
            )

        async def verification() -> None:
            holder = holder_uscc("W", next(shared.numbers))
            made = await create("create verification", DRAWING_REVIEW, holder)
            expect("create verification", made, proofs_pb2.PROOF_REQUEST_STATE_SUBMITTED)
            accept = proofs_pb2.AcceptProofRequestRequest(request_id=made.request_id, note="受理")
            accepted = await timed(
                "accept", lambda: proofs.AcceptProofRequest(accept, metadata=OFFICER_METADATA)
            )
            expect("accept", accepted.request, proofs_pb2.PROOF_REQUEST_STATE_ACCEPTED)
            answer = answer_request(made.request_id)
            answered = await timed(
                "answer", lambda: proofs.AnswerProofRequest(answer, metadata=OFFICER_METADATA)
            )
            expect(
                "answer",
                answered.request,
                proofs_pb2.PROOF_REQUEST_STATE_ANSWERED,
                proofs_pb2.PROOF_OUTCOME_CONFIRMED,
            )
            if not answered.request.answer.HasField("ledger_index"):
                raise refuse("answer", "a signed answer without its ledger index")

        async def inbox() -> None:
            request = proofs_pb2.ListProofRequestsRequest(
                direction=proofs_pb2.REQUEST_DIRECTION_INCOMING, page_size=50
            )
            await timed(
                "inbox", lambda: proofs.ListProofRequests(request, metadata=OFFICER_METADATA)
            )

        run_session: dict[str, Callable[[], Awaitable[None]]] = {
            "issue": issue,
            "verify": verify,
            "lookup": lookup,
            "cancelled": cancelled,
            "data_sharing": data_sharing,
            "commitment": commitment,
            "verification": verification,
            "inbox": inbox,
        }

        item = await catalog.GetProofItem(
            proofs_pb2.GetProofItemRequest(proof_item_code=COMMITMENT_PROOF),
            metadata=CLERK_METADATA,
        )
        shared.commitment_text = item.commitment.text
        for _ in range(spec.seed_licenses):
            await issue()

        begin = loop.time()
        window_start = begin + spec.warmup
        window_end = window_start + spec.duration
        slots = itertools.count()

        async def session_worker() -> None:
            while (now := loop.time()) < window_end:
                if spec.rate > 0:
                    # Open loop: session k starts at begin + k / rate, whoever is free.
                    start_at = begin + next(slots) / spec.rate
                    if start_at >= window_end:
                        return
                    await asyncio.sleep(max(0.0, start_at - now))
                if not measuring[0] and loop.time() >= window_start:
                    measuring[0] = True
                    result.window_start = time.time()
                name = chooser.choices(sessions, weights)[0]
                try:
                    await run_session[name]()
                except (grpc.aio.AioRpcError, _Wrong):
                    continue  # counted where it happened
                finally:
                    if measuring[0]:
                        result.sessions += 1

        async def window_clock() -> None:
            await asyncio.sleep(max(0.0, window_start - loop.time()))
            if not measuring[0]:
                measuring[0] = True
                result.window_start = time.time()

        await asyncio.gather(window_clock(), *(session_worker() for _ in range(spec.concurrency)))
        result.window_end = time.time()
    for values in result.latencies_ms.values():
        values.sort()
    return result


# --- memory ----------------------------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    """The resident set size of process `pid` (Linux /proc; 0 where unavailable)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass
class Series:
    """One memory figure sampled over time: (``time.time()``, bytes)."""

    name: str
    samples: list[tuple[float, int]] = field(default_factory=list)

    def within(self, start: float, end: float) -> list[tuple[float, int]]:
        """The samples taken in [start, end]."""
        return [(t, v) for t, v in self.samples if start <= t <= end]

    def slope_per_minute(self, start: float, end: float) -> float:
        """Least-squares growth in bytes per minute over the window (0 with < 2 samples)."""
        points = self.within(start, end)
        if len(points) < 2:
            return 0.0
        mean_t = sum(t for t, _ in points) / len(points)
        mean_v = sum(v for _, v in points) / len(points)
        spread = sum((t - mean_t) ** 2 for t, _ in points)
        if not spread:
            return 0.0
        return 60 * sum((t - mean_t) * (v - mean_v) for t, v in points) / spread


async def sample_memory(
    stack: Stack, child_pid: int, every: float, series: dict[str, Series], stop: asyncio.Event
) -> None:
    """Sample the servers', the load generator's and the store's memory until `stop`."""
    while True:
        info = await stack.store.redis.info("memory")
        now = time.time()
        for name, value in (
            ("servers (this process) RSS", rss_bytes(os.getpid())),
            ("load generator RSS", rss_bytes(child_pid)),
            ("store used_memory_rss", int(info["used_memory_rss"])),
            ("store used_memory", int(info["used_memory"])),
        ):
            series.setdefault(name, Series(name)).samples.append((now, value))
        try:
            await asyncio.wait_for(stop.wait(), every)
            return
        except TimeoutError:
            continue


# --- the report ------------------------------------------------------------------------------


def print_report(result: MixResult, series: dict[str, Series]) -> int:
    """Print the tables; returns the number of unexpected errors (all errors are)."""
    window = max(result.window_end - result.window_start, 1e-9)
    print(
        f"\n{'operation':<22}{'calls':>8}{'per s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}",
        flush=True,
    )
    total_calls = total_errors = 0
    for operation in OPERATIONS:
        latencies = result.latencies_ms[operation]
        errors = sum(result.errors[operation].values())
        total_calls += len(latencies)
        total_errors += errors
        print(
            f"{operation:<22}{len(latencies):>8,}{len(latencies) / window:>9,.1f}"
            f"{percentile(latencies, 0.5):>9.1f}{percentile(latencies, 0.95):>9.1f}"
            f"{percentile(latencies, 0.99):>9.1f}{errors:>8,}",
            flush=True,
        )
    print(
        f"{'all':<22}{total_calls:>8,}{total_calls / window:>9,.1f}{'':>27}{total_errors:>8,}"
        f"   ({result.sessions:,} sessions in {window:.1f} s)",
        flush=True,
    )
    codes: Counter[str] = Counter()
    for operation in OPERATIONS:
        codes.update(result.errors[operation])
    print(
        "errors by code: "
        + (", ".join(f"{code} {count}" for code, count in codes.most_common()) or "none"),
        flush=True,
    )
    for operation, first in result.first_errors.items():
        print(f"  first error of {operation}: {first}", flush=True)
    print(
        f"\n{'memory (MiB)':<30}{'start':>9}{'end':>9}{'growth':>9}{'slope MiB/min':>15}",
        flush=True,
    )
    for one in series.values():
        points = one.within(result.window_start, result.window_end)
        if not points:
            continue
        start, end = points[0][1] / MIB, points[-1][1] / MIB
        slope = one.slope_per_minute(result.window_start, result.window_end) / MIB
        print(
            f"{one.name:<30}{start:>9.1f}{end:>9.1f}{end - start:>+9.1f}{slope:>+15.2f}",
            flush=True,
        )
    print(
        f"\nunexpected errors: {total_errors} (every reply checked; none is meant to fail)",
        flush=True,
    )
    return total_errors


# --- main ------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> int:
    """Start the stack, run the mix in a child while sampling memory, print the report."""
    configure(load({"CERTFREE_LOG_FORMAT": "json", "CERTFREE_LOG_LEVEL": args.log_level}))
    context = multiprocessing.get_context("spawn")
    store_name = "REDIS_URL" if os.environ.get("REDIS_URL") else "embedded Valkey"
    rate = f"at most {args.rate:g} sessions/s" if args.rate > 0 else "closed loop"
    print(
        f"certfree bench/soak.py  store={store_name}  cores={os.cpu_count()}  "
        f"python={sys.version.split()[0]}  grpcio={grpc.__version__}  load average at start "
        + ", ".join(f"{value:.2f}" for value in os.getloadavg()),
        flush=True,
    )
    print(
        f"{args.duration:g} s measured after {args.warmup:g} s warm-up; {args.concurrency} "
        f"sessions at once, {rate}; {args.seed_licenses} licenses issued first",
        flush=True,
    )
    with (
        tempfile.TemporaryDirectory(prefix="certfree-soak-") as tmp,
        concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool,
    ):
        loop = asyncio.get_running_loop()
        child_pid = await loop.run_in_executor(pool, warm_child)
        stack = await start_stack(Path(tmp))
        series: dict[str, Series] = {}
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_memory(stack, child_pid, args.sample, series, stop))
        try:
            spec = MixSpec(
                licenses_port=port_of(stack, "licenses"),
                proofs_port=port_of(stack, "proofs"),
                concurrency=args.concurrency,
                rate=args.rate,
                warmup=args.warmup,
                duration=args.duration,
                seed_licenses=args.seed_licenses,
                run=os.urandom(3).hex(),
            )
            result = await loop.run_in_executor(pool, run_mix, spec)
        finally:
            stop.set()
            await sampler
            await stack.stop()
    unexpected = print_report(result, series)
    print(
        "load average at end " + ", ".join(f"{value:.2f}" for value in os.getloadavg()),
        flush=True,
    )
    return unexpected


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line flags; --quick is a 15-second run."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="15 s measured after 3 s warm-up")
    parser.add_argument("--duration", type=float, help="measured seconds (default 60)")
    parser.add_argument("--warmup", type=float, help="seconds before measuring (default 5)")
    parser.add_argument("--concurrency", type=int, default=8, help="sessions at once (8)")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="sessions started per second at most (0: no cap)"
    )
    parser.add_argument(
        "--seed-licenses", type=int, default=20, help="licenses issued before the mix (20)"
    )
    parser.add_argument("--sample", type=float, default=1.0, help="memory sample period, s (1)")
    parser.add_argument("--log-level", default="warning", help="the servers' log level")
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 15.0 if args.quick else 60.0
    if args.warmup is None:
        args.warmup = 3.0 if args.quick else 5.0
    if args.concurrency < 1 or args.seed_licenses < 1 or args.duration <= 0 or args.sample <= 0:
        parser.error("--concurrency, --seed-licenses, --duration and --sample must be positive")
    return args


if __name__ == "__main__":
    sys.exit(1 if asyncio.run(main(parse_args())) else 0)
