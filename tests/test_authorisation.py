"""The authorisation policy: its table, its docs, every role × RPC cell on real servers,
cross-department refusals with real data, and per-department rate limits."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

import services.ledger
from certfree.stack import Stack
from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from genproto.certfree.licenses.v1 import licenses_pb2, licenses_pb2_grpc
from genproto.certfree.proofs.v1 import proofs_pb2, proofs_pb2_grpc
from runtime import policy
from runtime.config import ConfigError, Settings, load
from runtime.errors import PermissionDenied
from runtime.identity import DevIdentity
from runtime.server import start_server
from runtime.store import Store
from tests.conftest import HOUSING_BUREAU, MARKET_REGULATION, caller
from tests.redis_server import RedisServer
from tests.test_licenses import issue_request
from tests.test_proofs import CENTRE, POLICE, answer_request, create_request

ROOT = Path(__file__).resolve().parent.parent
PB2 = (ledger_pb2, licenses_pb2, proofs_pb2)
HOST = {
    policy.LEDGER: "ledger",
    policy.LICENSES: "licenses",
    policy.LICENSE_CATALOG: "licenses",
    policy.PROOFS: "proofs",
    policy.PROOF_CATALOG: "proofs",
}
"""Which server answers each service."""


def contract_methods() -> Iterator[tuple[str, object]]:
    """Every RPC of the generated descriptors: full method name and method descriptor."""
    for module in PB2:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                yield f"/{service.full_name}/{method.name}", method


METHODS = dict(contract_methods())


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo detail of a failed call, if it carried one."""
    status = rpc_status.from_call(error)
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    return None


def refused_by_policy(error: grpc.aio.AioRpcError | None, rpc: str) -> bool:
    """True when `error` is the interceptor's role refusal of `rpc` (not a handler's)."""
    if error is None or error.code() != grpc.StatusCode.PERMISSION_DENIED:
        return False
    info = error_info(error)
    return info is not None and info.reason == "ROLE_NOT_ALLOWED" and info.metadata["rpc"] == rpc


async def outcome(error: object) -> grpc.aio.AioRpcError:
    """The error a call ends with (it must fail)."""
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await error  # type: ignore[misc]
    return raised.value


class TestTable:
    """The policy covers exactly the contract, and the docs are rendered from it."""

    def test_every_rpc_of_the_contract_has_an_entry(self) -> None:
        """No RPC in the generated descriptors is missing from the policy."""
        assert sorted(set(METHODS) - set(policy.POLICY)) == []

    def test_no_entry_names_an_unknown_rpc(self) -> None:
        """Every policy entry is an RPC of the contract."""
        assert sorted(set(policy.POLICY) - set(METHODS)) == []

    def test_every_entry_allows_some_role_and_only_real_ones(self) -> None:
        """Roles are certfree.common.v1.Role values, never UNSPECIFIED; no entry is empty."""
        for entry in policy.POLICY.values():
            assert entry.roles and entry.roles <= set(policy.ROLES), entry.method

    def test_docs_are_the_rendered_policy(self) -> None:
        """Regenerate with `python -m runtime.policy > docs/authorisation.md` when this fails."""
        assert (ROOT / "docs" / "authorisation.md").read_text() == policy.render_markdown()

    def test_expensive_rpcs_have_rates(self) -> None:
        """The RPCs that sign, fan out or open bulk streams are rate-limited per department."""
        limited = {policy.POLICY[m].name for m in policy.rate_limits({})}
        assert {"IssueLicense", "BatchVerifyLicenses", "CreateProofRequest", "BatchAppend"} <= (
            limited
        )


class TestDecide:
    """The interceptor's rule: refuse a role the entry lacks, and unknown RPCs of our services."""

    def test_allowed_role_gets_the_entry(self) -> None:
        """An issuer may issue; the entry names the authority-catalogue rule."""
        entry = policy.decide(f"/{policy.LICENSES}/IssueLicense", policy.ISSUER)
        assert entry is not None
        assert entry.department is policy.DepartmentRule.AUTHORITY_CATALOGUE

    def test_other_role_is_refused_naming_the_allowed(self) -> None:
        """A clerk may not issue: ROLE_NOT_ALLOWED, saying who may."""
        with pytest.raises(PermissionDenied) as refused:
            policy.decide(f"/{policy.LICENSES}/IssueLicense", policy.CLERK)
        assert refused.value.reason == common_pb2.ROLE_NOT_ALLOWED
        assert refused.value.message == "role clerk may not call IssueLicense (allowed: issuer)"

    def test_unlisted_rpc_of_a_covered_service_is_refused(self) -> None:
        """Fail closed: a method the policy does not list is refused for every role."""
        for role in policy.ROLES:
            with pytest.raises(PermissionDenied):
                policy.decide(f"/{policy.LEDGER}/DeleteEverything", role)

    def test_uncovered_service_needs_authentication_only(self) -> None:
        """A test's own servicer is outside the policy: no entry, no refusal."""
        assert policy.decide("/certfree.test.Who/Who", policy.HOLDER) is None

    def test_health_and_reflection_are_public(self) -> None:
        """Probes call health without a caller."""
        assert policy.is_public("/grpc.health.v1.Health/Check")
        assert policy.is_public("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
        assert not policy.is_public(f"/{policy.LEDGER}/GetEntry")


class TestRateSettings:
    """CERTFREE_RATE_LIMITS overrides the policy's rates by RPC name, or start-up fails."""

    def test_override_and_off(self) -> None:
        """`IssueLicense=5` sets that limit; `BatchAppend=0` removes it."""
        settings = load({"CERTFREE_RATE_LIMITS": "IssueLicense=5, BatchAppend=0"})
        limits = policy.rate_limits(settings.rate_limit_overrides)
        assert limits[f"/{policy.LICENSES}/IssueLicense"] == 5
        assert f"/{policy.LEDGER}/BatchAppend" not in limits

    def test_malformed_value_names_the_setting(self) -> None:
        """Not `RPC=calls`: ConfigError naming CERTFREE_RATE_LIMITS."""
        with pytest.raises(ConfigError, match="CERTFREE_RATE_LIMITS"):
            load({"CERTFREE_RATE_LIMITS": "IssueLicense:5"})

    def test_unknown_rpc_is_refused(self) -> None:
        """An RPC that is not rate-limited cannot be given a limit."""
        with pytest.raises(ValueError, match="GetEntry is not a rate-limited RPC"):
            policy.rate_limits({"GetEntry": 5})

    async def test_server_refuses_to_start_with_an_unknown_rpc(
        self, settings: Settings, store: Store
    ) -> None:
        """The server names the setting at start-up."""
        bad = dataclasses.replace(settings, rate_limits="GetEntry=5")
        with pytest.raises(ConfigError, match="CERTFREE_RATE_LIMITS"):
            await start_server(
                bad,
                "127.0.0.1:0",
                services.ledger.registrations(bad, store),
                DevIdentity(),
                store=store,
            )


@dataclasses.dataclass
class Running:
    """The stack and stubs for the cross-department cases."""

    stack: Stack
    proofs: proofs_pb2_grpc.ProofServiceStub
    licenses: licenses_pb2_grpc.LicenseServiceStub


@pytest.fixture
async def running(settings: Settings, redis_url: str) -> AsyncIterator[Running]:
    """certfree with the real store, every port 0, the development identity."""
    stack = await Stack.start(dataclasses.replace(settings, redis_url=redis_url), insecure_dev=True)
    addresses = stack.addresses()
    try:
        async with (
            grpc.aio.insecure_channel(addresses["proofs"]) as proofs,
            grpc.aio.insecure_channel(addresses["licenses"]) as licenses,
        ):
            yield Running(
                stack,
                proofs_pb2_grpc.ProofServiceStub(proofs),
                licenses_pb2_grpc.LicenseServiceStub(licenses),
            )
    finally:
        await stack.stop()


def outside_authority(error: grpc.aio.AioRpcError) -> bool:
    """True for the handlers' department refusal."""
    info = error_info(error)
    return error.code() == grpc.StatusCode.PERMISSION_DENIED and (
        info is not None and info.reason == "OUTSIDE_AUTHORITY"
    )


class TestCrossDepartment:
    """An allowed role acting for the wrong department is refused by the handler's rule."""

    async def test_officer_of_another_department_neither_accepts_nor_answers(
        self, running: Running
    ) -> None:
        """The drawing review is addressed to the housing bureau; a police officer is refused."""
        created = await running.proofs.CreateProofRequest(
            create_request(), metadata=caller(CENTRE, "clerk")
        )
        rid = created.request.request_id
        police = caller(POLICE, "officer")
        accept = proofs_pb2.AcceptProofRequestRequest(request_id=rid)
        assert outside_authority(
            await outcome(running.proofs.AcceptProofRequest(accept, metadata=police))
        )
        await running.proofs.AcceptProofRequest(accept, metadata=caller(HOUSING_BUREAU, "officer"))
        assert outside_authority(
            await outcome(running.proofs.AnswerProofRequest(answer_request(rid), metadata=police))
        )

    async def test_clerk_of_another_department_cannot_withdraw(self, running: Running) -> None:
        """Only the requesting department withdraws its request."""
        created = await running.proofs.CreateProofRequest(
            create_request(), metadata=caller(CENTRE, "clerk")
        )
        withdraw = proofs_pb2.WithdrawProofRequestRequest(
            request_id=created.request.request_id, reason="不再需要"
        )
        assert outside_authority(
            await outcome(
                running.proofs.WithdrawProofRequest(withdraw, metadata=caller(POLICE, "clerk"))
            )
        )

    async def test_issuer_of_another_department_cannot_revoke(self, running: Running) -> None:
        """The market regulator's license: the housing bureau's issuer may not revoke it."""
        issued = await running.licenses.IssueLicense(issue_request(), metadata=caller())
        revoke = licenses_pb2.ChangeLicenseStatusRequest(
            license_id=issued.license.license_id,
            status=licenses_pb2.LICENSE_STATUS_REVOKED,
            reason="吊销营业执照",
        )
        assert outside_authority(
            await outcome(
                running.licenses.ChangeLicenseStatus(revoke, metadata=caller(HOUSING_BUREAU))
            )
        )

    async def test_issuer_cannot_issue_a_type_outside_its_authority(self, running: Running) -> None:
        """Only the market regulator may issue the business license (权责清单)."""
        assert outside_authority(
            await outcome(
                running.licenses.IssueLicense(issue_request(), metadata=caller(HOUSING_BUREAU))
            )
        )


def one_append(department: str, n: int) -> ledger_pb2.BatchAppendRequest:
    """A batch of one well-formed attestation by `department`."""
    return ledger_pb2.BatchAppendRequest(
        appends=[
            ledger_pb2.AppendRequest(
                attestation=ledger_pb2.Attestation(
                    artefact_sha256=hashlib.sha256(f"{department}-{n}".encode()).digest(),
                    kind=ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED,
                    issuer_department=department,
                    artefact_id=f"rate-{n}",
                )
            )
        ]
    )


def retry_delay_ms(error: grpc.aio.AioRpcError) -> int:
    """The RetryInfo delay a RESOURCE_EXHAUSTED carries."""
    status = rpc_status.from_call(error)
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return int(info.retry_delay.ToMilliseconds())
    raise AssertionError("no RetryInfo detail")


class TestRateLimit:
    """Expensive RPCs are counted per department in the store; over the limit waits."""

    async def test_limit_refuses_with_retry_info_then_recovers(
        self, settings: Settings, store: Store
    ) -> None:
        """Two batches a second: the third is RESOURCE_EXHAUSTED, other departments go on,
        and after the delay RetryInfo names the department appends again."""
        limited = dataclasses.replace(
            settings, rate_limits="BatchAppend=2", rate_limit_window_seconds=1
        )
        running = await start_server(
            limited,
            "127.0.0.1:0",
            services.ledger.registrations(limited, store),
            DevIdentity(),
            store=store,
        )
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
                ledger = ledger_pb2_grpc.LedgerServiceStub(channel)
                market, housing = caller(), caller(HOUSING_BUREAU)
                for n in range(2):
                    await ledger.BatchAppend(one_append(MARKET_REGULATION, n), metadata=market)
                error = await outcome(
                    ledger.BatchAppend(one_append(MARKET_REGULATION, 2), metadata=market)
                )
                assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                info = error_info(error)
                assert info is not None and info.reason == "RATE_LIMITED"
                delay = retry_delay_ms(error)
                assert 0 < delay <= 1000
                await ledger.BatchAppend(one_append(HOUSING_BUREAU, 0), metadata=housing)
                await asyncio.sleep(delay / 1000 + 0.05)
                await ledger.BatchAppend(one_append(MARKET_REGULATION, 3), metadata=market)
        finally:
            await running.stop(0)

    async def test_without_a_store_nothing_is_limited(
        self, settings: Settings, store: Store
    ) -> None:
        """start_server without a store (benchmarks, unit tests) counts nothing."""
        limited = dataclasses.replace(settings, rate_limits="BatchAppend=1")
        running = await start_server(
            limited, "127.0.0.1:0", services.ledger.registrations(limited, store), DevIdentity()
        )
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
                ledger = ledger_pb2_grpc.LedgerServiceStub(channel)
                for n in range(3):
                    await ledger.BatchAppend(one_append(MARKET_REGULATION, n), metadata=caller())
        finally:
            await running.stop(0)


# --- the generated role × RPC matrix (last: its stack lives for the whole module) ---------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def matrix_stack(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, str]]:
    """One stack on loopback for every cell of the matrix; its gRPC addresses by service."""
    settings = load(
        {},
        data_dir=tmp_path_factory.mktemp("matrix") / "var",
        ledger_port=0,
        licenses_port=0,
        proofs_port=0,
        gateway_port=0,
        grace_seconds=1.0,
        redis_url=redis_server.url,
    )
    stack = await Stack.start(settings, insecure_dev=True)
    try:
        yield stack.addresses()
    finally:
        await stack.stop()


async def call(channel: grpc.aio.Channel, method: str, role: int) -> grpc.aio.AioRpcError | None:
    """Call `method` with an empty request as `role` of the market regulator; its error."""
    descriptor = METHODS[method]
    request_type = message_factory.GetMessageClass(
        descriptor_pool.Default().FindMessageTypeByName(descriptor.input_type.full_name)  # type: ignore[attr-defined]
    )
    empty: Message = request_type()
    metadata = caller(MARKET_REGULATION, policy.role_name(role))
    serialize = request_type.SerializeToString
    try:
        if descriptor.server_streaming and descriptor.client_streaming:  # type: ignore[attr-defined]
            stream = channel.stream_stream(method, request_serializer=serialize)
            async for _ in stream(iter(()), metadata=metadata, timeout=2.0):
                pass
        elif descriptor.server_streaming:  # type: ignore[attr-defined]
            # An allowed caller's stream stays open waiting for events: the first message or
            # the deadline is enough to know it got past the policy.
            reply = channel.unary_stream(method, request_serializer=serialize)
            async for _ in reply(empty, metadata=metadata, timeout=1.0):
                break
        else:
            await channel.unary_unary(method, request_serializer=serialize)(
                empty, metadata=metadata, timeout=5.0
            )
    except grpc.aio.AioRpcError as error:
        return error
    return None


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("method", sorted(policy.POLICY))
async def test_matrix_cell(method: str, matrix_stack: dict[str, str]) -> None:
    """Every role: refused by the policy exactly when the policy does not list it."""
    entry = policy.POLICY[method]
    wrong = []
    async with grpc.aio.insecure_channel(matrix_stack[HOST[entry.service]]) as channel:
        for role in policy.ROLES:
            error = await call(channel, method, role)
            allowed = role in entry.roles
            if refused_by_policy(error, entry.name) == allowed:
                got = "OK" if error is None else f"{error.code().name}: {error.details()}"
                wrong.append(f"{policy.role_name(role)} (allowed={allowed}): {got}")
    assert wrong == [], f"{entry.name}: {wrong}"
