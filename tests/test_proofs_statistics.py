"""Supervision statistics: counts by state, on-time answers, median answer time, overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from genproto.certfree.proofs.v1 import proofs_pb2
from services.proofs.records import timestamp
from services.proofs.states import STATES
from services.proofs.statistics import median_microseconds, statistics
from tests.conftest import HOUSING_BUREAU, MARKET_REGULATION

ITEM = "construction-drawing-approval"
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
ANSWERED = proofs_pb2.PROOF_REQUEST_STATE_ANSWERED
SUBMITTED = proofs_pb2.PROOF_REQUEST_STATE_SUBMITTED


def _request(
    *,
    created: datetime = T0,
    state: int = SUBMITTED,
    answered_after: timedelta | None = None,
    due_after: timedelta | None = timedelta(hours=8),
    mark: int = proofs_pb2.SLA_MARK_ON_TIME,
    escalated: bool = False,
    item: str = ITEM,
    target: str = HOUSING_BUREAU,
) -> proofs_pb2.ProofRequest:
    request = proofs_pb2.ProofRequest(
        proof_item_code=item,
        target_departments=[target],
        state=state,  # type: ignore[arg-type]
        sla_mark=mark,  # type: ignore[arg-type]
        escalated=escalated,
        created_at=timestamp(created),
    )
    if due_after is not None:
        request.due_at.CopyFrom(timestamp(created + due_after))
    if answered_after is not None:
        request.state = ANSWERED
        request.answer.outcome = proofs_pb2.PROOF_OUTCOME_CONFIRMED
        request.answer.answered_at.CopyFrom(timestamp(created + answered_after))
    return request


def _stats(
    requests: list[proofs_pb2.ProofRequest],
    start: datetime | None = None,
    end: datetime | None = None,
) -> proofs_pb2.ProofStatistics:
    return statistics(requests, department=HOUSING_BUREAU, item_code=ITEM, start=start, end=end)


def _counts(row: proofs_pb2.ProofStatistics) -> dict[int, int]:
    return {c.state: c.count for c in row.state_counts}


class TestCounts:
    """Every figure on a hand-made set whose answers are known."""

    def test_a_worked_example(self) -> None:
        """Three answered (one late), one waiting red, one withdrawn; median of 1h, 2h, 9h."""
        requests = [
            _request(answered_after=timedelta(hours=1)),
            _request(answered_after=timedelta(hours=2)),
            _request(answered_after=timedelta(hours=9)),  # due after 8 h: late, so red
            _request(mark=proofs_pb2.SLA_MARK_OVERDUE, escalated=True),
            _request(state=proofs_pb2.PROOF_REQUEST_STATE_WITHDRAWN),
        ]
        row = _stats(requests)
        assert (row.department_code, row.proof_item_code) == (HOUSING_BUREAU, ITEM)
        assert (row.answered, row.answered_on_time, row.overdue) == (3, 2, 2)
        assert row.on_time_rate == 2 / 3
        assert row.median_answer_time.ToTimedelta() == timedelta(hours=2)
        counts = _counts(row)
        assert [c.state for c in row.state_counts] == list(STATES)
        assert (counts[ANSWERED], counts[SUBMITTED]) == (3, 1)
        assert counts[proofs_pb2.PROOF_REQUEST_STATE_WITHDRAWN] == 1

    def test_an_even_count_takes_the_mean_of_the_middle_two(self) -> None:
        """Answers after 1 h and 2 h have a median of 1.5 h."""
        row = _stats([_request(answered_after=timedelta(hours=h)) for h in (1, 2)])
        assert row.median_answer_time.ToTimedelta() == timedelta(hours=1, minutes=30)

    def test_answered_at_the_due_instant_or_without_a_due_time_is_on_time(self) -> None:
        """The due instant itself is on time; so is an answer with no due time at all."""
        row = _stats(
            [
                _request(answered_after=timedelta(hours=8)),
                _request(answered_after=timedelta(days=9), due_after=None),
            ]
        )
        assert (row.answered, row.answered_on_time, row.overdue) == (2, 2, 0)
        assert row.on_time_rate == 1.0

    def test_nothing_answered_gives_zero_rate_and_median(self) -> None:
        """With no answers the rate and the median are zero, not an error."""
        row = _stats([_request()])
        assert (row.answered, row.on_time_rate) == (0, 0.0)
        assert row.median_answer_time.ToTimedelta() == timedelta(0)

    def test_the_period_item_and_department_select_the_requests(self) -> None:
        """Created before start or at end, another item or another target: not counted."""
        start, end = T0, T0 + timedelta(days=1)
        requests = [
            _request(created=start),  # counted: at the start
            _request(created=start - timedelta(seconds=1)),
            _request(created=end),
            _request(item="other-item"),
            _request(target=MARKET_REGULATION),
        ]
        assert sum(_counts(_stats(requests, start, end)).values()) == 1
        assert sum(_counts(_stats(requests)).values()) == 3


_requests = st.lists(
    st.builds(
        _request,
        created=st.integers(0, 10 * 24 * 3600).map(lambda s: T0 + timedelta(seconds=s)),
        state=st.sampled_from(STATES),
        answered_after=st.none()
        | st.integers(0, 30 * 24 * 3600).map(lambda s: timedelta(seconds=s)),
        due_after=st.none() | st.integers(0, 5 * 24 * 3600).map(lambda s: timedelta(seconds=s)),
        mark=st.sampled_from(
            [proofs_pb2.SLA_MARK_ON_TIME, proofs_pb2.SLA_MARK_WARNING, proofs_pb2.SLA_MARK_OVERDUE]
        ),
        escalated=st.booleans(),
    ),
    max_size=30,
)


class TestProperties:
    """Invariants that hold for any set of requests."""

    @given(_requests)
    def test_counts_add_up_and_the_rate_is_a_share(
        self, requests: list[proofs_pb2.ProofRequest]
    ) -> None:
        """State counts sum to the requests; on-time ≤ answered ≤ requests; rate in [0, 1]."""
        row = _stats(requests)
        assert sum(_counts(row).values()) == len(requests)
        assert row.answered_on_time <= row.answered <= len(requests)
        assert row.overdue <= len(requests)
        assert 0.0 <= row.on_time_rate <= 1.0

    @given(_requests)
    def test_the_median_lies_between_the_shortest_and_longest_answer(
        self, requests: list[proofs_pb2.ProofRequest]
    ) -> None:
        """The median answer time is within the range of answer times."""
        row = _stats(requests)
        times = [
            r.answer.answered_at.ToDatetime() - r.created_at.ToDatetime()
            for r in requests
            if r.answer.HasField("answered_at")
        ]
        if times:
            assert min(times) <= row.median_answer_time.ToTimedelta() <= max(times)

    @given(st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=50))
    def test_median_splits_the_values(self, values: list[int]) -> None:
        """At most half the values lie strictly below the median, at most half above."""
        median = median_microseconds(values)
        assert sum(v < median for v in values) <= len(values) / 2
        assert sum(v > median for v in values) <= len(values) / 2
