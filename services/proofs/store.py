"""The proofs service's keys in the store, and the only code that knows their names.

Every key shares the hash tag ``{proofs}``, so each script touches one Redis Cluster
slot. Records are serialized protobuf messages. A proof request is written in one
script together with its history, its places in the department, holder, statistics,
deadline and sampling indexes and the inbox events it causes, so a crash never leaves
one without the others; a change replaces the record only if it is still the bytes
the writer read (compare and set), so concurrent writers never lose an update. Every
write is fsynced before the caller hears of it. The keys are listed in
``docs/store.md``.

Shortest use::

    proofs = ProofStore(store)
    stored, duplicate = await proofs.create(request, created, client_key=..., ...)
    request, before = await proofs.get(request_id)
    ok = await proofs.transition(before, after, event, inbox_departments=[...], deadline_ms=None)
    events = await proofs.read_inbox(department, cursor, count=100, block_ms=15_000)
    await proofs.aclose()

Inbox reads that block (XREAD BLOCK) hold their connection for the whole wait, longer
than the shared pool's 5 s command timeout allows, and a hundred open streams would
drain that pool. So they run on a dedicated pool of their own, opened on the first
blocking read with the shared pool's address and options but a longer timeout, and
closed by :meth:`ProofStore.aclose`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import ResponseError

from genproto.certfree.proofs.v1 import proofs_pb2
from runtime.store import POOL_TIMEOUT_S, SOCKET_TIMEOUT_S, Store

TAG = "{proofs}"

INBOX_MAXLEN = 1_000_000
"""Events kept per department inbox stream (trimmed approximately, oldest first)."""

MAX_BLOCK_MS = 60_000
"""Longest wait a blocking inbox read may ask for."""

BLOCKING_CONNECTIONS = 64
"""Connections of the dedicated pool for blocking inbox reads: concurrent live streams."""

INCOMING = proofs_pb2.REQUEST_DIRECTION_INCOMING
OUTGOING = proofs_pb2.REQUEST_DIRECTION_OUTGOING
BOTH = proofs_pb2.REQUEST_DIRECTION_UNSPECIFIED

_CURSOR = re.compile(r"\A[0-9]{1,20}-[0-9]{1,20}\Z")

# KEYS: client key, request, history, outgoing index, holder index, deadlines, statistics
# pairs, then n incoming indexes, n item indexes, m inbox streams.
# ARGV: request id, request bytes, event bytes, created ms, changed ms, deadline ms (''
# for none), inbox maxlen, n, m, item code, then n target departments, m directions.
# Returns the id of the request the client key names when it is taken (nothing written).
_CREATE = """
local existing = redis.call('GET', KEYS[1])
if existing then
  return existing
end
local n = tonumber(ARGV[8])
local m = tonumber(ARGV[9])
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('RPUSH', KEYS[3], ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[4], ARGV[1])
if ARGV[6] ~= '' then
  redis.call('ZADD', KEYS[6], ARGV[6], ARGV[1])
end
for i = 1, n do
  redis.call('ZADD', KEYS[7 + i], ARGV[5], ARGV[1])
  redis.call('ZADD', KEYS[7 + n + i], ARGV[4], ARGV[1])
  redis.call('SADD', KEYS[7], ARGV[10 + i] .. ' ' .. ARGV[10])
end
for j = 1, m do
  redis.call('XADD', KEYS[7 + 2 * n + j], 'MAXLEN', '~', ARGV[7], '*',
    'request', ARGV[1], 'sequence', 1, 'direction', ARGV[10 + n + j])
end
return false
"""

# KEYS: request, history, deadlines, sampling, outgoing index, then n incoming indexes,
# m inbox streams.
# ARGV: before bytes, after bytes, event bytes, request id, sequence, deadline ms (''
# removes), sampling ms ('' leaves alone), changed ms, inbox maxlen, n, m, then m directions.
# Returns 1 when written (or already written by this same call, retried), 0 on conflict.
_TRANSITION = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[2] then
  return 1
end
if current ~= ARGV[1] then
  return 0
end
if redis.call('LLEN', KEYS[2]) ~= tonumber(ARGV[5]) - 1 then
  return redis.error_reply('HISTORY the history does not end just before this event')
end
local n = tonumber(ARGV[10])
local m = tonumber(ARGV[11])
redis.call('SET', KEYS[1], ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[3])
if ARGV[6] == '' then
  redis.call('ZREM', KEYS[3], ARGV[4])
else
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[4])
end
if ARGV[7] ~= '' then
  redis.call('ZADD', KEYS[4], ARGV[7], ARGV[4])
end
redis.call('ZADD', KEYS[5], ARGV[8], ARGV[4])
for i = 1, n do
  redis.call('ZADD', KEYS[5 + i], ARGV[8], ARGV[4])
end
for j = 1, m do
  redis.call('XADD', KEYS[5 + n + j], 'MAXLEN', '~', ARGV[9], '*',
    'request', ARGV[4], 'sequence', ARGV[5], 'direction', ARGV[11 + j])
end
return 1
"""

# KEYS: request, deadlines. ARGV: before bytes, request id, deadline ms ('' removes).
# Moves (or removes) the request's deadline-index entry only while the record is still
# `before`; no event. Returns 1 when done, 0 on conflict.
_RESCHEDULE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[2], ARGV[2])
else
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
end
return 1
"""


# KEYS: the lock. ARGV: owner, ttl ms. Takes the lock if free, or extends it if `owner`
# holds it already.
_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
"""

# KEYS: the lock. ARGV: owner.
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class CursorExpired(Exception):
    """Inbox events after the cursor were trimmed away: list the backlog, then stream anew."""


def client_key(department: str, client_request_id: str) -> str:
    """The idempotency key of a create: the requesting department and its client's request id."""
    return f"{department}:{client_request_id}"


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _request_key(request_id: str) -> str:
    return f"{TAG}:request:{request_id}"


def _history_key(request_id: str) -> str:
    return f"{TAG}:events:{request_id}"


def _index_key(direction: int, department: str) -> str:
    return f"{TAG}:{'incoming' if direction == INCOMING else 'outgoing'}:{department}"


def _holder_key(holder_token: str) -> str:
    return f"{TAG}:holder:{holder_token}"


def _accesses_key(holder_token: str) -> str:
    return f"{TAG}:accesses:{holder_token}"


def _item_key(department: str, item_code: str) -> str:
    return f"{TAG}:item:{department}:{item_code}"


def _inbox_key(department: str) -> str:
    return f"{TAG}:inbox:{department}"


_ITEMS = f"{TAG}:items"
_DEADLINES = f"{TAG}:deadlines"
_SAMPLING = f"{TAG}:sampling"
_STATISTICS = f"{TAG}:statistics"
_SWEEP_LOCK = f"{TAG}:sweep-lock"


def _changed_ms(request: proofs_pb2.ProofRequest) -> int:
    changed = request.updated_at if request.HasField("updated_at") else request.created_at
    return int(changed.ToMilliseconds())


def _inbox_entries(
    request: proofs_pb2.ProofRequest, departments: Sequence[str]
) -> list[tuple[str, int]]:
    """(department, direction) of each inbox event, in the order given.

    A department that both sent and receives the request gets one event each way.
    """
    entries: list[tuple[str, int]] = []
    for department in dict.fromkeys(departments):  # in order, once each
        known = False
        if department in request.target_departments:
            entries.append((department, INCOMING))
            known = True
        if department == request.requesting_department:
            entries.append((department, OUTGOING))
            known = True
        if not known:
            raise ValueError("an inbox department is neither the requesting nor a target one")
    return entries


def _check_cursor(cursor: str) -> str:
    if cursor == "":
        return "0-0"
    if not _CURSOR.match(cursor):
        raise ValueError("an inbox cursor is two numbers joined by a dash")
    return cursor


def _members(reply: Any) -> list[bytes]:
    """Sorted-set or set members as bytes (redis-py's reply types are loose unions)."""
    return [_bytes(member) for member in reply or []]


def _stream_id(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


class ProofStore:
    """Durable storage of the proof catalogue, proof requests, their histories and indexes."""

    def __init__(
        self,
        store: Store,
        *,
        inbox_maxlen: int = INBOX_MAXLEN,
        blocking_connections: int = BLOCKING_CONNECTIONS,
    ) -> None:
        if inbox_maxlen < 1 or blocking_connections < 1:
            raise ValueError("inbox_maxlen and blocking_connections must be positive")
        self._store = store
        self._redis = store.redis
        self._inbox_maxlen = inbox_maxlen
        self._blocking_connections = blocking_connections
        self._blocking: Redis | None = None
        self._create = self._redis.register_script(_CREATE)
        self._transition = self._redis.register_script(_TRANSITION)
        self._reschedule = self._redis.register_script(_RESCHEDULE)
        self._lock = self._redis.register_script(_LOCK)
        self._unlock = self._redis.register_script(_UNLOCK)

    async def aclose(self) -> None:
        """Close the dedicated pool of blocking inbox reads (the shared store stays open)."""
        if self._blocking is not None:
            blocking, self._blocking = self._blocking, None
            await blocking.aclose()

    # --- catalogue ------------------------------------------------------------------

    async def upsert_item(self, item: proofs_pb2.ProofItem, expected_revision: int) -> int:
        """Store a proof item (output fields as given); its new revision, 1 when created.

        `expected_revision` 0 creates or overwrites unconditionally; otherwise the stored
        revision must equal it, else RevisionMismatch and nothing is written.
        """
        record = proofs_pb2.ProofItem.FromString(item.SerializeToString())
        record.ClearField("revision")  # kept beside the record, not inside it
        return await self._store.upsert_revisioned(
            _ITEMS, item.code, expected_revision, record.SerializeToString()
        )

    async def item(self, code: str) -> proofs_pb2.ProofItem | None:
        """One proof item, with its revision, or None."""
        record, revision = await self._redis.hmget(_ITEMS, [code, f"{code}:revision"])
        if record is None:
            return None
        item = proofs_pb2.ProofItem.FromString(_bytes(record))
        item.revision = int(revision or 0)
        return item

    async def items(self) -> list[proofs_pb2.ProofItem]:
        """Every proof item, by code, each with its revision."""
        raw = await self._redis.hgetall(_ITEMS)
        fields = {_bytes(k).decode(): _bytes(v) for k, v in raw.items()}
        items = []
        for code, record in sorted(fields.items()):
            if code.endswith(":revision"):
                continue
            item = proofs_pb2.ProofItem.FromString(record)
            item.revision = int(fields.get(f"{code}:revision", b"0"))
            items.append(item)
        return items

    # --- requests -------------------------------------------------------------------

    async def create(
        self,
        request: proofs_pb2.ProofRequest,
        event: proofs_pb2.ProofRequestEvent,
        *,
        client_key: str,
        holder_token: str,
        inbox_departments: Sequence[str],
        deadline_ms: int | None,
    ) -> tuple[proofs_pb2.ProofRequest, bool]:
        """Store a new request with its first event, indexes and inbox events, durably.

        Returns the request and whether it is a duplicate: when `client_key` (see
        :func:`client_key`) already names a request, that one is returned and nothing is
        written. `holder_token` is the holder's keyed-HMAC index token, never the clear
        ID. `deadline_ms` puts the request in the sweeper's deadline index. Raises
        ValueError when the event is not the request's first.
        """
        if not (event.sequence == request.last_event_sequence == 1):
            raise ValueError("a new request's event has sequence 1, as its last_event_sequence")
        if event.request_id != request.request_id or not request.request_id:
            raise ValueError("the event belongs to another request")
        targets = list(dict.fromkeys(request.target_departments))
        inbox = _inbox_entries(request, inbox_departments)
        keys = [
            f"{TAG}:client:{client_key}",
            _request_key(request.request_id),
            _history_key(request.request_id),
            _index_key(OUTGOING, request.requesting_department),
            _holder_key(holder_token),
            _DEADLINES,
            _STATISTICS,
            *(_index_key(INCOMING, department) for department in targets),
            *(_item_key(department, request.proof_item_code) for department in targets),
            *(_inbox_key(department) for department, _ in inbox),
        ]
        args: list[Any] = [
            request.request_id,
            request.SerializeToString(),
            event.SerializeToString(),
            request.created_at.ToMilliseconds(),
            _changed_ms(request),
            "" if deadline_ms is None else deadline_ms,
            self._inbox_maxlen,
            len(targets),
            len(inbox),
            request.proof_item_code,
            *targets,
            *(direction for _, direction in inbox),
        ]
        existing = await self._create(keys=keys, args=args)
        await self._store.wait_durable()
        if existing is None:
            return request, False
        stored_id = _bytes(existing).decode()
        # A retried call whose first attempt was written finds its own request: not a duplicate.
        found = await self.get(stored_id)
        if found is None:  # written in the same script as the client key, so never
            raise LookupError("the request an idempotency key names is missing")
        return found[0], stored_id != request.request_id

    async def get(self, request_id: str) -> tuple[proofs_pb2.ProofRequest, bytes] | None:
        """A request and its stored bytes (pass them to :meth:`transition`), or None."""
        raw = await self._redis.get(_request_key(request_id))
        if raw is None:
            return None
        data = _bytes(raw)
        return proofs_pb2.ProofRequest.FromString(data), data

    async def transition(
        self,
        before: bytes,
        after: proofs_pb2.ProofRequest,
        event: proofs_pb2.ProofRequestEvent,
        *,
        inbox_departments: Sequence[str],
        deadline_ms: int | None,
        sampling_ms: int | None = None,
    ) -> bool:
        """Replace a request read as `before` with `after`, appending `event`, durably.

        False, with nothing written, when the request is no longer `before` (read it
        again and decide anew). `event.sequence` must be `after.last_event_sequence`, one
        more than the stored one (else ValueError). `deadline_ms` moves the request in
        the deadline index, None takes it out; `sampling_ms` adds it to the sampling
        set with that score. The department indexes move the request to the top.
        """
        previous = proofs_pb2.ProofRequest.FromString(before)
        if not (event.sequence == after.last_event_sequence == previous.last_event_sequence + 1):
            raise ValueError("the event's sequence must follow the stored request's last event")
        if not (event.request_id == after.request_id == previous.request_id):
            raise ValueError("the event, the request and the stored record disagree on its id")
        request_id = after.request_id
        targets = list(dict.fromkeys(after.target_departments))
        inbox = _inbox_entries(after, inbox_departments)
        keys = [
            _request_key(request_id),
            _history_key(request_id),
            _DEADLINES,
            _SAMPLING,
            _index_key(OUTGOING, after.requesting_department),
            *(_index_key(INCOMING, department) for department in targets),
            *(_inbox_key(department) for department, _ in inbox),
        ]
        args: list[Any] = [
            before,
            after.SerializeToString(),
            event.SerializeToString(),
            request_id,
            event.sequence,
            "" if deadline_ms is None else deadline_ms,
            "" if sampling_ms is None else sampling_ms,
            _changed_ms(after),
            self._inbox_maxlen,
            len(targets),
            len(inbox),
            *(direction for _, direction in inbox),
        ]
        written = await self._transition(keys=keys, args=args)
        if not written:
            return False
        await self._store.wait_durable()
        return True

    async def events(
        self, request_id: str, after_sequence: int, limit: int
    ) -> list[proofs_pb2.ProofRequestEvent]:
        """Up to `limit` events of a request's history after `after_sequence`, oldest first."""
        if after_sequence < 0 or limit < 1:
            return []
        raw = await self._redis.lrange(
            _history_key(request_id), after_sequence, after_sequence + limit - 1
        )
        return [proofs_pb2.ProofRequestEvent.FromString(_bytes(r)) for r in raw]

    async def requests(self, ids: Sequence[bytes]) -> list[proofs_pb2.ProofRequest]:
        """The requests of `ids` in one MGET, in order; ids with no request are left out."""
        if not ids:
            return []
        raw = await self._redis.mget([_request_key(i.decode()) for i in ids])
        return [proofs_pb2.ProofRequest.FromString(_bytes(r)) for r in raw if r is not None]

    async def list_for_department(
        self, department: str, direction: int, *, offset: int, limit: int
    ) -> list[proofs_pb2.ProofRequest]:
        """A page of a department's requests, most recently changed first.

        `direction` is INCOMING, OUTGOING or BOTH (``REQUEST_DIRECTION_UNSPECIFIED``).
        A request that a department sent to itself appears once.
        """
        if offset < 0 or limit < 1:
            return []
        directions = [INCOMING, OUTGOING] if direction == BOTH else [direction]
        end = offset + limit - 1
        scored: dict[bytes, float] = {}
        for one in directions:
            # Each index's first offset + limit entries hold every candidate for the page.
            rows: Any = await self._redis.zrevrange(
                _index_key(one, department), 0, end, withscores=True
            )
            for member, score in rows:
                key = _bytes(member)
                scored[key] = max(float(score), scored.get(key, float(score)))
        page = sorted(scored, key=lambda m: (scored[m], m), reverse=True)[offset : end + 1]
        return await self.requests(page)

    async def list_for_holder(
        self, holder_token: str, offset: int, limit: int
    ) -> list[proofs_pb2.ProofRequest]:
        """A page of every request about a holder (by index token), newest first."""
        if offset < 0 or limit < 1:
            return []
        ids = await self._redis.zrevrange(_holder_key(holder_token), offset, offset + limit - 1)
        return await self.requests(_members(ids))

    async def record_access(self, holder_token: str, access: proofs_pb2.ProofRequestAccess) -> None:
        """Append an access to a holder's requests to the holder's record (by index
        token), durably."""
        await self._redis.lpush(_accesses_key(holder_token), access.SerializeToString())
        await self._store.wait_durable()

    async def accesses(
        self, holder_token: str, offset: int, limit: int
    ) -> list[proofs_pb2.ProofRequestAccess]:
        """A page of the accesses to a holder's requests (by index token), newest first."""
        if offset < 0 or limit < 1:
            return []
        raw = await self._redis.lrange(_accesses_key(holder_token), offset, offset + limit - 1)
        return [proofs_pb2.ProofRequestAccess.FromString(_bytes(r)) for r in raw]

    async def list_for_item(
        self,
        department: str,
        item_code: str,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[proofs_pb2.ProofRequest]:
        """Every request for one item sent to one department, oldest first, for statistics.

        Only those created at or after `start_ms` and before `end_ms`, when given.
        """
        low = "-inf" if start_ms is None else start_ms
        high = "+inf" if end_ms is None else f"({end_ms}"
        ids = await self._redis.zrangebyscore(_item_key(department, item_code), low, high)
        return await self.requests(_members(ids))

    async def statistics_keys(self) -> list[tuple[str, str]]:
        """Every (target department, item code) that has requests, sorted."""
        members = await self._redis.smembers(_STATISTICS)
        pairs = (_bytes(m).decode().split(" ", 1) for m in members)
        return sorted((department, code) for department, code in pairs)

    # --- the sweeper and sampling ---------------------------------------------------

    async def due(self, now_ms: int, limit: int) -> list[str]:
        """Up to `limit` request ids whose deadline-index time is at or before `now_ms`,
        earliest first."""
        ids = await self._redis.zrangebyscore(_DEADLINES, "-inf", now_ms, start=0, num=limit)
        return [member.decode() for member in _members(ids)]

    async def reschedule(self, before: bytes, request_id: str, deadline_ms: int | None) -> bool:
        """Move a request's deadline-index entry to `deadline_ms` (None removes it), no event.

        For the sweeper's look that changes nothing on the request itself (a request that
        became final or untimed, or whose next instant moved): it acts only while the
        request is still the `before` bytes it read, so it never undoes a concurrent
        change's own index move; False, with nothing written, otherwise. Not fsynced: the
        index is only where the sweeper looks next, and a lost move costs one more look.
        """
        done = await self._reschedule(
            keys=[_request_key(request_id), _DEADLINES],
            args=[before, request_id, "" if deadline_ms is None else deadline_ms],
        )
        return bool(done)

    async def sampling_candidates(
        self, limit: int, *, not_after_ms: int | None = None
    ) -> list[str]:
        """Up to `limit` request ids waiting for sampling, earliest first (only those whose
        sampling time is at or before `not_after_ms`, when given)."""
        high = "+inf" if not_after_ms is None else not_after_ms
        ids = await self._redis.zrangebyscore(_SAMPLING, "-inf", high, start=0, num=limit)
        return [member.decode() for member in _members(ids)]

    async def take_sampling(self, request_id: str) -> bool:
        """Take a request out of the sampling set; True for exactly one of concurrent callers."""
        removed = await self._redis.zrem(_SAMPLING, request_id)
        if not removed:
            return False
        await self._store.wait_durable()
        return True

    async def sweep_lock(self, owner: str, ttl_ms: int) -> bool:
        """Take (or, when `owner` holds it, extend) the sweeper's lock for `ttl_ms`.

        Only saves work: several replicas' sweepers skip a tick another one is working.
        Correctness comes from :meth:`transition`'s compare and set, so the lock is not
        made durable; losing it in a crash only lets two replicas sweep one tick.
        """
        if ttl_ms < 1:
            raise ValueError("ttl_ms must be positive")
        return bool(await self._lock(keys=[_SWEEP_LOCK], args=[owner, ttl_ms]))

    async def release_sweep_lock(self, owner: str) -> bool:
        """Release the sweeper's lock if `owner` holds it; whether it did."""
        return bool(await self._unlock(keys=[_SWEEP_LOCK], args=[owner]))

    # --- inbox streams --------------------------------------------------------------

    async def inbox_position(self, department: str) -> str:
        """The cursor of the live end of a department's inbox ("0-0" before any event).

        A live stream with no cursor starts here: read after it, list the backlog.
        """
        try:
            info = await self._redis.xinfo_stream(_inbox_key(department))
        except ResponseError as error:  # "no such key" before the first event
            if "no such key" in str(error).lower():
                return "0-0"
            raise
        return _bytes(info["last-generated-id"]).decode()

    def _blocking_client(self) -> Redis:
        if self._blocking is None:
            shared = self._redis.connection_pool
            options = dict(shared.connection_kwargs)
            # The read waits up to MAX_BLOCK_MS; the socket must not time out first.
            options["socket_timeout"] = MAX_BLOCK_MS / 1000 + SOCKET_TIMEOUT_S
            pool = BlockingConnectionPool(
                connection_class=shared.connection_class,
                max_connections=self._blocking_connections,
                timeout=POOL_TIMEOUT_S,
                **options,
            )
            self._blocking = Redis.from_pool(pool)
        return self._blocking

    async def read_inbox(
        self, department: str, cursor: str, *, count: int, block_ms: int
    ) -> list[tuple[str, str, int, int]]:
        """Inbox events of a department strictly after `cursor`, oldest first.

        Each is (cursor, request id, event sequence, direction). `cursor` is an event's
        cursor, :meth:`inbox_position`'s answer, or "" for the oldest event kept. With
        `block_ms` > 0 (at most MAX_BLOCK_MS) it waits that long for a first event on
        the dedicated pool; 0 returns at once. Raises CursorExpired when events after
        `cursor` were trimmed away, ValueError for a malformed cursor.
        """
        start = _check_cursor(cursor)
        if not 0 <= block_ms <= MAX_BLOCK_MS:
            raise ValueError(f"block_ms must be between 0 and {MAX_BLOCK_MS}")
        if count < 1:
            raise ValueError("count must be positive")  # XREAD COUNT 0 would mean no limit
        key = _inbox_key(department)
        if block_ms > 0:
            reply = await self._blocking_client().xread({key: start}, count=count, block=block_ms)
        else:
            reply = await self._redis.xread({key: start}, count=count)
        if cursor:
            await self._check_not_trimmed(key, start)
        events = []
        streams: Any = reply or []
        for _stream, entries in streams:
            for entry_id, fields in entries:
                values = {_bytes(k).decode(): _bytes(v).decode() for k, v in fields.items()}
                events.append(
                    (
                        _bytes(entry_id).decode(),
                        values["request"],
                        int(values["sequence"]),
                        int(values["direction"]),
                    )
                )
        return events

    async def _check_not_trimmed(self, key: str, cursor: str) -> None:
        # Trimming removes the oldest entries and leaves no tombstone (max-deleted-entry-id
        # counts only XDEL), so: if entries were trimmed and the oldest one kept is past the
        # cursor, some may have fallen between. Checked after the read, as trimming only moves
        # the first entry forward: a loss before the read always shows here. The one false
        # alarm, a cursor on the very last entry trimmed, only costs the reader a resync.
        try:
            info = await self._redis.xinfo_stream(key)
        except ResponseError as error:
            if "no such key" in str(error).lower():
                return
            raise
        trimmed = int(info.get("entries-added", 0)) > int(info["length"])
        first = _bytes(info.get("recorded-first-entry-id") or b"0-0").decode()
        if trimmed and _stream_id(first) > _stream_id(cursor):
            raise CursorExpired("inbox events after the cursor were trimmed away")
