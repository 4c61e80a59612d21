"""The gateway as an ASGI app: transcoded routes, OpenAPI, health, limits and the access log.

:func:`build_app` reads the contract once, builds the route table and the OpenAPI
document from it, and returns a Starlette app whose lifespan opens one gRPC
channel per upstream service and closes them at shutdown. It holds no business
logic: what a route does is the upstream's business.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.access import AccessLog, route_template
from gateway.auth import Gatekeeper, public_department
from gateway.descriptors import Contract, load_contract
from gateway.errors import error_status, internal_error_response, status_response
from gateway.health import healthz, readyz
from gateway.limits import BodyLimit, body_too_large_message
from gateway.openapi import build_document
from gateway.pages import page_routes
from gateway.proxy import TranscodingRoute
from gateway.routes import RpcRoute, route_table
from gateway.scopes import PUBLIC, check_table, scope_of
from gateway.store import GatewayStore, RateLimit
from gateway.upstream import Upstreams, target_for
from genproto.certfree.common.v1 import common_pb2
from runtime import metrics, tracing
from runtime.config import ConfigError, Settings
from runtime.server import REQUEST_ID_HEADER
from runtime.store import Store
from runtime.tokens import TokenKey, TokenPolicy, load_token_key

# The gateway's own refusals, as google.rpc codes and stable reasons.
_HTTP_ERRORS: dict[int, tuple[grpc.StatusCode, int]] = {
    404: (grpc.StatusCode.NOT_FOUND, common_pb2.ROUTE_NOT_FOUND),
    405: (grpc.StatusCode.UNIMPLEMENTED, common_pb2.METHOD_NOT_ALLOWED),
    413: (grpc.StatusCode.INVALID_ARGUMENT, common_pb2.BODY_TOO_LARGE),
}


async def _metrics(request: Request) -> Response:
    """Prometheus text of this process's registry; public, like ``/healthz``."""
    return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


def _http_error_handler(max_body_bytes: int) -> Any:
    """The handler for the router's own refusals (404, 405) and the body limit (413)."""

    async def handle(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, HTTPException):  # registered for HTTPException only
            raise exc
        code, reason = _HTTP_ERRORS.get(
            exc.status_code, (grpc.StatusCode.INVALID_ARGUMENT, common_pb2.MALFORMED_REQUEST)
        )
        metadata: dict[str, str] = {}
        if exc.status_code == 404:
            message = f"no route matches {request.method} {request.url.path}"
        elif exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            message = f"{request.method} is not allowed here; allowed: {allowed}"
        elif exc.status_code == 413:
            message = body_too_large_message(max_body_bytes)
            metadata["max_body_bytes"] = str(max_body_bytes)
        else:
            message = str(exc.detail)
        status = error_status(code, message, reason=reason, metadata=metadata)
        headers = {**(exc.headers or {}), REQUEST_ID_HEADER: _request_id(request)}
        return status_response(status, status_code=exc.status_code, headers=headers)

    return handle


async def _internal_error_handler(request: Request, exc: Exception) -> Response:
    """Last resort for a failure outside a transcoded call (those are caught in the proxy)."""
    return internal_error_response(_request_id(request), exc)


def _required_scope(route: RpcRoute) -> str | None:
    scope = scope_of(route)
    return None if scope == PUBLIC else scope


def build_app(
    settings: Settings,
    *,
    store: Store | None,
    forward_dev_identity: bool,
    contract: Contract | None = None,
    token_key: TokenKey | None = None,
    rate_limit: RateLimit | None = None,
) -> Starlette:
    """The gateway app for `settings`, calling the upstreams its targets name.

    `store` is pinged by ``/readyz`` and keeps revoked tokens and rate counters; None
    (development only) checks neither. Every API route but the public read API needs
    a bearer token signed by `token_key` (default: ``CERTFREE_TOKEN_KEY_FILE``; see
    gateway/auth.py). With `forward_dev_identity` (``--insecure-dev``, never in
    production) a request without a token keeps its own ``x-certfree-department/-role/
    -subject`` headers for the services' development identity. `rate_limit` defaults
    to ``CERTFREE_GATEWAY_RATE_PER_MINUTE`` (0: none). `contract` defaults to the
    generated descriptor set.
    """
    if settings.mode == "production":
        if forward_dev_identity:
            raise ConfigError("--insecure-dev is refused when CERTFREE_MODE=production")
        if store is None:
            raise ConfigError("the gateway needs its store in production (token revocation)")
    contract = contract or load_contract()
    table = route_table(contract.services)
    upstream_services: dict[str, list[str]] = {}
    for route in table:
        names = upstream_services.setdefault(route.upstream, [])
        if route.service not in names:
            names.append(route.service)
    for upstream in upstream_services:
        target_for(settings, upstream)  # fail at start-up, naming the missing setting
    check_table(table)  # a route without a scope would be open to any token: refuse to start
    document = build_document(table, contract.files, scope_of=_required_scope)
    if rate_limit is None and settings.gateway_rate_per_minute:
        rate_limit = RateLimit(settings.gateway_rate_per_minute)
    gatekeeper = Gatekeeper(
        key=token_key or load_token_key(settings),
        policy=TokenPolicy.of(settings),
        store=GatewayStore(store) if store is not None else None,
        limit=rate_limit,
        forward_dev_identity=forward_dev_identity,
        public_department=public_department(settings),
    )

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(document)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        upstreams = Upstreams.open(settings, upstream_services)
        try:
            yield {"upstreams": upstreams, "store": store, "upstream_services": upstream_services}
        finally:
            await upstreams.close()

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", _metrics, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
            *page_routes(dev_identity=forward_dev_identity),  # the pages: static, then the API
            TranscodingRoute(
                table,
                gatekeeper=gatekeeper,
                max_body_bytes=settings.max_body_bytes,
            ),
        ],
        middleware=[
            # Outermost: the trace and the timing cover everything the gateway does.
            *tracing.asgi_middleware(settings, route_template),
            Middleware(metrics.HttpMetrics, route_of=route_template),
            Middleware(AccessLog),
            Middleware(BodyLimit, max_body_bytes=settings.max_body_bytes),
        ],
        exception_handlers={
            HTTPException: _http_error_handler(settings.max_body_bytes),
            Exception: _internal_error_handler,
        },
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # a route is its template; no guessing
    return app
