"""The proofs sweeper and commitment sampling against a real store, with a controlled clock."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.proofs.v1 import proofs_pb2
from runtime.holders import HolderIndex
from runtime.store import Store
from services.proofs import states
from services.proofs.deadlines import WorkingCalendar
from services.proofs.records import (
    SERVICE_ACTOR,
    change,
    created_event,
    inbox_departments,
    millis,
    timestamp,
)
from services.proofs.store import ProofStore, client_key
from services.proofs.sweeper import Sweeper, expires_at, next_look_ms
from tests.conftest import HOUSING_BUREAU, MARKET_REGULATION

ZONE = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkingCalendar.from_config()
RESIDENT_ID = "11010519491231002X"  # GB 11643's own example
HOLDER_TOKEN = HolderIndex(b"k" * 32).of_resident_id(RESIDENT_ID)
EXPIRY = timedelta(days=3)
CLERK = common_pb2.Caller(department_code=MARKET_REGULATION, role=common_pb2.ROLE_CLERK)
OFFICER = common_pb2.Caller(department_code=HOUSING_BUREAU, role=common_pb2.ROLE_OFFICER)

# Created Monday 10:00; due in 1 working day with 4 working hours' warning: yellow on
# Tuesday at 13:30, due Tuesday at 17:30, expired Thursday at 10:00 (3 wall-clock days).
CREATED = datetime(2026, 3, 2, 10, 0, tzinfo=ZONE)
DEADLINE = CALENDAR.deadline(CREATED, days=1, time=timedelta(0), warning_before=timedelta(hours=4))
BEFORE_WARNING = datetime(2026, 3, 3, 13, 0, tzinfo=ZONE)
YELLOW = datetime(2026, 3, 3, 14, 0, tzinfo=ZONE)
RED = datetime(2026, 3, 3, 18, 0, tzinfo=ZONE)
EXPIRED = datetime(2026, 3, 5, 10, 0, tzinfo=ZONE)

SLA = proofs_pb2.PROOF_REQUEST_EVENT_TYPE_SLA_CHANGED
ESCALATED = proofs_pb2.PROOF_REQUEST_EVENT_TYPE_ESCALATED
EXPIRED_EVENT = proofs_pb2.PROOF_REQUEST_EVENT_TYPE_EXPIRED
SAMPLED = proofs_pb2.PROOF_REQUEST_EVENT_TYPE_COMMITMENT_SAMPLED


class Clock:
    """The one fake: a clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        """The current controlled instant."""
        return self.now


@pytest.fixture
async def proofs(store: Store) -> AsyncIterator[ProofStore]:
    """A ProofStore on the real, flushed store."""
    proof_store = ProofStore(store)
    yield proof_store
    await proof_store.aclose()


def _sweeper(proofs: ProofStore, **options: object) -> Sweeper:
    settings: dict[str, object] = {
        "interval": 1.0,
        "expiry": EXPIRY,
        "sampling_rate": 0.5,
        "clock": Clock(CREATED),
    }
    settings.update(options)
    return Sweeper(proofs, CALENDAR, **settings)  # type: ignore[arg-type]


def _request(
    route: int = proofs_pb2.PROOF_ROUTE_DEPARTMENT_VERIFICATION, *, timed: bool = True
) -> proofs_pb2.ProofRequest:
    request = proofs_pb2.ProofRequest(
        request_id=f"pr-{secrets.token_hex(8)}",
        client_request_id=f"case-{secrets.token_hex(4)}",
        proof_item_code="item-x",
        route=route,  # type: ignore[arg-type]
        requesting_department=MARKET_REGULATION,
        requested_by="clerk-007",
        target_departments=[HOUSING_BUREAU],
        holder=common_pb2.HolderRef(resident_id=RESIDENT_ID),
        purpose=common_pb2.AccessPurpose(purpose="business registration", case_reference="C-1"),
        state=states.SUBMITTED,
        sla_mark=proofs_pb2.SLA_MARK_ON_TIME,
        last_event_sequence=1,
        created_at=timestamp(CREATED),
        updated_at=timestamp(CREATED),
    )
    if timed:
        request.warning_at.CopyFrom(timestamp(DEADLINE.warning_at))
        request.due_at.CopyFrom(timestamp(DEADLINE.due_at))
    return request


async def _create(proofs: ProofStore, request: proofs_pb2.ProofRequest) -> str:
    await proofs.create(
        request,
        created_event(request, CLERK, CREATED),
        client_key=client_key(request.requesting_department, request.client_request_id),
        holder_token=HOLDER_TOKEN,
        inbox_departments=inbox_departments(request),
        deadline_ms=next_look_ms(request, now=CREATED, expiry=EXPIRY),
    )
    return request.request_id


async def _act(
    proofs: ProofStore,
    request_id: str,
    event_type: int,
    to_state: int | None,
    at: datetime,
    *,
    edit: object = None,
    sampling: bool = False,
) -> proofs_pb2.ProofRequest:
    """An officer's or clerk's change, written as the proving code writes it."""
    found = await proofs.get(request_id)
    assert found is not None
    request, before = found
    step = change(
        request,
        event_type,  # type: ignore[arg-type]
        actor=OFFICER,
        now=at,
        to_state=to_state,  # type: ignore[arg-type]
        edit=edit,  # type: ignore[arg-type]
    )
    assert await proofs.transition(
        before,
        step.after,
        step.event,
        inbox_departments=inbox_departments(step.after),
        deadline_ms=next_look_ms(step.after, now=at, expiry=EXPIRY),
        sampling_ms=millis(at) if sampling else None,
    )
    return step.after


async def _types(proofs: ProofStore, request_id: str) -> list[int]:
    return [event.type for event in await proofs.events(request_id, 0, 100)]


async def _request_now(proofs: ProofStore, request_id: str) -> proofs_pb2.ProofRequest:
    found = await proofs.get(request_id)
    assert found is not None
    return found[0]


class TestDeadlines:
    """Warning, overdue and expiry arrive in order, each recorded once, by the service."""

    async def test_warning_then_overdue_then_expiry_in_order(self, proofs: ProofStore) -> None:
        """Each instant's sweep writes its events once; sweeps between write nothing."""
        request_id = await _create(proofs, _request())
        sweeper = _sweeper(proofs)
        assert (await sweeper.sweep_once(BEFORE_WARNING)).looked == 0

        report = await sweeper.sweep_once(YELLOW)
        assert (report.looked, report.sla_changed) == (1, 1)
        assert (await _request_now(proofs, request_id)).sla_mark == proofs_pb2.SLA_MARK_WARNING
        assert (await sweeper.sweep_once(YELLOW + timedelta(hours=1))).looked == 0

        report = await sweeper.sweep_once(RED)
        assert (report.sla_changed, report.escalated) == (1, 1)
        now = await _request_now(proofs, request_id)
        assert now.sla_mark == proofs_pb2.SLA_MARK_OVERDUE and now.escalated
        assert (await sweeper.sweep_once(RED + timedelta(days=1))).looked == 0

        report = await sweeper.sweep_once(EXPIRED)
        assert report.expired == 1
        assert (await _request_now(proofs, request_id)).state == states.EXPIRED
        assert await _types(proofs, request_id) == [
            proofs_pb2.PROOF_REQUEST_EVENT_TYPE_CREATED,
            SLA,
            SLA,
            ESCALATED,
            EXPIRED_EVENT,
        ]
        events = await proofs.events(request_id, 1, 10)
        assert [e.sla_mark for e in events[:2]] == [
            proofs_pb2.SLA_MARK_WARNING,
            proofs_pb2.SLA_MARK_OVERDUE,
        ]
        assert all(e.actor == SERVICE_ACTOR for e in events)
        assert await proofs.due(millis(EXPIRED + timedelta(days=365)), 10) == []

    async def test_a_late_sweep_goes_straight_to_red_and_escalates_once(
        self, proofs: ProofStore
    ) -> None:
        """A sweeper that missed the warning records one mark change and one escalation."""
        request_id = await _create(proofs, _request())
        sweeper = _sweeper(proofs)
        for hours in (0, 1, 5, 20):
            await sweeper.sweep_once(RED + timedelta(hours=hours))
        assert await _types(proofs, request_id) == [
            proofs_pb2.PROOF_REQUEST_EVENT_TYPE_CREATED,
            SLA,
            ESCALATED,
        ]

    async def test_an_overdue_request_left_unescalated_by_a_crash_is_escalated(
        self, proofs: ProofStore
    ) -> None:
        """Red without escalation (a crash between the two writes) is repaired next look."""
        request_id = await _create(proofs, _request())

        def red(after: proofs_pb2.ProofRequest) -> None:
            after.sla_mark = proofs_pb2.SLA_MARK_OVERDUE

        await _act(proofs, request_id, SLA, None, RED, edit=red)
        assert await proofs.due(millis(RED), 10) == [request_id]  # due at once
        report = await _sweeper(proofs).sweep_once(RED)
        assert (report.sla_changed, report.escalated) == (0, 1)
        assert (await _types(proofs, request_id))[-1] == ESCALATED

    async def test_expiry_of_a_request_waiting_for_more_info_keeps_its_mark(
        self, proofs: ProofStore
    ) -> None:
        """In NEEDS_MORE_INFO the deadline pauses: no mark changes, but it still expires."""
        request_id = await _create(proofs, _request())
        await _act(
            proofs,
            request_id,
            proofs_pb2.PROOF_REQUEST_EVENT_TYPE_MORE_INFO_ASKED,
            states.NEEDS_MORE_INFO,
            CREATED + timedelta(hours=1),
        )
        sweeper = _sweeper(proofs)
        assert (await sweeper.sweep_once(RED)).looked == 0
        assert (await sweeper.sweep_once(EXPIRED)).expired == 1
        now = await _request_now(proofs, request_id)
        assert now.state == states.EXPIRED and now.sla_mark == proofs_pb2.SLA_MARK_ON_TIME

    async def test_a_final_request_left_in_the_index_leaves_it_without_an_event(
        self, proofs: ProofStore
    ) -> None:
        """A request withdrawn by a writer that kept its index entry is dropped, not changed."""
        request_id = await _create(proofs, _request())
        found = await proofs.get(request_id)
        assert found is not None
        request, before = found
        step = change(
            request,
            proofs_pb2.PROOF_REQUEST_EVENT_TYPE_WITHDRAWN,
            actor=CLERK,
            now=CREATED,
            to_state=states.WITHDRAWN,
        )
        stale_score = millis(DEADLINE.warning_at)
        await proofs.transition(
            before, step.after, step.event, inbox_departments=[], deadline_ms=stale_score
        )
        report = await _sweeper(proofs).sweep_once(YELLOW)
        assert (report.looked, report.rescheduled) == (1, 1)
        assert await proofs.due(millis(EXPIRED + timedelta(days=9)), 10) == []
        assert len(await _types(proofs, request_id)) == 2

    @given(
        minutes=st.integers(min_value=0, max_value=7 * 24 * 60),
        mark=st.sampled_from(
            [
                proofs_pb2.SLA_MARK_ON_TIME,
                proofs_pb2.SLA_MARK_WARNING,
                proofs_pb2.SLA_MARK_OVERDUE,
            ]
        ),
        escalated=st.booleans(),
    )
    def test_the_next_look_is_never_after_expiry(
        self, minutes: int, mark: int, escalated: bool
    ) -> None:
        """Whatever the mark and the time, the next look comes by the expiry instant."""
        request = _request()
        request.sla_mark = mark  # type: ignore[assignment]
        request.escalated = escalated
        now = CREATED + timedelta(minutes=minutes)
        score = next_look_ms(request, now=now, expiry=EXPIRY)
        assert score is not None
        assert score <= millis(expires_at(request, EXPIRY)) + 1


class _RacingStore(ProofStore):
    """The real store, with an officer accepting each request just after the sweeper reads it."""

    async def get(self, request_id: str) -> tuple[proofs_pb2.ProofRequest, bytes] | None:
        """Read, then let the officer's change land before the caller writes."""
        found = await super().get(request_id)
        await _act(
            ProofStore(self._store),
            request_id,
            proofs_pb2.PROOF_REQUEST_EVENT_TYPE_ACCEPTED,
            states.ACCEPTED,
            YELLOW,
        )
        return found


class TestConcurrency:
    """Races with officers and other replicas never lose or repeat an event."""

    async def test_a_sweep_racing_an_officer_writes_nothing_for_that_request(
        self, store: Store, proofs: ProofStore
    ) -> None:
        """The officer's change wins; the sweeper skips; the next tick marks the request."""
        request_id = await _create(proofs, _request())
        racing = _RacingStore(store)
        report = await _sweeper(racing).sweep_once(YELLOW)
        assert (report.looked, report.conflicts, report.sla_changed) == (1, 1, 0)
        assert await _types(proofs, request_id) == [
            proofs_pb2.PROOF_REQUEST_EVENT_TYPE_CREATED,
            proofs_pb2.PROOF_REQUEST_EVENT_TYPE_ACCEPTED,
        ]
        assert (await _sweeper(proofs).sweep_once(YELLOW)).sla_changed == 1
        assert (await _types(proofs, request_id))[-1] == SLA

    async def test_two_replicas_sweeping_at_once_write_each_event_once(
        self, store: Store, proofs: ProofStore
    ) -> None:
        """Two sweepers on one store, at the same instants: every event exactly once."""
        ids = [await _create(proofs, _request()) for _ in range(12)]
        other = ProofStore(store)
        a, b = _sweeper(proofs, owner="replica-a"), _sweeper(other, owner="replica-b")
        for now in (YELLOW, RED, EXPIRED):
            await asyncio.gather(a.sweep_once(now), b.sweep_once(now))
        # Without the lock (as after it expired mid-tick): compare-and-set alone suffices.
        more = [await _create(proofs, _request()) for _ in range(6)]
        for now in (YELLOW, RED, EXPIRED):
            await asyncio.gather(*(s.sweep_request(i, now) for i in more for s in (a, b)))
        await other.aclose()
        for request_id in ids + more:
            assert await _types(proofs, request_id) == [
                proofs_pb2.PROOF_REQUEST_EVENT_TYPE_CREATED,
                SLA,
                SLA,
                ESCALATED,
                EXPIRED_EVENT,
            ]

    async def test_a_replica_skips_the_tick_another_one_holds(self, proofs: ProofStore) -> None:
        """The sweep lock held by one owner makes another's tick a no-op."""
        await _create(proofs, _request())
        assert await proofs.sweep_lock("someone-else", 10_000)
        assert (await _sweeper(proofs).sweep_once(YELLOW)).skipped

    async def test_the_loop_sweeps_on_its_own_and_stops(self, proofs: ProofStore) -> None:
        """start() runs ticks with the clock's time; stop() ends them and frees the lock."""
        request_id = await _create(proofs, _request())
        sweeper = _sweeper(proofs, interval=0.05, clock=Clock(RED))
        await sweeper.start()
        for _ in range(100):
            if (await _request_now(proofs, request_id)).escalated:
                break
            await asyncio.sleep(0.05)
        await sweeper.stop()
        assert (await _request_now(proofs, request_id)).escalated
        assert await proofs.sweep_lock("next-owner", 1000)


async def _commitment(proofs: ProofStore, *, item_rate: float | None = None) -> str:
    """A commitment request answered with its commitment, waiting for sampling."""
    request = _request(proofs_pb2.PROOF_ROUTE_COMMITMENT, timed=False)
    request.proof_item_code = "commitment-item" if item_rate is None else "rated-item"
    request_id = await _create(proofs, request)

    def commit(after: proofs_pb2.ProofRequest) -> None:
        after.commitment.commitment_id = secrets.token_hex(8)
        after.commitment.text = "本人承诺所填信息属实"
        after.commitment.recorded_at.CopyFrom(timestamp(CREATED))
        after.commitment.check_state = proofs_pb2.COMMITMENT_CHECK_STATE_AWAITING_SAMPLING

    await _act(
        proofs,
        request_id,
        proofs_pb2.PROOF_REQUEST_EVENT_TYPE_COMMITMENT_RECORDED,
        states.ANSWERED,
        CREATED,
        edit=commit,
        sampling=True,
    )
    return request_id


@pytest.fixture
async def items(proofs: ProofStore) -> None:
    """Two commitment items: one with the deployment's rate, one with its own rate 1."""
    for code, rate in (("commitment-item", None), ("rated-item", 1.0)):
        terms = proofs_pb2.CommitmentTerms(text="本人承诺所填信息属实")
        if rate is not None:
            terms.sampling_rate = rate
        item = proofs_pb2.ProofItem(
            code=code,
            name="承诺事项",
            route=proofs_pb2.PROOF_ROUTE_COMMITMENT,
            legal_basis="国办发〔2020〕42号",
            authoritative_departments=[HOUSING_BUREAU],
            commitment=terms,
        )
        await proofs.upsert_item(item, 0)


async def _check_states(proofs: ProofStore, ids: list[str]) -> list[int]:
    return [(await _request_now(proofs, i)).commitment.check_state for i in ids]


@pytest.mark.usefixtures("items")
class TestSampling:
    """Every commitment is decided once, at the item's or the deployment's rate."""

    async def test_rate_zero_selects_none_and_rate_one_selects_all(
        self, proofs: ProofStore
    ) -> None:
        """The deployment rate 0 passes every commitment over; an item's rate 1 overrides it."""
        plain = [await _commitment(proofs) for _ in range(5)]
        rated = [await _commitment(proofs, item_rate=1.0) for _ in range(5)]
        position = await proofs.inbox_position(HOUSING_BUREAU)
        report = await _sweeper(proofs, sampling_rate=0.0).sample_once(CREATED)
        assert (report.looked, report.selected, report.not_selected) == (10, 5, 5)
        assert set(await _check_states(proofs, plain)) == {
            proofs_pb2.COMMITMENT_CHECK_STATE_NOT_SELECTED
        }
        assert set(await _check_states(proofs, rated)) == {
            proofs_pb2.COMMITMENT_CHECK_STATE_SELECTED
        }
        inbox = await proofs.read_inbox(HOUSING_BUREAU, position, count=100, block_ms=0)
        assert sorted(entry[1] for entry in inbox) == sorted(rated)  # selected ones only
        assert await proofs.sampling_candidates(100) == []

    async def test_rate_one_selects_all(self, proofs: ProofStore) -> None:
        """The deployment rate 1 selects every commitment."""
        ids = [await _commitment(proofs) for _ in range(5)]
        assert (await _sweeper(proofs, sampling_rate=1.0).sample_once(CREATED)).selected == 5
        assert set(await _check_states(proofs, ids)) == {proofs_pb2.COMMITMENT_CHECK_STATE_SELECTED}

    async def test_a_seeded_half_rate_selects_a_plausible_share(self, proofs: ProofStore) -> None:
        """At 0.5 with a seeded generator, between 35% and 65% of 60 are selected."""
        for _ in range(60):
            await _commitment(proofs)
        sweeper = _sweeper(proofs, sampling_rate=0.5, rng=random.Random(20260302))  # noqa: S311
        report = await sweeper.sample_once(CREATED)
        assert report.selected + report.not_selected == 60
        assert 21 <= report.selected <= 39

    async def test_a_commitment_is_never_sampled_twice(
        self, store: Store, proofs: ProofStore
    ) -> None:
        """Two samplers at once, then again: one COMMITMENT_SAMPLED event per commitment."""
        ids = [await _commitment(proofs) for _ in range(8)]
        other = ProofStore(store)
        a, b = _sweeper(proofs), _sweeper(other)
        await asyncio.gather(a.sample_once(CREATED), b.sample_once(CREATED))
        again = await a.sample_once(CREATED + timedelta(days=1))
        await other.aclose()
        assert again.looked == 0
        for request_id in ids:
            assert (await _types(proofs, request_id)).count(SAMPLED) == 1

    async def test_a_decided_candidate_left_by_a_crash_is_only_taken_out(
        self, proofs: ProofStore
    ) -> None:
        """A commitment decided but still a candidate (crash before take) gets no new event."""
        request_id = await _commitment(proofs)

        def decided(after: proofs_pb2.ProofRequest) -> None:
            after.commitment.check_state = proofs_pb2.COMMITMENT_CHECK_STATE_NOT_SELECTED

        await _act(proofs, request_id, SAMPLED, None, CREATED, edit=decided)
        report = await _sweeper(proofs).sample_once(CREATED)
        assert (report.looked, report.already_decided) == (1, 1)
        assert (await _types(proofs, request_id)).count(SAMPLED) == 1
        assert await proofs.sampling_candidates(10) == []

    async def test_a_candidate_sampled_only_once_its_time_has_come(
        self, proofs: ProofStore
    ) -> None:
        """A commitment recorded after the sampler's now waits for a later pass."""
        await _commitment(proofs)
        before = CREATED - timedelta(minutes=1)
        assert (await _sweeper(proofs).sample_once(before)).looked == 0


class TestReschedule:
    """ProofStore.reschedule moves or drops an index entry only while the record is unchanged."""

    async def test_reschedule_moves_drops_and_refuses_a_stale_read(
        self, proofs: ProofStore
    ) -> None:
        """A current read moves and drops the entry; a stale one writes nothing."""
        request_id = await _create(proofs, _request())
        found = await proofs.get(request_id)
        assert found is not None
        _, before = found
        assert await proofs.reschedule(before, request_id, 5)
        assert await proofs.due(5, 10) == [request_id]
        assert await proofs.reschedule(before, request_id, None)
        assert await proofs.due(millis(EXPIRED + timedelta(days=9)), 10) == []
        await _act(
            proofs,
            request_id,
            proofs_pb2.PROOF_REQUEST_EVENT_TYPE_ACCEPTED,
            states.ACCEPTED,
            YELLOW,
        )
        assert not await proofs.reschedule(before, request_id, None)
        assert await proofs.due(millis(EXPIRED), 10) == [request_id]  # the writer's entry stays
        assert len(await _types(proofs, request_id)) == 2
