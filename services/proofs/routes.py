"""Creating proof requests, and the automatic routes' first step.

Every request is first stored SUBMITTED (event 1, CREATED); a department verification
request gets its deadline at once and reaches the target departments' inboxes. The
automatic routes then take their step as a second change: a crash between the two
leaves a SUBMITTED request of an automatic route with no deadline, and the retried
create (same ``client_request_id``) finds it and finishes the step.

- Cancelled (直接取消): answered NOT_REQUIRED, unsigned.
- Data sharing (数据共享): the holder's licenses of the rule's type, in validity, are
  tried in turn; the first that matches answers CONFIRMED, signed by its issuer. With
  none, an item that may fall back becomes a department verification by a change of
  type SLA_CHANGED (the request gains its deadline, mark ON_TIME, and reaches the target
  inboxes); without fall-back it is answered CANNOT_DETERMINE, signed by the item's
  first authoritative department, or unsigned (no ledger entry) when it names none.
- Commitment (告知承诺) and department verification (部门核验) wait for a person.
"""

from __future__ import annotations

import datetime as dt

from google.protobuf import json_format, struct_pb2

from genproto.certfree.licenses.v1 import licenses_pb2
from genproto.certfree.proofs.v1 import proofs_pb2
from runtime.errors import FieldViolation, InvalidArgument
from runtime.identity import Caller
from services.proofs import records, states
from services.proofs.answers import Answers
from services.proofs.catalog import evaluate_rule
from services.proofs.deadlines import sla_mark
from services.proofs.parties import actor, check_not_future, holder_kind, new_id
from services.proofs.records import SERVICE_ACTOR, change, timestamp
from services.proofs.store import client_key

_AUTOMATIC = (proofs_pb2.PROOF_ROUTE_CANCELLED, proofs_pb2.PROOF_ROUTE_DATA_SHARING)


class Routes(Answers):
    """A new request, and the first step its item's route takes by itself."""

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
        token = self.holders.of_ref(request.holder)
        if request.consent.HasField("agent"):
            self.holders.of_ref(request.consent.agent, "consent.agent")
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
            records.created_event(record, actor(caller), now),
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
            if not in_validity(license, now):
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


def in_validity(license: licenses_pb2.License, now: dt.datetime) -> bool:
    """Whether the license is within its validity period at `now`."""
    if license.HasField("valid_from") and license.valid_from.ToDatetime(tzinfo=dt.UTC) > now:
        return False
    return not (
        license.HasField("valid_until") and license.valid_until.ToDatetime(tzinfo=dt.UTC) <= now
    )
