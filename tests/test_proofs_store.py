"""The proofs service's store against a real server: requests, history, indexes, inboxes."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.proofs.v1 import proofs_pb2
from runtime.holders import HolderIndex
from runtime.store import RevisionMismatch, Store
from services.proofs.store import (
    BOTH,
    INCOMING,
    OUTGOING,
    CursorExpired,
    ProofStore,
    client_key,
)
from tests.conftest import HOUSING_BUREAU, MARKET_REGULATION

# GB 11643's own example resident ID and a third department's USCC (valid check characters).
RESIDENT_ID = "11010519491231002X"
NATURAL_RESOURCES = "11350100MB23456788"
HOLDERS = HolderIndex(b"k" * 32)
HOLDER_TOKEN = HOLDERS.of_resident_id(RESIDENT_ID)
T0 = 1_760_000_000_000  # ms since the epoch

SUBMITTED = proofs_pb2.PROOF_REQUEST_STATE_SUBMITTED
ACCEPTED = proofs_pb2.PROOF_REQUEST_STATE_ACCEPTED
ANSWERED = proofs_pb2.PROOF_REQUEST_STATE_ANSWERED


class CountingStore(Store):
    """The real store, counting fsync barriers (durability itself is tests/test_store.py's)."""

    durable_calls = 0

    async def wait_durable(self, numlocal: int = 1, timeout_ms: int = 2000) -> None:
        """Count, then wait for the fsync as the real store does."""
        self.durable_calls += 1
        await super().wait_durable(numlocal, timeout_ms)


@pytest.fixture
async def counting(store: Store) -> CountingStore:
    """The test's store, wrapped to count wait_durable calls."""
    return CountingStore(store.redis, fsync_always=store.fsync_always)


@pytest.fixture
async def proofs(counting: CountingStore) -> AsyncIterator[ProofStore]:
    """A ProofStore on the real store; its blocking pool closed after the test."""
    proof_store = ProofStore(counting)
    yield proof_store
    await proof_store.aclose()


def _request(
    *,
    request_id: str | None = None,
    client_request_id: str = "case-1",
    targets: tuple[str, ...] = (HOUSING_BUREAU,),
    created_ms: int = T0,
    item: str = "construction-drawing-approval",
) -> proofs_pb2.ProofRequest:
    request = proofs_pb2.ProofRequest(
        request_id=request_id or f"pr-{secrets.token_hex(8)}",
        client_request_id=client_request_id,
        proof_item_code=item,
        route=proofs_pb2.PROOF_ROUTE_DEPARTMENT_VERIFICATION,
        requesting_department=MARKET_REGULATION,
        requested_by="clerk-007",
        target_departments=list(targets),
        holder=common_pb2.HolderRef(resident_id=RESIDENT_ID),
        purpose=common_pb2.AccessPurpose(purpose="business registration", case_reference="C-1"),
        state=SUBMITTED,
        sla_mark=proofs_pb2.SLA_MARK_ON_TIME,
        last_event_sequence=1,
    )
    request.created_at.FromMilliseconds(created_ms)
    request.updated_at.FromMilliseconds(created_ms)
    return request


def _event(
    request: proofs_pb2.ProofRequest,
    kind: int = proofs_pb2.PROOF_REQUEST_EVENT_TYPE_CREATED,
    from_state: int = proofs_pb2.PROOF_REQUEST_STATE_UNSPECIFIED,
) -> proofs_pb2.ProofRequestEvent:
    event = proofs_pb2.ProofRequestEvent(
        request_id=request.request_id,
        sequence=request.last_event_sequence,
        type=kind,  # type: ignore[arg-type]
        from_state=from_state,  # type: ignore[arg-type]
        to_state=request.state,
        sla_mark=request.sla_mark,
    )
    event.occurred_at.CopyFrom(request.updated_at)
    return event


def _accepted(request: proofs_pb2.ProofRequest, at_ms: int) -> proofs_pb2.ProofRequest:
    after = proofs_pb2.ProofRequest()
    after.CopyFrom(request)
    after.state = ACCEPTED
    after.answering_department = HOUSING_BUREAU
    after.last_event_sequence = request.last_event_sequence + 1
    after.updated_at.FromMilliseconds(at_ms)
    return after


async def _create(
    proofs: ProofStore,
    request: proofs_pb2.ProofRequest,
    *,
    deadline_ms: int | None = None,
    inbox: tuple[str, ...] = (HOUSING_BUREAU, MARKET_REGULATION),
) -> tuple[proofs_pb2.ProofRequest, bool]:
    return await proofs.create(
        request,
        _event(request),
        client_key=client_key(request.requesting_department, request.client_request_id),
        holder_token=HOLDER_TOKEN,
        inbox_departments=inbox,
        deadline_ms=deadline_ms,
    )


async def _accept(
    proofs: ProofStore,
    request: proofs_pb2.ProofRequest,
    before: bytes,
    at_ms: int,
    **options: Any,
) -> tuple[proofs_pb2.ProofRequest, bool]:
    after = _accepted(request, at_ms)
    event = _event(after, proofs_pb2.PROOF_REQUEST_EVENT_TYPE_ACCEPTED, SUBMITTED)
    options.setdefault("inbox_departments", [MARKET_REGULATION])
    options.setdefault("deadline_ms", at_ms + 3_600_000)
    return after, await proofs.transition(before, after, event, **options)


async def _snapshot(store: Store) -> dict[bytes, bytes]:
    """Every proofs key with its serialized value: equal snapshots mean nothing was written."""
    snapshot: dict[bytes, bytes] = {}
    async for key in store.redis.scan_iter(match="{proofs}:*"):
        snapshot[key] = await store.redis.dump(key)  # type: ignore[assignment]
    return snapshot


class TestCatalogue:
    """Proof items are stored with revisions, and a stale expected revision writes nothing."""

    async def test_upsert_counts_revisions_from_one(self, proofs: ProofStore) -> None:
        """Creating gives revision 1, each replacement one more; reads carry the revision."""
        item = proofs_pb2.ProofItem(code="b-item", name="施工图审查合格证明", revision=99)
        assert await proofs.upsert_item(item, 0) == 1
        assert await proofs.upsert_item(item, 1) == 2
        await proofs.upsert_item(proofs_pb2.ProofItem(code="a-item", name="无犯罪记录证明"), 0)
        stored = await proofs.item("b-item")
        assert stored is not None and stored.revision == 2 and stored.name == item.name
        assert [(i.code, i.revision) for i in await proofs.items()] == [
            ("a-item", 1),
            ("b-item", 2),
        ]
        assert await proofs.item("missing") is None

    async def test_stale_revision_raises_and_writes_nothing(
        self, proofs: ProofStore, store: Store
    ) -> None:
        """An expected revision that is not the stored one raises RevisionMismatch."""
        await proofs.upsert_item(proofs_pb2.ProofItem(code="x", name="first"), 0)
        before = await _snapshot(store)
        with pytest.raises(RevisionMismatch, match="stored revision is 1"):
            await proofs.upsert_item(proofs_pb2.ProofItem(code="x", name="second"), 5)
        assert await _snapshot(store) == before


class TestCreate:
    """A create writes the record, first event, indexes and inbox events together, once."""

    async def test_create_indexes_the_request_everywhere(self, proofs: ProofStore) -> None:
        """The request is found by id, department, holder token, item and deadline."""
        request = _request(targets=(HOUSING_BUREAU, NATURAL_RESOURCES))
        stored, duplicate = await _create(proofs, request, deadline_ms=T0 + 60_000)
        assert (stored, duplicate) == (request, False)
        found = await proofs.get(request.request_id)
        assert found is not None and found[0] == request
        assert found[1] == request.SerializeToString()
        assert await proofs.events(request.request_id, 0, 10) == [_event(request)]
        ids = [request.request_id]
        for target in (HOUSING_BUREAU, NATURAL_RESOURCES):
            incoming = await proofs.list_for_department(target, INCOMING, offset=0, limit=10)
            assert [r.request_id for r in incoming] == ids
            assert await proofs.list_for_department(target, OUTGOING, offset=0, limit=10) == []
            listed = await proofs.list_for_item(target, request.proof_item_code)
            assert [r.request_id for r in listed] == ids
        outgoing = await proofs.list_for_department(MARKET_REGULATION, BOTH, offset=0, limit=10)
        assert [r.request_id for r in outgoing] == ids
        assert [r.request_id for r in await proofs.list_for_holder(HOLDER_TOKEN, 0, 10)] == ids
        assert await proofs.statistics_keys() == sorted(
            (department, request.proof_item_code)
            for department in (HOUSING_BUREAU, NATURAL_RESOURCES)
        )
        assert await proofs.due(T0 + 59_999, 10) == []
        assert await proofs.due(T0 + 60_000, 10) == ids

    async def test_create_sends_inbox_events_with_their_directions(
        self, proofs: ProofStore
    ) -> None:
        """Targets get an incoming event, the requesting department an outgoing one."""
        request = _request()
        await _create(proofs, request)
        incoming = await proofs.read_inbox(HOUSING_BUREAU, "", count=10, block_ms=0)
        outgoing = await proofs.read_inbox(MARKET_REGULATION, "", count=10, block_ms=0)
        assert [e[1:] for e in incoming] == [(request.request_id, 1, INCOMING)]
        assert [e[1:] for e in outgoing] == [(request.request_id, 1, OUTGOING)]

    async def test_a_second_create_returns_the_first_and_writes_nothing(
        self, proofs: ProofStore, store: Store
    ) -> None:
        """The same department and client request id replay the first request."""
        first = _request()
        await _create(proofs, first, deadline_ms=T0 + 1)
        before = await _snapshot(store)
        second = _request(created_ms=T0 + 5_000)  # a new id, same client request id
        stored, duplicate = await _create(proofs, second, deadline_ms=T0 + 2)
        assert (stored, duplicate) == (first, True)
        assert await _snapshot(store) == before
        assert await proofs.get(second.request_id) is None

    async def test_a_retried_create_of_the_same_request_is_not_a_duplicate(
        self, proofs: ProofStore
    ) -> None:
        """A call re-sent after a lost reply finds its own request, not someone else's."""
        request = _request()
        await _create(proofs, request)
        assert await _create(proofs, request) == (request, False)
        assert len(await proofs.events(request.request_id, 0, 10)) == 1

    async def test_another_department_may_reuse_a_client_request_id(
        self, proofs: ProofStore
    ) -> None:
        """Idempotency keys are per requesting department."""
        first = _request()
        other = _request()
        other.requesting_department = NATURAL_RESOURCES
        await _create(proofs, first)
        assert await _create(proofs, other, inbox=(HOUSING_BUREAU,)) == (other, False)

    async def test_the_first_event_must_have_sequence_one(self, proofs: ProofStore) -> None:
        """A create whose event is not the history's first is refused before any write."""
        request = _request()
        request.last_event_sequence = 2
        with pytest.raises(ValueError, match="sequence 1"):
            await _create(proofs, request)
        assert await proofs.get(request.request_id) is None

    async def test_an_inbox_department_must_be_a_party(self, proofs: ProofStore) -> None:
        """Inbox events go only to the requesting or a target department."""
        with pytest.raises(ValueError, match="neither"):
            await _create(proofs, _request(), inbox=(NATURAL_RESOURCES,))

    async def test_no_personal_data_in_key_names_or_stream_fields(
        self, proofs: ProofStore, store: Store
    ) -> None:
        """The holder's ID is only inside the record: keys and inbox entries never hold it."""
        await _create(proofs, _request())
        keys = [key async for key in store.redis.scan_iter(match="*")]
        assert keys and not any(RESIDENT_ID.encode() in key for key in keys)
        for department in (HOUSING_BUREAU, MARKET_REGULATION):
            entries: Any = await store.redis.xrange(f"{{proofs}}:inbox:{department}")
            for _id, fields in entries:
                assert set(fields) == {b"request", b"sequence", b"direction"}
                assert not any(RESIDENT_ID.encode() in value for value in fields.values())


class TestTransition:
    """A transition replaces the record only if unchanged, and appends exactly one event."""

    async def test_transition_appends_the_next_event_and_moves_indexes(
        self, proofs: ProofStore
    ) -> None:
        """History grows by one; the deadline moves; the departments' lists put it first."""
        older, request = _request(created_ms=T0 - 10), _request(client_request_id="case-2")
        await _create(proofs, older)
        await _create(proofs, request, deadline_ms=T0 + 1_000)
        _, before = await proofs.get(older.request_id) or (None, b"")
        after, written = await _accept(proofs, older, before, T0 + 500, deadline_ms=T0 + 9_000)
        assert written
        found = await proofs.get(older.request_id)
        assert found is not None and found[0] == after
        events = await proofs.events(older.request_id, 0, 10)
        assert [(e.sequence, e.to_state) for e in events] == [(1, SUBMITTED), (2, ACCEPTED)]
        assert await proofs.events(older.request_id, 1, 10) == events[1:]
        assert await proofs.due(T0 + 8_999, 10) == [request.request_id]
        assert await proofs.due(T0 + 9_000, 10) == [request.request_id, older.request_id]
        listed = await proofs.list_for_department(HOUSING_BUREAU, INCOMING, offset=0, limit=10)
        assert [r.request_id for r in listed] == [older.request_id, request.request_id]
        # The holder's view stays by creation time.
        by_holder = await proofs.list_for_holder(HOLDER_TOKEN, 0, 10)
        assert [r.request_id for r in by_holder] == [request.request_id, older.request_id]

    async def test_a_stale_before_writes_nothing(self, proofs: ProofStore, store: Store) -> None:
        """A writer that read an older record gets False; record, history, indexes and
        streams are unchanged."""
        request = _request()
        await _create(proofs, request, deadline_ms=T0 + 1_000)
        _, before = await proofs.get(request.request_id) or (None, b"")
        first, _ = await _accept(proofs, request, before, T0 + 100)
        snapshot = await _snapshot(store)
        # A second officer read the same SUBMITTED record and answers from it.
        answered = _accepted(request, T0 + 200)
        answered.state = ANSWERED
        event = _event(answered, proofs_pb2.PROOF_REQUEST_EVENT_TYPE_ANSWERED, SUBMITTED)
        written = await proofs.transition(
            before,
            answered,
            event,
            inbox_departments=[HOUSING_BUREAU, MARKET_REGULATION],
            deadline_ms=None,
            sampling_ms=T0,
        )
        assert written is False
        assert await _snapshot(store) == snapshot
        found = await proofs.get(request.request_id)
        assert found is not None and found[0] == first

    async def test_a_retried_transition_is_written_once(self, proofs: ProofStore) -> None:
        """Re-sending the same transition (a lost reply) succeeds without a second event."""
        request = _request()
        await _create(proofs, request)
        _, before = await proofs.get(request.request_id) or (None, b"")
        after, _ = await _accept(proofs, request, before, T0 + 100)
        event = _event(after, proofs_pb2.PROOF_REQUEST_EVENT_TYPE_ACCEPTED, SUBMITTED)
        again = await proofs.transition(
            before, after, event, inbox_departments=[MARKET_REGULATION], deadline_ms=None
        )
        assert again is True
        assert len(await proofs.events(request.request_id, 0, 10)) == 2
        inbox = await proofs.read_inbox(MARKET_REGULATION, "", count=10, block_ms=0)
        assert [e[2] for e in inbox] == [1, 2]

    async def test_the_event_sequence_must_follow_the_stored_one(self, proofs: ProofStore) -> None:
        """An event whose sequence is not the stored last + 1 is refused before any write."""
        request = _request()
        await _create(proofs, request)
        _, before = await proofs.get(request.request_id) or (None, b"")
        after = _accepted(request, T0 + 100)
        after.last_event_sequence = 3
        with pytest.raises(ValueError, match="sequence"):
            await proofs.transition(
                before, after, _event(after), inbox_departments=[], deadline_ms=None
            )
        assert len(await proofs.events(request.request_id, 0, 10)) == 1

    async def test_concurrent_transitions_from_one_read_let_exactly_one_win(
        self, proofs: ProofStore
    ) -> None:
        """Ten writers racing from the same bytes: one writes, nine are told to re-read."""
        request = _request()
        await _create(proofs, request)
        _, before = await proofs.get(request.request_id) or (None, b"")
        results = await asyncio.gather(
            *(_accept(proofs, request, before, T0 + i) for i in range(1, 11))
        )
        assert sorted(written for _, written in results) == [False] * 9 + [True]
        assert len(await proofs.events(request.request_id, 0, 10)) == 2

    async def test_final_states_leave_the_deadline_index_and_may_join_sampling(
        self, proofs: ProofStore
    ) -> None:
        """deadline_ms None removes the request from due(); sampling_ms adds a candidate."""
        request = _request()
        await _create(proofs, request, deadline_ms=T0)
        _, before = await proofs.get(request.request_id) or (None, b"")
        await _accept(proofs, request, before, T0 + 1, deadline_ms=None, sampling_ms=T0 + 50)
        assert await proofs.due(T0 + 10**9, 10) == []
        assert await proofs.sampling_candidates(10, not_after_ms=T0 + 49) == []
        assert await proofs.sampling_candidates(10) == [request.request_id]


class TestInbox:
    """Inbox streams resume strictly after a cursor and wake blocked readers."""

    async def test_resume_after_a_cursor_gives_exactly_the_later_events(
        self, proofs: ProofStore
    ) -> None:
        """Events after the cursor arrive once each, in order; earlier ones never again."""
        first = [_request(client_request_id=f"a{i}") for i in range(3)]
        for request in first:
            await _create(proofs, request)
        seen = await proofs.read_inbox(HOUSING_BUREAU, "", count=2, block_ms=0)
        cursor = seen[-1][0]
        later = [_request(client_request_id=f"b{i}") for i in range(3)]
        for request in later:
            await _create(proofs, request)
        rest = await proofs.read_inbox(HOUSING_BUREAU, cursor, count=100, block_ms=0)
        assert [e[1] for e in seen + rest] == [r.request_id for r in first + later]
        assert await proofs.read_inbox(HOUSING_BUREAU, rest[-1][0], count=10, block_ms=0) == []

    async def test_a_blocking_read_wakes_when_another_task_adds_an_event(
        self, proofs: ProofStore
    ) -> None:
        """A reader waiting at the live end receives an event written while it waits."""
        position = await proofs.inbox_position(HOUSING_BUREAU)
        assert position == "0-0"
        reader = asyncio.create_task(
            proofs.read_inbox(HOUSING_BUREAU, position, count=10, block_ms=10_000)
        )
        await asyncio.sleep(0.2)
        assert not reader.done()
        request = _request()
        await _create(proofs, request)
        events = await asyncio.wait_for(reader, 5)
        assert [e[1:] for e in events] == [(request.request_id, 1, INCOMING)]
        assert await proofs.inbox_position(HOUSING_BUREAU) == events[0][0]

    async def test_a_blocking_read_times_out_empty(self, proofs: ProofStore) -> None:
        """With nothing new, a blocking read returns no events after its wait."""
        await _create(proofs, _request())
        position = await proofs.inbox_position(HOUSING_BUREAU)
        assert await proofs.read_inbox(HOUSING_BUREAU, position, count=10, block_ms=50) == []

    async def test_blocked_readers_do_not_hold_the_shared_pool(
        self, proofs: ProofStore, store: Store
    ) -> None:
        """Readers blocked longer than the shared 5 s command timeout allows, and a
        cancelled one, leave the store usable."""
        readers = [
            asyncio.create_task(proofs.read_inbox(HOUSING_BUREAU, "0-0", count=1, block_ms=6_000))
            for _ in range(3)
        ]
        await asyncio.sleep(0.1)
        readers[0].cancel()
        assert await store.redis.ping()
        results = await asyncio.gather(*readers[1:])
        assert results == [[], []]
        with pytest.raises(asyncio.CancelledError):
            await readers[0]
        await _create(proofs, _request())
        assert len(await proofs.read_inbox(HOUSING_BUREAU, "0-0", count=5, block_ms=100)) == 1

    async def test_a_trimmed_cursor_is_reported_not_skipped(self, counting: Store) -> None:
        """Resuming after events that trimming removed raises CursorExpired."""
        small = ProofStore(counting, inbox_maxlen=10)
        try:
            cursor = ""
            for i in range(300):  # approximate trimming drops whole 100-entry nodes
                await _create(small, _request(client_request_id=f"c{i}"), inbox=(HOUSING_BUREAU,))
                if i == 0:
                    cursor = (await small.read_inbox(HOUSING_BUREAU, "", count=1, block_ms=0))[0][0]
            with pytest.raises(CursorExpired):
                await small.read_inbox(HOUSING_BUREAU, cursor, count=10, block_ms=0)
            # A cursor on an event still kept resumes as usual.
            kept = await small.read_inbox(HOUSING_BUREAU, "", count=2, block_ms=0)
            after = await small.read_inbox(HOUSING_BUREAU, kept[0][0], count=1, block_ms=0)
            assert after == kept[1:]
            # "" reads from the oldest event kept.
            assert await small.read_inbox(HOUSING_BUREAU, "", count=1, block_ms=0)
        finally:
            await small.aclose()

    async def test_a_malformed_cursor_is_refused(self, proofs: ProofStore) -> None:
        """A cursor must be a stream entry ID; "$" and text are refused."""
        for cursor in ("$", "abc", "1-", "1-2-3"):
            with pytest.raises(ValueError, match="cursor"):
                await proofs.read_inbox(HOUSING_BUREAU, cursor, count=1, block_ms=0)


class TestSweeperAndSampling:
    """Deadlines come due in order; sampling and the sweep lock admit one replica."""

    async def test_due_lists_earliest_deadlines_first_up_to_the_limit(
        self, proofs: ProofStore
    ) -> None:
        """due() returns ids whose deadline is at or before now, earliest first."""
        deadlines = [T0 + 300, T0 + 100, T0 + 200, T0 + 900]
        requests = [_request(client_request_id=f"d{i}") for i in range(4)]
        for request, deadline in zip(requests, deadlines, strict=True):
            await _create(proofs, request, deadline_ms=deadline)
        ids = [r.request_id for r in requests]
        assert await proofs.due(T0 + 300, 10) == [ids[1], ids[2], ids[0]]
        assert await proofs.due(T0 + 300, 2) == [ids[1], ids[2]]
        assert await proofs.due(T0, 10) == []

    async def test_take_sampling_lets_exactly_one_of_two_callers_win(
        self, proofs: ProofStore, counting: CountingStore
    ) -> None:
        """Two replicas taking the same candidate at once: one True, one False."""
        request = _request()
        await _create(proofs, request)
        _, before = await proofs.get(request.request_id) or (None, b"")
        await _accept(proofs, request, before, T0 + 1, sampling_ms=T0)
        other = ProofStore(counting)
        results = await asyncio.gather(
            proofs.take_sampling(request.request_id), other.take_sampling(request.request_id)
        )
        assert sorted(results) == [False, True]
        assert await proofs.sampling_candidates(10) == []

    async def test_the_sweep_lock_has_one_owner_until_it_expires(self, proofs: ProofStore) -> None:
        """A second owner is refused; the holder renews and releases; expiry frees it."""
        assert await proofs.sweep_lock("replica-a", 10_000)
        assert not await proofs.sweep_lock("replica-b", 10_000)
        assert await proofs.sweep_lock("replica-a", 10_000)
        assert not await proofs.release_sweep_lock("replica-b")
        assert await proofs.release_sweep_lock("replica-a")
        assert await proofs.sweep_lock("replica-b", 50)
        await asyncio.sleep(0.1)
        assert await proofs.sweep_lock("replica-a", 10_000)


class TestDurability:
    """Every acknowledged write waits for the fsync barrier; a refused one needs none."""

    async def test_each_write_calls_wait_durable(
        self, proofs: ProofStore, counting: CountingStore
    ) -> None:
        """Upsert, create, duplicate create, transition and take_sampling each wait once."""
        await proofs.upsert_item(proofs_pb2.ProofItem(code="x", name="x"), 0)
        assert counting.durable_calls == 1
        request = _request()
        await _create(proofs, request)
        await _create(proofs, request)  # a replay still waits: its first write may be in flight
        assert counting.durable_calls == 3
        _, before = await proofs.get(request.request_id) or (None, b"")
        await _accept(proofs, request, before, T0 + 1, sampling_ms=T0)
        assert counting.durable_calls == 4
        await _accept(proofs, request, before, T0 + 2)  # refused: nothing to wait for
        assert counting.durable_calls == 4
        assert await proofs.take_sampling(request.request_id)
        assert counting.durable_calls == 5
