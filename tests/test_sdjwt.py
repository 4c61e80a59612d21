"""SD-JWT VCs: RFC 9901's vectors, the reference implementation both ways, every refusal."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from runtime.sdjwt import (
    MAX_DISCLOSURES,
    MAX_SD_JWT_CHARS,
    DisclosureError,
    FormatError,
    Issued,
    Verified,
    digest,
    encode_disclosure,
    issue,
    present,
    verify,
)
from runtime.signing import (
    ALGORITHMS,
    JoseSigner,
    PublicKey,
    SignatureError,
    generate_signer,
    public_key_from_jwk,
)

# RFC 9901, section 4.2.1 (the disclosure of "family_name": "Möbius" under the salt
# "_26bc4LT-ac6q2KI6cBW5es") and section 4.2.3 (its SHA-256 digest); section 4.2.2 (the
# array-element disclosure of "FR") and section 4.2.3 (its digest).
RFC_SALT = "_26bc4LT-ac6q2KI6cBW5es"
RFC_DISCLOSURE = "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"
RFC_DIGEST = "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"
RFC_ARRAY_DISCLOSURE = "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0"
RFC_ARRAY_DIGEST = "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs"
# RFC 9901, section 4.2.1: other valid spellings of the same family_name disclosure
# (the umlaut as a JSON escape; no whitespace; newlines between the elements).
RFC_SPELLINGS = [
    "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNXHUwMGY2Yml1cyJd",
    "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsImZhbWlseV9uYW1lIiwiTcO2Yml1cyJd",
    "WwoiXzI2YmM0TFQtYWM2cTJLSTZjQlc1ZXMiLAoiZmFtaWx5X25hbWUiLAoiTcO2Yml1cyIKXQ",
]

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
VCT = "11100000MB0143330X"
ISSUER = "https://licenses.example.gov.cn/departments/11350100MB01234565"
LICENSE_ID = "1.2.156.3005.2.11100000MB0143330X001.11350100MB01234565.00000001.001.8"
STATUS = {"status_list": {"idx": 412, "uri": "https://licenses.example.gov.cn/status/1"}}
# A made-up holder; the resident ID is GB 11643's own example.
HOLDER: dict[str, Any] = {
    "name": "张三",
    "resident_id": "11010519491231002X",
    "birth_date": "1949-12-31",
    "address": {"province": "福建省", "city": "泉州市", "street": "丰泽街 1 号"},
    "licensed_activities": ["零售", "餐饮"],
}


def new_signer(alg: str = "EdDSA", key_id: str = "market-2026") -> JoseSigner:
    """A fresh department key."""
    signer = generate_signer(alg, key_id)
    assert isinstance(signer, JoseSigner)  # its private JWK feeds the reference implementation
    return signer


SIGNER = new_signer()


def resolver(*keys: PublicKey) -> Callable[[dict[str, Any], dict[str, Any]], PublicKey]:
    """A trust registry of `keys`, looked up by ``kid``."""
    by_kid = {key.key_id: key for key in keys}

    def resolve(header: dict[str, Any], payload: dict[str, Any]) -> PublicKey:
        try:
            return by_kid[header["kid"]]
        except KeyError:
            raise LookupError("no published key with that kid") from None

    return resolve


TRUST = resolver(SIGNER.public_key())


def license_(
    signer: JoseSigner = SIGNER,
    disclosable: Mapping[str, Any] = HOLDER,
    **overrides: Any,
) -> Issued:
    """A license issued by `signer` with `disclosable` holder claims."""
    arguments: dict[str, Any] = {
        "vct": VCT,
        "issuer": ISSUER,
        "issued_at": NOW,
        "not_before": NOW,
        "expires": NOW + 86_400 * 365,
        "visible": {"license_id": LICENSE_ID},
        "disclosable": disclosable,
        "status": STATUS,
    }
    arguments.update(overrides)
    return issue(signer, **arguments)


def signed(
    payload: Mapping[str, Any] | bytes,
    disclosures: list[str],
    *,
    typ: str = "vc+sd-jwt",
    signer: JoseSigner = SIGNER,
) -> str:
    """An SD-JWT whose payload the issuer's key really signs, however odd the payload."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return "~".join([signer.sign_compact({"typ": typ}, body), *disclosures]) + "~"


def base_payload(**extra: Any) -> dict[str, Any]:
    """The clear claims of a license, plus `extra`."""
    return {"iss": ISSUER, "iat": NOW, "nbf": NOW, "vct": VCT, "_sd_alg": "sha-256", **extra}


def b64(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_parts(sd_jwt: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header64, payload64, _ = sd_jwt.split("~")[0].split(".")
    return json.loads(unb64(header64)), json.loads(unb64(payload64))


def everything_readable(sd_jwt: str) -> str:
    """The SD-JWT with every base64url part decoded beside it."""
    pieces = [sd_jwt]
    for part in sd_jwt.replace("~", ".").split("."):
        if part:
            pieces.append(unb64(part).decode("utf-8", errors="replace"))
    return "\n".join(pieces)


def their_key(signer: JoseSigner, public: bool = False) -> JWK:
    """`signer`'s key (or its public half) as the reference implementation's jwcrypto key."""
    return JWK(**(signer.public_key().jwk() if public else signer.private_jwk()))


# Claim names and JSON values for the property test: any text but the reserved names.
CLAIM_NAMES = st.text(st.characters(codec="utf-8"), min_size=1).filter(
    lambda name: (
        name not in {"_sd", "...", "_sd_alg", "license_id"}
        and name not in {"iss", "iat", "nbf", "exp", "vct", "vct#integrity", "status", "cnf"}
    )
)
JSON_TEXT = st.text(st.characters(codec="utf-8"))
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | JSON_TEXT,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(JSON_TEXT.filter(lambda k: k not in {"_sd", "..."}), inner, max_size=3)
    ),
    max_leaves=6,
)


# --- tests ------------------------------------------------------------------------------


class TestRfc9901Vectors:
    """The digest and disclosure encoding reproduce the strings RFC 9901 prints."""

    def test_family_name_disclosure_digest(self) -> None:
        assert digest(RFC_DISCLOSURE) == RFC_DIGEST

    def test_array_element_disclosure_digest(self) -> None:
        assert digest(RFC_ARRAY_DISCLOSURE) == RFC_ARRAY_DIGEST

    def test_encoding_the_family_name_claim_gives_the_rfc_disclosure(self) -> None:
        assert encode_disclosure(RFC_SALT, "family_name", "Möbius") == RFC_DISCLOSURE

    @pytest.mark.parametrize("spelling", RFC_SPELLINGS)
    def test_other_spellings_of_the_claim_have_their_own_digest(self, spelling: str) -> None:
        assert json.loads(unb64(spelling)) == [RFC_SALT, "family_name", "Möbius"]
        assert digest(spelling) != RFC_DIGEST
        assert digest(spelling) == b64(hashlib.sha256(spelling.encode()).digest())


class TestIssue:
    """An issued license has the shape RFC 9901 and SD-JWT VC prescribe."""

    def test_clear_claims_and_sorted_digests(self) -> None:
        issued = license_(decoys=3)
        header, payload = jwt_parts(issued.sd_jwt)
        assert header == {"typ": "vc+sd-jwt", "alg": "EdDSA", "kid": "market-2026"}
        assert payload["iss"] == ISSUER and payload["vct"] == VCT
        assert (payload["iat"], payload["nbf"], payload["exp"]) == (NOW, NOW, NOW + 86_400 * 365)
        assert payload["status"] == STATUS and payload["license_id"] == LICENSE_ID
        assert payload["_sd_alg"] == "sha-256"
        assert payload["_sd"] == sorted(payload["_sd"])
        assert len(payload["_sd"]) == len(HOLDER) + 3
        assert not set(HOLDER) & set(payload)

    def test_compact_form_is_jwt_then_disclosures_then_tilde(self) -> None:
        issued = license_()
        assert issued.sd_jwt == "~".join([issued.issuer_jwt, *issued.disclosures.values()]) + "~"
        assert issued.issuer_jwt_sha256 == hashlib.sha256(issued.issuer_jwt.encode()).digest()

    def test_each_claim_is_an_object_property_disclosure_with_a_fresh_128_bit_salt(self) -> None:
        issued = license_()
        _, payload = jwt_parts(issued.sd_jwt)
        salts = set()
        for name, disclosure in issued.disclosures.items():
            salt, claim, value = json.loads(unb64(disclosure))
            assert (claim, value) == (name, HOLDER[name])
            assert len(unb64(salt)) == 16
            assert digest(disclosure) in payload["_sd"]
            salts.add(salt)
        assert len(salts) == len(HOLDER)

    def test_no_expiry_no_status_no_disclosable_claims(self) -> None:
        issued = license_(disclosable={}, expires=None, status=None)
        _, payload = jwt_parts(issued.sd_jwt)
        assert "exp" not in payload and "status" not in payload and "_sd" not in payload
        assert issued.sd_jwt == issued.issuer_jwt + "~"
        verified = verify(issued.sd_jwt, TRUST)
        assert (verified.exp, verified.status, verified.claims) == (None, None, {})

    @pytest.mark.parametrize(
        ("visible", "disclosable"),
        [
            ({}, {"_sd": 1}),
            ({}, {"...": 1}),
            ({}, {"exp": 1}),
            ({}, {"status": {}}),
            ({"vct": "x"}, {}),
            ({"_sd_alg": "sha-256"}, {}),
            ({"license_id": LICENSE_ID}, {"license_id": LICENSE_ID}),
            ({"office": {"_sd": []}}, {}),
            ({}, {"address": {"rooms": [{"...": RFC_DIGEST}]}}),
        ],
    )
    def test_reserved_or_clashing_names_are_refused(
        self, visible: dict[str, Any], disclosable: dict[str, Any]
    ) -> None:
        with pytest.raises(ValueError, match="claim"):
            license_(visible=visible, disclosable=disclosable)

    @pytest.mark.parametrize("value", [float("nan"), float("inf"), b"bytes", {1, 2}, "\ud800"])
    def test_values_that_are_not_json_are_refused(self, value: Any) -> None:
        with pytest.raises(ValueError):
            license_(disclosable={"area": value})


class TestAlgorithms:
    """Every department key algorithm issues licenses that verify, keys found by their JWK."""

    @pytest.mark.parametrize("alg", ALGORITHMS)
    def test_issue_present_verify(self, alg: str) -> None:
        signer = new_signer(alg, key_id=f"market-{alg}")
        published = {signer.key_id: signer.public_key().jwk()}

        def registry(header: dict[str, Any], payload: dict[str, Any]) -> PublicKey:
            assert payload["iss"] == ISSUER
            return public_key_from_jwk(published[header["kid"]], key_id=header["kid"])

        shown = present(license_(signer).sd_jwt, ["name"])
        verified = verify(shown, registry)
        assert verified.header["alg"] == alg
        assert verified.claims == {"name": HOLDER["name"]}


class TestReferenceImplementation:
    """The sd-jwt reference implementation and this module accept each other's output."""

    @pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
    def test_they_verify_what_we_issue(self, alg: str) -> None:
        signer = new_signer(alg)
        issued = license_(signer, decoys=2)
        verifier = SDJWTVerifier(issued.sd_jwt, lambda iss, header: their_key(signer, True))
        claims = verifier.get_verified_payload()
        assert {name: claims[name] for name in HOLDER} == HOLDER
        assert claims["license_id"] == LICENSE_ID and claims["vct"] == VCT

    def test_they_verify_our_presentation_with_only_the_chosen_claims(self) -> None:
        shown = present(license_().sd_jwt, ["name", "address"])
        claims = SDJWTVerifier(shown, lambda iss, header: their_key(SIGNER, True))
        payload = claims.get_verified_payload()
        assert set(HOLDER) & set(payload) == {"name", "address"}

    def test_their_holder_presents_our_license(self) -> None:
        holder = SDJWTHolder(license_().sd_jwt)
        holder.create_presentation({"birth_date": True})
        verified = verify(holder.sd_jwt_presentation, TRUST)
        assert verified.claims == {"birth_date": HOLDER["birth_date"]}

    @pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
    def test_we_verify_what_they_issue_and_present(self, alg: str) -> None:
        signer = new_signer(alg, key_id="their-key")
        theirs = their_license(signer, HOLDER)
        trust = resolver(signer.public_key())
        verified = verify(theirs, trust)
        assert verified.claims == HOLDER
        assert verified.visible == THEIR_CLEAR_CLAIMS
        assert (verified.iss, verified.vct, verified.iat, verified.nbf) == (ISSUER, VCT, NOW, NOW)

        holder = SDJWTHolder(theirs)
        holder.create_presentation({"name": True, "resident_id": True})
        shown = verify(holder.sd_jwt_presentation, trust)
        assert shown.claims == {"name": HOLDER["name"], "resident_id": HOLDER["resident_id"]}
        assert shown.issuer_jwt_sha256 == verified.issuer_jwt_sha256

    def test_we_verify_their_decoys(self) -> None:
        flat = {name: value for name, value in HOLDER.items() if not isinstance(value, dict)}
        theirs = their_license(SIGNER, flat, decoys=True)
        _, payload = jwt_parts(theirs)
        assert len(payload["_sd"]) > len(flat)
        assert verify(theirs, TRUST).claims == flat

    def test_their_decoys_inside_an_object_are_nested_disclosure_and_refused(self) -> None:
        # Their issuer adds decoys to every object, the disclosed address included: that
        # is nested selective disclosure, which certfree does not speak.
        theirs = their_license(SIGNER, HOLDER, decoys=True)
        with pytest.raises(DisclosureError, match="'address' nests selective disclosure"):
            verify(theirs, TRUST)


THEIR_CLEAR_CLAIMS = {"iss": ISSUER, "iat": NOW, "nbf": NOW, "vct": VCT, "license_id": LICENSE_ID}


def their_license(signer: JoseSigner, claims: Mapping[str, Any], decoys: bool = False) -> str:
    """A license issued by the reference implementation with `claims` all disclosable."""
    issuer = SDJWTIssuer(
        {**THEIR_CLEAR_CLAIMS, **{SDObj(name): value for name, value in claims.items()}},
        their_key(signer),
        sign_alg=signer.alg,
        add_decoy_claims=decoys,
        extra_header_parameters={"typ": "dc+sd-jwt", "kid": signer.key_id},
    )
    issuance: str = issuer.sd_jwt_issuance
    return issuance


class TestSelectiveDisclosure:
    """A presentation reveals exactly the chosen claims, and nothing of the others."""

    def test_hidden_values_appear_nowhere(self) -> None:
        shown = present(license_().sd_jwt, ["birth_date", "licensed_activities"])
        assert verify(shown, TRUST).claims == {
            "birth_date": HOLDER["birth_date"],
            "licensed_activities": HOLDER["licensed_activities"],
        }
        readable = everything_readable(shown)
        for hidden in ("name", "resident_id", "address"):
            assert json.dumps(hidden) not in readable
        for needle in ("张三", "11010519491231002X", "泉州市", "丰泽街"):
            assert needle not in readable
            assert json.dumps(needle) not in readable  # nor as a \\u escape

    def test_nothing_disclosed(self) -> None:
        issued = license_()
        shown = present(issued.sd_jwt, [])
        assert shown == issued.issuer_jwt + "~"
        verified = verify(shown, TRUST)
        assert verified.claims == {}
        assert verified.visible["license_id"] == LICENSE_ID

    def test_every_presentation_attests_to_the_same_issuer_jwt(self) -> None:
        issued = license_()
        for chosen in ([], ["name"], list(HOLDER)):
            verified = verify(present(issued.sd_jwt, chosen), TRUST)
            assert verified.issuer_jwt == issued.issuer_jwt
            assert verified.issuer_jwt_sha256 == issued.issuer_jwt_sha256

    def test_a_presentation_can_be_narrowed_again(self) -> None:
        shown = present(present(license_().sd_jwt, ["name", "address"]), ["address"])
        assert verify(shown, TRUST).claims == {"address": HOLDER["address"]}

    def test_unknown_claims_are_refused(self) -> None:
        shown = present(license_().sd_jwt, ["name"])
        with pytest.raises(ValueError, match="resident_id"):
            present(shown, ["resident_id"])

    def test_verified_exposes_the_registered_claims(self) -> None:
        verified = verify(license_().sd_jwt, TRUST)
        assert isinstance(verified, Verified)
        assert (verified.iss, verified.vct) == (ISSUER, VCT)
        assert (verified.iat, verified.nbf, verified.exp) == (NOW, NOW, NOW + 86_400 * 365)
        assert verified.status == STATUS
        assert verified.header["kid"] == "market-2026"
        assert verified.claims == HOLDER

    @settings(max_examples=60, deadline=None)
    @given(data=st.data())
    def test_present_then_verify_returns_exactly_the_chosen_subset(
        self, data: st.DataObject
    ) -> None:
        claims = data.draw(st.dictionaries(CLAIM_NAMES, JSON_VALUES, max_size=12), "claims")
        chosen = data.draw(st.sets(st.sampled_from(sorted(claims))) if claims else st.just(set()))
        issued = license_(disclosable=claims, decoys=data.draw(st.integers(0, 4), "decoys"))
        verified = verify(present(issued.sd_jwt, chosen), TRUST)
        assert verified.claims == {name: claims[name] for name in chosen}


class TestFormatErrors:
    """Text that is not a well-formed certfree SD-JWT fails the format check."""

    def test_the_issuer_jwt_alone_is_not_compact_sd_jwt(self) -> None:
        with pytest.raises(FormatError, match="no '~'"):
            verify(license_().issuer_jwt, TRUST)

    def test_a_key_binding_jwt_is_refused_not_ignored(self) -> None:
        holder_key = JWK.generate(kty="OKP", crv="Ed25519")
        holder = SDJWTHolder(license_().sd_jwt)
        holder.create_presentation(
            {"name": True},
            nonce="n-1",
            aud="https://verifier",
            holder_key=holder_key,
            sign_alg="EdDSA",
        )
        assert not holder.sd_jwt_presentation.endswith("~")
        with pytest.raises(FormatError, match="key binding is not supported"):
            verify(holder.sd_jwt_presentation, TRUST)
        with pytest.raises(FormatError, match="key binding"):
            present(holder.sd_jwt_presentation, ["name"])

    def test_a_jwt_of_two_parts(self) -> None:
        jwt = license_().issuer_jwt
        with pytest.raises(FormatError, match="three parts"):
            verify(jwt.rsplit(".", 1)[0] + "~", TRUST)

    @pytest.mark.parametrize("bad", ["=", "+", "!"])
    def test_bad_base64url_in_the_jwt(self, bad: str) -> None:
        header, payload, signature = license_().issuer_jwt.split(".")
        with pytest.raises(FormatError, match="base64url"):
            verify(f"{header}.{payload}{bad}.{signature}~", TRUST)

    def test_non_canonical_base64url(self) -> None:
        issued = license_()
        header, payload, signature = issued.issuer_jwt.split(".")
        # A last character whose spare bits are set decodes to the same bytes.
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        last = signature[-1]
        twin = next(
            c for c in alphabet if c != last and unb64(signature[:-1] + c) == unb64(signature)
        )
        with pytest.raises(FormatError, match="canonical"):
            verify(f"{header}.{payload}.{signature[:-1]}{twin}~", TRUST)

    def test_header_that_is_not_json(self) -> None:
        _, payload, signature = license_().issuer_jwt.split(".")
        with pytest.raises(FormatError, match="header is not JSON"):
            verify(f"{b64('{typ:')}.{payload}.{signature}~", TRUST)

    def test_payload_that_is_not_a_json_object(self) -> None:
        with pytest.raises(FormatError, match="not a JSON object"):
            verify(signed(b'["vct"]', []), TRUST)

    def test_payload_with_a_duplicate_member(self) -> None:
        body = json.dumps(base_payload()).encode()[:-1] + b', "vct": "other"}'
        with pytest.raises(FormatError, match="duplicate member"):
            verify(signed(body, []), TRUST)

    @pytest.mark.parametrize("typ", ["JWT", "example+sd-jwt", "kb+jwt"])
    def test_wrong_typ(self, typ: str) -> None:
        with pytest.raises(FormatError, match="typ"):
            verify(license_(typ=typ).sd_jwt, TRUST)

    def test_dc_sd_jwt_typ_is_accepted(self) -> None:
        assert verify(license_(typ="dc+sd-jwt").sd_jwt, TRUST).claims == HOLDER

    def test_missing_sd_alg(self) -> None:
        payload = base_payload()
        del payload["_sd_alg"]
        with pytest.raises(FormatError, match="no _sd_alg"):
            verify(signed(payload, []), TRUST)

    @pytest.mark.parametrize("alg", ["sha-512", "SHA-256", "sha3-256", None])
    def test_unsupported_sd_alg(self, alg: str | None) -> None:
        with pytest.raises(FormatError, match="unsupported _sd_alg"):
            verify(signed(base_payload(_sd_alg=alg), []), TRUST)

    def test_sd_that_is_not_an_array_of_strings(self) -> None:
        with pytest.raises(FormatError, match="_sd is not"):
            verify(signed(base_payload(_sd="abc"), []), TRUST)

    def test_missing_vct(self) -> None:
        payload = base_payload()
        del payload["vct"]
        with pytest.raises(FormatError, match="vct"):
            verify(signed(payload, []), TRUST)

    @pytest.mark.parametrize(
        ("name", "value"), [("iat", "2026-01-01"), ("exp", True), ("iss", 7), ("status", [])]
    )
    def test_registered_claim_of_the_wrong_type(self, name: str, value: Any) -> None:
        with pytest.raises(FormatError, match=name):
            verify(signed(base_payload(**{name: value}), []), TRUST)

    def test_nested_selective_disclosure_in_a_clear_claim(self) -> None:
        nested = base_payload(address={"_sd": [RFC_DIGEST]})
        with pytest.raises(FormatError, match="nests selective disclosure"):
            verify(signed(nested, [RFC_DISCLOSURE]), TRUST)

    def test_oversize(self) -> None:
        fits = license_(disclosable={"note": "x" * (MAX_SD_JWT_CHARS * 3 // 4 - 2000)})
        assert len(fits.sd_jwt) <= MAX_SD_JWT_CHARS
        verify(fits.sd_jwt, TRUST)
        too_big = license_(disclosable={"note": "x" * MAX_SD_JWT_CHARS})
        with pytest.raises(FormatError, match="longer than"):
            verify(too_big.sd_jwt, TRUST)
        with pytest.raises(FormatError, match="longer than"):
            present(too_big.sd_jwt, [])

    def test_too_many_disclosures(self) -> None:
        most = {f"c{i}": i for i in range(MAX_DISCLOSURES)}
        assert len(verify(license_(disclosable=most).sd_jwt, TRUST).claims) == MAX_DISCLOSURES
        one_more = license_(disclosable={**most, "extra": 0})
        with pytest.raises(FormatError, match="more than 200 disclosures"):
            verify(one_more.sd_jwt, TRUST)

    def test_an_empty_disclosure(self) -> None:
        issued = license_()
        with pytest.raises(FormatError, match="empty disclosure"):
            verify(issued.issuer_jwt + "~~", TRUST)

    def test_non_ascii_text(self) -> None:
        with pytest.raises(FormatError, match="non-ASCII"):
            verify(license_().sd_jwt + "张三~", TRUST)

    def test_format_is_checked_before_the_key_is_looked_up(self) -> None:
        def no_lookup(header: dict[str, Any], payload: dict[str, Any]) -> PublicKey:
            raise AssertionError("resolve_key was called")

        with pytest.raises(FormatError):
            verify(license_(typ="JWT").sd_jwt, no_lookup)


class TestKeyResolution:
    """The caller's key lookup sees the header and payload, and its refusal propagates."""

    def test_lookup_receives_kid_and_iss(self) -> None:
        seen: list[tuple[str, str]] = []

        def resolve(header: dict[str, Any], payload: dict[str, Any]) -> PublicKey:
            seen.append((header["kid"], payload["iss"]))
            return SIGNER.public_key()

        verify(license_().sd_jwt, resolve)
        assert seen == [("market-2026", ISSUER)]

    def test_unknown_key_propagates(self) -> None:
        stranger = new_signer(key_id="someone-else")
        with pytest.raises(LookupError, match="no published key"):
            verify(license_(stranger).sd_jwt, TRUST)


class TestSignatureErrors:
    """An issuer-signed JWT that its key did not sign as it stands fails the signature check."""

    def test_a_flipped_signature_character(self) -> None:
        issued = license_()
        header, payload, signature = issued.issuer_jwt.split(".")
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
        with pytest.raises(SignatureError):
            verify(f"{header}.{payload}.{flipped}~", TRUST)

    def test_a_changed_clear_claim(self) -> None:
        issued = license_()
        header, payload64, signature = issued.issuer_jwt.split(".")
        payload = json.loads(unb64(payload64))
        payload["exp"] += 86_400 * 365
        forged = f"{header}.{b64(json.dumps(payload))}.{signature}"
        with pytest.raises(SignatureError):
            verify(forged + "~", TRUST)

    def test_the_same_kid_on_another_key(self) -> None:
        impostor = new_signer(key_id="market-2026")
        with pytest.raises(SignatureError):
            verify(license_(impostor).sd_jwt, TRUST)

    def test_another_licenses_payload_under_this_signature(self) -> None:
        mine, other = license_(), license_(disclosable={"name": "李四"})
        header, _, signature = mine.issuer_jwt.split(".")
        _, payload, _ = other.issuer_jwt.split(".")
        with pytest.raises(SignatureError):
            verify(f"{header}.{payload}.{signature}~{other.disclosures['name']}~", TRUST)


class TestDisclosureErrors:
    """A disclosure that does not belong to the signed JWT, or is malformed, is refused."""

    def test_a_disclosure_from_another_license(self) -> None:
        mine, other = license_(), license_()
        forged = present(mine.sd_jwt, []) + other.disclosures["name"] + "~"
        with pytest.raises(DisclosureError, match="not in the signed _sd"):
            verify(forged, TRUST)

    def test_an_edited_disclosure(self) -> None:
        issued = license_()
        salt, name, _ = json.loads(unb64(issued.disclosures["name"]))
        edited = encode_disclosure(salt, name, "王五")
        with pytest.raises(DisclosureError, match="not in the signed _sd"):
            verify(f"{issued.issuer_jwt}~{edited}~", TRUST)

    def test_the_same_disclosure_twice(self) -> None:
        issued = license_()
        twice = issued.sd_jwt + issued.disclosures["name"] + "~"
        with pytest.raises(DisclosureError, match="presented twice"):
            verify(twice, TRUST)

    def test_the_same_digest_twice_in_the_signed_sd(self) -> None:
        disclosure = encode_disclosure("c2FsdHNhbHRzYWx0", "name", "张三")
        payload = base_payload(_sd=[digest(disclosure), digest(disclosure)])
        with pytest.raises(DisclosureError, match="same digest twice"):
            verify(signed(payload, [disclosure]), TRUST)

    def test_disclosures_are_checked_only_after_the_signature(self) -> None:
        disclosure = encode_disclosure("c2FsdHNhbHRzYWx0", "name", "张三")
        payload = base_payload(_sd=[digest(disclosure), digest(disclosure)])
        stranger = new_signer(key_id="market-2026")
        with pytest.raises(SignatureError):
            verify(signed(payload, [disclosure], signer=stranger), TRUST)

    def test_one_claim_name_in_two_disclosures(self) -> None:
        first = encode_disclosure("c2FsdC1vbmU", "name", "张三")
        second = encode_disclosure("c2FsdC10d28", "name", "李四")
        payload = base_payload(_sd=sorted([digest(first), digest(second)]))
        with pytest.raises(DisclosureError, match="disclosed twice"):
            verify(signed(payload, [first, second]), TRUST)

    @pytest.mark.parametrize("name", ["license_id", "iss", "exp", "status", "cnf", "vct#integrity"])
    def test_a_name_the_issuer_signs_in_clear(self, name: str) -> None:
        # exp, status and cnf are absent from the payload: still never disclosable.
        disclosure = encode_disclosure("c2FsdHNhbHRzYWx0", name, "forged")
        payload = base_payload(license_id=LICENSE_ID, _sd=[digest(disclosure)])
        with pytest.raises(DisclosureError, match="signs in clear"):
            verify(signed(payload, [disclosure]), TRUST)

    @pytest.mark.parametrize("name", ["_sd", "...", "_sd_alg"])
    def test_a_reserved_name(self, name: str) -> None:
        disclosure = encode_disclosure("c2FsdHNhbHRzYWx0", name, ["x"])
        payload = base_payload(_sd=[digest(disclosure)])
        with pytest.raises(DisclosureError, match="reserved"):
            verify(signed(payload, [disclosure]), TRUST)

    @pytest.mark.parametrize(
        ("decoded", "message"),
        [
            (b'["c2FsdA", "FR"]', "array of salt, claim name and value"),  # array element
            (b'["c2FsdA", "name", "x", "y"]', "array of salt, claim name and value"),
            (b'{"salt": "c2FsdA", "name": "x"}', "array of salt, claim name and value"),
            (b'["c2FsdA", 7, "x"]', "not a string"),
            (b'[1, "name", "x"]', "not a string"),
            (b'["c2FsdA", "name", NaN]', "not JSON"),
            (b'["c2FsdA", "name", {"a": 1, "a": 2}]', "duplicate member"),
            (b'["c2FsdA", "name", ', "not JSON"),
            (b'["c2FsdA", "name", "\xff"]', "not JSON"),
        ],
    )
    def test_malformed_disclosures(self, decoded: bytes, message: str) -> None:
        disclosure = b64(decoded)
        payload = base_payload(_sd=[digest(disclosure)])
        with pytest.raises(DisclosureError, match=message):
            verify(signed(payload, [disclosure]), TRUST)

    @pytest.mark.parametrize("disclosure", ["not*base64", "WyJ=", "A"])
    def test_a_disclosure_that_is_not_base64url(self, disclosure: str) -> None:
        payload = base_payload(_sd=[digest(disclosure)])
        with pytest.raises(DisclosureError, match="base64url"):
            verify(signed(payload, [disclosure]), TRUST)

    def test_sub_and_iat_may_be_disclosed_by_other_issuers(self) -> None:
        sub = encode_disclosure("c2FsdC1vbmU", "sub", "holder-7")
        iat = encode_disclosure("c2FsdC10d28", "iat", NOW)
        payload = base_payload(_sd=sorted([digest(sub), digest(iat)]))
        del payload["iat"]
        verified = verify(signed(payload, [sub, iat]), TRUST)
        assert verified.claims == {"sub": "holder-7", "iat": NOW}
        assert verified.iat is None  # the clear iat is what Verified exposes

    def test_nested_selective_disclosure_in_a_disclosed_value(self) -> None:
        disclosure = encode_disclosure("c2FsdHNhbHRzYWx0", "address", {"_sd": [RFC_DIGEST]})
        payload = base_payload(_sd=[digest(disclosure)])
        with pytest.raises(DisclosureError, match="nests selective disclosure"):
            verify(signed(payload, [disclosure]), TRUST)

    def test_messages_name_claims_never_values(self) -> None:
        issued = license_()
        salt, _, _ = json.loads(unb64(issued.disclosures["resident_id"]))
        edited = encode_disclosure(salt, "resident_id", "110105194912310021")
        with pytest.raises(DisclosureError) as caught:
            verify(f"{issued.issuer_jwt}~{edited}~", TRUST)
        assert "resident_id" in str(caught.value)
        assert "1101051949" not in str(caught.value)

    def test_foreign_names_are_cut_short_in_messages(self) -> None:
        name = "x" * 1000
        disclosure = encode_disclosure("c2FsdHNhbHRzYWx0", name, 1)
        with pytest.raises(DisclosureError) as caught:
            verify(signed(base_payload(), [disclosure]), TRUST)
        assert len(str(caught.value)) < 120
