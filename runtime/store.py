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
    """One command in the wire protocol, packed in C by hiredis (for :meth:`Store.call_durably`)."""
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

    async def call_durably(
        self, packed: bytes, timeout_ms: int = DEFAULT_DURABLE_TIMEOUT_MS
    ) -> Any:
        """Run one command packed by :func:`pack` and return its reply once the
        store has it on disk: the command and a ``WAITAOF`` behind it travel together on
        one connection, in one round trip.

        For the hot writes whose commands have thousands of arguments (the ledger's
        commit): hiredis packs them in C, five times faster than redis-py does per call,
        and the caller can pack while another command is in flight. WAITAOF covers the
        writes of its own connection, which here is the command's, so no barrier is needed
        on any fsync policy.

        The command's error reply is raised as redis-py raises it (ResponseError;
        NoScriptError for an EVALSHA the server has not loaded), after the WAITAOF reply
        is read so the connection stays in step. A lost connection is retried like any
        command, so the command must be safe to run twice; then StoreUnavailable, as when
        durability is not confirmed within `timeout_ms`.
        """
        if timeout_ms <= 0:
            raise ValueError("timeout_ms must be positive")  # WAITAOF 0 blocks forever
        waitaof = pack("WAITAOF", 1, 0, timeout_ms)
        pool = self.redis.connection_pool

        async def attempt() -> tuple[Any, Any]:
            connection = await pool.get_connection()  # type: ignore[no-untyped-call]
            try:
                await connection.send_packed_command([packed, waitaof])
                try:
                    reply: Any = await connection.read_response()
                except redis_errors.ResponseError as error:
                    reply = error
                try:
                    durable: Any = await connection.read_response()
                except redis_errors.ResponseError as error:
                    durable = error
            except BaseException:
                await connection.disconnect()
                raise
            finally:
                await pool.release(connection)
            return reply, durable

        async def forget(error: Exception) -> None:
            return None  # attempt() already dropped the broken connection

        try:
            retry = self.redis.get_retry() or _retry()
            reply, durable = await retry.call_with_retry(attempt, forget)
        except _UNAVAILABLE as error:
            raise StoreUnavailable(f"the store did not answer: {error}") from error
        if isinstance(reply, redis_errors.ResponseError):
            raise reply
        if isinstance(durable, redis_errors.ResponseError):
            raise StoreUnavailable(f"the store cannot confirm durability: {durable}")
        _check_fsynced(durable, 1, timeout_ms)
        return reply

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
