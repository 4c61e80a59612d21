"""The proofs service's background jobs: the deadline sweeper and commitment sampling.

**The sweep** (限时办结, 预警, 黄牌/红牌) looks at every request whose deadline-index
instant has come (``ProofStore.due``) and moves it on, one change per step, each with
its history event (``records.change``, actor :data:`~services.proofs.records.SERVICE_ACTOR`):

- its SLA mark follows :func:`~services.proofs.deadlines.sla_mark` — an
  ``SLA_CHANGED`` event whenever the mark differs from the stored one (back to ON_TIME
  too, when supplied information moved the deadline on);
- when it is OVERDUE and not yet escalated, a second change sets ``escalated`` and
  records an ``ESCALATED`` event. Two events, not one, because the contract has both
  types and the history then reads "turned red, then escalated"; each is its own
  compare-and-set write, and a crash between them is repaired by the next look (an
  overdue request that is not escalated stays due at once);
- at its expiry instant (``created_at`` + the expiry setting, wall-clock) a request
  that may still expire becomes EXPIRED (``states.transition(.., EXPIRE, SYSTEM)``).

Only SUBMITTED and ACCEPTED requests with a ``due_at`` carry an SLA mark that moves. In
NEEDS_MORE_INFO the deadline pauses (the requester's reply moves it on), so only expiry
is watched. A request that is final or can no longer expire (ANSWERED) leaves the index.

The deadline index holds each request's *next look* (:func:`next_look_ms`): the warning
instant, then the first instant after ``due_at``, then the expiry instant, whichever
comes next and never later than expiry. When a look changes nothing (the request
changed since it was indexed) the sweeper only moves or drops its index entry
(``ProofStore.reschedule``, itself compare-and-set, no event). Writers of other changes
should pass ``next_look_ms(after, now=now, expiry=expiry)`` as their ``deadline_ms``.

Several replicas may run a sweeper: the store's sweep lock lets one work a tick and the
others skip it, which only saves work; correctness comes from the store's compare and
set. A request that changed between the sweeper's read and its write is skipped, and the
next tick looks at it again. One tick handles at most ``batch`` due requests.

**Sampling** (事后核查) decides for every recorded commitment whether it is checked: with
the item's ``commitment.sampling_rate`` if set, else the deployment's rate. The decision
is written (``COMMITMENT_SAMPLED``, check state SELECTED or NOT_SELECTED; a selected one
goes to the inboxes of the item's authoritative departments that are targets of the
request) *before* the request leaves the sampling set. That order differs from "take,
then decide" on purpose: the compare-and-set write is what admits exactly one replica,
and a crash after it leaves only a candidate that the next tick recognises as decided
and takes out, whereas taking first would lose the decision for good on a crash. The
default random source is the operating system's (``random.SystemRandom``): an applicant
must not be able to predict whether their commitment will be checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from genproto.certfree.proofs.v1 import proofs_pb2
from runtime.errors import CertfreeError
from runtime.logs import get_logger
from runtime.metrics import (
    PROOF_REQUESTS_ESCALATED,
    PROOF_REQUESTS_OPEN,
    PROOF_REQUESTS_OVERDUE,
    PROOF_SWEEP_CHANGES,
)
from services.proofs import states
from services.proofs.deadlines import WorkingCalendar, sla_mark
from services.proofs.records import SERVICE_ACTOR, Change, change, inbox_departments, millis
from services.proofs.store import ProofStore

BATCH = 500
"""Most due requests, or sampling candidates, one tick handles."""

SAMPLING_ATTEMPTS = 3
"""Reads and writes one sampling decision tries before leaving it to the next tick."""

_TIMED = (states.SUBMITTED, states.ACCEPTED, states.NEEDS_MORE_INFO)
_RUNNING = (states.SUBMITTED, states.ACCEPTED)

_log = get_logger("proofs.sweeper")


@dataclass(frozen=True)
class SweepReport:
    """What one sweep did, in counts of requests (not events)."""

    skipped: bool = False
    """True when another replica held the sweep lock, so this one did nothing."""

    looked: int = 0
    """Due requests read."""

    sla_changed: int = 0
    """Requests whose SLA mark changed."""

    escalated: int = 0
    """Requests escalated as overdue."""

    expired: int = 0
    """Requests that expired."""

    rescheduled: int = 0
    """Requests left unchanged whose index entry was moved or dropped."""

    conflicts: int = 0
    """Requests that changed meanwhile; the next tick looks again."""

    failed: int = 0
    """Requests that could not be handled (a damaged record); logged by id."""


@dataclass(frozen=True)
class SampleReport:
    """What one sampling pass did, in counts of requests."""

    looked: int = 0
    """Candidates read."""

    selected: int = 0
    """Commitments this pass selected for checking."""

    not_selected: int = 0
    """Commitments this pass passed over."""

    already_decided: int = 0
    """Candidates decided before (by another replica, or before a crash); only taken out."""

    conflicts: int = 0
    """Candidates that kept changing; left for the next tick."""


def _ceil_ms(instant: datetime) -> int:
    return math.ceil(instant.timestamp() * 1000)


def expires_at(request: proofs_pb2.ProofRequest, expiry: timedelta) -> datetime:
    """The instant a request expires if nobody acts: its creation plus `expiry`, wall-clock."""
    created: datetime = request.created_at.ToDatetime(tzinfo=UTC)
    return created + expiry


def is_timed(request: proofs_pb2.ProofRequest) -> bool:
    """Report whether the sweeper still watches a request: it may still expire."""
    return request.state in _TIMED


def current_mark(request: proofs_pb2.ProofRequest, now: datetime) -> int | None:
    """The SLA mark a request should carry at `now`, or None when its mark does not move
    (no due time, or not SUBMITTED or ACCEPTED: answered, final, or paused for more info)."""
    if request.state not in _RUNNING or not request.HasField("due_at"):
        return None
    warning = request.warning_at.ToDatetime(tzinfo=UTC) if request.HasField("warning_at") else None
    return sla_mark(now, warning, request.due_at.ToDatetime(tzinfo=UTC))


def next_look_ms(
    request: proofs_pb2.ProofRequest, *, now: datetime, expiry: timedelta
) -> int | None:
    """The deadline-index score of `request` at `now` (Unix ms), None to leave the index.

    `now` when a change is already pending (the mark is stale, or an overdue request is
    not escalated); else the next of warning instant, first overdue instant and expiry
    instant, never later than expiry.
    """
    if not is_timed(request):
        return None
    expiry_ms = _ceil_ms(expires_at(request, expiry))
    mark = current_mark(request, now)
    if mark is None:
        return expiry_ms
    if mark != request.sla_mark or (mark == proofs_pb2.SLA_MARK_OVERDUE and not request.escalated):
        return min(millis(now), expiry_ms)
    due_ms = millis(request.due_at.ToDatetime(tzinfo=UTC))
    if mark == proofs_pb2.SLA_MARK_ON_TIME and request.HasField("warning_at"):
        upcoming = _ceil_ms(request.warning_at.ToDatetime(tzinfo=UTC))
    elif mark != proofs_pb2.SLA_MARK_OVERDUE:
        upcoming = due_ms + 1  # OVERDUE begins strictly after due_at
    else:
        upcoming = expiry_ms
    return min(upcoming, expiry_ms)


def plan(request: proofs_pb2.ProofRequest, *, now: datetime, expiry: timedelta) -> list[Change]:
    """The sweeper's changes of `request` at `now`, in order; empty when nothing is due.

    SLA_CHANGED when the mark moved, ESCALATED when overdue and not yet escalated, then
    EXPIRED at the expiry instant. Pure.
    """
    changes: list[Change] = []
    current = request
    mark = current_mark(request, now)
    if mark is not None and mark != current.sla_mark:

        def set_mark(after: proofs_pb2.ProofRequest, mark: int = mark) -> None:
            after.sla_mark = mark  # type: ignore[assignment]

        step = change(
            current,
            proofs_pb2.PROOF_REQUEST_EVENT_TYPE_SLA_CHANGED,
            actor=SERVICE_ACTOR,
            now=now,
            reason=f"SLA mark {proofs_pb2.SlaMark.Name(mark).removeprefix('SLA_MARK_')}",
            edit=set_mark,
        )
        changes.append(step)
        current = step.after
    if mark == proofs_pb2.SLA_MARK_OVERDUE and not current.escalated:

        def escalate(after: proofs_pb2.ProofRequest) -> None:
            after.escalated = True

        step = change(
            current,
            proofs_pb2.PROOF_REQUEST_EVENT_TYPE_ESCALATED,
            actor=SERVICE_ACTOR,
            now=now,
            reason="overdue: escalated to a supervisor",
            edit=escalate,
        )
        changes.append(step)
        current = step.after
    if is_timed(current) and now >= expires_at(current, expiry):
        to_state = states.transition(current.state, states.Action.EXPIRE, states.Party.SYSTEM)
        changes.append(
            change(
                current,
                proofs_pb2.PROOF_REQUEST_EVENT_TYPE_EXPIRED,
                actor=SERVICE_ACTOR,
                now=now,
                to_state=to_state,
                reason="nobody acted before the expiry limit",
            )
        )
    return changes


def _default_owner() -> str:
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


class Sweeper:
    """Runs the sweep and sampling every `interval` seconds until stopped.

    Shortest use::

        sweeper = Sweeper(store, calendar, interval=30, expiry=timedelta(days=30),
                          sampling_rate=0.1, clock=lambda: datetime.now(UTC))
        await sweeper.start()
        ...
        await sweeper.stop()
    """

    def __init__(
        self,
        store: ProofStore,
        calendar: WorkingCalendar,
        *,
        interval: float,
        expiry: timedelta,
        sampling_rate: float,
        clock: Callable[[], datetime],
        rng: random.Random | None = None,
        owner: str | None = None,
        batch: int = BATCH,
    ) -> None:
        if interval <= 0 or expiry <= timedelta(0) or batch < 1:
            raise ValueError("interval, expiry and batch must be positive")
        if not 0 <= sampling_rate <= 1:
            raise ValueError("sampling_rate must be between 0 and 1")
        self._store = store
        # The calendar is kept for the integrator's convenience (one object wires the
        # service's time rules); the sweep itself reads warning_at/due_at, which the
        # writers computed with it, so no working-time arithmetic happens here.
        self.calendar = calendar
        self._interval = interval
        self._expiry = expiry
        self._sampling_rate = sampling_rate
        self._clock = clock
        self._rng = rng if rng is not None else random.SystemRandom()
        self.owner = owner or _default_owner()
        self._batch = batch
        # The lock outlives a slow tick a little; it is released at each tick's end.
        self._lock_ttl_ms = int(max(3 * interval, 10.0) * 1000)
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @property
    def expiry(self) -> timedelta:
        """How long after creation a request nobody finished expires."""
        return self._expiry

    async def start(self) -> None:
        """Start the loop in a background task (a second call does nothing)."""
        if self._task is None:
            self._stopping = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name="proofs-sweeper")

    async def stop(self) -> None:
        """Stop the loop, waiting for it, and let go of the sweep lock."""
        task, self._task = self._task, None
        if task is not None:
            # The flag ends the loop even if a store call swallows the cancellation
            # (seen with the client's connection pool): the loop checks it every turn.
            self._stopping.set()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):  # the store may already be closed
            await self._store.release_sweep_lock(self.owner)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            now = self._clock()
            try:
                report = await self.sweep_once(now)
                if not report.skipped:
                    record_sweep(report)
                    await self.publish_metrics()
                await self.sample_once(now)
            except asyncio.CancelledError:
                raise
            except Exception:  # the store is down: try again next tick
                _log.exception("proofs sweep tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)

    # --- the sweep -------------------------------------------------------------------

    async def sweep_once(self, now: datetime) -> SweepReport:
        """One sweep at `now`: every due request (up to the batch) moved on, if this
        replica gets the sweep lock."""
        if not await self._store.sweep_lock(self.owner, self._lock_ttl_ms):
            return SweepReport(skipped=True)
        counts = dict.fromkeys(
            ("looked", "sla_changed", "escalated", "expired", "rescheduled", "conflicts", "failed"),
            0,
        )
        try:
            for request_id in await self._store.due(millis(now), self._batch):
                counts["looked"] += 1
                try:
                    for outcome in await self.sweep_request(request_id, now):
                        counts[outcome] += 1
                except (CertfreeError, ValueError):
                    # Only the id: a request's content is personal data.
                    _log.exception("proofs sweep could not handle a request", request_id=request_id)
                    counts["failed"] += 1
        finally:
            await self._store.release_sweep_lock(self.owner)
        return SweepReport(skipped=False, **counts)

    async def sweep_request(self, request_id: str, now: datetime) -> list[str]:
        """Move one request on at `now`, without the lock; what happened, as report
        field names (``sla_changed``, ``escalated``, ``expired``, ``rescheduled``,
        ``conflicts``), empty when the request is gone."""
        found = await self._store.get(request_id)
        if found is None:
            return []
        request, before = found
        changes = plan(request, now=now, expiry=self._expiry)
        if not changes:
            score = next_look_ms(request, now=now, expiry=self._expiry)
            moved = await self._store.reschedule(before, request_id, score)
            return ["rescheduled" if moved else "conflicts"]
        outcomes: list[str] = []
        for step in changes:
            written = await self._store.transition(
                before,
                step.after,
                step.event,
                inbox_departments=inbox_departments(step.after),
                deadline_ms=next_look_ms(step.after, now=now, expiry=self._expiry),
            )
            if not written:
                outcomes.append("conflicts")
                break
            outcomes.append(_OUTCOMES[step.event.type])
            before = step.after.SerializeToString()
        return outcomes

    async def publish_metrics(self) -> OpenCounts:
        """Refresh the proof-request gauges from the open requests, which are exactly the
        deadline index (every request that may still expire is in it).

        Run by the replica that swept, right after its sweep, so the marks are fresh; a
        replica that skipped keeps its last values (aggregate replicas with ``max``). Cost:
        one index read and one multi-get of the open requests, not of every request.
        """
        ids = await self._store.due(_FOREVER_MS, METRICS_LIMIT)
        if len(ids) >= METRICS_LIMIT:
            _log.warning("proof-request gauges count only the first open requests", limit=len(ids))
        requests = await self._store.requests([request_id.encode() for request_id in ids])
        counts = count_open(requests)
        for (state, mark), amount in counts.by_state_and_mark.items():
            PROOF_REQUESTS_OPEN.labels(state, mark).set(amount)
        PROOF_REQUESTS_OVERDUE.set(counts.overdue)
        PROOF_REQUESTS_ESCALATED.set(counts.escalated)
        return counts

    # --- sampling --------------------------------------------------------------------

    async def sample_once(self, now: datetime) -> SampleReport:
        """One sampling pass at `now`: every waiting commitment (up to the batch) decided."""
        counts = dict.fromkeys(
            ("looked", "selected", "not_selected", "already_decided", "conflicts"), 0
        )
        terms: dict[str, tuple[float, list[str]]] = {}  # items read once per pass
        candidates = await self._store.sampling_candidates(self._batch, not_after_ms=millis(now))
        for request_id in candidates:
            counts["looked"] += 1
            counts[await self._sample(request_id, now, terms)] += 1
        return SampleReport(**counts)

    async def _sample(
        self, request_id: str, now: datetime, terms: dict[str, tuple[float, list[str]]]
    ) -> str:
        for _ in range(SAMPLING_ATTEMPTS):
            found = await self._store.get(request_id)
            if found is None or found[0].commitment.check_state != (
                proofs_pb2.COMMITMENT_CHECK_STATE_AWAITING_SAMPLING
            ):
                await self._store.take_sampling(request_id)
                return "already_decided"
            request, before = found
            code = request.proof_item_code
            if code not in terms:
                terms[code] = await self._item_terms(code)
            rate, authoritative = terms[code]
            selected = self._rng.random() < rate
            step = _sampled(request, now, selected=selected)
            targets = set(request.target_departments)
            inbox = [d for d in authoritative if d in targets] if selected else []
            written = await self._store.transition(
                before,
                step.after,
                step.event,
                inbox_departments=inbox,
                deadline_ms=next_look_ms(step.after, now=now, expiry=self._expiry),
            )
            if written:
                await self._store.take_sampling(request_id)
                return "selected" if selected else "not_selected"
        return "conflicts"

    async def _item_terms(self, code: str) -> tuple[float, list[str]]:
        item = await self._store.item(code)
        if item is None:  # a withdrawn item's commitments are still sampled
            return self._sampling_rate, []
        rate = (
            item.commitment.sampling_rate
            if item.commitment.HasField("sampling_rate")
            else self._sampling_rate
        )
        return rate, list(item.authoritative_departments)


def _sampled(request: proofs_pb2.ProofRequest, now: datetime, *, selected: bool) -> Change:
    check_state = (
        proofs_pb2.COMMITMENT_CHECK_STATE_SELECTED
        if selected
        else proofs_pb2.COMMITMENT_CHECK_STATE_NOT_SELECTED
    )

    def decide(after: proofs_pb2.ProofRequest) -> None:
        after.commitment.check_state = check_state

    return change(
        request,
        proofs_pb2.PROOF_REQUEST_EVENT_TYPE_COMMITMENT_SAMPLED,
        actor=SERVICE_ACTOR,
        now=now,
        reason="selected for checking" if selected else "not selected for checking",
        edit=decide,
    )


_OUTCOMES = {
    proofs_pb2.PROOF_REQUEST_EVENT_TYPE_SLA_CHANGED: "sla_changed",
    proofs_pb2.PROOF_REQUEST_EVENT_TYPE_ESCALATED: "escalated",
    proofs_pb2.PROOF_REQUEST_EVENT_TYPE_EXPIRED: "expired",
}


# --- metrics ---------------------------------------------------------------------------

METRICS_LIMIT = 10_000
"""Most open requests one sweep reads for the metrics gauges; beyond it they undercount
(and the log says so)."""

_FOREVER_MS = 2**62
_MARKS = {
    proofs_pb2.SLA_MARK_UNSPECIFIED: "none",
    proofs_pb2.SLA_MARK_ON_TIME: "on_time",
    proofs_pb2.SLA_MARK_WARNING: "warning",
    proofs_pb2.SLA_MARK_OVERDUE: "overdue",
}


@dataclass(frozen=True)
class OpenCounts:
    """Open requests (SUBMITTED, ACCEPTED, NEEDS_MORE_INFO), counted for the gauges."""

    by_state_and_mark: dict[tuple[str, str], int]
    """Requests per (state, SLA mark) label pair, every pair present (zeros included)."""

    overdue: int
    """Requests whose SLA mark is OVERDUE (red card)."""

    escalated: int
    """Requests escalated to a supervisor."""


def _state_label(state: int) -> str:
    return proofs_pb2.ProofRequestState.Name(state).removeprefix("PROOF_REQUEST_STATE_").lower()


def count_open(requests: Sequence[proofs_pb2.ProofRequest]) -> OpenCounts:
    """Count the open requests among `requests` by state and SLA mark. Pure."""
    counts = {(_state_label(s), m): 0 for s in _TIMED for m in _MARKS.values()}
    overdue = escalated = 0
    for request in requests:
        if request.state not in _TIMED:
            continue  # finished since it was indexed; the sweep drops it from the index
        counts[(_state_label(request.state), _MARKS.get(request.sla_mark, "none"))] += 1
        overdue += request.sla_mark == proofs_pb2.SLA_MARK_OVERDUE
        escalated += request.escalated
    return OpenCounts(counts, overdue, escalated)


def record_sweep(report: SweepReport) -> None:
    """Count what a sweep changed (``certfree_proof_sweep_changes_total``)."""
    for change_kind in ("sla_changed", "escalated", "expired"):
        amount = getattr(report, change_kind)
        if amount:
            PROOF_SWEEP_CHANGES.labels(change_kind).inc(amount)
