"""The gRPC server every service runs: one factory, one interceptor.

:func:`start_server` builds a ``grpc.aio`` server with deliberate limits, the
standard health and reflection services, and :class:`RequestInterceptor`, which for
every RPC: names it with a request id, authenticates the caller, applies the
authorisation policy (:mod:`runtime.policy`: the caller's role, and the calling
department's rate on expensive RPCs), validates the request against its
protovalidate rules, runs the handler, maps any error to a rich
``google.rpc.Status``, and logs one line with the outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
import protovalidate
import structlog
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status
from redis.exceptions import RedisError

from runtime import identity as identity_mod
from runtime import policy
from runtime.channels import server_credentials
from runtime.config import TLS_SETTINGS, ConfigError, Settings
from runtime.errors import (
    CertfreeError,
    FieldViolation,
    InvalidArgument,
    NotImplementedYet,
    RateLimited,
    Unavailable,
    internal_error,
    to_grpc_status,
    to_status_proto,
)
from runtime.identity import IdentitySource
from runtime.logs import get_logger
from runtime.metrics import rpc_done, rpc_finished, rpc_started
from runtime.store import Store, StoreUnavailable
from runtime.tracing import server_interceptors

REQUEST_ID_HEADER = "x-request-id"
HTTP_HEADER_METADATA = {"x-http-cache-control": "cache-control"}
"""Trailing metadata a servicer may set that the gateway turns into HTTP response headers."""
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_log = get_logger("grpc")


@dataclass(frozen=True)
class Registration:
    """A servicer to mount on a server, by its full service name."""

    name: str
    """Full protobuf service name, e.g. ``certfree.ledger.v1.LedgerService``."""
    add: Callable[[grpc.aio.Server], None]
    """Adds the servicer to a server (the generated ``add_*Servicer_to_server``)."""
    on_start: Callable[[], Awaitable[None]] | None = None
    """Runs before the server takes calls (load state, start background tasks)."""
    on_stop: Callable[[], Awaitable[None]] | None = None
    """Runs after the server drained its calls."""


def server_options(settings: Settings) -> list[tuple[str, Any]]:
    """Channel arguments every certfree server uses, each chosen on purpose."""
    keepalive_ms = settings.keepalive_seconds * 1000
    return [
        # A second server on a used port must fail, not silently share it.
        ("grpc.so_reuseport", 0),
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.keepalive_time_ms", keepalive_ms),
        ("grpc.keepalive_timeout_ms", 10_000),
        # Clients may ping as often as our own keepalive; more often is abuse.
        ("grpc.http2.min_ping_interval_without_data_ms", keepalive_ms // 2),
        ("grpc.keepalive_permit_without_calls", 1),
        # Close old connections so clients rebalance across replicas (kube-proxy is L4).
        ("grpc.max_connection_age_ms", settings.max_connection_age_seconds * 1000),
        ("grpc.max_connection_age_grace_ms", int(settings.grace_seconds * 1000)),
    ]


def channel_options(settings: Settings) -> list[tuple[str, Any]]:
    """Channel arguments for clients of certfree services."""
    return [
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.keepalive_time_ms", settings.keepalive_seconds * 1000),
        ("grpc.lb_policy_name", "round_robin"),
    ]


def violations(request: Any) -> list[FieldViolation]:
    """The request's protovalidate violations, as field paths and messages."""
    found = []
    for violation in protovalidate.collect_violations(request):
        path = []
        for element in violation.proto.field.elements if violation.proto.field else ():
            step = element.field_name
            subscript = element.subscript
            if subscript is not None and subscript.value is not None:
                step += (
                    f"[{subscript.value!r}]"
                    if subscript.field.endswith("key")
                    else (f"[{subscript.value}]")
                )
            path.append(step)
        found.append(
            FieldViolation(
                field=".".join(path),
                description=violation.proto.message,
                reason=violation.proto.rule_id,
            )
        )
    return found


def valid_request_id(value: str | None) -> bool:
    """True when `value` may travel as a request id as given (else a new one is made)."""
    return value is not None and _REQUEST_ID.match(value) is not None


def _validate(request: Any) -> None:
    found = violations(request)
    if found:
        raise InvalidArgument(
            f"{len(found)} field(s) of the request are invalid", field_violations=found
        )


async def _validated(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for request in requests:
        _validate(request)
        yield request


def _request_id(metadata: Mapping[str, str]) -> str:
    given = metadata.get(REQUEST_ID_HEADER)
    return given if given is not None and valid_request_id(given) else uuid.uuid4().hex


def _as_certfree_error(exc: BaseException, method: str, request_id: str) -> CertfreeError:
    if isinstance(exc, CertfreeError):
        return exc
    if isinstance(exc, NotImplementedError):
        return NotImplementedYet(f"{method.lstrip('/')} is in the contract but not built yet")
    if isinstance(exc, StoreUnavailable | RedisError):
        return Unavailable("the store did not answer; retry with the same idempotency key")
    return internal_error(request_id)


class RetryLater(RateLimited):
    """RESOURCE_EXHAUSTED that tells the client when to try again (a RetryInfo detail)."""

    def __init__(self, message: str, *, retry_after_ms: int, metadata: Mapping[str, str]) -> None:
        super().__init__(message, metadata=metadata)
        self.retry_after_ms = retry_after_ms


def _status(error: CertfreeError) -> grpc.Status:
    if not isinstance(error, RetryLater):
        return to_grpc_status(error)
    proto = to_status_proto(error)
    delay = duration_pb2.Duration()
    delay.FromMilliseconds(error.retry_after_ms)
    proto.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=delay))
    status: grpc.Status = rpc_status.to_status(proto)
    return status


# One key per department and RPC: INCR, and the first call of a window sets its expiry
# (also repairs a key that somehow lost it). The window opens with the first call, so
# replicas need no agreed clock. Returns the count so far and the window's time left.
_RATE_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
"""


class RateLimiter:
    """Per-department fixed-window counts of expensive RPCs, in the store all replicas share.

    Counters need no fsync: losing one in a store crash only forgives a window.
    """

    def __init__(self, store: Store, limits: Mapping[str, int], window_seconds: int) -> None:
        """`limits`: calls per window by full method name (:func:`runtime.policy.rate_limits`)."""
        self._script = store.redis.register_script(_RATE_SCRIPT)
        self._limits = dict(limits)
        self._window_ms = window_seconds * 1000

    async def admit(self, method: str, department: str) -> None:
        """Count one call of `method` by `department`; RetryLater when over its limit."""
        limit = self._limits.get(method)
        if limit is None:
            return
        key = f"certfree:ratelimit:{method.lstrip('/')}:{department}"
        count, left_ms = await self._script(keys=[key], args=[self._window_ms])
        if int(count) > limit:
            name = method.rsplit("/", 1)[1]
            seconds = max(1, -(-int(left_ms) // 1000))
            raise RetryLater(
                f"the department made more than {limit} {name} calls in this window; "
                f"retry in {seconds} s",
                retry_after_ms=int(left_ms),
                metadata={"rpc": name, "limit": str(limit)},
            )


class RequestInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Request id, caller, authorisation, validation, error mapping and one log line."""

    def __init__(self, identity: IdentitySource, limiter: RateLimiter | None = None) -> None:
        self._identity = identity
        self._limiter = limiter

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or policy.is_public(details.method):
            return handler  # health and reflection: probes call them without a caller
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, details.method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._server_stream(handler.unary_stream, details.method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_stream is not None:
            return grpc.stream_stream_rpc_method_handler(
                self._bidi_stream(handler.stream_stream, details.method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler  # certfree has no client-streaming RPCs with a single response

    async def _begin(self, request: Any, context: grpc.aio.ServicerContext, method: str) -> None:
        """Bind the request's id and log context, authenticate and authorise the caller (role,
        then rate), validate the request.

        For a client stream `request` is None: each message is validated as it arrives.
        """
        metadata = {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
        request_id = _request_id(metadata)
        structlog.contextvars.bind_contextvars(request_id=request_id, rpc=method)
        await context.send_initial_metadata(((REQUEST_ID_HEADER, request_id),))
        caller = self._identity.authenticate(metadata, context.auth_context())
        identity_mod.bind_caller(caller)
        structlog.contextvars.bind_contextvars(
            caller=f"{caller.department_code}/{caller.role_name}"
        )
        # Before validation: a caller who may not call the RPC learns nothing about its rules.
        entry = policy.decide(method, caller.role)
        if entry is not None and self._limiter is not None:
            await self._limiter.admit(method, caller.department_code)
        if request is not None:
            _validate(request)

    @contextlib.asynccontextmanager
    async def _scope(self, context: grpc.aio.ServicerContext, method: str) -> AsyncIterator[None]:
        """Time the RPC, map whatever it raised, and log its one line before the client hears."""
        started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        rpc_started(method)

        def done(outcome: str, **fields: str) -> None:
            elapsed = time.perf_counter() - started
            rpc_done(method, outcome, elapsed)
            structlog.contextvars.bind_contextvars(outcome=outcome, **fields)
            _log.info("rpc", duration_ms=round(elapsed * 1000, 2))

        try:
            yield
        except grpc.aio.AbortError:
            done("ABORTED")
            raise
        except asyncio.CancelledError:
            done("CANCELLED")
            raise
        except Exception as exc:
            request_id = structlog.contextvars.get_contextvars().get("request_id")
            error = _as_certfree_error(exc, method, request_id or uuid.uuid4().hex)
            if error.code is grpc.StatusCode.INTERNAL:
                _log.error("rpc failed unexpectedly", exc_info=exc)
            done(error.code.name, reason=error.reason_name)
            status = _status(error)
            await context.abort(status.code, status.details, status.trailing_metadata)
        else:
            done("OK")
        finally:
            rpc_finished(method)

    def _unary(self, handler: Callable[..., Any], method: str) -> Callable[..., Awaitable[Any]]:
        async def run(request: Any, context: grpc.aio.ServicerContext) -> Any:
            async with self._scope(context, method):
                await self._begin(request, context, method)
                result = handler(request, context)
                if inspect.isawaitable(result):
                    result = await result
                return result

        return run

    def _server_stream(
        self, handler: Callable[..., Any], method: str
    ) -> Callable[..., AsyncIterator[Any]]:
        async def run(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            async with self._scope(context, method):
                await self._begin(request, context, method)
                async for item in handler(request, context):
                    yield item

        return run

    def _bidi_stream(
        self, handler: Callable[..., Any], method: str
    ) -> Callable[..., AsyncIterator[Any]]:
        async def run(
            requests: AsyncIterator[Any], context: grpc.aio.ServicerContext
        ) -> AsyncIterator[Any]:
            async with self._scope(context, method):
                await self._begin(None, context, method)
                async for item in handler(_validated(requests), context):
                    yield item

        return run


@dataclass
class RunningServer:
    """A started server, its bound port, and its health state."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    names: Sequence[str]
    registrations: Sequence[Registration] = ()
    _watcher: asyncio.Task[None] | None = field(default=None, repr=False)

    async def set_serving(self, serving: bool) -> None:
        """Report SERVING or NOT_SERVING for the server and each of its services."""
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", *self.names):
            await self.health.set(name, status)

    def watch_store(self, store: Store, interval: float = 2.0) -> None:
        """Keep health NOT_SERVING while the store does not answer."""

        async def watch() -> None:
            serving = True
            while True:
                await asyncio.sleep(interval)
                now = await store.ping()
                if now != serving:
                    _log.warning("store health changed", serving=now)
                    await self.set_serving(now)
                    serving = now

        self._watcher = asyncio.create_task(watch(), name="store-health")

    async def stop(self, grace: float) -> None:
        """Stop taking RPCs, let in-flight ones finish within `grace` seconds, then close."""
        if self._watcher is not None:
            self._watcher.cancel()
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        for registration in self.registrations:
            if registration.on_stop is not None:
                await registration.on_stop()


GC_THRESHOLDS = (50_000, 20, 20)
"""The collector's generation thresholds in a server process. CPython's default
(700, 10, 10) runs a young collection every 700 container allocations: a batch of a
thousand appends allocates that many objects per step and paid about a fifth of its CPU
to the collector (docs/performance.md). Reference cycles are rare on these paths; they are
still collected, in larger and fewer sweeps."""


def tune_collector() -> None:
    """Move what start-up allocated out of the collector's view and widen its thresholds."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def start_server(
    settings: Settings,
    address: str,
    registrations: Sequence[Registration],
    identity: IdentitySource,
    *,
    store: Store | None = None,
) -> RunningServer:
    """Start a server on `address` (port 0 picks a free one) with health and reflection.

    Every RPC goes through the authorisation policy (:mod:`runtime.policy`); with a
    `store`, expensive RPCs are also rate-limited per department (without one, not).
    Production refuses to mount a service the policy does not cover.

    With the ``CERTFREE_TLS_*`` settings the port takes mutual TLS only (a client
    certificate from the deployment CA is required; the files are re-read when they
    change); without them a plain port, which production refuses with ConfigError.
    """
    if not settings.tls_configured and settings.mode == "production":
        raise ConfigError(f"production mode serves gRPC over mutual TLS only: set {TLS_SETTINGS}")
    uncovered = [r.name for r in registrations if not policy.covers(r.name)]
    if uncovered and settings.mode == "production":
        raise ConfigError(f"no authorisation policy covers {', '.join(uncovered)}")
    limiter = None
    if store is not None:
        try:
            limits = policy.rate_limits(settings.rate_limit_overrides)
        except ValueError as error:
            raise ConfigError(f"CERTFREE_RATE_LIMITS: {error}") from None
        limiter = RateLimiter(store, limits, settings.rate_limit_window_seconds)
    server = grpc.aio.server(
        interceptors=[*server_interceptors(settings), RequestInterceptor(identity, limiter)],
        options=server_options(settings),
    )
    for registration in registrations:
        registration.add(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [r.name for r in registrations]
    reflection.enable_server_reflection(
        [
            *names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ],
        server,
    )
    if settings.tls_configured:
        port = server.add_secure_port(address, server_credentials(settings))
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"could not bind gRPC server to {address}")
    for registration in registrations:
        if registration.on_start is not None:
            await registration.on_start()
    await server.start()
    tune_collector()
    running = RunningServer(
        server=server,
        port=port,
        health=health_servicer,
        names=names,
        registrations=registrations,
    )
    await running.set_serving(True)
    return running


async def wait_for_shutdown_signal() -> signal.Signals:
    """Return when the process receives SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    received: asyncio.Future[signal.Signals] = loop.create_future()

    def on_signal(sig: signal.Signals) -> None:
        if not received.done():
            received.set_result(sig)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        return await received
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def contract_only(pb2: Any, pb2_grpc: Any) -> list[Registration]:
    """Mount the generated base servicers of a proto file: every RPC answers UNIMPLEMENTED.

    For services whose contract exists but whose code does not yet; the interceptor turns
    the base class's NotImplementedError into UNIMPLEMENTED naming the RPC.
    """

    def registration(name: str, full_name: str) -> Registration:
        servicer = getattr(pb2_grpc, f"{name}Servicer")()
        add = getattr(pb2_grpc, f"add_{name}Servicer_to_server")
        return Registration(name=full_name, add=lambda server: add(servicer, server))

    return [
        registration(service.name, service.full_name)
        for service in pb2.DESCRIPTOR.services_by_name.values()
    ]
