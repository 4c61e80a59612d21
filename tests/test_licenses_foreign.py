"""Verification outside the issuing deployment (跨省通办): deployment B verifies A's licenses.

Two real stacks on loopback, each with its own store (A on the session's server, B on
an embedded Valkey in its own data directory) and its own ledger and log key. B knows
A only through its trust file, written from what A publishes: the department's JWK Set
(A's gateway JWKS route), the log's verifier key and A's public URL.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from certfree.stack import Stack
from genproto.certfree.licenses.v1 import licenses_pb2, licenses_pb2_grpc
from runtime.config import ConfigError, Settings
from runtime.tlog.note import Signer
from services.licenses.trust import TrustError, parse_trust
from tests.conftest import HOUSING_BUREAU, MARKET_REGULATION, caller
from tests.test_licenses import BUSINESS_LICENSE, checks, issue_request
from tests.test_licenses_proof_answers import SERVICE, sign_request

A_URL = "https://zwfw.quanzhou.example"


@dataclasses.dataclass
class Two:
    """Deployment A (issues) and deployment B (verifies), each a stub to its licenses."""

    a: licenses_pb2_grpc.LicenseServiceStub
    b: licenses_pb2_grpc.LicenseServiceStub
    license: licenses_pb2.License
    """A license A issued before B started."""
    status_token: str
    """A's Status List Token for that license, as B's caller fetched it from A."""


async def publication(
    a: licenses_pb2_grpc.LicenseServiceStub, settings: Settings
) -> dict[str, object]:
    """A's trust entry, from what A publishes (its JWKS route and its log's verifier key)."""
    jwks = await a.GetIssuerJwks(
        licenses_pb2.GetIssuerJwksRequest(department_code=MARKET_REGULATION), metadata=caller()
    )
    log_key = Signer.from_key_string(settings.ledger_key_path.read_text().strip()).verifier()
    return {
        "name": "quanzhou",
        "public_url": A_URL,
        "ledger_verifier_key": log_key.key_string(),
        "departments": [
            {
                "code": MARKET_REGULATION,
                "license_types": [BUSINESS_LICENSE],
                "jwks": json.loads(jwks.data),
            }
        ],
    }


async def status_token(a: licenses_pb2_grpc.LicenseServiceStub) -> str:
    """A's current Status List Token for the market regulator's first list."""
    body = await a.GetStatusListToken(
        licenses_pb2.GetStatusListRequest(department_code=MARKET_REGULATION, list_number=1),
        metadata=caller(),
    )
    return bytes(body.data).decode()


@pytest.fixture
async def two(settings: Settings, redis_url: str, tmp_path: Path) -> AsyncIterator[Two]:
    """A on the session's store; B, trusting A, on its own embedded store."""
    a_settings = dataclasses.replace(
        settings, redis_url=redis_url, public_url=A_URL, ledger_origin="quanzhou.example/ledger"
    )
    a_stack = await Stack.start(a_settings, insecure_dev=True)
    try:
        async with grpc.aio.insecure_channel(a_stack.addresses()["licenses"]) as a_channel:
            a = licenses_pb2_grpc.LicenseServiceStub(a_channel)
            license = (await a.IssueLicense(issue_request(), metadata=caller())).license
            trust_file = tmp_path / "trust.yaml"
            trust_file.write_text(
                json.dumps({"deployments": [await publication(a, a_settings)]}, indent=2)
            )
            b_settings = dataclasses.replace(
                settings,
                data_dir=tmp_path / "b",
                redis_url="",
                trusted_deployments_file=trust_file,
            )
            b_stack = await Stack.start(b_settings, insecure_dev=True)
            try:
                async with grpc.aio.insecure_channel(b_stack.addresses()["licenses"]) as b_channel:
                    b = licenses_pb2_grpc.LicenseServiceStub(b_channel)
                    yield Two(a, b, license, await status_token(a))
            finally:
                await b_stack.stop()
    finally:
        await a_stack.stop()


async def verify_on_b(
    two: Two, sd_jwt: str, *, receipt: str = "", token: str = ""
) -> licenses_pb2.VerifyLicenseResponse:
    """VerifyLicense on B, as one of B's clerks."""
    response: licenses_pb2.VerifyLicenseResponse = await two.b.VerifyLicense(
        licenses_pb2.VerifyLicenseRequest(
            sd_jwt=sd_jwt, ledger_receipt=receipt, status_list_token=token
        ),
        metadata=caller(HOUSING_BUREAU, "clerk"),
    )
    return response


def detail(response: licenses_pb2.VerifyLicenseResponse, name: str) -> str:
    """One check's detail, by its short name."""
    check = licenses_pb2.VerificationCheck.Value(f"VERIFICATION_CHECK_{name}")
    return next(c.detail for c in response.checks if c.check == check)


class TestForeignLicense:
    """B verifies A's license with A's key, A's log key and A's status list token."""

    async def test_license_of_a_verifies_on_b(self, two: Two) -> None:
        """Signature, authority, window, status from the token, inclusion from the receipt."""
        verified = await verify_on_b(
            two, two.license.sd_jwt, receipt=two.license.ledger_receipt, token=two.status_token
        )
        assert verified.valid, checks(verified)
        assert set(checks(verified).values()) == {"PASSED"}
        assert verified.ledger_index == two.license.ledger_index
        assert verified.status == licenses_pb2.LICENSE_STATUS_VALID
        assert "quanzhou" in detail(verified, "ISSUER_AUTHORITY")

    async def test_without_token_and_receipt_it_is_not_valid(self, two: Two) -> None:
        """B never fetches: no token leaves status undecided; no receipt fails inclusion."""
        verified = await verify_on_b(two, two.license.sd_jwt)
        assert not verified.valid
        assert checks(verified)["SIGNATURE"] == "PASSED"
        assert checks(verified)["STATUS"] == "UNAVAILABLE"
        assert "status_list_token" in detail(verified, "STATUS")
        assert checks(verified)["LEDGER_INCLUSION"] == "FAILED"
        assert "ledger_receipt" in detail(verified, "LEDGER_INCLUSION")

    async def test_revocation_on_a_reaches_b_through_the_token(self, two: Two) -> None:
        """A revokes; with A's fresh token B sees it, with the stale one B does not."""
        await two.a.ChangeLicenseStatus(
            licenses_pb2.ChangeLicenseStatusRequest(
                license_id=two.license.license_id,
                status=licenses_pb2.LICENSE_STATUS_REVOKED,
                reason="obtained by fraud",
            ),
            metadata=caller(),
        )
        fresh = await status_token(two.a)
        verified = await verify_on_b(
            two, two.license.sd_jwt, receipt=two.license.ledger_receipt, token=fresh
        )
        assert checks(verified)["STATUS"] == "FAILED"
        assert "REVOKED" in detail(verified, "STATUS")

    async def test_receipt_of_another_license_of_a_fails(self, two: Two) -> None:
        """A genuine receipt of A's log, but for another artefact."""
        other = await two.a.IssueLicense(
            issue_request("second", address="福建省泉州市示例路9号"), metadata=caller()
        )
        verified = await verify_on_b(
            two, two.license.sd_jwt, receipt=other.license.ledger_receipt, token=two.status_token
        )
        assert checks(verified)["LEDGER_INCLUSION"] == "FAILED"
        assert "another artefact" in detail(verified, "LEDGER_INCLUSION")

    async def test_forged_status_token_fails(self, two: Two) -> None:
        """A token not signed by a key in A's trusted JWK Set."""
        header, payload, _ = two.status_token.split(".")
        verified = await verify_on_b(
            two,
            two.license.sd_jwt,
            receipt=two.license.ledger_receipt,
            token=f"{header}.{payload}.AAAA",
        )
        assert checks(verified)["STATUS"] == "FAILED"
        assert "status list token" in detail(verified, "STATUS")


class TestForeignProofAnswer:
    """A proof answer signed on A verifies on B."""

    async def test_answer_of_a_verifies_on_b(self, two: Two) -> None:
        """Its department is trusted as one of A's; status and ledger do not apply."""
        signed = await two.a.SignProofAnswer(sign_request(), metadata=SERVICE)
        verified = await verify_on_b(two, signed.sd_jwt)
        assert verified.valid, checks(verified)
        assert "quanzhou" in detail(verified, "ISSUER_AUTHORITY")


class TestTrustFile:
    """A wrong trust file stops start-up, naming the setting and the entry."""

    def test_private_log_key_is_refused(self, settings: Settings, tmp_path: Path) -> None:
        """The log's PRIVATE key where its verifier key belongs."""
        import services.licenses

        trust_file = tmp_path / "trust.yaml"
        private = Signer.generate("quanzhou.example/ledger").key_string()
        trust_file.write_text(f"ledger_verifier_key: {private}\n")
        with pytest.raises(ConfigError, match=r"CERTFREE_TRUSTED_DEPLOYMENTS_FILE: .*PRIVATE"):
            services.licenses.registrations(
                dataclasses.replace(settings, trusted_deployments_file=trust_file),
                None,  # type: ignore[arg-type]
            )

    @pytest.mark.parametrize(
        ("document", "message"),
        [
            ({"deployments": [{"name": "x"}]}, "public_url"),
            ({"surprise": 1}, "unknown top-level"),
            (
                {
                    "deployments": [
                        {
                            "name": "x",
                            "public_url": "https://x.example",
                            "ledger_verifier_key": Signer.generate("x/log").verifier().key_string(),
                            "departments": [{"code": MARKET_REGULATION[:-1] + "0", "jwks": {}}],
                        }
                    ]
                },
                "check character|JWK Set",
            ),
        ],
    )
    def test_mistakes_name_the_entry(self, document: object, message: str) -> None:
        """Each mistake is a TrustError saying where."""
        with pytest.raises(TrustError, match=message):
            parse_trust(document)
