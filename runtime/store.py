"""The one Redis-protocol client layer every service uses.

``connect()`` returns a :class:`Store` whose ``.redis`` is a redis-py asyncio client
(hiredis parser, bytes in and out). Services keep their own key names in their own
store modules; this module knows none except the fsync barrier below.

Acknowledged means durable: after the EXEC (or script) that changes state, a service
calls :meth:`Store.wait_durable` before it answers its caller. WAITAOF does not
block inside MULTI or a script, so it must come after EXEC, never inside it.

Errors: the methods here raise :class:`StoreUnavailable` when the server does not
answer (connection refused or lost, timeouts, still loading) or cannot confirm
durability. Commands issued directly on ``.redis`` raise redis-py's own errors,
which the gRPC layer maps to UNAVAILABLE as well.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from typing import Any

import hiredis
from redis import exceptions as redis_errors
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from runtime.valkey import MIN_VERSION, parse_version

DEFAULT_DURABLE_TIMEOUT_MS = 2000
"""How long wait_durable lets WAITAOF wait: a server on ``appendfsync everysec``
fsyncs about once a second, so two seconds covers one late fsync."""

SOCKET_TIMEOUT_S = 5.0
"""Per-command read timeout; must exceed any WAITAOF timeout we send."""

CONNECT_TIMEOUT_S = 2.0
MAX_CONNECTIONS = 128
"""Connections per process; redis-py's own default is 100, refusing the 101st caller."""
POOL_TIMEOUT_S = 5.0
"""How long a command waits for a free pooled connection before StoreUnavailable."""
HEALTH_CHECK_INTERVAL_S = 30
"""redis-py PINGs a pooled connection idle this long before reusing it."""

FSYNC_BARRIER_KEY = "certfree:store:fsync-barrier"
"""A counter wait_durable increments on servers not on ``appendfsync always``; see there."""

# Connection-level failures: the server is down, unreachable, or not ready.
_UNAVAILABLE = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)


class StoreUnavailable(Exception):
    """The store did not answer or could not confirm durability; the call may be retried."""


def _retry() -> Retry:
    # Three retries with jittered backoff capped at half a second: rides out a
    # restart or a dropped connection without holding a request for long.
    # redis-py re-sends the command, so a write may run twice; service writes are
    # idempotent (idempotency keys in their scripts) for exactly this reason.
    return Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=3)


async def connect(url: str, *, client_name: str) -> Store:
    """Connect to the server at `url`, check it is Redis/Valkey >= 7.2, return the Store.

    `client_name` shows in CLIENT LIST (``certfree-ledger``, say); no spaces.
    Raises StoreUnavailable when the server does not answer or is too old.
    """
    if not client_name or any(ch.isspace() for ch in client_name):
        raise ValueError(f"client_name must be a non-empty word, got {client_name!r}")
    # A blocking pool: a burst of callers waits for a free connection (up to
    # POOL_TIMEOUT_S) instead of failing at once with MaxConnectionsError, which under
    # load also starved the ledger's lease renewals sharing the pool.
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=POOL_TIMEOUT_S,
        decode_responses=False,
        client_name=client_name,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        health_check_interval=HEALTH_CHECK_INTERVAL_S,
        retry=_retry(),
    )
    redis = Redis.from_pool(pool)  # closing the client closes its pool
    store = Store(redis)
    try:
        version = await store.server_version()
        if version < MIN_VERSION:
            raise StoreUnavailable(
                f"the store runs version {'.'.join(map(str, version))}; certfree needs"
                " Redis or Valkey >= 7.2 (WAITAOF)"
            )
        store.fsync_always = await _fsync_always(redis)
    except BaseException:
        await redis.aclose()
        raise
    return store


async def _fsync_always(redis: Redis) -> bool:
    """Whether the server says it runs ``appendfsync always``; False when it won't say."""
    try:
        reply = await redis.config_get("appendfsync")
    except redis_errors.ResponseError:
        return False  # CONFIG is often disabled on managed servers: assume the weaker policy
    except _UNAVAILABLE as error:
        raise StoreUnavailable(f"the store did not answer: {error}") from error
    # redis-py decodes CONFIG GET replies to str even with decode_responses=False.
    values: dict[Any, Any] = dict(reply)
    value = values.get("appendfsync", values.get(b"appendfsync", b""))
    return (value.decode() if isinstance(value, bytes) else str(value)) == "always"


# KEYS: the hash. ARGV: field, expected revision (0: any), record bytes. Returns the new
# revision, or an error when the expected one does not match.
_UPSERT = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
local revision = 0
if current then
  revision = tonumber(redis.call('HGET', KEYS[1], ARGV[1] .. ':revision') or '0')
end
if tonumber(ARGV[2]) ~= 0 and tonumber(ARGV[2]) ~= revision then
  return redis.error_reply('REVISION the stored revision is ' .. revision)
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3], ARGV[1] .. ':revision', revision + 1)
return revision + 1
"""


def _check_fsynced(waitaof: Any, numlocal: int, timeout_ms: int) -> None:
    """StoreUnavailable unless a WAITAOF reply counts `numlocal` fsynced local files."""
    local, _replicas = waitaof
    if local < numlocal:
        raise StoreUnavailable(
            f"the store did not confirm the write reached its append-only file within"
            f" {timeout_ms} ms (fsynced on {local} of {numlocal} local files)"
        )


def pack(*args: bytes | str | int) -> bytes:
    """One command in the wire protocol, packed in C by hiredis (for :class:`DurableWriter`)."""
    # hiredis's stub types the tuple as one element long; any length is meant.
    packed: bytes = hiredis.pack_command(args)  # type: ignore[arg-type]
    return packed


class RevisionMismatch(Exception):
    """An upsert's expected revision is not the stored one; nothing was written."""


class Store:
    """A connected client: ``.redis`` for commands, plus readiness and durability checks."""

    def __init__(self, redis: Redis, *, fsync_always: bool = False) -> None:
        self.redis = redis
        self.fsync_always = fsync_always
        """True when the server fsyncs before every reply, so no barrier is needed."""
        self._upsert = redis.register_script(_UPSERT)

    async def upsert_revisioned(
        self, key: str, field: str, expected_revision: int, record: bytes
    ) -> int:
        """Store `record` at `field` of the hash `key`, beside its revision; the new
        revision (1 when created), durable on return.

        `expected_revision` 0 writes unconditionally; otherwise it must be the stored
        revision, else RevisionMismatch and nothing is written. Catalogue entries of the
        licenses and proofs services are kept this way.
        """
        try:
            revision = await self._upsert(keys=[key], args=[field, expected_revision, record])
        except redis_errors.ResponseError as error:
            if str(error).startswith("REVISION"):
                raise RevisionMismatch(str(error).removeprefix("REVISION ")) from None
            raise
        await self.wait_durable()
        return int(revision)

    async def ping(self, within_s: float = 1.0) -> bool:
        """Whether the server answers PING within `within_s` seconds; never raises."""
        try:
            async with asyncio.timeout(within_s):
                return bool(await self.redis.ping())
        except Exception:
            # Readiness probes call this in a loop; any failure simply means "not ready".
            return False

    async def wait_durable(
        self, numlocal: int = 1, timeout_ms: int = DEFAULT_DURABLE_TIMEOUT_MS
    ) -> None:
        """Return once this client's earlier writes are fsynced to the AOF; else StoreUnavailable.

        Sends ``WAITAOF numlocal 0 timeout_ms``. With ``appendfsync always`` (the
        embedded server) every reply already follows its fsync, so it answers at
        once; on ``everysec`` it waits for the next fsync, about a second at most.
        WAITAOF cannot wait inside MULTI or a script: call this after EXEC.

        WAITAOF covers the writes of the connection it runs on, and the pool may
        hand this call another connection than the caller's write used. Unless the
        server is on ``appendfsync always``, an INCR of FSYNC_BARRIER_KEY goes first
        on the same connection: the AOF is fsynced in order, so once the barrier
        is on disk, every write acknowledged before this call is too.
        """
        if timeout_ms <= 0:
            # WAITAOF with timeout 0 blocks forever.
            raise ValueError("timeout_ms must be positive")
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                if not self.fsync_always:
                    pipe.incr(FSYNC_BARRIER_KEY)
                pipe.execute_command("WAITAOF", numlocal, 0, timeout_ms)
                replies = await pipe.execute()
        except redis_errors.ResponseError as error:
            # For instance "appendonly is disabled": the server cannot promise durability.
            raise StoreUnavailable(f"the store cannot confirm durability: {error}") from error
        except _UNAVAILABLE as error:
            raise StoreUnavailable(f"the store did not answer WAITAOF: {error}") from error
        _check_fsynced(replies[-1], numlocal, timeout_ms)

    def durable_writer(self, timeout_ms: int = DEFAULT_DURABLE_TIMEOUT_MS) -> DurableWriter:
        """A :class:`DurableWriter` on a connection of its own from this store's pool."""
        return DurableWriter(self.redis, timeout_ms)

    async def server_version(self) -> tuple[int, int, int]:
        """The server's own version: ``valkey_version`` on Valkey, else ``redis_version``.

        Valkey also reports ``redis_version:7.2.4`` for client compatibility; that
        number says which Redis it mimics, not what it is.
        """
        try:
            info = await self.redis.info("server")
        except _UNAVAILABLE as error:
            raise StoreUnavailable(f"the store did not answer: {error}") from error
        return parse_version(str(info.get("valkey_version") or info.get("redis_version", "0")))

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.redis.aclose()


class DurableWriter:
    """Commands run in the order they are sent, each answered once it is on disk.

    For a chain of writes where each depends on the one before (the ledger's commits):
    the next one goes out while the one before is still running or being fsynced, so the
    server never waits for the client between them, and the store's own guards refuse a
    command whose predecessor failed. Every command travels with a ``WAITAOF`` behind it
    on one connection held for this writer alone (sends in call order, replies read in
    the same order by one task); WAITAOF covers the writes of its own connection, so no
    barrier is needed on any fsync policy.

    Commands come packed by :func:`pack` (hiredis packs thousands of arguments in C,
    five times faster than redis-py does per call, and the caller can pack while
    another command is in flight). Nothing is retried: when the connection fails, every
    command sent and not yet answered fails with StoreUnavailable (each may or may not
    have run, so commands must be safe to send again), and the next send takes a new
    connection.
    """

    def __init__(self, redis: Redis, timeout_ms: int = DEFAULT_DURABLE_TIMEOUT_MS) -> None:
        if timeout_ms <= 0:
            raise ValueError("timeout_ms must be positive")  # WAITAOF 0 blocks forever
        self._pool = redis.connection_pool
        self._timeout_ms = timeout_ms
        self._waitaof = pack("WAITAOF", 1, 0, timeout_ms)
        self._sending = asyncio.Lock()
        self._connection: Any = None
        self._replies: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._reader: asyncio.Task[None] | None = None
        self._reading: Any = None
        """The connection whose replies the reader task reads."""
        self._releases: set[asyncio.Future[None]] = set()

    async def send(self, packed: bytes) -> asyncio.Future[Any]:
        """Put `packed` on the wire behind every command sent before it; returns once sent.

        The future resolves to the command's reply once the store has it on disk, or
        raises its error reply as redis-py would (ResponseError), or StoreUnavailable
        when the connection fails or durability is not confirmed in time.
        """
        async with self._sending:
            try:
                if self._connection is None:
                    self._connection = await self._pool.get_connection()  # type: ignore[no-untyped-call]
                connection = self._connection
                # A health check (a PING read back at once) only when no reply is due.
                await connection.send_packed_command(
                    [packed, self._waitaof], check_health=not self._replies
                )
            except BaseException as error:
                # A half-sent command (cancelled, or the connection failed) leaves the
                # connection out of step: drop it, and with it what was waiting on it.
                self._drop(self._connection, error)
                if isinstance(error, _UNAVAILABLE):
                    raise StoreUnavailable(f"the store did not answer: {error}") from error
                raise
            reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._replies.append(reply)
            if self._reader is None or self._reader.done() or self._reading is not connection:
                # (A reader of a dropped connection may still be finding out it is gone.)
                self._reading = connection
                self._reader = asyncio.create_task(self._read(connection), name="durable writer")
            return reply

    async def call(self, packed: bytes) -> Any:
        """Send `packed` and return its reply once durable (see :meth:`send`)."""
        return await (await self.send(packed))

    async def close(self) -> None:
        """Fail what is still unanswered and give the connection back."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._drop(self._connection, ConnectionAbortedError("the writer was closed"))

    async def _read(self, connection: Any) -> None:
        # Replies come in the order the commands went out: the oldest future is theirs.
        while self._replies and self._connection is connection:
            try:
                reply = await _response(connection)
                durable = await _response(connection)
            except asyncio.CancelledError as error:
                self._drop(connection, error)
                raise
            except Exception as error:
                self._drop(connection, error)  # each waiting caller gets it
                return
            future = self._replies.popleft()
            if future.done():
                continue  # its caller gave up; the reply was still read, to stay in step
            try:
                future.set_result(_durable_reply(reply, durable, self._timeout_ms))
            except (redis_errors.ResponseError, StoreUnavailable) as error:
                future.set_exception(error)

    def _drop(self, connection: Any, error: BaseException) -> None:
        """Fail every unanswered command of `connection` (if it is still the writer's) and
        let the pool reconnect it for whoever takes it next."""
        if connection is None or connection is not self._connection:
            return
        self._connection = None
        replies, self._replies = self._replies, collections.deque()
        for future in replies:
            if not future.done():
                future.set_exception(StoreUnavailable(f"the store did not answer: {error!r}"))
        task = asyncio.ensure_future(self._release(connection))
        self._releases.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._releases.discard)

    async def _release(self, connection: Any) -> None:
        with contextlib.suppress(Exception):
            await connection.disconnect()
        await self._pool.release(connection)


def _durable_reply(reply: Any, durable: Any, timeout_ms: int) -> Any:
    """`reply`, once its WAITAOF reply `durable` confirms it is on disk; else the error."""
    if isinstance(durable, redis_errors.ResponseError):
        raise StoreUnavailable(f"the store cannot confirm durability: {durable}")
    _check_fsynced(durable, 1, timeout_ms)
    if isinstance(reply, redis_errors.ResponseError):
        raise reply
    return reply


async def _response(connection: Any) -> Any:
    """The next reply on `connection`, an error reply returned rather than raised."""
    try:
        return await connection.read_response()
    except redis_errors.ResponseError as error:
        return error
