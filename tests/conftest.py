"""Shared fixtures: a real store (tests/redis_server.py), settings for loopback, callers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc
import pytest

from runtime.config import Settings, load
from runtime.identity import DEPARTMENT_HEADER, ROLE_HEADER, DevIdentity, IdentitySource
from runtime.server import Registration, RunningServer, start_server
from runtime.store import Store

pytest_plugins = ["tests.redis_server"]

# Two departments, by unified social credit codes with valid GB 32100 check characters.
MARKET_REGULATION = "11350100MB01234565"
HOUSING_BUREAU = "11350181MB12345671"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a loopback test: every port 0, data under the test's tmp dir."""
    return load(
        {},
        data_dir=tmp_path / "var",
        ledger_port=0,
        licenses_port=0,
        proofs_port=0,
        gateway_port=0,
        metrics_port=0,
        grace_seconds=3.0,
    )


def caller(
    department: str = MARKET_REGULATION, role: str = "issuer"
) -> tuple[tuple[str, str], ...]:
    """gRPC metadata naming a development caller."""
    return ((DEPARTMENT_HEADER, department), (ROLE_HEADER, role))


@pytest.fixture
async def start_ledger(settings: Settings, store: Store) -> AsyncIterator[Callable[..., object]]:
    """Start ledger servers on loopback (optionally with another servicer set); stop them after."""
    import services.ledger

    started: list[RunningServer] = []

    async def start(
        registrations: list[Registration] | None = None, identity: IdentitySource | None = None
    ) -> RunningServer:
        running = await start_server(
            settings,
            "127.0.0.1:0",
            registrations or services.ledger.registrations(settings, store),
            identity or DevIdentity(),
        )
        started.append(running)
        return running

    yield start
    for running in started:
        await running.stop(0)


@pytest.fixture
async def ledger_channel(start_ledger: Callable[..., object]) -> AsyncIterator[grpc.aio.Channel]:
    """A channel to a running ledger service."""
    running = await start_ledger()  # type: ignore[misc]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield channel
