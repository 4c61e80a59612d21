"""Mutual TLS on real gRPC servers on loopback, with real certificates from runtime.pki."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from google.protobuf import empty_pb2

from certfree.stack import Stack
from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from genproto.certfree.licenses.v1 import licenses_pb2, licenses_pb2_grpc
from runtime import identity
from runtime.channels import secure_channel
from runtime.config import ConfigError, Settings, load
from runtime.identity import (
    DEPARTMENT_HEADER,
    ROLE_HEADER,
    SUBJECT_HEADER,
    DevIdentity,
    MtlsIdentity,
    NoIdentity,
    current_caller,
)
from runtime.pki import CertificateAuthority, write_atomic, write_private
from runtime.server import Registration, RunningServer, start_server
from tests.conftest import HOUSING_BUREAU, MARKET_REGULATION

WHO = "/certfree.test.Who/Who"
LOOPBACK = ("localhost", "127.0.0.1")


def _who_registration() -> Registration:
    """A one-RPC service behind the real interceptor that answers with the bound caller."""

    async def who(request: empty_pb2.Empty, context: grpc.aio.ServicerContext) -> Any:
        caller = current_caller()
        return common_pb2.Caller(
            department_code=caller.department_code,
            role=caller.role,  # type: ignore[arg-type]
            subject=caller.subject,
        )

    handler = grpc.method_handlers_generic_handler(
        "certfree.test.Who",
        {
            "Who": grpc.unary_unary_rpc_method_handler(
                who,
                request_deserializer=empty_pb2.Empty.FromString,
                response_serializer=common_pb2.Caller.SerializeToString,
            )
        },
    )
    return Registration(
        name="certfree.test.Who", add=lambda server: server.add_generic_rpc_handlers((handler,))
    )


@dataclass
class Pki:
    """A deployment CA on disk and the certificate files it issued, for one test."""

    root: Path
    authority: CertificateAuthority = field(
        default_factory=lambda: CertificateAuthority.generate("test CA", now=datetime.now(UTC))
    )

    def __post_init__(self) -> None:
        write_atomic(self.ca_file, self.authority.certificate_pem)

    @property
    def ca_file(self) -> Path:
        """The CA file every peer trusts."""
        return self.root / "ca.crt"

    @property
    def crl_file(self) -> Path:
        """Where the CA's CRL is published."""
        return self.root / "crl.pem"

    def leaf(
        self,
        name: str,
        role: str,
        department: str = MARKET_REGULATION,
        *,
        now: datetime | None = None,
        days: int = 30,
        authority: CertificateAuthority | None = None,
    ) -> tuple[Path, Path, int]:
        """Issue `name`.crt/.key for `role` in `department`; returns the files and the serial."""
        issued = (authority or self.authority).issue(
            department,
            role,
            now=now or datetime.now(UTC),
            days=days,
            dns=LOOPBACK,
            subject=name,
        )
        cert, key = self.root / f"{name}.crt", self.root / f"{name}.key"
        write_atomic(cert, issued.certificate_pem)
        write_private(key, issued.private_key_pem)
        return cert, key, issued.serial

    def settings(self, name: str, role: str, department: str = MARKET_REGULATION) -> Settings:
        """Settings of a process presenting a new `role` certificate (and watching the CRL)."""
        cert, key, _ = self.leaf(name, role, department)
        crl = self.crl_file if self.crl_file.exists() else Path("")
        return load(
            {}, tls_cert_file=cert, tls_key_file=key, tls_ca_file=self.ca_file, tls_crl_file=crl
        )

    def publish_crl(self, *serials: int, number: int = 1) -> None:
        """Write a CRL revoking `serials`, signed by the CA."""
        now = datetime.now(UTC)
        crl = self.authority.crl(dict.fromkeys(serials, now), number=number, now=now)
        write_atomic(self.crl_file, crl.public_bytes(Encoding.PEM))
        # Some filesystems keep a coarse mtime; make each publication visibly newer.
        stamp = os.stat(self.crl_file).st_mtime_ns + number * 1_000_000_000
        os.utime(self.crl_file, ns=(stamp, stamp))


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """A fresh deployment CA for the test."""
    (tmp_path / "pki").mkdir()
    return Pki(tmp_path / "pki")


Start = Callable[..., Awaitable[RunningServer]]


@pytest.fixture
async def serve(pki: Pki) -> AsyncIterator[Start]:
    """Start 'Who' servers with a ``service`` certificate; stop them after the test."""
    started: list[RunningServer] = []

    async def start(source: Any = None, settings: Settings | None = None) -> RunningServer:
        settings = settings or pki.settings("server", "service")
        running = await start_server(
            settings,
            "127.0.0.1:0",
            [_who_registration()],
            source or identity.select(settings, insecure_dev=False),
        )
        started.append(running)
        return running

    yield start
    for running in started:
        await running.stop(0)


async def _who(channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...] = ()) -> Any:
    call = channel.unary_unary(
        WHO,
        request_serializer=empty_pb2.Empty.SerializeToString,
        response_deserializer=common_pb2.Caller.FromString,
    )
    return await call(empty_pb2.Empty(), metadata=metadata, timeout=10)


async def _refused(
    channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...] = ()
) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _who(channel, metadata)
    return raised.value


def _target(running: RunningServer) -> str:
    return f"127.0.0.1:{running.port}"


class TestCaller:
    """The caller is what the client certificate says, and only a gateway forwards another."""

    async def test_good_client_gets_its_department_and_role(self, pki: Pki, serve: Start) -> None:
        running = await serve()
        async with secure_channel(
            _target(running), pki.settings("clerk-7", "clerk", HOUSING_BUREAU)
        ) as channel:
            caller = await _who(channel)
        assert (caller.department_code, caller.role, caller.subject) == (
            HOUSING_BUREAU,
            common_pb2.ROLE_CLERK,
            "clerk-7",
        )

    async def test_intake_certificate_is_the_intake_system_role(
        self, pki: Pki, serve: Start
    ) -> None:
        running = await serve()
        async with secure_channel(_target(running), pki.settings("desk", "intake")) as channel:
            assert (await _who(channel)).role == common_pb2.ROLE_INTAKE_SYSTEM

    async def test_gateway_forwards_the_end_caller(self, pki: Pki, serve: Start) -> None:
        running = await serve()
        forwarded = (
            (DEPARTMENT_HEADER, HOUSING_BUREAU),
            (ROLE_HEADER, "officer"),
            (SUBJECT_HEADER, "officer-12"),
        )
        async with secure_channel(_target(running), pki.settings("gw", "gateway")) as channel:
            caller = await _who(channel, forwarded)
            assert (caller.department_code, caller.role, caller.subject) == (
                HOUSING_BUREAU,
                common_pb2.ROLE_OFFICER,
                "officer-12",
            )
            bare = await _refused(channel)
            assert bare.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "must forward the caller" in (bare.details() or "")
            escalated = await _refused(
                channel, ((DEPARTMENT_HEADER, HOUSING_BUREAU), (ROLE_HEADER, "service"))
            )
            assert escalated.code() == grpc.StatusCode.UNAUTHENTICATED

    @pytest.mark.parametrize("role", ["clerk", "issuer", "operator", "intake"])
    async def test_non_gateway_peer_may_not_forward(
        self, pki: Pki, serve: Start, role: str
    ) -> None:
        running = await serve()
        forwarded = ((DEPARTMENT_HEADER, HOUSING_BUREAU), (ROLE_HEADER, "operator"))
        async with secure_channel(_target(running), pki.settings("peer", role)) as channel:
            refused = await _refused(channel, forwarded)
        assert refused.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "only the gateway may forward a caller" in (refused.details() or "")

    async def test_service_acts_for_a_department_but_stays_a_service(
        self, pki: Pki, serve: Start
    ) -> None:
        running = await serve()
        async with secure_channel(_target(running), pki.settings("proofs", "service")) as channel:
            own = await _who(channel)
            assert (own.department_code, own.role) == (MARKET_REGULATION, common_pb2.ROLE_SERVICE)
            acting = await _who(
                channel, ((DEPARTMENT_HEADER, HOUSING_BUREAU), (ROLE_HEADER, "service"))
            )
            assert (acting.department_code, acting.role) == (
                HOUSING_BUREAU,
                common_pb2.ROLE_SERVICE,
            )
            refused = await _refused(
                channel, ((DEPARTMENT_HEADER, HOUSING_BUREAU), (ROLE_HEADER, "issuer"))
            )
        assert refused.code() == grpc.StatusCode.UNAUTHENTICATED


class TestRefused:
    """Foreign, expired, revoked and missing certificates never reach a handler."""

    async def test_no_client_certificate_is_refused(self, pki: Pki, serve: Start) -> None:
        running = await serve()
        credentials = grpc.ssl_channel_credentials(root_certificates=pki.ca_file.read_bytes())
        async with grpc.aio.secure_channel(_target(running), credentials) as channel:
            refused = await _refused(channel)
        assert refused.code() == grpc.StatusCode.UNAVAILABLE  # the handshake fails

    async def test_plain_client_is_refused(self, serve: Start) -> None:
        running = await serve()
        async with grpc.aio.insecure_channel(_target(running)) as channel:
            assert (await _refused(channel)).code() == grpc.StatusCode.UNAVAILABLE

    async def test_certificate_of_another_ca_is_refused(self, pki: Pki, serve: Start) -> None:
        running = await serve()
        other = CertificateAuthority.generate("test CA", now=datetime.now(UTC))  # same name
        cert, key, _ = pki.leaf("intruder", "operator", authority=other)
        settings = load({}, tls_cert_file=cert, tls_key_file=key, tls_ca_file=pki.ca_file)
        async with secure_channel(_target(running), settings) as channel:
            assert (await _refused(channel)).code() == grpc.StatusCode.UNAVAILABLE

    async def test_foreign_certificate_is_refused_by_the_identity_too(self, pki: Pki) -> None:
        """Should a TLS layer ever trust more than the deployment CA, the identity still refuses."""
        other = CertificateAuthority.generate("test CA", now=datetime.now(UTC))
        foreign = other.issue(MARKET_REGULATION, "operator", now=datetime.now(UTC))
        source = MtlsIdentity(pki.ca_file)
        with pytest.raises(Exception, match="not issued by the deployment CA"):
            source.authenticate({}, {"x509_pem_cert": [foreign.certificate_pem]})
        with pytest.raises(Exception, match="cannot be parsed"):
            source.authenticate({}, {"x509_pem_cert": [b"-----BEGIN CERTIFICATE-----\n"]})
        with pytest.raises(Exception, match="no client certificate"):
            source.authenticate({}, {})

    async def test_expired_certificate_fails_the_handshake(self, pki: Pki, serve: Start) -> None:
        running = await serve()
        cert, key, _ = pki.leaf("old", "clerk", now=datetime.now(UTC) - timedelta(days=10), days=2)
        settings = load({}, tls_cert_file=cert, tls_key_file=key, tls_ca_file=pki.ca_file)
        async with secure_channel(_target(running), settings) as channel:
            assert (await _refused(channel)).code() == grpc.StatusCode.UNAVAILABLE

    async def test_certificate_expiring_on_an_open_channel_is_refused_at_its_next_call(
        self, pki: Pki, serve: Start
    ) -> None:
        clock = [datetime.now(UTC)]
        running = await serve(MtlsIdentity(pki.ca_file, clock=lambda: clock[0]))
        async with secure_channel(_target(running), pki.settings("c", "clerk")) as channel:
            await _who(channel)
            clock[0] += timedelta(days=31)  # the certificate lives 30 days
            refused = await _refused(channel)
        assert refused.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "expired" in (refused.details() or "")

    async def test_revocation_takes_effect_on_the_same_channel(
        self, pki: Pki, serve: Start
    ) -> None:
        pki.publish_crl(number=1)  # an empty CRL, watched from the start
        running = await serve()
        cert, key, serial = pki.leaf("revokee", "issuer")
        settings = load({}, tls_cert_file=cert, tls_key_file=key, tls_ca_file=pki.ca_file)
        async with secure_channel(_target(running), settings) as channel:
            assert (await _who(channel)).role == common_pb2.ROLE_ISSUER
            pki.publish_crl(serial, number=2)
            refused = await _refused(channel)
            assert refused.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "revoked" in (refused.details() or "")
            assert MARKET_REGULATION not in (refused.details() or "")

    async def test_crl_of_another_ca_is_not_used(self, pki: Pki, serve: Start) -> None:
        """A forged CRL neither stops start-up's checks nor unrevokes anyone later."""
        cert, key, serial = pki.leaf("revokee", "issuer")
        pki.publish_crl(serial, number=1)
        running = await serve()
        forger = CertificateAuthority.generate("test CA", now=datetime.now(UTC))
        now = datetime.now(UTC)
        write_atomic(pki.crl_file, forger.crl({}, number=9, now=now).public_bytes(Encoding.PEM))
        settings = load({}, tls_cert_file=cert, tls_key_file=key, tls_ca_file=pki.ca_file)
        async with secure_channel(_target(running), settings) as channel:
            assert "revoked" in ((await _refused(channel)).details() or "")
        with pytest.raises(ConfigError, match="not signed by the deployment CA"):
            MtlsIdentity(pki.ca_file, pki.crl_file)


class TestSelect:
    """Production runs mutual TLS or does not start; development keeps --insecure-dev."""

    def test_production_without_tls_refuses_to_start(self, settings: Settings) -> None:
        production = dataclasses.replace(settings, mode="production")
        with pytest.raises(ConfigError, match="CERTFREE_TLS_CERT_FILE"):
            identity.select(production, insecure_dev=False)
        with pytest.raises(ConfigError, match="--insecure-dev is refused"):
            identity.select(production, insecure_dev=True)
        with pytest.raises(ConfigError, match="CERTFREE_TLS_CERT_FILE"):
            secure_channel("127.0.0.1:1", production)

    async def test_production_server_without_tls_refuses_to_start(self, settings: Settings) -> None:
        production = dataclasses.replace(settings, mode="production")
        with pytest.raises(ConfigError, match="CERTFREE_TLS_CA_FILE"):
            await start_server(production, "127.0.0.1:0", [_who_registration()], NoIdentity())

    def test_production_with_tls_selects_mtls(self, pki: Pki) -> None:
        production = dataclasses.replace(pki.settings("s", "service"), mode="production")
        assert isinstance(identity.select(production, insecure_dev=False), MtlsIdentity)

    def test_tls_files_go_together(self, pki: Pki) -> None:
        with pytest.raises(ConfigError, match="set together"):
            load({"CERTFREE_TLS_CERT_FILE": "a.crt"})
        with pytest.raises(ConfigError, match="CERTFREE_TLS_CRL_FILE needs"):
            load({"CERTFREE_TLS_CRL_FILE": "crl.pem"})

    def test_key_of_another_certificate_is_a_config_error(self, pki: Pki) -> None:
        cert, _, _ = pki.leaf("a", "service")
        _, other_key, _ = pki.leaf("b", "service")
        settings = load({}, tls_cert_file=cert, tls_key_file=other_key, tls_ca_file=pki.ca_file)
        with pytest.raises(ConfigError, match="is not the key of"):
            secure_channel("127.0.0.1:1", settings)

    async def test_insecure_dev_still_works_in_development(
        self, settings: Settings, serve: Start
    ) -> None:
        source = identity.select(settings, insecure_dev=True)
        assert isinstance(source, DevIdentity)
        running = await serve(source, settings)
        async with secure_channel(_target(running), settings) as channel:  # plain in development
            caller = await _who(
                channel, ((DEPARTMENT_HEADER, HOUSING_BUREAU), (ROLE_HEADER, "clerk"))
            )
        assert caller.role == common_pb2.ROLE_CLERK


class TestServerCertificateReload:
    """A server picks up rotated certificate files for new connections, without a restart."""

    async def test_rotated_server_certificate_is_served(self, pki: Pki, serve: Start) -> None:
        settings = pki.settings("server", "service")
        running = await serve(settings=settings)
        client = pki.settings("client", "clerk")
        async with secure_channel(_target(running), client) as channel:
            await _who(channel)
        # Rotate to a certificate from a second CA; the CA file now trusts both.
        successor = CertificateAuthority.generate("successor CA", now=datetime.now(UTC))
        both = pki.authority.certificate_pem + successor.certificate_pem
        write_atomic(pki.ca_file, both)
        issued = successor.issue(MARKET_REGULATION, "service", now=datetime.now(UTC), dns=LOOPBACK)
        write_private(settings.tls_key_file, issued.private_key_pem)
        write_atomic(settings.tls_cert_file, issued.certificate_pem)
        only_old = pki.root / "old-ca.crt"
        write_atomic(only_old, pki.authority.certificate_pem)
        old_trust = dataclasses.replace(client, tls_ca_file=only_old)
        async with secure_channel(_target(running), old_trust) as channel:
            assert (await _refused(channel)).code() == grpc.StatusCode.UNAVAILABLE
        new_trust = dataclasses.replace(client, tls_ca_file=pki.ca_file)
        async with secure_channel(_target(running), new_trust) as channel:
            assert (await _who(channel)).role == common_pb2.ROLE_CLERK


@pytest.fixture
def tls_environment(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pki]:
    """The process environment of a deployment whose services share one service certificate."""
    cert, key, _ = pki.leaf("services", "service")
    pki.publish_crl(number=1)
    monkeypatch.setenv("CERTFREE_TLS_CERT_FILE", str(cert))
    monkeypatch.setenv("CERTFREE_TLS_KEY_FILE", str(key))
    monkeypatch.setenv("CERTFREE_TLS_CA_FILE", str(pki.ca_file))
    monkeypatch.setenv("CERTFREE_TLS_CRL_FILE", str(pki.crl_file))
    yield pki


class TestServicesOverMtls:
    """Real services answer only over mutual TLS and call each other with their own certificates."""

    async def test_rotation_is_attested_through_the_ledger_over_mtls(
        self, tls_environment: Pki, settings: Settings, redis_url: str
    ) -> None:
        pki = tls_environment
        environment = load(redis_url=redis_url)
        stack_settings = dataclasses.replace(
            settings,
            redis_url=redis_url,
            tls_cert_file=environment.tls_cert_file,
            tls_key_file=environment.tls_key_file,
            tls_ca_file=environment.tls_ca_file,
            tls_crl_file=environment.tls_crl_file,
        )
        stack = await Stack.start(stack_settings, insecure_dev=False)
        try:
            addresses = stack.addresses()
            operator = pki.settings("operator-1", "operator")
            async with secure_channel(addresses["licenses"], operator) as channel:
                rotated = await licenses_pb2_grpc.LicenseServiceStub(channel).RotateIssuerKey(
                    licenses_pb2.RotateIssuerKeyRequest(
                        department_code=MARKET_REGULATION,
                        algorithm=licenses_pb2.SIGNATURE_ALGORITHM_ES256,
                        request_id="mtls-rotation-1",
                    ),
                    timeout=30,
                )
            assert rotated.key.key_id
            auditor = pki.settings("auditor-1", "auditor")
            async with secure_channel(addresses["ledger"], auditor) as channel:
                entry = await ledger_pb2_grpc.LedgerServiceStub(channel).GetEntry(
                    ledger_pb2.GetEntryRequest(index=0), timeout=30
                )
            assert entry.attestation.issuer_department == MARKET_REGULATION
            async with grpc.aio.insecure_channel(addresses["ledger"]) as channel:
                with pytest.raises(grpc.aio.AioRpcError) as raised:
                    await ledger_pb2_grpc.LedgerServiceStub(channel).GetEntry(
                        ledger_pb2.GetEntryRequest(index=0), timeout=10
                    )
            assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
        finally:
            await stack.stop()
