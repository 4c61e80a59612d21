"""Crashes lose nothing acknowledged: kill -9 the store and the ledger during sustained appends."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from runtime.tlog import merkle
from runtime.tlog.checkpoint import Checkpoint, open_checkpoint
from runtime.tlog.note import Signer
from tests.conftest import MARKET_REGULATION, caller

ORIGIN = "crash.test/ledger"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _request(name: str) -> ledger_pb2.AppendRequest:
    return ledger_pb2.AppendRequest(
        attestation=ledger_pb2.Attestation(
            artefact_sha256=hashlib.sha256(name.encode()).digest(),
            kind=ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED,
            issuer_department=MARKET_REGULATION,
            artefact_id=f"license-{name}",
        )
    )


@pytest.fixture
async def ledger_process(
    redis_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Callable[[], Any], int, Path]]:
    """Start `python -m services.ledger` as a real process; yields (spawn, port, key file)."""
    port = _free_port()
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "CERTFREE_DATA_DIR": str(tmp_path),
        "CERTFREE_LEDGER_PORT": str(port),
        "CERTFREE_LEDGER_ORIGIN": ORIGIN,
        "CERTFREE_LEDGER_LEASE_MS": "1000",
        "CERTFREE_LOG_LEVEL": "warning",
    }
    processes: list[subprocess.Popen[bytes]] = []

    async def spawn() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(  # noqa: ASYNC220 - returns at once; we poll health
            [sys.executable, "-m", "services.ledger", "--insecure-dev"],
            env=env,
            stdout=subprocess.DEVNULL,  # its logs go to stderr, which pytest shows on failure
        )
        processes.append(process)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            for _ in range(200):
                with contextlib.suppress(grpc.aio.AioRpcError):
                    await health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(), timeout=0.5
                    )
                    return process
                await asyncio.sleep(0.05)
        raise TimeoutError("the ledger process did not become healthy")

    yield spawn, port, tmp_path / "keys" / "ledger.key"
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(10)


class TestCrash:
    """Every acknowledged entry is at its acknowledged index after kill -9 and restart."""

    async def test_kill_store_and_ledger_during_appends(
        self, redis_server: Any, ledger_process: tuple[Callable[[], Any], int, Path]
    ) -> None:
        """Store killed, then the ledger killed, under 8 concurrent appenders; then verify."""
        if not redis_server.can_restart:
            pytest.skip(redis_server.why_no_restart)
        spawn, port, key_file = ledger_process
        process = await spawn()
        acknowledged: dict[str, tuple[int, str]] = {}
        attempted: set[str] = set()
        running = True
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = ledger_pb2_grpc.LedgerServiceStub(channel)

            async def appender(worker: int) -> None:
                number = 0
                while running:
                    name = f"{worker}-{number}"
                    number += 1
                    attempted.add(name)
                    try:
                        response = await stub.Append(_request(name), metadata=caller(), timeout=3)
                    except grpc.aio.AioRpcError:
                        await asyncio.sleep(0.05)
                        continue
                    acknowledged[name] = (response.entry.index, response.checkpoint.signed_note)

            workers = [asyncio.create_task(appender(w)) for w in range(8)]
            await asyncio.sleep(1.0)
            before_crash = dict(acknowledged)
            await redis_server.restart(hard=True)  # kill -9 the store, restart it
            await asyncio.sleep(0.7)
            process.kill()  # kill -9 the ledger
            process.wait(10)
            await spawn()  # a new ledger process takes the lease once the old one expires
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
            old = max(
                (open_checkpoint(note, verifier)[0] for _, note in before_crash.values()),
                key=lambda c: c.size,
            )
            latest_note = (
                await stub.GetCheckpoint(ledger_pb2.GetCheckpointRequest(), metadata=caller())
            ).signed_note
            latest: Checkpoint = open_checkpoint(latest_note, verifier, origin=ORIGIN)[0]
            proof = await stub.GetConsistencyProof(
                ledger_pb2.GetConsistencyProofRequest(first_size=old.size, second_size=latest.size),
                metadata=caller(),
            )
            merkle.verify_consistency(
                old.size, latest.size, list(proof.hashes), old.root_hash, latest.root_hash
            )

            # Retrying whatever was never acknowledged adds each artefact at most once.
            for name in attempted - acknowledged.keys():
                response = await stub.Append(_request(name), metadata=caller(), timeout=5)
                acknowledged[name] = (response.entry.index, response.checkpoint.signed_note)
            final = await stub.GetCheckpoint(ledger_pb2.GetCheckpointRequest(), metadata=caller())
            assert final.size == len(attempted)
            assert sorted(index for index, _ in acknowledged.values()) == list(range(final.size))
