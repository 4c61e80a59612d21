"""Department signing keys: round trips, rejections, published vectors, cross-checks, sealing."""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from gmssl import sm2 as gmssl_sm2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.signing import (
    ALGORITHMS,
    MAX_ITERATIONS,
    SEAL_ITERATIONS,
    JoseSigner,
    SignatureError,
    Signer,
    generate_signer,
    open_signer,
    public_key_from_jwk,
    seal_signer,
    signer_from_private_jwk,
)
from runtime.sm2 import SM2, SM2Key

FAST = 1_000  # PBKDF2 rounds for tests; the default is checked once, in TestSealing

# RFC 8037 Appendix A.1 (the Ed25519 private key), A.3 (its thumbprint), A.4 (the JWS).
RFC8037_JWK = {
    "kty": "OKP",
    "crv": "Ed25519",
    "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
RFC8037_PAYLOAD = b"Example of Ed25519 signing"
RFC8037_JWS = (
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)

# GM/T 0003.5-2012 / GB/T 32918.5-2017 Annex A: the signature example on the
# recommended curve, ID 1234567812345678, message "message digest" (also OpenSSL's
# test/sm2_internal_test.c). k is fixed there, so only verification is reproducible.
GBT_D = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
GBT_X = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
GBT_Y = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
GBT_MESSAGE = b"message digest"
GBT_R = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
GBT_S = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"

OPENSSL = shutil.which("openssl")
SM2_DISTID = "distid:1234567812345678"


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hex_b64u(hex_text: str) -> str:
    return b64u(bytes.fromhex(hex_text))


def gbt_jwk(private: bool) -> dict[str, Any]:
    jwk = {"kty": "EC", "crv": "SM2", "x": hex_b64u(GBT_X), "y": hex_b64u(GBT_Y), "kid": "gbt"}
    if private:
        jwk["d"] = hex_b64u(GBT_D)
    return jwk


def with_segment(jws: str, index: int, value: str) -> str:
    parts = jws.split(".")
    parts[index] = value
    return ".".join(parts)


@pytest.fixture(scope="module", params=ALGORITHMS)
def signer(request: pytest.FixtureRequest) -> Signer:
    return generate_signer(request.param, f"dept-{request.param}")


class TestRoundTrip:
    """Every algorithm signs a JWS that its public key, and its JWK, verify."""

    def test_sign_then_verify(self, signer: Signer) -> None:
        jws = signer.sign_compact({"typ": "dc+sd-jwt"}, b'{"iss":"gongan"}')
        header, payload = signer.public_key().verify_compact(jws)
        assert header == {"typ": "dc+sd-jwt", "alg": signer.alg, "kid": signer.key_id}
        assert payload == b'{"iss":"gongan"}'

    def test_public_key_from_exported_jwk_verifies(self, signer: Signer) -> None:
        jwk = signer.public_key().jwk()
        assert jwk["kid"] == signer.key_id and jwk["alg"] == signer.alg and jwk["use"] == "sig"
        assert "d" not in jwk
        verifier = public_key_from_jwk(json.loads(json.dumps(jwk)), key_id=signer.key_id)
        assert (verifier.alg, verifier.key_id) == (signer.alg, signer.key_id)
        assert verifier.jwk() == jwk
        assert verifier.verify_compact(signer.sign_compact({}, b"x"))[1] == b"x"

    def test_private_jwk_round_trip_gives_the_same_key(self, signer: Signer) -> None:
        assert isinstance(signer, JoseSigner)
        again = signer_from_private_jwk(signer.private_jwk())
        assert again.public_key().jwk() == signer.public_key().jwk()
        signer.public_key().verify_compact(again.sign_compact({}, b"y"))

    def test_repr_shows_no_key_material(self, signer: Signer) -> None:
        assert isinstance(signer, JoseSigner)
        assert signer.private_jwk()["d"] not in repr(signer)

    @settings(
        max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(payload=st.binary(max_size=2048), typ=st.text(max_size=40))
    def test_any_payload_and_header_value_survive(
        self, signer: Signer, payload: bytes, typ: str
    ) -> None:
        header, got = signer.public_key().verify_compact(signer.sign_compact({"typ": typ}, payload))
        assert got == payload and header["typ"] == typ

    def test_header_naming_another_alg_or_kid_is_refused_when_signing(self, signer: Signer) -> None:
        with pytest.raises(ValueError, match="alg"):
            signer.sign_compact({"alg": "none"}, b"x")
        with pytest.raises(ValueError, match="kid"):
            signer.sign_compact({"kid": "someone-else"}, b"x")

    def test_unknown_alg_cannot_be_generated(self) -> None:
        with pytest.raises(ValueError, match="unsupported alg"):
            generate_signer("RS256", "k")


class TestRejection:
    """A JWS that was altered, made by another key, or names another alg or kid fails."""

    def test_tampered_payload(self, signer: Signer) -> None:
        jws = signer.sign_compact({}, b"grant")
        with pytest.raises(SignatureError, match="does not verify"):
            signer.public_key().verify_compact(with_segment(jws, 1, b64u(b"grunt")))

    def test_tampered_header(self, signer: Signer) -> None:
        jws = signer.sign_compact({"typ": "a"}, b"grant")
        header = {"typ": "b", "alg": signer.alg, "kid": signer.key_id}
        forged = with_segment(jws, 0, b64u(json.dumps(header).encode()))
        with pytest.raises(SignatureError, match="does not verify"):
            signer.public_key().verify_compact(forged)

    @pytest.mark.parametrize("position", [0, 17, -1])
    def test_tampered_signature(self, signer: Signer, position: int) -> None:
        jws = signer.sign_compact({}, b"grant")
        signature = bytearray(unb64u(jws.split(".")[2]))
        signature[position] ^= 0x01
        with pytest.raises(SignatureError, match="does not verify"):
            signer.public_key().verify_compact(with_segment(jws, 2, b64u(bytes(signature))))

    def test_truncated_signature(self, signer: Signer) -> None:
        jws = signer.sign_compact({}, b"grant")
        short = b64u(unb64u(jws.split(".")[2])[:-1])
        with pytest.raises(SignatureError):
            signer.public_key().verify_compact(with_segment(jws, 2, short))

    def test_another_key_with_the_same_kid(self, signer: Signer) -> None:
        impostor = generate_signer(signer.alg, signer.key_id)
        with pytest.raises(SignatureError, match="does not verify"):
            signer.public_key().verify_compact(impostor.sign_compact({}, b"grant"))

    def test_another_kid(self, signer: Signer) -> None:
        other = generate_signer(signer.alg, "other-dept")
        with pytest.raises(SignatureError, match="kid"):
            signer.public_key().verify_compact(other.sign_compact({}, b"grant"))

    @pytest.mark.parametrize(("alg", "other_alg"), list(itertools.permutations(ALGORITHMS, 2)))
    def test_another_alg(self, alg: str, other_alg: str) -> None:
        other = generate_signer(other_alg, "dept")
        with pytest.raises(SignatureError, match="alg"):
            generate_signer(alg, "dept").public_key().verify_compact(
                other.sign_compact({}, b"grant")
            )

    def test_alg_none(self, signer: Signer) -> None:
        header = b64u(json.dumps({"alg": "none", "kid": signer.key_id}).encode())
        with pytest.raises(SignatureError, match="alg"):
            signer.public_key().verify_compact(f"{header}.{b64u(b'grant')}.")

    def test_alg_swapped_in_header_with_a_valid_signature_elsewhere(self, signer: Signer) -> None:
        # A signature that verifies, under a header relabelled to another alg.
        jws = signer.sign_compact({}, b"grant")
        other = "ES256" if signer.alg != "ES256" else "EdDSA"
        header = b64u(json.dumps({"alg": other, "kid": signer.key_id}).encode())
        with pytest.raises(SignatureError, match="alg"):
            signer.public_key().verify_compact(with_segment(jws, 0, header))

    def test_unknown_critical_header(self, signer: Signer) -> None:
        with pytest.raises(ValueError):
            signer.sign_compact({"crit": ["exp"], "exp": 1}, b"grant")

    @pytest.mark.parametrize(
        "text",
        ["", "a.b", "a.b.c.d", "!!!.e30.AA", "e30.e30.AA", "eyJhbGciOiJFZERTQSJ9.%%%.AA", "é.é.é"],
    )
    def test_malformed(self, signer: Signer, text: str) -> None:
        with pytest.raises(SignatureError):
            signer.public_key().verify_compact(text)


class TestJwkImport:
    """public_key_from_jwk accepts only public signing keys of the three algorithms."""

    def test_private_members_are_refused(self, signer: Signer) -> None:
        assert isinstance(signer, JoseSigner)
        with pytest.raises(ValueError, match="private members"):
            public_key_from_jwk(signer.private_jwk())

    @pytest.mark.parametrize(
        ("changes", "reason"),
        [
            ({"kty": "RSA"}, "unsupported key type"),
            ({"crv": "P-384"}, "unsupported key type"),
            ({"kty": "OKP", "crv": "Ed448"}, "unsupported key type"),
            ({"alg": "RS256"}, "alg"),
            ({"kid": None}, "no kid"),
            ({"kid": ""}, "no kid"),
            ({"use": "enc"}, "use"),
            ({"x": "AAAA"}, "32 bytes"),
        ],
    )
    def test_bad_members_are_refused(
        self, signer: Signer, changes: dict[str, Any], reason: str
    ) -> None:
        jwk = signer.public_key().jwk() | changes
        jwk = {k: v for k, v in jwk.items() if v is not None}
        with pytest.raises(ValueError, match=reason):
            public_key_from_jwk(jwk)

    def test_alg_of_another_curve_is_refused(self) -> None:
        jwk = generate_signer("EdDSA", "k").public_key().jwk() | {"alg": "ES256"}
        with pytest.raises(ValueError, match="alg"):
            public_key_from_jwk(jwk)

    def test_missing_alg_is_inferred_from_the_curve(self, signer: Signer) -> None:
        jwk = signer.public_key().jwk()
        del jwk["alg"], jwk["use"]
        assert public_key_from_jwk(jwk).alg == signer.alg

    def test_key_ops_must_allow_verify(self, signer: Signer) -> None:
        jwk = signer.public_key().jwk()
        assert public_key_from_jwk(jwk | {"key_ops": ["verify"]}).alg == signer.alg
        with pytest.raises(ValueError, match="key_ops"):
            public_key_from_jwk(jwk | {"key_ops": ["sign"]})

    def test_parsed_keys_are_cached(self, signer: Signer) -> None:
        jwk = signer.public_key().jwk()
        assert public_key_from_jwk(jwk) is public_key_from_jwk(dict(jwk))

    def test_kid_mismatch_is_refused(self, signer: Signer) -> None:
        with pytest.raises(ValueError, match="kid"):
            public_key_from_jwk(signer.public_key().jwk(), key_id="someone-else")

    @pytest.mark.parametrize("alg", ["ES256", "SM2"])
    def test_point_off_the_curve_is_refused(self, alg: str) -> None:
        jwk = generate_signer(alg, "k").public_key().jwk()
        y = bytearray(unb64u(jwk["y"]))
        y[-1] ^= 0x01
        with pytest.raises(ValueError, match="not a valid"):
            public_key_from_jwk(jwk | {"y": b64u(bytes(y))})

    def test_private_jwk_whose_d_belongs_to_another_key_is_refused(self, signer: Signer) -> None:
        assert isinstance(signer, JoseSigner)
        other = generate_signer(signer.alg, signer.key_id)
        assert isinstance(other, JoseSigner)
        mixed = signer.private_jwk() | {"d": other.private_jwk()["d"]}
        with pytest.raises(ValueError):
            signer_from_private_jwk(mixed)


class TestRfc8037Vectors:
    """RFC 8037 Appendix A: the Ed25519 example JWS verifies and is reproduced byte for byte."""

    def test_example_jws_verifies(self) -> None:
        public = {k: v for k, v in RFC8037_JWK.items() if k != "d"} | {"kid": "rfc8037"}
        verifier = public_key_from_jwk(public)
        header, payload = verifier.verify_compact(RFC8037_JWS)
        assert header == {"alg": "EdDSA"} and payload == RFC8037_PAYLOAD

    def test_example_jws_is_reproduced(self) -> None:
        signer = signer_from_private_jwk(RFC8037_JWK | {"kid": "rfc8037"})
        assert signer.sign_compact({}, RFC8037_PAYLOAD, kid_in_header=False) == RFC8037_JWS

    def test_thumbprint(self) -> None:
        signer = signer_from_private_jwk(RFC8037_JWK | {"kid": "rfc8037"})
        assert signer.public_key().jose_key.thumbprint() == RFC8037_THUMBPRINT  # type: ignore[attr-defined]


class TestSm2PublishedVector:
    """GB/T 32918.5 Annex A: the published SM2 signature verifies; its key pair is consistent."""

    def test_published_signature_verifies(self) -> None:
        key = SM2Key.from_jwk(gbt_jwk(private=False))
        signature = bytes.fromhex(GBT_R + GBT_S)
        assert SM2.verify(GBT_MESSAGE, signature, key)
        assert not SM2.verify(b"message digesT", signature, key)

    def test_published_private_key_gives_the_published_public_key(self) -> None:
        signer = signer_from_private_jwk(gbt_jwk(private=True))
        jwk = signer.public_key().jwk()
        assert (jwk["x"], jwk["y"]) == (hex_b64u(GBT_X), hex_b64u(GBT_Y))


def run_openssl(*args: str) -> subprocess.CompletedProcess[bytes]:
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, *args], capture_output=True, check=False, timeout=30)


@pytest.fixture
def openssl_sm2_key(tmp_path: Path) -> tuple[Path, Path, dict[str, Any]]:
    """An SM2 key made by OpenSSL: its private PEM, public PEM and public JWK."""
    private_pem, public_pem = tmp_path / "sm2.pem", tmp_path / "sm2.pub.pem"
    assert run_openssl("genpkey", "-algorithm", "SM2", "-out", str(private_pem)).returncode == 0
    assert (
        run_openssl("pkey", "-in", str(private_pem), "-pubout", "-out", str(public_pem)).returncode
        == 0
    )
    der = run_openssl("pkey", "-in", str(private_pem), "-pubout", "-outform", "DER").stdout
    point = der[-65:]  # SubjectPublicKeyInfo ends with the uncompressed point 04 || x || y
    assert point[0] == 0x04
    jwk = {"kty": "EC", "crv": "SM2", "x": b64u(point[1:33]), "y": b64u(point[33:]), "kid": "ossl"}
    return private_pem, public_pem, jwk


@pytest.mark.skipif(OPENSSL is None, reason="the openssl command line is not installed")
class TestSm2AgainstOpenSSL:
    """OpenSSL 3 (an independent SM2) and this module accept each other's JWS signatures."""

    def test_openssl_signature_verifies_here(
        self, tmp_path: Path, openssl_sm2_key: tuple[Path, Path, dict[str, Any]]
    ) -> None:
        private_pem, _, jwk = openssl_sm2_key
        protected = b64u(json.dumps({"alg": "SM2", "kid": "ossl"}).encode())
        signing_input = f"{protected}.{b64u(b'licence')}"
        message = tmp_path / "input"
        message.write_bytes(signing_input.encode("ascii"))
        made = run_openssl(
            "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-pkeyopt", SM2_DISTID,
            "-inkey", str(private_pem), "-in", str(message),
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        r, s = decode_dss_signature(made.stdout)
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        header, payload = public_key_from_jwk(jwk).verify_compact(
            f"{signing_input}.{b64u(signature)}"
        )
        assert header == {"alg": "SM2", "kid": "ossl"} and payload == b"licence"

    def test_signature_made_here_verifies_in_openssl(
        self, tmp_path: Path, openssl_sm2_key: tuple[Path, Path, dict[str, Any]]
    ) -> None:
        private_pem, public_pem, jwk = openssl_sm2_key
        # The signer gets OpenSSL's private scalar through `openssl pkey -text`.
        text = run_openssl("pkey", "-in", str(private_pem), "-noout", "-text").stdout.decode()
        priv_hex = "".join(
            line.strip().replace(":", "")
            for line in text.split("priv:")[1].split("pub:")[0].splitlines()
        )
        signer = signer_from_private_jwk(jwk | {"d": b64u(int(priv_hex, 16).to_bytes(32, "big"))})
        jws = signer.sign_compact({"typ": "dc+sd-jwt"}, b"licence")
        head, body, sig = jws.split(".")
        raw = unb64u(sig)
        (tmp_path / "input").write_bytes(f"{head}.{body}".encode("ascii"))
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        (tmp_path / "sig").write_bytes(der)

        def verify(distid: str, data: str = "input") -> subprocess.CompletedProcess[bytes]:
            return run_openssl(
                "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pkeyopt", distid,
                "-pubin", "-inkey", str(public_pem),
                "-in", str(tmp_path / data), "-sigfile", str(tmp_path / "sig"),
            )  # fmt: skip

        assert verify(SM2_DISTID).returncode == 0
        assert verify("distid:1234567812345679").returncode != 0  # the ID really is hashed in
        (tmp_path / "other").write_bytes(f"{head}.{b64u(b'licencf')}".encode("ascii"))
        assert verify(SM2_DISTID, "other").returncode != 0


class TestSm2AgainstGmssl:
    """gmssl (a pure-Python SM2) and this module accept each other's signatures."""

    def gmssl(self) -> gmssl_sm2.CryptSM2:
        # The published key: gmssl strips leading '0'/'4' from a key starting "04".
        return gmssl_sm2.CryptSM2(private_key=GBT_D, public_key=GBT_X + GBT_Y)

    def test_gmssl_signature_verifies_here(self) -> None:
        header = b64u(json.dumps({"alg": "SM2"}).encode())
        signing_input = f"{header}.{b64u(b'licence')}"
        signature_hex = self.gmssl().sign_with_sm3(signing_input.encode("ascii"))
        jws = f"{signing_input}.{b64u(bytes.fromhex(signature_hex))}"
        assert public_key_from_jwk(gbt_jwk(private=False)).verify_compact(jws)[1] == b"licence"

    def test_signature_made_here_verifies_in_gmssl(self) -> None:
        signer = signer_from_private_jwk(gbt_jwk(private=True))
        head, body, sig = signer.sign_compact({}, b"licence").split(".")
        signing_input = f"{head}.{body}".encode("ascii")
        assert self.gmssl().verify_with_sm3(unb64u(sig).hex(), signing_input)
        assert not self.gmssl().verify_with_sm3(unb64u(sig).hex(), signing_input + b"x")


class TestSealing:
    """A sealed key is a PBES2/A256GCM JWE that only the right passphrase opens, unaltered."""

    def test_round_trip(self, signer: Signer) -> None:
        sealed = seal_signer(signer, b"correct horse", iterations=FAST)
        opened = open_signer(sealed, b"correct horse")
        assert (opened.alg, opened.key_id) == (signer.alg, signer.key_id)
        assert opened.public_key().jwk() == signer.public_key().jwk()
        signer.public_key().verify_compact(opened.sign_compact({}, b"after a restart"))

    def test_format_is_a_standard_jwe(self, signer: Signer) -> None:
        assert isinstance(signer, JoseSigner)
        sealed = seal_signer(signer, b"correct horse", iterations=FAST)
        parts = sealed.split(b".")
        assert len(parts) == 5
        header = json.loads(unb64u(parts[0].decode()))
        assert header["alg"] == "PBES2-HS512+A256KW" and header["enc"] == "A256GCM"
        assert header["cty"] == "jwk+json" and header["p2c"] == FAST
        assert len(unb64u(header["p2s"])) >= 16
        assert signer.private_jwk()["d"].encode() not in sealed

    def test_default_iterations(self) -> None:
        assert SEAL_ITERATIONS >= 600_000
        signer = generate_signer("EdDSA", "k")
        sealed = seal_signer(signer, b"correct horse")
        assert json.loads(unb64u(sealed.split(b".")[0].decode()))["p2c"] == SEAL_ITERATIONS
        assert open_signer(sealed, b"correct horse").public_key().jwk() == signer.public_key().jwk()

    def test_wrong_passphrase(self, signer: Signer) -> None:
        sealed = seal_signer(signer, b"correct horse", iterations=FAST)
        with pytest.raises(SignatureError, match="wrong passphrase"):
            open_signer(sealed, b"correct horsf")

    @pytest.mark.parametrize("segment", [1, 2, 3, 4])
    def test_tampered_segment(self, signer: Signer, segment: int) -> None:
        sealed = seal_signer(signer, b"correct horse", iterations=FAST)
        parts = sealed.decode().split(".")
        raw = bytearray(unb64u(parts[segment]))
        raw[len(raw) // 2] ^= 0x01
        parts[segment] = b64u(bytes(raw))
        with pytest.raises(SignatureError, match=r"altered|does not parse"):
            open_signer(".".join(parts).encode(), b"correct horse")

    def test_tampered_header(self, signer: Signer) -> None:
        sealed = seal_signer(signer, b"correct horse", iterations=FAST)
        parts = sealed.decode().split(".")
        header = json.loads(unb64u(parts[0]))
        header["p2c"] = FAST + 1
        parts[0] = b64u(json.dumps(header).encode())
        with pytest.raises(SignatureError, match="altered"):
            open_signer(".".join(parts).encode(), b"correct horse")

    def test_excessive_iteration_count_is_refused(self, signer: Signer) -> None:
        sealed = seal_signer(signer, b"correct horse", iterations=FAST)
        parts = sealed.decode().split(".")
        header = json.loads(unb64u(parts[0])) | {"p2c": MAX_ITERATIONS + 1}
        parts[0] = b64u(json.dumps(header).encode())
        with pytest.raises(SignatureError, match="not a sealed signing key"):
            open_signer(".".join(parts).encode(), b"correct horse")

    @pytest.mark.parametrize("sealed", [b"", b"garbage", b"a.b.c.d.e", b"\xff\xfe"])
    def test_not_a_sealed_key(self, sealed: bytes) -> None:
        with pytest.raises(SignatureError):
            open_signer(sealed, b"correct horse")

    def test_bad_arguments(self, signer: Signer) -> None:
        with pytest.raises(ValueError, match="passphrase"):
            seal_signer(signer, b"", iterations=FAST)
        with pytest.raises(ValueError):
            seal_signer(signer, b"pw", iterations=999)
