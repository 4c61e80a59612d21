"""Serve the gateway app with uvicorn inside the caller's event loop.

The socket is bound here, before uvicorn starts, so that a busy port is a plain
``OSError`` for the caller (uvicorn itself would ``sys.exit``), and so that port 0
works: :attr:`RunningGateway.port` is the port actually bound. uvicorn does not
install signal handlers this way; whoever runs the loop decides when to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass, field

import uvicorn
from starlette.types import ASGIApp

from runtime.config import Settings
from runtime.logs import get_logger

_log = get_logger("gateway")


class GatewayStartError(RuntimeError):
    """The app's lifespan start-up failed (the log says why)."""


@dataclass
class RunningGateway:
    """A gateway serving HTTP, and how to stop it."""

    server: uvicorn.Server
    port: int
    """The TCP port actually bound."""
    _sockets: list[socket.socket]
    _main_loop: asyncio.Task[None] = field(repr=False)

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish (up to the grace period), shut down."""
        self.server.should_exit = True
        self._main_loop.cancel()  # it only refreshes the Date header; no need to wait a tick
        with contextlib.suppress(asyncio.CancelledError):
            await self._main_loop
        await self.server.shutdown(sockets=self._sockets)


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


async def start_gateway(
    settings: Settings, app: ASGIApp, *, port: int | None = None
) -> RunningGateway:
    """Bind ``settings.listen_host`` on `port` (default ``settings.gateway_port``; 0 picks one),
    run the app's lifespan start-up, and serve until :meth:`RunningGateway.stop`."""
    sock = _bind(settings.listen_host, settings.gateway_port if port is None else port)
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,  # the app logs each request itself, with its route template
        lifespan="on",
        timeout_graceful_shutdown=max(1, round(settings.grace_seconds)),
        server_header=False,
    )
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    try:
        await server.startup(sockets=[sock])
    except SystemExit:  # uvicorn's way of reporting a failed lifespan start-up
        sock.close()
        raise GatewayStartError("the gateway app failed to start; see the log above") from None
    bound = sock.getsockname()[1]
    _log.info("gateway serving", address=f"{settings.listen_host}:{bound}")
    main_loop = asyncio.create_task(server.main_loop(), name="gateway-main-loop")
    return RunningGateway(server=server, port=bound, _sockets=[sock], _main_loop=main_loop)
