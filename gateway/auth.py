"""Who is calling the gateway, and may they: bearer tokens, scopes, revocation, rate limits.

:meth:`Gatekeeper.admit` runs for every transcoded route before anything is sent
upstream and returns the identity metadata to forward, or the refusal to answer:

1. The route's scope (:mod:`gateway.scopes`). Public routes need no token; without one
   the gateway forwards them as the *public caller* (role ``auditor``, subject
   ``public``, the department of the gateway's own certificate). A token sent anyway is
   checked like any other and its caller forwarded (a signed-in page is itself
   everywhere); a bad one is refused, not ignored.
2. Otherwise ``Authorization: Bearer <token>``, verified by :mod:`runtime.tokens`
   (signature, ``typ``, ``iss``, ``aud``, ``nbf``/``exp`` with leeway, claim rules).
   401 ``invalid_token`` when it fails, 401 without an error code when it is missing
   (RFC 6750 section 3.1). With ``--insecure-dev`` a request without a token keeps the
   development identity: its own ``x-certfree-*`` headers travel on.
3. One store round trip: is the token revoked (401), is the caller over its rate
   (429 with ``Retry-After``; the caller is the token's department and subject, else
   the client's address).
4. The token's scopes must include the route's (403 ``insufficient_scope``).

A token bound to a client key (``cnf.jkt``, RFC 9449 DPoP) passes step 2 only as
``Authorization: DPoP <token>`` with exactly one ``DPoP`` header holding a proof that
:func:`runtime.dpop.check_proof` accepts for this request's method and URL; as
``Bearer`` it is 401 ``invalid_token``, with a bad proof 401 ``invalid_dpop_proof``
(RFC 9449 section 7.1), both challenged with the ``DPoP`` scheme. Step 3's round trip
also records the proof's ``jti``: a proof seen before is 401 ``invalid_dpop_proof``.
An unbound token presented as ``DPoP`` is refused: it proves nothing.

The identity forwarded comes from the token only: a client's own ``x-certfree-*``
headers are never forwarded unless the gateway runs ``--insecure-dev`` without a token.
Services trust these headers only from the gateway's certificate (runtime/identity.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import error_status, status_response
from gateway.routes import RpcRoute
from gateway.scopes import PUBLIC, scope_of
from gateway.store import GatewayStore, ProofUse, RateLimit
from gateway.transcode import TranscodeError
from genproto.certfree.common.v1 import common_pb2
from runtime.config import ConfigError, Settings
from runtime.dpop import ALGORITHMS, PROOF_WINDOW_SECONDS, DpopError, DpopProof, check_proof
from runtime.identity import DEPARTMENT_HEADER, ROLE_HEADER, SUBJECT_HEADER
from runtime.logs import get_logger
from runtime.pki import PkiError, identity_of, load_certificates
from runtime.server import REQUEST_ID_HEADER
from runtime.store import StoreUnavailable
from runtime.tokens import TokenError, TokenKey, TokenPolicy

IDENTITY_HEADERS = (DEPARTMENT_HEADER, ROLE_HEADER, SUBJECT_HEADER)
REALM = "certfree"
BEARER = "Bearer"
DPOP = "DPoP"
"""The two ``Authorization`` schemes (RFC 6750, RFC 9449); also their challenges'."""
DPOP_HEADER = "dpop"
PUBLIC_ROLE = "auditor"
"""The role of the public caller: read-only oversight, the nearest to "anyone"."""
PUBLIC_SUBJECT = "public"
"""The subject of the public caller, in the services' logs."""

Metadata = list[tuple[str, str]]
_log = get_logger("gateway")


@dataclass(frozen=True)
class Refusal:
    """An answer instead of an upstream call."""

    response: Response
    """The error response, in the gateway's google.rpc.Status JSON."""


def public_department(settings: Settings) -> str | None:
    """The department of the gateway's own certificate (None without TLS settings);
    ConfigError when the certificate names no certfree identity."""
    if not settings.tls_configured:
        return None
    try:
        certificate = load_certificates(settings.tls_cert_file.read_bytes())[0]
        return identity_of(certificate).department
    except (OSError, PkiError) as error:
        raise ConfigError(f"CERTFREE_TLS_CERT_FILE: {error}") from None


class Gatekeeper:
    """The gateway's authentication, scope check and rate limit, for every API route."""

    def __init__(
        self,
        *,
        key: TokenKey,
        policy: TokenPolicy,
        store: GatewayStore | None,
        limit: RateLimit | None,
        forward_dev_identity: bool,
        public_department: str | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`store` None skips revocation and rate checks (development only: build_app
        refuses it in production)."""
        self.key = key
        self.policy = policy
        self.store = store
        self.limit = limit
        self.forward_dev_identity = forward_dev_identity
        self.public_caller: Metadata = (
            [
                (DEPARTMENT_HEADER, public_department),
                (ROLE_HEADER, PUBLIC_ROLE),
                (SUBJECT_HEADER, PUBLIC_SUBJECT),
            ]
            if public_department
            else []
        )
        self.clock = clock

    async def admit(self, request: Request, route: RpcRoute) -> Metadata | Refusal:
        """The identity metadata to forward for `request`, or the refusal to send."""
        scope = scope_of(route)
        address = f"ip:{request.client.host if request.client else 'unknown'}"
        authorization = request.headers.get("authorization")
        if scope == PUBLIC and authorization is None:
            forwarded = self._dev_identity(request) or self.public_caller
            return await self._limited(request, address, None, forwarded)
        if authorization is None:
            if self.forward_dev_identity:
                return await self._limited(request, address, None, self._dev_identity(request))
            return _unauthenticated(request, "this route needs a bearer token", error=None)
        now = int(self.clock())
        try:
            scheme, token = _credentials(authorization)
            claims = self.key.verify(token, self.policy, now=now)
        except TokenError as error:
            return await self._refuse_guess(request, address, str(error), "invalid_token")
        proof: DpopProof | None = None
        if claims.dpop_jkt is not None:
            if scheme != DPOP:
                # RFC 9449 section 7.2: a bound token sent as a bearer token is refused.
                message = (
                    "the token is bound to a DPoP key: send it as 'Authorization: DPoP "
                    "<token>' with a DPoP proof header"
                )
                return await self._refuse_guess(request, address, message, "invalid_token", DPOP)
            try:
                proof = self._proof(request, token, claims.dpop_jkt, now)
            except DpopError as error:
                return await self._refuse_guess(
                    request, address, str(error), "invalid_dpop_proof", DPOP
                )
        elif scheme == DPOP:
            message = "the token is not bound to a DPoP key: send it as 'Bearer <token>'"
            return await self._refuse_guess(request, address, message, "invalid_token", DPOP)
        forwarded = [
            (DEPARTMENT_HEADER, claims.department),
            (ROLE_HEADER, claims.role),
            (SUBJECT_HEADER, claims.subject),
        ]
        caller = f"token:{claims.department}:{claims.subject}"
        admitted = await self._limited(request, caller, claims.token_id, forwarded, proof, now)
        if isinstance(admitted, Refusal):
            return admitted
        if scope != PUBLIC and not claims.allows(scope):
            return _refused(
                request,
                403,
                grpc.StatusCode.PERMISSION_DENIED,
                f"the token's scopes do not include {scope}, which this route needs",
                reason=common_pb2.ROLE_NOT_ALLOWED,
                metadata={"scope": scope},
                challenge=f'error="insufficient_scope", scope="{scope}"',
                scheme=scheme,
            )
        return admitted

    def _proof(self, request: Request, token: str, jkt: str, now: int) -> DpopProof:
        """The request's one DPoP proof, checked for this request, `token` and `jkt`."""
        proofs = request.headers.getlist(DPOP_HEADER)
        if len(proofs) != 1:
            raise DpopError(f"a DPoP token needs exactly one DPoP header; {len(proofs)} came")
        # The URL as this request names it, and as the deployment publishes the gateway
        # (CERTFREE_PUBLIC_URL, the tokens' iss): behind a TLS-terminating proxy the
        # client signs the public one, which the gateway cannot see in the request.
        seen = str(request.url.replace(query="", fragment=""))
        public = self.policy.issuer + request.url.path
        return check_proof(
            proofs[0],
            method=request.method,
            url=(seen, public),
            access_token=token,
            jkt=jkt,
            now=now,
        )

    async def _refuse_guess(
        self, request: Request, address: str, message: str, error: str, scheme: str = BEARER
    ) -> Refusal:
        """401 `error`: a bad token or proof. It counts against the client's address, so
        guessing is rate limited too."""
        limited = await self._limited(request, address, None, [])
        if isinstance(limited, Refusal):
            return limited
        return _unauthenticated(request, message, error=error, scheme=scheme)

    async def _limited(
        self,
        request: Request,
        caller: str,
        token_id: str | None,
        forwarded: Metadata,
        proof: DpopProof | None = None,
        now: int = 0,
    ) -> Metadata | Refusal:
        """`forwarded`, unless the token is revoked, its proof used before, or the caller
        over its rate."""
        if self.store is None:
            return forwarded
        use = None
        if proof is not None:
            # Remembered until the proof's iat window has passed at this clock, plus a
            # second for the rounding of iat and now to whole seconds.
            remember = proof.issued_at + PROOF_WINDOW_SECONDS - now + 1
            use = ProofUse(proof.jkt, proof.jti, remember_ms=max(1, remember) * 1000)
        try:
            admission = await self.store.admit(
                token_id=token_id, caller=caller, limit=self.limit, proof=use
            )
        except StoreUnavailable:
            return _refused(
                request,
                503,
                grpc.StatusCode.UNAVAILABLE,
                "the gateway cannot check tokens: its store did not answer; retry",
                reason=common_pb2.BACKEND_UNAVAILABLE,
            )
        scheme = BEARER if proof is None else DPOP
        if admission.revoked:
            return _unauthenticated(
                request, "the token has been revoked", error="invalid_token", scheme=scheme
            )
        if admission.replayed:
            return _unauthenticated(
                request, "the DPoP proof was already used", error="invalid_dpop_proof", scheme=DPOP
            )
        if admission.retry_after_ms:
            seconds = admission.retry_after_seconds
            return _refused(
                request,
                429,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"too many requests from this caller; retry after {seconds} s",
                reason=common_pb2.RATE_LIMITED,
                metadata={"retry_after_seconds": str(seconds)},
                headers={"Retry-After": str(seconds)},
            )
        return forwarded

    def _dev_identity(self, request: Request) -> Metadata:
        """The request's own x-certfree-* headers, with --insecure-dev only."""
        if not self.forward_dev_identity:
            return []
        metadata: Metadata = []
        for header in IDENTITY_HEADERS:
            value = request.headers.get(header)
            if value is None:
                continue
            if not (value.isascii() and value.isprintable()):
                raise TranscodeError(f"header {header} must be printable ASCII", field=header)
            metadata.append((header, value))
        return metadata


def _credentials(authorization: str) -> tuple[str, str]:
    """The scheme (:data:`BEARER` or :data:`DPOP`; case-insensitive, RFC 9110 section
    11.1) and token of an ``Authorization`` header."""
    scheme, _, token = authorization.strip().partition(" ")
    for known in (BEARER, DPOP):
        if scheme.lower() == known.lower() and token.strip():
            return known, token.strip()
    raise TokenError("the Authorization header must be 'Bearer <token>' or 'DPoP <token>'")


def _unauthenticated(
    request: Request, message: str, *, error: str | None, scheme: str = BEARER
) -> Refusal:
    challenge = f'error="{error}", error_description="{_quoted(message)}"' if error else ""
    return _refused(
        request,
        401,
        grpc.StatusCode.UNAUTHENTICATED,
        message,
        reason=common_pb2.UNAUTHENTICATED_CALLER,
        challenge=challenge,
        scheme=scheme,
    )


def _quoted(text: str) -> str:
    # RFC 6750 section 3: error_description is %x20-21 / %x23-5B / %x5D-7E.
    return "".join(c for c in text if c.isascii() and c.isprintable() and c not in '"\\')


def _refused(
    request: Request,
    status_code: int,
    code: grpc.StatusCode,
    message: str,
    *,
    reason: int,
    metadata: dict[str, str] | None = None,
    challenge: str | None = None,
    headers: dict[str, str] | None = None,
    scheme: str = BEARER,
) -> Refusal:
    sent = {REQUEST_ID_HEADER: str(getattr(request.state, "request_id", "")), **(headers or {})}
    if challenge is not None:
        # RFC 9449 section 7.1: a DPoP challenge names the proof algorithms accepted.
        algs = f', algs="{" ".join(ALGORITHMS)}"' if scheme == DPOP else ""
        sent["WWW-Authenticate"] = (
            f'{scheme} realm="{REALM}"' + (f", {challenge}" if challenge else "") + algs
        )
    status = error_status(code, message, reason=reason, metadata=metadata)
    return Refusal(status_response(status, status_code=status_code, headers=sent))
