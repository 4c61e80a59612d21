"""Request ids and the access log: one structured line per HTTP request.

A plain ASGI middleware (not Starlette's BaseHTTPMiddleware, which buffers
streaming responses). It takes the caller's ``x-request-id`` when it is
well-formed, else makes one, keeps it in ``request.state.request_id`` for the
upstream call, returns it as a response header, and logs the method, the route
*template* (``/v1/ledger/entries/{index}``: paths may carry identifiers, templates
never do), the status, the duration and the request id.
"""

from __future__ import annotations

import time
import uuid

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime.logs import get_logger
from runtime.server import REQUEST_ID_HEADER, valid_request_id

_log = get_logger("gateway")


def route_template(scope: Scope) -> str | None:
    """The template of the route that took the request, or None when none did."""
    template = scope.get("route_template")
    if template is None:
        template = getattr(scope.get("route"), "path", None)
    return template if isinstance(template, str) else None


class AccessLog:
    """Give every request an id and log one line when it ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request, adding ``x-request-id`` to the response and logging the outcome."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(REQUEST_ID_HEADER)
        request_id = given if given is not None and valid_request_id(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500  # what the client gets if the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                if REQUEST_ID_HEADER not in headers:
                    headers.append(REQUEST_ID_HEADER, request_id)
            await send(message)

        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                _log.info(
                    "http",
                    method=scope["method"],
                    route=route_template(scope),
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
