"""Values of Redis keys kept in process, dropped when the server says a key changed.

Server-assisted client-side caching (Redis/Valkey ``CLIENT TRACKING``, broadcasting
mode): the server sends the name of every written key under the tracked prefixes, so a
copy is never older than the invalidation message still on its way (sub-millisecond
on loopback). Shortest use::

    cache: TrackedCache[bytes] = TrackedCache(store.redis, ["{app}:lists:"])
    await cache.start()
    value = cache.get(key, part)
    if value is None:
        ticket = cache.begin(key)           # before the read is sent
        value = await read_from_the_store(key, part)
        cache.fill(ticket, part, value)     # kept only if nothing changed meanwhile

A key's value may be kept in parts (ranges of a long string, say); the server names
keys, so a change drops every part of the key.

One dedicated connection does everything: ``CLIENT TRACKING ON REDIRECT <its own id>
BCAST PREFIX ...`` and then ``SUBSCRIBE __redis__:invalidate``. Tracking belongs to
the connection that turned it on and ends with it; redirecting to itself means one
socket carries both, so losing it loses both at once and the loss is seen. It speaks
RESP2 whatever the pool speaks: redis-py 8 defaults to RESP3 and hands push frames to
its own handlers, while on RESP2 redirected invalidations arrive as ordinary pub/sub
messages. redis-py's PubSub is not used: its health checks and reconnects would send
commands we do not see; here one task owns the connection, and it PINGs when the
connection has been quiet for ``ping_interval_s``.

The cache is off (every ``get`` misses, nothing is kept) until the subscription is
confirmed, and goes off again, dropping everything, when the connection is lost, a
PING is not answered, or the server sends a null invalidation (FLUSHALL, FLUSHDB);
a background task reconnects with capped exponential backoff. If the server refuses
the commands (an ACL without ``client|tracking``, a managed Redis without CLIENT),
it logs one warning and stays off for good: callers simply read the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Hashable, Sequence
from typing import Any, Generic, TypeVar

from redis import exceptions as redis_errors
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff

from runtime.logs import get_logger

CHANNEL = b"__redis__:invalidate"
"""Where the server publishes invalidations for RESP2 clients that redirect to it."""

MAX_PARTS = 65_536
"""Most parts kept at once; past it everything is dropped (a crude but safe bound)."""

V = TypeVar("V")
_log = get_logger("tracking")


class Ticket:
    """One read of a key from the store, begun before the read was sent.

    It stays fresh until the key is invalidated (or everything is): only a fresh
    ticket's value is kept, so a read that raced a write never leaves the old value.
    """

    __slots__ = ("fresh", "key")

    def __init__(self, key: str, *, fresh: bool) -> None:
        self.key = key
        self.fresh = fresh


class _Refused(Exception):
    """The server refused a tracking command; caching stays off."""


class TrackedCache(Generic[V]):
    """Parts of keys under `prefixes`, kept until the server invalidates the key."""

    def __init__(
        self,
        redis: Redis,
        prefixes: Sequence[str],
        *,
        ping_interval_s: float = 1.0,
        first_retry_s: float = 0.05,
        retry_cap_s: float = 5.0,
        max_parts: int = MAX_PARTS,
    ) -> None:
        if not prefixes:
            raise ValueError("track at least one prefix (an empty list would track every key)")
        self._redis = redis
        self._prefixes = list(prefixes)
        self._ping_interval_s = ping_interval_s
        self._first_retry_s = first_retry_s
        self._retry_cap_s = retry_cap_s
        self._max_parts = max_parts
        self._values: dict[str, dict[Hashable, V]] = {}
        self._parts = 0
        self._reading: dict[str, set[Ticket]] = {}
        self._enabled = False
        self._on = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.invalidations = 0
        """Invalidation messages received (a flush counts once); for tests and metrics."""

    # --- the cache -------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        """Whether tracking is established, so that values are kept and served."""
        return self._enabled

    def get(self, key: str, part: Hashable) -> V | None:
        """The kept value of `part` of `key`, or None (not kept, or the cache is off)."""
        parts = self._values.get(key)
        return None if parts is None else parts.get(part)

    def begin(self, key: str) -> Ticket:
        """Note a read of `key` about to be sent; pass the ticket to fill() or abandon()."""
        ticket = Ticket(key, fresh=self._enabled)
        if self._enabled:
            self._reading.setdefault(key, set()).add(ticket)
        return ticket

    def fill(self, ticket: Ticket, part: Hashable, value: V) -> None:
        """Keep what the ticket's read gave for `part`, unless the key changed meanwhile."""
        self.abandon(ticket)
        if not ticket.fresh:
            return
        ticket.fresh = False  # one value per read
        if self._parts >= self._max_parts:
            self._values.clear()
            self._parts = 0
        parts = self._values.setdefault(ticket.key, {})
        if part not in parts:
            self._parts += 1
        parts[part] = value

    def abandon(self, ticket: Ticket) -> None:
        """Forget a read that failed (fill() calls this itself)."""
        reading = self._reading.get(ticket.key)
        if reading is not None:
            reading.discard(ticket)
            if not reading:
                del self._reading[ticket.key]

    def invalidate(self, key: str) -> None:
        """Drop `key`: its kept parts and the reads of it in flight.

        The invalidation messages call this; so should a writer in this process as soon
        as its write returns, so that its own next read never sees the old value even
        before the server's message arrives.
        """
        parts = self._values.pop(key, None)
        if parts is not None:
            self._parts -= len(parts)
        for ticket in self._reading.pop(key, ()):
            ticket.fresh = False

    def clear(self) -> None:
        """Drop every key and make every read in flight stale."""
        self._values.clear()
        self._parts = 0
        for reading in self._reading.values():
            for ticket in reading:
                ticket.fresh = False
        self._reading.clear()

    # --- tracking --------------------------------------------------------------------

    async def start(self) -> None:
        """Start tracking in the background; the cache turns on once it is established."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="tracking invalidations")

    async def stop(self) -> None:
        """Stop tracking and close its connection; the cache is off and empty after."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._turn_off()

    async def wait_enabled(self, timeout_s: float) -> bool:
        """Whether tracking is established within `timeout_s` seconds."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._on.wait()
        return self._enabled

    def _turn_on(self) -> None:
        self.clear()  # reads begun before tracking was established may be stale
        self._enabled = True
        self._on.set()

    def _turn_off(self) -> None:
        self._enabled = False
        self._on.clear()
        self.clear()

    async def _run(self) -> None:
        backoff = ExponentialWithJitterBackoff(cap=self._retry_cap_s, base=self._first_retry_s)
        failures = 0
        lost_logged = False
        while True:
            connection = self._connection()
            try:
                await self._track(connection)
            except _Refused as error:
                _log.warning(
                    "the store refuses client tracking; reads are not cached",
                    error=str(error),
                    prefixes=self._prefixes,
                )
                return
            except (redis_errors.RedisError, OSError) as error:
                if self._enabled or not lost_logged:
                    _log.warning(
                        "tracking connection lost; reads are not cached until it is back",
                        error=str(error),
                    )
                    lost_logged = True
                if self._enabled:
                    failures = 0  # it was up: retry soon
            finally:
                self._turn_off()
                with contextlib.suppress(Exception):
                    await connection.disconnect()
            failures += 1
            await asyncio.sleep(backoff.compute(failures))

    def _connection(self) -> AbstractConnection:
        # The pool's own settings (address, TLS, credentials, database, client name),
        # but RESP2, no timeout on reads (we time them), and no retries of its own.
        pool = self._redis.connection_pool
        kwargs: dict[str, Any] = {
            k: v for k, v in pool.connection_kwargs.items() if not k.startswith("maint_")
        }
        name = kwargs.get("client_name")
        kwargs.update(
            protocol=2,
            socket_timeout=None,
            health_check_interval=0,
            retry=Retry(NoBackoff(), 0),
            client_name=f"{name}-tracking" if name else None,
        )
        connection: AbstractConnection = pool.connection_class(**kwargs)
        return connection

    async def _track(self, connection: AbstractConnection) -> None:
        """Establish tracking on `connection` and apply its messages until it fails."""
        await connection.connect()  # type: ignore[no-untyped-call]
        prefixes = [word for prefix in self._prefixes for word in ("PREFIX", prefix)]
        try:
            client_id = await self._call(connection, "CLIENT", "ID")
            await self._call(
                connection, "CLIENT", "TRACKING", "ON", "REDIRECT", client_id, "BCAST", *prefixes
            )
            # An ACL may allow tracking but not the channel (Redis 7 users get no channels
            # unless granted `&*`): refused just the same.
            subscribed = await self._call(connection, "SUBSCRIBE", CHANNEL)
        except redis_errors.ResponseError as error:
            raise _Refused(str(error)) from None
        if not (isinstance(subscribed, list) and subscribed[:2] == [b"subscribe", CHANNEL]):
            raise redis_errors.ConnectionError(f"unexpected reply to SUBSCRIBE: {subscribed!r}")
        self._turn_on()
        _log.info("tracking established", prefixes=self._prefixes)
        awaiting_pong = False
        while True:
            message = await connection.read_response(timeout=self._ping_interval_s)
            if message is None:  # quiet for a whole interval
                if awaiting_pong:
                    raise redis_errors.TimeoutError("the store did not answer PING")
                await connection.send_command("PING", check_health=False)
                awaiting_pong = True
            elif message[0] == b"message" and message[1] == CHANNEL:
                self.invalidations += 1
                if message[2] is None:  # FLUSHALL / FLUSHDB: every key is gone
                    self.clear()
                else:
                    for key in message[2]:
                        self.invalidate(key.decode("utf-8", "surrogateescape"))
            elif message[0] == b"pong":
                awaiting_pong = False

    async def _call(self, connection: AbstractConnection, *args: Any) -> Any:
        await connection.send_command(*args, check_health=False)
        async with asyncio.timeout(self._ping_interval_s * 5):
            # math.inf: no timeout of redis-py's own (None would mean socket_timeout).
            return await connection.read_response(timeout=math.inf)
