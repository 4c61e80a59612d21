"""Bearer tokens for the gateway: scoped, expiring, revocable JWTs signed with Ed25519.

Intake systems (and, later, people using the pages) present ``Authorization: Bearer
<token>`` to the gateway. A token is a JWT in the RFC 9068 access-token profile
(header ``typ`` ``at+jwt``), signed EdDSA (Ed25519) by joserfc through
:class:`runtime.signing.JoseSigner`, with these claims:

==============  ============================================================================
``iss``         the deployment (``CERTFREE_PUBLIC_URL``)
``aud``         the gateway (``CERTFREE_TOKEN_AUDIENCE``); a token for another audience fails
``sub``         the system or staff name (never a resident ID); ``client_id`` repeats it
``department``  the caller's department, a USCC whose check character is verified
``role``        a certfree role; never ``service`` or ``gateway`` (those are certificates')
``scope``       space-separated API groups (``licenses:read proofs``), RFC 9068 section 2.2.3
``iat nbf exp`` issued, valid from, expires (NumericDate); the lifetime is capped by role
``jti``         the token's id, which revocation names
``cnf``         optional: ``{"jkt": <RFC 7638 thumbprint>}`` binds the token to a client key
                (RFC 9449 DPoP); the gateway then wants a proof signed by that key
==============  ============================================================================

Shortest use::

    key = load_token_key(settings)
    policy = TokenPolicy.of(settings)
    token = key.mint(policy.claims(department=..., role="intake", subject="desk-3",
                                   scopes=["proofs"], lifetime=timedelta(days=7), now=now))
    claims = key.verify(token, policy, now=now)     # TokenError says which check failed

A token with ``cnf.jkt`` (``policy.claims(..., dpop_jkt=thumbprint)``) keeps it in
:attr:`TokenClaims.dpop_jkt`; checking the client's proof of that key is
:mod:`runtime.dpop`'s job, at the gateway.

Revocation and the list of issued tokens live in the store (:mod:`gateway.store`);
this module does no I/O beyond reading the key file.
"""

from __future__ import annotations

import json
import re
import secrets as random_ids
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError, MissingClaimError
from joserfc.jwk import KeyParameters, OKPKey
from joserfc.jws import extract_compact
from joserfc.jwt import JWTClaimsRegistry

from runtime.config import ConfigError, Settings
from runtime.errors import InvalidArgument
from runtime.holders import check_uscc, is_index_token
from runtime.logs import get_logger
from runtime.secrets import MIN_BYTES, create_secret_file
from runtime.signing import JoseSigner, SignatureError

ALG = "EdDSA"
"""The JOSE ``alg`` of every token (Ed25519, RFC 8037)."""
TOKEN_TYPE = "at+jwt"  # noqa: S105 (a media type, not a secret)
"""The header ``typ`` of an RFC 9068 access token; checked, so no other JWT passes."""

TOKEN_ROLES: tuple[str, ...] = (
    "intake",
    "clerk",
    "officer",
    "issuer",
    "supervisor",
    "auditor",
    "operator",
    "holder",
)
"""Roles a token may carry. ``service`` and ``gateway`` belong to certificates only."""
SYSTEM_ROLES = frozenset({"intake"})
"""Roles of systems rather than people: their tokens may live days, not hours."""

MAX_TOKEN_CHARS = 4096
"""Longest token the gateway reads; a real one is under 700 characters."""

_SUBJECT = re.compile(r"^[A-Za-z0-9._@:-]{1,128}$")  # the forwarded-subject rule of identity.py
_SCOPE = re.compile(r"^[a-z]+(:[a-z]+)?$")
_JTI = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_JKT = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url of a SHA-256 digest, unpadded
_DERIVATION_INFO = b"certfree gateway bearer token signing key v1"
_log = get_logger("tokens")


def valid_token_id(token_id: str) -> bool:
    """Whether `token_id` has the form of a ``jti`` this module makes."""
    return bool(_JTI.match(token_id))


class TokenError(Exception):
    """A token is refused; the message says which check failed (never a resident ID)."""


@dataclass(frozen=True)
class TokenClaims:
    """What a verified (or about to be signed) token says."""

    issuer: str
    """``iss``: the deployment's public URL."""
    audience: str
    """``aud``: the gateway audience."""
    subject: str
    """``sub``: the system or staff name."""
    department: str
    """The department's USCC."""
    role: str
    """A role of :data:`TOKEN_ROLES`."""
    scopes: tuple[str, ...]
    """The API groups the token may call."""
    issued_at: int
    """``iat``, seconds since the epoch."""
    not_before: int
    """``nbf``, seconds since the epoch."""
    expires_at: int
    """``exp``, seconds since the epoch."""
    token_id: str
    """``jti``: what ``certfree tokens revoke`` names."""
    dpop_jkt: str | None = None
    """``cnf.jkt``: the RFC 7638 thumbprint of the client key the token is bound to
    (RFC 9449 DPoP), None for a plain bearer token."""

    def as_jwt(self) -> dict[str, Any]:
        """The JWT claims set."""
        bound = {"cnf": {"jkt": self.dpop_jkt}} if self.dpop_jkt is not None else {}
        return bound | {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": self.subject,
            "client_id": self.subject,
            "department": self.department,
            "role": self.role,
            "scope": " ".join(self.scopes),
            "iat": self.issued_at,
            "nbf": self.not_before,
            "exp": self.expires_at,
            "jti": self.token_id,
        }

    def allows(self, scope: str) -> bool:
        """Whether the token's scopes include `scope`."""
        return scope in self.scopes


@dataclass(frozen=True)
class TokenPolicy:
    """The deployment's rules for tokens: who issues them, for whom, for how long."""

    issuer: str
    """``iss`` of every token: the deployment's public URL."""
    audience: str
    """``aud`` of every token: the gateway."""
    leeway_seconds: int
    """Clock skew allowed on ``iat``, ``nbf`` and ``exp``."""
    max_person_lifetime: timedelta
    """Longest lifetime of a person's token."""
    max_system_lifetime: timedelta
    """Longest lifetime of a system's (intake) token."""

    @classmethod
    def of(cls, settings: Settings) -> TokenPolicy:
        """The policy the settings describe."""
        return cls(
            issuer=settings.public_url,
            audience=settings.token_audience,
            leeway_seconds=settings.token_leeway_seconds,
            max_person_lifetime=timedelta(hours=settings.token_max_hours),
            max_system_lifetime=timedelta(days=settings.token_max_system_days),
        )

    def max_lifetime(self, role: str) -> timedelta:
        """The longest lifetime a token of `role` may have."""
        return self.max_system_lifetime if role in SYSTEM_ROLES else self.max_person_lifetime

    def claims(
        self,
        *,
        department: str,
        role: str,
        subject: str,
        scopes: Iterable[str],
        lifetime: timedelta,
        now: datetime,
        dpop_jkt: str | None = None,
    ) -> TokenClaims:
        """New claims for a token valid from `now` for `lifetime`, bound to the client key
        whose RFC 7638 thumbprint is `dpop_jkt` when given (RFC 9449); TokenError when a
        value breaks a rule (the message names the value's field, not a personal value)."""
        chosen = tuple(dict.fromkeys(scopes))
        seconds = int(lifetime.total_seconds())
        if seconds <= 0:
            raise TokenError("a token's lifetime must be positive")
        if lifetime > self.max_lifetime(role):
            raise TokenError(
                f"a {role} token may live at most {_span(self.max_lifetime(role))}; "
                f"{_span(lifetime)} was asked"
            )
        issued = int(now.timestamp())
        claims = TokenClaims(
            issuer=self.issuer,
            audience=self.audience,
            subject=subject,
            department=department,
            role=role,
            scopes=chosen,
            issued_at=issued,
            not_before=issued,
            expires_at=issued + seconds,
            token_id=random_ids.token_urlsafe(16),
            dpop_jkt=dpop_jkt,
        )
        _check_values(claims)
        return claims


def _span(lifetime: timedelta) -> str:
    hours = lifetime.total_seconds() / 3600
    return f"{hours / 24:g} days" if hours >= 48 else f"{hours:g} hours"


def _check_values(claims: TokenClaims) -> None:
    """The rules on certfree's own claims, for minting and for verifying alike."""
    if not _SUBJECT.match(claims.subject):
        raise TokenError("the token's sub must be 1-128 of [A-Za-z0-9._@:-]")
    # A holder's subject is their identity: services compare it with the holder a request
    # names (runtime.holder_binding), so it must be a holder index token, never a name.
    if claims.role == "holder" and not is_index_token(claims.subject):
        raise TokenError("a holder token's sub must be a holder index token (p:... or o:...)")
    try:
        check_uscc(claims.department, "department")
    except InvalidArgument as error:
        raise TokenError(f"the token's department is not a valid USCC: {error}") from None
    if claims.role not in TOKEN_ROLES:
        raise TokenError(f"a token may not carry role {claims.role[:20]!r}")
    if not claims.scopes:
        raise TokenError("the token names no scope")
    for scope in claims.scopes:
        if not _SCOPE.match(scope):
            raise TokenError(f"the token's scope {scope[:40]!r} is not a scope name")
    if not _JTI.match(claims.token_id):
        raise TokenError("the token's jti is not a token id")
    if not claims.issued_at <= claims.not_before < claims.expires_at:
        raise TokenError("the token's iat, nbf and exp are out of order")
    if claims.dpop_jkt is not None and not _JKT.match(claims.dpop_jkt):
        raise TokenError("the token's cnf.jkt is not a SHA-256 JWK thumbprint (43 of base64url)")


class TokenKey:
    """The gateway's token key: signs new tokens and verifies presented ones."""

    def __init__(self, private_key: Ed25519PrivateKey, previous: Sequence[TokenKey] = ()) -> None:
        """Wrap `private_key`; its ``kid`` is its RFC 7638 JWK thumbprint.

        `previous` are the keys this one replaced (``CERTFREE_TOKEN_PREVIOUS_KEY_FILES``):
        tokens they signed still verify, by their ``kid``, until they expire; new tokens
        are signed with `private_key` only.
        """
        key_id = OKPKey.import_key(private_key).thumbprint()
        parameters: KeyParameters = {"kid": key_id, "alg": ALG, "use": "sig"}
        self._signer = JoseSigner(ALG, key_id, OKPKey.import_key(private_key, parameters))
        self._public = self._signer.public_key()
        self._private = private_key
        self._verifiers = {key.key_id: key._public for key in previous}
        self._verifiers[key_id] = self._public

    def replacing(self, previous: Sequence[TokenKey]) -> TokenKey:
        """This key, still accepting the tokens that the `previous` keys signed."""
        return TokenKey(self._private, previous)

    @property
    def key_id(self) -> str:
        """The ``kid`` in every token's header."""
        return self._signer.key_id

    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK, for anyone who wants to check tokens offline."""
        return self._public.jwk()

    def mint(self, claims: TokenClaims) -> str:
        """The signed compact JWT of `claims`."""
        payload = json.dumps(claims.as_jwt(), separators=(",", ":"), sort_keys=True).encode()
        return self._signer.sign_compact({"typ": TOKEN_TYPE}, payload)

    def verify(self, token: str, policy: TokenPolicy, *, now: int) -> TokenClaims:
        """The claims of `token` if every check passes; else TokenError naming the check.

        In order: length; the signature (by the key its ``kid`` names: this key or one it
        replaced; alg EdDSA only, so ``alg: none`` and other keys fail); ``typ``; the
        payload is a JSON object; ``iss``, ``aud``, ``exp``, ``nbf`` and ``iat`` (with the
        policy's leeway), ``sub`` and ``jti`` present; then certfree's rules on department,
        role, scope and the lifetime cap. Revocation is the caller's check (the store knows
        it).
        """
        if len(token) > MAX_TOKEN_CHARS:
            raise TokenError("the token is too long")
        try:
            key_id = extract_compact(token.encode("ascii")).protected.get("kid")
        except (ValueError, UnicodeEncodeError, JoseError):
            raise TokenError("the token's signature is refused: not a compact JWS") from None
        public = self._verifiers.get(key_id) if isinstance(key_id, str) else None
        if public is None:
            raise TokenError(
                "the token's signature is refused: its kid names a key this gateway does not "
                "know (rotated out, or another deployment's)"
            )
        try:
            header, payload = public.verify_compact(token)
        except SignatureError as error:
            raise TokenError(f"the token's signature is refused: {error}") from None
        if header.get("typ") not in (TOKEN_TYPE, f"application/{TOKEN_TYPE}"):
            raise TokenError(f"the token's typ must be {TOKEN_TYPE}")
        try:
            claims = json.loads(payload)
        except ValueError:
            raise TokenError("the token's payload is not JSON") from None
        if not isinstance(claims, dict):
            raise TokenError("the token's payload is not a JSON object")
        registry = JWTClaimsRegistry(
            now=now,
            leeway=policy.leeway_seconds,
            iss={"essential": True, "value": policy.issuer},
            aud={"essential": True, "value": policy.audience},
            sub={"essential": True},
            exp={"essential": True},
            nbf={"essential": True},
            iat={"essential": True},
            jti={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise TokenError("the token has expired") from None
        except MissingClaimError as error:
            raise TokenError(f"the token lacks the claim(s) {error.claim}") from None
        except ClaimError as error:
            raise TokenError(f"the token's {error.claim} claim is refused: {error}") from None
        verified = _claims_of(claims)
        _check_values(verified)
        if (
            verified.expires_at - verified.issued_at
            > policy.max_lifetime(verified.role).total_seconds()
        ):
            raise TokenError("the token lives longer than its role allows")
        return verified


def _claims_of(claims: Mapping[str, Any]) -> TokenClaims:
    """TokenClaims of a claims set joserfc's registry has checked (types checked here)."""
    audience = claims["aud"]
    values = {
        "department": claims.get("department"),
        "role": claims.get("role"),
        "scope": claims.get("scope"),
    }
    for name, value in values.items():
        if not isinstance(value, str):
            raise TokenError(f"the token's {name} claim must be a string")
    for name in ("iat", "nbf", "exp"):
        if isinstance(claims[name], bool) or not isinstance(claims[name], int):
            raise TokenError(f"the token's {name} claim must be a whole number")
    confirmation = claims.get("cnf")
    if confirmation is not None and (
        not isinstance(confirmation, dict) or not isinstance(confirmation.get("jkt"), str)
    ):
        # RFC 7800 allows other confirmation methods; certfree mints only jkt, and a
        # token bound some other way must not pass as a bearer token.
        raise TokenError("the token's cnf claim must be an object with a jkt string")
    return TokenClaims(
        issuer=str(claims["iss"]),
        audience=audience if isinstance(audience, str) else " ".join(audience),
        subject=str(claims["sub"]),
        department=str(values["department"]),
        role=str(values["role"]),
        scopes=tuple(str(values["scope"]).split()),
        issued_at=claims["iat"],
        not_before=claims["nbf"],
        expires_at=claims["exp"],
        token_id=str(claims["jti"]),
        dpop_jkt=None if confirmation is None else confirmation["jkt"],
    )


# --- the key file ------------------------------------------------------------------------

TOKEN_KEY_SETTING = "CERTFREE_TOKEN_KEY_FILE"  # noqa: S105 (a variable name)
PREVIOUS_KEYS_SETTING = "CERTFREE_TOKEN_PREVIOUS_KEY_FILES"


def key_from_bytes(content: bytes) -> TokenKey:
    """The token key in a key file's `content`: an Ed25519 private key in PEM, or a
    secret of at least :data:`runtime.secrets.MIN_BYTES` bytes from which HKDF-SHA256
    derives the Ed25519 seed. ValueError says what is wrong, never the key."""
    content = content.strip()
    if content.startswith(b"-----BEGIN"):
        try:
            private = load_pem_private_key(content, password=None)
        except (ValueError, TypeError):
            raise ValueError("the PEM is not an unencrypted private key") from None
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError("the PEM holds a private key that is not Ed25519")
        return TokenKey(private)
    if len(content) < MIN_BYTES:
        raise ValueError(f"it holds fewer than {MIN_BYTES} bytes")
    seed = HKDF(hashes.SHA256(), 32, salt=None, info=_DERIVATION_INFO).derive(content)
    return TokenKey(Ed25519PrivateKey.from_private_bytes(seed))


def load_token_key(settings: Settings) -> TokenKey:
    """The gateway's token key from ``CERTFREE_TOKEN_KEY_FILE``.

    Development creates a missing file with :func:`runtime.secrets.create_secret_file`
    (race-free: every gateway replica and the CLI read the same bytes); production
    refuses it. ConfigError names the setting and the path.
    """
    path = settings.key_path("token_key")
    if not path.exists():
        if settings.mode == "production":
            raise ConfigError(f"{TOKEN_KEY_SETTING}: {path} does not exist")
        if create_secret_file(path):
            _log.warning("created a new development token key", path=str(path))
    previous = [
        _read_key(Path(name), PREVIOUS_KEYS_SETTING)
        for name in settings.token_previous_key_files.split()
    ]
    return _read_key(path, TOKEN_KEY_SETTING).replacing(previous)


def _read_key(path: Path, setting: str) -> TokenKey:
    try:
        return key_from_bytes(path.read_bytes())
    except OSError as error:
        raise ConfigError(f"{setting}: {path}: {error.strerror}") from None
    except ValueError as error:
        raise ConfigError(f"{setting}: {path}: {error}") from None
