"""Optional OpenTelemetry tracing: one trace across gateway and services; nothing when off."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from certfree.stack import Stack
from runtime import tracing
from runtime.config import ConfigError, Settings, load

ROOT = Path(__file__).resolve().parents[1]
ENDPOINT = "http://127.0.0.1:4318/v1/traces"  # never contacted: the tests export in memory
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def exporter(settings: Settings) -> Iterator[InMemorySpanExporter]:
    """The process's tracer provider, exporting to memory; torn down after the test."""
    exported = InMemorySpanExporter()
    tracing.configure(dataclasses.replace(settings, tracing_endpoint=ENDPOINT), exporter=exported)
    yield exported
    tracing.shutdown()


@pytest.fixture
async def traced_stack(
    settings: Settings, redis_url: str, exporter: InMemorySpanExporter
) -> AsyncIterator[Stack]:
    """certfree on loopback with tracing on."""
    stack = await Stack.start(
        dataclasses.replace(
            settings, redis_url=redis_url, tracing_endpoint=ENDPOINT, metrics_port=0
        ),
        insecure_dev=True,
    )
    try:
        yield stack
    finally:
        await stack.stop()


def spans_of(exporter: InMemorySpanExporter, kind: SpanKind) -> list[ReadableSpan]:
    """The finished spans of one kind."""
    return [span for span in exporter.get_finished_spans() if span.kind is kind]


class TestPropagation:
    """One HTTP request at the gateway is one trace through the services it calls."""

    async def test_gateway_request_and_the_service_share_one_trace(
        self, traced_stack: Stack, exporter: InMemorySpanExporter
    ) -> None:
        """The gateway's server span, its gRPC client span and the ledger's server span
        carry one trace id, each the parent of the next."""
        async with httpx.AsyncClient(base_url=traced_stack.addresses()["gateway"]) as http:
            response = await http.get("/v1/ledger/checkpoint")
        (http_span,) = [s for s in spans_of(exporter, SpanKind.SERVER) if s.name.startswith("GET ")]
        assert http_span.name == "GET /v1/ledger/checkpoint"  # the template, not the raw path
        assert http_span.attributes is not None
        assert http_span.attributes["http.response.status_code"] == response.status_code
        (client,) = spans_of(exporter, SpanKind.CLIENT)
        (served,) = [
            s for s in spans_of(exporter, SpanKind.SERVER) if s.name.endswith("/GetCheckpoint")
        ]
        assert http_span.context is not None and client.context is not None
        trace_id = http_span.context.trace_id
        assert served.context is not None and served.context.trace_id == trace_id
        assert client.context.trace_id == trace_id
        assert client.parent is not None and client.parent.span_id == http_span.context.span_id
        assert served.parent is not None and served.parent.span_id == client.context.span_id

    async def test_an_incoming_traceparent_is_continued(
        self, traced_stack: Stack, exporter: InMemorySpanExporter
    ) -> None:
        """A caller's W3C traceparent makes every span part of the caller's trace."""
        async with httpx.AsyncClient(base_url=traced_stack.addresses()["gateway"]) as http:
            response = await http.get("/v1/ledger/checkpoint", headers={"traceparent": TRACEPARENT})
        assert response.status_code != 404
        spans = exporter.get_finished_spans()
        assert len(spans) >= 3
        assert {f"{span.context.trace_id:032x}" for span in spans if span.context} == {TRACE_ID}


class TestOff:
    """Off by default: no interceptors, no middleware, and the tracing SDK is never imported."""

    def test_off_by_default(self, settings: Settings) -> None:
        """Without an endpoint every hook is empty."""
        assert not tracing.enabled(settings)
        assert tracing.server_interceptors(settings) == []
        assert tracing.client_interceptors(settings) == []
        assert tracing.asgi_middleware(settings, lambda scope: None) == []

    def test_nothing_of_opentelemetry_tracing_is_imported_when_off(self) -> None:
        """A process that builds a server, a channel and the gateway app loads no tracing code.

        (The redis client imports the OpenTelemetry API for its own optional metrics, so
        the check is on the tracing SDK, the gRPC instrumentation and the exporter.)
        """
        program = textwrap.dedent(
            """
            import asyncio, sys
            from runtime.config import load
            from runtime.channels import secure_channel
            from runtime.identity import DevIdentity
            from runtime.server import start_server
            from gateway.app import build_app

            async def main():
                settings = load({}, gateway_port=0)
                running = await start_server(settings, "127.0.0.1:0", [], DevIdentity())
                channel = secure_channel(f"127.0.0.1:{running.port}", settings)
                build_app(settings, store=None, forward_dev_identity=True)
                await channel.close()
                await running.stop(0)

            asyncio.run(main())
            loaded = [m for m in sys.modules if m.startswith((
                "opentelemetry.sdk.trace", "opentelemetry.instrumentation",
                "opentelemetry.exporter"))]
            print(loaded)
            sys.exit(1 if loaded else 0)
            """
        )
        done = subprocess.run(
            [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr


class TestSettings:
    """The tracing settings are checked at start-up."""

    def test_bad_values_name_the_setting(self) -> None:
        """A ratio outside [0, 1] or an endpoint that is not an http(s) URL is refused."""
        with pytest.raises(ConfigError, match="CERTFREE_TRACING_SAMPLE_RATIO"):
            load({"CERTFREE_TRACING_SAMPLE_RATIO": "1.5"})
        with pytest.raises(ConfigError, match="CERTFREE_TRACING_ENDPOINT"):
            load({"CERTFREE_TRACING_ENDPOINT": "collector:4318"})
        with pytest.raises(ConfigError, match="CERTFREE_METRICS_PORT"):
            load({"CERTFREE_METRICS_PORT": "70000"})
