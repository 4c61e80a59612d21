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
import collections
import contextlib
import dataclasses
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from runtime.logs import get_logger
from runtime.metrics import LEDGER_BATCH, LEDGER_INTEGRATION, LEDGER_SIZE
from runtime.tlog import merkle, tiles
from runtime.tlog.checkpoint import Checkpoint, sign_checkpoint
from runtime.tlog.entry import KINDS, Entry, check_fields, encode_fields
from runtime.tlog.note import Signer
from services.ledger.reader import LogReader
from services.ledger.store import Conflict, Fenced, KeysInUse, LedgerStore, Prepared, Write

Clock = Callable[[], datetime]
_log = get_logger("ledger.sequencer")


_PIPELINE = 4
"""Batches built ahead of the one landing: enough to keep the store busy while the next
ones are built; more would only be thrown away when a batch fails."""


class NotSequencer(Exception):
    """This replica does not hold the sequencer lease; another one appends."""


@dataclass(frozen=True)
class Submission:
    """One attestation to append, with what makes its retries safe; checked when made."""

    kind: str
    issuer: str
    artefact_id: str
    artefact_sha256: bytes
    idempotency_key: str = ""
    """An explicit key, or empty: then the artefact hash and kind are the key."""

    idempotency_keys: tuple[bytes, ...] = field(init=False, repr=False, compare=False)
    """Idempotency keys in store form: hash-and-kind always, the explicit one if given."""

    def __post_init__(self) -> None:
        # Raises EntryError: the sequencer encodes submissions without checking them again.
        check_fields(self.kind, self.issuer, self.artefact_id, self.artefact_sha256)
        keys: tuple[bytes, ...] = (hash_key(self.kind, self.artefact_sha256),)
        if self.idempotency_key:
            keys += (b"k" + self.idempotency_key.encode(),)
        object.__setattr__(self, "idempotency_keys", keys)

    def same_as(self, other: Submission | Entry) -> bool:
        """Whether `other` attests the same content (the idempotency key aside)."""
        return (self.kind, self.issuer, self.artefact_id, self.artefact_sha256) == (
            other.kind,
            other.issuer,
            other.artefact_id,
            other.artefact_sha256,
        )


def hash_key(kind: str, artefact_sha256: bytes) -> bytes:
    """The idempotency key, in store form, of an artefact hash and kind."""
    return b"h" + bytes([KINDS.index(kind) + 1]) + artefact_sha256


async def find_keys(
    store: LedgerStore, reader: LogReader, keys: Sequence[bytes]
) -> dict[bytes, tuple[int, Entry]]:
    """The entry each idempotency key (store form) created, and its index, for keys in use.

    The store files a key under a truncated hash that other keys may share, and returns
    every index filed there; the entries themselves say which is the key's. One round
    trip for the indexes, one for the entries (none when no key is in use).
    """
    candidates = await store.candidates(keys)
    wanted = sorted({index for indexes in candidates for index in indexes})
    if not wanted:
        return {}
    raw = await reader.entries(wanted)
    entries = {index: Entry.decode(data) for index, data in zip(wanted, raw, strict=True)}
    found: dict[bytes, tuple[int, Entry]] = {}
    for key, indexes in zip(keys, candidates, strict=True):
        index = next((i for i in indexes if _created(key, entries[i])), None)
        if index is not None:
            found[key] = (index, entries[index])
    return found


def _created(key: bytes, entry: Entry) -> bool:
    """Whether `entry` may be the one `key` created: a hash-and-kind key must name its hash
    and kind; an explicit key is not in the entry, and its long field is its own."""
    if key[:1] == b"h":
        return key == hash_key(entry.kind, entry.artefact_sha256)
    return True


@dataclass(frozen=True)
class Placed:
    """Where one submission is in the log."""

    index: int
    duplicate: bool
    """True when an earlier entry had its key: nothing new was written for it."""
    accepted_ms: int
    """When the ledger accepted the entry at `index`."""


@dataclass(frozen=True)
class Landed:
    """The outcome of one submit: each submission's place, and a checkpoint covering all."""

    placed: list[Placed]
    checkpoint: Checkpoint
    checkpoint_note: str


class Reused(Exception):
    """A submission's key was attested earlier with other content; nothing of its call landed."""

    def __init__(self, position: int, index: int) -> None:
        super().__init__(
            f"submission {position} reuses the key of entry {index}, which attests other content"
        )
        self.position = position
        self.index = index


@dataclass
class _Pending:
    submissions: Sequence[Submission]
    future: asyncio.Future[Landed] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    submitted: float = field(default_factory=time.perf_counter)
    """When the call was submitted (for the integration-latency metric)."""


@dataclass(frozen=True)
class _Plan:
    """A batch built on a tree: what to write, and what each of its calls will be told."""

    batch: list[_Pending]
    base: merkle.CompactRange
    """The tree it extends (the sequencer's own object: a reload replaces it)."""
    base_bundle_length: int
    tree: merkle.CompactRange
    bundle_length: int
    outcomes: list[list[Placed] | Reused]
    prepared: Prepared | None
    """The store call that lands it; None when it adds no entry. Built believing every
    key new unless the store was asked first (then without the store's check)."""
    checkpoint: Checkpoint
    note: str
    """The signed checkpoint; empty until known when the batch adds nothing."""


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
        self._waiting: collections.deque[_Pending] = collections.deque()
        self._arrival = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._landings: collections.deque[asyncio.Task[None]] = collections.deque()
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
        for task in (self._lease_task, self._task, *reversed(self._landings)):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._token:
            with contextlib.suppress(Exception):
                await self._store.release_lease(self._token)
            self._token = ""
        while self._waiting:
            pending = self._waiting.popleft()
            if not pending.future.done():
                pending.future.set_exception(ConnectionAbortedError("the sequencer stopped"))

    async def submit(self, submissions: Sequence[Submission]) -> Landed:
        """Append `submissions` in order; returns once they are durable and checkpointed.

        All or nothing per call: raises Reused, having written none of them, if one's
        key was attested earlier with other content. Raises NotSequencer on a replica
        that does not hold the lease.
        """
        if not self._token:
            raise NotSequencer(f"this replica does not sequence {self._origin}")
        pending = _Pending(submissions)
        self._waiting.append(pending)
        self._arrival.set()
        return await pending.future

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
                    self._store.prepare(
                        lease=self._token,
                        old_size=0,
                        new_size=0,
                        checkpoint=empty,
                        idempotency={},
                        writes=[],
                    )
                )
            hashes = await self._reader.node_hashes(merkle.CompactRange.ids_for(size))
            full, width = tiles.tile_count(size, tiles.ENTRIES)
            tail = tiles.TileID(tiles.ENTRIES, full, max(width, 1))
            bundle_length = await self._store.bundle_length(tail) if width else 0
            self._range, self._bundle_length = merkle.CompactRange(size, hashes), bundle_length
        LEDGER_SIZE.labels(self._origin).set(size)

    async def _collect(self) -> list[_Pending]:
        """Calls waiting now, and those arriving within max_delay of the first, up to
        max_batch entries (a call is never split; one larger call is a batch alone)."""
        while not self._waiting:
            self._arrival.clear()
            await self._arrival.wait()
        batch = [self._waiting.popleft()]
        count = len(batch[0].submissions)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._max_delay
        while count < self._max_batch:
            if not self._waiting:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                self._arrival.clear()
                try:
                    await asyncio.wait_for(self._arrival.wait(), timeout)
                except TimeoutError:
                    break
                continue
            if count + len(self._waiting[0].submissions) > self._max_batch:
                break  # it opens the next batch
            batch.append(self._waiting.popleft())
            count += len(batch[-1].submissions)
        return batch

    async def _run(self) -> None:
        # A pipeline: each batch is built (tiles, entries, checkpoint, the store call) as
        # soon as it is collected, on the tree the batches before it will leave, and lands
        # once they have. A batch whose predecessor left another tree (it failed, found
        # keys in use, or the tree was reloaded) is built again on the real one first.
        tip = (self._range, self._bundle_length)
        while True:
            while self._landings and self._landings[0].done():
                self._landings.popleft()
            if len(self._landings) >= _PIPELINE:
                await asyncio.wait([self._landings[0]])
                continue
            batch = await self._collect()
            while self._landings and self._landings[0].done():
                self._landings.popleft()
            if not self._landings:
                tip = (self._range, self._bundle_length)
            plan = self._plan(batch, *tip, found=None)
            before = self._landings[-1] if self._landings else None
            self._landings.append(
                asyncio.create_task(self._land(plan, before), name="sequencer landing")
            )
            tip = (plan.tree, plan.bundle_length)

    async def _land(self, plan: _Plan, before: asyncio.Task[None] | None) -> None:
        """Commit a plan once the batch before it landed (built again if its tree is
        stale), then tell its callers."""
        try:
            if before is not None:
                await asyncio.wait([before])
            async with self._tree_lock:
                if plan.base is not self._range:
                    plan = self._plan(plan.batch, self._range, self._bundle_length, found=None)
                plan = await self._commit(plan)
                self._range, self._bundle_length = plan.tree, plan.bundle_length
        except asyncio.CancelledError:
            for pending in plan.batch:
                pending.future.cancel()
            raise
        except Exception as error:
            _log.warning("batch failed; reloading the tree", error=type(error).__name__)
            for pending in plan.batch:
                if not pending.future.done():
                    pending.future.set_exception(error)
            with contextlib.suppress(Exception):
                await self._load()
            return
        # Durable now: the oldest call of the batch waited longest.
        LEDGER_INTEGRATION.labels(self._origin).observe(
            time.perf_counter() - plan.batch[0].submitted
        )
        LEDGER_BATCH.labels(self._origin).observe(plan.tree.size - plan.base.size)
        LEDGER_SIZE.labels(self._origin).set(plan.tree.size)
        for pending, outcome in zip(plan.batch, plan.outcomes, strict=True):
            if pending.future.done():
                continue
            if isinstance(outcome, Reused):
                pending.future.set_exception(outcome)
            else:
                pending.future.set_result(Landed(outcome, plan.checkpoint, plan.note))

    async def _commit(self, plan: _Plan) -> _Plan:
        """Land `plan` in the store, durably; the plan that landed (another one if the
        store had some of its keys: it was built believing them all new)."""
        if plan.prepared is None:
            # Every submission was a duplicate: nothing to write, the latest checkpoint
            # covers them all.
            note = await self._store.checkpoint() or sign_checkpoint(plan.checkpoint, self._signer)
            return dataclasses.replace(plan, note=note)
        try:
            await self._store.commit(plan.prepared)
        except KeysInUse:
            keys = [
                key
                for pending in plan.batch
                for submission in pending.submissions
                for key in submission.idempotency_keys
            ]
            found = await find_keys(self._store, self._reader, keys)
            plan = self._plan(plan.batch, plan.base, plan.base_bundle_length, found=found)
            return await self._commit(plan)
        except Fenced:
            _log.error("fenced: another replica holds the lease", origin=self._origin)
            self._token = ""
            raise
        except Conflict:
            _log.error("another sequencer wrote to this log; reloading", origin=self._origin)
            raise
        return plan

    def _plan(
        self,
        batch: list[_Pending],
        base: merkle.CompactRange,
        base_bundle_length: int,
        found: dict[bytes, tuple[int, Entry]] | None,
    ) -> _Plan:
        """Build `batch` on the tree `base`: indexes, entries, tiles, the signed checkpoint.

        `found` is what the store said of the batch's keys (their entries and indexes), or
        None to build believing every key new: the commit then checks that in the store.
        No I/O, and nothing of the sequencer's state changes.
        """
        known = {key: index for key, (index, _) in (found or {}).items()}
        earlier = dict((found or {}).values())
        work = merkle.CompactRange(base.size, base.hashes)
        accepted_ms = int(self._clock().timestamp() * 1000)
        fresh: dict[int, Submission] = {}
        assigned: dict[bytes, int] = {}
        leaves: list[bytes] = []
        entries: list[bytes] = []
        artefacts: list[tuple[str, int]] = []
        outcomes: list[list[Placed] | Reused] = []
        for pending in batch:
            refused = _refusal(pending, known, assigned, earlier, fresh)
            if refused is not None:
                outcomes.append(refused)
                continue
            placed = []
            for submission in pending.submissions:
                index = None
                for key in submission.idempotency_keys:
                    index = known.get(key, assigned.get(key))
                    if index is not None:
                        break
                if index is not None:
                    when = earlier[index].accepted_ms if index in earlier else accepted_ms
                    placed.append(Placed(index, True, when))
                    continue
                encoded = encode_fields(
                    submission.kind,
                    submission.issuer,
                    submission.artefact_id,
                    submission.artefact_sha256,
                    accepted_ms,
                )
                index = base.size + len(entries)
                leaves.append(merkle.leaf_hash(encoded))
                entries.append(encoded)
                fresh[index] = submission
                for key in submission.idempotency_keys:
                    assigned[key] = index
                artefacts.append((submission.artefact_id, index))
                placed.append(Placed(index, False, accepted_ms))
            outcomes.append(placed)
        # Level-0 nodes are the leaves themselves; the tiles store every 8th level above.
        upper = work.extend(leaves, tiles.TILE_HEIGHT)
        checkpoint = Checkpoint(self._origin, work.size, work.root())
        writes, bundle_length = self._writes(base.size, base_bundle_length, leaves, entries, upper)
        note = sign_checkpoint(checkpoint, self._signer) if entries else ""
        prepared = None
        if entries:
            prepared = self._store.prepare(
                lease=self._token,
                old_size=base.size,
                new_size=work.size,
                checkpoint=note,
                idempotency=assigned,
                artefacts=artefacts,
                writes=writes,
                check_keys=found is None,
            )
        return _Plan(
            batch=batch,
            base=base,
            base_bundle_length=base_bundle_length,
            tree=work,
            bundle_length=bundle_length,
            outcomes=outcomes,
            prepared=prepared,
            checkpoint=checkpoint,
            note=note,
        )

    @staticmethod
    def _writes(
        old_size: int,
        bundle_length: int,
        leaves: list[bytes],
        entries: list[bytes],
        upper: list[tuple[merkle.NodeID, bytes]],
    ) -> tuple[list[Write], int]:
        """Tile and bundle writes for a batch, each contiguous run as one SETRANGE."""
        width = tiles.TILE_WIDTH
        writes: list[Write] = []
        # Level-0 tiles and entry bundles: the batch's leaves and entries, cut at tile ends.
        cut = old_size
        while cut < old_size + len(entries):
            tile_index, position = divmod(cut, width)
            end = min((tile_index + 1) * width, old_size + len(entries))
            run = slice(cut - old_size, end - old_size)
            writes.append(
                Write(
                    tiles.TileID(0, tile_index, width),
                    position * merkle.HASH_SIZE,
                    b"".join(leaves[run]),
                )
            )
            if position == 0:
                bundle_length = 0
            bundle = b"".join(len(e).to_bytes(2, "big") + e for e in entries[run])
            writes.append(
                Write(tiles.TileID(tiles.ENTRIES, tile_index, width), bundle_length, bundle)
            )
            bundle_length += len(bundle)
            cut = end
        runs: dict[tiles.TileID, tuple[int, bytearray]] = {}
        for node, digest in upper:
            tile, position = tiles.hash_position(node.level, node.index)
            _, data = runs.setdefault(tile, (position * merkle.HASH_SIZE, bytearray()))
            data += digest
        writes += [Write(t, start, bytes(data)) for t, (start, data) in runs.items()]
        return writes, bundle_length


def _refusal(
    pending: _Pending,
    known: dict[bytes, int],
    assigned: dict[bytes, int],
    earlier: dict[int, Entry],
    fresh: dict[int, Submission],
) -> Reused | None:
    """Reused for the first submission of a call whose key names other content, else None."""
    for position, submission in enumerate(pending.submissions):
        for key in submission.idempotency_keys:
            if key in assigned:
                if not submission.same_as(fresh[assigned[key]]):
                    return Reused(position, assigned[key])
            elif key in known and not submission.same_as(earlier[known[key]]):
                return Reused(position, known[key])
    return None
