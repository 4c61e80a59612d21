"""The request body limit on every route, before any route reads a byte.

A declared ``Content-Length`` over ``CERTFREE_MAX_BODY_BYTES`` is refused here with
413, whatever the route (``/healthz`` included), so a client learns at once and no
route has to remember. Bodies without a length (chunked) are counted as they are read
by the one reader, :func:`gateway.proxy.read_body`; routes that read no body never
buffer one (the server applies back-pressure).
"""

from __future__ import annotations

import grpc
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import error_status, status_response
from genproto.certfree.common.v1 import common_pb2
from runtime.server import REQUEST_ID_HEADER


def body_too_large_message(limit: int) -> str:
    """The message of every 413 the gateway sends."""
    return f"the request body is larger than the limit of {limit} bytes"


class BodyLimit:
    """Refuse a request whose declared body exceeds `max_body_bytes` with 413."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 413 for a declared length over the limit; else pass the request on."""
        if scope["type"] == "http":
            declared = Headers(scope=scope).get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_body_bytes:
                status = error_status(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    body_too_large_message(self.max_body_bytes),
                    reason=common_pb2.BODY_TOO_LARGE,
                    metadata={"max_body_bytes": str(self.max_body_bytes)},
                )
                request_id = str(scope.get("state", {}).get("request_id", ""))
                response = status_response(
                    status,
                    status_code=413,
                    headers={REQUEST_ID_HEADER: request_id, "Connection": "close"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
