"""Department verification (部门核验, 证明协查): what the two departments do to a request.

An officer of a target department accepts (becoming the answering department), answers
(signed; see :mod:`services.proofs.answers`), rejects, or asks the requesting department
a question, which pauses the deadline; the requesting department supplies the answer
(the request's warning and due times move on by the working time spent waiting),
withdraws a request not yet answered, or closes an answered one. Every action checks
the caller's side and the state machine (``states.py``) on the request as read, and is
decided again if another writer came first.
"""

from __future__ import annotations

import datetime as dt

from google.protobuf import json_format

from genproto.certfree.proofs.v1 import proofs_pb2
from runtime.claims import check_claims
from runtime.identity import Caller
from services.proofs import states
from services.proofs.answers import Answers
from services.proofs.deadlines import sla_mark
from services.proofs.parties import actor, require_party, step
from services.proofs.records import Change, timestamp
from services.proofs.states import Action, Party


class Verification(Answers):
    """The officers' and clerks' actions on a department verification request."""

    async def accept(self, caller: Caller, request_id: str, note: str) -> proofs_pb2.ProofRequest:
        """An officer of a target department accepts: it becomes the answering department."""

        def decide(current: proofs_pb2.ProofRequest, now: dt.datetime) -> Change:

            def edit(after: proofs_pb2.ProofRequest) -> None:
                after.answering_department = caller.department_code

            return step(caller, current, Action.ACCEPT, Party.TARGET, now, reason=note, edit=edit)

        return await self._apply(request_id, decide)

    async def answer(
        self, caller: Caller, request: proofs_pb2.AnswerProofRequestRequest
    ) -> proofs_pb2.ProofRequest:
        """An officer of the answering department answers an accepted request, signed."""
        current, _ = await self._read(request.request_id)
        require_party(caller.department_code, current, Party.TARGET)
        states.transition(current.state, Action.ANSWER, Party.TARGET)
        item = await self.item(current.proof_item_code)
        # Mandatory claims only for CONFIRMED: a denial carries what the officer knows.
        check_claims(
            item.answer_claims,
            json_format.MessageToDict(request.claims),
            schema=f"proof item {item.code}",
            require_mandatory=request.outcome == proofs_pb2.PROOF_OUTCOME_CONFIRMED,
        )
        return await self._answer_signed(
            current,
            caller.department_code,
            request.outcome,
            request.claims,
            explanation=request.explanation,
            actor=actor(caller),
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

            return step(
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

            return step(
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

            return step(
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
            return step(caller, current, action, Party.REQUESTER, now, reason=reason)

        return await self._apply(request_id, decide)
