"""The proofs service end to end: real stack (store, ledger, licenses, proofs) on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format

from certfree.stack import Stack
from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from genproto.certfree.licenses.v1 import licenses_pb2, licenses_pb2_grpc
from genproto.certfree.proofs.v1 import proofs_pb2, proofs_pb2_grpc
from runtime.config import Settings
from runtime.holders import HolderIndex, uscc_check_character
from runtime.identity import SUBJECT_HEADER
from runtime.secrets import load_secret
from services.proofs import states
from services.proofs.store import ProofStore
from tests.conftest import HOUSING_BUREAU, MARKET_REGULATION, caller

CENTRE = "11350181MB1234505L"  # 福清市行政服务中心管理委员会: the clerks' department
POLICE = "11350181MB1234503E"  # 福清市公安局: a department the drawing review is not addressed to
COMPANY = "91350181MA2XYW012" + uscc_check_character("91350181MA2XYW012")
DRAWING_REVIEW = "construction-drawing-review.verification"
PURPOSE = common_pb2.AccessPurpose(purpose="construction permit", case_reference="FQ-2026-0042")
ANSWER_CLAIMS = {
    "certificate_number": "闽施审2026-0042",
    "project_name": "福清市示例综合楼",
    "passed_on": "2026-03-02",
}
DOC = Path(__file__).resolve().parents[1] / "docs" / "proofs.md"


@dataclasses.dataclass
class Running:
    """The stack and stubs for the proofs, licenses and ledger services."""

    stack: Stack
    proofs: proofs_pb2_grpc.ProofServiceStub
    catalog: proofs_pb2_grpc.ProofCatalogServiceStub
    licenses: licenses_pb2_grpc.LicenseServiceStub
    ledger: ledger_pb2_grpc.LedgerServiceStub

    async def history(self, request_id: str) -> list[proofs_pb2.ProofRequestEvent]:
        """The request's events, as an auditor reads them."""
        listed = await self.proofs.ListProofRequestEvents(
            proofs_pb2.ListProofRequestEventsRequest(request_id=request_id),
            metadata=caller(CENTRE, "auditor"),
        )
        return list(listed.events)


@pytest.fixture
async def running(settings: Settings, redis_url: str) -> AsyncIterator[Running]:
    """certfree with the real store of the test session, every port 0, a quick sweeper."""
    stack = await Stack.start(
        dataclasses.replace(settings, redis_url=redis_url, proofs_sweep_seconds=0.2),
        insecure_dev=True,
    )
    addresses = stack.addresses()
    try:
        async with (
            grpc.aio.insecure_channel(addresses["proofs"]) as proofs,
            grpc.aio.insecure_channel(addresses["licenses"]) as licenses,
            grpc.aio.insecure_channel(addresses["ledger"]) as ledger,
        ):
            yield Running(
                stack,
                proofs_pb2_grpc.ProofServiceStub(proofs),
                proofs_pb2_grpc.ProofCatalogServiceStub(proofs),
                licenses_pb2_grpc.LicenseServiceStub(licenses),
                ledger_pb2_grpc.LedgerServiceStub(ledger),
            )
    finally:
        await stack.stop()


def consent() -> common_pb2.HolderConsent:
    """Consent given at the window by the company's legal representative, ID checked."""
    given = common_pb2.HolderConsent(
        given_by=common_pb2.CONSENT_GIVER_LEGAL_REPRESENTATIVE,
        agent=common_pb2.HolderRef(resident_id="11010519491231002X"),
        method=common_pb2.CONSENT_METHOD_AT_WINDOW_ID_CHECKED,
    )
    given.given_at.GetCurrentTime()
    return given


def create_request(
    item: str = DRAWING_REVIEW, client_request_id: str = "intake-1", holder: str = COMPANY
) -> proofs_pb2.CreateProofRequestRequest:
    """A clerk's request about COMPANY, with consent."""
    return proofs_pb2.CreateProofRequestRequest(
        client_request_id=client_request_id,
        proof_item_code=item,
        holder=common_pb2.HolderRef(uscc=holder),
        purpose=PURPOSE,
        consent=consent(),
        note="施工许可办件缺施工图审查合格证明",
    )


def answer_request(request_id: str, **claims: str) -> proofs_pb2.AnswerProofRequestRequest:
    """A CONFIRMED answer with the drawing review's claims."""
    answer = proofs_pb2.AnswerProofRequestRequest(
        request_id=request_id,
        outcome=proofs_pb2.PROOF_OUTCOME_CONFIRMED,
        explanation="审查合格书核对无误",
    )
    answer.claims.update({**ANSWER_CLAIMS, **claims})
    return answer


async def refused(call: object) -> grpc.aio.AioRpcError:
    """The error a call ends with (it must fail)."""
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call  # type: ignore[misc]
    return error.value


CLERK = caller(CENTRE, "clerk")
OFFICER = caller(HOUSING_BUREAU, "officer")


async def created(running: Running, **kwargs: str) -> proofs_pb2.ProofRequest:
    """A new request, made by the centre's clerk."""
    response = await running.proofs.CreateProofRequest(create_request(**kwargs), metadata=CLERK)
    request: proofs_pb2.ProofRequest = response.request
    return request


class TestFuqingScenario:
    """A window clerk asks the housing bureau; its officer answers; the answer verifies."""

    async def test_clerk_asks_officer_answers_signed_and_attested(self, running: Running) -> None:
        """SUBMITTED with a deadline → ACCEPTED → ANSWERED CONFIRMED, signed, verified, attested."""
        request = await created(running)
        assert request.state == proofs_pb2.PROOF_REQUEST_STATE_SUBMITTED
        assert request.route == proofs_pb2.PROOF_ROUTE_DEPARTMENT_VERIFICATION
        assert list(request.target_departments) == [HOUSING_BUREAU]
        assert request.HasField("due_at") and request.HasField("warning_at")
        assert request.sla_mark in (proofs_pb2.SLA_MARK_ON_TIME, proofs_pb2.SLA_MARK_WARNING)
        assert len(request.request_sha256) == 32 and COMPANY not in request.request_id

        accepted = await running.proofs.AcceptProofRequest(
            proofs_pb2.AcceptProofRequestRequest(request_id=request.request_id, note="受理"),
            metadata=OFFICER,
        )
        assert accepted.request.answering_department == HOUSING_BUREAU
        answered = await running.proofs.AnswerProofRequest(
            answer_request(request.request_id), metadata=OFFICER
        )
        answer = answered.request.answer
        assert answered.request.state == proofs_pb2.PROOF_REQUEST_STATE_ANSWERED
        assert answer.outcome == proofs_pb2.PROOF_OUTCOME_CONFIRMED
        assert answer.sd_jwt and answer.HasField("ledger_index")

        seen = await running.proofs.GetProofRequest(
            proofs_pb2.GetProofRequestRequest(request_id=request.request_id), metadata=CLERK
        )
        assert seen.answer.sd_jwt == answer.sd_jwt
        verified = await running.licenses.VerifyLicense(
            licenses_pb2.VerifyLicenseRequest(sd_jwt=seen.answer.sd_jwt), metadata=CLERK
        )
        assert verified.valid, verified
        disclosed = json_format.MessageToDict(verified.disclosed_claims)
        assert {k: disclosed[k] for k in ANSWER_CLAIMS} == ANSWER_CLAIMS

        signed_part = seen.answer.sd_jwt.split("~", 1)[0]
        import hashlib

        entry = await running.ledger.LookupEntry(
            ledger_pb2.LookupEntryRequest(
                artefact_sha256=hashlib.sha256(signed_part.encode()).digest(),
                kind=ledger_pb2.ATTESTATION_KIND_PROOF_ANSWERED,
            ),
            metadata=CLERK,
        )
        assert entry.index == answer.ledger_index

        events = await running.history(request.request_id)
        assert [e.type for e in events] == [
            proofs_pb2.PROOF_REQUEST_EVENT_TYPE_CREATED,
            proofs_pb2.PROOF_REQUEST_EVENT_TYPE_ACCEPTED,
            proofs_pb2.PROOF_REQUEST_EVENT_TYPE_ANSWERED,
        ]
        assert events[-1].ledger_index == answer.ledger_index
        assert [e.sequence for e in events] == [1, 2, 3]

        closed = await running.proofs.CloseProofRequest(
            proofs_pb2.CloseProofRequestRequest(request_id=request.request_id), metadata=CLERK
        )
        assert closed.request.state == proofs_pb2.PROOF_REQUEST_STATE_CLOSED

    async def test_create_is_idempotent(self, running: Running) -> None:
        """The same client_request_id returns the stored request, duplicate, nothing new."""
        first = await created(running)
        again = await running.proofs.CreateProofRequest(create_request(), metadata=CLERK)
        assert again.duplicate and again.request.request_id == first.request_id
        assert len(await running.history(first.request_id)) == 1


class TestRoutes:
    """Each route takes its own first step at creation."""

    async def test_cancelled_answers_not_required_unsigned(self, running: Running) -> None:
        """Direct cancellation: NOT_REQUIRED at once, the legal basis cited, no signature."""
        request = proofs_pb2.CreateProofRequestRequest(
            client_request_id="c-1",
            proof_item_code="residence-proof.cancelled",
            holder=common_pb2.HolderRef(resident_id="11010519491231002X"),
            purpose=PURPOSE,
            consent=consent(),
        )
        done = (await running.proofs.CreateProofRequest(request, metadata=CLERK)).request
        assert done.state == proofs_pb2.PROOF_REQUEST_STATE_ANSWERED
        assert done.answer.outcome == proofs_pb2.PROOF_OUTCOME_NOT_REQUIRED
        assert "国办发" in done.answer.legal_basis
        assert not done.answer.sd_jwt and not done.answer.HasField("ledger_index")

    async def test_data_sharing_confirms_from_a_license(self, running: Running) -> None:
        """A valid business license answers CONFIRMED, signed by its issuer, from its claims."""
        issue = licenses_pb2.IssueLicenseRequest(
            request_id="bl-1",
            license_type_code="11100000000013127D001",
            holder=common_pb2.HolderRef(uscc=COMPANY),
        )
        issue.claims.update(
            {
                "name": "福清市示例贸易有限公司",
                "type": "有限责任公司",
                "legal_representative": "林某",
                "registered_capital": "100万元人民币",
                "established_on": "2024-03-01",
                "business_scope": "日用百货销售",
                "address": "福建省福清市示例路1号",
            }
        )
        license = (await running.licenses.IssueLicense(issue, metadata=caller())).license
        done = await created(running, item="business-license.existence")
        assert done.state == proofs_pb2.PROOF_REQUEST_STATE_ANSWERED
        assert done.answer.outcome == proofs_pb2.PROOF_OUTCOME_CONFIRMED
        assert done.answer.answering_department == MARKET_REGULATION
        assert done.answer.source_license_id == license.license_id
        assert json_format.MessageToDict(done.answer.claims)["entity_type"] == "有限责任公司"
        verified = await running.licenses.VerifyLicense(
            licenses_pb2.VerifyLicenseRequest(sd_jwt=done.answer.sd_jwt), metadata=CLERK
        )
        assert verified.valid

    async def test_data_sharing_without_license_falls_back(self, running: Running) -> None:
        """No license and fall-back: a department verification with a deadline."""
        done = await created(running, item="business-license.existence")
        assert done.state == proofs_pb2.PROOF_REQUEST_STATE_SUBMITTED
        assert done.HasField("due_at")
        events = await running.history(done.request_id)
        assert events[-1].type == proofs_pb2.PROOF_REQUEST_EVENT_TYPE_SLA_CHANGED

    async def test_data_sharing_without_fall_back_cannot_determine(self, running: Running) -> None:
        """No license and no fall-back: CANNOT_DETERMINE at once."""
        done = await created(running, item="catering-permit.proof")
        assert done.state == proofs_pb2.PROOF_REQUEST_STATE_ANSWERED
        assert done.answer.outcome == proofs_pb2.PROOF_OUTCOME_CANNOT_DETERMINE

    async def test_commitment_answers_committed_attested_and_sampled(
        self, running: Running
    ) -> None:
        """RecordCommitment: COMMITTED, attested; sampling selects it; a check is recorded."""
        item = await running.catalog.GetProofItem(
            proofs_pb2.GetProofItemRequest(
                proof_item_code="construction-drawing-review.accept-with-gaps"
            ),
            metadata=CLERK,
        )
        item.commitment.sampling_rate = 1.0  # every commitment is checked
        await running.catalog.UpsertProofItem(
            proofs_pb2.UpsertProofItemRequest(proof_item_code=item.code, proof_item=item),
            metadata=caller(CENTRE, "operator"),
        )
        request = await created(running, item=item.code)
        assert request.state == proofs_pb2.PROOF_REQUEST_STATE_SUBMITTED
        assert not request.HasField("due_at")
        made = consent()
        recorded = (
            await running.proofs.RecordCommitment(
                proofs_pb2.RecordCommitmentRequest(
                    request_id=request.request_id, text=item.commitment.text, made=made
                ),
                metadata=CLERK,
            )
        ).request
        assert recorded.state == proofs_pb2.PROOF_REQUEST_STATE_ANSWERED
        assert recorded.answer.outcome == proofs_pb2.PROOF_OUTCOME_COMMITTED
        assert recorded.commitment.HasField("ledger_index")
        assert recorded.commitment.HasField("fulfil_by")  # 20 days, from the item's terms
        check = proofs_pb2.RecordCommitmentCheckRequest(
            request_id=request.request_id,
            result=proofs_pb2.COMMITMENT_CHECK_RESULT_TRUE,
            note="现场核查属实",
        )
        for _ in range(100):
            seen = await running.proofs.GetProofRequest(
                proofs_pb2.GetProofRequestRequest(request_id=request.request_id), metadata=CLERK
            )
            if seen.commitment.check_state == proofs_pb2.COMMITMENT_CHECK_STATE_SELECTED:
                break
            await asyncio.sleep(0.1)
        assert seen.commitment.check_state == proofs_pb2.COMMITMENT_CHECK_STATE_SELECTED
        error = await refused(
            running.proofs.RecordCommitmentCheck(check, metadata=caller(POLICE, "officer"))
        )
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        checked = (await running.proofs.RecordCommitmentCheck(check, metadata=OFFICER)).request
        assert checked.commitment.check_state == proofs_pb2.COMMITMENT_CHECK_STATE_FOUND_TRUE
        assert checked.commitment.check.HasField("ledger_index")


class TestMoreInfo:
    """A question pauses the request; the reply returns it to SUBMITTED."""

    async def test_ask_and_supply(self, running: Running) -> None:
        """The exchange is recorded and the due time never moves earlier."""
        request = await created(running)
        asked = await running.proofs.AskForMoreInfo(
            proofs_pb2.AskForMoreInfoRequest(
                request_id=request.request_id, question="请提供审查合格书编号"
            ),
            metadata=OFFICER,
        )
        assert asked.request.state == proofs_pb2.PROOF_REQUEST_STATE_NEEDS_MORE_INFO
        supplied = await running.proofs.SupplyMoreInfo(
            proofs_pb2.SupplyMoreInfoRequest(
                request_id=request.request_id, reply="闽施审2026-0042"
            ),
            metadata=CLERK,
        )
        after = supplied.request
        assert after.state == proofs_pb2.PROOF_REQUEST_STATE_SUBMITTED
        assert after.more_info[0].reply and after.more_info[0].HasField("replied_at")
        assert after.due_at.ToDatetime() >= request.due_at.ToDatetime()

    async def test_reject(self, running: Running) -> None:
        """A target officer rejects with a reason; the rejection is recorded."""
        request = await created(running)
        rejected = await running.proofs.RejectProofRequest(
            proofs_pb2.RejectProofRequestRequest(
                request_id=request.request_id,
                reason_code=proofs_pb2.REJECTION_REASON_OTHER,
                reason="项目不在本局审查范围",
            ),
            metadata=OFFICER,
        )
        assert rejected.request.state == proofs_pb2.PROOF_REQUEST_STATE_REJECTED
        assert rejected.request.rejection.rejected_by_department == HOUSING_BUREAU


class TestRefusals:
    """Wrong roles, wrong departments and bad input: a clear error and nothing written."""

    async def test_roles_and_departments(self, running: Running) -> None:
        """Officers of other departments, clerks of other departments, wrong roles: refused."""
        request = await created(running)
        rid = request.request_id
        accept = proofs_pb2.AcceptProofRequestRequest(request_id=rid)
        for metadata in (caller(POLICE, "officer"), CLERK, caller(HOUSING_BUREAU, "auditor")):
            error = await refused(running.proofs.AcceptProofRequest(accept, metadata=metadata))
            assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        await running.proofs.AcceptProofRequest(accept, metadata=OFFICER)
        error = await refused(
            running.proofs.AnswerProofRequest(
                answer_request(rid), metadata=caller(POLICE, "officer")
            )
        )
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        withdraw = proofs_pb2.WithdrawProofRequestRequest(request_id=rid, reason="不再需要")
        error = await refused(
            running.proofs.WithdrawProofRequest(withdraw, metadata=caller(POLICE, "clerk"))
        )
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        error = await refused(
            running.proofs.GetProofRequest(
                proofs_pb2.GetProofRequestRequest(request_id=rid), metadata=caller(POLICE, "clerk")
            )
        )
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        error = await refused(
            running.proofs.CreateProofRequest(
                create_request(client_request_id="x"), metadata=OFFICER
            )
        )
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        assert len(await running.history(rid)) == 2

    async def test_answering_twice_and_after_withdrawal(self, running: Running) -> None:
        """A second answer and an answer to a withdrawn request: FAILED_PRECONDITION."""
        request = await created(running)
        rid = request.request_id
        await running.proofs.AcceptProofRequest(
            proofs_pb2.AcceptProofRequestRequest(request_id=rid), metadata=OFFICER
        )
        await running.proofs.AnswerProofRequest(answer_request(rid), metadata=OFFICER)
        error = await refused(
            running.proofs.AnswerProofRequest(answer_request(rid), metadata=OFFICER)
        )
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert len(await running.history(rid)) == 3

        other = await created(running, client_request_id="intake-2")
        await running.proofs.WithdrawProofRequest(
            proofs_pb2.WithdrawProofRequestRequest(request_id=other.request_id, reason="撤回"),
            metadata=CLERK,
        )
        error = await refused(
            running.proofs.AnswerProofRequest(answer_request(other.request_id), metadata=OFFICER)
        )
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert len(await running.history(other.request_id)) == 2

    async def test_bad_input(self, running: Running) -> None:
        """Unknown item, bad check character, wrong holder kind, missing or future consent,
        oversize note, bad claims: each refused, naming the field."""
        error = await refused(
            running.proofs.CreateProofRequest(create_request(item="no-such-item"), metadata=CLERK)
        )
        assert error.code() == grpc.StatusCode.NOT_FOUND
        bad = COMPANY[:-1] + ("0" if COMPANY[-1] != "0" else "1")
        error = await refused(
            running.proofs.CreateProofRequest(create_request(holder=bad), metadata=CLERK)
        )
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "check character" in (error.details() or "") and bad not in (error.details() or "")
        no_consent = create_request()
        no_consent.ClearField("consent")
        error = await refused(running.proofs.CreateProofRequest(no_consent, metadata=CLERK))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        future = create_request()
        future.consent.given_at.seconds += 86_400
        error = await refused(running.proofs.CreateProofRequest(future, metadata=CLERK))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "consent.given_at" in str(error.debug_error_string()) or "future" in (
            error.details() or ""
        )
        oversize = create_request()
        oversize.note = "长" * 2001
        error = await refused(running.proofs.CreateProofRequest(oversize, metadata=CLERK))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        person = proofs_pb2.CreateProofRequestRequest()
        person.CopyFrom(create_request())
        person.holder.resident_id = "11010519491231002X"
        error = await refused(running.proofs.CreateProofRequest(person, metadata=CLERK))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        listed = await running.proofs.ListProofRequests(
            proofs_pb2.ListProofRequestsRequest(), metadata=CLERK
        )
        assert list(listed.requests) == []

        request = await created(running)
        await running.proofs.AcceptProofRequest(
            proofs_pb2.AcceptProofRequestRequest(request_id=request.request_id), metadata=OFFICER
        )
        missing = answer_request(request.request_id)
        del missing.claims["passed_on"]
        missing.claims["passed_on_typo"] = "2026-03-02"
        error = await refused(running.proofs.AnswerProofRequest(missing, metadata=OFFICER))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert len(await running.history(request.request_id)) == 2


class TestReads:
    """Lists, the holder view and the catalogue."""

    async def test_lists_by_direction_and_state(self, running: Running) -> None:
        """The centre sees its outgoing requests, the bureau its incoming; filters apply."""
        first = await created(running)
        await created(running, client_request_id="intake-2")
        outgoing = await running.proofs.ListProofRequests(
            proofs_pb2.ListProofRequestsRequest(
                direction=proofs_pb2.REQUEST_DIRECTION_OUTGOING, page_size=1
            ),
            metadata=CLERK,
        )
        assert len(outgoing.requests) == 1 and outgoing.next_page_token
        incoming = await running.proofs.ListProofRequests(
            proofs_pb2.ListProofRequestsRequest(direction=proofs_pb2.REQUEST_DIRECTION_INCOMING),
            metadata=OFFICER,
        )
        assert len(incoming.requests) == 2
        await running.proofs.AcceptProofRequest(
            proofs_pb2.AcceptProofRequestRequest(request_id=first.request_id), metadata=OFFICER
        )
        accepted = await running.proofs.ListProofRequests(
            proofs_pb2.ListProofRequestsRequest(states=[proofs_pb2.PROOF_REQUEST_STATE_ACCEPTED]),
            metadata=OFFICER,
        )
        assert [r.request_id for r in accepted.requests] == [first.request_id]
        error = await refused(
            running.proofs.ListProofRequests(
                proofs_pb2.ListProofRequestsRequest(department_code=HOUSING_BUREAU), metadata=CLERK
            )
        )
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        supervised = await running.proofs.ListProofRequests(
            proofs_pb2.ListProofRequestsRequest(department_code=HOUSING_BUREAU),
            metadata=caller(CENTRE, "supervisor"),
        )
        assert len(supervised.requests) == 2

    async def test_holder_view(self, running: Running) -> None:
        """An auditor with a purpose lists every request about the holder; a clerk may not."""
        request = await created(running)
        holder_list = proofs_pb2.ListHolderProofRequestsRequest(
            holder=common_pb2.HolderRef(uscc=COMPANY), purpose=PURPOSE
        )
        found = await running.proofs.ListHolderProofRequests(
            holder_list, metadata=caller(CENTRE, "auditor")
        )
        assert [r.request_id for r in found.requests] == [request.request_id]
        error = await refused(running.proofs.ListHolderProofRequests(holder_list, metadata=CLERK))
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED

    async def test_holder_listings_are_recorded_as_accesses(self, running: Running) -> None:
        """Each holder listing is recorded with caller, purpose, case and the requests shown,
        under the holder's keyed index token: neither key nor record holds the clear ID."""
        request = await created(running)
        store = ProofStore(running.stack.store)
        token = HolderIndex(load_secret(running.stack.settings, "holder_index_key")).of_uscc(
            COMPANY, "holder"
        )
        before = len(await store.accesses(token, 0, 1000))
        holder_list = proofs_pb2.ListHolderProofRequestsRequest(
            holder=common_pb2.HolderRef(uscc=COMPANY), purpose=PURPOSE
        )
        await running.proofs.ListHolderProofRequests(
            holder_list, metadata=caller(CENTRE, "auditor")
        )
        await running.proofs.ListHolderProofRequests(
            proofs_pb2.ListHolderProofRequestsRequest(holder=common_pb2.HolderRef(uscc=COMPANY)),
            metadata=(*caller(CENTRE, "holder"), (SUBJECT_HEADER, token)),  # the holder's own
        )
        accesses = await store.accesses(token, 0, 1000)
        assert len(accesses) == before + 2
        own, audit = accesses[0], accesses[1]  # newest first
        assert audit.accessed_by.department_code == CENTRE
        assert audit.accessed_by.role == common_pb2.ROLE_AUDITOR
        assert audit.purpose == PURPOSE
        assert list(audit.request_ids) == [request.request_id]
        assert audit.access_id and audit.HasField("accessed_at")
        assert own.accessed_by.role == common_pb2.ROLE_HOLDER and not own.HasField("purpose")
        keys = [
            key async for key in running.stack.store.redis.scan_iter(match="{proofs}:accesses:*")
        ]
        assert keys and not any(COMPANY.encode() in key for key in keys)
        assert all(COMPANY not in str(access) for access in accesses)

    async def test_an_unrecorded_listing_is_refused(self, running: Running) -> None:
        """A refused caller's attempt records nothing (no purpose: INVALID_ARGUMENT)."""
        await created(running)
        store = ProofStore(running.stack.store)
        token = HolderIndex(load_secret(running.stack.settings, "holder_index_key")).of_uscc(
            COMPANY, "holder"
        )
        before = len(await store.accesses(token, 0, 1000))
        error = await refused(
            running.proofs.ListHolderProofRequests(
                proofs_pb2.ListHolderProofRequestsRequest(
                    holder=common_pb2.HolderRef(uscc=COMPANY)
                ),
                metadata=caller(CENTRE, "auditor"),
            )
        )
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert len(await store.accesses(token, 0, 1000)) == before

    async def test_catalogue(self, running: Running) -> None:
        """The sample is seeded; lists filter by route; upserts need an operator."""
        listed = await running.catalog.ListProofItems(
            proofs_pb2.ListProofItemsRequest(route=proofs_pb2.PROOF_ROUTE_CANCELLED),
            metadata=CLERK,
        )
        assert {i.code for i in listed.proof_items} == {
            "residence-proof.cancelled",
            "no-criminal-record.domestic-service",
        }
        item = listed.proof_items[0]
        error = await refused(
            running.catalog.UpsertProofItem(
                proofs_pb2.UpsertProofItemRequest(proof_item_code=item.code, proof_item=item),
                metadata=CLERK,
            )
        )
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        stored = await running.catalog.UpsertProofItem(
            proofs_pb2.UpsertProofItemRequest(
                proof_item_code=item.code, proof_item=item, expected_revision=item.revision
            ),
            metadata=caller(CENTRE, "operator"),
        )
        assert stored.proof_item.revision == item.revision + 1 and not stored.created
        error = await refused(
            running.catalog.GetProofItem(
                proofs_pb2.GetProofItemRequest(proof_item_code="nope"), metadata=CLERK
            )
        )
        assert error.code() == grpc.StatusCode.NOT_FOUND


class TestDocs:
    """docs/proofs.md carries the state table exactly as the code renders it."""

    def test_doc_has_the_transition_table(self) -> None:
        """The table in the doc is transition_table_markdown()."""
        assert states.transition_table_markdown() in DOC.read_text(encoding="utf-8")


class TestLedgerDown:
    """An answer the ledger cannot attest is not written; the officer's retry answers."""

    async def test_answer_unavailable_then_retried(self, running: Running) -> None:
        """UNAVAILABLE with the history unchanged; after the ledger returns, the retry signs."""
        import services.ledger
        from runtime.identity import DevIdentity
        from runtime.server import start_server

        request = await created(running)
        rid = request.request_id
        await running.proofs.AcceptProofRequest(
            proofs_pb2.AcceptProofRequestRequest(request_id=rid), metadata=OFFICER
        )
        stack = running.stack
        port = stack.servers["ledger"].port
        await stack.servers["ledger"].stop(0)
        error = await refused(
            running.proofs.AnswerProofRequest(answer_request(rid), metadata=OFFICER)
        )
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert len(await running.history(rid)) == 2
        stack.servers["ledger"] = await start_server(
            stack.settings,
            f"127.0.0.1:{port}",
            services.ledger.registrations(stack.settings, stack.store),
            DevIdentity(),
        )
        for _ in range(100):  # a client retries UNAVAILABLE with backoff
            try:
                answered = await running.proofs.AnswerProofRequest(
                    answer_request(rid), metadata=OFFICER
                )
                break
            except grpc.aio.AioRpcError as failed:
                assert failed.code() == grpc.StatusCode.UNAVAILABLE
                await asyncio.sleep(0.1)
        assert answered.request.answer.HasField("ledger_index")
        assert len(await running.history(rid)) == 3


class TestInboxAndStatistics:
    """The inbox stream and the supervision statistics are served through the servicer."""

    async def test_officer_hears_a_new_request(self, running: Running) -> None:
        """A stream opened at the live end receives the next request addressed to the bureau."""
        stream = running.proofs.StreamInbox(
            proofs_pb2.StreamInboxRequest(direction=proofs_pb2.REQUEST_DIRECTION_INCOMING),
            metadata=OFFICER,
        )
        first = await stream.read()
        assert first.cursor  # the live end
        request = await created(running)
        events: list[proofs_pb2.InboxEvent] = []
        while not events:
            message = await asyncio.wait_for(stream.read(), timeout=20)
            events.extend(message.events)
        stream.cancel()
        assert events[0].event.request_id == request.request_id
        assert events[0].direction == proofs_pb2.REQUEST_DIRECTION_INCOMING

    async def test_statistics_for_supervisors_only(self, running: Running) -> None:
        """A supervisor gets one row per department and item; a clerk is refused."""
        await created(running)
        rows = await running.proofs.GetProofStatistics(
            proofs_pb2.GetProofStatisticsRequest(department_code=HOUSING_BUREAU),
            metadata=caller(CENTRE, "supervisor"),
        )
        assert [(r.department_code, r.proof_item_code) for r in rows.rows] == [
            (HOUSING_BUREAU, DRAWING_REVIEW)
        ]
        error = await refused(
            running.proofs.GetProofStatistics(
                proofs_pb2.GetProofStatisticsRequest(), metadata=CLERK
            )
        )
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED


class TestThroughTheGateway:
    """The Fuqing scenario as an intake system and a department's browser see it: HTTP/JSON
    and Server-Sent Events through the gateway, no gRPC on the client side."""

    async def test_fuqing_scenario_over_http_and_sse(self, running: Running) -> None:
        """The officer's SSE inbox hears the clerk's request; accept and answer over HTTP;
        the clerk reads the signed answer, which the licenses service verifies."""
        gateway = running.stack.addresses()["gateway"]
        clerk = {"x-certfree-department": CENTRE, "x-certfree-role": "clerk"}
        officer = {"x-certfree-department": HOUSING_BUREAU, "x-certfree-role": "officer"}
        async with httpx.AsyncClient(base_url=gateway, timeout=10) as http:
            heard: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

            async def listen() -> None:
                params = {"direction": "REQUEST_DIRECTION_INCOMING"}
                async with http.stream(
                    "GET", "/v1/proof-requests:streamInbox", params=params, headers=officer
                ) as stream:
                    assert stream.headers["content-type"].startswith("text/event-stream")
                    async for line in stream.aiter_lines():
                        if line.startswith("data: "):
                            await heard.put(json.loads(line.removeprefix("data: ")))

            listener = asyncio.create_task(listen())
            try:
                live = await asyncio.wait_for(heard.get(), 10)  # the live end's cursor
                assert live["cursor"] and not live.get("events")
                body = json_format.MessageToDict(create_request(client_request_id="http-1"))
                created = await http.post("/v1/proof-requests", json=body, headers=clerk)
                assert created.status_code == 200, created.text
                request_id = created.json()["request"]["requestId"]
                while True:
                    message = await asyncio.wait_for(heard.get(), 10)
                    events = message.get("events", [])
                    if any(e["request"]["requestId"] == request_id for e in events):
                        break
                accepted = await http.post(
                    f"/v1/proof-requests/{request_id}:accept", json={}, headers=officer
                )
                assert accepted.status_code == 200, accepted.text
                answer = json_format.MessageToDict(answer_request(request_id))
                answered = await http.post(
                    f"/v1/proof-requests/{request_id}:answer", json=answer, headers=officer
                )
                assert answered.status_code == 200, answered.text
            finally:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
            read = await http.get(f"/v1/proof-requests/{request_id}", headers=clerk)
        assert read.status_code == 200, read.text
        request = read.json()
        assert request["state"] == "PROOF_REQUEST_STATE_ANSWERED"
        sd_jwt = request["answer"]["sdJwt"]
        verified = await running.licenses.VerifyLicense(
            licenses_pb2.VerifyLicenseRequest(sd_jwt=sd_jwt), metadata=caller(CENTRE, "clerk")
        )
        assert verified.valid, verified
