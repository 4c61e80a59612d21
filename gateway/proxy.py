"""The transcoding endpoint: match a route, build the request, call upstream, answer JSON.

:class:`TranscodingRoute` is one Starlette route that stands for the whole route
table, so Starlette's router gives it the requests no fixed route (``/healthz`` ...)
took and the gateway decides 404 (no such path) and 405 (path known, method not)
itself, with the allowed methods of every binding of that path. Unary RPCs answer
one JSON document; server-streaming RPCs answer Server-Sent Events, one ``data:``
line of JSON per message, and a failure after the stream has started as a final
``event: error`` whose data is the google.rpc.Status.

Resumable streams: when a streamed message has a top-level string field ``cursor``
(the proofs inbox), its event carries it as the SSE ``id``, and a request whose
message has a ``cursor`` field takes the ``Last-Event-ID`` header as that cursor when
the query gives none. So a browser's EventSource, which sends the last id it saw
when it reconnects, resumes where it stopped without losing or repeating an event.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import quote

import grpc
from google.protobuf import message
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from gateway.auth import Gatekeeper, Refusal
from gateway.errors import (
    error_status,
    internal_error_response,
    status_json,
    status_response,
    upstream_status,
)
from gateway.routes import RpcRoute, match
from gateway.transcode import (
    TranscodeError,
    parse_json_body,
    request_message,
    response_json,
)
from gateway.upstream import Metadata, Upstreams
from genproto.certfree.common.v1 import common_pb2
from runtime.errors import FieldViolation
from runtime.server import REQUEST_ID_HEADER

HTTP_BODY = "google.api.HttpBody"
FIRST_EVENT_WAIT_SECONDS = 0.5
"""How long a stream's first message is awaited before the 200 and its headers go out.

Failures the upstream reports at once (authentication, validation, not implemented)
thus keep their HTTP status; later ones arrive as an ``event: error``."""


def raw_path(scope: Scope) -> str:
    """The request path as sent, still percent-encoded (variables are decoded after matching)."""
    raw = scope.get("raw_path")
    if raw:
        return bytes(raw).decode("latin-1")
    return quote(scope["path"])


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past `limit` bytes: by its declared
    Content-Length before reading, and by counting as it arrives (chunked bodies)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413)
        chunks.append(chunk)
    return b"".join(chunks)


CURSOR_FIELD = "cursor"
LAST_EVENT_ID = "last-event-id"


def _sse(data: Any, event: str = "", event_id: str = "") -> bytes:
    head = f"event: {event}\n" if event else ""
    if event_id:
        head += f"id: {event_id}\n"
    return f"{head}data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _cursor_of(item: message.Message) -> str:
    """The string ``cursor`` field of a streamed message, or ''."""
    field = item.DESCRIPTOR.fields_by_name.get(CURSOR_FIELD)
    if field is None or field.type != field.TYPE_STRING:
        return ""
    value: str = getattr(item, CURSOR_FIELD)
    return value if "\n" not in value and "\r" not in value else ""


def _resume_from(request: Request, rpc_request: message.Message) -> None:
    """Set the request's cursor from Last-Event-ID, unless the query gave one."""
    resumed = request.headers.get(LAST_EVENT_ID, "")
    field = rpc_request.DESCRIPTOR.fields_by_name.get(CURSOR_FIELD)
    if not resumed or field is None or field.type != field.TYPE_STRING:
        return
    if getattr(rpc_request, CURSOR_FIELD):
        return
    if not (resumed.isascii() and resumed.isprintable()):
        raise TranscodeError("header Last-Event-ID must be printable ASCII", field=LAST_EVENT_ID)
    setattr(rpc_request, CURSOR_FIELD, resumed)


class TranscodingRoute(BaseRoute):
    """Every transcoded RPC route, as one Starlette route."""

    def __init__(
        self, table: Sequence[RpcRoute], *, gatekeeper: Gatekeeper, max_body_bytes: int
    ) -> None:
        self.table = list(table)
        self.gatekeeper = gatekeeper
        self.max_body_bytes = max_body_bytes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """FULL for a route of this method and path, PARTIAL when only the path is known."""
        if scope["type"] != "http":
            return Match.NONE, {}
        path = raw_path(scope)
        route, values, allowed = match(self.table, scope["method"], path)
        if route is not None:
            return Match.FULL, {
                "rpc_route": route,
                "path_params": values,
                "route_template": route.path.template,
            }
        if allowed:
            template = next(r.path.template for r in self.table if r.path.match(path) is not None)
            return Match.PARTIAL, {
                "rpc_route": None,
                "allowed_methods": allowed,
                "route_template": template,
            }
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one request the route matched."""
        route: RpcRoute | None = scope.get("rpc_route")
        if route is None:
            raise HTTPException(405, headers={"Allow": ", ".join(scope["allowed_methods"])})
        request = Request(scope, receive)
        try:
            response = await self._answer(request, route, scope["path_params"])
        except HTTPException:
            raise
        except Exception as exc:  # a bug, never the client's fault: 500 with the request id
            response = internal_error_response(request.state.request_id, exc)
        await response(scope, receive, send)

    async def _answer(
        self, request: Request, route: RpcRoute, path_values: dict[str, str]
    ) -> Response:
        request_id: str = request.state.request_id
        headers = {REQUEST_ID_HEADER: request_id}
        try:
            # Who is calling comes first: an unauthenticated body is never read.
            admitted = await self.gatekeeper.admit(request, route)
            if isinstance(admitted, Refusal):
                return admitted.response
            metadata = [(REQUEST_ID_HEADER, request_id), *admitted]
            body = (
                parse_json_body(await read_body(request, self.max_body_bytes))
                if route.body
                else None
            )
            rpc_request = request_message(
                route, path_values, request.query_params.multi_items(), body
            )
            if route.server_streaming:
                _resume_from(request, rpc_request)
        except TranscodeError as error:
            violations = [FieldViolation(error.field, error.message)] if error.field else []
            status = error_status(
                grpc.StatusCode.INVALID_ARGUMENT,
                error.message,
                reason=common_pb2.MALFORMED_REQUEST,
                field_violations=violations,
            )
            return status_response(status, headers=headers)
        upstreams: Upstreams = request.state.upstreams
        if route.server_streaming:
            return await _stream(upstreams, route, rpc_request, metadata, headers)
        try:
            response, echoed, asked = await upstreams.unary(route, rpc_request, metadata)
        except grpc.aio.AioRpcError as error:
            return status_response(upstream_status(error, route.upstream), headers=headers)
        headers[REQUEST_ID_HEADER] = echoed or request_id
        headers.update(asked)
        if response.DESCRIPTOR.full_name == HTTP_BODY:
            # google.api.HttpBody: the RPC chose the bytes and their type (tlog tiles, say).
            raw: Any = response
            return Response(raw.data, media_type=raw.content_type, headers=headers)
        return JSONResponse(response_json(route, response), headers=headers)


async def _stream(
    upstreams: Upstreams,
    route: RpcRoute,
    rpc_request: message.Message,
    metadata: Metadata,
    headers: dict[str, str],
) -> Response:
    """Relay a server-streaming RPC as Server-Sent Events."""
    call = upstreams.stream(route, rpc_request, metadata)
    first: asyncio.Future[Any] = asyncio.ensure_future(call.read())
    await asyncio.wait({first}, timeout=FIRST_EVENT_WAIT_SECONDS)
    refused = first.exception() if first.done() else None
    if isinstance(refused, grpc.aio.AioRpcError):
        return status_response(upstream_status(refused, route.upstream), headers=headers)

    async def events() -> AsyncIterator[bytes]:
        try:
            item = await first
            while item is not grpc.aio.EOF:
                yield _sse(response_json(route, item), event_id=_cursor_of(item))
                item = await call.read()
        except grpc.aio.AioRpcError as error:
            yield _sse(status_json(upstream_status(error, route.upstream)), event="error")
        finally:
            first.cancel()
            call.cancel()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={**headers, "cache-control": "no-cache"},
    )
