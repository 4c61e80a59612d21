"""The deployment CA: certificates that say which department and role a peer acts for.

Shortest use::

    ca = CertificateAuthority.generate("certfree example CA", now=now)
    leaf = ca.issue("11350100MB01234565", "service", dns=("ledger",), now=now)
    identity_of(leaf.certificate)   # CertificateIdentity(role="service", department=...)
    crl = ca.crl({leaf.serial: now}, number=1, now=now)

A certificate's identity is one SAN URI ``urn:certfree:<role>:<department USCC>``
(:func:`identity_uri`); nothing else in it (subject, DNS names) grants anything.
Keys are ECDSA P-256 with SHA-256: grpcio's TLS (BoringSSL, grpcio 1.85) cannot
use Ed25519 certificates (the handshake fails with NO_COMMON_SIGNATURE_ALGORITHMS),
and P-256 is what every TLS stack and ``openssl verify`` accept.

:class:`CertificateAuthority` is pure (the clock is a parameter); :class:`CaDirectory`
is the one place that knows the files of a CA directory: ``ca.crt``, ``ca.key``
(mode 0600) and ``state.json`` (revoked serials and the last CRL number).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from runtime.errors import InvalidArgument
from runtime.holders import check_uscc

ROLES = (
    "clerk",
    "officer",
    "issuer",
    "supervisor",
    "auditor",
    "operator",
    "intake",
    "service",
    "gateway",
)
"""Roles a certificate may carry (the deployment contract's lower-case names)."""

URI_PREFIX = "urn:certfree:"
"""Every identity URI starts so; other URI SANs are ignored."""

CA_CERT_FILE = "ca.crt"
CA_KEY_FILE = "ca.key"
STATE_FILE = "state.json"

CA_DAYS = 3650
"""Default lifetime of a deployment CA."""
LEAF_DAYS = 365
"""Default lifetime of an issued certificate."""
CRL_DAYS = 7
"""A CRL's nextUpdate is this far after its thisUpdate."""
BACKDATE = timedelta(minutes=5)
"""notBefore is this far back, so a peer whose clock lags a little accepts a new certificate."""

_SUBJECT = re.compile(r"^[A-Za-z0-9._@:-]{1,64}$")
_HASH = hashes.SHA256()


class PkiError(ValueError):
    """A certificate, CRL or CA directory is malformed or refused; the message says which check."""


@dataclass(frozen=True)
class CertificateIdentity:
    """The department and role a certificate speaks for."""

    role: str
    """One of :data:`ROLES`."""
    department: str
    """The department's unified social credit code (GB 32100)."""

    @property
    def uri(self) -> str:
        """The SAN URI carrying this identity."""
        return f"{URI_PREFIX}{self.role}:{self.department}"


def identity_uri(role: str, department: str) -> str:
    """The SAN URI for `role` in `department`; PkiError unless both are valid."""
    return _checked(role, department).uri


def parse_identity_uri(uri: str) -> CertificateIdentity:
    """The identity a ``urn:certfree:<role>:<USCC>`` URI names; PkiError if malformed."""
    if not uri.startswith(URI_PREFIX):
        raise PkiError(f"an identity URI starts with {URI_PREFIX}")
    role, sep, department = uri.removeprefix(URI_PREFIX).partition(":")
    if not sep:
        raise PkiError(f"an identity URI is {URI_PREFIX}<role>:<department USCC>")
    return _checked(role, department)


def _checked(role: str, department: str) -> CertificateIdentity:
    if role not in ROLES:
        raise PkiError(f"{role!r} is not a certfree role (one of: {', '.join(ROLES)})")
    try:
        check_uscc(department, "department")
    except InvalidArgument as error:
        # The violation's description says what is wrong without repeating the code.
        found = error.field_violations[0].description if error.field_violations else error
        raise PkiError(f"the department code is not a valid USCC: {found}") from None
    return CertificateIdentity(role=role, department=department)


def identity_of(certificate: x509.Certificate) -> CertificateIdentity:
    """The identity in `certificate`'s one ``urn:certfree:`` SAN URI; PkiError otherwise."""
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        raise PkiError("the certificate has no subject alternative names") from None
    uris = [u for u in san.value.get_values_for_type(x509.UniformResourceIdentifier)]
    ours = [u for u in uris if u.startswith(URI_PREFIX)]
    if len(ours) != 1:
        raise PkiError(f"the certificate must carry exactly one {URI_PREFIX} URI, not {len(ours)}")
    return parse_identity_uri(ours[0])


def issued_by(certificate: x509.Certificate, authorities: Sequence[x509.Certificate]) -> bool:
    """True when one of `authorities` signed `certificate` (issuer name and signature)."""
    for authority in authorities:
        try:
            certificate.verify_directly_issued_by(authority)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return True
    return False


def load_certificates(pem: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle; PkiError when there is none or one is malformed."""
    try:
        found = x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise PkiError("the PEM data holds no readable certificate") from None
    return found


def load_crl(pem: bytes, authorities: Sequence[x509.Certificate]) -> x509.CertificateRevocationList:
    """A PEM CRL whose signature one of `authorities` made; PkiError otherwise."""
    try:
        crl = x509.load_pem_x509_crl(pem)
    except ValueError:
        raise PkiError("the CRL is not a readable PEM X.509 CRL") from None
    for authority in authorities:
        if crl.issuer != authority.subject:
            continue
        try:
            if crl.is_signature_valid(authority.public_key()):  # type: ignore[arg-type]
                return crl
        except TypeError:
            continue
    raise PkiError("the CRL is not signed by the deployment CA")


def parse_serial(text: str) -> int:
    """A serial number as the CLI prints it (hex, optionally ``0x``- or ``serial=``-prefixed)."""
    cleaned = text.strip().removeprefix("serial=").removeprefix("0x").replace(":", "")
    try:
        serial = int(cleaned, 16)
    except ValueError:
        raise PkiError(f"{text!r} is not a hexadecimal serial number") from None
    if serial <= 0:
        raise PkiError("a serial number is positive")
    return serial


def format_serial(serial: int) -> str:
    """A serial number in upper-case hex, as ``openssl x509 -serial`` prints it."""
    text = f"{serial:X}"
    return text if len(text) % 2 == 0 else "0" + text


@dataclass(frozen=True)
class IssuedCertificate:
    """A new leaf certificate and its private key."""

    certificate: x509.Certificate
    """The certificate the CA signed."""
    private_key_pem: bytes
    """Its private key, PKCS#8 PEM, unencrypted (the file that holds it is mode 0600)."""

    @property
    def serial(self) -> int:
        """The certificate's serial number."""
        return self.certificate.serial_number

    @property
    def certificate_pem(self) -> bytes:
        """The certificate, PEM."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)


class CertificateAuthority:
    """A deployment CA: its certificate and signing key. Pure: no files, no clock."""

    def __init__(self, certificate: x509.Certificate, private_key: ec.EllipticCurvePrivateKey):
        self.certificate = certificate
        self._key = private_key

    @classmethod
    def generate(cls, name: str, *, now: datetime, days: int = CA_DAYS) -> CertificateAuthority:
        """A new self-signed CA named `name` (its subject's common name)."""
        if not name.strip():
            raise PkiError("a CA needs a name")
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "certfree"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + timedelta(days=days))
            # path_length 0: this CA signs leaves only, never another CA.
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, _HASH)
        )
        return cls(certificate, key)

    @property
    def certificate_pem(self) -> bytes:
        """The CA certificate, PEM: what every peer trusts (``CERTFREE_TLS_CA_FILE``)."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def private_key_pem(self) -> bytes:
        """The CA's private key, PKCS#8 PEM (for its 0600 file only)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def issue(
        self,
        department: str,
        role: str,
        *,
        now: datetime,
        days: int = LEAF_DAYS,
        dns: Iterable[str] = (),
        subject: str = "",
    ) -> IssuedCertificate:
        """A client-and-server certificate for `role` in `department`.

        `dns` are host names (or IP addresses) clients dial the holder at, needed only
        by servers; `subject` (staff number or system name, never a resident ID)
        becomes the subject's common name and the caller's subject in logs.
        """
        identity = _checked(role, department)
        if subject and not _SUBJECT.match(subject):
            raise PkiError("a subject is 1-64 of [A-Za-z0-9._@:-]")
        if days < 1:
            raise PkiError("a certificate lives at least one day")
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(identity.uri)]
        names += [_host_name(host) for host in dns]
        not_after = min(now + timedelta(days=days), self.certificate.not_valid_after_utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, department),
                        x509.NameAttribute(NameOID.COMMON_NAME, subject or role),
                    ]
                )
            )
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), False
            )
            .sign(self._key, _HASH)
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return IssuedCertificate(certificate=certificate, private_key_pem=key_pem)

    def crl(
        self,
        revoked: Mapping[int, datetime],
        *,
        number: int,
        now: datetime,
        days: int = CRL_DAYS,
    ) -> x509.CertificateRevocationList:
        """A CRL listing `revoked` (serial → revocation time), numbered `number`."""
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(now)
            .next_update(now + timedelta(days=days))
            .add_extension(x509.CRLNumber(number), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), False
            )
        )
        for serial, when in sorted(revoked.items()):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
            )
        return builder.sign(self._key, _HASH)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _host_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not re.fullmatch(r"[A-Za-z0-9*]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?", host):
        raise PkiError(f"{host!r} is not a DNS name or IP address")
    return x509.DNSName(host)


@dataclass(frozen=True)
class CaDirectory:
    """The files of a deployment CA under one directory."""

    path: Path
    """The directory (``certfree pki init --dir``)."""

    def init(self, name: str, *, now: datetime) -> CertificateAuthority:
        """Create a new CA here; PkiError when the directory already holds one."""
        if (self.path / CA_KEY_FILE).exists() or (self.path / CA_CERT_FILE).exists():
            raise PkiError(f"{self.path} already holds a CA; refusing to overwrite it")
        authority = CertificateAuthority.generate(name, now=now)
        self.path.mkdir(parents=True, exist_ok=True)
        write_private(self.path / CA_KEY_FILE, authority.private_key_pem())
        write_atomic(self.path / CA_CERT_FILE, authority.certificate_pem)
        self._save_state({}, 0)
        return authority

    def load(self) -> CertificateAuthority:
        """The CA kept here; PkiError when it is missing or its key does not match."""
        try:
            cert_pem = (self.path / CA_CERT_FILE).read_bytes()
            key_pem = (self.path / CA_KEY_FILE).read_bytes()
        except FileNotFoundError:
            raise PkiError(f"{self.path} holds no CA (run `certfree pki init` first)") from None
        certificate = load_certificates(cert_pem)[0]
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or (
            key.public_key() != certificate.public_key()
        ):
            raise PkiError(f"{CA_KEY_FILE} is not the key of {CA_CERT_FILE}")
        return CertificateAuthority(certificate, key)

    def revoked(self) -> dict[int, datetime]:
        """Revoked serials and when each was revoked."""
        return self._state()[0]

    def revoke(self, serial: int, *, now: datetime) -> bool:
        """Record `serial` as revoked at `now`; False when it already was."""
        revoked, number = self._state()
        if serial in revoked:
            return False
        revoked[serial] = now
        self._save_state(revoked, number)
        return True

    def next_crl(self, *, now: datetime, days: int = CRL_DAYS) -> x509.CertificateRevocationList:
        """A new CRL of every revocation so far, numbered one more than the last."""
        authority = self.load()
        revoked, number = self._state()
        crl = authority.crl(revoked, number=number + 1, now=now, days=days)
        self._save_state(revoked, number + 1)
        return crl

    def _state(self) -> tuple[dict[int, datetime], int]:
        try:
            raw = json.loads((self.path / STATE_FILE).read_text())
        except FileNotFoundError:
            return {}, 0
        revoked = {
            parse_serial(serial): datetime.fromisoformat(when)
            for serial, when in raw.get("revoked", {}).items()
        }
        return revoked, int(raw.get("crl_number", 0))

    def _save_state(self, revoked: Mapping[int, datetime], number: int) -> None:
        state = {
            "revoked": {
                format_serial(s): w.astimezone(UTC).isoformat() for s, w in sorted(revoked.items())
            },
            "crl_number": number,
        }
        write_atomic(self.path / STATE_FILE, (json.dumps(state, indent=2) + "\n").encode())


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace `path` with `data` in one rename, so a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.chmod(temporary, mode)  # O_CREAT's mode is masked by the umask
    os.replace(temporary, path)


def write_private(path: Path, data: bytes) -> None:
    """Write a private key readable by its owner only (mode 0600)."""
    write_atomic(path, data, mode=0o600)
