"""SignProofAnswer signs with the answering department's key; VerifyLicense checks the answer.

Real stack on loopback; the proofs service is played by a caller with role service.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import grpc
import pytest
from google.protobuf import json_format

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from genproto.certfree.licenses.v1 import licenses_pb2
from runtime import sdjwt
from runtime.holders import uscc_check_character
from services.licenses import proof_answer
from tests import test_licenses
from tests.conftest import HOUSING_BUREAU, MARKET_REGULATION, caller
from tests.test_licenses import COMPANY, Running, checks

running = test_licenses.running  # the fixture: a real stack on the session's store

REQUEST_SHA256 = hashlib.sha256(b"proof request PR-2026-0001").digest()
SERVICE = caller(MARKET_REGULATION, "service")
UNLISTED = "91350100M000100Y4" + uscc_check_character("91350100M000100Y4")


def sign_request(**changes: object) -> licenses_pb2.SignProofAnswerRequest:
    """The market regulator confirms that COMPANY holds a valid business license."""
    fields: dict[str, Any] = {
        "proof_item_code": "FQ-ZM-0007",
        "request_id": "PR-2026-0001",
        "request_sha256": REQUEST_SHA256,
        "case_reference": "FQ-2026-0001",
        "outcome": "confirmed",
        "holder": common_pb2.HolderRef(uscc=COMPANY),
    }
    request = licenses_pb2.SignProofAnswerRequest(**{**fields, **changes})
    request.claims.update({"license_status": "valid", "registered_capital": "100万元人民币"})
    return request


async def verify(running: Running, sd_jwt: str, receipt: str = "") -> Any:
    """VerifyLicense as a clerk of another department."""
    return await running.licenses.VerifyLicense(
        licenses_pb2.VerifyLicenseRequest(sd_jwt=sd_jwt, ledger_receipt=receipt),
        metadata=caller(HOUSING_BUREAU, "clerk"),
    )


def detail(response: licenses_pb2.VerifyLicenseResponse, check: int) -> str:
    """One check's detail."""
    return next(c.detail for c in response.checks if c.check == check)


class TestSign:
    """The answer is an SD-JWT VC of the answering department, bound to one request."""

    async def test_signed_answer_verifies(self, running: Running) -> None:
        """Every check passes; status and (without a receipt) ledger do not apply."""
        signed = await running.licenses.SignProofAnswer(sign_request(), metadata=SERVICE)
        issuer_jwt = signed.sd_jwt.split("~", 1)[0]
        assert signed.sd_jwt_sha256 == hashlib.sha256(issuer_jwt.encode()).digest()
        payload = json.loads(base64.urlsafe_b64decode(issuer_jwt.split(".")[1] + "=="))
        assert payload["vct"] == proof_answer.VCT == "urn:certfree:proof-answer:v1"
        assert payload["iss"] == MARKET_REGULATION and "status" not in payload
        assert payload["exp"] - payload["iat"] == 30 * 86400
        assert payload["request_sha256"] == base64.urlsafe_b64encode(REQUEST_SHA256).decode()[:-1]
        assert {payload["case_reference"], payload["outcome"]} == {"FQ-2026-0001", "confirmed"}
        assert COMPANY not in issuer_jwt  # the holder is only in a disclosure

        verified = await verify(running, signed.sd_jwt)
        assert verified.valid, checks(verified)
        assert verified.key_id == signed.key_id and verified.vct == proof_answer.VCT
        assert checks(verified)["STATUS"] == "NOT_APPLICABLE"
        assert checks(verified)["LEDGER_INCLUSION"] == "NOT_APPLICABLE"
        assert "checked by the proofs service" in detail(
            verified, licenses_pb2.VERIFICATION_CHECK_ISSUER_AUTHORITY
        )
        assert json_format.MessageToDict(verified.disclosed_claims)["holder"] == {"uscc": COMPANY}

    async def test_answer_attested_by_the_proofs_service_proves_inclusion(
        self, running: Running
    ) -> None:
        """Attested as proof_answered (as the proofs service does), its receipt passes."""
        signed = await running.licenses.SignProofAnswer(
            sign_request(valid_for={"seconds": 3600}), metadata=SERVICE
        )
        async with grpc.aio.insecure_channel(running.stack.addresses()["ledger"]) as channel:
            ledger = ledger_pb2_grpc.LedgerServiceStub(channel)
            appended = await ledger.Append(
                ledger_pb2.AppendRequest(
                    attestation=ledger_pb2.Attestation(
                        artefact_sha256=signed.sd_jwt_sha256,
                        kind=ledger_pb2.ATTESTATION_KIND_PROOF_ANSWERED,
                        issuer_department=MARKET_REGULATION,
                        artefact_id="proof-answer:PR-2026-0001",
                    )
                ),
                metadata=SERVICE,
            )
            receipt = await ledger.GetReceipt(
                ledger_pb2.GetReceiptRequest(index=appended.entry.index), metadata=SERVICE
            )
        verified = await verify(running, signed.sd_jwt, receipt.tlog_proof)
        assert verified.valid, checks(verified)
        assert checks(verified)["LEDGER_INCLUSION"] == "PASSED"
        assert verified.ledger_index == appended.entry.index

    async def test_tampered_claims_fail_naming_the_check(self, running: Running) -> None:
        """A changed clear claim breaks the signature; a changed disclosure its digest."""
        signed = await running.licenses.SignProofAnswer(sign_request(), metadata=SERVICE)
        issuer_jwt, *disclosures = signed.sd_jwt.split("~")
        header, body, signature = issuer_jwt.split(".")
        payload = json.loads(base64.urlsafe_b64decode(body + "=="))
        payload["outcome"] = "denied"
        forged_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
        forged = "~".join([f"{header}.{forged_body}.{signature}", *disclosures])
        verified = await verify(running, forged)
        assert not verified.valid and checks(verified)["SIGNATURE"] == "FAILED"

        swapped = sdjwt.encode_disclosure("c2FsdHNhbHRzYWx0c2FsdA", "license_status", "revoked")
        kept = [d for d in disclosures if d and "license_status" not in _decoded(d)]
        verified = await verify(running, "~".join([issuer_jwt, *kept, swapped, ""]))
        assert not verified.valid and checks(verified)["DISCLOSURES"] == "FAILED"
        assert "digest is not in the signed _sd" in detail(
            verified, licenses_pb2.VERIFICATION_CHECK_DISCLOSURES
        )


class TestRefusals:
    """Only a service signs, for a department of the catalogue, a well-formed answer."""

    async def test_wrong_role_is_permission_denied(self, running: Running) -> None:
        """An issuer or a clerk may not sign proof answers."""
        for role in ("issuer", "clerk"):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await running.licenses.SignProofAnswer(
                    sign_request(), metadata=caller(MARKET_REGULATION, role)
                )
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

    async def test_unknown_department_is_permission_denied(self, running: Running) -> None:
        """A department outside the catalogue has no key to sign with."""
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await running.licenses.SignProofAnswer(
                sign_request(), metadata=caller(UNLISTED, "service")
            )
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

    async def test_bad_holder_and_reserved_claim_are_invalid(self, running: Running) -> None:
        """A wrong check character; a claim named like one the answer sets itself."""
        wrong = "0" if COMPANY[-1] != "0" else "1"
        bad = sign_request(holder=common_pb2.HolderRef(uscc=COMPANY[:-1] + wrong))
        reserved = sign_request()
        reserved.claims.update({"outcome": "denied"})
        for request in (bad, reserved):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await running.licenses.SignProofAnswer(request, metadata=SERVICE)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert COMPANY not in (refused.value.details() or "")


def _decoded(disclosure: str) -> str:
    return base64.urlsafe_b64decode(disclosure + "=" * (-len(disclosure) % 4)).decode()
