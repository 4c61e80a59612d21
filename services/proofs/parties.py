"""Who may do what to a proof request, and the checks on what callers send: pure rules.

The server checks roles (runtime.policy); these functions check the caller's side of one request
(requesting department, target, answering department, overseer) and the identifiers
and times a request carries. Nothing here touches the store or the clock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.proofs.v1 import proofs_pb2
from runtime import policy
from runtime.errors import FieldViolation, InvalidArgument, InvalidState, PermissionDenied
from runtime.identity import Caller
from services.proofs import states
from services.proofs.records import Change, change
from services.proofs.states import Action, Party

CLOCK_SKEW = dt.timedelta(minutes=2)
"""How far in the future a consent's or commitment's ``given_at`` may lie (clock drift)."""

OVERSEERS = policy.OVERSEERS
"""Roles that read any request, history, list and statistics."""


def new_id(prefix: str) -> str:
    """A random identifier (never derived from the holder): `prefix` and 32 hex digits."""
    return f"{prefix}-{uuid.uuid4().hex}"


def holder_kind(holder: common_pb2.HolderRef) -> int:
    """The HolderKind of a holder reference."""
    if holder.WhichOneof("id") == "resident_id":
        return common_pb2.HOLDER_KIND_PERSON
    return common_pb2.HOLDER_KIND_ORGANISATION


def check_not_future(stamp: Any, now: dt.datetime, field: str) -> None:
    """INVALID_ARGUMENT naming `field` when the timestamp lies beyond now (and the skew)."""
    if stamp.ToDatetime(tzinfo=dt.UTC) > now + CLOCK_SKEW:
        raise InvalidArgument(
            "the time given lies in the future",
            field_violations=[FieldViolation(field, "must not be in the future")],
        )


def actor(caller: Caller) -> common_pb2.Caller:
    """The caller as a request's history records it."""
    return common_pb2.Caller(
        department_code=caller.department_code,
        role=caller.role,  # type: ignore[arg-type]
        subject=caller.subject,
    )


def step(
    caller: Caller,
    current: proofs_pb2.ProofRequest,
    action: Action,
    party: Party,
    now: dt.datetime,
    *,
    reason: str,
    edit: Callable[[proofs_pb2.ProofRequest], None] | None = None,
) -> Change:
    """The change `caller`, as `party`, makes by taking `action`: the caller's side and
    the state machine checked first, then the action's event recorded."""
    require_party(caller.department_code, current, party)
    to_state = states.transition(current.state, action, party)
    return change(
        current,
        states.EVENT_TYPES[action],
        actor=actor(caller),
        now=now,
        to_state=to_state,
        reason=reason,
        edit=edit,
    )


def require_party(department: str, request: proofs_pb2.ProofRequest, party: Party) -> None:
    """PERMISSION_DENIED unless the department is `party` on the request."""
    parties = states.parties_of(
        department,
        requesting_department=request.requesting_department,
        target_departments=request.target_departments,
        answering_department=request.answering_department,
    )
    if party not in parties:
        who = (
            "the requesting department"
            if party is Party.REQUESTER
            else "the answering department"
            if request.answering_department
            else "a target department"
        )
        raise PermissionDenied(
            f"only {who} of this proof request may do this",
            reason=common_pb2.OUTSIDE_AUTHORITY,
            metadata={"party": party.value},
        )


def require_checker(caller: Caller, request: proofs_pb2.ProofRequest) -> None:
    """PERMISSION_DENIED unless the caller's department is an authoritative department of
    the item; FAILED_PRECONDITION unless sampling selected the request's commitment."""
    if caller.department_code not in request.target_departments:
        raise PermissionDenied(
            "only an authoritative department of the item checks its commitments",
            reason=common_pb2.OUTSIDE_AUTHORITY,
        )
    state = request.commitment.check_state
    if state != proofs_pb2.COMMITMENT_CHECK_STATE_SELECTED:
        raise InvalidState(
            "only a commitment that sampling selected can be checked",
            metadata={"check_state": proofs_pb2.CommitmentCheckState.Name(state)},
        )


def require_reader(caller: Caller, request: proofs_pb2.ProofRequest) -> None:
    """PERMISSION_DENIED unless the caller may read the request: supervisors and auditors
    any; clerks, intake systems and officers those their department sent or is a target of."""
    if caller.role in OVERSEERS:
        return
    involved = caller.department_code == request.requesting_department or (
        caller.department_code in request.target_departments
    )
    if not involved:
        raise PermissionDenied(
            "your department neither sent this proof request nor is a target of it",
            reason=common_pb2.OUTSIDE_AUTHORITY,
        )
