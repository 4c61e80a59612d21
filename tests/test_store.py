"""The store layer against real valkey-server processes: start, durability, failure."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from redis.exceptions import ResponseError

from runtime.store import FSYNC_BARRIER_KEY, Store, StoreUnavailable, connect, pack
from runtime.valkey import EmbeddedValkey, EmbeddedValkeyError, parse_version
from tests.redis_server import RedisServer


@pytest.fixture
async def embedded(tmp_path: Path) -> AsyncIterator[EmbeddedValkey]:
    """A running embedded server on this test's own directory, stopped after."""
    server = EmbeddedValkey(tmp_path)
    await server.start()
    yield server
    await server.stop()


async def _connect(server: EmbeddedValkey) -> Store:
    return await connect(server.url, client_name="certfree-test")


def _kill_9(server: EmbeddedValkey) -> None:
    assert server.pid is not None
    os.kill(server.pid, signal.SIGKILL)


class TestEmbeddedValkey:
    """The embedded valkey-server: configuration, restarts and crash recovery."""

    async def test_starts_and_answers_ping_on_a_unix_socket(
        self, embedded: EmbeddedValkey, tmp_path: Path
    ) -> None:
        """start() returns a unix:// URL under the data dir on which PING answers."""
        assert embedded.store_dir == tmp_path / "store"
        assert embedded.url == f"unix://{tmp_path}/store/valkey.sock"
        store = await _connect(embedded)
        try:
            assert await store.ping()
        finally:
            await store.close()

    async def test_reports_valkeys_own_version_of_at_least_7_2(
        self, embedded: EmbeddedValkey
    ) -> None:
        """server_version() gives Valkey's version, not the 7.2.4 it reports for compatibility."""
        store = await _connect(embedded)
        try:
            version = await store.server_version()
        finally:
            await store.close()
        assert version >= (8, 0, 0), version

    async def test_runs_with_an_append_only_file_fsynced_before_every_reply(
        self, embedded: EmbeddedValkey
    ) -> None:
        """CONFIG GET shows appendonly, appendfsync always, no RDB, no TCP, our dir."""
        store = await _connect(embedded)
        try:
            config = await store.redis.config_get("*")
            assert store.fsync_always
        finally:
            await store.close()
        assert config["appendonly"] == "yes"
        assert config["appendfsync"] == "always"
        assert config["no-appendfsync-on-rewrite"] == "no"
        assert config["save"] == ""
        assert config["port"] == "0"
        assert config["dir"] == str(embedded.store_dir)
        assert config["maxmemory-policy"] == "noeviction"

    async def test_acknowledged_write_survives_kill_9(self, embedded: EmbeddedValkey) -> None:
        """A write confirmed by wait_durable is there after SIGKILL and a restart."""
        store = await _connect(embedded)
        try:
            await store.redis.set("k", b"acknowledged")
            await store.wait_durable()
        finally:
            await store.close()
        _kill_9(embedded)
        await embedded.stop()
        await embedded.start()
        store = await _connect(embedded)
        try:
            assert await store.redis.get("k") == b"acknowledged"
        finally:
            await store.close()

    async def test_clean_stop_and_start_keeps_data(self, embedded: EmbeddedValkey) -> None:
        """Data written before stop() is there after start() on the same directory."""
        store = await _connect(embedded)
        await store.redis.hset("h", mapping={"a": "1", "b": "2"})
        await store.close()
        await embedded.stop()
        assert not embedded.socket_path.exists(), "a clean stop removes the socket"
        await embedded.start()
        store = await _connect(embedded)
        try:
            assert await store.redis.hgetall("h") == {b"a": b"1", b"b": b"2"}
        finally:
            await store.close()

    async def test_stale_socket_and_pid_file_after_kill_9_do_not_block_restart(
        self, embedded: EmbeddedValkey
    ) -> None:
        """The socket and pid file a killed server leaves behind are cleared at start."""
        _kill_9(embedded)
        await embedded.stop()
        assert embedded.socket_path.exists() and embedded.pid_path.exists(), "left behind"
        await embedded.start()
        store = await _connect(embedded)
        try:
            assert await store.ping()
        finally:
            await store.close()

    async def test_refuses_a_second_server_on_the_same_directory(
        self, embedded: EmbeddedValkey, tmp_path: Path
    ) -> None:
        """Two servers would append to one AOF, so the second start() fails and names the pid."""
        with pytest.raises(EmbeddedValkeyError, match=str(embedded.pid)):
            await EmbeddedValkey(tmp_path).start()
        store = await _connect(embedded)
        try:
            assert await store.ping(), "the first server still serves its socket"
        finally:
            await store.close()

    async def test_failed_start_names_the_log_file(self, tmp_path: Path) -> None:
        """A server that cannot load its AOF fails start() with the log path in the message."""
        server = EmbeddedValkey(tmp_path)
        manifest = server.store_dir / "appendonlydir" / "appendonly.aof.manifest"
        manifest.parent.mkdir(parents=True)
        manifest.write_text("not a manifest\n")
        with pytest.raises(EmbeddedValkeyError, match=r"valkey\.log"):
            await server.start()
        assert server.pid is None

    async def test_long_data_dir_gets_a_short_socket_path(self, tmp_path: Path) -> None:
        """A socket path over 100 characters moves to a private directory under the temp dir."""
        deep = tmp_path / ("d" * 60) / ("e" * 60)
        async with EmbeddedValkey(deep) as server:
            assert len(str(server.socket_path)) < 100
            assert server.socket_path.parent.stat().st_mode & 0o777 == 0o700
            store = await _connect(server)
            try:
                assert await store.ping()
            finally:
                await store.close()
        assert (deep / "store" / "appendonlydir").is_dir(), "data stays under the data dir"

    def test_parse_version_ignores_suffixes(self) -> None:
        """Pre-release suffixes and short versions parse to three numbers."""
        assert parse_version("7.2.4-rc1") == (7, 2, 4)
        assert parse_version("8.1") == (8, 1, 0)


DurableWrite = Callable[[Store], Awaitable[object]]
DURABLE_WRITES: list[DurableWrite] = [
    lambda store: store.wait_durable(),
    lambda store: store.call_durably(pack("SET", "k", b"w")),
]
"""The two ways a service confirms a write is on disk: after it, or with it."""


class TestStore:
    """The client layer: readiness, durability confirmation and error mapping."""

    async def test_ping_returns_false_when_the_server_is_down(
        self, embedded: EmbeddedValkey
    ) -> None:
        """ping() answers False, without raising, once the server has stopped."""
        store = await _connect(embedded)
        try:
            await embedded.stop()
            started = time.monotonic()
            assert await store.ping() is False
            assert time.monotonic() - started < 2.0
        finally:
            await store.close()

    @pytest.mark.parametrize("confirm", DURABLE_WRITES, ids=["wait_durable", "call_durably"])
    async def test_durability_raises_store_unavailable_when_the_server_is_gone(
        self, embedded: EmbeddedValkey, confirm: DurableWrite
    ) -> None:
        """After a kill -9, StoreUnavailable, not a redis error."""
        store = await _connect(embedded)
        try:
            await store.redis.set("k", b"v")
            _kill_9(embedded)
            with pytest.raises(StoreUnavailable, match="did not answer"):
                await confirm(store)
        finally:
            await store.close()

    @pytest.mark.parametrize("confirm", DURABLE_WRITES, ids=["wait_durable", "call_durably"])
    async def test_durability_is_refused_when_the_server_keeps_no_append_only_file(
        self, embedded: EmbeddedValkey, confirm: DurableWrite
    ) -> None:
        """A server with appendonly off cannot confirm durability: StoreUnavailable."""
        store = await _connect(embedded)
        try:
            await store.redis.config_set("appendonly", "no")
            await store.redis.set("k", b"v")
            with pytest.raises(StoreUnavailable, match="cannot confirm durability"):
                await confirm(store)
        finally:
            await store.close()

    async def test_wait_durable_on_everysec_goes_through_the_barrier(
        self, embedded: EmbeddedValkey
    ) -> None:
        """On appendfsync everysec, wait_durable bumps the barrier and still confirms."""
        admin = await _connect(embedded)
        await admin.redis.config_set("appendfsync", "everysec")
        await admin.close()
        store = await _connect(embedded)
        try:
            assert not store.fsync_always
            await store.redis.set("k", b"v")
            await store.wait_durable()
            await store.wait_durable()
            assert await store.redis.get(FSYNC_BARRIER_KEY) == b"2"
        finally:
            await store.close()

    async def test_wait_durable_confirms_a_write(self, store: Store) -> None:
        """On the session's server, a write followed by wait_durable returns normally."""
        await store.redis.set("k", b"v")
        await store.wait_durable()

    async def test_call_durably_returns_the_reply_of_a_packed_command(self, store: Store) -> None:
        """A packed command runs, and its reply comes back once durable."""
        assert await store.call_durably(pack("SET", "k", b"v")) == b"OK"
        assert await store.call_durably(pack("INCRBY", "n", 5)) == 5
        assert await store.redis.get("k") == b"v"

    async def test_call_durably_raises_the_error_reply_and_stays_in_step(
        self, store: Store
    ) -> None:
        """An error reply is raised; the WAITAOF reply behind it is read, not left for the
        next command on that connection to mistake for its own."""
        await store.redis.set("k", b"text")
        with pytest.raises(ResponseError, match="not an integer"):
            await store.call_durably(pack("INCR", "k"))
        for _ in range(3):  # whichever pooled connection comes next
            assert await store.redis.get("k") == b"text"
            assert await store.call_durably(pack("GET", "k")) == b"text"

    async def test_wait_durable_rejects_a_timeout_that_would_block_forever(
        self, store: Store
    ) -> None:
        """WAITAOF's timeout 0 means forever, so wait_durable refuses it."""
        with pytest.raises(ValueError, match="timeout_ms"):
            await store.wait_durable(timeout_ms=0)

    async def test_connect_raises_store_unavailable_when_nothing_listens(
        self, tmp_path: Path
    ) -> None:
        """connect() to a missing socket fails quickly with StoreUnavailable."""
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await connect(f"unix://{tmp_path}/none.sock", client_name="certfree-test")
        assert time.monotonic() - started < 3.0

    async def test_connect_rejects_a_client_name_with_spaces(self, redis_url: str) -> None:
        """CLIENT SETNAME refuses spaces, so connect() says so before trying."""
        with pytest.raises(ValueError, match="client_name"):
            await connect(redis_url, client_name="certfree ledger")


class TestRedisServerFixture:
    """The test plugin: isolation between tests and restarts with data kept."""

    async def test_each_test_starts_from_an_empty_store(self, store: Store) -> None:
        """redis_url flushes the server, so no key from an earlier test remains."""
        assert await store.redis.dbsize() == 0

    async def test_hard_restart_keeps_acknowledged_data(
        self, redis_server: RedisServer, store: Store
    ) -> None:
        """restart(hard=True) kills the server with SIGKILL; durable data comes back."""
        if not redis_server.can_restart:
            pytest.skip(redis_server.why_no_restart)
        await store.redis.set("k", b"kept")
        await store.wait_durable()
        await redis_server.restart(hard=True)
        assert await store.redis.get("k") == b"kept"
