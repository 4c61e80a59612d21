"""`certfree up` as a whole: store, three services and the gateway, restarted on one data dir."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from certfree.stack import Stack
from runtime.config import Settings
from tests.conftest import MARKET_REGULATION

HEADERS = {"x-certfree-department": MARKET_REGULATION, "x-certfree-role": "issuer"}


def _body(artefact: bytes) -> dict[str, Any]:
    return {
        "attestation": {
            "artefactSha256": base64.b64encode(hashlib.sha256(artefact).digest()).decode(),
            "kind": "ATTESTATION_KIND_LICENSE_ISSUED",
            "issuerDepartment": MARKET_REGULATION,
            "artefactId": "license-0001",
        }
    }


class TestStack:
    """Everything starts, answers, and keeps its data across a restart."""

    async def test_every_service_answers_health(self, settings: Settings) -> None:
        """Each gRPC address answers grpc.health.v1; the gateway is ready."""
        stack = await Stack.start(settings, insecure_dev=True)
        try:
            addresses = stack.addresses()
            for name in ("ledger", "licenses", "proofs"):
                async with grpc.aio.insecure_channel(addresses[name]) as channel:
                    reply = await health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest()
                    )
                    assert reply.status == health_pb2.HealthCheckResponse.SERVING, name
            async with httpx.AsyncClient(base_url=addresses["gateway"]) as http:
                assert (await http.get("/healthz")).status_code == 200
                assert (await http.get("/readyz")).status_code == 200
                assert "/v1/ledger/entries" in (await http.get("/openapi.json")).json()["paths"]
        finally:
            await stack.stop()

    async def test_appended_entry_survives_restart(self, settings: Settings) -> None:
        """An entry appended through the gateway reads back after stop and start on the same dir."""
        stack = await Stack.start(settings, insecure_dev=True)
        try:
            async with httpx.AsyncClient(base_url=stack.addresses()["gateway"]) as http:
                appended = await http.post("/v1/ledger/entries", json=_body(b"x"), headers=HEADERS)
            assert appended.status_code == 200, appended.text
        finally:
            await stack.stop()
        stack = await Stack.start(settings, insecure_dev=True)
        try:
            async with httpx.AsyncClient(base_url=stack.addresses()["gateway"]) as http:
                read = await http.get("/v1/ledger/entries/0", headers=HEADERS)
            assert read.status_code == 200, read.text
            assert read.json() == appended.json()["entry"]
        finally:
            await stack.stop()


class TestUpCommand:
    """``certfree up`` refuses a data directory it cannot write with one clear line."""

    def test_an_unwritable_data_directory_is_named_not_a_traceback(self, tmp_path: Path) -> None:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a directory")
        command = [sys.executable, "-m", "certfree", "up", "--insecure-dev"]
        done = subprocess.run(
            [*command, "--data-dir", str(blocker / "var")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 1
        assert f"certfree: cannot write {blocker / 'var'}" in done.stderr
        assert "writable data directory" in done.stderr
        assert "Traceback" not in done.stderr
