"""Optional OpenTelemetry tracing: off by default, W3C trace context across every hop.

With ``CERTFREE_TRACING_ENDPOINT`` set (an OTLP/HTTP traces URL), the gateway opens a
server span per HTTP request, its gRPC clients carry the trace in a ``traceparent``
header, and every gRPC server continues it, so one intake request is one trace across
gateway → proofs → licenses → ledger. Spans go to the collector in batches.

Off (the default), nothing here imports OpenTelemetry: the functions answer with empty
lists, so servers, channels and the gateway are built exactly as without this module
and a call costs nothing extra. The OpenTelemetry packages are the ``tracing`` extra.

Shortest use (the servers, :func:`runtime.channels.secure_channel` and the gateway do
this themselves)::

    configure(settings, service_name="certfree-ledger")   # once, at process start
    server = grpc.aio.server(interceptors=[*server_interceptors(settings), ...])
    channel = grpc.aio.insecure_channel(target, interceptors=client_interceptors(settings))

Spans name RPCs and route *templates*, never raw paths or request contents: those
carry identifiers of holders.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime.config import Settings
from runtime.logs import get_logger

_log = get_logger("tracing")

DEFAULT_SERVICE_NAME = "certfree"
"""The ``service.name`` of a process that did not name itself (``certfree up``)."""

_lock = threading.Lock()
_provider: Any = None
"""The process's one TracerProvider, made on first use (tracing on) or by configure()."""


def enabled(settings: Settings) -> bool:
    """Whether tracing is on: ``CERTFREE_TRACING_ENDPOINT`` is set."""
    return bool(settings.tracing_endpoint)


def configure(
    settings: Settings, *, service_name: str = DEFAULT_SERVICE_NAME, exporter: Any = None
) -> Any:
    """The process's tracer provider, made on the first call; None when tracing is off.

    Spans are sampled at ``CERTFREE_TRACING_SAMPLE_RATIO`` for new traces and follow the
    caller's decision for continued ones, and exported in batches to the OTLP/HTTP
    endpoint. An explicit `exporter` (the SDK's in-memory one, in tests) replaces any
    earlier provider and receives each span as it ends.
    """
    global _provider
    if not enabled(settings):
        return None
    with _lock:
        if _provider is not None and exporter is None:
            return _provider
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

        provider = TracerProvider(
            sampler=ParentBased(TraceIdRatioBased(settings.tracing_sample_ratio)),
            resource=Resource.create({"service.name": service_name}),
        )
        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(endpoint=settings.tracing_endpoint)
            provider.add_span_processor(BatchSpanProcessor(exporter))
        else:
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        if _provider is not None:
            _provider.shutdown()
        _provider = provider
        _log.info(
            "tracing on",
            endpoint=settings.tracing_endpoint,
            sample_ratio=settings.tracing_sample_ratio,
            service_name=service_name,
        )
        return provider


def shutdown() -> None:
    """Export the spans still buffered and stop the provider (at process exit)."""
    global _provider
    with _lock:
        provider, _provider = _provider, None
    if provider is not None:
        provider.shutdown()


def server_interceptors(settings: Settings) -> list[Any]:
    """gRPC server interceptors continuing the caller's trace; empty when tracing is off.

    Put them before certfree's own interceptor: the span then covers the whole call,
    and the handler runs inside it.
    """
    provider = configure(settings)
    if provider is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return [aio_server_interceptor(tracer_provider=provider)]  # type: ignore[no-untyped-call]


def client_interceptors(settings: Settings) -> list[Any]:
    """gRPC client interceptors that send the current trace as ``traceparent``; empty
    when tracing is off."""
    provider = configure(settings)
    if provider is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    interceptors: list[Any] = aio_client_interceptors(tracer_provider=provider)  # type: ignore[no-untyped-call]
    return interceptors


class AsgiTracing:
    """ASGI middleware: one server span per HTTP request, continuing a ``traceparent``.

    The span is named by the route template `route_of` reads from the scope once the
    router matched (``GET /v1/proof-requests/{request_id}``), never by the raw path.
    Build it only when tracing is on (:func:`asgi_middleware`).
    """

    def __init__(
        self, app: ASGIApp, provider: Any, route_of: Callable[[Scope], str | None]
    ) -> None:
        from opentelemetry import propagate, trace

        self.app = app
        self._route_of = route_of
        self._tracer = provider.get_tracer("certfree.gateway")
        self._extract = propagate.extract
        self._trace = trace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request inside a server span; its status code ends the span."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope.get("headers", ())
            if key in (b"traceparent", b"tracestate")
        }
        method = str(scope["method"])
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with self._tracer.start_as_current_span(
            f"{method} unmatched",
            context=self._extract(headers),
            kind=self._trace.SpanKind.SERVER,
            start_time=time.time_ns(),
        ) as span:
            try:
                await self.app(scope, receive, send_noting_status)
            finally:
                route = self._route_of(scope)
                if route is not None:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.request.method", method)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(self._trace.Status(self._trace.StatusCode.ERROR))


def asgi_middleware(
    settings: Settings, route_of: Callable[[Scope], str | None]
) -> list[Middleware]:
    """The gateway's tracing middleware (outermost); empty when tracing is off."""
    provider = configure(settings)
    if provider is None:
        return []
    return [Middleware(AsgiTracing, provider=provider, route_of=route_of)]
