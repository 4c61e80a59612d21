"""The proofs service's work: proof requests through their four routes, and the catalogue.

The servicer decodes, authorises by role and calls :class:`Proofs`; this module decides
everything else (which party the caller's department is on a request, whether the
state machine allows the step, what the change is) and writes each change once, with
its history event, through ``ProofStore`` (compare and set on the bytes it read).
Nothing is half-written: a change is built whole first, and anything upstream (a
signature, a ledger entry) happens before the one write.

Decisions taken here (see also docs/proofs.md):

- Every request is first stored SUBMITTED (event 1, CREATED); the automatic routes
  then take their automatic step as a second change. A crash between the two leaves a
  SUBMITTED request of an automatic route with no deadline; the retried create (same
  ``client_request_id``) finds it and finishes the step.
- Data sharing that finds no matching license and may fall back becomes a department
  verification by a second change of type SLA_CHANGED (the request gains its deadline,
  mark ON_TIME, and reaches the target inboxes); without fall-back it is answered
  CANNOT_DETERMINE, signed by the item's first authoritative department, or unsigned
  (no ledger entry) when the item names none.
- Signed answers: SignProofAnswer, then the ledger (PROOF_ANSWERED), then the write.
  If the ledger or the licenses service does not answer, the call is UNAVAILABLE and
  nothing is written; a retried answer is signed again (a new SD-JWT), and the first
  signature, never stored, is simply lost. Should the write lose a race after signing,
  the signed answer is dropped the same way and the caller hears why.
- NOT_REQUIRED and COMMITTED answers are unsigned.
- Mandatory answer claims are required for CONFIRMED only: a denial carries what the
  officer knows.
- Every write passes the sweeper's ``next_look_ms`` as the request's deadline-index
  score, so answered and final requests leave the index and open ones are looked at
  when their mark or expiry next changes.
- A commitment's attestation hashes canonical JSON of its id, the request's hash, the
  SHA-256 of its text and its recording time: no holder data, and no salt (there is no
  field to keep one; the text hash is not guessable from the ledger without the text).
- Consent may be given up to :data:`CLOCK_SKEW` "in the future", to forgive clocks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from google.protobuf import json_format, struct_pb2

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.licenses.v1 import licenses_pb2
from genproto.certfree.proofs.v1 import proofs_pb2
from runtime import attestation
from runtime.attestation import LedgerClient
from runtime.errors import (
    FieldViolation,
    InvalidArgument,
    InvalidState,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from runtime.holders import HolderIndex
from runtime.identity import Caller
from runtime.store import RevisionMismatch
from services.proofs import records, states
from services.proofs.catalog import Catalogue, check_proof_item, evaluate_rule
from services.proofs.deadlines import WorkingCalendar, sla_mark
from services.proofs.records import SERVICE_ACTOR, Change, change, millis, timestamp
from services.proofs.states import Action, Party
from services.proofs.store import BOTH, ProofStore, client_key
from services.proofs.sweeper import next_look_ms
from services.proofs.upstream import LicensesClient

CLOCK_SKEW = dt.timedelta(minutes=2)
"""How far in the future a consent's or commitment's ``given_at`` may lie (clock drift)."""

WRITE_ATTEMPTS = 3
"""Times a change is rebuilt and written again when another writer changed the request first."""

COMMITMENT_HASH_TYPE = "certfree.proofs.v1.Commitment"
COMMITMENT_CHECK_HASH_TYPE = "certfree.proofs.v1.CommitmentCheck"

OVERSEERS = (common_pb2.ROLE_SUPERVISOR, common_pb2.ROLE_AUDITOR)
"""Roles that read any request, history, list and statistics."""

REQUESTERS = (common_pb2.ROLE_CLERK, common_pb2.ROLE_INTAKE_SYSTEM)
"""Roles that act for the requesting department."""

_OUTCOME_WORDS = {
    proofs_pb2.PROOF_OUTCOME_CONFIRMED: "confirmed",
    proofs_pb2.PROOF_OUTCOME_DENIED: "denied",
    proofs_pb2.PROOF_OUTCOME_CANNOT_DETERMINE: "cannot_determine",
}
_AUTOMATIC = (proofs_pb2.PROOF_ROUTE_CANCELLED, proofs_pb2.PROOF_ROUTE_DATA_SHARING)


def new_id(prefix: str) -> str:
    """A random identifier (never derived from the holder): `prefix` and 32 hex digits."""
    return f"{prefix}-{uuid.uuid4().hex}"


def holder_token(index: HolderIndex, holder: common_pb2.HolderRef, field: str = "holder") -> str:
    """The holder's index token (keyed HMAC); INVALID_ARGUMENT naming the field if the
    check character or date of birth is wrong."""
    if holder.WhichOneof("id") == "resident_id":
        return index.of_resident_id(holder.resident_id, f"{field}.resident_id")
    if holder.WhichOneof("id") == "uscc":
        return index.of_uscc(holder.uscc, f"{field}.uscc")
    raise InvalidArgument(
        "the holder has no identifier", field_violations=[FieldViolation(field, "required")]
    )


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


# --- answer claims -------------------------------------------------------------------


def _claim_problem(definition: common_pb2.ClaimDefinition, value: Any) -> str | None:
    kind = definition.type
    if kind == common_pb2.CLAIM_TYPE_STRING:
        if not isinstance(value, str):
            return "must be a string"
        if definition.max_length and len(value) > definition.max_length:
            return f"longer than {definition.max_length} characters"
        return None
    if kind == common_pb2.CLAIM_TYPE_INTEGER:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok and float(value).is_integer() else "must be a whole number"
    if kind == common_pb2.CLAIM_TYPE_NUMBER:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else "must be a number"
    if kind == common_pb2.CLAIM_TYPE_BOOLEAN:
        return None if isinstance(value, bool) else "must be true or false"
    if kind == common_pb2.CLAIM_TYPE_DATE:
        try:
            dt.date.fromisoformat(value)
            return None if len(value) == 10 else "must be a date YYYY-MM-DD"
        except (TypeError, ValueError):
            return "must be a date YYYY-MM-DD"
    if kind == common_pb2.CLAIM_TYPE_DATE_TIME:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return "must be an RFC 3339 date-time"
        return None if parsed.tzinfo is not None else "must carry a time zone offset"
    if kind == common_pb2.CLAIM_TYPE_OBJECT:
        return None if isinstance(value, dict) else "must be an object"
    if kind == common_pb2.CLAIM_TYPE_ARRAY:
        return None if isinstance(value, list) else "must be an array"
    return "has a type this service does not know"


def check_answer_claims(
    item: proofs_pb2.ProofItem, claims: dict[str, Any], *, require_mandatory: bool
) -> None:
    """INVALID_ARGUMENT (one ``claims.<name>`` violation per problem) unless `claims` fit
    the item's ``answer_claims``: known names, right types, mandatory ones present when
    `require_mandatory`. Messages name claims, never their values."""
    definitions = {d.name: d for d in item.answer_claims}
    problems = []
    for name, value in claims.items():
        definition = definitions.get(name)
        if definition is None:
            # A name outside the schema might be anything typed; it is not echoed.
            problems.append(FieldViolation("claims", "a claim is outside the item's answer claims"))
            continue
        problem = _claim_problem(definition, value)
        if problem is not None:
            problems.append(FieldViolation(f"claims.{name}", problem))
    if require_mandatory:
        problems.extend(
            FieldViolation(f"claims.{d.name}", "required by the proof item but missing")
            for d in item.answer_claims
            if d.required and d.name not in claims
        )
    if problems:
        raise InvalidArgument(
            f"{len(problems)} problem(s) with the answer claims for proof item {item.code}",
            field_violations=problems,
        )


# --- the work -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Limits:
    """The deployment's proof settings, read once at start-up."""

    warning_before: dt.timedelta
    """Working time before the due time that turns a request yellow, unless the item says."""
    expiry: dt.timedelta
    """Calendar time after creation at which an unfinished request expires."""


class Proofs:
    """Proof requests and the proof catalogue: every RPC's work but encoding."""

    def __init__(
        self,
        store: ProofStore,
        licenses: LicensesClient,
        ledger: LedgerClient,
        holders: HolderIndex,
        calendar: WorkingCalendar,
        limits: Limits,
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.store = store
        self.holders = holders
        self.calendar = calendar
        self._licenses = licenses
        self._ledger = ledger
        self._limits = limits
        self._clock = clock

    # --- catalogue ---------------------------------------------------------------------

    async def seed(self, catalogue: Catalogue) -> None:
        """Store the catalogue file's items that the store does not have yet (never overwrites)."""
        known = {item.code for item in await self.store.items()}
        for item in catalogue.proof_items:
            if item.code not in known:
                stored = proofs_pb2.ProofItem()
                stored.CopyFrom(item)
                stored.updated_at.CopyFrom(timestamp(self._clock()))
                await self.store.upsert_item(stored, 0)

    async def upsert_item(
        self, item: proofs_pb2.ProofItem, expected_revision: int
    ) -> tuple[proofs_pb2.ProofItem, bool]:
        """Create or replace a proof item; (the item as stored, whether it was created)."""
        check_proof_item(item)
        stored = proofs_pb2.ProofItem()
        stored.CopyFrom(item)
        stored.ClearField("revision")
        stored.updated_at.CopyFrom(timestamp(self._clock()))
        try:
            revision = await self.store.upsert_item(stored, expected_revision)
        except RevisionMismatch as error:
            raise InvalidState(
                f"proof item {item.code} changed meanwhile: {error}",
                metadata={"expected_revision": str(expected_revision)},
            ) from None
        stored.revision = revision
        return stored, revision == 1

    async def item(self, code: str) -> proofs_pb2.ProofItem:
        """One proof item; NOT_FOUND if the catalogue lacks it."""
        item = await self.store.item(code)
        if item is None:
            raise NotFound(f"proof item {code} is not in the catalogue")
        return item

    async def items(self, route: int, department: str) -> list[proofs_pb2.ProofItem]:
        """Proof items by code, by route and authoritative department when given."""
        return [
            item
            for item in await self.store.items()
            if (not route or item.route == route)
            and (not department or department in item.authoritative_departments)
        ]

    # --- create --------------------------------------------------------------------------

    async def create(
        self, caller: Caller, request: proofs_pb2.CreateProofRequestRequest
    ) -> tuple[proofs_pb2.ProofRequest, bool]:
        """Create a request and take its route's first step; (request, duplicate)."""
        now = self._clock()
        item = await self.item(request.proof_item_code)
        if holder_kind(request.holder) not in item.holder_kinds:
            raise InvalidArgument(
                f"proof item {item.code} is not asked about this kind of holder",
                field_violations=[FieldViolation("holder", "wrong kind of holder for the item")],
            )
        token = holder_token(self.holders, request.holder)
        if request.consent.HasField("agent"):
            holder_token(self.holders, request.consent.agent, "consent.agent")
        check_not_future(request.consent.given_at, now, "consent.given_at")
        targets = list(item.authoritative_departments)
        if request.target_department:
            if request.target_department not in targets:
                raise InvalidArgument(
                    f"the target department has no authority for proof item {item.code}",
                    field_violations=[
                        FieldViolation("target_department", "not an authoritative department")
                    ],
                )
            targets = [request.target_department]
        request_id = new_id("pr")
        record = proofs_pb2.ProofRequest(
            request_id=request_id,
            client_request_id=request.client_request_id,
            proof_item_code=item.code,
            route=item.route,
            requesting_department=caller.department_code,
            requested_by=caller.subject,
            target_departments=targets,
            holder=request.holder,
            purpose=request.purpose,
            consent=request.consent,
            note=request.note,
            state=states.INITIAL_STATE,
            created_at=timestamp(now),
            updated_at=timestamp(now),
            request_sha256=states.request_sha256(
                request_id=request_id,
                proof_item_code=item.code,
                requesting_department=caller.department_code,
                holder_token=token,
                case_reference=request.purpose.case_reference,
                created_at=now,
            ),
            last_event_sequence=1,
        )
        inbox = [caller.department_code]
        deadline_ms = None
        if item.route == proofs_pb2.PROOF_ROUTE_DEPARTMENT_VERIFICATION:
            self._start_deadline(record, item, now)
            inbox = records.inbox_departments(record)
            deadline_ms = self._next_look(record)
        stored, duplicate = await self.store.create(
            record,
            records.created_event(record, _actor(caller), now),
            client_key=client_key(caller.department_code, request.client_request_id),
            holder_token=token,
            inbox_departments=inbox,
            deadline_ms=deadline_ms,
        )
        if (
            stored.route in _AUTOMATIC
            and stored.state == states.SUBMITTED
            and not (stored.HasField("due_at"))
        ):
            # New, or a retry after a crash between storing and the automatic step.
            stored = await self._automatic_step(stored.request_id, item)
        return stored, duplicate

    def _start_deadline(
        self, request: proofs_pb2.ProofRequest, item: proofs_pb2.ProofItem, now: dt.datetime
    ) -> None:
        warning = (
            item.warning_before.ToTimedelta()
            if item.HasField("warning_before")
            else self._limits.warning_before
        )
        deadline = self.calendar.deadline(
            now,
            days=item.deadline.working_days,
            time=item.deadline.working_time.ToTimedelta(),
            warning_before=warning,
        )
        request.warning_at.CopyFrom(timestamp(deadline.warning_at))
        request.due_at.CopyFrom(timestamp(deadline.due_at))
        request.sla_mark = sla_mark(now, deadline.warning_at, deadline.due_at)

    def _next_look(self, request: proofs_pb2.ProofRequest) -> int | None:
        """The request's score in the deadline index: the sweeper's next look."""
        return next_look_ms(request, now=self._clock(), expiry=self._limits.expiry)

    async def _automatic_step(
        self, request_id: str, item: proofs_pb2.ProofItem
    ) -> proofs_pb2.ProofRequest:
        """The cancelled or data-sharing route's answer (or fall-back), written."""
        request, before = await self._read(request_id)
        now = self._clock()
        if request.route == proofs_pb2.PROOF_ROUTE_CANCELLED:
            return await self._answer_unsigned(
                request, before, proofs_pb2.PROOF_OUTCOME_NOT_REQUIRED, item.legal_basis, now
            )
        rule = item.data_sharing
        licenses = await self._licenses.list_holder_licenses(
            request.requesting_department, request.holder, request.purpose, rule.license_type_code
        )
        for license in licenses:
            if not _in_validity(license, now):
                continue
            result = evaluate_rule(rule, json_format.MessageToDict(license.claims))
            if result.matched:
                claims = struct_pb2.Struct()
                claims.update(dict(result.answer_claims))
                return await self._answer_signed(
                    request,
                    license.issuer_department,
                    proofs_pb2.PROOF_OUTCOME_CONFIRMED,
                    claims,
                    explanation="confirmed from a shared license",
                    actor=SERVICE_ACTOR,
                    source_license_id=license.license_id,
                    legal_basis=item.legal_basis,
                )
        if rule.fall_back_to_department and request.target_departments:
            return await self._fall_back(request, before, item, now)
        if request.target_departments:
            return await self._answer_signed(
                request,
                request.target_departments[0],
                proofs_pb2.PROOF_OUTCOME_CANNOT_DETERMINE,
                struct_pb2.Struct(),
                explanation="no shared license confirms the fact",
                actor=SERVICE_ACTOR,
                legal_basis=item.legal_basis,
            )
        return await self._answer_unsigned(
            request, before, proofs_pb2.PROOF_OUTCOME_CANNOT_DETERMINE, item.legal_basis, now
        )

    async def _fall_back(
        self,
        request: proofs_pb2.ProofRequest,
        before: bytes,
        item: proofs_pb2.ProofItem,
        now: dt.datetime,
    ) -> proofs_pb2.ProofRequest:
        done = change(
            request,
            proofs_pb2.PROOF_REQUEST_EVENT_TYPE_SLA_CHANGED,
            actor=SERVICE_ACTOR,
            now=now,
            reason="no shared license confirms the fact: sent to the authoritative "
            "departments for verification",
            edit=lambda after: self._start_deadline(after, item, now),
        )
        return await self._write(before, done, inbox=records.inbox_departments(done.after))

    async def _answer_unsigned(
        self,
        request: proofs_pb2.ProofRequest,
        before: bytes,
        outcome: int,
        legal_basis: str,
        now: dt.datetime,
    ) -> proofs_pb2.ProofRequest:
        states.transition(request.state, Action.ANSWER, Party.SYSTEM)

        def edit(after: proofs_pb2.ProofRequest) -> None:
            after.answer.CopyFrom(
                proofs_pb2.ProofAnswer(
                    outcome=outcome,  # type: ignore[arg-type]
                    legal_basis=legal_basis,
                    answered_by=SERVICE_ACTOR.subject,
                    answered_at=timestamp(now),
                )
            )

        done = change(
            request,
            proofs_pb2.PROOF_REQUEST_EVENT_TYPE_ANSWERED,
            actor=SERVICE_ACTOR,
            now=now,
            to_state=states.ANSWERED,
            reason="answered automatically by the item's route",
            edit=edit,
        )
        return await self._write(before, done, inbox=[request.requesting_department])

    async def _answer_signed(
        self,
        request: proofs_pb2.ProofRequest,
        department: str,
        outcome: int,
        claims: struct_pb2.Struct,
        *,
        explanation: str,
        actor: common_pb2.Caller,
        source_license_id: str = "",
        legal_basis: str = "",
    ) -> proofs_pb2.ProofRequest:
        """Sign, attest, then write the answer (re-checking the state before writing)."""
        party = Party.SYSTEM if actor == SERVICE_ACTOR else Party.TARGET
        signed = await self._licenses.sign_proof_answer(
            department,
            licenses_pb2.SignProofAnswerRequest(
                proof_item_code=request.proof_item_code,
                request_id=request.request_id,
                request_sha256=request.request_sha256,
                case_reference=request.purpose.case_reference,
                outcome=_OUTCOME_WORDS[outcome],  # type: ignore[index]
                claims=claims,
                holder=request.holder,
            ),
        )
        attested = await self._attest(
            attestation.PROOF_ANSWERED, department, request.request_id, signed.sd_jwt_sha256
        )

        def decide(current: proofs_pb2.ProofRequest, now: dt.datetime) -> Change:
            if actor != SERVICE_ACTOR:
                _require_party(actor.department_code, current, Party.TARGET)
            states.transition(current.state, Action.ANSWER, party)

            def edit(after: proofs_pb2.ProofRequest) -> None:
                after.answering_department = department
                answer = proofs_pb2.ProofAnswer(
                    outcome=outcome,  # type: ignore[arg-type]
                    claims=claims,
                    explanation=explanation,
                    legal_basis=legal_basis,
                    sd_jwt=signed.sd_jwt,
                    answering_department=department,
                    answered_by=actor.subject,
                    answered_at=timestamp(now),
                    ledger_index=attested.index,
                    source_license_id=source_license_id,
                )
                after.answer.CopyFrom(answer)

            return change(
                current,
                proofs_pb2.PROOF_REQUEST_EVENT_TYPE_ANSWERED,
                actor=actor,
                now=now,
                to_state=states.ANSWERED,
                reason=explanation,
                ledger_index=attested.index,
                edit=edit,
            )

        # The answering department may not be a target (data sharing: the license's issuer),
        # so only the requesting department's inbox hears of automatic answers.
        return await self._apply(
            request.request_id,
            decide,
            inbox=lambda after: (
                [after.requesting_department]
                if actor == SERVICE_ACTOR
                else records.inbox_departments(after)
            ),
        )

    async def _attest(
        self, kind: int, issuer: str, artefact_id: str, sha256: bytes
    ) -> attestation.Attested:
        try:
            return await self._ledger.attest(kind, issuer, artefact_id, sha256)
        except Exception as error:  # grpc.aio.AioRpcError, or the channel closing
            raise Unavailable(
                "the ledger did not accept the attestation; nothing was written, try again"
            ) from error

    # --- reads ---------------------------------------------------------------------------

    async def _read(self, request_id: str) -> tuple[proofs_pb2.ProofRequest, bytes]:
        found = await self.store.get(request_id)
        if found is None:
            raise NotFound(f"proof request {request_id} does not exist")
        return found

    async def get(self, caller: Caller, request_id: str) -> proofs_pb2.ProofRequest:
        """One request, if the caller may read it (see :func:`require_reader`)."""
        request, _ = await self._read(request_id)
        require_reader(caller, request)
        return request

    async def events(
        self, caller: Caller, request_id: str, offset: int, limit: int
    ) -> tuple[list[proofs_pb2.ProofRequestEvent], bool]:
        """A page of a request's history, oldest first, and whether more follow."""
        request, _ = await self._read(request_id)
        require_reader(caller, request)
        events = await self.store.events(request_id, offset, limit + 1)
        return events[:limit], len(events) > limit

    async def list_for_department(
        self,
        department: str,
        request: proofs_pb2.ListProofRequestsRequest,
        offset: int,
        limit: int,
    ) -> tuple[list[proofs_pb2.ProofRequest], int | None]:
        """A filtered page of a department's requests; (page, next offset or None).

        Offsets count the department's unfiltered index, so pages stay stable while the
        filters skip requests.
        """
        chunk = max(limit, 100)
        page: list[proofs_pb2.ProofRequest] = []
        position = offset
        while True:
            batch = await self.store.list_for_department(
                department, request.direction or BOTH, offset=position, limit=chunk
            )
            for index, found in enumerate(batch):
                if _matches(found, request):
                    page.append(found)
                    if len(page) == limit:
                        return page, position + index + 1
            if len(batch) < chunk:
                return page, None
            position += len(batch)

    async def list_for_holder(
        self, holder: common_pb2.HolderRef, offset: int, limit: int
    ) -> tuple[list[proofs_pb2.ProofRequest], bool]:
        """A page of every request about a holder, newest first, and whether more follow."""
        token = holder_token(self.holders, holder)
        found = await self.store.list_for_holder(token, offset, limit + 1)
        return found[:limit], len(found) > limit

    # --- changes by the parties ------------------------------------------------------------

    async def _write(
        self, before: bytes, done: Change, *, inbox: Sequence[str], sampling_ms: int | None = None
    ) -> proofs_pb2.ProofRequest:
        written = await self.store.transition(
            before,
            done.after,
            done.event,
            inbox_departments=inbox,
            deadline_ms=self._next_look(done.after),
            sampling_ms=sampling_ms,
        )
        if not written:
            raise InvalidState(
                "the proof request changed meanwhile; read it again and decide anew",
                metadata={"conflict": "true"},
            )
        return done.after

    async def _apply(
        self,
        request_id: str,
        decide: Callable[[proofs_pb2.ProofRequest, dt.datetime], Change],
        *,
        inbox: Callable[[proofs_pb2.ProofRequest], Sequence[str]] = records.inbox_departments,
        sampling: bool = False,
    ) -> proofs_pb2.ProofRequest:
        """Read, decide, write; again (up to WRITE_ATTEMPTS) if another writer came first.

        `decide` raises when the step is not allowed on the request as read, so every
        attempt re-checks it against the current state.
        """
        for _ in range(WRITE_ATTEMPTS):
            request, before = await self._read(request_id)
            now = self._clock()
            done = decide(request, now)
            written = await self.store.transition(
                before,
                done.after,
                done.event,
                inbox_departments=inbox(done.after),
                deadline_ms=self._next_look(done.after),
                sampling_ms=millis(now) if sampling else None,
            )
            if written:
                return done.after
        raise Unavailable("the proof request keeps changing under this call; try again")

    async def accept(self, caller: Caller, request_id: str, note: str) -> proofs_pb2.ProofRequest:
        """An officer of a target department accepts: it becomes the answering department."""

        def decide(current: proofs_pb2.ProofRequest, now: dt.datetime) -> Change:

            def edit(after: proofs_pb2.ProofRequest) -> None:
                after.answering_department = caller.department_code

            return _step(caller, current, Action.ACCEPT, Party.TARGET, now, reason=note, edit=edit)

        return await self._apply(request_id, decide)

    async def answer(
        self, caller: Caller, request: proofs_pb2.AnswerProofRequestRequest
    ) -> proofs_pb2.ProofRequest:
        """An officer of the answering department answers an accepted request, signed."""
        current, _ = await self._read(request.request_id)
        _require_party(caller.department_code, current, Party.TARGET)
        states.transition(current.state, Action.ANSWER, Party.TARGET)
        item = await self.item(current.proof_item_code)
        check_answer_claims(
            item,
            json_format.MessageToDict(request.claims),
            require_mandatory=request.outcome == proofs_pb2.PROOF_OUTCOME_CONFIRMED,
        )
        return await self._answer_signed(
            current,
            caller.department_code,
            request.outcome,
            request.claims,
            explanation=request.explanation,
            actor=_actor(caller),
            legal_basis=item.legal_basis,
        )

    async def reject(
        self, caller: Caller, request: proofs_pb2.RejectProofRequestRequest
    ) -> proofs_pb2.ProofRequest:
        """An officer of a target department rejects the request, with a reason."""

        def decide(current: proofs_pb2.ProofRequest, now: dt.datetime) -> Change:

            def edit(after: proofs_pb2.ProofRequest) -> None:
                after.rejection.CopyFrom(
                    proofs_pb2.ProofRejection(
                        reason_code=request.reason_code,
                        reason=request.reason,
                        suggested_department=request.suggested_department,
                        rejected_by_department=caller.department_code,
                        rejected_at=timestamp(now),
                    )
                )

            return _step(
                caller, current, Action.REJECT, Party.TARGET, now, reason=request.reason, edit=edit
            )

        return await self._apply(request.request_id, decide)

    async def ask_for_more_info(
        self, caller: Caller, request_id: str, question: str
    ) -> proofs_pb2.ProofRequest:
        """An officer of a target department asks a question; the deadline pauses."""

        def decide(current: proofs_pb2.ProofRequest, now: dt.datetime) -> Change:

            def edit(after: proofs_pb2.ProofRequest) -> None:
                after.more_info.append(
                    proofs_pb2.MoreInfoExchange(
                        question=question,
                        asked_by_department=caller.department_code,
                        asked_at=timestamp(now),
                    )
                )

            return _step(
                caller,
                current,
                Action.ASK_FOR_MORE_INFO,
                Party.TARGET,
                now,
                reason=question,
                edit=edit,
            )

        return await self._apply(request_id, decide)

    async def supply_more_info(
        self, caller: Caller, request: proofs_pb2.SupplyMoreInfoRequest
    ) -> proofs_pb2.ProofRequest:
        """The requesting department replies; the request returns to SUBMITTED and its
        warning and due times move on by the working time spent waiting."""

        def decide(current: proofs_pb2.ProofRequest, now: dt.datetime) -> Change:

            def edit(after: proofs_pb2.ProofRequest) -> None:
                exchange = after.more_info[-1]
                exchange.reply = request.reply
                exchange.license_ids.extend(request.license_ids)
                exchange.replied_at.CopyFrom(timestamp(now))
                if after.HasField("due_at"):
                    spent = self.calendar.working_time_between(
                        exchange.asked_at.ToDatetime(tzinfo=dt.UTC), now
                    )
                    due = self.calendar.add_working_time(
                        after.due_at.ToDatetime(tzinfo=dt.UTC), 0, spent
                    )
                    warning = self.calendar.add_working_time(
                        after.warning_at.ToDatetime(tzinfo=dt.UTC), 0, spent
                    )
                    after.due_at.CopyFrom(timestamp(due))
                    after.warning_at.CopyFrom(timestamp(warning))
                    after.sla_mark = sla_mark(now, warning, due)

            return _step(
                caller,
                current,
                Action.SUPPLY_MORE_INFO,
                Party.REQUESTER,
                now,
                reason="more information supplied",
                edit=edit,
            )

        return await self._apply(request.request_id, decide)

    async def withdraw(
        self, caller: Caller, request_id: str, reason: str
    ) -> proofs_pb2.ProofRequest:
        """The requesting department withdraws a request not yet answered."""
        return await self._by_requester(caller, request_id, Action.WITHDRAW, reason)

    async def close(self, caller: Caller, request_id: str, note: str) -> proofs_pb2.ProofRequest:
        """The requesting department closes an answered request."""
        return await self._by_requester(caller, request_id, Action.CLOSE, note)

    async def _by_requester(
        self, caller: Caller, request_id: str, action: Action, reason: str
    ) -> proofs_pb2.ProofRequest:
        def decide(current: proofs_pb2.ProofRequest, now: dt.datetime) -> Change:
            return _step(caller, current, action, Party.REQUESTER, now, reason=reason)

        return await self._apply(request_id, decide)

    # --- commitments -----------------------------------------------------------------------

    async def record_commitment(
        self, caller: Caller, request: proofs_pb2.RecordCommitmentRequest
    ) -> proofs_pb2.ProofRequest:
        """The applicant's commitment answers a commitment request (COMMITTED), attested,
        and queues it for sampling."""
        current, _ = await self._read(request.request_id)
        _require_party(caller.department_code, current, Party.REQUESTER)
        if current.route != proofs_pb2.PROOF_ROUTE_COMMITMENT:
            raise InvalidState(
                "only a request for a commitment item takes a commitment",
                metadata={"route": proofs_pb2.ProofRoute.Name(current.route)},
            )
        states.transition(current.state, Action.RECORD_COMMITMENT, Party.REQUESTER)
        now = self._clock()
        check_not_future(request.made.given_at, now, "made.given_at")
        if request.made.HasField("agent"):
            holder_token(self.holders, request.made.agent, "made.agent")
        item = await self.item(current.proof_item_code)
        commitment = proofs_pb2.Commitment(
            commitment_id=new_id("cm"),
            text=request.text,
            made=request.made,
            recorded_at=timestamp(now),
            check_state=proofs_pb2.COMMITMENT_CHECK_STATE_AWAITING_SAMPLING,
        )
        if request.HasField("fulfil_by"):
            commitment.fulfil_by.CopyFrom(request.fulfil_by)
        elif item.commitment.HasField("fulfil_within"):
            commitment.fulfil_by.CopyFrom(
                timestamp(now + item.commitment.fulfil_within.ToTimedelta())
            )
        attested = await self._attest(
            attestation.COMMITMENT_RECORDED,
            current.requesting_department,
            commitment.commitment_id,
            commitment_sha256(commitment, current.request_sha256),
        )
        commitment.ledger_index = attested.index

        def decide(latest: proofs_pb2.ProofRequest, when: dt.datetime) -> Change:
            to_state = states.transition(latest.state, Action.RECORD_COMMITMENT, Party.REQUESTER)

            def edit(after: proofs_pb2.ProofRequest) -> None:
                after.commitment.CopyFrom(commitment)
                after.answer.CopyFrom(
                    proofs_pb2.ProofAnswer(
                        outcome=proofs_pb2.PROOF_OUTCOME_COMMITTED,
                        legal_basis=item.legal_basis,
                        answered_by=caller.subject,
                        answered_at=timestamp(when),
                    )
                )

            return change(
                latest,
                states.EVENT_TYPES[Action.RECORD_COMMITMENT],
                actor=_actor(caller),
                now=when,
                to_state=to_state,
                reason="the applicant's commitment stands in for the proof",
                ledger_index=attested.index,
                edit=edit,
            )

        return await self._apply(
            request.request_id,
            decide,
            inbox=lambda after: [after.requesting_department],
            sampling=True,
        )

    async def record_commitment_check(
        self, caller: Caller, request: proofs_pb2.RecordCommitmentCheckRequest
    ) -> proofs_pb2.ProofRequest:
        """An officer of an authoritative department records a sampled commitment's check."""
        current, _ = await self._read(request.request_id)
        _require_checker(caller, current)
        now = self._clock()
        check = proofs_pb2.CommitmentCheck(
            result=request.result,
            note=request.note,
            checked_by=_actor(caller),
            checked_at=timestamp(now),
        )
        attested = await self._attest(
            attestation.COMMITMENT_CHECKED,
            caller.department_code,
            current.commitment.commitment_id,
            commitment_check_sha256(current.commitment.commitment_id, check),
        )
        check.ledger_index = attested.index
        found = (
            proofs_pb2.COMMITMENT_CHECK_STATE_FOUND_TRUE
            if request.result == proofs_pb2.COMMITMENT_CHECK_RESULT_TRUE
            else proofs_pb2.COMMITMENT_CHECK_STATE_FOUND_FALSE
        )

        def decide(latest: proofs_pb2.ProofRequest, when: dt.datetime) -> Change:
            _require_checker(caller, latest)

            def edit(after: proofs_pb2.ProofRequest) -> None:
                after.commitment.check.CopyFrom(check)
                after.commitment.check_state = found

            return change(
                latest,
                proofs_pb2.PROOF_REQUEST_EVENT_TYPE_COMMITMENT_CHECKED,
                actor=_actor(caller),
                now=when,
                reason=request.note,
                ledger_index=attested.index,
                edit=edit,
            )

        return await self._apply(
            request.request_id, decide, inbox=lambda after: [after.requesting_department]
        )


# --- rules on callers -------------------------------------------------------------------


def _actor(caller: Caller) -> common_pb2.Caller:
    return common_pb2.Caller(
        department_code=caller.department_code,
        role=caller.role,  # type: ignore[arg-type]
        subject=caller.subject,
    )


def _parties(department: str, request: proofs_pb2.ProofRequest) -> frozenset[Party]:
    return states.parties_of(
        department,
        requesting_department=request.requesting_department,
        target_departments=request.target_departments,
        answering_department=request.answering_department,
    )


def _step(
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
    _require_party(caller.department_code, current, party)
    to_state = states.transition(current.state, action, party)
    return change(
        current,
        states.EVENT_TYPES[action],
        actor=_actor(caller),
        now=now,
        to_state=to_state,
        reason=reason,
        edit=edit,
    )


def _require_party(department: str, request: proofs_pb2.ProofRequest, party: Party) -> None:
    """PERMISSION_DENIED unless the department is `party` on the request."""
    if party not in _parties(department, request):
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


def _require_checker(caller: Caller, request: proofs_pb2.ProofRequest) -> None:
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


def _matches(
    request: proofs_pb2.ProofRequest, filters: proofs_pb2.ListProofRequestsRequest
) -> bool:
    return (
        (not filters.states or request.state in filters.states)
        and (not filters.sla_marks or request.sla_mark in filters.sla_marks)
        and (not filters.proof_item_code or request.proof_item_code == filters.proof_item_code)
        and (
            not filters.commitment_check_state
            or request.commitment.check_state == filters.commitment_check_state
        )
    )


def _in_validity(license: licenses_pb2.License, now: dt.datetime) -> bool:
    if license.HasField("valid_from") and license.valid_from.ToDatetime(tzinfo=dt.UTC) > now:
        return False
    return not (
        license.HasField("valid_until") and license.valid_until.ToDatetime(tzinfo=dt.UTC) <= now
    )


# --- what the ledger attests for commitments ---------------------------------------------


def commitment_sha256(commitment: proofs_pb2.Commitment, request_sha256: bytes) -> bytes:
    """SHA-256 of the commitment's attested form: canonical JSON of its id, the request's
    hash (hex), its text's SHA-256 (hex) and its recording time. No holder data."""
    document = {
        "type": COMMITMENT_HASH_TYPE,
        "commitment_id": commitment.commitment_id,
        "request_sha256": request_sha256.hex(),
        "text_sha256": hashlib.sha256(commitment.text.encode("utf-8")).hexdigest(),
        "recorded_at": commitment.recorded_at.ToJsonString(),
    }
    return hashlib.sha256(states.canonical_json(document)).digest()


def commitment_check_sha256(commitment_id: str, check: proofs_pb2.CommitmentCheck) -> bytes:
    """SHA-256 of a check's attested form: the commitment, the result, the note's hash,
    the checking department and the time."""
    document = {
        "type": COMMITMENT_CHECK_HASH_TYPE,
        "commitment_id": commitment_id,
        "result": proofs_pb2.CommitmentCheckResult.Name(check.result),
        "note_sha256": hashlib.sha256(check.note.encode("utf-8")).hexdigest(),
        "checked_by_department": check.checked_by.department_code,
        "checked_at": check.checked_at.ToJsonString(),
    }
    return hashlib.sha256(states.canonical_json(document)).digest()
