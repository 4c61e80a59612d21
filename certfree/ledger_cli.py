"""``certfree ledger``: check the attestation ledger as an outside auditor would.

    certfree ledger checkpoint --log URL --key VKEY [--origin O]
    certfree ledger verify-receipt RECEIPT ARTEFACT --key VKEY [--origin O]
    certfree ledger verify-consistency OLD [NEW | -] --log URL --key VKEY [--origin O]
    certfree ledger audit --log URL --key VKEY [--origin O] [--progress] [--jobs N]
    certfree ledger verifier-key [--data-dir DIR]

Every check reads only published formats (C2SP signed notes, checkpoints, tlog-tiles
and tlog-proof; RFC 9162 proofs) and the log's verifier key, through the pure
functions of ``runtime.tlog``; this module does the I/O and the reporting. ``--log``
is the gateway's base URL: the tiles are under ``<URL>/tlog/``, the consistency proof
at ``<URL>/v1/ledger/consistency-proof``.

Exit status: 0 when every check passed; 1 when a check failed (stderr names the
check and why: ``check failed: tile: tile/0/001 position 5 (entry 261): ...``); 2 when
nothing could be concluded (a bad argument, an unreadable file, a log that cannot be
reached or refuses the request).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import httpx

from runtime.tlog import merkle, tiles
from runtime.tlog.checkpoint import Checkpoint, CosignatureVerifier, open_checkpoint
from runtime.tlog.entry import Entry, EntryError
from runtime.tlog.note import NoteError, Signer, Verifier
from runtime.tlog.receipt import Receipt, ReceiptError, verify_receipt
from runtime.tlog.witness import verify_witness_quorum

__all__ = [
    "AuditReport",
    "CannotCheck",
    "CheckFailed",
    "LogClient",
    "Progress",
    "add_ledger_commands",
    "audit_log",
    "check_consistency",
    "open_log_checkpoint",
    "run",
]

EXIT_OK = 0
"""Every check passed."""
EXIT_CHECK_FAILED = 1
"""A check failed: the log, a checkpoint, a proof or a file is not what it claims."""
EXIT_CANNOT_CHECK = 2
"""Nothing could be concluded: bad arguments, unreadable files, an unreachable log."""

HTTP_TIMEOUT_SECONDS = 30.0
"""How long one HTTP request to the log may take."""
DEFAULT_JOBS = 4
"""Concurrent tile requests during an audit."""

_DEPARTMENT_HEADER = "x-certfree-department"  # runtime.identity's development headers
_ROLE_HEADER = "x-certfree-role"
_PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"


class CheckFailed(Exception):
    """A check failed; `check` names it (``signature``, ``inclusion``, ``tile`` ...)."""

    def __init__(self, check: str, reason: str) -> None:
        super().__init__(f"{check}: {reason}")
        self.check = check
        """Short name of the check that failed."""
        self.reason = reason
        """Why, in one sentence, with positions and sizes but never personal data."""


class CannotCheck(Exception):
    """Nothing could be concluded: a file is unreadable, the log unreachable or refusing."""


# --- the log over HTTP ---------------------------------------------------------------


class LogClient:
    """The read side of a certfree log over HTTP: the tlog-tiles routes and consistency proofs.

    Thread-safe (one ``httpx.Client`` underneath), so an audit fetches tiles from a
    small thread pool. Use it as a context manager.
    """

    def __init__(self, url: str, headers: Mapping[str, str]) -> None:
        """A client for the gateway at `url`, sending `headers` (the caller's identity)."""
        if not url.startswith(("http://", "https://")):
            raise CannotCheck(f"--log {url!r} is not an http:// or https:// URL")
        self.url = url.rstrip("/")
        """The gateway's base URL, without a trailing slash."""
        self._http = httpx.Client(
            base_url=self.url, headers=dict(headers), timeout=HTTP_TIMEOUT_SECONDS
        )
        self._http_error = httpx.HTTPError

    def __enter__(self) -> LogClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def checkpoint_note(self) -> str:
        """The latest signed checkpoint note, unverified (``GET /tlog/checkpoint``)."""
        response = self._get("/tlog/checkpoint", "the checkpoint")
        try:
            return response.content.decode("utf-8")
        except UnicodeDecodeError:
            raise CheckFailed("checkpoint", "the log's checkpoint is not UTF-8 text") from None

    def tile(self, tile: tiles.TileID, size: int) -> bytes:
        """The body of a hash tile or entry bundle that the tree of `size` entries has.

        A 404 is a failed check: the log's own checkpoint says the tile exists.
        """
        response = self._get(f"/tlog/{tile.path}", tile.path, missing_ok=True)
        if response.status_code == 404:
            raise CheckFailed(
                "tile", f"{tile.path} is missing (404) though the checkpoint of size {size} has it"
            )
        return response.content

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """The RFC 9162 consistency proof between two tree sizes (``0 < first < second``)."""
        response = self._get(
            "/v1/ledger/consistency-proof",
            "the consistency proof",
            params={"firstSize": str(first), "secondSize": str(second)},
        )
        try:
            body = response.json()
            answered = (int(body.get("firstSize", 0)), int(body.get("secondSize", 0)))
            encoded = body.get("hashes", [])
        except (ValueError, AttributeError, TypeError):
            raise CheckFailed("consistency", "the log's answer is not a ConsistencyProof") from None
        if answered != (first, second):
            raise CheckFailed(
                "consistency",
                f"asked for the proof from size {first} to {second}, the log answered "
                f"one from {answered[0]} to {answered[1]}",
            )
        if not isinstance(encoded, list):
            raise CheckFailed("consistency", "the proof's hashes are not a list")
        proof = []
        for position, text in enumerate(encoded):
            try:
                proof.append(base64.b64decode(str(text), validate=True))
            except (binascii.Error, ValueError):
                raise CheckFailed(
                    "consistency", f"proof hash {position} is not valid base64"
                ) from None
        return proof

    def _get(
        self,
        path: str,
        what: str,
        *,
        params: Mapping[str, str] | None = None,
        missing_ok: bool = False,
    ) -> httpx.Response:
        try:
            response = self._http.get(path, params=params)
        except self._http_error as error:
            raise CannotCheck(f"cannot fetch {what} from {self.url}: {error}") from None
        if response.status_code == 200 or (missing_ok and response.status_code == 404):
            return response
        raise CannotCheck(f"the log refused {what}: {_refusal(response)}")


def _refusal(response: httpx.Response) -> str:
    """HTTP status and the google.rpc.Status message of an error answer, with a hint."""
    try:
        message = str(response.json()["message"])
    except (ValueError, KeyError, TypeError):
        message = response.text[:200].strip() or response.reason_phrase
    text = f"HTTP {response.status_code}: {message}"
    if response.status_code in (401, 403):
        text += (
            f"; give --department <USCC> and --role (sent as {_DEPARTMENT_HEADER}/"
            f"{_ROLE_HEADER}, the development identity until tokens exist)"
        )
    return text


# --- checks ----------------------------------------------------------------------------


def open_log_checkpoint(note: str, key: Verifier, origin: str | None, what: str) -> Checkpoint:
    """Verify a checkpoint note's signature by `key` (and its origin); CheckFailed says which."""
    try:
        checkpoint, _ = open_checkpoint(note, key, origin=origin)
    except NoteError as error:
        reason = str(error)
        check = "origin" if reason.startswith("checkpoint origin ") else "signature"
        raise CheckFailed(check, f"{what}: {reason}") from None
    return checkpoint


def check_consistency(
    old: Checkpoint, new: Checkpoint, fetch_proof: Callable[[int, int], list[bytes]]
) -> None:
    """Check that `new` extends `old`: same log, no rollback, an RFC 9162 proof between them.

    `fetch_proof(first, second)` is called only when a proof is needed (``0 < old < new``).
    """
    if old.origin != new.origin:
        raise CheckFailed(
            "origin", f"the checkpoints are of different logs: {old.origin!r} and {new.origin!r}"
        )
    if new.size < old.size:
        raise CheckFailed(
            "rollback",
            f"the new checkpoint has {new.size} entries, fewer than the old one's {old.size}: "
            "a log never shrinks, so whoever served the new checkpoint rolled the log back",
        )
    proof = fetch_proof(old.size, new.size) if 0 < old.size < new.size else []
    try:
        merkle.verify_consistency(old.size, new.size, proof, old.root_hash, new.root_hash)
    except merkle.ProofError as error:
        raise CheckFailed("consistency", str(error)) from None


@dataclass
class AuditReport:
    """What an audit checked."""

    checkpoint: Checkpoint
    """The verified checkpoint whose tree was rebuilt."""
    bundles: int = 0
    """Entry bundles fetched."""
    hash_tiles: int = 0
    """Hash tiles (every level) fetched and compared."""
    seconds: float = 0.0
    """Wall time from the first tile request to the last check."""


def audit_log(
    client: LogClient,
    checkpoint: Checkpoint,
    *,
    jobs: int = DEFAULT_JOBS,
    progress: Progress | None = None,
) -> AuditReport:
    """Rebuild the tree of `checkpoint` from the log's entry bundles and check every tile.

    For each entry bundle: every entry is canonical, and its leaf hash is the hash at
    the same position of the level-0 tile. The leaf hashes, folded through a
    :class:`~runtime.tlog.merkle.CompactRange`, must give the checkpoint's root, and the
    subtree roots they complete must be the hashes of the higher tile levels. Raises
    CheckFailed at the first mismatch, naming the tile and the position.
    """
    started = time.perf_counter()
    report = AuditReport(checkpoint)
    compact = merkle.CompactRange()
    try:
        _rebuild(client, checkpoint, jobs, report, compact, progress)
    finally:
        if progress is not None:  # end the bar's line, also before a failure's message
            progress.close(compact.size)
    report.seconds = time.perf_counter() - started
    return report


def _rebuild(
    client: LogClient,
    checkpoint: Checkpoint,
    jobs: int,
    report: AuditReport,
    compact: merkle.CompactRange,
    progress: Progress | None,
) -> None:
    """audit_log's work: fold every bundle's leaves into `compact`, checking every tile."""
    size = checkpoint.size
    # Tile level L stores tree level 8L: the subtree roots the leaves complete there.
    upper: dict[int, list[bytes]] = {}
    for bundle, bundle_body, tile, tile_body in _fetch_bundles(client, size, jobs):
        for leaf in _check_bundle(bundle, bundle_body, tile, tile_body):
            for node, hashed in compact.append(leaf):
                if node.level and node.level % tiles.TILE_HEIGHT == 0:
                    upper.setdefault(node.level // tiles.TILE_HEIGHT, []).append(hashed)
        report.bundles += 1
        report.hash_tiles += 1
        if progress is not None:
            progress.update(compact.size)
    if compact.root() != checkpoint.root_hash:
        raise CheckFailed(
            "root",
            f"the {size} entries hash to root {_b64(compact.root())}, not the checkpoint's "
            f"{_b64(checkpoint.root_hash)}",
        )
    for level in range(1, tiles.max_level(size) + 1 if size else 1):
        expected = upper.get(level, [])
        for tile in tiles.tiles_for_size(size, level):
            first = tile.index * tiles.TILE_WIDTH
            _compare_hashes(tile, client.tile(tile, size), expected[first : first + tile.width])
            report.hash_tiles += 1


def _fetch_bundles(
    client: LogClient, size: int, jobs: int
) -> Iterator[tuple[tiles.TileID, bytes, tiles.TileID, bytes]]:
    """Each entry bundle with its level-0 tile, in index order, `jobs` requests at a time."""

    def fetch(bundle: tiles.TileID) -> tuple[tiles.TileID, bytes, tiles.TileID, bytes]:
        tile = tiles.TileID(0, bundle.index, bundle.width)
        return bundle, client.tile(bundle, size), tile, client.tile(tile, size)

    pending = iter(tiles.tiles_for_size(size, tiles.ENTRIES))
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="audit") as pool:
        window: deque[Future[tuple[tiles.TileID, bytes, tiles.TileID, bytes]]] = deque()
        try:
            # Read ahead a little so the pool stays busy while the tree is folded in order.
            for bundle in pending:
                window.append(pool.submit(fetch, bundle))
                if len(window) >= 2 * max(1, jobs):
                    break
            while window:
                result = window.popleft().result()
                following = next(pending, None)
                if following is not None:
                    window.append(pool.submit(fetch, following))
                yield result
        finally:
            for future in window:
                future.cancel()


def _check_bundle(
    bundle: tiles.TileID, bundle_body: bytes, tile: tiles.TileID, tile_body: bytes
) -> list[bytes]:
    """The leaf hashes of one bundle's entries, after checking them against the level-0 tile."""
    try:
        entries = tiles.split_bundle(bundle_body)
    except ValueError as error:
        raise CheckFailed("bundle", f"{bundle.path}: {error}") from None
    if len(entries) != bundle.width:
        raise CheckFailed(
            "bundle", f"{bundle.path} holds {len(entries)} entries, not {bundle.width}"
        )
    first = bundle.index * tiles.TILE_WIDTH
    leaf_hashes = []
    for position, entry in enumerate(entries):
        try:
            Entry.decode(entry)
        except EntryError as error:
            raise CheckFailed(
                "entry",
                f"{bundle.path} position {position} (entry {first + position}) is not a "
                f"canonical certfree entry: {error}",
            ) from None
        leaf_hashes.append(merkle.leaf_hash(entry))
    _compare_hashes(tile, tile_body, leaf_hashes, bundle)
    return leaf_hashes


def _compare_hashes(
    tile: tiles.TileID,
    body: bytes,
    expected: Sequence[bytes],
    bundle: tiles.TileID | None = None,
) -> None:
    """Check a hash tile's body against the hashes recomputed from the entries."""
    try:
        stored = tiles.split_hashes(body)
    except ValueError as error:
        raise CheckFailed("tile", f"{tile.path}: {error}") from None
    if len(stored) != tile.width or len(expected) != tile.width:
        raise CheckFailed(
            "tile",
            f"{tile.path} holds {len(stored)} hashes; the entries give {len(expected)}, "
            f"the path says {tile.width}",
        )
    for position, (found, computed) in enumerate(zip(stored, expected, strict=True)):
        if found == computed:
            continue
        first = tile.index * tiles.TILE_WIDTH + position
        if tile.level == 0 and bundle is not None:
            covers = f"entry {first}"
            source = f"the leaf hash of that entry in {bundle.path}"
        else:
            height = tiles.TILE_HEIGHT * tile.level
            covers = f"entries {first << height}-{((first + 1) << height) - 1}"
            source = "the root recomputed from those entries"
        raise CheckFailed(
            "tile",
            f"{tile.path} position {position} ({covers}): the log serves {_b64(found)}, "
            f"{source} is {_b64(computed)}",
        )


def _b64(hashed: bytes) -> str:
    return base64.b64encode(hashed).decode("ascii")


# --- progress --------------------------------------------------------------------------


class Progress:
    """A text progress bar of entries done out of a total, with the rate, on one stream.

    On a terminal the line is redrawn in place at most ``10`` times a second; on
    anything else (``--progress`` into a file or a CI log) a new line is written at most
    once a second. The last state is always written by :meth:`close`.
    """

    BAR_WIDTH = 30
    """Characters in the bar."""

    def __init__(
        self,
        total: int,
        stream: TextIO,
        *,
        interactive: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """A bar for `total` entries on `stream`; `interactive` redraws in place."""
        self.total = total
        """Entries to do."""
        self._stream = stream
        self._interactive = interactive
        self._clock = clock
        self._started = clock()
        self._interval = 0.1 if interactive else 1.0
        self._drawn = float("-inf")

    def update(self, done: int) -> None:
        """Record `done` entries; draw if the last drawing is old enough."""
        now = self._clock()
        if now - self._drawn >= self._interval:
            self._draw(done, now)

    def close(self, done: int) -> None:
        """Draw the final state and end the line."""
        self._draw(done, self._clock())
        if self._interactive:
            self._stream.write("\n")
            self._stream.flush()

    def line(self, done: int, elapsed: float) -> str:
        """The text of the bar for `done` entries after `elapsed` seconds."""
        fraction = done / self.total if self.total else 1.0
        filled = round(fraction * self.BAR_WIDTH)
        rate = done / elapsed if elapsed > 0 else 0.0
        bar = "#" * filled + "." * (self.BAR_WIDTH - filled)
        return (
            f"audit [{bar}] {done:,}/{self.total:,} entries {fraction:4.0%} {rate:,.0f} entries/s"
        )

    def _draw(self, done: int, now: float) -> None:
        self._drawn = now
        text = self.line(done, now - self._started)
        self._stream.write(f"\r{text}" if self._interactive else f"{text}\n")
        self._stream.flush()


# --- commands ------------------------------------------------------------------------


def _witness_quorum(args: argparse.Namespace, note: str) -> str:
    """Check the --witness quorum on a checkpoint note; a line for the report, or ''."""
    if not args.witness:
        return ""
    try:
        trusted = [CosignatureVerifier.from_key_string(text) for text in args.witness]
    except NoteError as error:
        raise CannotCheck(f"--witness: {error}") from None
    quorum = args.quorum or len(trusted)
    if not 1 <= quorum <= len(trusted):
        raise CannotCheck(f"--quorum {quorum} must be between 1 and the {len(trusted)} witnesses")
    try:
        names = verify_witness_quorum(note, trusted, quorum)
    except NoteError as error:
        raise CheckFailed("witnesses", str(error)) from None
    return f"\nwitnessed by {', '.join(names)} ({len(names)} of {len(trusted)}, {quorum} required)"


def _checkpoint(args: argparse.Namespace) -> None:
    key = _verifier(args.key)
    with _client(args) as client:
        note = client.checkpoint_note()
        checkpoint = open_log_checkpoint(note, key, args.origin, "the log's checkpoint")
    witnessed = _witness_quorum(args, note)
    print(
        f"checkpoint verified with key {key.name}+{key.key_id.hex()}\n"
        f"origin  {checkpoint.origin}\n"
        f"size    {checkpoint.size}\n"
        f"root    {_b64(checkpoint.root_hash)}{witnessed}"
    )


def _verify_receipt(args: argparse.Namespace) -> None:
    key = _verifier(args.key)
    text = _read_text(args.receipt, "receipt")
    artefact = _read_bytes(args.artefact, "artefact")
    try:
        entry, checkpoint = verify_receipt(text, artefact, key, origin=args.origin)
    except ReceiptError as error:
        check, reason = _receipt_check(str(error))
        if check == "receipt" and text.lstrip().startswith("{"):
            reason += " (this looks like JSON: save its tlogProof field, the tlog-proof text)"
        raise CheckFailed(check, reason) from None
    witnessed = _witness_quorum(args, Receipt.from_text(text).checkpoint_note)
    accepted = datetime.fromtimestamp(entry.accepted_ms / 1000, UTC)
    print(
        f"receipt verified: the artefact (sha256 {hashlib.sha256(artefact).hexdigest()}) "
        f"is entry {Receipt.from_text(text).index} of {checkpoint.origin}\n"
        f"kind             {entry.kind}\n"
        f"issuer           {entry.issuer}\n"
        f"artefact id      {entry.artefact_id}\n"
        f"accepted         {accepted.isoformat(timespec='milliseconds').replace('+00:00', 'Z')}\n"
        f"checkpoint size  {checkpoint.size}{witnessed}"
    )


def _receipt_check(message: str) -> tuple[str, str]:
    """The check a ReceiptError names (its prefix, see runtime.tlog.receipt) and the reason."""
    for check in ("checkpoint", "entry", "inclusion"):
        if message.startswith(f"{check}: "):
            return check, message.removeprefix(f"{check}: ")
    if message.startswith("the artefact's SHA-256"):
        return "artefact", message
    return "receipt", f"the file is not a tlog-proof: {message}"


def _verify_consistency(args: argparse.Namespace) -> None:
    key = _verifier(args.key)
    old = open_log_checkpoint(
        _read_text(args.old, "old checkpoint"), key, args.origin, f"old checkpoint {args.old}"
    )
    if args.new == "-":
        with _client(args) as client:
            new = open_log_checkpoint(
                client.checkpoint_note(), key, args.origin, "the log's latest checkpoint"
            )
            check_consistency(old, new, client.consistency_proof)
    else:
        new_note = _read_text(Path(args.new), "new checkpoint")
        new = open_log_checkpoint(new_note, key, args.origin, f"new checkpoint {args.new}")
        if new.size <= old.size:  # a rollback, or nothing to prove: the log is not asked
            check_consistency(old, new, _no_proof)
        else:
            with _client(args) as client:
                check_consistency(old, new, client.consistency_proof)
    growth = (
        f"kept its {old.size} entries"
        if new.size == old.size
        else f"grew from {old.size} to {new.size} entries"
    )
    print(
        f"consistent: {new.origin} {growth} without rewriting any\n"
        f"old  size {old.size}  root {_b64(old.root_hash)}\n"
        f"new  size {new.size}  root {_b64(new.root_hash)}"
    )


def _no_proof(first: int, second: int) -> list[bytes]:
    """Never called: check_consistency asks for a proof only when the tree grew."""
    raise AssertionError(f"no proof is needed from size {first} to {second}")


def _audit(args: argparse.Namespace) -> None:
    key = _verifier(args.key)
    if args.jobs < 1:
        raise CannotCheck(f"--jobs {args.jobs}: need at least one request at a time")
    with _client(args) as client:
        checkpoint = open_log_checkpoint(
            client.checkpoint_note(), key, args.origin, "the log's checkpoint"
        )
        show = args.progress or sys.stderr.isatty()
        progress = (
            Progress(checkpoint.size, sys.stderr, interactive=sys.stderr.isatty()) if show else None
        )
        report = audit_log(client, checkpoint, jobs=args.jobs, progress=progress)
    rate = checkpoint.size / report.seconds if report.seconds > 0 else 0.0
    print(
        f"audit passed: every entry of {checkpoint.origin} re-hashed to the signed root\n"
        f"size     {checkpoint.size}\n"
        f"root     {_b64(checkpoint.root_hash)}\n"
        f"checked  {report.bundles} entry bundles, {report.hash_tiles} hash tiles\n"
        f"time     {report.seconds:.2f} s ({rate:,.0f} entries/s)"
    )


def _verifier_key(args: argparse.Namespace) -> None:
    from runtime.config import ConfigError, load

    try:
        settings = load(data_dir=args.data_dir)
    except ConfigError as error:
        raise CannotCheck(f"configuration error: {error}") from None
    path = settings.ledger_key_path
    try:
        signer = Signer.from_key_string(path.read_text().strip())
    except FileNotFoundError:
        raise CannotCheck(
            f"no log key at {path}: the ledger creates it on its first start in development; "
            "in production set CERTFREE_LEDGER_KEY_FILE"
        ) from None
    except (OSError, NoteError) as error:
        raise CannotCheck(f"CERTFREE_LEDGER_KEY_FILE: {path}: {error}") from None
    if signer.name != settings.ledger_origin:
        raise CannotCheck(
            f"the key in {path} is for {signer.name!r}, not CERTFREE_LEDGER_ORIGIN="
            f"{settings.ledger_origin!r}; the ledger would refuse to start with it"
        )
    print(signer.verifier().key_string())


def _verifier(text: str) -> Verifier:
    if text.startswith(_PRIVATE_KEY_PREFIX):
        raise CannotCheck(
            "--key is the log's PRIVATE signing key: give its verifier key instead "
            "(certfree ledger verifier-key prints it) and keep the private key secret"
        )
    try:
        return Verifier.from_key_string(text.strip())
    except NoteError as error:
        raise CannotCheck(f"--key: {error}") from None


def _client(args: argparse.Namespace) -> LogClient:
    headers = {}
    if args.department:
        headers = {_DEPARTMENT_HEADER: args.department, _ROLE_HEADER: args.role}
    return LogClient(args.log, headers)


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CannotCheck(f"cannot read the {what} {path}: {error}") from None


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CannotCheck(f"cannot read the {what} {path}: {error}") from None


# --- argparse --------------------------------------------------------------------------

_EXIT_STATUS = (
    "Exit status: 0 every check passed; 1 a check failed (stderr names the check and "
    "why); 2 nothing could be concluded (bad arguments, unreadable file, log unreachable)."
)


def add_ledger_commands(subparsers: Any) -> None:
    """Register ``certfree ledger`` and its subcommands on the launcher's subparsers."""
    ledger = subparsers.add_parser(
        "ledger",
        help=(
            "audit the attestation ledger: checkpoint, verify-receipt, verify-consistency, "
            "audit, verifier-key"
        ),
        description=(
            "Check the attestation ledger with nothing but its verifier key and published "
            "formats (C2SP signed notes, checkpoints, tlog-tiles, tlog-proof; RFC 9162 "
            "proofs). --log is the gateway's base URL, e.g. http://127.0.0.1:8080."
        ),
        epilog=_EXIT_STATUS,
    )
    commands = ledger.add_subparsers(dest="ledger_command", required=True, metavar="COMMAND")

    key = argparse.ArgumentParser(add_help=False)
    key.add_argument(
        "--key",
        required=True,
        metavar="VKEY",
        help="the log's verifier key, <origin>+<key id>+<base64 key> (from verifier-key)",
    )
    key.add_argument("--origin", help="also require the checkpoint's origin to be this")
    key.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="WVKEY",
        help="a trusted witness's cosignature key (repeat for each); checks the quorum",
    )
    key.add_argument(
        "--quorum",
        type=int,
        metavar="K",
        help="how many of the --witness keys must have cosigned (default: all of them)",
    )
    log = argparse.ArgumentParser(add_help=False)
    log.add_argument("--log", required=True, metavar="URL", help="the gateway's base URL")
    log.add_argument(
        "--department",
        metavar="USCC",
        help=(
            "sent as x-certfree-department: the development identity (certfree up "
            "--insecure-dev) until tokens exist; without it no identity is sent"
        ),
    )
    log.add_argument("--role", default="auditor", help="sent as x-certfree-role (default: auditor)")

    def command(name: str, run: Callable[[argparse.Namespace], None], **kwargs: Any) -> Any:
        parser = commands.add_parser(name, epilog=_EXIT_STATUS, **kwargs)
        parser.set_defaults(ledger_run=run, ledger_checks=name != "verifier-key")
        return parser

    command(
        "checkpoint",
        _checkpoint,
        parents=[log, key],
        help="fetch the latest checkpoint, verify its signature, print origin, size and root",
        description="Fetch <URL>/tlog/checkpoint and verify the log's signature (and origin).",
    )
    receipt = command(
        "verify-receipt",
        _verify_receipt,
        parents=[key],
        help="check an offline receipt (C2SP tlog-proof) for an artefact; no network",
        description=(
            "Check, offline, that RECEIPT proves ARTEFACT is in the log: the checkpoint's "
            "signature, the entry, the artefact's SHA-256 and the inclusion proof."
        ),
    )
    receipt.add_argument("receipt", type=Path, metavar="RECEIPT", help="the tlog-proof file")
    receipt.add_argument("artefact", type=Path, metavar="ARTEFACT", help="the artefact's bytes")
    consistency = command(
        "verify-consistency",
        _verify_consistency,
        parents=[log, key],
        help="check that a newer checkpoint extends an older one (no rollback, no fork)",
        description=(
            "Verify both checkpoints' signatures, refuse a smaller new size (a rollback), "
            "fetch the RFC 9162 consistency proof from the log and verify it."
        ),
    )
    consistency.add_argument(
        "old", type=Path, metavar="OLD", help="a checkpoint note saved earlier"
    )
    consistency.add_argument(
        "new",
        nargs="?",
        default="-",
        metavar="NEW",
        help="a later checkpoint note; '-' or omitted: fetch the log's latest",
    )
    audit = command(
        "audit",
        _audit,
        parents=[log, key],
        help="re-fetch every entry bundle and tile and recompute the checkpoint's root",
        description=(
            "Fetch the checkpoint, then every entry bundle and hash tile; re-hash every "
            "entry, compare with the level-0 tiles, fold the leaves into the root and the "
            "higher tiles, and compare with the signed checkpoint. Stops at the first "
            "mismatch, naming the tile and position."
        ),
    )
    audit.add_argument(
        "--progress",
        action="store_true",
        help="show the progress bar on stderr even when it is not a terminal",
    )
    audit.add_argument(
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        metavar="N",
        help=f"tile requests in flight (default: {DEFAULT_JOBS})",
    )
    verifier = command(
        "verifier-key",
        _verifier_key,
        help="print the local log's verifier key: what to give auditors",
        description=(
            "Read the log's private key (CERTFREE_LEDGER_KEY_FILE, default "
            "<data dir>/keys/ledger.key) and print its public verifier key string."
        ),
    )
    verifier.add_argument("--data-dir", type=Path, help="the data directory (CERTFREE_DATA_DIR)")


def run(args: argparse.Namespace) -> int:
    """Run the parsed ``certfree ledger`` command; return its exit status."""
    name = f"certfree ledger {args.ledger_command}"
    try:
        args.ledger_run(args)
    except CheckFailed as failed:
        print(f"{name}: check failed: {failed.check}: {failed.reason}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    except CannotCheck as error:
        what = "could not check" if args.ledger_checks else "error"
        print(f"{name}: {what}: {error}", file=sys.stderr)
        return EXIT_CANNOT_CHECK
    return EXIT_OK
