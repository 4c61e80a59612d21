"""DPoP proofs (RFC 9449): a client proves, per request, that it holds a token's key.

A token minted with ``cnf: {"jkt": <thumbprint>}`` (:mod:`runtime.tokens`) is
*sender-constrained*: it is accepted only as ``Authorization: DPoP <token>`` together
with a ``DPoP: <proof>`` header, a JWT the client signs for this one request with the
private key whose RFC 7638 JWK thumbprint is ``jkt``. A stolen token is useless without
that key, and a stolen proof is bound to one method, one URL, one token and a short
time window; the gateway remembers each proof's ``jti`` for that window, so even the
same request cannot be sent twice (the store's part, :mod:`gateway.store`).

Shortest use::

    proof = check_proof(request.headers["dpop"], method="GET",
                        url="https://gw.example/v1/ledger/entries/0",
                        access_token=token, jkt=claims.dpop_jkt, now=int(time.time()))
    # DpopError says which check failed; proof.jti is what the replay check remembers

The checks are RFC 9449 section 4.3's, in its order: one well-formed JWT; ``typ``
``dpop+jwt``; ``alg`` from :data:`ALGORITHMS` (asymmetric, never ``none``); a public
``jwk`` (no private members) under which joserfc verifies the signature; ``jti``,
``htm``, ``htu``, ``iat`` present; ``htm`` the request method; ``htu`` the request URL
without query and fragment, both normalised (section 4.3 point 9: RFC 3986 syntax-
and scheme-based normalisation); ``iat`` within :data:`PROOF_WINDOW_SECONDS` of now;
``ath`` the hash of the access token; and the ``jwk``'s thumbprint equal to the
token's ``cnf.jkt`` (section 7.1). Nonces (section 8) are not used. Pure: no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from joserfc import jws as jose_jws
from joserfc.errors import JoseError
from joserfc.jwk import thumbprint

from runtime.signing import SignatureError, public_key_from_jwk

PROOF_TYPE = "dpop+jwt"
"""The header ``typ`` of a DPoP proof (RFC 9449 section 4.2); no other JWT passes."""
ALGORITHMS: tuple[str, ...] = ("EdDSA", "ES256")
"""The proof ``alg`` values accepted: Ed25519 (RFC 8037) and P-256 ECDSA. Asymmetric only."""
PROOF_WINDOW_SECONDS = 60
"""How far a proof's ``iat`` may be from the gateway's clock, either way. RFC 9449
section 11.1 asks for a brief window; a minute allows for clients' clock skew, and the
gateway remembers every ``jti`` for as long as its proof could be accepted."""
MAX_PROOF_CHARS = 2048
"""Longest proof read; an ES256 proof is about 550 characters, an EdDSA one less."""
MAX_JTI_CHARS = 128
"""Longest ``jti`` accepted (section 11.1: refuse needlessly large ones); 16 random
bytes in base64url are 22 characters."""

_REQUIRED_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
# RFC 7638 section 3.2: the thumbprint hashes only these members (RFC 7518 6.2.1,
# RFC 8037 section 2), which is also all a verifier needs.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 3986 section 2.2 and 2.3: what stays literal in a normalised path.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


class DpopError(Exception):
    """A DPoP proof is refused; the message says which check failed."""


@dataclass(frozen=True)
class DpopProof:
    """What a proof that passed every check says."""

    jti: str
    """The proof's id: remembered by the gateway so that it is used once."""
    jkt: str
    """The RFC 7638 thumbprint of the key that signed it."""
    alg: str
    """The algorithm it was signed with."""
    htm: str
    """The HTTP method it was made for."""
    htu: str
    """The URL it was made for, as the client wrote it."""
    issued_at: int
    """``iat``, seconds since the epoch."""


def access_token_hash(access_token: str) -> str:
    """``ath``: base64url (no padding) of SHA-256 of the token's ASCII (section 4.2)."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of an EC or OKP public `jwk`; DpopError when the
    key type is not one a proof may use or a required member is missing."""
    members = _REQUIRED_MEMBERS.get(str(jwk.get("kty")))
    if members is None:
        raise DpopError("the proof's jwk is not an EC or OKP key")
    if not all(isinstance(jwk.get(name), str) for name in members):
        raise DpopError(f"the proof's jwk lacks one of {', '.join(members)}")
    return thumbprint({name: jwk[name] for name in members})


def normalise_url(url: str) -> str:
    """`url` without query and fragment, normalised as RFC 9449 section 4.3 asks (RFC 3986
    sections 6.2.2 and 6.2.3): lower-case scheme and host, no default port, an empty path
    as ``/``, percent-encoding made canonical. ValueError when it is not an absolute
    http(s) URL."""
    parts = urlsplit(url)  # no strip(): a space the client signed is part of its path
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError("not an absolute http or https URL")
    if "@" in parts.netloc:
        raise ValueError("the URL carries user information")
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal: urlsplit took its brackets off
        host = f"[{host}]"
    port = parts.port  # ValueError for a port that is not a number in range
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe=_PATH_SAFE) or "/"
    return urlunsplit((scheme, netloc, path, "", ""))


def check_proof(
    proof: str,
    *,
    method: str,
    url: str | Sequence[str],
    access_token: str | None,
    jkt: str | None,
    now: int,
    leeway: int = PROOF_WINDOW_SECONDS,
) -> DpopProof:
    """The proof's content if `proof` passes every check of RFC 9449 section 4.3 for a
    request with `method` to `url` (or to any of several URLs the same resource is known
    by); else DpopError naming the check.

    `access_token` is the token the request presents (its hash must be ``ath``), None for
    a request without one (a token request, where ``ath`` is not checked). `jkt` is the
    token's ``cnf.jkt`` (the proof's key must have it), None when no key is bound yet.
    `now` is the checker's clock; ``iat`` may differ from it by `leeway` seconds. The
    ``jti`` is only checked for form: that it was not used before is the caller's check.
    """
    if len(proof) > MAX_PROOF_CHARS:
        raise DpopError("the DPoP proof is too long")
    header = _header(proof)
    if header.get("typ") != PROOF_TYPE:
        raise DpopError(f"the DPoP proof's typ must be {PROOF_TYPE}")
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise DpopError(f"the DPoP proof's alg must be one of {', '.join(ALGORITHMS)} (asymmetric)")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise DpopError("the DPoP proof's header carries no jwk")
    if _PRIVATE_MEMBERS.intersection(jwk):
        raise DpopError("the DPoP proof's jwk carries a private key")
    key_thumbprint = jwk_thumbprint(jwk)
    claims = _verified_claims(proof, jwk, key_thumbprint)
    for name in ("jti", "htm", "htu", "iat"):
        if name not in claims:
            raise DpopError(f"the DPoP proof lacks the claim {name}")
    jti, htm, htu, iat = claims["jti"], claims["htm"], claims["htu"], claims["iat"]
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_CHARS:
        raise DpopError(f"the DPoP proof's jti must be a string of 1-{MAX_JTI_CHARS} characters")
    if htm != method:
        raise DpopError("the DPoP proof's htm is not this request's method")
    if not isinstance(htu, str) or not _same_url(htu, url):
        raise DpopError("the DPoP proof's htu is not this request's URL")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise DpopError("the DPoP proof's iat must be a NumericDate")
    if abs(now - iat) > leeway:
        raise DpopError(f"the DPoP proof's iat is more than {leeway} s from the gateway's clock")
    if access_token is not None and claims.get("ath") != access_token_hash(access_token):
        raise DpopError("the DPoP proof's ath is not the hash of the access token presented")
    if jkt is not None and key_thumbprint != jkt:
        raise DpopError(
            "the DPoP proof is signed by a key other than the one the token is bound to"
        )
    return DpopProof(jti=jti, jkt=key_thumbprint, alg=alg, htm=htm, htu=htu, issued_at=int(iat))


def _header(proof: str) -> dict[str, Any]:
    """The protected header of compact JWS `proof`, not yet verified."""
    try:
        signed = jose_jws.extract_compact(proof.encode("ascii"))
    except (JoseError, ValueError, UnicodeError):
        raise DpopError("the DPoP proof is not a compact JWS") from None
    return dict(signed.protected)


def _verified_claims(proof: str, jwk: Mapping[str, Any], key_id: str) -> dict[str, Any]:
    """The claims of `proof` once joserfc has verified it under `jwk`."""
    public = {name: jwk[name] for name in _REQUIRED_MEMBERS[str(jwk["kty"])]}
    try:
        verifier = public_key_from_jwk({**public, "kid": key_id})
    except ValueError as error:
        raise DpopError(f"the DPoP proof's jwk is refused: {error}") from None
    if verifier.alg not in ALGORITHMS:  # an SM2 key: runtime.signing knows it, DPoP not
        raise DpopError("the DPoP proof's jwk is not a key of an accepted alg")
    try:
        _, payload = verifier.verify_compact(proof)
    except SignatureError as error:
        raise DpopError(f"the DPoP proof's signature is refused: {error}") from None
    try:
        claims = json.loads(payload)
    except ValueError:
        raise DpopError("the DPoP proof's payload is not JSON") from None
    if not isinstance(claims, dict):
        raise DpopError("the DPoP proof's payload is not a JSON object")
    return claims


def _same_url(htu: str, url: str | Sequence[str]) -> bool:
    """Whether `htu` names `url` (or one of them) once both are normalised."""
    try:
        claimed = normalise_url(htu)
    except ValueError:
        return False
    for candidate in (url,) if isinstance(url, str) else url:
        try:
            if normalise_url(candidate) == claimed:
                return True
        except ValueError:
            continue
    return False
