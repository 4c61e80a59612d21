"""Prometheus metrics: one registry per process, the metrics themselves, and ``/metrics``.

Every metric certfree exports is defined here, so this module is the list (and
``docs/operations.md`` "Metrics" describes each). They are recorded where the outcome
is already known: the RPC metrics by the server interceptor's one closing call
(:func:`rpc_done`), the ledger's by its sequencer, the proofs gauges by the sweeper,
the licenses counters where an issuance or a verification ends, the HTTP metrics by
the gateway's :class:`HttpMetrics` middleware.

Shortest use::

    listener = start_listener(settings)  # serves /metrics on CERTFREE_METRICS_PORT, or None
    ...
    if listener is not None:
        listener.stop()

Labels never carry personal data nor anything unbounded: services and methods come
from the contract, codes from gRPC, routes are templates (never raw paths), states and
outcomes are enum names.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST, start_http_server
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime.config import Settings
from runtime.logs import get_logger

_log = get_logger("metrics")

REGISTRY = CollectorRegistry(auto_describe=False)
"""The process's one registry: ``certfree up`` runs every service in one process and
serves them all from one listener; a service run alone serves its own."""

LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
"""Seconds, 1 ms to 10 s: an append lands in a few ms, a proof round trip in tens to
hundreds, anything slower than 10 s is past the gateway's upstream deadline anyway."""

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
"""Entries per ledger batch, up to a few times the default CERTFREE_LEDGER_MAX_BATCH."""

# --- gRPC: rate, errors, duration (recorded by runtime.server) -------------------------

RPC_REQUESTS = Counter(
    "certfree_rpc_requests",
    "gRPC calls served, by service, method and status code.",
    ("service", "method", "code"),
    registry=REGISTRY,
)
RPC_DURATION = Histogram(
    "certfree_rpc_duration_seconds",
    "Time from a gRPC call's start to its status, in seconds.",
    ("service", "method"),
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
RPC_IN_FLIGHT = Gauge(
    "certfree_rpc_in_flight",
    "gRPC calls being served now.",
    ("service", "method"),
    registry=REGISTRY,
)

# --- HTTP at the gateway (recorded by HttpMetrics) -------------------------------------

HTTP_REQUESTS = Counter(
    "certfree_http_requests",
    "HTTP requests the gateway answered, by route template, method and status.",
    ("route", "method", "status"),
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "certfree_http_request_duration_seconds",
    "Time from an HTTP request's arrival to the end of its response, in seconds.",
    ("route", "method"),
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)

# --- ledger (recorded by services.ledger.sequencer) -------------------------------------

LEDGER_SIZE = Gauge(
    "certfree_ledger_entries",
    "Entries in the log (its tree size), as the sequencer last made durable.",
    ("origin",),
    registry=REGISTRY,
)
LEDGER_INTEGRATION = Histogram(
    "certfree_ledger_integration_seconds",
    "Per batch: from the oldest submission's arrival to the batch being durable.",
    ("origin",),
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
LEDGER_BATCH = Histogram(
    "certfree_ledger_batch_entries",
    "New entries per batch the sequencer made durable.",
    ("origin",),
    buckets=BATCH_BUCKETS,
    registry=REGISTRY,
)

# --- proofs (refreshed by services.proofs.sweeper) --------------------------------------

PROOF_REQUESTS_OPEN = Gauge(
    "certfree_proof_requests_open",
    "Open proof requests (not yet final), by state and SLA mark, at the last sweep.",
    ("state", "sla"),
    registry=REGISTRY,
)
PROOF_REQUESTS_OVERDUE = Gauge(
    "certfree_proof_requests_overdue",
    "Open proof requests past their due time (red card), at the last sweep.",
    registry=REGISTRY,
)
PROOF_REQUESTS_ESCALATED = Gauge(
    "certfree_proof_requests_escalated",
    "Open proof requests escalated to a supervisor, at the last sweep.",
    registry=REGISTRY,
)
PROOF_SWEEP_CHANGES = Counter(
    "certfree_proof_sweep_changes",
    "Changes the deadline sweeper made, by kind (sla_changed, escalated, expired).",
    ("change",),
    registry=REGISTRY,
)

# --- licenses (recorded by services.licenses) -------------------------------------------

LICENSES_ISSUED = Counter(
    "certfree_licenses_issued",
    "IssueLicense calls that returned a license: outcome `issued` (new) or `duplicate`.",
    ("license_type", "outcome"),
    registry=REGISTRY,
)
LICENSES_VERIFIED = Counter(
    "certfree_licenses_verified",
    "VerifyLicense results: outcome `valid`, or the first check that failed or could not "
    "be decided (`signature`, `status`, ...).",
    ("outcome",),
    registry=REGISTRY,
)


# --- the RPC hot path -------------------------------------------------------------------


@dataclass
class _Series:
    """One RPC method's children, looked up once: labels() costs a lock and a dict each."""

    service: str
    method: str
    in_flight: Any
    duration: Any
    codes: dict[str, Any] = field(default_factory=dict)

    def requests(self, code: str) -> Any:
        child = self.codes.get(code)
        if child is None:
            child = self.codes[code] = RPC_REQUESTS.labels(self.service, self.method, code)
        return child


_series: dict[str, _Series] = {}


def _of(path: str) -> _Series:
    found = _series.get(path)
    if found is None:
        # "/certfree.ledger.v1.LedgerService/Append": only paths the server has a handler
        # for reach here, so the label values are bounded by the contract.
        service, _, method = path.lstrip("/").rpartition("/")
        found = _series[path] = _Series(
            service,
            method,
            RPC_IN_FLIGHT.labels(service, method),
            RPC_DURATION.labels(service, method),
        )
    return found


def rpc_started(path: str) -> None:
    """Count a call to the full method `path` as in flight."""
    _of(path).in_flight.inc()


def rpc_finished(path: str) -> None:
    """The call to `path` is no longer in flight (however it ended)."""
    _of(path).in_flight.dec()


def rpc_done(path: str, code: str, seconds: float) -> None:
    """Record one finished call to `path`: its status code name and its duration."""
    series = _of(path)
    series.requests(code).inc()
    series.duration.observe(seconds)


# --- the gateway's HTTP requests --------------------------------------------------------


class HttpMetrics:
    """ASGI middleware: count and time every HTTP request by its route *template*.

    `route_of` reads the template the router matched from the scope after the request
    (paths carry identifiers; templates do not); unmatched requests count as
    ``unmatched``. The method is kept only when it is a standard one.
    """

    _METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))

    def __init__(self, app: ASGIApp, route_of: Callable[[Scope], str | None]) -> None:
        self.app = app
        self._route_of = route_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request and record its status and duration when it ends."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app raises before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = self._route_of(scope) or "unmatched"
            method = scope["method"] if scope["method"] in self._METHODS else "other"
            HTTP_REQUESTS.labels(route, method, str(status)).inc()
            HTTP_DURATION.labels(route, method).observe(time.perf_counter() - started)


CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The media type of :func:`render`'s output (Prometheus text format 0.0.4)."""


def render() -> bytes:
    """The registry in the Prometheus text format, as ``/metrics`` answers."""
    return generate_latest(REGISTRY)


# --- the listener -----------------------------------------------------------------------


@dataclass
class MetricsListener:
    """A thread serving the registry at ``/metrics`` (any path answers, as Prometheus'
    own exporter does); off the event loop so a scrape never delays a call."""

    port: int
    """The TCP port actually bound."""
    _server: WSGIServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @classmethod
    def start(cls, host: str, port: int) -> MetricsListener:
        """Serve on `host`:`port` (0 picks a free port); OSError if it cannot bind."""
        server, thread = start_http_server(port, addr=host, registry=REGISTRY)
        return cls(port=server.server_port, _server=server, _thread=thread)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_listener(settings: Settings) -> MetricsListener | None:
    """Serve ``/metrics`` on ``CERTFREE_METRICS_PORT`` at ``listen_host``; None when the
    setting is 0 or the port is taken.

    A taken port is logged, not fatal: the calls the process serves matter more than
    its metrics, and a scrape that fails shows up as a down target in Prometheus.
    """
    if settings.metrics_port == 0:
        return None
    try:
        listener = MetricsListener.start(settings.listen_host, settings.metrics_port)
    except OSError as error:
        _log.warning(
            "cannot serve /metrics",
            address=f"{settings.listen_host}:{settings.metrics_port}",
            error=error.strerror,
        )
        return None
    _log.info("serving /metrics", address=f"{settings.listen_host}:{listener.port}")
    return listener
