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

from runtime.store import Store
from runtime.tlog.tiles import ENTRIES, TileID

# KEYS: size, checkpoint, idempotency, lease, artefacts, then one key per write. ARGV: expected
# size, new size, checkpoint, lease token, the idempotency blob, the artefact blob, then
# offset/bytes per write. Blobs, not an argument per entry: packing thousands of arguments
# was the client's largest cost per entry. Idempotency blob: per key, a 2-byte length, the
# key, a 1-byte length and the index in decimal. Artefact blob: per artefact identifier, its
# 16-byte field, a 4-byte count and that many 8-byte big-endian indexes.
_COMMIT = """
if redis.call('GET', KEYS[4]) ~= ARGV[4] then
  return redis.error_reply('FENCED this sequencer does not hold the lease ' .. ARGV[4])
end
local size = tonumber(redis.call('GET', KEYS[1]) or '0')
if size ~= tonumber(ARGV[1]) then
  if size == tonumber(ARGV[2]) and redis.call('GET', KEYS[2]) == ARGV[3] then
    return 0
  end
  return redis.error_reply('CONFLICT the log has ' .. size .. ' entries, not ' .. ARGV[1])
end
local arg = 7
for k = 6, #KEYS do
  local length = redis.call('STRLEN', KEYS[k])
  if length ~= tonumber(ARGV[arg]) then
    return redis.error_reply('CONFLICT ' .. KEYS[k] .. ' has ' .. length .. ' bytes; a write at '
      .. ARGV[arg] .. ' would not extend it')
  end
  arg = arg + 2
end
local function flush(command, key, items)
  if #items > 0 then
    redis.call(command, key, unpack(items))
  end
  return {}
end
local blob, pos, items = ARGV[5], 1, {}
while pos <= #blob do
  local length = string.byte(blob, pos) * 256 + string.byte(blob, pos + 1)
  items[#items + 1] = string.sub(blob, pos + 2, pos + 1 + length)
  pos = pos + 2 + length
  length = string.byte(blob, pos)
  items[#items + 1] = string.sub(blob, pos + 1, pos + length)
  pos = pos + 1 + length
  if #items >= 2000 then
    items = flush('HSET', KEYS[3], items)
  end
end
flush('HSET', KEYS[3], items)
blob, pos = ARGV[6], 1
local fields, additions = {}, {}
while pos <= #blob do
  local field = string.sub(blob, pos, pos + 15)
  local b1, b2, b3, b4 = string.byte(blob, pos + 16, pos + 19)
  local count = ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  fields[#fields + 1] = field
  additions[#additions + 1] = string.sub(blob, pos + 20, pos + 19 + 8 * count)
  pos = pos + 20 + 8 * count
end
for first = 1, #fields, 1000 do
  local last = math.min(first + 999, #fields)
  local chains = redis.call('HMGET', KEYS[5], unpack(fields, first, last))
  items = {}
  for i = first, last do
    items[#items + 1] = fields[i]
    items[#items + 1] = (chains[i - first + 1] or '') .. additions[i]
  end
  flush('HSET', KEYS[5], items)
end
for k = 6, #KEYS do
  local at = 7 + 2 * (k - 6)
  redis.call('SETRANGE', KEYS[k], tonumber(ARGV[at]), ARGV[at + 1])
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
return 1
"""


def _artefact_field(artefact_id: str) -> bytes:
    # 16 bytes of SHA-256 name an identifier of up to 256 characters: collisions need
    # ~2^64 identifiers, and the entries themselves say which identifier they attest.
    return hashlib.sha256(artefact_id.encode()).digest()[:16]


def _idempotency_blob(idempotency: Mapping[bytes, int]) -> bytes:
    parts = []
    for key, index in idempotency.items():
        text = str(index).encode()
        parts += [len(key).to_bytes(2, "big"), key, bytes([len(text)]), text]
    return b"".join(parts)


def _artefact_blob(artefacts: Sequence[tuple[str, int]]) -> bytes:
    # One record per identifier, its indexes in order: an identifier attested twice in one
    # batch (a license and its status change) appends both to its chain.
    grouped: dict[bytes, list[bytes]] = {}
    for artefact_id, index in artefacts:
        grouped.setdefault(_artefact_field(artefact_id), []).append(index.to_bytes(8, "big"))
    return b"".join(
        field + len(indexes).to_bytes(4, "big") + b"".join(indexes)
        for field, indexes in grouped.items()
    )


def _bytes(value: bytes | str) -> bytes:
    # Our client never decodes replies; the store's type hints allow that it might.
    return value.encode() if isinstance(value, str) else value


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


@dataclass(frozen=True)
class Write:
    """Bytes to place at an offset of a tile or entry bundle."""

    tile: TileID
    offset: int
    data: bytes


class LedgerStore:
    """Durable storage of one log: tiles, entry bundles, size, checkpoint, idempotency."""

    def __init__(self, store: Store, origin: str) -> None:
        self._store = store
        self._tag = f"{{ledger:{origin}}}"
        self._size = f"{self._tag}:size"
        self._checkpoint = f"{self._tag}:checkpoint"
        self._idempotency = f"{self._tag}:idempotency"
        self._lease = f"{self._tag}:lease"
        self._epoch = f"{self._tag}:epoch"
        self._artefacts = f"{self._tag}:artefacts"
        self._witnessed = f"{self._tag}:witnessed"
        self._keep_witnessed = store.redis.register_script(_WITNESSED)
        self._commit = store.redis.register_script(_COMMIT)
        self._acquire = store.redis.register_script(_ACQUIRE)
        self._release = store.redis.register_script(_RELEASE)

    def _tile_key(self, tile: TileID) -> str:
        if tile.level == ENTRIES:
            return f"{self._tag}:bundle:{tile.index}"
        return f"{self._tag}:tile:{tile.level}:{tile.index}"

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

    async def commit(
        self,
        *,
        lease: str,
        old_size: int,
        new_size: int,
        checkpoint: str,
        idempotency: Mapping[bytes, int],
        artefacts: Sequence[tuple[str, int]] = (),
        writes: Sequence[Write],
    ) -> bool:
        """Land a batch atomically and durably; False if it had landed already (a replay).

        Raises Fenced when `lease` is not the live lease, and Conflict when the log is not
        at `old_size`.
        """
        from redis.exceptions import ResponseError

        keys = [self._size, self._checkpoint, self._idempotency, self._lease, self._artefacts]
        args: list[bytes | str | int] = [
            old_size,
            new_size,
            checkpoint,
            lease,
            _idempotency_blob(idempotency),
            _artefact_blob(artefacts),
        ]
        for write in writes:
            keys.append(self._tile_key(write.tile))
            args += [write.offset, write.data]
        try:
            landed = await self._commit(keys=keys, args=args)
        except ResponseError as error:
            if str(error).startswith("CONFLICT"):
                raise Conflict(str(error).removeprefix("CONFLICT ")) from None
            if str(error).startswith("FENCED"):
                raise Fenced(str(error).removeprefix("FENCED ")) from None
            raise
        # Also on a replay: the first attempt may have died before its fsync was confirmed.
        await self._store.wait_durable()
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
        """Indexes of the entries attesting `artefact_id`, oldest first."""
        chain = await self._store.redis.hget(self._artefacts, _artefact_field(artefact_id))
        data = b"" if chain is None else _bytes(chain)
        return [int.from_bytes(data[i : i + 8], "big") for i in range(0, len(data), 8)]

    async def size(self) -> int:
        """Number of entries in the log."""
        value = await self._store.redis.get(self._size)
        return 0 if value is None else int(value)

    async def checkpoint(self) -> str | None:
        """The latest signed checkpoint note, or None for an empty log."""
        value = await self._store.redis.get(self._checkpoint)
        return None if value is None else _bytes(value).decode()

    async def indexes(self, keys: Sequence[bytes]) -> list[int | None]:
        """The entry index each idempotency key created, or None."""
        if not keys:
            return []
        values = await self._store.redis.hmget(self._idempotency, list(keys))
        return [None if v is None else int(v) for v in values]

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
