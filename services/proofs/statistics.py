"""Supervision statistics (电子监察) of one target department's requests for one proof item.

Pure: the caller reads the requests (``ProofStore.list_for_item(department, item_code,
start_ms=, end_ms=)``) and this counts them. Decisions:

- The period selects requests by *creation* (at or after `start`, before `end`), as
  GetProofStatisticsRequest says; every figure is about those requests. So "answered in
  the period" means: created in the period and answered (by now). Requests outside the
  period, for another item, or not sent to `department` are ignored, so a caller may pass
  a wider list.
- ``state_counts`` has one row per state, in the enum's order, zero counts included; the
  counts add up to the number of requests counted.
- A request is answered when its answer has ``answered_at``. It is answered on time when
  ``answered_at`` ≤ ``due_at`` (the due instant itself is on time, as ``sla_mark`` says);
  a request without a due time (answered at once: cancelled, data sharing, commitment)
  counts as on time.
- ``median_answer_time`` is wall-clock from ``created_at`` to ``answered_at``, the mean
  of the two middle values for an even count (to the microsecond), zero when none.
- ``overdue`` counts requests that went red: SLA mark OVERDUE, escalated, or answered
  after their due time (red even if the sweeper never got to mark it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from google.protobuf import duration_pb2, timestamp_pb2

from genproto.certfree.proofs.v1 import proofs_pb2
from services.proofs.states import STATES


def _at(stamp: timestamp_pb2.Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def in_period(
    request: proofs_pb2.ProofRequest, start: datetime | None, end: datetime | None
) -> bool:
    """Report whether `request` was created at or after `start` and before `end`."""
    created = _at(request.created_at)
    return (start is None or created >= start) and (end is None or created < end)


def answered_on_time(request: proofs_pb2.ProofRequest) -> bool:
    """Report whether an answered request was answered by its due time (no due time: yes)."""
    if not request.HasField("due_at"):
        return True
    return _at(request.answer.answered_at) <= _at(request.due_at)


def went_red(request: proofs_pb2.ProofRequest) -> bool:
    """Report whether a request went overdue: marked red, escalated, or answered late."""
    if request.sla_mark == proofs_pb2.SLA_MARK_OVERDUE or request.escalated:
        return True
    return _answered(request) and not answered_on_time(request)


def _answered(request: proofs_pb2.ProofRequest) -> bool:
    return request.HasField("answer") and request.answer.HasField("answered_at")


def median_microseconds(values: Sequence[int]) -> int:
    """The median of whole microseconds, the two middle ones averaged (rounded down); 0 if none."""
    if not values:
        return 0
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) // 2


def statistics(
    requests: Sequence[proofs_pb2.ProofRequest],
    *,
    department: str,
    item_code: str,
    start: datetime | None,
    end: datetime | None,
) -> proofs_pb2.ProofStatistics:
    """The ProofStatistics row of `department` (a target) and `item_code` over the period."""
    counted = [
        request
        for request in requests
        if request.proof_item_code == item_code
        and department in request.target_departments
        and in_period(request, start, end)
    ]
    by_state = dict.fromkeys(STATES, 0)
    for request in counted:
        if request.state in by_state:
            by_state[request.state] += 1
    answered = [request for request in counted if _answered(request)]
    on_time = sum(1 for request in answered if answered_on_time(request))
    answer_times = [
        (_at(r.answer.answered_at) - _at(r.created_at)) // timedelta(microseconds=1)
        for r in answered
    ]
    median = duration_pb2.Duration()
    median.FromTimedelta(timedelta(microseconds=median_microseconds(answer_times)))
    return proofs_pb2.ProofStatistics(
        department_code=department,
        proof_item_code=item_code,
        state_counts=[
            proofs_pb2.StateCount(state=state, count=count) for state, count in by_state.items()
        ],
        answered=len(answered),
        answered_on_time=on_time,
        on_time_rate=on_time / len(answered) if answered else 0.0,
        median_answer_time=median,
        overdue=sum(1 for request in counted if went_red(request)),
    )
