"""The deployment CA: identity URIs, issued certificates, CRLs, the CA directory and its CLI."""

from __future__ import annotations

import shutil
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from hypothesis import given
from hypothesis import strategies as st

from certfree.cli import main
from runtime.holders import USCC_ALPHABET, uscc_check_character
from runtime.pki import (
    CA_CERT_FILE,
    CA_KEY_FILE,
    ROLES,
    CaDirectory,
    CertificateAuthority,
    CertificateIdentity,
    PkiError,
    format_serial,
    identity_of,
    identity_uri,
    issued_by,
    load_crl,
    parse_identity_uri,
    parse_serial,
)
from tests.conftest import HOUSING_BUREAU, MARKET_REGULATION

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PEM = Encoding.PEM


@st.composite
def usccs(draw: st.DrawFn) -> str:
    """Valid USCCs: 2 code characters, a 6-digit division code, 9 characters, the check."""
    head = draw(st.text(USCC_ALPHABET, min_size=2, max_size=2))
    division = draw(st.text("0123456789", min_size=6, max_size=6))
    body = draw(st.text(USCC_ALPHABET, min_size=9, max_size=9))
    first17 = head + division + body
    return first17 + uscc_check_character(first17)


@pytest.fixture(scope="module")
def authority() -> CertificateAuthority:
    """One CA for the module (P-256 key generation is quick, but there is no need to repeat it)."""
    return CertificateAuthority.generate("test CA", now=NOW)


class TestIdentityUri:
    """A certificate's identity is urn:certfree:<role>:<USCC>, both parts checked."""

    @given(role=st.sampled_from(ROLES), department=usccs())
    def test_round_trips(self, role: str, department: str) -> None:
        uri = identity_uri(role, department)
        assert uri == f"urn:certfree:{role}:{department}"
        assert parse_identity_uri(uri) == CertificateIdentity(role=role, department=department)

    @pytest.mark.parametrize(
        ("uri", "complaint"),
        [
            (f"urn:other:service:{MARKET_REGULATION}", "starts with"),
            ("urn:certfree:service", "<role>:<department USCC>"),
            (f"urn:certfree:root:{MARKET_REGULATION}", "not a certfree role"),
            (f"urn:certfree:SERVICE:{MARKET_REGULATION}", "not a certfree role"),
            (f"urn:certfree:service:{MARKET_REGULATION[:17]}6", "check character"),
            ("urn:certfree:service:11350100MB0123456", "18 characters"),
        ],
    )
    def test_malformed_uri_is_refused(self, uri: str, complaint: str) -> None:
        with pytest.raises(PkiError, match=complaint):
            parse_identity_uri(uri)

    def test_refusal_does_not_repeat_the_code(self) -> None:
        bad = MARKET_REGULATION[:17] + "6"
        with pytest.raises(PkiError) as refused:
            identity_uri("clerk", bad)
        assert bad not in str(refused.value)


class TestIssue:
    """Issued leaves carry exactly the identity, key and extensions peers rely on."""

    def test_leaf_carries_its_identity_and_is_signed_by_the_ca(
        self, authority: CertificateAuthority
    ) -> None:
        leaf = authority.issue(MARKET_REGULATION, "service", now=NOW, dns=("ledger", "127.0.0.1"))
        certificate = leaf.certificate
        assert identity_of(certificate) == CertificateIdentity("service", MARKET_REGULATION)
        assert issued_by(certificate, [authority.certificate])
        assert isinstance(certificate.public_key(), ec.EllipticCurvePublicKey)
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert san.get_values_for_type(x509.DNSName) == ["ledger"]
        assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert set(usages) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
        assert constraints.critical and not constraints.value.ca

    def test_lifetime_is_days_and_never_beyond_the_ca(
        self, authority: CertificateAuthority
    ) -> None:
        short = authority.issue(HOUSING_BUREAU, "clerk", now=NOW, days=30).certificate
        assert short.not_valid_after_utc == NOW + timedelta(days=30)
        assert short.not_valid_before_utc < NOW
        long = authority.issue(HOUSING_BUREAU, "clerk", now=NOW, days=100_000).certificate
        assert long.not_valid_after_utc == authority.certificate.not_valid_after_utc

    def test_another_ca_did_not_issue_it(self, authority: CertificateAuthority) -> None:
        other = CertificateAuthority.generate("test CA", now=NOW)  # same name, other key
        leaf = other.issue(MARKET_REGULATION, "gateway", now=NOW).certificate
        assert not issued_by(leaf, [authority.certificate])
        assert issued_by(leaf, [authority.certificate, other.certificate])

    @pytest.mark.parametrize(
        ("role", "department", "kwargs", "complaint"),
        [
            ("root", MARKET_REGULATION, {}, "not a certfree role"),
            ("clerk", MARKET_REGULATION[:17] + "6", {}, "check character"),
            ("clerk", MARKET_REGULATION, {"subject": "has space"}, "subject"),
            ("clerk", MARKET_REGULATION, {"days": 0}, "at least one day"),
            ("service", MARKET_REGULATION, {"dns": ("bad host!",)}, "DNS name"),
        ],
    )
    def test_bad_request_is_refused(
        self,
        authority: CertificateAuthority,
        role: str,
        department: str,
        kwargs: dict[str, object],
        complaint: str,
    ) -> None:
        with pytest.raises(PkiError, match=complaint):
            authority.issue(department, role, now=NOW, **kwargs)  # type: ignore[arg-type]

    def test_certificate_without_our_uri_has_no_identity(
        self, authority: CertificateAuthority
    ) -> None:
        other = CertificateAuthority.generate("x", now=NOW)
        with pytest.raises(PkiError, match="no subject alternative names"):
            identity_of(other.certificate)


class TestCrl:
    """A CRL counts only when the deployment CA signed it."""

    def test_crl_lists_revoked_serials_and_verifies(self, authority: CertificateAuthority) -> None:
        leaf = authority.issue(MARKET_REGULATION, "clerk", now=NOW)
        pem = authority.crl({leaf.serial: NOW}, number=3, now=NOW).public_bytes(PEM)
        crl = load_crl(pem, [authority.certificate])
        assert crl.get_revoked_certificate_by_serial_number(leaf.serial) is not None
        assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 3

    def test_crl_of_another_ca_is_refused(self, authority: CertificateAuthority) -> None:
        other = CertificateAuthority.generate("test CA", now=NOW)
        pem = other.crl({}, number=1, now=NOW).public_bytes(PEM)
        with pytest.raises(PkiError, match="not signed by the deployment CA"):
            load_crl(pem, [authority.certificate])

    def test_garbage_is_refused(self, authority: CertificateAuthority) -> None:
        with pytest.raises(PkiError, match="not a readable"):
            load_crl(b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n", [])


class TestSerial:
    """Serials print as openssl prints them and parse back from that."""

    @given(st.integers(min_value=1, max_value=2**159))
    def test_round_trips(self, serial: int) -> None:
        printed = format_serial(serial)
        assert parse_serial(printed) == serial
        assert parse_serial(f"serial={printed}") == serial
        assert len(printed) % 2 == 0

    @pytest.mark.parametrize("text", ["", "xyz", "0"])
    def test_non_serial_is_refused(self, text: str) -> None:
        with pytest.raises(PkiError):
            parse_serial(text)


class TestCaDirectory:
    """The CA's files: a private key only its owner reads, state that survives each command."""

    def test_init_writes_a_private_key_and_refuses_to_overwrite(self, tmp_path: Path) -> None:
        directory = CaDirectory(tmp_path / "ca")
        created = directory.init("deployment", now=NOW)
        assert stat.S_IMODE((tmp_path / "ca" / CA_KEY_FILE).stat().st_mode) == 0o600
        assert directory.load().certificate == created.certificate
        with pytest.raises(PkiError, match="already holds a CA"):
            directory.init("again", now=NOW)

    def test_revocations_and_crl_numbers_persist(self, tmp_path: Path) -> None:
        directory = CaDirectory(tmp_path)
        authority = directory.init("deployment", now=NOW)
        serial = authority.issue(MARKET_REGULATION, "clerk", now=NOW).serial
        assert directory.revoke(serial, now=NOW)
        assert not directory.revoke(serial, now=NOW)
        first = directory.next_crl(now=NOW)
        second = CaDirectory(tmp_path).next_crl(now=NOW)
        numbers = [
            c.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
            for c in (first, second)
        ]
        assert numbers == [1, 2]
        assert second.get_revoked_certificate_by_serial_number(serial) is not None

    def test_key_of_another_ca_is_refused(self, tmp_path: Path) -> None:
        CaDirectory(tmp_path / "a").init("a", now=NOW)
        CaDirectory(tmp_path / "b").init("b", now=NOW)
        shutil.copy(tmp_path / "b" / CA_KEY_FILE, tmp_path / "a" / CA_KEY_FILE)
        with pytest.raises(PkiError, match="is not the key of"):
            CaDirectory(tmp_path / "a").load()

    def test_missing_ca_says_to_init(self, tmp_path: Path) -> None:
        with pytest.raises(PkiError, match="pki init"):
            CaDirectory(tmp_path).load()


def _cli(*argv: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(["pki", *argv])
    return int(exited.value.code or 0)


class TestCli:
    """``certfree pki`` round-trips: init, issue, revoke, crl; openssl agrees."""

    def test_round_trip(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        ca = str(tmp_path / "ca")
        assert _cli("init", "--dir", ca, "--name", "Fuqing test CA") == 0
        capsys.readouterr()
        out = str(tmp_path / "ledger")
        issue = ("issue", "--dir", ca, "--department", MARKET_REGULATION, "--role", "service")
        assert _cli(*issue, "--dns", "localhost", "--out", out) == 0
        printed = capsys.readouterr().out
        assert f"urn:certfree:service:{MARKET_REGULATION}" in printed
        serial = parse_serial(printed.splitlines()[0])
        leaf = x509.load_pem_x509_certificate((tmp_path / "ledger.crt").read_bytes())
        assert leaf.serial_number == serial
        assert stat.S_IMODE((tmp_path / "ledger.key").stat().st_mode) == 0o600
        assert _cli("revoke", "--dir", ca, str(tmp_path / "ledger.crt")) == 0
        assert _cli("revoke", "--dir", ca, format_serial(serial)) == 0
        assert "already revoked" in capsys.readouterr().out
        crl_file = tmp_path / "crl.pem"
        assert _cli("crl", "--dir", ca, "--out", str(crl_file)) == 0
        ca_cert = x509.load_pem_x509_certificate((tmp_path / "ca" / CA_CERT_FILE).read_bytes())
        crl = load_crl(crl_file.read_bytes(), [ca_cert])
        assert crl.get_revoked_certificate_by_serial_number(serial) is not None

    def test_bad_department_fails_without_echoing_it(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        ca = str(tmp_path / "ca")
        assert _cli("init", "--dir", ca) == 0
        bad = MARKET_REGULATION[:17] + "6"
        issue = ("issue", "--dir", ca, "--department", bad, "--role", "clerk")
        assert _cli(*issue, "--out", str(tmp_path / "x")) == 1
        error = capsys.readouterr().err
        assert "check character is wrong" in error and bad not in error
        assert not (tmp_path / "x.key").exists()

    def test_revoking_a_foreign_certificate_is_refused(self, tmp_path: Path) -> None:
        assert _cli("init", "--dir", str(tmp_path / "ca")) == 0
        foreign = CertificateAuthority.generate("other", now=datetime.now(UTC))
        leaf = foreign.issue(MARKET_REGULATION, "clerk", now=datetime.now(UTC))
        (tmp_path / "foreign.crt").write_bytes(leaf.certificate_pem)
        assert _cli("revoke", "--dir", str(tmp_path / "ca"), str(tmp_path / "foreign.crt")) == 1

    @pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not on PATH")
    def test_openssl_verifies_the_leaf_and_sees_its_revocation(self, tmp_path: Path) -> None:
        ca = str(tmp_path / "ca")
        ca_file = str(tmp_path / "ca" / CA_CERT_FILE)
        leaf = str(tmp_path / "clerk.crt")
        assert _cli("init", "--dir", ca) == 0
        issue = ("issue", "--dir", ca, "--department", HOUSING_BUREAU, "--role", "clerk")
        assert _cli(*issue, "--out", str(tmp_path / "clerk")) == 0
        for purpose in ("sslclient", "sslserver"):
            verified = subprocess.run(
                ["openssl", "verify", "-purpose", purpose, "-CAfile", ca_file, leaf],
                capture_output=True,
                text=True,
                check=False,
            )
            assert verified.returncode == 0, verified.stderr
        assert _cli("revoke", "--dir", ca, leaf) == 0
        crl_file = str(tmp_path / "crl.pem")
        assert _cli("crl", "--dir", ca, "--out", crl_file) == 0
        checked = subprocess.run(
            ["openssl", "verify", "-crl_check", "-CAfile", ca_file, "-CRLfile", crl_file, leaf],
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode != 0 and "revoked" in checked.stdout + checked.stderr
