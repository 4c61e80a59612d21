"""The licenses service's keys in the store, and the only code that knows their names.

Every key shares the hash tag ``{licenses}``, so each script touches one Redis Cluster
slot. Records are serialized protobuf messages. A license is written in one script
together with its issuer's idempotency key, its place in the holder's index and its
status-list entry, so a crash never leaves a license without them (or them without it);
every write is fsynced before the caller hears of it. The keys are listed in
``docs/store.md``.

Status lists are read through an in-process cache that the store keeps honest
(:class:`runtime.tracking.TrackedCache`, CLIENT TRACKING on the status-list prefix):
see :attr:`LicenseStore.status_cache`. This module's own status writes drop the list
from the cache as soon as the write returns, before the store's invalidation arrives.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from genproto.certfree.licenses.v1 import licenses_pb2
from runtime.store import Store
from runtime.tracking import TrackedCache

TAG = "{licenses}"

STATUS_LIST_CAPACITY = 1 << 20
"""Licenses per status list: 512 KiB of 4-bit entries before compression."""

STATUS_BLOCK = 1024
"""Bytes of a status list read and cached together (2,048 entries): a list is up to
512 KiB, too much to fetch again after every issuance, while a GETRANGE of a KiB costs
the store and the client about what one byte does."""

STATUS_PREFIX = f"{TAG}:status:"
"""The prefix of every status-list key, and only of those (``status-next`` differs)."""

# KEYS: request, license, holder index, status list, unattested, license's holder.
# ARGV: request value, license bytes, license id, issued-at score, status byte offset,
# nibble shift (0 or 4), status value, holder token.
_ISSUE = """
local existing = redis.call('GET', KEYS[1])
if existing then
  return existing
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
local offset = tonumber(ARGV[5])
local shift = tonumber(ARGV[6])
local old = string.byte(redis.call('GETRANGE', KEYS[4], offset, offset)) or 0
local keep = shift == 0 and (old - old % 16) or (old % 16)
redis.call('SETRANGE', KEYS[4], offset, string.char(keep + tonumber(ARGV[7]) * 2 ^ shift))
redis.call('SADD', KEYS[5], ARGV[3])
redis.call('SET', KEYS[6], ARGV[8])
return false
"""

# KEYS: license, status list, request (or a dummy when none), unattested.
# ARGV: expected license bytes, new license bytes, status byte offset, shift, value,
# request value (or ''), license id.
_UPDATE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('CONFLICT the license changed meanwhile')
end
if ARGV[6] ~= '' then
  local existing = redis.call('GET', KEYS[3])
  if existing then
    return existing
  end
  redis.call('SET', KEYS[3], ARGV[6])
end
redis.call('SET', KEYS[1], ARGV[2])
local offset = tonumber(ARGV[3])
local shift = tonumber(ARGV[4])
local old = string.byte(redis.call('GETRANGE', KEYS[2], offset, offset)) or 0
local keep = shift == 0 and (old - old % 16) or (old % 16)
redis.call('SETRANGE', KEYS[2], offset, string.char(keep + tonumber(ARGV[5]) * 2 ^ shift))
redis.call('SADD', KEYS[4], ARGV[7])
return false
"""


# KEYS: active key, published keys, sealed keys. ARGV: key id, key bytes, sealed bytes.
_FIRST_KEY = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""

# KEYS: license. ARGV: expected bytes, new bytes.
_REPLACE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""

# KEYS: license, unattested. ARGV: expected bytes, new bytes, license id.
_ATTESTED = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SREM', KEYS[2], ARGV[3])
return 1
"""

# KEYS: status lists (one per read). ARGV: first and last byte offset of each read.
# One command for a whole batch of status reads: a redis-py pipeline costs the client
# more per call than it saves below ten reads. Read-only; every key shares the tag.
_STATUS_RANGES = """
local found = {}
for i, key in ipairs(KEYS) do
  found[i] = redis.call('GETRANGE', key, ARGV[2 * i - 1], ARGV[2 * i])
end
return found
"""

CatalogueEntry = licenses_pb2.LicenseType | licenses_pb2.Department
_Entry = TypeVar("_Entry", licenses_pb2.LicenseType, licenses_pb2.Department)
_CATALOGUES: dict[type, str] = {
    licenses_pb2.LicenseType: "types",
    licenses_pb2.Department: "departments",
}


def _catalogue_key(entry: CatalogueEntry) -> str:
    return f"{TAG}:{_CATALOGUES[type(entry)]}"


def _entry(kind: type[_Entry], record: bytes, revision: Any) -> _Entry:
    entry = kind.FromString(record)
    entry.revision = int(revision or 0)
    return entry


class Changed(Exception):
    """A license changed between read and write; nothing was written. Read again."""


@dataclass(frozen=True)
class StatusSlot:
    """Where a license's status lives: list number (from 1) and index in it."""

    list_number: int
    index: int

    @property
    def offset(self) -> int:
        """The byte of the 4-bit entry (two per byte, least significant first)."""
        return self.index // 2

    @property
    def shift(self) -> int:
        """The entry's bit offset inside its byte."""
        return 4 * (self.index % 2)


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


class LicenseStore:
    """Durable storage of the catalogue, licenses, status lists, keys and accesses.

    With `status_cache` (the default), :attr:`status_cache` keeps status-list ranges in
    process once :meth:`start` has established tracking; without it, it is None.
    """

    def __init__(self, store: Store, *, status_cache: bool = True) -> None:
        self._store = store
        self._redis = store.redis
        self.status_cache: TrackedCache[bytes] | None = (
            TrackedCache(store.redis, [STATUS_PREFIX]) if status_cache else None
        )
        """Status-list ranges by key and first offset; None when turned off."""
        self._status_ranges = self._redis.register_script(_STATUS_RANGES)
        self._issue = self._redis.register_script(_ISSUE)
        self._update = self._redis.register_script(_UPDATE)
        self._attested = self._redis.register_script(_ATTESTED)
        self._replace = self._redis.register_script(_REPLACE)
        self._first_key = self._redis.register_script(_FIRST_KEY)

    async def start(self) -> None:
        """Start tracking status lists for the cache (it runs uncached until tracked)."""
        if self.status_cache is not None:
            await self.status_cache.start()

    async def stop(self) -> None:
        """Stop tracking and close the tracking connection."""
        if self.status_cache is not None:
            await self.status_cache.stop()

    @contextlib.contextmanager
    def _writing_status(self, key: str) -> Iterator[None]:
        # Dropped once the script returns, or fails (it may have run): this process's
        # next read goes to the store even if the store's invalidation is still on its way.
        try:
            yield
        finally:
            if self.status_cache is not None:
                self.status_cache.invalidate(key)

    # --- catalogue ------------------------------------------------------------------

    async def upsert(self, entry: CatalogueEntry, expected_revision: int) -> int:
        """Store a license type or department (output fields as given); its new revision.

        Raises RevisionMismatch when `expected_revision` is set and not the stored one.
        """
        record = type(entry).FromString(entry.SerializeToString())
        record.ClearField("revision")  # kept beside the record, not inside it
        return await self._store.upsert_revisioned(
            _catalogue_key(entry), entry.code, expected_revision, record.SerializeToString()
        )

    async def catalogue(self, kind: type[_Entry]) -> list[_Entry]:
        """Every license type or department, by code, each with its revision."""
        raw = await self._redis.hgetall(f"{TAG}:{_CATALOGUES[kind]}")
        fields = {_bytes(k).decode(): _bytes(v) for k, v in raw.items()}
        return [
            _entry(kind, record, fields.get(f"{code}:revision"))
            for code, record in sorted(fields.items())
            if not code.endswith(":revision")
        ]

    async def catalogue_entry(self, kind: type[_Entry], code: str) -> _Entry | None:
        """One license type or department, with its revision, or None."""
        record, revision = await self._redis.hmget(
            f"{TAG}:{_CATALOGUES[kind]}", [code, f"{code}:revision"]
        )
        return None if record is None else _entry(kind, _bytes(record), revision)

    # --- licenses -------------------------------------------------------------------

    async def next_status_slot(self, department: str) -> StatusSlot:
        """A fresh status-list entry of `department` (a gap after a failed issue is harmless)."""
        number = int(await self._redis.incr(f"{TAG}:status-next:{department}")) - 1
        return StatusSlot(number // STATUS_LIST_CAPACITY + 1, number % STATUS_LIST_CAPACITY)

    def _status_key(self, department: str, slot: StatusSlot) -> str:
        return f"{TAG}:status:{department}:{slot.list_number}"

    async def issue(
        self,
        *,
        request_key: str,
        request_value: str,
        license: licenses_pb2.License,
        holder: str,
        slot: StatusSlot,
        status_value: int,
    ) -> str | None:
        """Store a new license atomically and durably; None, or the earlier request's value."""
        status_key = self._status_key(license.issuer_department, slot)
        with self._writing_status(status_key):
            existing = await self._issue(
                keys=[
                    f"{TAG}:request:{request_key}",
                    f"{TAG}:license:{license.license_id}",
                    f"{TAG}:holder:{holder}",
                    status_key,
                    f"{TAG}:unattested",
                    f"{TAG}:license-holder:{license.license_id}",
                ],
                args=[
                    request_value,
                    license.SerializeToString(),
                    license.license_id,
                    license.issued_at.ToMilliseconds(),
                    slot.offset,
                    slot.shift,
                    status_value,
                    holder,
                ],
            )
        await self._store.wait_durable()
        return None if existing is None else _bytes(existing).decode()

    async def holder_of(self, license_id: str) -> str | None:
        """The holder index token of a license, or None."""
        value = await self._redis.get(f"{TAG}:license-holder:{license_id}")
        return None if value is None else _bytes(value).decode()

    async def request(self, request_key: str) -> str | None:
        """The value stored under an idempotency key, or None."""
        value = await self._redis.get(f"{TAG}:request:{request_key}")
        return None if value is None else _bytes(value).decode()

    async def remember(self, request_key: str, value: str) -> str | None:
        """Store `value` under an idempotency key unless one is there; None, or that one."""
        stored = await self._redis.set(f"{TAG}:request:{request_key}", value, nx=True, get=True)
        await self._store.wait_durable()
        return None if stored is None else _bytes(stored).decode()  # type: ignore[arg-type]

    async def license(self, license_id: str) -> tuple[licenses_pb2.License, bytes] | None:
        """A license and its stored bytes (for a guarded update), or None."""
        raw = await self._redis.get(f"{TAG}:license:{license_id}")
        if raw is None:
            return None
        data = _bytes(raw)
        return licenses_pb2.License.FromString(data), data

    async def update(
        self,
        before: bytes,
        after: licenses_pb2.License,
        *,
        slot: StatusSlot,
        status_value: int,
        request_key: str = "",
        request_value: str = "",
    ) -> str | None:
        """Replace a license read as `before`; set its status entry; None, or an earlier
        request's value. Raises Changed when the license is no longer `before`."""
        from redis.exceptions import ResponseError

        status_key = self._status_key(after.issuer_department, slot)
        try:
            with self._writing_status(status_key):
                existing = await self._update(
                    keys=[
                        f"{TAG}:license:{after.license_id}",
                        status_key,
                        f"{TAG}:request:{request_key or '-'}",
                        f"{TAG}:unattested",
                    ],
                    args=[
                        before,
                        after.SerializeToString(),
                        slot.offset,
                        slot.shift,
                        status_value,
                        request_value if request_key else "",
                        after.license_id,
                    ],
                )
        except ResponseError as error:
            if str(error).startswith("CONFLICT"):
                raise Changed(str(error)) from None
            raise
        await self._store.wait_durable()
        return None if existing is None else _bytes(existing).decode()

    async def save_attested(self, before: bytes, after: licenses_pb2.License) -> bool:
        """Record ledger indexes on a license read as `before`; False if it changed meanwhile."""
        saved = await self._attested(
            keys=[f"{TAG}:license:{after.license_id}", f"{TAG}:unattested"],
            args=[before, after.SerializeToString(), after.license_id],
        )
        await self._store.wait_durable()
        return bool(saved)

    async def replace(self, before: bytes, after: licenses_pb2.License) -> bool:
        """Replace a license read as `before`; False (nothing written) if it changed meanwhile."""
        replaced = await self._replace(
            keys=[f"{TAG}:license:{after.license_id}"], args=[before, after.SerializeToString()]
        )
        await self._store.wait_durable()
        return bool(replaced)

    async def queue_unattested(self, member: str) -> None:
        """Queue something else than a license (``key:<department>:<key id>``) for attestation."""
        await self._redis.sadd(f"{TAG}:unattested", member)
        await self._store.wait_durable()

    async def dequeue_unattested(self, member: str) -> None:
        """Remove a queued item once it is attested."""
        await self._redis.srem(f"{TAG}:unattested", member)

    async def unattested(self, count: int = 100) -> list[str]:
        """Licenses with an issuance or status change not yet in the ledger."""
        members: list[bytes] = await self._redis.srandmember(  # type: ignore[assignment]
            f"{TAG}:unattested", count
        )
        return sorted(_bytes(m).decode() for m in members or [])

    async def holder_licenses(self, holder: str) -> list[licenses_pb2.License]:
        """A holder's licenses, newest first."""
        ids: list[bytes] = await self._redis.zrevrange(f"{TAG}:holder:{holder}", 0, -1)  # type: ignore[assignment]
        if not ids:
            return []
        raw = await self._redis.mget([f"{TAG}:license:{_bytes(i).decode()}" for i in ids])
        return [licenses_pb2.License.FromString(_bytes(r)) for r in raw if r is not None]

    async def status_list(self, department: str, list_number: int) -> bytes:
        """The raw 4-bit entries of one status list (as far as written)."""
        raw = await self._redis.get(self._status_key(department, StatusSlot(list_number, 0)))
        return b"" if raw is None else _bytes(raw)

    def status_key(self, department: str, list_number: int) -> str:
        """The store key of a status list: what the status cache keys its ranges by."""
        return self._status_key(department, StatusSlot(list_number, 0))

    async def status_ranges(self, reads: Sequence[tuple[str, int, int, int]]) -> list[bytes]:
        """Byte ranges of status lists, one per (department, list number, first offset,
        last offset), in one round trip; each shorter (or empty) where the list is.

        A lone read is one GETRANGE; several are one read-only script call (one command),
        so each range is as fresh as a lone read would be.
        """
        if len(reads) == 1:
            department, number, first, last = reads[0]
            raw = await self._redis.getrange(self.status_key(department, number), first, last)
            return [_bytes(raw) if raw else b""]
        if not reads:
            return []
        found: list[bytes | str] = await self._status_ranges(
            keys=[self.status_key(d, number) for d, number, _, _ in reads],
            args=[offset for _, _, first, last in reads for offset in (first, last)],
        )
        return [_bytes(raw) if raw else b"" for raw in found]

    async def status_lists(self, department: str) -> int:
        """How many status lists `department` has (0 before its first license)."""
        issued = int(await self._redis.get(f"{TAG}:status-next:{department}") or 0)
        return 0 if issued == 0 else (issued - 1) // STATUS_LIST_CAPACITY + 1

    # --- keys -----------------------------------------------------------------------

    async def save_key(
        self, key: licenses_pb2.IssuerKey, sealed: bytes | None = None, *, active: bool = False
    ) -> None:
        """Publish (or update) a department key; with `sealed`, store its sealed private key."""
        department = key.department_code
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(f"{TAG}:keys:{department}", key.key_id, key.SerializeToString())
            if sealed is not None:
                pipe.hset(f"{TAG}:sealed-keys:{department}", key.key_id, sealed)
            if active:
                pipe.set(f"{TAG}:active-key:{department}", key.key_id)
            await pipe.execute()
        await self._store.wait_durable()

    async def save_first_key(self, key: licenses_pb2.IssuerKey, sealed: bytes) -> bool:
        """Publish a department's first key and make it active, unless it has an active key
        already (another replica won the race): then nothing is written and False returned."""
        department = key.department_code
        created = await self._first_key(
            keys=[
                f"{TAG}:active-key:{department}",
                f"{TAG}:keys:{department}",
                f"{TAG}:sealed-keys:{department}",
            ],
            args=[key.key_id, key.SerializeToString(), sealed],
        )
        await self._store.wait_durable()
        return bool(created)

    async def save_keys(self, keys: Sequence[licenses_pb2.IssuerKey]) -> None:
        """Update several published keys at once (a rotation retires one, adds another)."""
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.hset(f"{TAG}:keys:{key.department_code}", key.key_id, key.SerializeToString())
            await pipe.execute()
        await self._store.wait_durable()

    async def keys(self, department: str) -> list[licenses_pb2.IssuerKey]:
        """Every published key of a department."""
        raw = await self._redis.hvals(f"{TAG}:keys:{department}")
        return [licenses_pb2.IssuerKey.FromString(_bytes(r)) for r in raw]

    async def active_key(self, department: str) -> tuple[str, bytes] | None:
        """The department's active key ID and its sealed private key, or None."""
        key_id = await self._redis.get(f"{TAG}:active-key:{department}")
        if key_id is None:
            return None
        kid = _bytes(key_id).decode()
        sealed = await self._redis.hget(f"{TAG}:sealed-keys:{department}", kid)
        return None if sealed is None else (kid, _bytes(sealed))

    async def set_active_key(self, department: str, key_id: str) -> None:
        """Make `key_id` the one that signs for `department` from now on."""
        await self._redis.set(f"{TAG}:active-key:{department}", key_id)
        await self._store.wait_durable()

    async def clear_active_key(self, department: str) -> None:
        """Leave `department` without a signing key until the next rotation."""
        await self._redis.delete(f"{TAG}:active-key:{department}")
        await self._store.wait_durable()

    # --- accesses -------------------------------------------------------------------

    async def record_access(self, holder: str, access: licenses_pb2.LicenseAccess) -> None:
        """Append to a holder's access view, durably."""
        await self._redis.lpush(f"{TAG}:accesses:{holder}", access.SerializeToString())
        await self._store.wait_durable()

    async def accesses(
        self, holder: str, start: int, count: int
    ) -> list[licenses_pb2.LicenseAccess]:
        """A page of a holder's access view, newest first."""
        raw = await self._redis.lrange(f"{TAG}:accesses:{holder}", start, start + count - 1)
        return [licenses_pb2.LicenseAccess.FromString(_bytes(r)) for r in raw]
