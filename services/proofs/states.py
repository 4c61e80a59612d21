"""The proof request state machine, who may move it, and the request's canonical hash.

Pure rules, no I/O. A proof request (证明协查) moves only along the table below;
:func:`transition` enforces it, :func:`transition_table_markdown` renders it (this
docstring holds the same rendering, and a test keeps the two equal).

Parties, as the servicer establishes them from the caller (see :func:`parties_of`):

- ``requester``: the requesting department's clerk or intake system;
- ``target``: an officer of a target department; once one department has
  accepted the request, only that (answering) department, for the rest of the
  request's life;
- ``system``: the service itself: the sweeper, and automatic answers (the
  cancelled and data_sharing routes answer at creation).

Transitions:

| from | action | by | to |
|---|---|---|---|
| SUBMITTED | accept | target | ACCEPTED |
| SUBMITTED | answer | system | ANSWERED |
| SUBMITTED | reject | target | REJECTED |
| SUBMITTED | ask_for_more_info | target | NEEDS_MORE_INFO |
| SUBMITTED | withdraw | requester | WITHDRAWN |
| SUBMITTED | record_commitment | requester | ANSWERED |
| SUBMITTED | expire | system | EXPIRED |
| ACCEPTED | answer | target | ANSWERED |
| ACCEPTED | reject | target | REJECTED |
| ACCEPTED | ask_for_more_info | target | NEEDS_MORE_INFO |
| ACCEPTED | withdraw | requester | WITHDRAWN |
| ACCEPTED | expire | system | EXPIRED |
| NEEDS_MORE_INFO | supply_more_info | requester | SUBMITTED |
| NEEDS_MORE_INFO | withdraw | requester | WITHDRAWN |
| NEEDS_MORE_INFO | expire | system | EXPIRED |
| ANSWERED | close | requester | CLOSED |

CLOSED, WITHDRAWN, REJECTED and EXPIRED are final: nothing leaves them.

Decisions the table encodes:

- Supplying more information always returns the request to SUBMITTED, whether
  the question was asked before or after acceptance, as the contract says
  (``SupplyMoreInfoResponse``). A department that had accepted it stays the
  answering department (so remains the only target) and accepts it again; the
  question may have changed whether it can answer at all.
- An officer answers only an accepted request (accept first: it records who
  handles it); only the service answers a SUBMITTED one, automatically.
- Withdrawal is possible until there is an answer; an answered request is closed.
- A target cannot reject while it waits for the reply to its own question.
- The deadline pauses in NEEDS_MORE_INFO (the servicer moves ``due_at`` on by the
  working time spent there), but the expiry limit does not: a question never
  answered lets the request expire.

Errors carry stable reasons: an action the party may do from no state at all is
:class:`~runtime.errors.PermissionDenied` (ROLE_NOT_ALLOWED); an action the party
may do, but not from the request's state, is :class:`~runtime.errors.InvalidState`
(INVALID_STATE). Both carry ``state``, ``action`` and ``party`` metadata.

:func:`request_sha256` hashes the request's binding fields in a canonical JSON
form (RFC 8785, restricted to strings, booleans, null and safe integers); a proof
answer is bound to it.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from google.protobuf import timestamp_pb2

from genproto.certfree.proofs.v1 import proofs_pb2
from genproto.certfree.proofs.v1.proofs_pb2 import ProofRequestEventType, ProofRequestState
from runtime.errors import InvalidState, PermissionDenied

SUBMITTED = proofs_pb2.PROOF_REQUEST_STATE_SUBMITTED
ACCEPTED = proofs_pb2.PROOF_REQUEST_STATE_ACCEPTED
NEEDS_MORE_INFO = proofs_pb2.PROOF_REQUEST_STATE_NEEDS_MORE_INFO
ANSWERED = proofs_pb2.PROOF_REQUEST_STATE_ANSWERED
CLOSED = proofs_pb2.PROOF_REQUEST_STATE_CLOSED
WITHDRAWN = proofs_pb2.PROOF_REQUEST_STATE_WITHDRAWN
REJECTED = proofs_pb2.PROOF_REQUEST_STATE_REJECTED
EXPIRED = proofs_pb2.PROOF_REQUEST_STATE_EXPIRED

STATES: tuple[ProofRequestState, ...] = (
    SUBMITTED,
    ACCEPTED,
    NEEDS_MORE_INFO,
    ANSWERED,
    CLOSED,
    WITHDRAWN,
    REJECTED,
    EXPIRED,
)
"""Every real state, in the order of the enum (UNSPECIFIED is not a state)."""

INITIAL_STATE = SUBMITTED
"""The state every request is created in."""


class Party(enum.Enum):
    """Who acts on a request, relative to it."""

    REQUESTER = "requester"
    """The requesting department's clerk or intake system."""

    TARGET = "target"
    """An officer of a target department (after acceptance, of the answering department only)."""

    SYSTEM = "system"
    """The service itself: the sweeper and automatic answers."""


class Action(enum.Enum):
    """What can be done to a request; each is one RPC or one automatic step."""

    ACCEPT = "accept"
    """AcceptProofRequest."""

    ANSWER = "answer"
    """AnswerProofRequest (target), or an automatic answer at creation (system)."""

    REJECT = "reject"
    """RejectProofRequest."""

    ASK_FOR_MORE_INFO = "ask_for_more_info"
    """AskForMoreInfo."""

    SUPPLY_MORE_INFO = "supply_more_info"
    """SupplyMoreInfo."""

    WITHDRAW = "withdraw"
    """WithdrawProofRequest."""

    CLOSE = "close"
    """CloseProofRequest."""

    RECORD_COMMITMENT = "record_commitment"
    """RecordCommitment: the applicant's commitment answers the request (outcome COMMITTED)."""

    EXPIRE = "expire"
    """The sweeper: nobody acted before the expiry limit."""


@dataclass(frozen=True)
class Transition:
    """Where one action leads from one state, and who may take it."""

    to_state: ProofRequestState
    """The state after the action."""

    party: Party
    """The one party that may take it."""


TRANSITIONS: Mapping[tuple[ProofRequestState, Action], Transition] = MappingProxyType(
    {
        (SUBMITTED, Action.ACCEPT): Transition(ACCEPTED, Party.TARGET),
        (SUBMITTED, Action.REJECT): Transition(REJECTED, Party.TARGET),
        (SUBMITTED, Action.ASK_FOR_MORE_INFO): Transition(NEEDS_MORE_INFO, Party.TARGET),
        (SUBMITTED, Action.RECORD_COMMITMENT): Transition(ANSWERED, Party.REQUESTER),
        (SUBMITTED, Action.WITHDRAW): Transition(WITHDRAWN, Party.REQUESTER),
        (SUBMITTED, Action.ANSWER): Transition(ANSWERED, Party.SYSTEM),
        (SUBMITTED, Action.EXPIRE): Transition(EXPIRED, Party.SYSTEM),
        (ACCEPTED, Action.ANSWER): Transition(ANSWERED, Party.TARGET),
        (ACCEPTED, Action.REJECT): Transition(REJECTED, Party.TARGET),
        (ACCEPTED, Action.ASK_FOR_MORE_INFO): Transition(NEEDS_MORE_INFO, Party.TARGET),
        (ACCEPTED, Action.WITHDRAW): Transition(WITHDRAWN, Party.REQUESTER),
        (ACCEPTED, Action.EXPIRE): Transition(EXPIRED, Party.SYSTEM),
        (NEEDS_MORE_INFO, Action.SUPPLY_MORE_INFO): Transition(SUBMITTED, Party.REQUESTER),
        (NEEDS_MORE_INFO, Action.WITHDRAW): Transition(WITHDRAWN, Party.REQUESTER),
        (NEEDS_MORE_INFO, Action.EXPIRE): Transition(EXPIRED, Party.SYSTEM),
        (ANSWERED, Action.CLOSE): Transition(CLOSED, Party.REQUESTER),
    }
)
"""The whole state machine: (from state, action) → (to state, the party that may act)."""

EVENT_TYPES: Mapping[Action, ProofRequestEventType] = MappingProxyType(
    {
        Action.ACCEPT: proofs_pb2.PROOF_REQUEST_EVENT_TYPE_ACCEPTED,
        Action.ANSWER: proofs_pb2.PROOF_REQUEST_EVENT_TYPE_ANSWERED,
        Action.REJECT: proofs_pb2.PROOF_REQUEST_EVENT_TYPE_REJECTED,
        Action.ASK_FOR_MORE_INFO: proofs_pb2.PROOF_REQUEST_EVENT_TYPE_MORE_INFO_ASKED,
        Action.SUPPLY_MORE_INFO: proofs_pb2.PROOF_REQUEST_EVENT_TYPE_MORE_INFO_SUPPLIED,
        Action.WITHDRAW: proofs_pb2.PROOF_REQUEST_EVENT_TYPE_WITHDRAWN,
        Action.CLOSE: proofs_pb2.PROOF_REQUEST_EVENT_TYPE_CLOSED,
        Action.RECORD_COMMITMENT: proofs_pb2.PROOF_REQUEST_EVENT_TYPE_COMMITMENT_RECORDED,
        Action.EXPIRE: proofs_pb2.PROOF_REQUEST_EVENT_TYPE_EXPIRED,
    }
)
"""The history event each action records."""


def state_name(state: int) -> str:
    """The short name of a state for messages: ``SUBMITTED`` for PROOF_REQUEST_STATE_SUBMITTED."""
    try:
        return ProofRequestState.Name(state).removeprefix("PROOF_REQUEST_STATE_")
    except ValueError:
        return f"unknown state {state}"


def final(state: ProofRequestState) -> bool:
    """Report whether a request in `state` can never change state again."""
    return not any(from_state == state for from_state, _ in TRANSITIONS)


def allowed_actions(state: ProofRequestState, party: Party) -> tuple[Action, ...]:
    """The actions `party` may take on a request in `state`, in the order of :class:`Action`."""
    return tuple(
        action
        for action in Action
        if (rule := TRANSITIONS.get((state, action))) is not None and rule.party is party
    )


def transition(state: ProofRequestState, action: Action, party: Party) -> ProofRequestState:
    """The state a request in `state` moves to when `party` takes `action`, or raise.

    Raises :class:`~runtime.errors.PermissionDenied` (ROLE_NOT_ALLOWED) when the
    party may take the action from no state at all (a requester answering, say),
    and :class:`~runtime.errors.InvalidState` (INVALID_STATE) when it may, but
    not from `state` (answering a withdrawn request, or before accepting it) or
    when `state` is not a state at all (a damaged record).
    """
    metadata = {"state": state_name(state), "action": action.value, "party": party.value}
    if state not in STATES:
        raise InvalidState(
            f"the proof request's current state ({state_name(state)}) is not valid",
            metadata=metadata,
        )
    rule = TRANSITIONS.get((state, action))
    if rule is not None and rule.party is party:
        return rule.to_state
    parties = {r.party for (_, a), r in TRANSITIONS.items() if a is action}
    if party not in parties:
        allowed = " or ".join(p.value for p in Party if p in parties)
        raise PermissionDenied(
            f"only the {allowed} may {_verb(action)} a proof request, not the {party.value}",
            metadata=metadata,
        )
    if final(state):
        message = (
            f"a {state_name(state)} proof request cannot be {_done(action)}: "
            f"{state_name(state)} is final"
        )
    else:
        others = allowed_actions(state, party)
        may = ", ".join(a.value for a in others) if others else "nothing"
        message = (
            f"a {state_name(state)} proof request cannot be {_done(action)} "
            f"by the {party.value}; the {party.value} may: {may}"
        )
    raise InvalidState(message, metadata=metadata)


def parties_of(
    department_code: str,
    *,
    requesting_department: str,
    target_departments: Collection[str],
    answering_department: str,
) -> frozenset[Party]:
    """The parties a caller's department is on a request: requester, target, both or neither.

    Target means: the answering department once there is one, else any target
    department. Roles are the servicer's concern (a clerk acts as requester, an
    officer as target); this only says which side the department is on. SYSTEM is
    never returned: only the service itself acts as the system.
    """
    parties: set[Party] = set()
    if department_code == requesting_department:
        parties.add(Party.REQUESTER)
    if answering_department:
        if department_code == answering_department:
            parties.add(Party.TARGET)
    elif department_code in target_departments:
        parties.add(Party.TARGET)
    return frozenset(parties)


def transition_table_markdown() -> str:
    """The table of :data:`TRANSITIONS` as Markdown: one row per transition, by state then action.

    This is the table in this module's docstring and in ``docs/proofs.md``.
    """
    lines = ["| from | action | by | to |", "|---|---|---|---|"]
    for state in STATES:
        for action in Action:
            rule = TRANSITIONS.get((state, action))
            if rule is not None:
                lines.append(
                    f"| {state_name(state)} | {action.value} | {rule.party.value} "
                    f"| {state_name(rule.to_state)} |"
                )
    return "\n".join(lines) + "\n"


_VERBS = {
    Action.ACCEPT: ("accept", "accepted"),
    Action.ANSWER: ("answer", "answered"),
    Action.REJECT: ("reject", "rejected"),
    Action.ASK_FOR_MORE_INFO: ("ask for more information on", "asked for more information"),
    Action.SUPPLY_MORE_INFO: ("supply more information for", "given more information"),
    Action.WITHDRAW: ("withdraw", "withdrawn"),
    Action.CLOSE: ("close", "closed"),
    Action.RECORD_COMMITMENT: ("record a commitment on", "answered by a commitment"),
    Action.EXPIRE: ("expire", "expired"),
}


def _verb(action: Action) -> str:
    return _VERBS[action][0]


def _done(action: Action) -> str:
    return _VERBS[action][1]


# --- the request's canonical hash ---------------------------------------------------

REQUEST_HASH_TYPE = "certfree.proofs.v1.ProofRequest"
"""The ``type`` member of the hashed object: keeps these hashes apart from any other."""

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer :func:`canonical_json` encodes: beyond it JSON readers lose precision."""


def canonical_json(value: Any) -> bytes:
    """`value` in the JSON Canonicalization Scheme (RFC 8785), UTF-8.

    Restricted to what needs no number formatting: objects with string keys,
    arrays, strings, booleans, null and integers within ±(2**53 − 1). For these,
    RFC 8785 is compact JSON with members sorted by the UTF-16 code units of their
    names and strings escaped as ECMAScript's JSON.stringify does (only ``"``,
    ``\\`` and control characters, ``\\u00xx`` in lower case), which is what
    :func:`json.dumps` writes with ``ensure_ascii=False``. Floats are refused
    (:class:`TypeError`): RFC 8785 formats them as ECMAScript does, Python does not.
    """
    return _encode(value).encode("utf-8")


def _encode(value: Any) -> str:
    if value is None or isinstance(value, bool | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise TypeError("integers beyond ±(2**53 − 1) have no exact JSON form")
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("object member names must be strings")
        keys = sorted(value, key=lambda key: key.encode("utf-16-be"))
        return (
            "{"
            + ",".join(
                json.dumps(key, ensure_ascii=False) + ":" + _encode(value[key]) for key in keys
            )
            + "}"
        )
    raise TypeError(f"{type(value).__name__} has no canonical JSON form here")


def request_sha256(
    *,
    request_id: str,
    proof_item_code: str,
    requesting_department: str,
    holder_token: str,
    case_reference: str,
    created_at: dt.datetime | timestamp_pb2.Timestamp,
) -> bytes:
    """SHA-256 of the request's binding fields in canonical JSON; the answer is bound to it.

    The hashed object, serialised by :func:`canonical_json`::

        {"case_reference": ..., "created_at": ..., "holder": ..., "proof_item_code": ...,
         "request_id": ..., "requesting_department": ..., "type": "certfree.proofs.v1.ProofRequest"}

    ``holder`` is the holder's index token (``p:…`` or ``o:…`` from
    :class:`runtime.holders.HolderIndex`), never the clear resident ID or USCC, so the
    hash reveals nothing about the holder to anyone without the deployment's index key.
    ``created_at`` is written as the protobuf JSON mapping writes a Timestamp (UTC,
    ``Z``, 0, 3, 6 or 9 fractional digits), so anyone holding the request message
    can recompute the hash. A naive datetime is refused (:class:`ValueError`).
    """
    if isinstance(created_at, dt.datetime):
        if created_at.tzinfo is None or created_at.utcoffset() is None:
            raise ValueError("created_at must carry a time zone (an aware datetime)")
        stamp = timestamp_pb2.Timestamp()
        stamp.FromDatetime(created_at.astimezone(dt.UTC))
    else:
        stamp = created_at
    document = {
        "type": REQUEST_HASH_TYPE,
        "request_id": request_id,
        "proof_item_code": proof_item_code,
        "requesting_department": requesting_department,
        "holder": holder_token,
        "case_reference": case_reference,
        "created_at": stamp.ToJsonString(),
    }
    return hashlib.sha256(canonical_json(document)).digest()
