"""SD-JWT VCs (RFC 9901, SD-JWT VC): issue, present and verify licenses and proof answers.

A certfree SD-JWT is an issuer-signed JWT whose holder claims are all selectively
disclosable, followed by one disclosure per claim, in the compact form of RFC 9901
(``<issuer JWT>~<disclosure>~...~<disclosure>~``, a key-binding JWT after the last ``~``
being refused: certfree does not use key binding yet). Shortest use::

    issued = issue(signer, vct="11100000MB0143330X", issuer="https://...", issued_at=now,
                   not_before=now, expires=None, visible={"license_id": "1.2.156..."},
                   disclosable={"name": "...", "resident_id": "..."}, status=None)
    shown = present(issued.sd_jwt, ["name"])
    verified = verify(shown, lambda header, payload: registry.key(payload["iss"], header["kid"]))
    verified.claims  # {"name": "..."}

Only flat SD-JWTs are spoken: every disclosure is an object property ``[salt, name, value]``
whose digest sits in the top-level ``_sd`` array; nested selective disclosure is refused.
Signing goes through :mod:`runtime.signing`, so nothing here knows the algorithm. The
validity window, status and schema are the licenses service's checks, not this module's.

Every rejection says which check failed, by class: :class:`FormatError` (the text is not
a well-formed certfree SD-JWT), :class:`runtime.signing.SignatureError` (the issuer's
signature does not verify), :class:`DisclosureError` (a disclosure does not belong to the
signed JWT or is malformed). Messages name claim names and checks, never claim values:
the values are personal data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from runtime.signing import PublicKey, Signer

__all__ = [
    "HASH_ALG",
    "MAX_DISCLOSURES",
    "MAX_SD_JWT_CHARS",
    "TYP_DC_SD_JWT",
    "TYP_VC_SD_JWT",
    "DisclosureError",
    "FormatError",
    "Issued",
    "Parsed",
    "SdJwtError",
    "Verified",
    "digest",
    "encode_disclosure",
    "issue",
    "parse",
    "present",
    "verify",
    "verify_parsed",
]

HASH_ALG = "sha-256"
"""The ``_sd_alg`` certfree writes and the only one it accepts (IANA "Named Information")."""

TYP_VC_SD_JWT = "vc+sd-jwt"
"""The ``typ`` of SD-JWT VC drafts up to -05, which deployed wallets still send."""

TYP_DC_SD_JWT = "dc+sd-jwt"
"""The ``typ`` of SD-JWT VC from draft -06 on."""

ACCEPTED_TYPS = frozenset({TYP_VC_SD_JWT, TYP_DC_SD_JWT})

MAX_SD_JWT_CHARS = 64 * 1024
"""Longest SD-JWT `verify` and `present` read; a license is a few KiB, so more is abuse."""

MAX_DISCLOSURES = 200
"""Most disclosures one SD-JWT may carry; a license type has tens of claims."""

SALT_BYTES = 16
"""128-bit salts, as RFC 9901 section 9.3 recommends."""

# RFC 9901 section 4.2.1: a disclosed claim name must not be "_sd" or "..."; "_sd_alg"
# is the digest algorithm's own slot and never a holder claim either.
RESERVED_NAMES = frozenset({"_sd", "...", "_sd_alg"})

# SD-JWT VC: iss, nbf, exp, cnf, vct, vct#integrity and status must not be selectively
# disclosed. A disclosure of one of them is refused even when the payload lacks it, so
# that nobody reads a validity window or a status the issuer did not sign in the clear.
NEVER_DISCLOSED = frozenset({"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"})

# What `issue` writes from its own arguments; `visible` and `disclosable` may not name it.
_ISSUE_ARGUMENTS = frozenset({"iss", "iat", "nbf", "exp", "vct", "status"}) | NEVER_DISCLOSED

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")

_TO_STANDARD = bytes.maketrans(b"-_", b"+/")  # bytes: str.translate is many times slower

# The last character of canonical unpadded base64url, by length mod 4: with 2 left
# over it carries 4 unused bits, with 3 left over 2 unused bits, all of them zero.
_CANONICAL_LAST = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}


class SdJwtError(Exception):
    """An SD-JWT was refused; the subclass says which check failed."""


class FormatError(SdJwtError):
    """Not a well-formed certfree SD-JWT: layout, encoding, JSON, ``typ``, ``_sd_alg`` or size."""


class DisclosureError(SdJwtError):
    """A disclosure is malformed, repeated, not in the signed ``_sd``, or names a reserved claim."""


@dataclass(frozen=True)
class Issued:
    """A freshly issued SD-JWT, as the issuer hands it to the holder."""

    sd_jwt: str
    """The compact SD-JWT with every disclosure, ending in ``~``."""
    issuer_jwt: str
    """The issuer-signed JWT alone (the part before the first ``~``)."""
    disclosures: Mapping[str, str]
    """Each disclosable claim's name to its encoded disclosure."""

    @property
    def issuer_jwt_sha256(self) -> bytes:
        """SHA-256 of the issuer-signed JWT: what the ledger attests."""
        return hashlib.sha256(self.issuer_jwt.encode("ascii")).digest()


@dataclass(frozen=True)
class Verified:
    """An SD-JWT whose signature and disclosures checked out."""

    header: Mapping[str, Any]
    """The issuer-signed JWT's protected header (``alg``, ``kid``, ``typ``)."""
    payload: Mapping[str, Any]
    """The signed payload as signed, ``_sd`` digests and ``_sd_alg`` included."""
    claims: Mapping[str, Any]
    """The disclosed claims, name to value; only those the presentation carried."""
    issuer_jwt: str
    """The issuer-signed JWT alone."""

    @property
    def issuer_jwt_sha256(self) -> bytes:
        """SHA-256 of the issuer-signed JWT: what the ledger attests for this license."""
        return hashlib.sha256(self.issuer_jwt.encode("ascii")).digest()

    @property
    def visible(self) -> dict[str, Any]:
        """The claims signed in the clear, without ``_sd`` and ``_sd_alg``."""
        return {k: v for k, v in self.payload.items() if k not in RESERVED_NAMES}

    @property
    def iss(self) -> str | None:
        """The issuer identifier (``iss``), if signed."""
        value = self.payload.get("iss")
        return value if isinstance(value, str) else None

    @property
    def vct(self) -> str:
        """The credential type (``vct``): certfree's license type code."""
        return str(self.payload["vct"])  # verify() refused a payload without a string vct

    @property
    def iat(self) -> int | None:
        """Issued-at (``iat``), seconds since the epoch, if signed."""
        return _time(self.payload, "iat")

    @property
    def nbf(self) -> int | None:
        """Not-before (``nbf``), seconds since the epoch, if signed."""
        return _time(self.payload, "nbf")

    @property
    def exp(self) -> int | None:
        """Expiry (``exp``), seconds since the epoch; ``None`` when the license does not expire."""
        return _time(self.payload, "exp")

    @property
    def status(self) -> Mapping[str, Any] | None:
        """The ``status`` claim (a Token Status List reference), if signed."""
        value = self.payload.get("status")
        return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class Parsed:
    """An SD-JWT whose format checked out, split and decoded once; nothing verified yet.

    What :func:`parse` returns and :func:`verify_parsed` checks: a verifier reads
    ``header["kid"]`` and ``payload["iss"]`` here to find the key, and nothing is
    decoded a second time.
    """

    issuer_jwt: str
    """The issuer-signed JWT alone."""
    header: dict[str, Any]
    """Its protected header, unverified."""
    payload: dict[str, Any]
    """Its payload, unverified."""
    sd_digests: list[str]
    """The payload's ``_sd`` digests."""
    signing_input: bytes
    """``<header>.<payload>`` as signed (RFC 7515 section 5.2)."""
    signature: bytes
    """The decoded signature."""
    disclosures: list[str]
    """The encoded disclosures, in the order presented."""


# --- the digest rule (RFC 9901 sections 4.2.1 and 4.2.3) ---------------------------


def digest(disclosure: str) -> str:
    """The base64url SHA-256 digest of an encoded disclosure.

    The input is the base64url text as it travels, not the JSON it decodes to
    (RFC 9901 section 4.2.3): two spellings of one claim have different digests.
    """
    return _b64encode(hashlib.sha256(disclosure.encode("ascii")).digest())


def encode_disclosure(salt: str, name: str, value: Any) -> str:
    """The base64url disclosure of object property `name` = `value` under `salt`.

    JSON as RFC 9901's examples write it (``", "`` separators, UTF-8 kept), so that the
    RFC's ``family_name`` example comes out byte for byte.
    """
    text = json.dumps([salt, name, value], ensure_ascii=False, allow_nan=False)
    return _b64encode(text.encode("utf-8"))


# --- issuing ------------------------------------------------------------------------


def issue(
    signer: Signer,
    *,
    vct: str,
    issuer: str,
    issued_at: int,
    not_before: int,
    expires: int | None,
    visible: Mapping[str, Any],
    disclosable: Mapping[str, Any],
    status: Mapping[str, Any] | None,
    typ: str = TYP_VC_SD_JWT,
    decoys: int = 0,
) -> Issued:
    """Sign an SD-JWT VC whose `disclosable` claims are each a separate disclosure.

    `visible` claims are signed in the clear (the license identifier, say). Each
    disclosable claim gets a fresh 128-bit salt; `decoys` random digests are mixed in,
    and the ``_sd`` digests are sorted, so neither their order nor their count says
    which claims exist. Raises ValueError when a claim name is reserved or given twice,
    or when a value is not JSON (NaN included).
    """
    if decoys < 0:
        raise ValueError("decoys must not be negative")
    _check_names(visible, disclosable)
    try:
        disclosures = {
            name: encode_disclosure(_salt(), name, value) for name, value in disclosable.items()
        }
    except TypeError:
        raise ValueError("a disclosable claim's value is not JSON") from None
    digests = [digest(d) for d in disclosures.values()]
    # RFC 9901 section 4.2.5: a decoy is the digest of a random value, shaped like a real one.
    digests += [digest(_salt()) for _ in range(decoys)]

    payload: dict[str, Any] = {"iss": issuer, "iat": issued_at, "nbf": not_before}
    if expires is not None:
        payload["exp"] = expires
    payload["vct"] = vct
    if status is not None:
        payload["status"] = dict(status)
    payload.update(visible)
    if digests:
        payload["_sd"] = sorted(digests)
    payload["_sd_alg"] = HASH_ALG

    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    issuer_jwt = signer.sign_compact({"typ": typ}, body.encode("utf-8"))
    sd_jwt = "~".join([issuer_jwt, *disclosures.values()]) + "~"
    return Issued(sd_jwt=sd_jwt, issuer_jwt=issuer_jwt, disclosures=disclosures)


def _check_names(visible: Mapping[str, Any], disclosable: Mapping[str, Any]) -> None:
    """Refuse what `verify` would refuse, so that nothing unverifiable is ever signed."""
    for name, value in visible.items():
        if name in RESERVED_NAMES or name in _ISSUE_ARGUMENTS:
            raise ValueError(f"visible claim {name!r} is reserved; pass it as its own argument")
        if _has_sd_keys(value):
            raise ValueError(f"visible claim {name!r} holds an '_sd' or '...' member")
    for name, value in disclosable.items():
        if name in RESERVED_NAMES or name in _ISSUE_ARGUMENTS:
            raise ValueError(f"claim {name!r} must not be selectively disclosable")
        if name in visible:
            raise ValueError(f"claim {name!r} is both visible and disclosable")
        if _has_sd_keys(value):
            raise ValueError(f"claim {name!r} holds an '_sd' or '...' member")


# --- presenting ---------------------------------------------------------------------


def present(sd_jwt: str, disclose: Collection[str]) -> str:
    """The SD-JWT with only the disclosures of the claims named in `disclose`.

    The issuer-signed JWT is kept as it is, so the presentation verifies against the
    same signature and attests to the same ledger entry. Raises ValueError naming the
    claims `sd_jwt` has no disclosure for, FormatError or DisclosureError when `sd_jwt`
    itself is malformed. The signature is not checked here: the verifier does that.
    """
    issuer_jwt, _, encoded = _split(sd_jwt)
    named = [(_decode_disclosure(item)[1], item) for item in encoded]
    wanted = set(disclose)
    unknown = wanted - {name for name, _ in named}
    if unknown:
        raise ValueError(f"no disclosure for claim(s) {sorted(unknown)}")
    chosen = [item for name, item in named if name in wanted]
    return "~".join([issuer_jwt, *chosen]) + "~"


# --- verifying ----------------------------------------------------------------------


def verify(
    sd_jwt: str,
    resolve_key: Callable[[dict[str, Any], dict[str, Any]], PublicKey],
) -> Verified:
    """Check an SD-JWT (issued or presented) and return what it proves.

    The checks run in the order the licenses service reports them: the layout, the
    header's ``typ`` and the payload's ``_sd_alg``, ``_sd`` and registered claims
    (FormatError); then `resolve_key(header, unverified_payload)`, which returns the
    issuer's public key by the payload's ``iss`` and the header's ``kid`` or raises
    (what it raises propagates unchanged); then the signature (SignatureError); then
    every disclosure against the signed ``_sd`` (DisclosureError). Time, status and
    schema are left to the caller.
    """
    parsed = parse(sd_jwt)
    return verify_parsed(parsed, resolve_key(parsed.header, parsed.payload))


def parse(sd_jwt: str) -> Parsed:
    """The format checks of :func:`verify`, decoding each part once; FormatError if bad.

    The header and payload are not yet trusted: use them only to find the key, then
    call :func:`verify_parsed`.
    """
    issuer_jwt, decoded, encoded = _split(sd_jwt)
    header = _json_object(decoded[0], "the JWT header")
    payload = _json_object(decoded[1], "the JWT payload")
    # Format first, on the parsed text, so that the order of the checks is the order
    # the licenses service reports them in: format, issuer key, signature, disclosures.
    _check_header(header)
    sd_digests = _check_payload(payload)
    return Parsed(
        issuer_jwt=issuer_jwt,
        header=header,
        payload=payload,
        sd_digests=sd_digests,
        signing_input=issuer_jwt[: issuer_jwt.rindex(".")].encode("ascii"),
        signature=decoded[2],
        disclosures=encoded,
    )


def verify_parsed(parsed: Parsed, key: PublicKey) -> Verified:
    """The signature (SignatureError), then every disclosure (DisclosureError), of `parsed`.

    The signature is checked over the very bytes `parsed` was decoded from, so the
    header and payload it carries are the signed ones.
    """
    key.verify_signature(parsed.header, parsed.signing_input, parsed.signature)
    payload = parsed.payload
    sd_digests = parsed.sd_digests

    # RFC 9901 section 7.1: a digest that occurs twice is refused, decoy or not.
    signed_digests = frozenset(sd_digests)
    if len(signed_digests) != len(sd_digests):
        raise DisclosureError("the signed _sd lists the same digest twice")

    claims: dict[str, Any] = {}
    seen: set[str] = set()
    for item in parsed.disclosures:
        _salt_value, name, value = _decode_disclosure(item)
        item_digest = digest(item)
        if item_digest in seen:
            raise DisclosureError(f"claim {_shorten(name)}: the same disclosure is presented twice")
        seen.add(item_digest)
        if item_digest not in signed_digests:
            raise DisclosureError(
                f"claim {_shorten(name)}: the disclosure's digest is not in the signed _sd"
            )
        if name in RESERVED_NAMES:
            raise DisclosureError(f"a disclosure names the reserved claim {_shorten(name)}")
        if name in NEVER_DISCLOSED or name in payload:
            raise DisclosureError(
                f"a disclosure names {_shorten(name)}, which the issuer signs in clear"
            )
        if name in claims:
            raise DisclosureError(f"claim {_shorten(name)} is disclosed twice")
        if _has_sd_keys(value):
            raise DisclosureError(
                f"claim {_shorten(name)} nests selective disclosure (not supported)"
            )
        claims[name] = value
    return Verified(
        header=parsed.header, payload=payload, claims=claims, issuer_jwt=parsed.issuer_jwt
    )


def _split(sd_jwt: str) -> tuple[str, list[bytes], list[str]]:
    """The issuer-signed JWT, its three decoded segments, and the encoded disclosures."""
    if not isinstance(sd_jwt, str):
        raise FormatError("an SD-JWT is text")
    if len(sd_jwt) > MAX_SD_JWT_CHARS:
        raise FormatError(f"the SD-JWT is longer than {MAX_SD_JWT_CHARS} characters")
    if not sd_jwt.isascii():
        raise FormatError("the SD-JWT contains non-ASCII characters")
    if "~" not in sd_jwt:
        raise FormatError("not a compact SD-JWT: no '~' after the issuer-signed JWT")
    # Count before splitting, so that a flood of separators costs nothing to refuse.
    if sd_jwt.count("~") - 1 > MAX_DISCLOSURES:
        raise FormatError(f"the SD-JWT carries more than {MAX_DISCLOSURES} disclosures")
    issuer_jwt, *disclosures, key_binding = sd_jwt.split("~")
    if key_binding:
        raise FormatError("key binding is not supported: the SD-JWT must end in '~'")
    segments = issuer_jwt.split(".")
    if len(segments) != 3 or not all(segments):
        raise FormatError("the issuer-signed JWT is not a compact JWS of three parts")
    decoded = [_b64decode(segment, "the issuer-signed JWT") for segment in segments]
    for item in disclosures:
        if not item:
            raise FormatError("an empty disclosure between two '~'")
    return issuer_jwt, decoded, disclosures


def _check_header(header: Mapping[str, Any]) -> None:
    typ = header.get("typ")
    if typ not in ACCEPTED_TYPS:
        raise FormatError(f"typ {_shorten(typ)} is not {TYP_VC_SD_JWT!r} or {TYP_DC_SD_JWT!r}")


def _check_payload(payload: Mapping[str, Any]) -> list[str]:
    """Check the signed payload's SD-JWT and SD-JWT VC claims; return its ``_sd`` digests."""
    if "_sd_alg" not in payload:
        raise FormatError("the payload has no _sd_alg")
    if payload["_sd_alg"] != HASH_ALG:
        raise FormatError(f"unsupported _sd_alg {_shorten(payload['_sd_alg'])}; only {HASH_ALG!r}")
    sd = payload.get("_sd", [])
    if not isinstance(sd, list) or not all(isinstance(d, str) for d in sd):
        raise FormatError("_sd is not an array of strings")
    for name, value in payload.items():
        if name not in RESERVED_NAMES and _has_sd_keys(value):
            raise FormatError(f"claim {_shorten(name)} nests selective disclosure (not supported)")
    if not isinstance(payload.get("vct"), str):
        raise FormatError("the payload has no string vct")
    for name, kind in (("iss", str), ("iat", int), ("nbf", int), ("exp", int), ("status", dict)):
        if name in payload and not _is(payload[name], kind):
            raise FormatError(f"claim {name!r} is not a {kind.__name__}")
    return sd


def _decode_disclosure(item: str) -> tuple[str, str, Any]:
    """Salt, claim name and value of an encoded object-property disclosure."""
    try:
        raw = _b64decode(item, "a disclosure")
        decoded = _json(raw, "a disclosure")
    except FormatError as error:
        raise DisclosureError(str(error)) from None
    if not isinstance(decoded, list) or len(decoded) != 3:
        raise DisclosureError("a disclosure is not an array of salt, claim name and value")
    salt, name, value = decoded
    if not isinstance(salt, str) or not isinstance(name, str):
        raise DisclosureError("a disclosure's salt or claim name is not a string")
    return salt, name, value


def _has_sd_keys(value: Any) -> bool:
    """Whether `value` holds ``_sd`` members or ``{"...": digest}`` array elements."""
    # Loops, not any() over a generator: this runs on every claim of every verify.
    if isinstance(value, dict):
        if "_sd" in value or "..." in value:
            return True
        for member in value.values():
            if isinstance(member, (dict, list)) and _has_sd_keys(member):
                return True
        return False
    if isinstance(value, list):
        for element in value:
            if isinstance(element, (dict, list)) and _has_sd_keys(element):
                return True
    return False


# --- encodings ----------------------------------------------------------------------


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str, what: str) -> bytes:
    """Decode unpadded, canonical base64url (RFC 7515 section 2), or raise FormatError."""
    remainder = len(text) % 4
    if not _BASE64URL.fullmatch(text) or remainder == 1:
        raise FormatError(f"{what} is not base64url")
    try:
        # The alphabet is checked above, so mapping it onto standard base64 is exact;
        # binascii directly skips base64.urlsafe_b64decode's layers of argument coercion.
        raw = binascii.a2b_base64(
            text.encode("ascii").translate(_TO_STANDARD) + b"=" * (-len(text) % 4)
        )
    except (binascii.Error, ValueError):
        raise FormatError(f"{what} is not base64url") from None
    # Canonical means the unused low bits of the last character are zero (RFC 4648
    # section 3.5): the same test as re-encoding and comparing, without re-encoding.
    if remainder and text[-1] not in _CANONICAL_LAST[remainder]:
        raise FormatError(f"{what} is not canonical base64url")
    return raw


def _json(raw: bytes, what: str) -> Any:
    """Parse UTF-8 JSON, refusing duplicate member names and NaN/Infinity."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(f"{what} is not JSON: not UTF-8") from None
    try:
        return _DECODER.decode(text)
    except ValueError as error:
        # The message of a JSON error quotes no input, only a position and a reason.
        detail = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
        raise FormatError(f"{what} is not JSON: {detail}") from None


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    value = _json(raw, what)
    if not isinstance(value, dict):
        raise FormatError(f"{what} is not a JSON object")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        # RFC 7519 section 4 lets a JWT parser refuse duplicate names; two values for
        # one claim would let two readers see two different credentials.
        raise ValueError("duplicate member name")
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# One decoder for every call: json.loads with hooks builds a new one each time.
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constant)


def _is(value: Any, kind: type) -> bool:
    # bool is an int to Python, but true is not a time.
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _time(payload: Mapping[str, Any], name: str) -> int | None:
    value = payload.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _shorten(value: Any) -> str:
    # Names and header values come from whoever made the SD-JWT; keep messages short.
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _salt() -> str:
    return _b64encode(secrets.token_bytes(SALT_BYTES))
