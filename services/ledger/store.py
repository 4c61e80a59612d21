"""The ledger's keys in the store, and the only code that knows their names.

Every key of one log shares the hash tag ``{ledger:<origin>}``, so one script touches
one Redis Cluster slot. The tree is kept as C2SP tlog-tiles: hash tiles (tree levels
0, 8, 16 ... as 32-byte hashes back to back) and entry bundles, each a string that
only ever grows at its end. A batch lands in one script together with the new size and
signed checkpoint, guarded by the size it was built on and by each tile's length (every
write must start where its tile ends): a tree never disagrees with its checkpoint, and
a sequencer that lost the race, or whose view of the tiles is stale, writes nothing.
The keys are listed in ``docs/store.md``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from runtime.store import Store, pack
from runtime.tlog.tiles import ENTRIES, TileID

# KEYS: size, checkpoint, lease, one key per write, then the index buckets the batch adds
# to. ARGV: expected size, new size, checkpoint, lease token, the number of writes, the
# idempotency blob, the artefact blob, "1" to refuse keys already in use, then
# offset/bytes per write. Blobs, not an argument per entry: packing thousands of arguments
# was the client's largest cost per entry. Per index added: the bucket's 3-byte position
# in KEYS, a 1-byte field length, the field, a 1-byte length and the index in decimal. A
# field not yet in its bucket is set to the index; one already there (a shared truncated
# field, or an identifier's next entry) gets ",<index>" appended.
#
# With the check, a batch whose idempotency fields are all new lands in one round trip;
# if any is in use (a retry, or a field shared by truncation) the fields it set are taken
# out again, nothing else is written, and the reply is -1: the sequencer then looks the
# keys up and lands the batch without the check. (Setting and undoing in the rare case
# costs the store less than a separate pass checking every field.)
_COMMIT = """
if redis.call('GET', KEYS[3]) ~= ARGV[4] then
  return redis.error_reply('FENCED this sequencer does not hold the lease ' .. ARGV[4])
end
local size = tonumber(redis.call('GET', KEYS[1]) or '0')
if size ~= tonumber(ARGV[1]) then
  if size == tonumber(ARGV[2]) and redis.call('GET', KEYS[2]) == ARGV[3] then
    return 0
  end
  return redis.error_reply('CONFLICT the log has ' .. size .. ' entries, not ' .. ARGV[1])
end
local writes = tonumber(ARGV[5])
for k = 4, 3 + writes do
  local at = 9 + 2 * (k - 4)
  local length = redis.call('STRLEN', KEYS[k])
  if length ~= tonumber(ARGV[at]) then
    return redis.error_reply('CONFLICT ' .. KEYS[k] .. ' has ' .. length .. ' bytes; a write at '
      .. ARGV[at] .. ' would not extend it')
  end
end
local function records(blob, each)
  local pos = 1
  while pos <= #blob do
    local b1, b2, b3, length = string.byte(blob, pos, pos + 3)
    local key = KEYS[(b1 * 256 + b2) * 256 + b3]
    local field = string.sub(blob, pos + 4, pos + 3 + length)
    pos = pos + 4 + length
    length = string.byte(blob, pos)
    if each(key, field, string.sub(blob, pos + 1, pos + length)) then
      return true
    end
    pos = pos + 1 + length
  end
  return false
end
local check, set = ARGV[8] == '1', 0
if records(ARGV[6], function(key, field, index)
  if redis.call('HSETNX', key, field, index) == 1 then
    set = set + 1
    return false
  end
  if check then
    return true
  end
  redis.call('HSET', key, field, redis.call('HGET', key, field) .. ',' .. index)
  return false
end) then
  records(ARGV[6], function(key, field)
    if set == 0 then
      return true
    end
    redis.call('HDEL', key, field)
    set = set - 1
    return false
  end)
  return -1
end
records(ARGV[7], function(key, field, index)
  if redis.call('HSETNX', key, field, index) == 0 then
    redis.call('HSET', key, field, redis.call('HGET', key, field) .. ',' .. index)
  end
  return false
end)
for k = 4, 3 + writes do
  local at = 9 + 2 * (k - 4)
  redis.call('SETRANGE', KEYS[k], tonumber(ARGV[at]), ARGV[at + 1])
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
return 1
"""

# The fields of many buckets in one command. KEYS: the buckets. ARGV: per field, the
# bucket's 3-byte position in KEYS, a 1-byte length and the field, back to back. Returns
# each field's value, false (nil) where absent.
_READ = """
local blob, pos, found = ARGV[1], 1, {}
while pos <= #blob do
  local b1, b2, b3, length = string.byte(blob, pos, pos + 3)
  found[#found + 1] = redis.call('HGET', KEYS[(b1 * 256 + b2) * 256 + b3],
    string.sub(blob, pos + 4, pos + 3 + length))
  pos = pos + 4 + length
end
return found
"""


@dataclass(frozen=True)
class Layout:
    """How keys map to the buckets of the idempotency and artefact indexes.

    A key's SHA-256 picks its bucket (the first `bucket_bytes`) and its field in the
    bucket (the next bytes). Buckets are small hashes that the store keeps
    listpack-encoded, a few bytes per field, where one big hash costs ~50 bytes per field
    more (docs/ledger.md, "Index buckets"). Fixed for a log's life: another layout would
    not find what was indexed under this one. Tests use narrow layouts to force
    collisions.
    """

    bucket_bytes: int = 2
    """65,536 buckets per index: ~15 fields each at 10^6 entries."""
    short_field: int = 6
    """Field bytes of keys the entries verify (hash-and-kind keys, artefact identifiers):
    a shared field only costs reading one more entry, which the reader checks anyway."""
    long_field: int = 16
    """Field bytes of explicit idempotency keys, which the entries do not carry: with the
    bucket, 144 bits of SHA-256, so two keys sharing one is as unlikely as any SHA-256
    prefix collision the log relies on."""


def slot(key: bytes, bucket_bytes: int, field_bytes: int) -> tuple[bytes, bytes]:
    """The bucket (as bytes) and field of `key`: consecutive slices of SHA-256(key)."""
    digest = hashlib.sha256(key).digest()
    return digest[:bucket_bytes], digest[bucket_bytes : bucket_bytes + field_bytes]


def parse_indexes(value: bytes | None) -> list[int]:
    """The indexes stored in a field's value (decimal, comma-separated), oldest first."""
    return [] if not value else [int(text) for text in value.split(b",")]


def _bytes(value: bytes | str) -> bytes:
    # Our client never decodes replies; the store's type hints allow that it might.
    return value.encode() if isinstance(value, str) else value


class _Buckets:
    """The KEYS positions of the buckets one script touches, and its blob records."""

    def __init__(self, first: int) -> None:
        self.keys: list[bytes] = []
        self._positions: dict[bytes, bytes] = {}
        self._first = first
        self.records: list[bytes] = []

    def add(self, key: bytes, field: bytes, tail: bytes = b"") -> None:
        # Bytes throughout: this runs for every index of a batch, and the client passes
        # bytes arguments through unencoded.
        position = self._positions.get(key)
        if position is None:
            position = self._positions[key] = (self._first + len(self.keys)).to_bytes(3, "big")
            self.keys.append(key)
        self.records.append(b"".join((position, bytes((len(field),)), field, tail)))


# Take the lease if free (a new epoch: the fencing token), or renew it if it is ours.
# KEYS: lease, epoch. ARGV: owner, ttl ms, token held (or ''). Returns the token held, or ''.
_ACQUIRE = """
local current = redis.call('GET', KEYS[1])
if current and current == ARGV[3] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return current
end
if current then
  return ''
end
local token = redis.call('INCR', KEYS[2]) .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return token
"""

# Keep the newest witnessed checkpoint. KEYS: witnessed. ARGV: size, note.
_WITNESSED = """
local size = tonumber(redis.call('HGET', KEYS[1], 'size') or '-1')
if tonumber(ARGV[1]) > size then
  redis.call('HSET', KEYS[1], 'size', ARGV[1], 'note', ARGV[2])
  return 1
end
return 0
"""

# Give the lease up if it is still ours. KEYS: lease. ARGV: token.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class Conflict(Exception):
    """The log grew under this sequencer: another one is writing. Nothing was written."""


class Fenced(Exception):
    """This sequencer lost its lease: it must stop writing. Nothing was written."""


class KeysInUse(Exception):
    """A batch committed with the check finds an idempotency field in use. Nothing was
    written: look the keys up (find_keys) and commit the batch built on what they say."""


@dataclass(frozen=True)
class Prepared:
    """The commit script's call for one batch, packed for the wire."""

    packed: bytes
    """``EVALSHA`` of the commit script with its keys and arguments, as hiredis packs it."""


@dataclass(frozen=True)
class Write:
    """Bytes to place at an offset of a tile or entry bundle."""

    tile: TileID
    offset: int
    data: bytes


class LedgerStore:
    """Durable storage of one log: tiles, entry bundles, size, checkpoint, indexes."""

    def __init__(self, store: Store, origin: str, layout: Layout = Layout()) -> None:
        self._store = store
        self._layout = layout
        self._tag = f"{{ledger:{origin}}}"
        self._size = f"{self._tag}:size"
        self._checkpoint = f"{self._tag}:checkpoint"
        self._lease = f"{self._tag}:lease"
        self._epoch = f"{self._tag}:epoch"
        self._witnessed = f"{self._tag}:witnessed"
        self._idempotency = f"{self._tag}:idempotency:".encode()
        self._artefacts = f"{self._tag}:artefacts:".encode()
        self._keep_witnessed = store.redis.register_script(_WITNESSED)
        self._commit = store.redis.register_script(_COMMIT)
        self._read = store.redis.register_script(_READ)
        self._acquire = store.redis.register_script(_ACQUIRE)
        self._release = store.redis.register_script(_RELEASE)

    def _tile_key(self, tile: TileID) -> str:
        if tile.level == ENTRIES:
            return f"{self._tag}:bundle:{tile.index}"
        return f"{self._tag}:tile:{tile.level}:{tile.index}"

    def _idempotency_place(self, key: bytes) -> tuple[bytes, bytes]:
        # Explicit keys (b"k...") are not in the entries, so nothing could tell two that
        # share a field apart: they get the long field. Hash-and-kind keys are checked
        # against the entries they lead to. (slot() inlined: this runs per key.)
        layout = self._layout
        width = layout.long_field if key[:1] == b"k" else layout.short_field
        digest, cut = hashlib.sha256(key).digest(), layout.bucket_bytes
        return self._idempotency + digest[:cut].hex().encode(), digest[cut : cut + width]

    def _artefact_place(self, artefact_id: str) -> tuple[bytes, bytes]:
        digest, cut = hashlib.sha256(artefact_id.encode()).digest(), self._layout.bucket_bytes
        field = digest[cut : cut + self._layout.short_field]
        return self._artefacts + digest[:cut].hex().encode(), field

    async def hold_lease(self, owner: str, ttl_ms: int, token: str = "") -> str:
        """Take the sequencer lease, or renew `token`; returns the token held, or ''.

        A token is ``<epoch>:<owner>``; the epoch grows with every new holder, so a
        paused sequencer that lost the lease can never write again under it.
        """
        held = await self._acquire(keys=[self._lease, self._epoch], args=[owner, ttl_ms, token])
        return _bytes(held).decode()

    async def release_lease(self, token: str) -> None:
        """Give the lease up, if `token` still holds it."""
        await self._release(keys=[self._lease], args=[token])

    def prepare(
        self,
        *,
        lease: str,
        old_size: int,
        new_size: int,
        checkpoint: str,
        idempotency: Mapping[bytes, int],
        artefacts: Sequence[tuple[str, int]] = (),
        writes: Sequence[Write],
        check_keys: bool = False,
    ) -> Prepared:
        """The commit script's call for a batch, built without I/O (see :meth:`commit`).

        Building it is most of a commit's client-side work (two SHA-256 and a bucket per
        entry); the sequencer does it while the batch before lands.
        """
        keys: list[bytes | str] = [self._size, self._checkpoint, self._lease]
        keys += [self._tile_key(write.tile) for write in writes]
        positions: dict[bytes, bytes] = {}
        keyed = self._records(
            keys, positions, [(self._idempotency_place(k), i) for k, i in idempotency.items()]
        )
        # In order: an identifier attested twice in one batch (a license and its status
        # change) gets both indexes, oldest first.
        attested = self._records(
            keys, positions, [(self._artefact_place(a), i) for a, i in artefacts]
        )
        args: list[bytes | str | int] = [old_size, new_size, checkpoint, lease, len(writes)]
        args += [keyed, attested, b"1" if check_keys else b"0"]
        for write in writes:
            args += [write.offset, write.data]
        # Packed here, in C: redis-py's own packing of these thousands of arguments was a
        # tenth of the sequencer's work per entry.
        return Prepared(pack("EVALSHA", self._commit.sha, len(keys), *keys, *args))

    @staticmethod
    def _records(
        keys: list[bytes | str],
        positions: dict[bytes, bytes],
        places: Sequence[tuple[tuple[bytes, bytes], int]],
    ) -> bytes:
        """The commit script's blob for `places`, declaring each new bucket in `keys`."""
        records = []
        for (bucket, field), index in places:
            position = positions.get(bucket)
            if position is None:
                position = positions[bucket] = (len(keys) + 1).to_bytes(3, "big")
                keys.append(bucket)
            text = b"%d" % index
            records.append(b"%b%c%b%c%b" % (position, len(field), field, len(text), text))
        return b"".join(records)

    async def commit(self, prepared: Prepared) -> bool:
        """Land a prepared batch atomically and durably; False if it had landed already
        (a replay).

        With `check_keys`, raises KeysInUse if any idempotency key's field is already in an
        index (the caller built the batch believing every key new). Raises Fenced when the
        lease is not the live lease, and Conflict when the log is not at `old_size`.
        Nothing is written when it raises.
        """
        from redis.exceptions import NoScriptError, ResponseError

        try:
            try:
                landed = await self._store.call_durably(prepared.packed)
            except NoScriptError:  # the server restarted, and forgot its scripts
                await self._store.redis.script_load(_COMMIT)
                landed = await self._store.call_durably(prepared.packed)
        except ResponseError as error:
            if str(error).startswith("CONFLICT"):
                raise Conflict(str(error).removeprefix("CONFLICT ")) from None
            if str(error).startswith("FENCED"):
                raise Fenced(str(error).removeprefix("FENCED ")) from None
            raise
        if landed == -1:
            raise KeysInUse("an idempotency key of the batch is in use")
        # Durable on return, also on a replay (0): call_durably waited for the fsync.
        return bool(landed)

    async def save_witnessed(self, size: int, note: str) -> None:
        """Keep `note` (checkpoint of `size`, with cosignatures) if newer; durable on return."""
        await self._keep_witnessed(keys=[self._witnessed], args=[size, note])
        await self._store.wait_durable()

    async def witnessed(self) -> str | None:
        """The newest checkpoint the witness quorum cosigned, or None."""
        value = await self._store.redis.hget(self._witnessed, "note")
        return None if value is None else _bytes(value).decode()

    async def artefact_indexes(self, artefact_id: str) -> list[int]:
        """Indexes of the entries that may attest `artefact_id`, oldest first.

        Every entry attesting it is among them; an identifier sharing its truncated field
        adds its own, so the caller keeps only the entries that name `artefact_id`.
        """
        bucket, field = self._artefact_place(artefact_id)
        value = await self._store.redis.hget(bucket, field)
        return parse_indexes(None if value is None else _bytes(value))

    async def size(self) -> int:
        """Number of entries in the log."""
        value = await self._store.redis.get(self._size)
        return 0 if value is None else int(value)

    async def checkpoint(self) -> str | None:
        """The latest signed checkpoint note, or None for an empty log."""
        value = await self._store.redis.get(self._checkpoint)
        return None if value is None else _bytes(value).decode()

    async def candidates(self, keys: Sequence[bytes]) -> list[list[int]]:
        """Per idempotency key, the indexes filed under its field, in one round trip.

        The entry a key created is among them. A hash-and-kind key's field is short and may
        be shared, so the caller keeps the entry that attests that hash and kind; an
        explicit key's (``k...``) is long enough to be its own (``Layout.long_field``).
        """
        if not keys:
            return []
        buckets = _Buckets(first=1)
        for key in keys:
            buckets.add(*self._idempotency_place(key))
        values = await self._read(keys=buckets.keys, args=[b"".join(buckets.records)])
        return [[] if v is None else parse_indexes(_bytes(v)) for v in values]

    async def tiles(self, tiles: Sequence[TileID]) -> list[bytes]:
        """The stored bytes of each tile or bundle (as far as written), in one round trip."""
        if not tiles:
            return []
        values = await self._store.redis.mget([self._tile_key(t) for t in tiles])
        return [b"" if v is None else _bytes(v) for v in values]

    async def ranges(self, wanted: Sequence[tuple[TileID, int, int]]) -> list[bytes]:
        """Byte ranges [start, end) of tiles, in one round trip."""
        async with self._store.redis.pipeline(transaction=False) as pipe:
            for tile, start, end in wanted:
                pipe.getrange(self._tile_key(tile), start, end - 1)
            values = await pipe.execute()
        return [_bytes(v) for v in values]

    async def bundle_length(self, tile: TileID) -> int:
        """Bytes written so far to an entry bundle."""
        length: int = await self._store.redis.strlen(self._tile_key(tile))
        return length
