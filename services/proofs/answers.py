"""Writing a request's answer: signed and attested, or (NOT_REQUIRED, no authority) unsigned.

A signed answer is made in three steps, upstream first and the write last:
SignProofAnswer (the licenses service signs an SD-JWT VC as the answering
department), the ledger (PROOF_ANSWERED, the SD-JWT's hash), then the one write. If
the ledger or the licenses service does not answer, the call is UNAVAILABLE and nothing
is written; a retried answer is signed again (a new SD-JWT), and the first signature,
never stored, is simply lost. Should the write lose a race after signing, the signed
answer is dropped the same way and the caller hears why.
"""

from __future__ import annotations

import datetime as dt

from google.protobuf import struct_pb2

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.licenses.v1 import licenses_pb2
from genproto.certfree.proofs.v1 import proofs_pb2
from runtime import attestation
from services.proofs import records, states
from services.proofs.core import ProofsCore
from services.proofs.parties import require_party
from services.proofs.records import SERVICE_ACTOR, Change, change, timestamp
from services.proofs.states import Action, Party

_OUTCOME_WORDS = {
    proofs_pb2.PROOF_OUTCOME_CONFIRMED: "confirmed",
    proofs_pb2.PROOF_OUTCOME_DENIED: "denied",
    proofs_pb2.PROOF_OUTCOME_CANNOT_DETERMINE: "cannot_determine",
}


class Answers(ProofsCore):
    """Answers written to requests, by the service (automatic routes) or by an officer."""

    async def _answer_unsigned(
        self,
        request: proofs_pb2.ProofRequest,
        before: bytes,
        outcome: int,
        legal_basis: str,
        now: dt.datetime,
    ) -> proofs_pb2.ProofRequest:
        """The service's unsigned answer (NOT_REQUIRED, or CANNOT_DETERMINE with no
        authoritative department to sign it), written once on the request as read."""
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
                require_party(actor.department_code, current, Party.TARGET)
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
