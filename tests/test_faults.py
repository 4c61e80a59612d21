"""Faults lose nothing acknowledged: kill -9 a ledger sequencer, proofs, the gateway, the store.

Each test runs certfree's services as real processes on loopback (tests/processes.py),
keeps clients busy the way real ones are (each retries with the same idempotency key
until acknowledged), kills one part with SIGKILL mid-load and brings it back. Then it
checks, through the public API, that every acknowledged write is there exactly once,
and that clients saw only OK or a retryable failure, never a wrong answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import os
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sized
from pathlib import Path
from typing import Any, TypeVar

import grpc
import httpx
import pytest
from google.protobuf import json_format
from redis.asyncio import Redis

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from genproto.certfree.licenses.v1 import licenses_pb2, licenses_pb2_grpc
from genproto.certfree.proofs.v1 import proofs_pb2, proofs_pb2_grpc
from runtime.holders import USCC_ALPHABET, uscc_check_character
from runtime.tlog.note import Signer
from tests.conftest import HOUSING_BUREAU, caller
from tests.processes import CLIENT_OPTIONS, Process, Processes, free_port, service_env
from tests.redis_server import RedisServer
from tests.test_crash import append_request, verify_consistency
from tests.test_licenses import PURPOSE
from tests.test_licenses import issue_request as license_request
from tests.test_proofs import CENTRE, DRAWING_REVIEW
from tests.test_proofs import create_request as proof_request

# Every test here is bounded: a hung restart fails the test instead of stalling the suite.
pytestmark = pytest.mark.timeout(90)

T = TypeVar("T")
A = TypeVar("A")

OK = "OK"
WRONG = "WRONG_ANSWER"
"""What a client records when a call succeeded with a reply that is not its own."""
RETRYABLE = frozenset({OK, "UNAVAILABLE"})
"""What gRPC clients may see while a part is down: the contract says retry UNAVAILABLE."""
CLERK = caller(CENTRE, "clerk")
ISSUER = caller()
READER = caller(HOUSING_BUREAU, "clerk")
LEASE_MS = 600
BEFORE_KILL = 30
"""Acknowledged writes before the kill (the load is in full swing, whatever the box's speed)."""
AFTER_RESTART = 30
"""Acknowledged writes after the restart (writes resumed)."""


def company(tag: str, number: int) -> str:
    """A well-formed USCC (GB 32100) of a Fuqing company, unique per (tag, number)."""
    digits = ""
    for _ in range(7):
        number, rest = divmod(number, len(USCC_ALPHABET))
        digits = USCC_ALPHABET[rest] + digits
    first17 = "91350181M" + tag + digits
    return first17 + uscc_check_character(first17)


async def until_acknowledged(
    attempt: Callable[[], Awaitable[T]], seen: Counter[str], *, seconds: float = 30.0
) -> T:
    """Call `attempt` until it succeeds, as a client retrying with one idempotency key.

    Counts every outcome in `seen` by status name (``OK`` included): tests assert on
    what clients saw. Gives up, re-raising, after `seconds`.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            result = await attempt()
        except grpc.aio.AioRpcError as error:
            seen[error.code().name] += 1
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)
            continue
        seen[OK] += 1
        return result


@contextlib.asynccontextmanager
async def sustained(step: Callable[[str], Awaitable[None]], workers: int) -> AsyncIterator[None]:
    """`workers` clients calling `step` with fresh names ("w-n") until the block ends.

    On exit each client finishes the name in hand (until acknowledged), then stops.
    """
    stop = asyncio.Event()

    async def worker(number: int) -> None:
        for n in itertools.count():
            if stop.is_set():
                return
            await step(f"{number}-{n}")

    tasks = [asyncio.create_task(worker(w)) for w in range(workers)]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def grown(acknowledged: Sized, by: int, *, seconds: float = 30.0) -> None:
    """Wait until `by` more writes are acknowledged; fail the test after `seconds`."""
    target = len(acknowledged) + by
    deadline = time.monotonic() + seconds
    while len(acknowledged) < target:
        assert time.monotonic() < deadline, f"only {len(acknowledged)} of {target} acknowledged"
        await asyncio.sleep(0.05)


async def for_each(
    call: Callable[[A], Awaitable[T]], items: Iterable[A], *, at_once: int = 32
) -> list[T]:
    """`call` on every item, `at_once` calls in flight (a gRPC call starts when made), in order."""
    pending = list(items)
    done: list[T] = []
    for start in range(0, len(pending), at_once):
        done.extend(await asyncio.gather(*map(call, pending[start : start + at_once])))
    return done


def channel(process: Process) -> grpc.aio.Channel:
    """A client channel to a process that reconnects at once when it comes back."""
    return grpc.aio.insecure_channel(f"127.0.0.1:{process.port}", options=CLIENT_OPTIONS)


async def holder_licenses(
    stub: licenses_pb2_grpc.LicenseServiceStub, holder: str
) -> list[licenses_pb2.License]:
    """Every license the holder has, as another department's clerk reads them."""
    listed = await stub.ListHolderLicenses(
        licenses_pb2.ListHolderLicensesRequest(
            holder=common_pb2.HolderRef(uscc=holder), purpose=PURPOSE
        ),
        metadata=READER,
        timeout=10,
    )
    return list(listed.licenses)


def issuance(name: str, holder: str) -> licenses_pb2.IssueLicenseRequest:
    """A business license for `holder`, under the issuer request id ``fault-<name>``."""
    request = license_request(f"fault-{name}")
    request.holder.uscc = holder
    return request


class TestLedgerFailover:
    """When the sequencing ledger replica dies, the standby takes the lease; nothing moves."""

    async def test_standby_takes_the_lease_after_kill(self, redis_url: str, tmp_path: Path) -> None:
        """Two replicas, 6 failover clients; kill -9 the sequencer; every append once, in place."""
        origin = "faults.test/ledger"
        async with Processes() as processes:
            replicas = [
                await processes.service(
                    "ledger",
                    redis_url,
                    tmp_path,
                    LEDGER_ORIGIN=origin,
                    LEDGER_LEASE_MS=str(LEASE_MS),
                )
                for _ in range(2)
            ]
            channels = [channel(replica) for replica in replicas]
            stubs = [ledger_pb2_grpc.LedgerServiceStub(c) for c in channels]
            seen: Counter[str] = Counter()
            acknowledged: dict[str, tuple[int, str]] = {}
            answered_at: dict[str, tuple[float, int]] = {}
            current = [0]  # the replica the client calls next, as round_robin picks one

            async def append(name: str) -> None:
                async def attempt() -> tuple[ledger_pb2.AppendResponse, int]:
                    chosen = current[0]
                    try:
                        reply = await stubs[chosen].Append(
                            append_request(name), metadata=ISSUER, timeout=3
                        )
                    except grpc.aio.AioRpcError:
                        current[0] = 1 - chosen  # the next attempt goes to the other replica
                        raise
                    return reply, chosen

                response, replica = await until_acknowledged(attempt, seen)
                acknowledged[name] = (response.entry.index, response.checkpoint.signed_note)
                answered_at[name] = (time.monotonic(), replica)

            try:
                async with sustained(append, workers=6):
                    await grown(acknowledged, by=BEFORE_KILL)
                    before_kill = dict(acknowledged)
                    sequencer = answered_at[max(answered_at, key=lambda n: answered_at[n][0])][1]
                    killed_at = time.monotonic()
                    replicas[sequencer].kill()
                    await grown(acknowledged, by=AFTER_RESTART)

                after = [at for at, replica in answered_at.values() if at > killed_at]
                assert after, "appends resumed on the standby"
                takeover = min(after) - killed_at
                # The lease lapses within LEASE_MS and the standby contends every third
                # of it; the rest is loading the tree on a busy 2-core box.
                assert takeover < LEASE_MS / 1000 + 2.5, f"the standby took {takeover:.2f} s"
                late = {replica for at, replica in answered_at.values() if at > killed_at + 0.1}
                assert late == {1 - sequencer}, "after the kill only the standby appends"
                assert set(seen) <= RETRYABLE, f"clients saw {dict(seen)}"
                assert seen["UNAVAILABLE"], "the kill met calls, which were refused retryably"

                survivor = stubs[1 - sequencer]
                final = await survivor.GetCheckpoint(
                    ledger_pb2.GetCheckpointRequest(), metadata=ISSUER
                )
                entries = await for_each(
                    lambda i: survivor.GetEntry(
                        ledger_pb2.GetEntryRequest(index=i), metadata=ISSUER, timeout=10
                    ),
                    range(final.size),
                )
                per_artefact = Counter(e.attestation.artefact_sha256 for e in entries)
                assert max(per_artefact.values()) == 1, "an artefact was appended twice"
                assert final.size == len(acknowledged), "every entry is an acknowledged append"
                for name, (index, _) in acknowledged.items():
                    digest = hashlib.sha256(name.encode()).digest()
                    assert entries[index].attestation.artefact_sha256 == digest

                # A client retrying an acknowledged append gets the original index back.
                names = list(acknowledged)
                again = await for_each(
                    lambda name: survivor.Append(append_request(name), metadata=ISSUER, timeout=10),
                    names,
                )
                for name, reply in zip(names, again, strict=True):
                    assert reply.duplicate and reply.entry.index == acknowledged[name][0]

                key_file = tmp_path / "keys" / "ledger.key"
                verifier = Signer.from_key_string(key_file.read_text().strip()).verifier()
                await verify_consistency(
                    survivor, (note for _, note in before_kill.values()), verifier
                )
            finally:
                for opened in channels:
                    await opened.close()


class TestProofsKilled:
    """Proof requests created while the proofs service dies and restarts exist exactly once."""

    async def test_kill_proofs_during_creates(self, redis_url: str, tmp_path: Path) -> None:
        """8 clerks create with client request ids; kill -9 proofs, restart; count by id."""
        async with Processes() as processes:
            ledger = await processes.service("ledger", redis_url, tmp_path)
            licenses = await processes.service(
                "licenses", redis_url, tmp_path, LEDGER_TARGET=f"127.0.0.1:{ledger.port}"
            )
            proofs = await processes.service(
                "proofs",
                redis_url,
                tmp_path,
                LEDGER_TARGET=f"127.0.0.1:{ledger.port}",
                LICENSES_TARGET=f"127.0.0.1:{licenses.port}",
            )
            holders = itertools.count()
            seen: Counter[str] = Counter()
            acknowledged: dict[str, str] = {}
            async with channel(proofs) as opened:
                stub = proofs_pb2_grpc.ProofServiceStub(opened)

                async def create(name: str) -> None:
                    client_id = f"fault-{name}"
                    request = proof_request(DRAWING_REVIEW, client_id, company("P", next(holders)))
                    request.purpose.case_reference = f"FQ-{client_id}"
                    reply = await until_acknowledged(
                        lambda: stub.CreateProofRequest(request, metadata=CLERK, timeout=5), seen
                    )
                    made = reply.request
                    if (
                        made.client_request_id != client_id
                        or made.holder.uscc != request.holder.uscc
                        or made.state != proofs_pb2.PROOF_REQUEST_STATE_SUBMITTED
                    ):
                        seen[WRONG] += 1
                    acknowledged[client_id] = made.request_id

                async with sustained(create, workers=8):
                    await grown(acknowledged, by=BEFORE_KILL)
                    proofs.kill()
                    await asyncio.sleep(0.3)
                    await proofs.restart()
                    await grown(acknowledged, by=AFTER_RESTART)

                assert set(seen) <= RETRYABLE, f"clerks saw {dict(seen)}"
                assert seen["UNAVAILABLE"], "the kill met calls, which were refused retryably"
                listed: list[proofs_pb2.ProofRequest] = []
                token = ""
                while True:
                    page = await stub.ListProofRequests(
                        proofs_pb2.ListProofRequestsRequest(
                            direction=proofs_pb2.REQUEST_DIRECTION_OUTGOING,
                            page_size=500,
                            page_token=token,
                        ),
                        metadata=CLERK,
                        timeout=10,
                    )
                    listed.extend(page.requests)
                    token = page.next_page_token
                    if not token:
                        break
            per_client_id = Counter(request.client_request_id for request in listed)
            doubled = [cid for cid, count in per_client_id.items() if count > 1]
            assert not doubled, f"{len(doubled)} client request ids were created twice"
            stored = {request.client_request_id: request.request_id for request in listed}
            assert stored == acknowledged, "exactly the acknowledged requests, with their ids"


class TestGatewayKilled:
    """Licenses issued over HTTP while the gateway dies and restarts exist exactly once."""

    async def test_kill_gateway_during_issue_and_verify(
        self, redis_url: str, tmp_path: Path
    ) -> None:
        """6 intake clients issue then verify over HTTP; kill -9 the gateway, restart it."""
        async with Processes() as processes:
            ledger = await processes.service("ledger", redis_url, tmp_path)
            licenses = await processes.service(
                "licenses", redis_url, tmp_path, LEDGER_TARGET=f"127.0.0.1:{ledger.port}"
            )
            port = free_port()
            gateway = await processes.spawn(
                "gateway",
                service_env(
                    redis_url,
                    tmp_path,
                    GATEWAY_PORT=str(port),
                    LEDGER_TARGET=f"127.0.0.1:{ledger.port}",
                    LICENSES_TARGET=f"127.0.0.1:{licenses.port}",
                ),
                port,
            )
            holders = itertools.count()
            seen: Counter[str] = Counter()
            acknowledged: dict[str, str] = {}
            issuer_headers = dict(ISSUER)
            reader_headers = dict(READER)

            async def post(http: httpx.AsyncClient, path: str, body: Any, headers: Any) -> Any:
                """POST until a 200, counting connection errors and 502/503/504 as retryable."""
                deadline = time.monotonic() + 30
                while True:
                    try:
                        response = await http.post(path, json=body, headers=headers)
                    except httpx.TransportError as error:
                        seen[f"connection error ({type(error).__name__})"] += 1
                    else:
                        if response.status_code == 200:
                            seen[OK] += 1
                            return response.json()
                        seen[f"HTTP {response.status_code}"] += 1
                        if response.status_code not in (502, 503, 504):
                            raise AssertionError(f"{path} answered {response.status_code}")
                    assert time.monotonic() < deadline, f"{path} never answered: {dict(seen)}"
                    await asyncio.sleep(0.05)

            limits = httpx.Limits(max_connections=6)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", timeout=5, limits=limits
            ) as http:

                async def issue_and_verify(name: str) -> None:
                    request = issuance(name, company("G", next(holders)))
                    body = json_format.MessageToDict(request)
                    issued = (await post(http, "/v1/licenses", body, issuer_headers))["license"]
                    verified = await post(
                        http, "/v1/licenses:verify", {"sdJwt": issued["sdJwt"]}, reader_headers
                    )
                    if issued["claims"] != body["claims"] or not verified["valid"]:
                        seen[WRONG] += 1
                    acknowledged[request.holder.uscc] = issued["licenseId"]

                async with sustained(issue_and_verify, workers=6):
                    await grown(acknowledged, by=BEFORE_KILL)
                    gateway.kill()
                    await asyncio.sleep(0.3)
                    await gateway.restart()
                    await grown(acknowledged, by=AFTER_RESTART)

            unexpected = {k for k in seen if k != OK and not k.startswith("connection error")}
            assert not unexpected - {"HTTP 502", "HTTP 503", "HTTP 504"}, f"saw {dict(seen)}"
            assert len(seen) > 1, "the kill met requests, which failed retryably"
            async with channel(licenses) as opened:
                stub = licenses_pb2_grpc.LicenseServiceStub(opened)
                found = await for_each(lambda h: holder_licenses(stub, h), acknowledged)
            for license_id, held in zip(acknowledged.values(), found, strict=True):
                assert [lic.license_id for lic in held] == [license_id], "issued exactly once"


async def kill_store(redis_server: RedisServer, outage_s: float) -> None:
    """kill -9 the store; bring it back on the same data after `outage_s` seconds.

    The embedded server is killed by the pid it reports and left down for the outage, so
    that calls certainly meet a dead store; a container is killed and restarted at once.
    """
    if redis_server.kind != "embedded":
        await redis_server.restart(hard=True)
        return
    client = Redis.from_url(redis_server.url)
    try:
        pid = int((await client.info("server"))["process_id"])
    finally:
        await client.aclose()
    command = await asyncio.to_thread(Path(f"/proc/{pid}/cmdline").read_bytes)
    assert b"valkey-server" in command, "the pid the store reports is the store's"
    os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(outage_s)
    await redis_server.restart(hard=False)  # the dead process is reaped, a new one starts


class TestStoreKilled:
    """Licenses issued while the store dies and comes back exist once, each attested."""

    async def test_kill_store_during_issuance(
        self, redis_server: RedisServer, redis_url: str, tmp_path: Path
    ) -> None:
        """6 issuers with request ids; kill -9 Valkey for a second; UNAVAILABLE, then all once."""
        if not redis_server.can_restart:
            pytest.skip(redis_server.why_no_restart)
        async with Processes() as processes:
            ledger = await processes.service("ledger", redis_url, tmp_path)
            licenses = await processes.service(
                "licenses", redis_url, tmp_path, LEDGER_TARGET=f"127.0.0.1:{ledger.port}"
            )
            holders = itertools.count()
            seen: Counter[str] = Counter()
            acknowledged: dict[str, licenses_pb2.License] = {}
            async with channel(licenses) as opened, channel(ledger) as ledger_channel:
                stub = licenses_pb2_grpc.LicenseServiceStub(opened)
                ledger_stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)

                async def issue(name: str) -> None:
                    request = issuance(name, company("T", next(holders)))
                    reply = await until_acknowledged(
                        lambda: stub.IssueLicense(request, metadata=ISSUER, timeout=5), seen
                    )
                    if reply.license.claims != request.claims:
                        seen[WRONG] += 1
                    acknowledged[request.holder.uscc] = reply.license

                async with sustained(issue, workers=6):
                    await grown(acknowledged, by=BEFORE_KILL)
                    await kill_store(redis_server, outage_s=1.0)
                    await grown(acknowledged, by=AFTER_RESTART)

                assert set(seen) <= RETRYABLE, f"issuers saw {dict(seen)}"
                if redis_server.kind == "embedded":
                    assert seen["UNAVAILABLE"], "calls during the outage were refused"
                found = await for_each(lambda h: holder_licenses(stub, h), acknowledged)
                chains = await for_each(
                    lambda lic: ledger_stub.ListArtefactEntries(
                        ledger_pb2.ListArtefactEntriesRequest(artefact_id=lic.license_id),
                        metadata=ISSUER,
                        timeout=10,
                    ),
                    acknowledged.values(),
                )
            for license_, held, chain in zip(acknowledged.values(), found, chains, strict=True):
                assert [lic.license_id for lic in held] == [license_.license_id]
                assert license_.HasField("ledger_index"), "acknowledged means attested"
                issued = [
                    e.entry
                    for e in chain.entries
                    if e.entry.attestation.kind == ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED
                ]
                assert [e.index for e in issued] == [license_.ledger_index], "attested once"
