"""LEDGER_INCLUSION proves a receipt, and a key's compromise keeps its reason, actor and time.

Real stack on loopback (the `running` fixture of tests/test_licenses.py): receipts are
the ledger's own C2SP tlog-proofs, changed only in the one part each test breaks.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from genproto.certfree.licenses.v1 import licenses_pb2
from runtime.tlog.note import Signer, parse_note, sign_note
from runtime.tlog.receipt import Receipt
from services.licenses.keys import jwk_sha256
from tests import test_licenses
from tests.conftest import HOUSING_BUREAU, MARKET_REGULATION, caller
from tests.test_licenses import Running, checks, issue_request

running = test_licenses.running  # the fixture: a real stack on the session's store

LEDGER = "LEDGER_INCLUSION"


def ledger_detail(response: licenses_pb2.VerifyLicenseResponse) -> str:
    """The LEDGER_INCLUSION check's detail."""
    (found,) = [
        c for c in response.checks if c.check == licenses_pb2.VERIFICATION_CHECK_LEDGER_INCLUSION
    ]
    return found.detail


async def issue_two(running: Running) -> tuple[licenses_pb2.License, licenses_pb2.License]:
    """Two licenses of one holder, each attested with its receipt."""
    first = await running.licenses.IssueLicense(issue_request("receipt-1"), metadata=caller())
    second = await running.licenses.IssueLicense(
        issue_request("receipt-2", address="福建省福清市示例路2号"), metadata=caller()
    )
    return first.license, second.license


async def verify(
    running: Running, license: licenses_pb2.License, receipt: str
) -> licenses_pb2.VerifyLicenseResponse:
    """VerifyLicense of the license's SD-JWT with the given receipt, as another department."""
    response: licenses_pb2.VerifyLicenseResponse = await running.licenses.VerifyLicense(
        licenses_pb2.VerifyLicenseRequest(sd_jwt=license.sd_jwt, ledger_receipt=receipt),
        metadata=caller(HOUSING_BUREAU, "clerk"),
    )
    return response


class TestLedgerInclusion:
    """The receipt of this exact issuer-signed JWT, proven against the log's verifier key."""

    async def test_own_receipt_passes_with_its_index(self, running: Running) -> None:
        """The stored receipt (implicit) and the same receipt passed explicitly both prove it."""
        license, _ = await issue_two(running)
        for receipt in ("", license.ledger_receipt):
            verified = await verify(running, license, receipt)
            assert verified.valid, checks(verified)
            assert verified.ledger_index == license.ledger_index

    async def test_receipt_of_another_artefact_fails(self, running: Running) -> None:
        """A genuine receipt, but of the other license: it attests another artefact."""
        first, second = await issue_two(running)
        verified = await verify(running, first, second.ledger_receipt)
        assert not verified.valid and checks(verified)[LEDGER] == "FAILED"
        assert "another artefact" in ledger_detail(verified)

    async def test_tampered_audit_path_fails(self, running: Running) -> None:
        """One hash of the inclusion proof changed: the path no longer reaches the root."""
        _, second = await issue_two(running)
        receipt = Receipt.from_text(second.ledger_receipt)
        assert receipt.proof, "the second license's entry has siblings in the tree"
        broken = bytes([receipt.proof[0][0] ^ 1]) + receipt.proof[0][1:]
        tampered = dataclasses.replace(receipt, proof=(broken, *receipt.proof[1:])).to_text()
        verified = await verify(running, second, tampered)
        assert not verified.valid and checks(verified)[LEDGER] == "FAILED"
        assert "audit path" in ledger_detail(verified)

    async def test_checkpoint_signed_by_another_key_fails(self, running: Running) -> None:
        """The same checkpoint re-signed by a key of the same name that is not the log's."""
        license, _ = await issue_two(running)
        receipt = Receipt.from_text(license.ledger_receipt)
        body = parse_note(receipt.checkpoint_note).text
        impostor = Signer.generate(running.stack.settings.ledger_origin)
        forged = dataclasses.replace(receipt, checkpoint_note=sign_note(body, impostor))
        verified = await verify(running, license, forged.to_text())
        assert not verified.valid and checks(verified)[LEDGER] == "FAILED"
        assert "not signed by the log key" in ledger_detail(verified)

    async def test_garbage_receipt_fails_naming_the_format(self, running: Running) -> None:
        """Text that is no tlog-proof."""
        license, _ = await issue_two(running)
        verified = await verify(running, license, "not a receipt")
        assert checks(verified)[LEDGER] == "FAILED"
        assert "not a C2SP tlog-proof" in ledger_detail(verified)


class TestCompromise:
    """MarkIssuerKeyCompromised keeps why, who and when, and attests the changed record."""

    async def test_reason_actor_and_time_are_kept_and_attested(self, running: Running) -> None:
        """ListIssuerKeys shows them; the JWKS drops the key; the ledger has the new record."""
        await running.licenses.IssueLicense(issue_request(), metadata=caller())
        listed = await running.licenses.ListIssuerKeys(
            licenses_pb2.ListIssuerKeysRequest(department_code=MARKET_REGULATION),
            metadata=caller(),
        )
        key_id = listed.keys[0].key_id
        request = licenses_pb2.MarkIssuerKeyCompromisedRequest(
            department_code=MARKET_REGULATION,
            key_id=key_id,
            reason="key file copied off the signing host",
        )
        request.compromised_since.FromDatetime(datetime.now(UTC) - timedelta(hours=1))
        before = datetime.now(UTC).replace(microsecond=0)
        marked = await running.licenses.MarkIssuerKeyCompromised(
            request,
            metadata=(*caller(MARKET_REGULATION, "operator"), ("x-certfree-subject", "ops-7")),
        )
        key = marked.key
        assert key.state == licenses_pb2.KEY_STATE_COMPROMISED
        assert key.compromise_reason == "key file copied off the signing host"
        assert key.compromise_marked_by.department_code == MARKET_REGULATION
        assert key.compromise_marked_by.subject == "ops-7"
        assert key.compromise_marked_at.ToDatetime(UTC) >= before
        assert key.HasField("ledger_index")

        (shown,) = [
            k
            for k in (
                await running.licenses.ListIssuerKeys(
                    licenses_pb2.ListIssuerKeysRequest(department_code=MARKET_REGULATION),
                    metadata=caller(),
                )
            ).keys
            if k.key_id == key_id
        ]
        assert shown == key
        with pytest.raises(grpc.aio.AioRpcError) as gone:
            await running.licenses.GetIssuerJwks(
                licenses_pb2.GetIssuerJwksRequest(department_code=MARKET_REGULATION),
                metadata=caller(),
            )
        assert gone.value.code() == grpc.StatusCode.NOT_FOUND  # its only key left the JWKS

        async with grpc.aio.insecure_channel(running.stack.addresses()["ledger"]) as channel:
            entry = await ledger_pb2_grpc.LedgerServiceStub(channel).LookupEntry(
                ledger_pb2.LookupEntryRequest(
                    artefact_sha256=jwk_sha256(key),
                    kind=ledger_pb2.ATTESTATION_KIND_KEY_PUBLISHED,
                ),
                metadata=caller(MARKET_REGULATION, "auditor"),
            )
        assert entry.index == key.ledger_index

    async def test_only_an_operator_marks(self, running: Running) -> None:
        """An issuer may not distrust its own key."""
        await running.licenses.IssueLicense(issue_request(), metadata=caller())
        listed = await running.licenses.ListIssuerKeys(
            licenses_pb2.ListIssuerKeysRequest(department_code=MARKET_REGULATION),
            metadata=caller(),
        )
        request = licenses_pb2.MarkIssuerKeyCompromisedRequest(
            department_code=MARKET_REGULATION, key_id=listed.keys[0].key_id, reason="lost"
        )
        request.compromised_since.GetCurrentTime()
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await running.licenses.MarkIssuerKeyCompromised(request, metadata=caller())
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
