"""Crashes lose nothing acknowledged: kill -9 the store and the ledger during sustained appends."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import grpc
import pytest

from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from runtime.tlog import merkle
from runtime.tlog.checkpoint import Checkpoint, open_checkpoint
from runtime.tlog.note import Signer, Verifier
from tests.conftest import MARKET_REGULATION, caller
from tests.processes import Process, Processes, free_port, service_env

ORIGIN = "crash.test/ledger"


def append_request(name: str) -> ledger_pb2.AppendRequest:
    """An Append of the license attestation named `name` (its artefact hash is SHA-256(name))."""
    return ledger_pb2.AppendRequest(
        attestation=ledger_pb2.Attestation(
            artefact_sha256=hashlib.sha256(name.encode()).digest(),
            kind=ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED,
            issuer_department=MARKET_REGULATION,
            artefact_id=f"license-{name}",
        )
    )


async def verify_consistency(
    stub: ledger_pb2_grpc.LedgerServiceStub, old_notes: Iterable[str], verifier: Verifier
) -> Checkpoint:
    """The log's checkpoint now, after checking it extends the largest of `old_notes`.

    Opens every signed note with `verifier` and checks the RFC 9162 consistency proof
    from the largest old tree to the current one; raises if either check fails.
    """
    old = max((open_checkpoint(note, verifier)[0] for note in old_notes), key=lambda c: c.size)
    latest_note = (
        await stub.GetCheckpoint(ledger_pb2.GetCheckpointRequest(), metadata=caller())
    ).signed_note
    latest: Checkpoint = open_checkpoint(latest_note, verifier, origin=old.origin)[0]
    proof = await stub.GetConsistencyProof(
        ledger_pb2.GetConsistencyProofRequest(first_size=old.size, second_size=latest.size),
        metadata=caller(),
    )
    merkle.verify_consistency(
        old.size, latest.size, list(proof.hashes), old.root_hash, latest.root_hash
    )
    return latest


@pytest.fixture
async def ledger_process(redis_url: str, tmp_path: Path) -> AsyncIterator[tuple[Process, Path]]:
    """`python -m services.ledger` as a process (not started yet) and its key file."""
    port = free_port()
    env = service_env(
        redis_url, tmp_path, LEDGER_PORT=str(port), LEDGER_ORIGIN=ORIGIN, LEDGER_LEASE_MS="1000"
    )
    async with Processes() as processes:
        yield processes.add("services.ledger", env, port), tmp_path / "keys" / "ledger.key"


class TestCrash:
    """Every acknowledged entry is at its acknowledged index after kill -9 and restart."""

    async def test_kill_store_and_ledger_during_appends(
        self, redis_server: Any, ledger_process: tuple[Process, Path]
    ) -> None:
        """Store killed, then the ledger killed, under 8 concurrent appenders; then verify."""
        if not redis_server.can_restart:
            pytest.skip(redis_server.why_no_restart)
        ledger, key_file = ledger_process
        await ledger.start()
        acknowledged: dict[str, tuple[int, str]] = {}
        attempted: set[str] = set()
        running = True
        async with grpc.aio.insecure_channel(f"127.0.0.1:{ledger.port}") as channel:
            stub = ledger_pb2_grpc.LedgerServiceStub(channel)

            async def appender(worker: int) -> None:
                number = 0
                while running:
                    name = f"{worker}-{number}"
                    number += 1
                    attempted.add(name)
                    try:
                        response = await stub.Append(
                            append_request(name), metadata=caller(), timeout=3
                        )
                    except grpc.aio.AioRpcError:
                        await asyncio.sleep(0.05)
                        continue
                    acknowledged[name] = (response.entry.index, response.checkpoint.signed_note)

            workers = [asyncio.create_task(appender(w)) for w in range(8)]
            await asyncio.sleep(1.0)
            before_crash = dict(acknowledged)
            await redis_server.restart(hard=True)  # kill -9 the store, restart it
            await asyncio.sleep(0.7)
            ledger.kill()  # kill -9 the ledger
            await ledger.restart()  # the new process takes the lease once the old one expires
            await asyncio.sleep(2.0)
            running = False
            await asyncio.gather(*workers)

            assert len(before_crash) > 20, "the appenders were running before the crash"
            after = {k: v for k, v in acknowledged.items() if k not in before_crash}
            assert after, "appends resumed after both crashes"
            for name, (index, _) in acknowledged.items():
                entry = await stub.GetEntry(
                    ledger_pb2.GetEntryRequest(index=index), metadata=caller()
                )
                assert entry.attestation.artefact_sha256 == hashlib.sha256(name.encode()).digest()

            verifier = Signer.from_key_string(key_file.read_text().strip()).verifier()
            await verify_consistency(stub, (note for _, note in before_crash.values()), verifier)

            # Retrying whatever was never acknowledged adds each artefact at most once.
            for name in attempted - acknowledged.keys():
                response = await stub.Append(append_request(name), metadata=caller(), timeout=5)
                acknowledged[name] = (response.entry.index, response.checkpoint.signed_note)
            final = await stub.GetCheckpoint(ledger_pb2.GetCheckpointRequest(), metadata=caller())
            assert final.size == len(attempted)
            assert sorted(index for index, _ in acknowledged.values()) == list(range(final.size))
