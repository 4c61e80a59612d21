"""Who is calling: one identity source per server, read by one interceptor.

Handlers call :func:`current_caller`; they never look at credentials. The interceptor
(:mod:`runtime.server`) hands each call's metadata and TLS auth context to the server's
:class:`IdentitySource`, chosen once by :func:`select`:

- :class:`MtlsIdentity` (production, and development when the ``CERTFREE_TLS_*``
  settings are set): the caller is the peer's client certificate from the deployment
  CA, whose SAN URI ``urn:certfree:<role>:<USCC>`` names its role and department
  (:mod:`runtime.pki`). Expiry and the CA's CRL (``CERTFREE_TLS_CRL_FILE``, re-read
  when it changes) are checked on every call, so a revocation needs no restart.
  Only a ``gateway`` certificate may forward the end caller in ``x-certfree-*``
  metadata; a ``service`` certificate may name the department it acts for; any other
  certificate that sends those headers is refused.
- :class:`DevIdentity` (``--insecure-dev``, never in production): the caller says who
  it is in ``x-certfree-department`` / ``x-certfree-role`` metadata.
- :class:`NoIdentity` (development without either): every call is refused, saying why.

See docs/security.md.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from cryptography import x509

from genproto.certfree.common.v1 import common_pb2
from runtime.channels import Stamp, file_stamp
from runtime.errors import Unauthenticated
from runtime.logs import get_logger
from runtime.pki import (
    PkiError,
    format_serial,
    identity_of,
    issued_by,
    load_certificates,
    load_crl,
)

if TYPE_CHECKING:
    from runtime.config import Settings

DEPARTMENT_HEADER = "x-certfree-department"
ROLE_HEADER = "x-certfree-role"
SUBJECT_HEADER = "x-certfree-subject"

_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")
_SUBJECT = re.compile(r"^[A-Za-z0-9._@:-]{1,128}$")


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one RPC."""

    department_code: str
    """The department's unified social credit code."""
    role: int
    """A ``certfree.common.v1.Role`` value."""
    subject: str = ""
    """Who inside the department (staff number or system name); never a resident ID."""

    @property
    def role_name(self) -> str:
        """The role without its enum prefix, lower case: ``clerk``, ``officer`` ..."""
        return common_pb2.Role.Name(self.role).removeprefix("ROLE_").lower()


AuthContext = Mapping[str, Sequence[bytes]]
"""A call's TLS auth context (``context.auth_context()``): property name to values."""

NO_PEER: AuthContext = {}
"""The auth context of a call over a plain (insecure) connection."""

PEER_CERTIFICATE = "x509_pem_cert"
"""The auth-context property holding the peer's certificate, PEM (grpc's name)."""


class IdentitySource(Protocol):
    """Turns a call's metadata and TLS auth context into a Caller, or raises Unauthenticated."""

    def authenticate(self, metadata: Mapping[str, str], auth_context: AuthContext) -> Caller:
        """The caller of an RPC, from its invocation metadata and its connection's auth context."""
        ...


class NoIdentity:
    """Development without --insecure-dev or TLS settings: every call is refused, saying why."""

    def authenticate(
        self, metadata: Mapping[str, str], auth_context: AuthContext = NO_PEER
    ) -> Caller:
        """Always raises Unauthenticated."""
        raise Unauthenticated(
            "no identity source is configured: set CERTFREE_TLS_CERT_FILE, _KEY_FILE and "
            "_CA_FILE for mutual TLS, or run with --insecure-dev for local development"
        )


class DevIdentity:
    """Insecure development identity: the caller says who it is in metadata."""

    def authenticate(
        self, metadata: Mapping[str, str], auth_context: AuthContext = NO_PEER
    ) -> Caller:
        """Read the caller from the x-certfree-* metadata, validating each value."""
        department = metadata.get(DEPARTMENT_HEADER, "")
        role_text = metadata.get(ROLE_HEADER, "")
        if not department or not role_text:
            raise Unauthenticated(
                f"development identity needs {DEPARTMENT_HEADER} and {ROLE_HEADER} metadata"
            )
        return _stated_caller(metadata, default_subject="dev")


def _stated_caller(metadata: Mapping[str, str], default_subject: str) -> Caller:
    """The caller that x-certfree-* metadata names, each value validated."""
    department = metadata.get(DEPARTMENT_HEADER, "")
    role_text = metadata.get(ROLE_HEADER, "")
    subject = metadata.get(SUBJECT_HEADER, default_subject)
    if not _USCC.match(department):
        raise Unauthenticated(f"{DEPARTMENT_HEADER} must be an 18-character USCC")
    if not _SUBJECT.match(subject):
        raise Unauthenticated(f"{SUBJECT_HEADER} must be 1-128 of [A-Za-z0-9._@:-]")
    role = _role_value(role_text)
    if role == common_pb2.ROLE_UNSPECIFIED:
        raise Unauthenticated(f"{ROLE_HEADER}={role_text!r} is not a role")
    return Caller(department_code=department, role=role, subject=subject)


def _role_value(role_text: str) -> int:
    """The Role of a role name: the enum's lower-case suffix, or a certificate's ``intake``;
    0 for any other name."""
    return _ROLES.get(role_text.lower(), 0)


_ROLES = {
    name.removeprefix("ROLE_").lower(): value
    for name, value in common_pb2.Role.items()
    if value != common_pb2.ROLE_UNSPECIFIED
} | {"intake": common_pb2.ROLE_INTAKE_SYSTEM}
"""Role names as callers state them (per call: built once, not from the enum each time)."""


# --- mutual TLS ------------------------------------------------------------------------

_FORWARDED = (DEPARTMENT_HEADER, ROLE_HEADER, SUBJECT_HEADER)
_log = get_logger("identity")
T = TypeVar("T")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PeerCertificate:
    """What one verified client certificate says, cached by its bytes."""

    role: str
    """The certificate's role (``runtime.pki.ROLES``)."""
    department: str
    """The department's USCC."""
    subject: str
    """Its common name when that is a valid subject, else ``serial:<hex>``."""
    serial: int
    """Its serial number, looked up in the CRL."""
    not_before: datetime
    """Start of validity (UTC)."""
    not_after: datetime
    """End of validity (UTC)."""


class _Watched(Generic[T]):
    """A value loaded from files, loaded again when one of them changes.

    The first load happens at construction and its error propagates, so a server with
    a broken CA or CRL file does not start. A later reload that fails keeps the last
    good value and logs the problem once per change of the files.
    """

    def __init__(self, paths: Sequence[Path], load: Callable[[], T], what: str) -> None:
        self._paths = paths
        self._load = load
        self._what = what
        self._stamp: Stamp = file_stamp(paths)
        self._value: T = load()  # at start-up a bad file is a ConfigError, raised by the caller
        self.generation = 0

    def current(self) -> T:
        """The value, loaded again first if the files changed since the last look."""
        stamp = file_stamp(self._paths)
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._value = self._load()
            except (OSError, PkiError) as error:
                _log.error(
                    f"{self._what} changed but cannot be used; keeping the last good one",
                    problem=str(error),
                )
            else:
                self.generation += 1
                _log.info(f"{self._what} reloaded")
        return self._value


class MtlsIdentity:
    """The caller is the peer's client certificate, issued by the deployment CA."""

    def __init__(
        self,
        ca_file: Path,
        crl_file: Path | None = None,
        *,
        clock: Callable[[], datetime] = _utc_now,
        cache_size: int = 4096,
    ) -> None:
        """Read the CA file (and CRL file) now; ConfigError when either is unusable."""
        from runtime.config import ConfigError

        self._clock = clock
        self._cache_size = cache_size
        self._peers: dict[bytes, PeerCertificate] = {}
        self._generation = 0
        try:
            self._cas = _Watched([ca_file], lambda: _read_cas(ca_file), "the deployment CA file")
        except (OSError, PkiError) as error:
            raise ConfigError(f"CERTFREE_TLS_CA_FILE: {error}") from None
        self._revoked: _Watched[frozenset[int]] | None = None
        if crl_file is not None:
            try:
                # Watching the CA file too: a new CA must re-verify the CRL's signature.
                self._revoked = _Watched(
                    [crl_file, ca_file],
                    lambda: _read_revoked(crl_file, self._cas.current()),
                    "the CRL file",
                )
            except (OSError, PkiError) as error:
                raise ConfigError(f"CERTFREE_TLS_CRL_FILE: {error}") from None

    def authenticate(self, metadata: Mapping[str, str], auth_context: AuthContext) -> Caller:
        """The caller the peer's certificate names (or, from a gateway, the one it forwards)."""
        certificates = auth_context.get(PEER_CERTIFICATE)
        if not certificates:
            raise Unauthenticated(
                "the call carries no client certificate: certfree services require mutual TLS "
                "with a certificate from the deployment CA"
            )
        peer = self.peer(certificates[0])
        now = self._clock()
        if now >= peer.not_after:
            raise Unauthenticated("the client certificate has expired; the CA must issue a new one")
        if now < peer.not_before:
            raise Unauthenticated("the client certificate is not valid yet")
        if self._revoked is not None and peer.serial in self._revoked.current():
            raise Unauthenticated(
                f"the client certificate (serial {format_serial(peer.serial)}) is revoked"
            )
        return _caller_of(peer, metadata)

    def peer(self, pem: bytes) -> PeerCertificate:
        """What the certificate `pem` says, verified against the CA (cached per certificate)."""
        cas = self._cas.current()
        if self._cas.generation != self._generation:  # a new CA: verify every peer again
            self._peers.clear()
            self._generation = self._cas.generation
        found = self._peers.get(pem)
        if found is None:
            found = _verified_peer(pem, cas)
            if len(self._peers) >= self._cache_size:
                self._peers.clear()
            self._peers[pem] = found
        return found


def _read_cas(ca_file: Path) -> list[x509.Certificate]:
    return load_certificates(ca_file.read_bytes())


def _read_revoked(crl_file: Path, cas: Sequence[x509.Certificate]) -> frozenset[int]:
    crl = load_crl(crl_file.read_bytes(), cas)
    return frozenset(revoked.serial_number for revoked in crl)


def _verified_peer(pem: bytes, cas: Sequence[x509.Certificate]) -> PeerCertificate:
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise Unauthenticated("the client certificate cannot be parsed") from None
    if not issued_by(certificate, cas):
        raise Unauthenticated("the client certificate was not issued by the deployment CA")
    try:
        identity = identity_of(certificate)
    except PkiError as error:
        raise Unauthenticated(
            f"the client certificate names no certfree identity: {error}"
        ) from None
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    common_name = str(names[0].value) if names else ""
    return PeerCertificate(
        role=identity.role,
        department=identity.department,
        subject=common_name
        if _SUBJECT.match(common_name)
        else f"serial:{format_serial(certificate.serial_number)}",
        serial=certificate.serial_number,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )


def _caller_of(peer: PeerCertificate, metadata: Mapping[str, str]) -> Caller:
    """Who the call is from: the certificate, or what a gateway or service may state."""
    stated = [h for h in _FORWARDED if h in metadata]
    if peer.role == "gateway":
        # The gateway authenticated the end caller (token or page session) and forwards it.
        if DEPARTMENT_HEADER not in metadata or ROLE_HEADER not in metadata:
            raise Unauthenticated(
                f"a gateway must forward the caller it acts for in {DEPARTMENT_HEADER} and "
                f"{ROLE_HEADER}"
            )
        caller = _stated_caller(metadata, default_subject=peer.subject)
        if caller.role == common_pb2.ROLE_SERVICE:
            raise Unauthenticated("a gateway may not forward role service")
        return caller
    if peer.role == "service":
        # A service acts for the department whose artefact it attests or signs; its role
        # stays service whatever it says.
        if metadata.get(ROLE_HEADER, "service") != "service":
            raise Unauthenticated(f"a service certificate may only state {ROLE_HEADER}=service")
        stated_metadata = {
            DEPARTMENT_HEADER: metadata.get(DEPARTMENT_HEADER, peer.department),
            ROLE_HEADER: "service",
            SUBJECT_HEADER: metadata.get(SUBJECT_HEADER, peer.subject),
        }
        return _stated_caller(stated_metadata, default_subject=peer.subject)
    if stated:
        raise Unauthenticated(
            f"only the gateway may forward a caller: a {peer.role} certificate must not send "
            f"{', '.join(stated)}"
        )
    return Caller(
        department_code=peer.department, role=_role_value(peer.role), subject=peer.subject
    )


_current: contextvars.ContextVar[Caller] = contextvars.ContextVar("certfree_caller")


def bind_caller(caller: Caller) -> contextvars.Token[Caller]:
    """Make `caller` the current caller (the interceptor's job, not a handler's)."""
    return _current.set(caller)


def current_caller() -> Caller:
    """The caller of the RPC being handled."""
    try:
        return _current.get()
    except LookupError:
        raise Unauthenticated("no caller is bound to this call") from None


def select(settings: Settings, *, insecure_dev: bool) -> IdentitySource:
    """The identity source for a server: mTLS when configured, dev metadata only when asked.

    Production needs the TLS settings (ConfigError naming them otherwise) and refuses
    --insecure-dev.
    """
    from runtime.config import TLS_SETTINGS, ConfigError

    if insecure_dev:
        if settings.mode == "production":
            raise ConfigError("--insecure-dev is refused when CERTFREE_MODE=production")
        _log.warning(
            "INSECURE development identity: callers name their own department and role "
            f"in {DEPARTMENT_HEADER}/{ROLE_HEADER}; never use this outside a developer machine"
        )
        return DevIdentity()
    if settings.tls_configured:
        crl = settings.tls_crl_file
        return MtlsIdentity(settings.tls_ca_file, crl if str(crl) not in ("", ".") else None)
    if settings.mode == "production":
        raise ConfigError(f"production mode needs mutual TLS: set {TLS_SETTINGS}")
    return NoIdentity()
