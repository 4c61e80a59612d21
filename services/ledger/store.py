"""The ledger's keys in the store, and the only code that knows their names.

Every key of one log shares the hash tag ``{ledger:<origin>}``, so one script touches
one Redis Cluster slot. The tree is kept as C2SP tlog-tiles: hash tiles (tree levels
0, 8, 16 ... as 32-byte hashes back to back) and entry bundles, each a string grown
with SETRANGE at a computed offset, so replaying a batch writes the same bytes again.
A batch lands in one script together with the new size and signed checkpoint, guarded
by the size it was built on: a tree never disagrees with its checkpoint, and a
sequencer that lost the race writes nothing. The keys are listed in ``docs/store.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from runtime.store import Store
from runtime.tlog.tiles import ENTRIES, TileID

# KEYS: size, checkpoint, idempotency, then one key per write. ARGV: expected size, new size,
# checkpoint, pair count, key/index pairs..., then offset/bytes per write.
_COMMIT = """
local size = tonumber(redis.call('GET', KEYS[1]) or '0')
if size ~= tonumber(ARGV[1]) then
  if size == tonumber(ARGV[2]) and redis.call('GET', KEYS[2]) == ARGV[3] then
    return 0
  end
  return redis.error_reply('CONFLICT the log has ' .. size .. ' entries, not ' .. ARGV[1])
end
local pairs_count = tonumber(ARGV[4])
local arg = 5
for i = 1, pairs_count do
  redis.call('HSET', KEYS[3], ARGV[arg], ARGV[arg + 1])
  arg = arg + 2
end
for k = 4, #KEYS do
  redis.call('SETRANGE', KEYS[k], tonumber(ARGV[arg]), ARGV[arg + 1])
  arg = arg + 2
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
return 1
"""


def _bytes(value: bytes | str) -> bytes:
    # Our client never decodes replies; the store's type hints allow that it might.
    return value.encode() if isinstance(value, str) else value


class Conflict(Exception):
    """The log grew under this sequencer: another one is writing. Nothing was written."""


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
        self._commit = store.redis.register_script(_COMMIT)

    def _tile_key(self, tile: TileID) -> str:
        if tile.level == ENTRIES:
            return f"{self._tag}:bundle:{tile.index}"
        return f"{self._tag}:tile:{tile.level}:{tile.index}"

    async def commit(
        self,
        *,
        old_size: int,
        new_size: int,
        checkpoint: str,
        idempotency: Mapping[bytes, int],
        writes: Sequence[Write],
    ) -> bool:
        """Land a batch atomically and durably; False if it had landed already (a replay).

        Raises Conflict when the log is not at `old_size` (another sequencer wrote).
        """
        from redis.exceptions import ResponseError

        keys = [self._size, self._checkpoint, self._idempotency]
        args: list[bytes | str | int] = [old_size, new_size, checkpoint, len(idempotency)]
        for key, index in idempotency.items():
            args += [key, index]
        for write in writes:
            keys.append(self._tile_key(write.tile))
            args += [write.offset, write.data]
        try:
            landed = await self._commit(keys=keys, args=args)
        except ResponseError as error:
            if str(error).startswith("CONFLICT"):
                raise Conflict(str(error).removeprefix("CONFLICT ")) from None
            raise
        # Also on a replay: the first attempt may have died before its fsync was confirmed.
        await self._store.wait_durable()
        return bool(landed)

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
