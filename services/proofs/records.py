"""How a proof request changes: the one place that builds a change and its history event.

Every change to a request — a clerk's, an officer's, the sweeper's, an automatic
answer — is a :class:`Change`: the request as it will be, and the event that records
it, with the next sequence number, the actor and the time. The caller then writes both
with ``ProofStore.transition`` (compare-and-set on the bytes it read), so the history
always has exactly one event per change, in order. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from google.protobuf import timestamp_pb2

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.proofs.v1 import proofs_pb2
from genproto.certfree.proofs.v1.proofs_pb2 import ProofRequestEventType, ProofRequestState

SERVICE_ACTOR = common_pb2.Caller(role=common_pb2.ROLE_SERVICE, subject="certfree-proofs")
"""The actor of the sweeper's, the sampler's and automatic answers' changes."""


def timestamp(instant: datetime) -> timestamp_pb2.Timestamp:
    """A protobuf Timestamp of an aware datetime."""
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(instant)
    return stamp


def millis(instant: datetime) -> int:
    """Unix milliseconds of an aware datetime (the store's index scores)."""
    return int(instant.timestamp() * 1000)


@dataclass(frozen=True)
class Change:
    """A request as it will be after one change, and the event that records the change."""

    after: proofs_pb2.ProofRequest
    event: proofs_pb2.ProofRequestEvent


def change(
    before: proofs_pb2.ProofRequest,
    event_type: ProofRequestEventType,
    *,
    actor: common_pb2.Caller,
    now: datetime,
    to_state: ProofRequestState | None = None,
    reason: str = "",
    ledger_index: int | None = None,
    edit: Callable[[proofs_pb2.ProofRequest], None] | None = None,
) -> Change:
    """The change of `before` by `actor` at `now`: state (unchanged if `to_state` is None),
    `edit` applied to a copy, ``updated_at`` and ``last_event_sequence`` moved on, and its event.

    `before` itself is not modified. The event's ``sla_mark`` is the request's after `edit`.
    """
    after = proofs_pb2.ProofRequest()
    after.CopyFrom(before)
    if to_state is not None:
        after.state = to_state
    if edit is not None:
        edit(after)
    after.updated_at.CopyFrom(timestamp(now))
    after.last_event_sequence = before.last_event_sequence + 1
    event = proofs_pb2.ProofRequestEvent(
        request_id=after.request_id,
        sequence=after.last_event_sequence,
        type=event_type,
        from_state=before.state,
        to_state=after.state,
        sla_mark=after.sla_mark,
        actor=actor,
        occurred_at=timestamp(now),
        reason=reason,
    )
    if ledger_index is not None:
        event.ledger_index = ledger_index
    return Change(after, event)


def created_event(
    request: proofs_pb2.ProofRequest, actor: common_pb2.Caller, now: datetime
) -> proofs_pb2.ProofRequestEvent:
    """Event 1 of a new request (whose ``last_event_sequence`` must be 1)."""
    return proofs_pb2.ProofRequestEvent(
        request_id=request.request_id,
        sequence=1,
        type=proofs_pb2.PROOF_REQUEST_EVENT_TYPE_CREATED,
        from_state=proofs_pb2.PROOF_REQUEST_STATE_UNSPECIFIED,
        to_state=request.state,
        sla_mark=request.sla_mark,
        actor=actor,
        occurred_at=timestamp(now),
    )


def inbox_departments(request: proofs_pb2.ProofRequest) -> list[str]:
    """Whose inboxes hear of a change: the requesting department and the targets (only
    the answering department once there is one), each once."""
    targets = (
        [request.answering_department]
        if request.answering_department
        else list(request.target_departments)
    )
    return list(dict.fromkeys([request.requesting_department, *targets]))
