"""The tracked cache against a real store: kept values, invalidation, races, loss, refusal."""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from structlog.testing import capture_logs

from runtime.store import Store
from runtime.tracking import TrackedCache

PREFIX = "t:"
Make = Callable[..., TrackedCache[bytes]]


async def eventually(condition: Callable[[], bool], within_s: float = 5.0) -> None:
    """Wait until `condition()` holds, failing after `within_s` seconds."""
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        await asyncio.sleep(0.001)


async def read(cache: TrackedCache[bytes], redis: Redis, key: str) -> bytes | None:
    """The cache's value of `key`, else the store's (kept when nothing changed meanwhile)."""
    kept = cache.get(key, 0)
    if kept is not None:
        return kept
    ticket = cache.begin(key)
    value = await get(redis, key)
    if value is None:
        cache.abandon(ticket)
    else:
        cache.fill(ticket, 0, value)
    return value


async def get(redis: Redis, key: str) -> bytes | None:
    """GET, typed (the client is bytes in, bytes out)."""
    value: bytes | None = await redis.get(key)  # type: ignore[assignment]
    return value


async def command(redis: Redis, *args: str) -> Any:
    """Any command, typed loosely."""
    return await redis.execute_command(*args)  # type: ignore[no-untyped-call]


async def gets(redis: Redis) -> int:
    """How many GETs the server has run (INFO commandstats)."""
    stats: dict[str, Any] = await redis.info("commandstats")
    return int(stats.get("cmdstat_get", {}).get("calls", 0))


@pytest_asyncio.fixture
async def make(store: Store) -> AsyncIterator[Make]:
    """Build started caches on the store (tracking PREFIX unless told); stopped after."""
    made: list[TrackedCache[bytes]] = []

    async def build(redis: Redis | None = None, **options: Any) -> TrackedCache[bytes]:
        cache: TrackedCache[bytes] = TrackedCache(redis or store.redis, [PREFIX], **options)
        await cache.start()
        made.append(cache)
        return cache

    yield build  # type: ignore[misc]
    for cache in made:
        await cache.stop()


@pytest_asyncio.fixture
async def cache(make: Any) -> TrackedCache[bytes]:
    """A cache tracking PREFIX, established."""
    built: TrackedCache[bytes] = await make()
    assert await built.wait_enabled(5.0)
    return built


class TestKeptValues:
    """Once read, a value is served from memory until its key changes."""

    async def test_a_kept_value_is_served_without_a_store_read(
        self, cache: TrackedCache[bytes], store: Store
    ) -> None:
        """A hundred reads of one key cost the store one GET."""
        await store.redis.set("t:a", b"hello")
        before = await gets(store.redis)
        for _ in range(100):
            assert await read(cache, store.redis, "t:a") == b"hello"
        assert await gets(store.redis) - before == 1

    async def test_nothing_is_kept_while_tracking_is_not_established(self, store: Store) -> None:
        """Before start(), every read goes to the store and nothing is kept."""
        idle: TrackedCache[bytes] = TrackedCache(store.redis, [PREFIX])
        await store.redis.set("t:a", b"x")
        assert not idle.enabled
        assert await read(idle, store.redis, "t:a") == b"x"
        assert idle.get("t:a", 0) is None

    def test_an_empty_prefix_list_is_refused(self, store: Store) -> None:
        """No prefixes would track every key of the store: refused."""
        with pytest.raises(ValueError, match="prefix"):
            TrackedCache(store.redis, [])


class TestInvalidation:
    """A write anywhere drops the key; a flush drops everything; others are untouched."""

    async def test_another_clients_write_drops_the_key(
        self, cache: TrackedCache[bytes], store: Store
    ) -> None:
        """SET by another connection: the key is dropped once the message arrives."""
        await store.redis.set("t:a", b"old")
        await store.redis.set("t:b", b"kept")
        await read(cache, store.redis, "t:a")
        await read(cache, store.redis, "t:b")
        other = Redis.from_url(_url(store))
        try:
            await other.setrange("t:a", 0, b"new")
        finally:
            await other.aclose()
        await eventually(lambda: cache.get("t:a", 0) is None)
        assert cache.get("t:b", 0) == b"kept"
        assert await read(cache, store.redis, "t:a") == b"new"

    async def test_keys_outside_the_prefixes_send_nothing(
        self, cache: TrackedCache[bytes], store: Store
    ) -> None:
        """Writes to other keys bring no invalidation (broadcast is per prefix)."""
        await store.redis.set("u:a", b"x")
        await store.redis.set("t:sentinel", b"x")  # messages come in order: this one last
        await eventually(lambda: cache.invalidations >= 1)
        assert cache.invalidations == 1

    async def test_flushall_drops_everything(
        self, cache: TrackedCache[bytes], store: Store
    ) -> None:
        """FLUSHALL sends a null invalidation: every key goes, tracking stays."""
        for key in ("t:a", "t:b"):
            await store.redis.set(key, b"x")
            await read(cache, store.redis, key)
        await store.redis.flushall()
        await eventually(lambda: cache.get("t:a", 0) is None and cache.get("t:b", 0) is None)
        assert cache.enabled

    async def test_a_local_invalidation_is_immediate(
        self, cache: TrackedCache[bytes], store: Store
    ) -> None:
        """invalidate() drops the key before any message arrives."""
        await store.redis.set("t:a", b"x")
        await read(cache, store.redis, "t:a")
        cache.invalidate("t:a")
        assert cache.get("t:a", 0) is None


class TestRacingReads:
    """A read that raced a write never leaves the value from before the write."""

    @pytest.mark.parametrize(
        "meanwhile",
        [lambda redis: redis.set("t:a", b"new"), lambda redis: redis.flushall()],
        ids=["a write of the key", "a flush"],
    )
    async def test_an_invalidation_during_the_read_keeps_nothing(
        self,
        cache: TrackedCache[bytes],
        store: Store,
        meanwhile: Callable[[Redis], Awaitable[object]],
    ) -> None:
        """Read old, then a write (or a flush: a null invalidation) and its message, then
        fill: the old value is not kept."""
        await store.redis.set("t:a", b"old")
        ticket = cache.begin("t:a")
        old = await get(store.redis, "t:a")
        assert old is not None
        await meanwhile(store.redis)
        await eventually(lambda: not ticket.fresh)
        cache.fill(ticket, 0, old)
        assert cache.get("t:a", 0) is None

    async def test_concurrent_writes_and_reads_end_with_the_stores_values(
        self, cache: TrackedCache[bytes], store: Store
    ) -> None:
        """Writers and readers interleaved on few keys: after the last message, every kept
        value is the store's."""
        keys = [f"t:{n}" for n in range(4)]
        writer = Redis.from_url(_url(store))
        rng = random.Random(7)  # noqa: S311  # a fixed seed: a repeatable interleaving

        async def write(count: int) -> None:
            for n in range(count):
                await writer.set(rng.choice(keys), f"v{n}-{rng.random()}".encode())
                await asyncio.sleep(0)

        async def reads(count: int) -> None:
            for _ in range(count):
                await read(cache, store.redis, rng.choice(keys))

        try:
            for key in keys:
                await writer.set(key, b"start")
            await asyncio.gather(write(400), write(400), *(reads(300) for _ in range(6)))
            # One connection carries the messages in order: once the sentinel's arrives,
            # every earlier write's has too.
            await store.redis.set("t:sentinel", b"x")
            await read(cache, store.redis, "t:sentinel")
            await writer.set("t:sentinel", b"y")
            await eventually(lambda: cache.get("t:sentinel", 0) is None)
            for key in keys:
                kept = cache.get(key, 0)
                assert kept is None or kept == await get(store.redis, key), key
        finally:
            await writer.aclose()


class TestLostConnection:
    """Losing the tracking connection empties and bypasses the cache until it is back."""

    async def test_killed_connection_flushes_bypasses_and_comes_back(
        self, make: Any, store: Store
    ) -> None:
        """CLIENT KILL TYPE pubsub: off and empty at once, then tracked again by itself."""
        cache = await make(first_retry_s=0.2)
        assert await cache.wait_enabled(5.0)
        await store.redis.set("t:a", b"x")
        await read(cache, store.redis, "t:a")
        with capture_logs() as logs:
            await command(store.redis, "CLIENT", "KILL", "TYPE", "pubsub")
            await eventually(lambda: not cache.enabled)
            assert cache.get("t:a", 0) is None
            ticket = cache.begin("t:a")  # while off: never kept
            cache.fill(ticket, 0, b"x")
            assert cache.get("t:a", 0) is None
            assert await cache.wait_enabled(5.0)
        assert [e["event"] for e in logs if e["log_level"] == "warning"] == [
            "tracking connection lost; reads are not cached until it is back"
        ]
        assert await read(cache, store.redis, "t:a") == b"x"
        assert cache.get("t:a", 0) == b"x"
        await store.redis.set("t:a", b"y")  # and the new connection tracks the key
        await eventually(lambda: cache.get("t:a", 0) is None)

    async def test_stop_closes_the_tracking_connection(self, make: Any, store: Store) -> None:
        """After stop(), the cache is off and CLIENT LIST shows no tracking client."""
        cache = await make()
        assert await cache.wait_enabled(5.0)
        assert b"certfree-test-tracking" in await command(store.redis, "CLIENT", "LIST")
        await cache.stop()
        assert not cache.enabled
        deadline = time.monotonic() + 5.0  # the server sees the close a moment later
        while b"certfree-test-tracking" in await command(store.redis, "CLIENT", "LIST"):
            assert time.monotonic() < deadline, "the tracking connection is still open"
            await asyncio.sleep(0.01)


class TestRefused:
    """A store that refuses CLIENT TRACKING: one warning, and reads go to the store."""

    @pytest.mark.parametrize(
        ("rules", "named"),
        [(("&*", "-client|tracking"), "client|tracking"), (("resetchannels",), "channel")],
        ids=["no client tracking", "no channels"],
    )
    async def test_acl_without_tracking_runs_uncached(
        self, make: Any, store: Store, rules: tuple[str, ...], named: str
    ) -> None:
        """A user denied CLIENT TRACKING or the channel: one warning, never enabled."""
        user, password = f"no-tracking-{secrets.token_hex(4)}", secrets.token_hex(16)
        await command(store.redis, "ACL", "SETUSER", user, "on", f">{password}", "~*", "+@all")
        await command(store.redis, "ACL", "SETUSER", user, *rules)
        limited = Redis.from_url(_url(store), username=user, password=password)
        try:
            with capture_logs() as logs:
                cache = await make(limited, first_retry_s=0.01)
                assert not await cache.wait_enabled(1.0)
            warnings = [e for e in logs if e["log_level"] == "warning"]
            assert [e["event"] for e in warnings] == [
                "the store refuses client tracking; reads are not cached"
            ]
            assert named in warnings[0]["error"]
            await limited.set("t:a", b"x")
            assert await read(cache, limited, "t:a") == b"x"
            assert cache.get("t:a", 0) is None
        finally:
            await limited.aclose()
            await command(store.redis, "ACL", "DELUSER", user)


def _url(store: Store) -> str:
    """The URL the store's pool connects to (unix socket or TCP)."""
    kwargs = store.redis.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    return f"redis://{kwargs['host']}:{kwargs['port']}"
