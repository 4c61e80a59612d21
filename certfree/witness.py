"""``certfree witness``: a minimal C2SP tlog-witness serving ``POST /add-checkpoint``.

    certfree witness --log ORIGIN=VKEY [--log ...] [--logs-file FILE] [--name NAME]
                     [--key-file FILE] [--data-dir DIR] [--host HOST] [--port PORT]

The rules live in :mod:`runtime.tlog.witness`; this module is the I/O around them:
the witness's cosigning key (created on first start in development, like the log's),
the state file that remembers, per log, the latest checkpoint cosigned, and a small
Starlette app under uvicorn. A cosignature is answered only after the new state is
on disk (temporary file, fsync, rename, fsync of the directory), and requests for one
log are serialised from reading the state to persisting it, so two racing requests
can never roll the witness back (the race the spec describes).

Shortest use in a test::

    running = await start_witness(WitnessConfig(...), mode="development")
    ...  # POST http://127.0.0.1:{running.port}/add-checkpoint
    await running.stop()
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from runtime.config import ConfigError, Settings
from runtime.logs import get_logger
from runtime.server import wait_for_shutdown_signal
from runtime.tlog.checkpoint import CosignatureSigner, CosignatureVerifier
from runtime.tlog.note import NoteError, Verifier, decode_base64, encode_base64
from runtime.tlog.witness import (
    SIZE_CONTENT_TYPE,
    WitnessError,
    WitnessState,
    add_checkpoint,
    format_known_size,
    parse_add_checkpoint,
)

__all__ = [
    "DEFAULT_NAME",
    "DEFAULT_PORT",
    "RunningWitness",
    "StateFile",
    "Witness",
    "WitnessConfig",
    "add_witness_command",
    "load_cosigner",
    "parse_log",
    "serve",
    "start_witness",
]

DEFAULT_NAME = "certfree.localhost/witness"
"""The key name a witness gets in development when neither --name nor a key file says."""
DEFAULT_PORT = 8090
"""The HTTP port ``certfree witness`` listens on unless --port says otherwise."""
MAX_BODY_BYTES = 64 * 1024
"""Largest add-checkpoint body read: 63 proof lines and a note with 100 signatures fit."""
STATE_VERSION = 1

_log = get_logger("witness")


@dataclass(frozen=True)
class WitnessConfig:
    """How one witness runs, read once from flags."""

    key_file: Path
    """The cosigning key (``PRIVATE+KEY+<name>+<id>+<base64(0x04 || seed)>``), mode 0600."""
    state_file: Path
    """JSON: per log origin, the size and root of the latest checkpoint cosigned."""
    logs: Mapping[str, Verifier]
    """The logs witnessed: origin → the log's signed-note verifier key."""
    name: str | None = None
    """The witness's key name; None: the key file's, or DEFAULT_NAME for a new key."""
    host: str = "127.0.0.1"
    """Address to bind."""
    port: int = DEFAULT_PORT
    """TCP port to bind; 0 picks a free one."""


# --- the key -----------------------------------------------------------------------


def load_cosigner(path: Path, name: str | None, mode: str) -> CosignatureSigner:
    """The witness's cosignature/v1 signer, read from `path`.

    In development a missing file is created (mode 0600) for `name` (default
    :data:`DEFAULT_NAME`); in production a missing file is a ConfigError. A key for
    another name than an explicit `name` is a ConfigError.
    """
    if not path.exists():
        if mode == "production":
            raise ConfigError(f"--key-file: {path} does not exist")
        try:
            signer = CosignatureSigner.generate(name or DEFAULT_NAME)
        except NoteError as error:
            raise ConfigError(f"--name: {error}") from None
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(signer.key_string() + "\n")
            file.flush()
            os.fsync(file.fileno())
        _log.warning(
            "created a new witness key", path=str(path), verifier=signer.verifier().key_string()
        )
        return signer
    try:
        signer = CosignatureSigner.from_key_string(path.read_text().strip())
    except (OSError, NoteError) as error:
        raise ConfigError(f"--key-file: {path}: {error}") from None
    if name is not None and signer.name != name:
        raise ConfigError(f"--key-file: the key in {path} is for {signer.name!r}, not {name!r}")
    return signer


def parse_log(text: str) -> tuple[str, Verifier]:
    """Parse ``ORIGIN=VKEY`` (split at the first '='), a log to witness; ConfigError if bad."""
    origin, equals, key = text.partition("=")
    if not equals or not origin or not key:
        raise ConfigError(f"--log {text[:80]!r}: expected ORIGIN=VKEY")
    try:
        return origin, Verifier.from_key_string(key.strip())
    except NoteError as error:
        raise ConfigError(f"--log {origin}: {error}") from None


# --- the state file ----------------------------------------------------------------


class StateFile:
    """The witness's durable record: the latest checkpoint cosigned, per log origin.

    ``{"version": 1, "logs": {"<origin>": {"size": 600, "root_hash": "<base64>"}}}``,
    replaced whole on each change (temporary file, fsync, rename, fsync the
    directory), so a crash leaves the old or the new file, never a mix. An exclusive
    lock on ``<state file>.lock`` keeps a second witness process off the same file.
    """

    def __init__(self, path: Path, states: dict[str, WitnessState], lock_fd: int) -> None:
        self.path = path
        self.states = states
        """What is on disk, by origin."""
        self._lock_fd = lock_fd
        self._write_lock = asyncio.Lock()

    @classmethod
    def open(cls, path: Path) -> StateFile:
        """Lock and read the state file (missing: nothing cosigned yet); ConfigError if bad."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock_fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise ConfigError(f"another witness is using the state file {path}") from None
        try:
            states = _read_states(path)
        except ConfigError:
            os.close(lock_fd)
            raise
        return cls(path, states, lock_fd)

    async def save(self, state: WitnessState) -> None:
        """Persist `state` for its origin; returns once the file and its rename are on disk."""
        async with self._write_lock:
            states = {**self.states, state.origin: state}
            await asyncio.to_thread(_write_durably, self.path, _encode_states(states))
            self.states = states

    def close(self) -> None:
        """Release the file lock."""
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1


def _encode_states(states: Mapping[str, WitnessState]) -> bytes:
    logs = {
        origin: {"size": s.size, "root_hash": encode_base64(s.root_hash)}
        for origin, s in sorted(states.items())
    }
    return (json.dumps({"version": STATE_VERSION, "logs": logs}, indent=2) + "\n").encode()


def _read_states(path: Path) -> dict[str, WitnessState]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(f"witness state file {path}: {error}") from None
    try:
        document = json.loads(raw)
        if document.get("version") != STATE_VERSION:
            raise ValueError(f"version {document.get('version')!r}, expected {STATE_VERSION}")
        states: dict[str, WitnessState] = {}
        for origin, entry in document["logs"].items():
            root = decode_base64(entry["root_hash"])
            if root is None or not isinstance(entry["size"], int):
                raise ValueError(f"log {origin!r}: bad size or root_hash")
            states[origin] = WitnessState(origin, entry["size"], root)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ConfigError(f"witness state file {path} is damaged: {error}") from None
    return states


def _write_durably(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


# --- the witness -------------------------------------------------------------------


class Witness:
    """Answers add-checkpoint requests for the configured logs, one log at a time."""

    def __init__(
        self, cosigner: CosignatureSigner, logs: Mapping[str, Verifier], state: StateFile
    ) -> None:
        self.cosigner = cosigner
        self.logs = dict(logs)
        self.state = state
        self._locks = {origin: asyncio.Lock() for origin in self.logs}

    async def add_checkpoint(self, body: bytes) -> Response:
        """Check the request, persist the new state, and answer with the cosignature."""
        try:
            request = parse_add_checkpoint(body)
        except WitnessError as refused:
            return self._refusal(refused, body, misbehaviour=False)
        origin = request.checkpoint.origin
        log_verifier = self.logs.get(origin)
        if log_verifier is None:
            unknown = WitnessError(404, f"unknown log origin {origin[:200]!r}")
            return self._refusal(unknown, body, misbehaviour=False)
        try:
            async with self._locks[origin]:  # check and persist atomically, per log
                known = self.state.states.get(origin)
                state, line = add_checkpoint(
                    known, body, log_verifier, self.cosigner, int(time.time()), origin=origin
                )
                if state != known:
                    await self.state.save(state)
        except WitnessError as refused:
            # A proof that fails, or a second tree of a size already cosigned, may be
            # evidence that the log misbehaves; a stale `old` is routine.
            conflict = refused.status == 409 and refused.known_size == request.old_size
            return self._refusal(refused, body, misbehaviour=refused.status == 422 or conflict)
        except OSError as error:
            _log.error("could not persist the witness state", origin=origin, error=str(error))
            return PlainTextResponse("the witness could not persist its state\n", 500)
        _log.info("cosigned", origin=origin, old=request.old_size, size=state.size)
        return PlainTextResponse(line, 200)

    def _refusal(self, refused: WitnessError, body: bytes, *, misbehaviour: bool) -> Response:
        if misbehaviour:  # keep the request as evidence (the spec's MAY)
            _log.warning(
                "refused a checkpoint that may show log misbehaviour",
                status=refused.status,
                reason=refused.reason,
                request=body.decode("utf-8", "replace"),
            )
        else:
            _log.info("refused", status=refused.status, reason=refused.reason)
        if refused.status == 409 and refused.known_size is not None:
            # Exactly this media type, which Starlette would extend with a charset.
            return Response(
                format_known_size(refused.known_size),
                409,
                headers={"content-type": SIZE_CONTENT_TYPE},
            )
        return PlainTextResponse(refused.reason + "\n", refused.status)


def build_app(witness: Witness) -> Starlette:
    """The Starlette app: ``POST /add-checkpoint`` and nothing else."""

    async def add(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return PlainTextResponse(f"body is over {MAX_BODY_BYTES} bytes\n", 413)
        return await witness.add_checkpoint(bytes(body))

    return Starlette(routes=[Route("/add-checkpoint", add, methods=["POST"])])


# --- serving -----------------------------------------------------------------------


@dataclass
class RunningWitness:
    """A witness serving HTTP, and how to stop it."""

    witness: Witness
    port: int
    """The TCP port actually bound."""
    server: uvicorn.Server = field(repr=False)
    _sockets: list[socket.socket] = field(repr=False)
    _main_loop: asyncio.Task[None] = field(repr=False)

    @property
    def verifier(self) -> CosignatureVerifier:
        """The witness's public key, what logs and auditors are given."""
        return self.witness.cosigner.verifier()

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish, release the state file."""
        self.server.should_exit = True
        self._main_loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._main_loop
        await self.server.shutdown(sockets=self._sockets)
        self.witness.state.close()


async def start_witness(config: WitnessConfig, mode: str = "development") -> RunningWitness:
    """Load the key and the state, bind ``config.host:config.port`` and serve until stopped.

    The socket is bound here so that port 0 works and a busy port is a ConfigError.
    """
    if not config.logs:
        raise ConfigError("no log to witness: give at least one --log ORIGIN=VKEY")
    cosigner = load_cosigner(config.key_file, config.name, mode)
    state = StateFile.open(config.state_file)
    try:
        sock = _bind(config.host, config.port)
    except OSError as error:
        state.close()
        raise ConfigError(f"cannot listen on {config.host}:{config.port}: {error}") from None
    witness = Witness(cosigner, config.logs, state)
    uvicorn_config = uvicorn.Config(
        build_app(witness),
        log_config=None,
        access_log=False,  # the witness logs each request with its outcome
        lifespan="off",
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    uvicorn_config.load()
    server = uvicorn.Server(uvicorn_config)
    server.lifespan = uvicorn_config.lifespan_class(uvicorn_config)
    await server.startup(sockets=[sock])
    port = sock.getsockname()[1]
    _log.info(
        "witness serving",
        address=f"{config.host}:{port}",
        key=cosigner.verifier().key_string(),
        logs=sorted(config.logs),
    )
    main_loop = asyncio.create_task(server.main_loop(), name="witness-main-loop")
    return RunningWitness(witness, port, server, [sock], main_loop)


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(512)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


# --- the command -------------------------------------------------------------------


def add_witness_command(subparsers: Any) -> None:
    """Register ``certfree witness`` on the top-level subparsers."""
    command = subparsers.add_parser(
        "witness",
        help="run a C2SP tlog-witness that cosigns the ledger's checkpoints",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""\
Serve POST /add-checkpoint (C2SP tlog-witness). A checkpoint is cosigned
(C2SP tlog-cosignature, cosignature/v1, Ed25519) only if the log's key signed
it and an RFC 6962 consistency proof shows that it extends the last checkpoint
this witness cosigned for that log: never a rollback, never a second tree of
one size. The size and root cosigned for each log are fsynced to
<data-dir>/witness/state.json before the answer.

At start the witness prints its verifier key: give it to the log and to
auditors.""",
        epilog="""\
example:
  certfree witness --name witness.example/w1 \\
      --log certfree.localhost/ledger=certfree.localhost/ledger+6d454b98+AePo...""",
    )
    command.add_argument(
        "--log",
        action="append",
        default=[],
        metavar="ORIGIN=VKEY",
        help="a log to witness: its origin and its signed-note verifier key; repeatable",
    )
    command.add_argument(
        "--logs-file",
        type=Path,
        metavar="FILE",
        help="more logs, one ORIGIN=VKEY per line ('#' starts a comment)",
    )
    command.add_argument(
        "--name",
        help=(
            "the witness's key name, e.g. witness.example/w1 (default: the key file's, or "
            f"{DEFAULT_NAME} for a new key)"
        ),
    )
    command.add_argument(
        "--key-file",
        type=Path,
        metavar="FILE",
        help=(
            "the cosigning key (default <data-dir>/keys/witness.key; created in "
            "development, required in production)"
        ),
    )
    command.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="where the key and the state file live (default CERTFREE_DATA_DIR, var)",
    )
    command.add_argument("--host", help="address to bind (default CERTFREE_LISTEN_HOST)")
    command.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"HTTP port (default {DEFAULT_PORT})"
    )


def config_from_args(settings: Settings, args: argparse.Namespace) -> WitnessConfig:
    """Read the flags (and --logs-file) into a WitnessConfig; ConfigError names a bad one."""
    specs: list[str] = list(args.log)
    if args.logs_file is not None:
        try:
            lines = args.logs_file.read_text().splitlines()
        except OSError as error:
            raise ConfigError(f"--logs-file: {error}") from None
        specs += [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    logs: dict[str, Verifier] = {}
    for spec in specs:
        origin, verifier = parse_log(spec)
        if origin in logs and logs[origin] != verifier:
            raise ConfigError(f"--log {origin}: given twice with different keys")
        logs[origin] = verifier
    return WitnessConfig(
        key_file=args.key_file or settings.data_dir / "keys" / "witness.key",
        state_file=settings.data_dir / "witness" / "state.json",
        logs=logs,
        name=args.name,
        host=args.host or settings.listen_host,
        port=args.port,
    )


async def serve(settings: Settings, args: argparse.Namespace) -> None:
    """Run ``certfree witness`` until SIGTERM or Ctrl-C."""
    config = config_from_args(settings, args)
    running = await start_witness(config, settings.mode)
    lines = [
        "certfree witness is up",
        f"  address   http://{config.host}:{running.port}/add-checkpoint",
        f"  key       {running.verifier.key_string()}",
        f"  state     {config.state_file}",
        *(f"  log       {origin}" for origin in sorted(config.logs)),
    ]
    print("\n".join(lines), flush=True)
    received = await wait_for_shutdown_signal()
    _log.info("shutting down", signal=received.name)
    await running.stop()
