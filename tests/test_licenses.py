"""The licenses service end to end: real stack (store, ledger, licenses, gateway) on loopback."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format

from certfree.stack import Stack
from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.licenses.v1 import licenses_pb2, licenses_pb2_grpc
from runtime.config import Settings
from runtime.holders import uscc_check_character
from runtime.signing import public_key_from_jwk
from services.licenses.status_list import check_token_claims
from tests.conftest import HOUSING_BUREAU, MARKET_REGULATION, caller

BUSINESS_LICENSE = "11100000000013127D001"
COMPANY = "91350181MA2XYW012" + uscc_check_character("91350181MA2XYW012")
CLAIMS = {
    "name": "福清市示例贸易有限公司",
    "type": "有限责任公司",
    "legal_representative": "林某",
    "registered_capital": "100万元人民币",
    "established_on": "2024-03-01",
    "business_scope": "日用百货销售",
    "address": "福建省福清市示例路1号",
}
PURPOSE = common_pb2.AccessPurpose(purpose="business registration", case_reference="FQ-2026-0001")
CHECK = licenses_pb2.VerificationCheck


@dataclasses.dataclass
class Running:
    """The stack and a channel to the licenses service."""

    stack: Stack
    licenses: licenses_pb2_grpc.LicenseServiceStub
    catalog: licenses_pb2_grpc.LicenseCatalogServiceStub


@pytest.fixture
async def running(settings: Settings, redis_url: str) -> AsyncIterator[Running]:
    """certfree with the real store of the test session, every port 0."""
    stack = await Stack.start(dataclasses.replace(settings, redis_url=redis_url), insecure_dev=True)
    try:
        async with grpc.aio.insecure_channel(stack.addresses()["licenses"]) as channel:
            yield Running(
                stack,
                licenses_pb2_grpc.LicenseServiceStub(channel),
                licenses_pb2_grpc.LicenseCatalogServiceStub(channel),
            )
    finally:
        await stack.stop()


def issue_request(request_id: str = "req-1", **claims: Any) -> licenses_pb2.IssueLicenseRequest:
    """A business license for COMPANY."""
    request = licenses_pb2.IssueLicenseRequest(
        request_id=request_id,
        license_type_code=BUSINESS_LICENSE,
        holder=common_pb2.HolderRef(uscc=COMPANY),
    )
    request.claims.update({**CLAIMS, **claims})
    return request


def checks(response: licenses_pb2.VerifyLicenseResponse) -> dict[str, str]:
    """Check name -> outcome name, for readable asserts."""
    return {
        CHECK.Name(c.check).removeprefix("VERIFICATION_CHECK_"): licenses_pb2.CheckOutcome.Name(
            c.outcome
        ).removeprefix("CHECK_OUTCOME_")
        for c in response.checks
    }


def consent() -> common_pb2.HolderConsent:
    """Consent given at the window by the holder's legal representative, ID checked."""
    given = common_pb2.HolderConsent(
        given_by=common_pb2.CONSENT_GIVER_LEGAL_REPRESENTATIVE,
        agent=common_pb2.HolderRef(resident_id="11010519491231002X"),
        method=common_pb2.CONSENT_METHOD_AT_WINDOW_ID_CHECKED,
    )
    given.given_at.GetCurrentTime()
    return given


class TestIssue:
    """A department issues only what its authority grants; issuance is idempotent and attested."""

    async def test_issue_signs_attests_and_verifies(self, running: Running) -> None:
        """The issued SD-JWT passes every check, including ledger inclusion."""
        issued = await running.licenses.IssueLicense(issue_request(), metadata=caller())
        license = issued.license
        assert license.license_id.startswith(
            f"1.2.156.3005.2.{BUSINESS_LICENSE}.{MARKET_REGULATION}."
        )
        assert license.HasField("ledger_index") and license.ledger_receipt
        verified = await running.licenses.VerifyLicense(
            licenses_pb2.VerifyLicenseRequest(sd_jwt=license.sd_jwt),
            metadata=caller(HOUSING_BUREAU, "clerk"),
        )
        assert verified.valid, checks(verified)
        assert set(checks(verified).values()) == {"PASSED"}
        assert verified.ledger_index == license.ledger_index
        assert json_format.MessageToDict(verified.disclosed_claims) == CLAIMS

    async def test_retry_returns_the_original(self, running: Running) -> None:
        """The same request id and content: the same license, no second one."""
        first = await running.licenses.IssueLicense(issue_request(), metadata=caller())
        again = await running.licenses.IssueLicense(issue_request(), metadata=caller())
        assert again.duplicate and again.license.license_id == first.license.license_id
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await running.licenses.IssueLicense(
                issue_request(address="另一个地址"), metadata=caller()
            )
        assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS

    async def test_outside_authority_is_refused(self, running: Running) -> None:
        """The housing bureau is not granted the business license."""
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await running.licenses.IssueLicense(issue_request(), metadata=caller(HOUSING_BUREAU))
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "not granted" in (refused.value.details() or "")

    async def test_bad_holder_and_claims_name_the_field(self, running: Running) -> None:
        """A wrong USCC check character and a claim outside the schema: INVALID_ARGUMENT."""
        request = issue_request()
        request.holder.uscc = COMPANY[:-1] + ("0" if COMPANY[-1] != "0" else "1")
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await running.licenses.IssueLicense(request, metadata=caller())
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "check character" in (refused.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await running.licenses.IssueLicense(
                issue_request("req-2", shoe_size=42), metadata=caller()
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


class TestPresent:
    """A presentation discloses exactly the requested claims."""

    async def test_presentation_reveals_only_what_was_asked(self, running: Running) -> None:
        """The verifier sees the name and nothing else; the access is recorded."""
        license = (await running.licenses.IssueLicense(issue_request(), metadata=caller())).license
        presented = await running.licenses.PresentLicense(
            licenses_pb2.PresentLicenseRequest(
                license_id=license.license_id,
                audience_department=HOUSING_BUREAU,
                disclose=["name"],
                consent=consent(),
                purpose=PURPOSE,
            ),
            metadata=caller(HOUSING_BUREAU, "clerk"),
        )
        for secret in ("林某", "日用百货销售", "示例路"):
            assert secret not in presented.presentation
            for part in presented.presentation.replace(".", "~").split("~"):
                padded = part + "=" * (-len(part) % 4)
                with contextlib.suppress(ValueError):
                    assert secret not in base64.urlsafe_b64decode(padded).decode("utf-8", "replace")
        verified = await running.licenses.VerifyLicense(
            licenses_pb2.VerifyLicenseRequest(sd_jwt=presented.presentation),
            metadata=caller(HOUSING_BUREAU, "clerk"),
        )
        assert verified.valid, checks(verified)
        assert json_format.MessageToDict(verified.disclosed_claims) == {"name": CLAIMS["name"]}
        accesses = await running.licenses.ListLicenseAccesses(
            licenses_pb2.ListLicenseAccessesRequest(
                holder=common_pb2.HolderRef(uscc=COMPANY), purpose=PURPOSE
            ),
            metadata=caller(HOUSING_BUREAU, "auditor"),
        )
        (access,) = accesses.accesses
        assert access.kind == licenses_pb2.ACCESS_KIND_PRESENTATION
        assert list(access.disclosed_claims) == ["name"]
        assert access.purpose.case_reference == PURPOSE.case_reference


class TestStatus:
    """Status changes follow the GB/T rules, reach the status list, and fail verification."""

    async def test_revoked_license_fails_verification(self, running: Running) -> None:
        """Suspend, reinstate, revoke: revoked is final and the status check fails."""
        license = (await running.licenses.IssueLicense(issue_request(), metadata=caller())).license

        async def change(
            status: int, request_id: str = ""
        ) -> licenses_pb2.ChangeLicenseStatusResponse:
            return await running.licenses.ChangeLicenseStatus(
                licenses_pb2.ChangeLicenseStatusRequest(
                    license_id=license.license_id,
                    status=status,  # type: ignore[arg-type]
                    reason="inspection",
                    request_id=request_id,
                ),
                metadata=caller(),
            )

        await change(licenses_pb2.LICENSE_STATUS_SUSPENDED)
        await change(licenses_pb2.LICENSE_STATUS_VALID)
        revoked = await change(licenses_pb2.LICENSE_STATUS_REVOKED, "revoke-1")
        assert revoked.change.HasField("ledger_index")
        assert (await change(licenses_pb2.LICENSE_STATUS_REVOKED, "revoke-1")).duplicate
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await change(licenses_pb2.LICENSE_STATUS_VALID)
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        verified = await running.licenses.VerifyLicense(
            licenses_pb2.VerifyLicenseRequest(sd_jwt=license.sd_jwt),
            metadata=caller(HOUSING_BUREAU, "clerk"),
        )
        assert not verified.valid
        assert checks(verified)["STATUS"] == "FAILED"
        assert verified.status == licenses_pb2.LICENSE_STATUS_REVOKED

    async def test_status_list_is_signed_and_says_revoked(self, running: Running) -> None:
        """The gateway serves the signed list with caching headers; it verifies offline."""
        license = (await running.licenses.IssueLicense(issue_request(), metadata=caller())).license
        await running.licenses.ChangeLicenseStatus(
            licenses_pb2.ChangeLicenseStatusRequest(
                license_id=license.license_id,
                status=licenses_pb2.LICENSE_STATUS_REVOKED,
                reason="fraud found",
            ),
            metadata=caller(),
        )
        gateway = running.stack.addresses()["gateway"]
        path = license.status_list_uri.split("/v1/", 1)[1]
        assert path.endswith("/token")
        async with httpx.AsyncClient(base_url=gateway) as http:
            listed = await http.get(f"/v1/{path}", headers=dict(caller(HOUSING_BUREAU, "clerk")))
            jwks = await http.get(
                f"/v1/departments/{MARKET_REGULATION}/jwks.json",
                headers=dict(caller(HOUSING_BUREAU, "clerk")),
            )
        assert listed.status_code == 200, listed.text
        assert listed.headers["content-type"] == "application/statuslist+jwt"
        assert "max-age=" in listed.headers.get("cache-control", "")
        assert jwks.headers["content-type"] == "application/jwk-set+json"
        (jwk,) = jwks.json()["keys"]
        header, payload = public_key_from_jwk(jwk).verify_compact(listed.text)
        from datetime import UTC, datetime

        entries = check_token_claims(
            header, json.loads(payload), uri=license.status_list_uri, now=datetime.now(UTC)
        )
        assert entries.get(license.status_list_index) == 0x01  # INVALID: revoked


class TestKeys:
    """Rotation keeps old licenses verifying; a compromised key fails what it signed after."""

    async def test_rotation_and_compromise(self, running: Running) -> None:
        """Old license verifies after rotation; marking its key compromised fails it."""
        old = (await running.licenses.IssueLicense(issue_request(), metadata=caller())).license
        rotated = await running.licenses.RotateIssuerKey(
            licenses_pb2.RotateIssuerKeyRequest(
                department_code=MARKET_REGULATION,
                algorithm=licenses_pb2.SIGNATURE_ALGORITHM_SM2_SM3,
                request_id="rotate-1",
            ),
            metadata=caller(role="operator"),
        )
        assert rotated.previous_key.key_id == old.key_id
        assert rotated.previous_key.state == licenses_pb2.KEY_STATE_RETIRED
        assert rotated.key.HasField("ledger_index")
        new = (
            await running.licenses.IssueLicense(issue_request("req-sm2"), metadata=caller())
        ).license
        assert new.algorithm == licenses_pb2.SIGNATURE_ALGORITHM_SM2_SM3
        for license in (old, new):
            verified = await running.licenses.VerifyLicense(
                licenses_pb2.VerifyLicenseRequest(sd_jwt=license.sd_jwt), metadata=caller()
            )
            assert verified.valid, checks(verified)
        await running.licenses.MarkIssuerKeyCompromised(
            licenses_pb2.MarkIssuerKeyCompromisedRequest(
                department_code=MARKET_REGULATION,
                key_id=old.key_id,
                compromised_since=old.issued_at,
                reason="key file leaked",
            ),
            metadata=caller(role="operator"),
        )
        verified = await running.licenses.VerifyLicense(
            licenses_pb2.VerifyLicenseRequest(sd_jwt=old.sd_jwt), metadata=caller()
        )
        assert checks(verified)["ISSUER_KEY"] == "FAILED"
        assert "compromised" in verified.checks[1].detail


class TestVerifyBadInput:
    """A bad SD-JWT is a verification result naming the failed check, not an error."""

    async def test_tampered_and_malformed(self, running: Running) -> None:
        """Garbage fails FORMAT; a tampered signature fails SIGNATURE; later checks skip."""
        license = (await running.licenses.IssueLicense(issue_request(), metadata=caller())).license
        garbage = await running.licenses.VerifyLicense(
            licenses_pb2.VerifyLicenseRequest(sd_jwt="not an sd-jwt"), metadata=caller()
        )
        assert checks(garbage)["FORMAT"] == "FAILED" and checks(garbage)["STATUS"] == "SKIPPED"
        jwt, rest = license.sd_jwt.split("~", 1)
        signature = jwt.rsplit(".", 1)[1]
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
        tampered = await running.licenses.VerifyLicense(
            licenses_pb2.VerifyLicenseRequest(
                sd_jwt=jwt.rsplit(".", 1)[0] + "." + flipped + "~" + rest
            ),
            metadata=caller(),
        )
        assert checks(tampered)["SIGNATURE"] == "FAILED"
        batch = await running.licenses.BatchVerifyLicenses(
            licenses_pb2.BatchVerifyLicensesRequest(
                requests=[
                    licenses_pb2.VerifyLicenseRequest(sd_jwt=license.sd_jwt),
                    licenses_pb2.VerifyLicenseRequest(sd_jwt="x~"),
                ]
            ),
            metadata=caller(),
        )
        assert [r.valid for r in batch.results] == [True, False]


class TestAmend:
    """Amending issues the next version, linked both ways; the lookup shows the latest."""

    async def test_amend_links_versions(self, running: Running) -> None:
        """Version 002 with a new address; the intake lookup finds it, not 001."""
        first = (await running.licenses.IssueLicense(issue_request(), metadata=caller())).license
        request = licenses_pb2.AmendLicenseRequest(
            license_id=first.license_id, request_id="amend-1", reason="change of address"
        )
        request.claims.update({**CLAIMS, "address": "福建省福清市新路2号"})
        amended = await running.licenses.AmendLicense(request, metadata=caller())
        assert amended.license.version == 2
        # Same type, issuer and serial; version 002; its own check character.
        assert amended.license.license_id.split(".")[:-2] == first.license_id.split(".")[:-2]
        assert amended.license.license_id.split(".")[-2] == "002"
        assert amended.license.predecessor_id == first.license_id
        assert amended.predecessor.successor_id == amended.license.license_id
        assert amended.license.HasField("ledger_index")
        again = await running.licenses.AmendLicense(request, metadata=caller())
        assert again.duplicate and again.license.license_id == amended.license.license_id
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            request.request_id = "amend-2"
            await running.licenses.AmendLicense(request, metadata=caller())
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION

        found = await running.licenses.ListHolderLicenses(
            licenses_pb2.ListHolderLicensesRequest(
                holder=common_pb2.HolderRef(uscc=COMPANY),
                purpose=PURPOSE,
                license_type_code=BUSINESS_LICENSE,
                statuses=[licenses_pb2.LICENSE_STATUS_VALID],
            ),
            metadata=caller(HOUSING_BUREAU, "clerk"),
        )
        assert [lic.license_id for lic in found.licenses] == [amended.license.license_id]
        verified = await running.licenses.VerifyLicense(
            licenses_pb2.VerifyLicenseRequest(sd_jwt=amended.license.sd_jwt), metadata=caller()
        )
        assert verified.valid, checks(verified)
        accesses = await running.licenses.ListLicenseAccesses(
            licenses_pb2.ListLicenseAccessesRequest(
                holder=common_pb2.HolderRef(uscc=COMPANY), purpose=PURPOSE
            ),
            metadata=caller(HOUSING_BUREAU, "auditor"),
        )
        assert [a.kind for a in accesses.accesses] == [licenses_pb2.ACCESS_KIND_LOOKUP]
        assert accesses.accesses[0].department_code == HOUSING_BUREAU


class TestIndependentVerifier:
    """The reference SD-JWT implementation verifies a license issued through gRPC."""

    async def test_reference_library_verifies_issued_license(self, running: Running) -> None:
        """sd_jwt (openwallet-foundation-labs) with the JWKS from the gateway."""
        from jwcrypto.jwk import JWK
        from sd_jwt.verifier import SDJWTVerifier

        license = (await running.licenses.IssueLicense(issue_request(), metadata=caller())).license
        async with httpx.AsyncClient(base_url=running.stack.addresses()["gateway"]) as http:
            keys = await http.get(
                f"/v1/departments/{MARKET_REGULATION}/keys", headers=dict(caller(role="clerk"))
            )
        (jwk,) = [k["publicJwk"] for k in keys.json()["keys"]]
        verifier = SDJWTVerifier(
            license.sd_jwt,
            lambda issuer, header: JWK(**jwk),
            serialization_format="compact",
        )
        assert verifier.get_verified_payload()["address"] == CLAIMS["address"]


class TestRefusals:
    """Bad input: a clear error or a named failed check, and nothing written."""

    async def test_unknown_type_and_oversize_claims(self, running: Running) -> None:
        """An unknown type is NOT_FOUND; claims over 16 KiB are INVALID_ARGUMENT."""
        request = issue_request()
        request.license_type_code = "11100000000013127D999"
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await running.licenses.IssueLicense(request, metadata=caller())
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await running.licenses.IssueLicense(
                issue_request(business_scope="经营" * 6000), metadata=caller()
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        listed = await running.licenses.ListHolderLicenses(
            licenses_pb2.ListHolderLicensesRequest(
                holder=common_pb2.HolderRef(uscc=COMPANY), purpose=PURPOSE
            ),
            metadata=caller(HOUSING_BUREAU, "clerk"),
        )
        assert list(listed.licenses) == [], "nothing was written"

    async def test_future_and_expired_licenses_fail_the_window(self, running: Running) -> None:
        """A license valid from tomorrow, and one verified after its end, fail VALIDITY_WINDOW."""
        from datetime import UTC, datetime, timedelta

        request = issue_request()
        request.valid_from.FromDatetime(datetime.now(UTC) + timedelta(days=1))
        request.valid_until.FromDatetime(datetime.now(UTC) + timedelta(days=30))
        license = (await running.licenses.IssueLicense(request, metadata=caller())).license
        now = await running.licenses.VerifyLicense(
            licenses_pb2.VerifyLicenseRequest(sd_jwt=license.sd_jwt), metadata=caller()
        )
        assert checks(now)["VALIDITY_WINDOW"] == "FAILED" and not now.valid
        later = licenses_pb2.VerifyLicenseRequest(sd_jwt=license.sd_jwt)
        later.verify_at.FromDatetime(datetime.now(UTC) + timedelta(days=10))
        assert (await running.licenses.VerifyLicense(later, metadata=caller())).valid
        later.verify_at.FromDatetime(datetime.now(UTC) + timedelta(days=31))
        expired = await running.licenses.VerifyLicense(later, metadata=caller())
        assert checks(expired)["VALIDITY_WINDOW"] == "FAILED"
        assert "expired" in next(
            c.detail for c in expired.checks if c.check == CHECK.VERIFICATION_CHECK_VALIDITY_WINDOW
        )

    async def test_unknown_key_and_forged_status_list(self, running: Running) -> None:
        """A JWT naming an unpublished kid fails ISSUER_KEY; a re-signed status list fails."""
        from runtime.signing import SignatureError, generate_signer

        license = (await running.licenses.IssueLicense(issue_request(), metadata=caller())).license
        jwt, rest = license.sd_jwt.split("~", 1)
        header = json.loads(base64.urlsafe_b64decode(jwt.split(".")[0] + "=="))
        payload = base64.urlsafe_b64decode(jwt.split(".")[1] + "==")
        header.pop("alg"), header.pop("kid")
        forger = generate_signer("EdDSA", "not-published")
        forged = forger.sign_compact(header, payload) + "~" + rest
        verified = await running.licenses.VerifyLicense(
            licenses_pb2.VerifyLicenseRequest(sd_jwt=forged), metadata=caller()
        )
        assert checks(verified)["ISSUER_KEY"] == "FAILED"
        assert checks(verified)["SIGNATURE"] == "SKIPPED"

        listed = await running.licenses.GetStatusList(
            licenses_pb2.GetStatusListRequest(department_code=MARKET_REGULATION, list_number=1),
            metadata=caller(),
        )
        keys = await running.licenses.ListIssuerKeys(
            licenses_pb2.ListIssuerKeysRequest(department_code=MARKET_REGULATION),
            metadata=caller(),
        )
        issuer_key = public_key_from_jwk(json_format.MessageToDict(keys.keys[0].public_jwk))
        _, list_payload = issuer_key.verify_compact(listed.token)
        forged_list = forger.sign_compact({"typ": "statuslist+jwt"}, list_payload)
        with pytest.raises(SignatureError):
            issuer_key.verify_compact(forged_list)


class TestGateway:
    """Issue and verify through the gateway's JSON routes."""

    async def test_issue_and_verify_over_http(self, running: Running) -> None:
        """POST /v1/licenses, then POST /v1/licenses:verify."""
        body = json_format.MessageToDict(issue_request("http-1"))
        async with httpx.AsyncClient(base_url=running.stack.addresses()["gateway"]) as http:
            issued = await http.post("/v1/licenses", json=body, headers=dict(caller()))
            assert issued.status_code == 200, issued.text
            sd_jwt = issued.json()["license"]["sdJwt"]
            verified = await http.post(
                "/v1/licenses:verify",
                json={"sdJwt": sd_jwt},
                headers=dict(caller(HOUSING_BUREAU, "clerk")),
            )
            refused = await http.post(
                "/v1/licenses", json=body, headers=dict(caller(HOUSING_BUREAU))
            )
        assert verified.status_code == 200 and verified.json()["valid"] is True
        assert refused.status_code == 403


class TestLedgerDown:
    """A license issued while the ledger is down is kept, and attested on retry."""

    async def test_retry_attests_what_the_ledger_missed(self, running: Running) -> None:
        """UNAVAILABLE while the ledger is down; the same request id later finishes it."""
        import services.ledger
        from runtime.identity import DevIdentity
        from runtime.server import start_server

        stack = running.stack
        ledger = stack.servers["ledger"]
        port = ledger.port
        await ledger.stop(0)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await running.licenses.IssueLicense(issue_request("while-down"), metadata=caller())
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "retry with the same request_id" in (refused.value.details() or "")
        stack.servers["ledger"] = await start_server(
            stack.settings,
            f"127.0.0.1:{port}",
            services.ledger.registrations(stack.settings, stack.store),
            DevIdentity(),
        )
        for _ in range(100):  # a client retries UNAVAILABLE with backoff, as gRPC advises
            try:
                retried = await running.licenses.IssueLicense(
                    issue_request("while-down"), metadata=caller()
                )
                break
            except grpc.aio.AioRpcError as error:
                assert error.code() == grpc.StatusCode.UNAVAILABLE
                await asyncio.sleep(0.1)
        assert retried.duplicate and retried.license.HasField("ledger_index")
        verified = await running.licenses.VerifyLicense(
            licenses_pb2.VerifyLicenseRequest(sd_jwt=retried.license.sd_jwt), metadata=caller()
        )
        assert verified.valid, checks(verified)


class TestSeedSetting:
    """CERTFREE_CATALOG_FILE names the seed; a bad one stops start-up naming the setting."""

    def test_bad_seed_file_is_a_config_error(self, settings: Settings, tmp_path: Any) -> None:
        """A seed whose department code has a wrong check character."""
        import services.licenses
        from runtime.config import ConfigError

        seed = tmp_path / "catalog.yaml"
        seed.write_text(
            'departments:\n  - {code: "11350100MB01234566", name: x, region_code: "350100",'
            " roles: [ROLE_ISSUER]}\n"
        )
        with pytest.raises(ConfigError, match=r"CERTFREE_CATALOG_FILE: .*departments\[0\]\.code"):
            services.licenses.registrations(
                dataclasses.replace(settings, catalog_file=seed),
                None,  # type: ignore[arg-type]
            )


class TestFirstKey:
    """A department's first concurrent issuances share one key."""

    async def test_concurrent_first_issuances_make_one_key(self, running: Running) -> None:
        """Sixteen issuances at once for a department with no key yet: one key, all verify."""
        issued = await asyncio.gather(
            *(
                running.licenses.IssueLicense(issue_request(f"first-{i}"), metadata=caller())
                for i in range(16)
            )
        )
        assert len({r.license.key_id for r in issued}) == 1
        keys = await running.licenses.ListIssuerKeys(
            licenses_pb2.ListIssuerKeysRequest(department_code=MARKET_REGULATION),
            metadata=caller(),
        )
        assert len(keys.keys) == 1


class TestPaging:
    """Lists page by offset tokens; nothing is dropped, a foreign token is refused."""

    async def test_departments_page_through_whole_catalogue(self, running: Running) -> None:
        """Pages of 5 cover the 14 sample departments exactly once."""
        seen: list[str] = []
        token = ""
        while True:
            page = await running.catalog.ListDepartments(
                licenses_pb2.ListDepartmentsRequest(page_size=5, page_token=token),
                metadata=caller(),
            )
            seen += [d.code for d in page.departments]
            token = page.next_page_token
            if not token:
                break
        everything = await running.catalog.ListDepartments(
            licenses_pb2.ListDepartmentsRequest(), metadata=caller()
        )
        assert seen == [d.code for d in everything.departments] and len(seen) == 14
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await running.catalog.ListDepartments(
                licenses_pb2.ListDepartmentsRequest(page_token="abc"), metadata=caller()
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


class TestCatalogueUpsert:
    """Operators upsert departments with optimistic revisions; others may not."""

    async def test_upsert_revisions_and_roles(self, running: Running) -> None:
        """Created at revision 1, replaced at 2; a stale revision and a clerk are refused."""
        code = "11350181MB1234599" + uscc_check_character("11350181MB1234599")
        department = licenses_pb2.Department(
            code=code, name="福清市示例局", region_code="350181", roles=[common_pb2.ROLE_ISSUER]
        )
        request = licenses_pb2.UpsertDepartmentRequest(department_code=code, department=department)
        created = await running.catalog.UpsertDepartment(request, metadata=caller(role="operator"))
        assert created.created and created.department.revision == 1
        request.department.name = "福清市示例管理局"
        request.expected_revision = 1
        replaced = await running.catalog.UpsertDepartment(request, metadata=caller(role="operator"))
        assert not replaced.created and replaced.department.revision == 2
        read = await running.catalog.GetDepartment(
            licenses_pb2.GetDepartmentRequest(department_code=code), metadata=caller()
        )
        assert read.name == "福清市示例管理局" and read.revision == 2
        with pytest.raises(grpc.aio.AioRpcError) as stale:
            await running.catalog.UpsertDepartment(request, metadata=caller(role="operator"))
        assert stale.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        with pytest.raises(grpc.aio.AioRpcError) as clerk:
            await running.catalog.UpsertDepartment(request, metadata=caller(role="clerk"))
        assert clerk.value.code() == grpc.StatusCode.PERMISSION_DENIED
