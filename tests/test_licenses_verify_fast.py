"""Verification's fast paths refuse exactly what the slow paths refuse.

The split-once JWS check (`JosePublicKey.verify_signature`) against joserfc's own
`verify_compact`; base64url decoding against the re-encode rule; and, through the real
stack, that warm caches (a proven issuer-signed JWT, a parsed status reference, a
partial schema) and batched status reads never let a tampered, revoked or
compromised-key license pass.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genproto.certfree.licenses.v1 import licenses_pb2
from runtime import sdjwt
from runtime.signing import _ALG_MODELS, ALGORITHMS, SignatureError, generate_signer
from tests import test_licenses
from tests.conftest import MARKET_REGULATION, caller
from tests.test_licenses import Running, checks, issue_request

running = test_licenses.running  # the fixture: a real stack on the session's store

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64u(raw: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def with_segment(jws: str, index: int, value: str) -> str:
    """`jws` with segment `index` replaced."""
    parts = jws.split(".")
    parts[index] = value
    return ".".join(parts)


def split_check(key: Any, jws: str) -> None:
    """The fast path as sdjwt.verify_parsed drives it: decode once, then verify_signature."""
    header64, payload64, signature64 = jws.split(".")
    header = json.loads(base64.urlsafe_b64decode(header64 + "=" * (-len(header64) % 4)))
    signature = base64.urlsafe_b64decode(signature64 + "=" * (-len(signature64) % 4))
    key.verify_signature(header, f"{header64}.{payload64}".encode(), signature)


def outcome(check: Any) -> str:
    """'ok', or the SignatureError's message."""
    try:
        check()
    except SignatureError as error:
        return str(error)
    return "ok"


def signed_with_header(signer: Any, header: dict[str, Any], payload: bytes) -> str:
    """A JWS with any protected header, validly signed by `signer`'s key (joserfc's
    algorithm): so only the header rules can refuse it."""
    signing_input = f"{b64u(json.dumps(header).encode())}.{b64u(payload)}"
    signature = _ALG_MODELS[signer.alg].sign(signing_input.encode(), signer.jose_key)
    return f"{signing_input}.{b64u(signature)}"


class TestVerifySignatureAgreesWithVerifyCompact:
    """verify_signature accepts and refuses exactly the JWS that verify_compact does."""

    @pytest.mark.parametrize("alg", ALGORITHMS)
    def test_every_variant_has_the_same_outcome(self, alg: str) -> None:
        """Valid, tampered, wrong key, other alg or kid, b64, crit, oversize: same outcome."""
        signer = generate_signer(alg, "dept-1")
        public = signer.public_key()
        jws = signer.sign_compact({"typ": "dc+sd-jwt"}, b'{"iss":"dept"}')
        signature = jws.split(".")[2]
        raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
        raw[5] ^= 1
        variants = {
            "valid": jws,
            "flipped signature bit": with_segment(jws, 2, b64u(bytes(raw))),
            "short signature": with_segment(jws, 2, b64u(bytes(raw[:10]))),
            "tampered payload": with_segment(jws, 1, b64u(b'{"iss":"other"}')),
            "other key": generate_signer(alg, "dept-1").sign_compact({}, b"x"),
        }
        headers: dict[str, dict[str, Any]] = {
            "no kid": {"alg": alg},
            "other kid": {"alg": alg, "kid": "dept-2"},
            "other alg": {"alg": "HS256", "kid": "dept-1"},
            "no alg": {"kid": "dept-1"},
            "b64": {"alg": alg, "b64": False, "crit": ["b64"]},
            "unknown crit": {"alg": alg, "crit": ["x"], "x": 1},
            "crit names a missing header": {"alg": alg, "crit": ["x"]},
            "oversize header": {"alg": alg, "pad": "p" * 600},
        }
        for name, header in headers.items():
            variants[name] = signed_with_header(signer, header, b'{"iss":"dept"}')
        for name, variant in variants.items():
            slow = outcome(lambda v=variant: public.verify_compact(v))
            fast = outcome(lambda v=variant: split_check(public, v))
            assert (slow == "ok") == (fast == "ok"), name
            assert (name in ("valid", "no kid")) == (fast == "ok"), name
        assert "does not verify" in outcome(lambda: split_check(public, variants["other key"]))


class TestBase64url:
    """The canonical-last-character rule refuses what re-encoding would refuse."""

    @given(st.binary(max_size=64))
    def test_every_encoding_decodes(self, raw: bytes) -> None:
        """What base64url encodes, _b64decode gives back."""
        assert sdjwt._b64decode(b64u(raw), "x") == raw

    @given(st.text(alphabet=ALPHABET, max_size=24))
    def test_accepted_iff_canonical(self, text: str) -> None:
        """Text in the alphabet is accepted exactly when it re-encodes to itself."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            canonical = len(text) % 4 != 1 and b64u(raw) == text
        except ValueError:
            canonical = False
        try:
            sdjwt._b64decode(text, "x")
            accepted = True
        except sdjwt.FormatError:
            accepted = False
        assert accepted == canonical


async def verify(running: Running, sd_jwt: str) -> licenses_pb2.VerifyLicenseResponse:
    """VerifyLicense as a clerk."""
    response: licenses_pb2.VerifyLicenseResponse = await running.licenses.VerifyLicense(
        licenses_pb2.VerifyLicenseRequest(sd_jwt=sd_jwt), metadata=caller()
    )
    return response


class TestWarmCachesStillRefuse:
    """After a license verified once (every cache warm), what changed since still fails."""

    async def test_tampered_signature_fails_after_a_warm_verify(self, running: Running) -> None:
        """The proven-JWT cache never stands in for the signature: a flipped bit fails it."""
        license = (await running.licenses.IssueLicense(issue_request(), metadata=caller())).license
        assert (await verify(running, license.sd_jwt)).valid
        jwt, rest = license.sd_jwt.split("~", 1)
        signed, signature = jwt.rsplit(".", 1)
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
        tampered = await verify(running, f"{signed}.{flipped}~{rest}")
        assert checks(tampered)["SIGNATURE"] == "FAILED"
        assert checks(tampered)["LEDGER_INCLUSION"] == "SKIPPED"
        assert not tampered.valid

    async def test_compromised_key_fails_after_a_warm_verify(self, running: Running) -> None:
        """Marking the key compromised from before issuance fails ISSUER_KEY at once."""
        license = (await running.licenses.IssueLicense(issue_request(), metadata=caller())).license
        assert (await verify(running, license.sd_jwt)).valid
        await running.licenses.MarkIssuerKeyCompromised(
            licenses_pb2.MarkIssuerKeyCompromisedRequest(
                department_code=MARKET_REGULATION,
                key_id=license.key_id,
                compromised_since=license.issued_at,
                reason="key file leaked",
            ),
            metadata=caller(role="operator"),
        )
        verified = await verify(running, license.sd_jwt)
        assert checks(verified)["ISSUER_KEY"] == "FAILED"
        assert not verified.valid

    async def test_revocation_shows_after_a_warm_verify(self, running: Running) -> None:
        """Status is read on every verify, never cached: a revocation shows at once."""
        license = (await running.licenses.IssueLicense(issue_request(), metadata=caller())).license
        assert (await verify(running, license.sd_jwt)).valid
        await running.licenses.ChangeLicenseStatus(
            licenses_pb2.ChangeLicenseStatusRequest(
                license_id=license.license_id,
                status=licenses_pb2.LICENSE_STATUS_REVOKED,
                reason="fraud found",
            ),
            metadata=caller(),
        )
        verified = await verify(running, license.sd_jwt)
        assert checks(verified)["STATUS"] == "FAILED"
        assert verified.status == licenses_pb2.LICENSE_STATUS_REVOKED


class TestBatchedStatusReads:
    """Status bytes read together in one round trip still land on their own licenses."""

    async def test_each_license_gets_its_own_status(self, running: Running) -> None:
        """A batch mixing valid, suspended and revoked licenses reports each one's status."""
        issued = [
            (
                await running.licenses.IssueLicense(
                    issue_request(f"req-{i}", name=f"福清市示例{i}号贸易有限公司"),
                    metadata=caller(),
                )
            ).license
            for i in range(6)
        ]
        wanted = {
            1: licenses_pb2.LICENSE_STATUS_SUSPENDED,
            2: licenses_pb2.LICENSE_STATUS_REVOKED,
            5: licenses_pb2.LICENSE_STATUS_REVOKED,
        }
        for i, status in wanted.items():
            await running.licenses.ChangeLicenseStatus(
                licenses_pb2.ChangeLicenseStatusRequest(
                    license_id=issued[i].license_id,
                    status=status,
                    reason="inspection",
                ),
                metadata=caller(),
            )
        batch = await running.licenses.BatchVerifyLicenses(
            licenses_pb2.BatchVerifyLicensesRequest(
                requests=[
                    licenses_pb2.VerifyLicenseRequest(sd_jwt=license.sd_jwt)
                    for license in issued * 3
                ]
            ),
            metadata=caller(),
        )
        assert len(batch.results) == 18
        for position, result in enumerate(batch.results):
            expected = wanted.get(position % 6, licenses_pb2.LICENSE_STATUS_VALID)
            assert result.status == expected, position
            assert result.valid == (expected == licenses_pb2.LICENSE_STATUS_VALID), position
