"""The live inbox stream against a real store: live events, exact resumption, directions."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.proofs.v1 import proofs_pb2
from runtime.errors import InvalidArgument
from runtime.holders import HolderIndex
from runtime.store import Store
from services.proofs.inbox import stream_inbox
from services.proofs.records import created_event, inbox_departments, timestamp
from services.proofs.store import BOTH, INCOMING, OUTGOING, ProofStore, client_key
from tests.conftest import HOUSING_BUREAU, MARKET_REGULATION

RESIDENT_ID = "11010519491231002X"  # GB 11643's own example
HOLDER_TOKEN = HolderIndex(b"k" * 32).of_resident_id(RESIDENT_ID)
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
async def proofs(store: Store) -> AsyncIterator[ProofStore]:
    """A ProofStore on the real, flushed store."""
    proof_store = ProofStore(store)
    yield proof_store
    await proof_store.aclose()


async def _create(
    proofs: ProofStore, *, sender: str = MARKET_REGULATION, target: str = HOUSING_BUREAU
) -> str:
    """A new request from `sender` to `target`: one inbox event in each one's inbox."""
    request = proofs_pb2.ProofRequest(
        request_id=f"pr-{secrets.token_hex(8)}",
        client_request_id=f"case-{secrets.token_hex(4)}",
        proof_item_code="item-x",
        route=proofs_pb2.PROOF_ROUTE_DEPARTMENT_VERIFICATION,
        requesting_department=sender,
        target_departments=[target],
        holder=common_pb2.HolderRef(resident_id=RESIDENT_ID),
        state=proofs_pb2.PROOF_REQUEST_STATE_SUBMITTED,
        sla_mark=proofs_pb2.SLA_MARK_ON_TIME,
        last_event_sequence=1,
        created_at=timestamp(NOW),
    )
    caller = common_pb2.Caller(department_code=sender, role=common_pb2.ROLE_CLERK)
    await proofs.create(
        request,
        created_event(request, caller, NOW),
        client_key=client_key(sender, request.client_request_id),
        holder_token=HOLDER_TOKEN,
        inbox_departments=inbox_departments(request),
        deadline_ms=None,
    )
    return request.request_id


def _ids(response: proofs_pb2.StreamInboxResponse) -> list[str]:
    return [event.request.request_id for event in response.events]


class TestLive:
    """A stream without a cursor starts at the live end and delivers what comes next."""

    async def test_events_arrive_live_after_the_starting_position(self, proofs: ProofStore) -> None:
        """The first response marks the live end; a later event arrives with its request."""
        earlier = await _create(proofs)
        stream = stream_inbox(proofs, HOUSING_BUREAU, INCOMING, "", block_ms=5_000)
        first = await anext(stream)
        assert not first.events
        assert first.cursor == await proofs.inbox_position(HOUSING_BUREAU)
        waiting = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.1)
        later = await _create(proofs)
        response = await asyncio.wait_for(waiting, 5)
        await stream.aclose()
        assert _ids(response) == [later] != [earlier]
        event = response.events[0]
        assert event.direction == INCOMING
        assert event.event.type == proofs_pb2.PROOF_REQUEST_EVENT_TYPE_CREATED
        assert event.event.sequence == 1
        assert response.cursor == event.cursor

    async def test_an_idle_inbox_sends_a_heartbeat_with_the_current_cursor(
        self, proofs: ProofStore
    ) -> None:
        """A blocking read that finds nothing yields an empty response at the same position."""
        await _create(proofs)
        stream = stream_inbox(proofs, HOUSING_BUREAU, BOTH, "", block_ms=50)
        start = await anext(stream)
        heartbeat = await anext(stream)
        await stream.aclose()
        assert not heartbeat.events
        assert heartbeat.cursor == start.cursor != ""


class TestResume:
    """A stream resumed with a cursor continues exactly after it."""

    async def test_resuming_after_event_k_gives_the_rest_exactly_once(
        self, proofs: ProofStore
    ) -> None:
        """Stop after the second of five events; resuming yields the third to fifth, once."""
        ids = [await _create(proofs) for _ in range(5)]
        stream = stream_inbox(proofs, HOUSING_BUREAU, INCOMING, "0-0", block_ms=50, count=1)
        seen = [await anext(stream) for _ in range(2)]
        await stream.aclose()
        assert [_ids(r)[0] for r in seen] == ids[:2]

        resumed = stream_inbox(proofs, HOUSING_BUREAU, INCOMING, seen[-1].cursor, block_ms=50)
        rest = await anext(resumed)
        heartbeat = await anext(resumed)
        await resumed.aclose()
        assert _ids(rest) == ids[2:]
        assert not heartbeat.events and heartbeat.cursor == rest.cursor

    async def test_a_trimmed_cursor_is_refused_naming_the_cursor(self, store: Store) -> None:
        """Events trimmed after the cursor: InvalidArgument on `cursor`, not a silent gap."""
        small = ProofStore(store, inbox_maxlen=10)
        try:
            await _create(small)
            cursor = (await small.read_inbox(HOUSING_BUREAU, "", count=1, block_ms=0))[0][0]
            for _ in range(300):  # approximate trimming drops whole 100-entry nodes
                await _create(small)
            stream = stream_inbox(small, HOUSING_BUREAU, INCOMING, cursor, block_ms=50)
            with pytest.raises(InvalidArgument) as raised:
                await anext(stream)
            assert raised.value.field_violations[0].field == "cursor"
            assert raised.value.field_violations[0].reason == "CURSOR_EXPIRED"
        finally:
            await small.aclose()

    async def test_a_malformed_cursor_is_refused_naming_the_cursor(
        self, proofs: ProofStore
    ) -> None:
        """A cursor the stream never gave out is InvalidArgument on `cursor`."""
        stream = stream_inbox(proofs, HOUSING_BUREAU, INCOMING, "tomorrow", block_ms=50)
        with pytest.raises(InvalidArgument) as raised:
            await anext(stream)
        assert raised.value.field_violations[0].field == "cursor"


class TestDirection:
    """Only the asked-for direction is delivered; the cursor still moves past the rest."""

    async def test_outgoing_events_are_skipped_in_an_incoming_stream(
        self, proofs: ProofStore
    ) -> None:
        """Housing sends one and receives two: incoming sees two, outgoing one, both three."""
        incoming_one = await _create(proofs)
        outgoing = await _create(proofs, sender=HOUSING_BUREAU, target=MARKET_REGULATION)
        incoming_two = await _create(proofs)
        last = await proofs.inbox_position(HOUSING_BUREAU)

        async def first(direction: int) -> proofs_pb2.StreamInboxResponse:
            stream = stream_inbox(proofs, HOUSING_BUREAU, direction, "0-0", block_ms=50)
            response = await anext(stream)
            await stream.aclose()
            return response

        incoming = await first(INCOMING)
        assert _ids(incoming) == [incoming_one, incoming_two]
        assert {e.direction for e in incoming.events} == {INCOMING}
        only_out = await first(OUTGOING)
        assert _ids(only_out) == [outgoing]
        assert only_out.events[0].direction == OUTGOING
        assert only_out.cursor == incoming.cursor == last  # moved past the skipped ones
        assert _ids(await first(BOTH)) == [incoming_one, outgoing, incoming_two]
