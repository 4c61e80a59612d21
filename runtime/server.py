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
import secrets
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import grpc
import protovalidate
import structlog
from google.protobuf import duration_pb2
from google.protobuf.message import Message
from google.protobuf.unknown_fields import UnknownFieldSet
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


class Collector(Protocol):
    """What validates a request: the ``protovalidate`` module itself, or a Validator."""

    def collect_violations(self, message: Any) -> list[protovalidate.Violation]:
        """Every violation of the message's rules."""
        ...


def violations(request: Any, collector: Collector = protovalidate) -> list[FieldViolation]:
    """The request's protovalidate violations, as field paths and messages."""
    found = []
    for violation in collector.collect_violations(request):
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


_RULES_OPTION = 1159
"""The field number of ``buf.validate.message``, ``.field`` and ``.oneof`` on the
descriptor options (buf/validate/validate.proto); protovalidate's rules live nowhere else."""


def has_rules(descriptor: Any) -> bool:
    """True when protovalidate has anything to check in a message of type `descriptor`
    (a message's ``DESCRIPTOR``).

    That is when the message, one of its fields or one of its oneofs carries
    ``buf.validate`` options, or any message type reachable through its fields does
    (singular, repeated, map values: a map field's entry type is a message whose
    ``value`` field leads on). A type without rules of its own whose field's type has
    some must still be validated.
    """
    seen: set[str] = set()
    pending = [descriptor]
    while pending:
        current = pending.pop()
        if current.full_name in seen:
            continue  # recursive types: each is looked at once
        seen.add(current.full_name)
        if _has_own_rules(current):
            return True
        pending.extend(f.message_type for f in current.fields if f.message_type is not None)
    return False


def _has_own_rules(descriptor: Any) -> bool:
    options: list[Message] = [descriptor.GetOptions()]
    options.extend(f.GetOptions() for f in descriptor.fields)
    options.extend(o.GetOptions() for o in descriptor.oneofs)
    return any(_carries_rules(option) for option in options)


def _carries_rules(options: Message) -> bool:
    # The rules are an extension the pool knows (validate_pb2 was imported before the
    # contract) or, were it not, an unknown field with the same number: either counts.
    if any(f.is_extension and f.number == _RULES_OPTION for f, _ in options.ListFields()):
        return True
    unknown = UnknownFieldSet(options)
    return any(unknown[i].field_number == _RULES_OPTION for i in range(len(unknown)))


class RequestValidator:
    """protovalidate for requests, skipping message types that have no rules anywhere.

    Whether a type has rules is decided once per type, by its full name: a server's
    descriptor pool does not change while it runs.
    """

    def __init__(self, collector: Collector = protovalidate) -> None:
        """`collector`: the shared ``protovalidate`` validator unless given another."""
        self._collector = collector
        self._has_rules: dict[str, bool] = {}

    def check(self, request: Any) -> None:
        """InvalidArgument listing every violated rule of `request`; nothing when it is valid."""
        descriptor = request.DESCRIPTOR
        checked = self._has_rules.get(descriptor.full_name)
        if checked is None:
            checked = self._has_rules[descriptor.full_name] = has_rules(descriptor)
        if not checked:
            return
        found = violations(request, self._collector)
        if found:
            raise InvalidArgument(
                f"{len(found)} field(s) of the request are invalid", field_violations=found
            )


def valid_request_id(value: str | None) -> bool:
    """True when `value` may travel as a request id as given (else a new one is made)."""
    return value is not None and _REQUEST_ID.match(value) is not None


def _request_id(metadata: Mapping[str, str]) -> str:
    given = metadata.get(REQUEST_ID_HEADER)
    # 128 random bits in hex, like uuid4().hex, at a fifth of its cost.
    return given if given is not None and valid_request_id(given) else secrets.token_hex(16)


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
    """Request id, caller, authorisation, validation, error mapping and one log line.

    Every call's trailing metadata carries its ``x-request-id`` (success or error);
    a streaming call's initial metadata carries it too, sent as the stream opens.
    Unary calls do not send initial metadata of their own: grpc.aio sends it with the
    response, and a separate send cost a batch and a write per call.
    """

    def __init__(
        self,
        identity: IdentitySource,
        limiter: RateLimiter | None = None,
        validator: RequestValidator | None = None,
    ) -> None:
        """`validator`: protovalidate through :class:`RequestValidator` unless given one."""
        self._identity = identity
        self._limiter = limiter
        self._validator = validator if validator is not None else RequestValidator()
        # Method -> (the handler grpc resolved, its wrapper). A servicer's handler is the
        # same object on every call, so it is wrapped once; a handler that differs (an
        # interceptor before this one wrapping per call) is wrapped anew. Only methods
        # with a handler get here, so the contract bounds the entries.
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None:
            return handler  # no such method: grpc answers UNIMPLEMENTED
        method: str = details.method
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = self._wrap(handler, method)
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _wrap(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        if policy.is_public(method):
            return handler  # health and reflection: probes call them without a caller
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._server_stream(handler.unary_stream, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_stream is not None:
            return grpc.stream_stream_rpc_method_handler(
                self._bidi_stream(handler.stream_stream, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler  # certfree has no client-streaming RPCs with a single response

    async def _begin(
        self,
        request: Any,
        context: grpc.aio.ServicerContext,
        method: str,
        metadata: Mapping[str, str],
    ) -> None:
        """Authenticate and authorise the caller (role, then rate), validate the request.

        For a client stream `request` is None: each message is validated as it arrives.
        """
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
            self._validator.check(request)

    async def _validated(self, requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for request in requests:
            self._validator.check(request)
            yield request

    @contextlib.asynccontextmanager
    async def _scope(
        self, context: grpc.aio.ServicerContext, method: str, *, stream: bool
    ) -> AsyncIterator[Mapping[str, str]]:
        """Name the call with its request id and bind its log context; time it, map
        whatever it raised, and log its one line before the client hears.

        Yields the call's invocation metadata (text values only).
        """
        started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        metadata = {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
        request_id = _request_id(metadata)
        structlog.contextvars.bind_contextvars(request_id=request_id, rpc=method)
        tagged = ((REQUEST_ID_HEADER, request_id),)
        # Set before the handler runs, so that a handler's own abort carries it too.
        context.set_trailing_metadata(tagged)
        rpc_started(method)
        try:
            if stream:
                await context.send_initial_metadata(tagged)
            yield metadata
        except grpc.aio.AbortError:
            _done(method, started, "ABORTED")
            raise
        except asyncio.CancelledError:
            _done(method, started, "CANCELLED")
            raise
        except Exception as exc:
            error = _as_certfree_error(exc, method, request_id)
            if error.code is grpc.StatusCode.INTERNAL:
                _log.error("rpc failed unexpectedly", exc_info=exc)
            _done(method, started, error.code.name, reason=error.reason_name)
            status = _status(error)
            await context.abort(status.code, status.details, (*status.trailing_metadata, *tagged))
        else:
            _keep_request_id(context, tagged[0])
            _done(method, started, "OK")
        finally:
            rpc_finished(method)

    def _unary(self, handler: Callable[..., Any], method: str) -> Callable[..., Awaitable[Any]]:
        async def run(request: Any, context: grpc.aio.ServicerContext) -> Any:
            async with self._scope(context, method, stream=False) as metadata:
                await self._begin(request, context, method, metadata)
                result = handler(request, context)
                if inspect.isawaitable(result):
                    result = await result
                return result

        return run

    def _server_stream(
        self, handler: Callable[..., Any], method: str
    ) -> Callable[..., AsyncIterator[Any]]:
        async def run(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            async with self._scope(context, method, stream=True) as metadata:
                await self._begin(request, context, method, metadata)
                async for item in handler(request, context):
                    yield item

        return run

    def _bidi_stream(
        self, handler: Callable[..., Any], method: str
    ) -> Callable[..., AsyncIterator[Any]]:
        async def run(
            requests: AsyncIterator[Any], context: grpc.aio.ServicerContext
        ) -> AsyncIterator[Any]:
            async with self._scope(context, method, stream=True) as metadata:
                await self._begin(None, context, method, metadata)
                async for item in handler(self._validated(requests), context):
                    yield item

        return run


def _keep_request_id(context: grpc.aio.ServicerContext, tag: tuple[str, str]) -> None:
    """Put the request id back in the trailing metadata if the handler replaced it (the
    gateway's cache-control header, say)."""
    trailing = tuple(context.trailing_metadata() or ())
    if tag not in trailing:
        context.set_trailing_metadata((*trailing, tag))


def _done(method: str, started: float, outcome: str, reason: str | None = None) -> None:
    """Count and time the call and log its one line (outcome, error reason, duration)."""
    elapsed = time.perf_counter() - started
    rpc_done(method, outcome, elapsed)
    # Passed to the line rather than bound: a filtered-out line then costs nothing.
    if reason is None:
        _log.info("rpc", outcome=outcome, duration_ms=round(elapsed * 1000, 2))
    else:
        _log.info("rpc", outcome=outcome, reason=reason, duration_ms=round(elapsed * 1000, 2))


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
