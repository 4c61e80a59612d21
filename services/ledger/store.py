"""The ledger's keys in the store, and the only code that knows their names.

Every key of one log shares the hash tag ``{ledger:<origin>}`` so that one script
touches one Redis Cluster slot. This is the spine's thin log (entries by index,
idempotency); the Merkle tree, tiles and checkpoints join it with issue 3.

The keys are listed with every other key in ``docs/store.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from runtime.store import Store

# Appends atomically: replays an idempotency key, or takes the next index and
# stores the entry under it. Returns {created (0/1), index}.
_APPEND = """
local existing = redis.call('HGET', KEYS[3], ARGV[1])
if existing then
  return {0, tonumber(existing)}
end
local index = redis.call('INCR', KEYS[1]) - 1
redis.call('HSET', KEYS[2], index, ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], index)
return {1, index}
"""


@dataclass(frozen=True)
class Appended:
    """The outcome of one append."""

    index: int
    created: bool


class LedgerStore:
    """Durable storage of one log's entries."""

    def __init__(self, store: Store, origin: str) -> None:
        self._store = store
        tag = f"{{ledger:{origin}}}"
        self._size = f"{tag}:size"
        self._entries = f"{tag}:entries"
        self._idempotency = f"{tag}:idempotency"
        self._append = store.redis.register_script(_APPEND)

    async def append(self, idempotency_key: str, entry: bytes) -> Appended:
        """Store `entry` at the next index unless `idempotency_key` was used; durable on return."""
        created, index = await self._append(
            keys=[self._size, self._entries, self._idempotency], args=[idempotency_key, entry]
        )
        # Also on a replay: the first attempt may have died before its fsync was confirmed.
        await self._store.wait_durable()
        return Appended(index=int(index), created=bool(created))

    async def entry(self, index: int) -> bytes | None:
        """The stored bytes of entry `index`, or None."""
        value = await self._store.redis.hget(self._entries, str(index))
        if isinstance(value, str):  # only if a client decodes responses; ours does not
            return value.encode()
        return value

    async def index_of(self, idempotency_key: str) -> int | None:
        """The index the key created, or None."""
        value = await self._store.redis.hget(self._idempotency, idempotency_key)
        return None if value is None else int(value)

    async def size(self) -> int:
        """Number of entries."""
        value = await self._store.redis.get(self._size)
        return 0 if value is None else int(value)
