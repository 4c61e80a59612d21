"""The sequencer: batches appends, integrates them into the tree, signs, lands, replies.

Several ledger replicas may run; the one holding the lease in the store sequences and
the others refuse appends with NotSequencer (callers retry on another replica). Every
commit carries the lease token, whose epoch grows with each new holder, so a replica
that was paused past its lease finds its writes refused (Fenced) instead of forking
the log.

One task per log takes what has been submitted (up to ``max_batch`` entries, waiting
at most ``max_delay`` for more), assigns indexes, extends the tree's compact range,
writes the new hash tiles, entry bundles, size and signed checkpoint in one guarded
script, waits for the store's fsync, and only then resolves the callers' futures: an
append that returned is integrated, durable and covered by the checkpoint it carries.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from runtime.logs import get_logger
from runtime.tlog import merkle, tiles
from runtime.tlog.checkpoint import Checkpoint, sign_checkpoint
from runtime.tlog.entry import KINDS, Entry
from runtime.tlog.note import Signer
from services.ledger.reader import LogReader
from services.ledger.store import Conflict, Fenced, LedgerStore, Write

Clock = Callable[[], datetime]
_log = get_logger("ledger.sequencer")


class NotSequencer(Exception):
    """This replica does not hold the sequencer lease; another one appends."""


@dataclass(frozen=True)
class Submission:
    """One attestation to append, with what makes its retries safe."""

    kind: str
    issuer: str
    artefact_id: str
    artefact_sha256: bytes
    idempotency_key: str = ""
    """An explicit key, or empty: then the artefact hash and kind are the key."""

    def keys(self) -> list[bytes]:
        """Idempotency keys in store form: hash-and-kind always, the explicit one if given."""
        found = [b"h" + bytes([KINDS.index(self.kind) + 1]) + self.artefact_sha256]
        if self.idempotency_key:
            found.append(b"k" + self.idempotency_key.encode())
        return found


@dataclass(frozen=True)
class Integrated:
    """The outcome of one submission: where it is, and the checkpoint that covers it."""

    index: int
    encoded: bytes
    entry: Entry
    """The entry `encoded` encodes (decoded once here, not once per reply)."""
    duplicate: bool
    checkpoint: Checkpoint
    checkpoint_note: str


@dataclass
class _Pending:
    submission: Submission
    future: asyncio.Future[Integrated] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Sequencer:
    """Appends to one log while this replica holds the log's sequencer lease."""

    def __init__(
        self,
        store: LedgerStore,
        reader: LogReader,
        signer: Signer,
        origin: str,
        *,
        max_batch: int = 1024,
        max_delay: float = 0.005,
        lease_ms: int = 5000,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._reader = reader
        self._signer = signer
        self._origin = origin
        self._max_batch = max_batch
        self._max_delay = max_delay
        self._clock = clock
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._range = merkle.CompactRange()
        self._bundle_length = 0
        self._tree_lock = asyncio.Lock()
        """Held while the in-memory tree is loaded or extended: the lease task reloads it
        while the batch task integrates, and neither may see the other's half-done work."""
        self._lease_ms = lease_ms
        self._owner = f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"
        self._token = ""
        self._lease_task: asyncio.Task[None] | None = None

    @property
    def leading(self) -> bool:
        """Whether this replica holds the lease and appends."""
        return bool(self._token)

    async def start(self) -> None:
        """Contend for the lease (and keep it), and start integrating once it is ours."""
        await self.keep_lease()
        self._lease_task = asyncio.create_task(self._lease_loop(), name="sequencer lease")
        self._task = asyncio.create_task(self._run(), name=f"sequencer {self._origin}")

    async def keep_lease(self) -> None:
        """Take or renew the lease once; on taking it, load the tree from the store."""
        try:
            token = await self._store.hold_lease(self._owner, self._lease_ms, self._token)
        except Exception as error:
            # The store cannot vouch for the lease: stop appending until it can.
            _log.warning("cannot renew the sequencer lease", error=type(error).__name__)
            token = ""
        if token and token != self._token:
            self._token = token
            try:
                await self._load()
            except Exception:
                self._token = ""
                raise
            _log.info("sequencing", origin=self._origin, lease=token, size=self._range.size)
        elif not token and self._token:
            _log.warning("lost the sequencer lease", origin=self._origin)
            self._token = ""

    async def _lease_loop(self) -> None:
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            with contextlib.suppress(Exception):
                await self.keep_lease()

    async def stop(self) -> None:
        """Stop after the batch in flight, give the lease up; callers still queued get an error."""
        for task in (self._lease_task, self._task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._token:
            with contextlib.suppress(Exception):
                await self._store.release_lease(self._token)
            self._token = ""
        while not self._queue.empty():
            pending = self._queue.get_nowait()
            if not pending.future.done():
                pending.future.set_exception(ConnectionAbortedError("the sequencer stopped"))

    async def submit(self, submissions: Sequence[Submission]) -> list[Integrated]:
        """Append `submissions` in order; returns once they are durable and checkpointed.

        Raises NotSequencer on a replica that does not hold the lease.
        """
        if not self._token:
            raise NotSequencer(f"this replica does not sequence {self._origin}")
        pending = [_Pending(s) for s in submissions]
        for item in pending:
            self._queue.put_nowait(item)
        return list(await asyncio.gather(*(p.future for p in pending)))

    async def _load(self) -> None:
        """Read the tree's compact range and tail bundle length from the store, all or nothing."""
        async with self._tree_lock:
            size = await self._store.size()
            if size == 0 and await self._store.checkpoint() is None:
                # Sign the empty tree, so that readers always find a checkpoint.
                empty = sign_checkpoint(
                    Checkpoint(self._origin, 0, merkle.EMPTY_ROOT), self._signer
                )
                await self._store.commit(
                    lease=self._token,
                    old_size=0,
                    new_size=0,
                    checkpoint=empty,
                    idempotency={},
                    writes=[],
                )
            hashes = await self._reader.node_hashes(merkle.CompactRange.ids_for(size))
            full, width = tiles.tile_count(size, tiles.ENTRIES)
            tail = tiles.TileID(tiles.ENTRIES, full, max(width, 1))
            bundle_length = await self._store.bundle_length(tail) if width else 0
            self._range, self._bundle_length = merkle.CompactRange(size, hashes), bundle_length

    async def _collect(self) -> list[_Pending]:
        """What is queued now, and what arrives within max_delay of the first, up to max_batch."""
        batch = [await self._queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._max_delay
        while len(batch) < self._max_batch:
            if not self._queue.empty():
                batch.append(
                    self._queue.get_nowait()
                )  # no timer per item: a BatchAppend queues 1,000
                continue
            timeout = deadline - loop.time()
            if timeout <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), timeout))
            except TimeoutError:
                break
        return batch

    async def _run(self) -> None:
        while True:
            batch = await self._collect()
            try:
                results = await self._integrate([p.submission for p in batch])
            except asyncio.CancelledError:
                for pending in batch:
                    pending.future.cancel()
                raise
            except Exception as error:
                _log.warning("batch failed; reloading the tree", error=type(error).__name__)
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(error)
                with contextlib.suppress(Exception):
                    await self._load()
                continue
            for pending, result in zip(batch, results, strict=True):
                if not pending.future.done():
                    pending.future.set_result(result)

    async def _integrate(self, submissions: list[Submission]) -> list[Integrated]:
        """Integrate one batch; the in-memory tree changes only once the store has it."""
        async with self._tree_lock:
            return await self._integrate_locked(submissions)

    async def _integrate_locked(self, submissions: list[Submission]) -> list[Integrated]:
        keys = [s.keys() for s in submissions]
        flat = [k for ks in keys for k in ks]
        stored = await self._store.indexes(flat)
        known = {key: index for key, index in zip(flat, stored, strict=True) if index is not None}
        old_size = self._range.size
        work = merkle.CompactRange(self._range.size, self._range.hashes)
        accepted_ms = int(self._clock().timestamp() * 1000)
        placed: list[tuple[int, bool]] = []  # (index, duplicate) per submission
        new_entries: list[bytes] = []
        decoded: dict[int, Entry] = {}
        new_nodes: list[tuple[merkle.NodeID, bytes]] = []
        assigned: dict[bytes, int] = {}
        artefacts: list[tuple[str, int]] = []
        for submission, submission_keys in zip(submissions, keys, strict=True):
            earlier = next(
                (i for k in submission_keys if (i := known.get(k, assigned.get(k))) is not None),
                None,
            )
            if earlier is not None:
                placed.append((earlier, True))
                continue
            entry = Entry(
                kind=submission.kind,
                issuer=submission.issuer,
                artefact_id=submission.artefact_id,
                artefact_sha256=submission.artefact_sha256,
                accepted_ms=accepted_ms,
            )
            encoded = entry.encode()
            index = work.size
            decoded[index] = entry
            new_nodes += work.append(merkle.leaf_hash(encoded))
            new_entries.append(encoded)
            for key in submission_keys:
                assigned[key] = index
            artefacts.append((submission.artefact_id, index))
            placed.append((index, False))
        checkpoint = Checkpoint(self._origin, work.size, work.root())
        note = sign_checkpoint(checkpoint, self._signer) if new_entries else None
        if note is not None:
            writes, bundle_length = self._writes(old_size, new_entries, new_nodes)
            try:
                await self._store.commit(
                    lease=self._token,
                    old_size=old_size,
                    new_size=work.size,
                    checkpoint=note,
                    idempotency=assigned,
                    artefacts=artefacts,
                    writes=writes,
                )
            except Fenced:
                _log.error("fenced: another replica holds the lease", origin=self._origin)
                self._token = ""
                raise
            except Conflict:
                _log.error("another sequencer wrote to this log; reloading", origin=self._origin)
                raise
            self._range, self._bundle_length = work, bundle_length
        else:
            note = await self._store.checkpoint() or sign_checkpoint(checkpoint, self._signer)
        encoded_by_index = dict(zip(range(old_size, work.size), new_entries, strict=True))
        missing = sorted({i for i, dup in placed if dup and i not in encoded_by_index})
        encoded_by_index.update(zip(missing, await self._reader.entries(missing), strict=True))
        decoded.update((i, Entry.decode(encoded_by_index[i])) for i in missing)
        return [
            Integrated(index, encoded_by_index[index], decoded[index], duplicate, checkpoint, note)
            for index, duplicate in placed
        ]

    def _writes(
        self,
        old_size: int,
        entries: list[bytes],
        nodes: list[tuple[merkle.NodeID, bytes]],
    ) -> tuple[list[Write], int]:
        """Tile and bundle writes for a batch, each contiguous run as one SETRANGE."""
        writes: list[Write] = []
        runs: dict[tiles.TileID, tuple[int, bytearray]] = {}
        for node, digest in nodes:
            if node.level % tiles.TILE_HEIGHT:
                continue
            tile, position = tiles.hash_position(node.level, node.index)
            _, data = runs.setdefault(tile, (position * merkle.HASH_SIZE, bytearray()))
            data += digest
        writes += [Write(t, start, bytes(data)) for t, (start, data) in runs.items()]
        bundle_length = self._bundle_length
        bundles: dict[tiles.TileID, tuple[int, bytearray]] = {}
        for offset, encoded in enumerate(entries):
            index = old_size + offset
            tile = tiles.TileID(tiles.ENTRIES, index // tiles.TILE_WIDTH, tiles.TILE_WIDTH)
            if index % tiles.TILE_WIDTH == 0:
                bundle_length = 0
            _, data = bundles.setdefault(tile, (bundle_length, bytearray()))
            framed = tiles.bundle_entries([encoded])
            data += framed
            bundle_length += len(framed)
        writes += [Write(t, start, bytes(data)) for t, (start, data) in bundles.items()]
        return writes, bundle_length
