"""Notification and commitment (告知承诺): the applicant's commitment and its sampled check.

A commitment answers a commitment request (COMMITTED, unsigned) and queues it for
sampling; the sweeper selects some, and an officer of an authoritative department
records the check's result. Both the commitment and the check are attested in the
ledger before they are written. The attested form hashes canonical JSON of ids, the
request's hash, SHA-256 of the free texts and the times: no holder data, and no salt
(there is no field to keep one; a text's hash is not guessable from the ledger
without the text). Consent may be given up to :data:`~services.proofs.parties.CLOCK_SKEW`
"in the future", to forgive clocks.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from genproto.certfree.proofs.v1 import proofs_pb2
from runtime import attestation
from runtime.errors import InvalidState
from runtime.identity import Caller
from services.proofs import states
from services.proofs.core import ProofsCore
from services.proofs.parties import (
    actor,
    check_not_future,
    new_id,
    require_checker,
    require_party,
)
from services.proofs.records import Change, change, timestamp
from services.proofs.states import Action, Party

COMMITMENT_HASH_TYPE = "certfree.proofs.v1.Commitment"
COMMITMENT_CHECK_HASH_TYPE = "certfree.proofs.v1.CommitmentCheck"


class Commitments(ProofsCore):
    """Recording commitments and their checks."""

    async def record_commitment(
        self, caller: Caller, request: proofs_pb2.RecordCommitmentRequest
    ) -> proofs_pb2.ProofRequest:
        """The applicant's commitment answers a commitment request (COMMITTED), attested,
        and queues it for sampling."""
        current, _ = await self._read(request.request_id)
        require_party(caller.department_code, current, Party.REQUESTER)
        if current.route != proofs_pb2.PROOF_ROUTE_COMMITMENT:
            raise InvalidState(
                "only a request for a commitment item takes a commitment",
                metadata={"route": proofs_pb2.ProofRoute.Name(current.route)},
            )
        states.transition(current.state, Action.RECORD_COMMITMENT, Party.REQUESTER)
        now = self._clock()
        check_not_future(request.made.given_at, now, "made.given_at")
        if request.made.HasField("agent"):
            self.holders.of_ref(request.made.agent, "made.agent")
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
                actor=actor(caller),
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
        require_checker(caller, current)
        now = self._clock()
        check = proofs_pb2.CommitmentCheck(
            result=request.result,
            note=request.note,
            checked_by=actor(caller),
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
            require_checker(caller, latest)

            def edit(after: proofs_pb2.ProofRequest) -> None:
                after.commitment.check.CopyFrom(check)
                after.commitment.check_state = found

            return change(
                latest,
                proofs_pb2.PROOF_REQUEST_EVENT_TYPE_COMMITMENT_CHECKED,
                actor=actor(caller),
                now=when,
                reason=request.note,
                ledger_index=attested.index,
                edit=edit,
            )

        return await self._apply(
            request.request_id, decide, inbox=lambda after: [after.requesting_department]
        )


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
