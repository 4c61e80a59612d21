"""certfree services as real OS processes for crash and fault tests: start, wait healthy, kill -9.

A test builds one :class:`Processes` (an async context manager that stops whatever is
still running on exit), gives it an environment from :func:`service_env` and spawns
``python -m services.<name> --insecure-dev`` or ``python -m gateway --insecure-dev``
with :meth:`Processes.spawn`. A spawned :class:`Process` keeps its port, so
:meth:`Process.restart` brings the same service back where its clients look for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

START_SECONDS = 30.0
"""How long a process may take to answer its health check (a loaded 2-core CI box)."""

CLIENT_OPTIONS = (
    # A client that reconnects at once to a restarted server, as a deployment's should;
    # grpc's default backoff (1 s growing to 120 s) would hide the restart behind waits.
    ("grpc.initial_reconnect_backoff_ms", 50),
    ("grpc.min_reconnect_backoff_ms", 50),
    ("grpc.max_reconnect_backoff_ms", 250),
    ("grpc.enable_retries", 0),
)
"""Channel options for test clients of processes that get killed and restarted."""


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def service_env(redis_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a certfree process on loopback: the store, the data dir, `settings`.

    Every process of one test shares the data dir, so that they share the development
    secrets (ledger key, holder index key, signing passphrase) as one deployment does.
    `settings` are ``CERTFREE_*`` names without the prefix, e.g. ``LEDGER_PORT="5000"``.
    """
    return {
        **os.environ,
        "REDIS_URL": redis_url,
        "CERTFREE_DATA_DIR": str(data_dir),
        "CERTFREE_LISTEN_HOST": "127.0.0.1",
        "CERTFREE_LOG_LEVEL": "warning",
        "CERTFREE_METRICS_PORT": "0",  # several processes on one box: no shared metrics port
        **{f"CERTFREE_{name}": value for name, value in settings.items()},
    }


async def wait_grpc_healthy(port: int, seconds: float = START_SECONDS) -> None:
    """Poll grpc.health.v1 on loopback `port` until it answers SERVING."""
    deadline = time.monotonic() + seconds
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=CLIENT_OPTIONS) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            with contextlib.suppress(grpc.aio.AioRpcError):
                reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=0.5)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            await asyncio.sleep(0.05)
    raise TimeoutError(f"nothing answered grpc health on port {port} within {seconds:g} s")


async def wait_http_healthy(port: int, seconds: float = START_SECONDS) -> None:
    """Poll the gateway's ``/healthz`` on loopback `port` until it answers 200."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=0.5) as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise TimeoutError(f"nothing answered /healthz on port {port} within {seconds:g} s")


class Process:
    """One certfree process (``python -m <module> --insecure-dev``) on a fixed loopback port."""

    def __init__(self, module: str, env: Mapping[str, str], port: int) -> None:
        self.module = module
        """``services.ledger``, ``services.licenses``, ``services.proofs`` or ``gateway``."""
        self.env = dict(env)
        self.port = port
        """The port it serves on, kept across restarts."""
        self.popen: subprocess.Popen[bytes] | None = None
        self.exited: list[subprocess.Popen[bytes]] = []
        """Earlier incarnations, killed or stopped."""

    @property
    def running(self) -> bool:
        """Whether the current incarnation is alive."""
        return self.popen is not None and self.popen.poll() is None

    async def start(self) -> Self:
        """Start it and wait until it answers its health check (gRPC, or HTTP for the gateway)."""
        if self.running:
            raise RuntimeError(f"{self.module} is running already")
        self.popen = subprocess.Popen(  # noqa: ASYNC220 - returns at once; we poll health
            [sys.executable, "-m", self.module, "--insecure-dev"],
            env=self.env,
            stdout=subprocess.DEVNULL,  # its logs go to stderr, which pytest shows on failure
        )
        wait = wait_http_healthy if self.module == "gateway" else wait_grpc_healthy
        try:
            await wait(self.port)
        except TimeoutError:
            self.kill()
            raise
        return self

    def kill(self) -> None:
        """kill -9: no drain, no lease given up, nothing flushed."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)
        self.exited.append(self.popen)
        self.popen = None

    def stop(self, seconds: float = 10.0) -> None:
        """SIGTERM (the clean shutdown), then SIGKILL after `seconds`."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(seconds)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        self.exited.append(self.popen)
        self.popen = None

    async def restart(self) -> Self:
        """Start a new incarnation on the same port (after :meth:`kill` or :meth:`stop`)."""
        return await self.start()


class Processes:
    """The processes one test started; ``async with`` stops every one still running."""

    def __init__(self) -> None:
        self.started: list[Process] = []

    def add(self, module: str, env: Mapping[str, str], port: int) -> Process:
        """A process of `module` with `env` on `port`, not started yet, stopped on exit."""
        process = Process(module, env, port)
        self.started.append(process)
        return process

    async def spawn(self, module: str, env: Mapping[str, str], port: int) -> Process:
        """Start `module` with `env` on `port` and wait until it is healthy."""
        return await self.add(module, env, port).start()

    async def service(self, name: str, redis_url: str, data_dir: Path, **settings: str) -> Process:
        """Start ``services.<name>`` on a free port with :func:`service_env`."""
        port = free_port()
        env = service_env(redis_url, data_dir, **{f"{name.upper()}_PORT": str(port)}, **settings)
        return await self.spawn(f"services.{name}", env, port)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Reverse order: the gateway and callers stop before what they call.
        for process in reversed(self.started):
            process.stop()
