"""Holder binding: a holder's token reaches that holder's records only, end to end.

Real stack (store, ledger, licenses, proofs, gateway) on loopback; holders call as the
gateway forwards them (role holder, subject = their holder index token), over gRPC and
over HTTP with a token from ``certfree tokens issue --role holder --holder-id``.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from certfree import tokens_cli
from certfree.stack import Stack
from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.licenses.v1 import licenses_pb2, licenses_pb2_grpc
from genproto.certfree.proofs.v1 import proofs_pb2, proofs_pb2_grpc
from runtime.config import Settings
from runtime.errors import PermissionDenied
from runtime.holder_binding import own_holder
from runtime.holders import (
    AMBIGUOUS_KIND,
    HolderIndex,
    is_index_token,
    resident_id_check_character,
    uscc_check_character,
)
from runtime.identity import SUBJECT_HEADER, Caller
from runtime.secrets import load_secret
from runtime.tokens import TokenError, TokenPolicy, load_token_key
from services.licenses.store import LicenseStore
from services.proofs.store import ProofStore
from tests.conftest import MARKET_REGULATION, caller
from tests.test_authorisation import error_info
from tests.test_licenses import COMPANY, PURPOSE, issue_request
from tests.test_proofs import CENTRE, create_request
from tests.test_proofs import PURPOSE as REQUEST_PURPOSE

OTHER_COMPANY = "91350181MA2XYW013" + uscc_check_character("91350181MA2XYW013")
PERSON = "11010519491231002X"  # the GB 11643 sample resident ID


def holder_ref(holder: str) -> common_pb2.HolderRef:
    """A HolderRef for a USCC or a resident ID."""
    return (
        common_pb2.HolderRef(resident_id=holder)
        if holder[:17].isdigit() and holder[6:8] in ("19", "20")
        else common_pb2.HolderRef(uscc=holder)
    )


@dataclasses.dataclass
class Running:
    """The stack, stubs for licenses and proofs, and the deployment's holder index."""

    stack: Stack
    licenses: licenses_pb2_grpc.LicenseServiceStub
    proofs: proofs_pb2_grpc.ProofServiceStub
    index: HolderIndex

    def holder(self, uscc: str) -> tuple[tuple[str, str], ...]:
        """gRPC metadata of the holder `uscc` as the gateway forwards a holder token."""
        return (*caller(CENTRE, "holder"), (SUBJECT_HEADER, self.index.of_uscc(uscc)))

    async def license_accesses(self, uscc: str) -> list[licenses_pb2.LicenseAccess]:
        """The licenses service's access view of `uscc`, read from the store."""
        return await LicenseStore(self.stack.store).accesses(self.index.of_uscc(uscc), 0, 1000)

    async def proof_accesses(self, uscc: str) -> list[proofs_pb2.ProofRequestAccess]:
        """The proofs service's listing records of `uscc`, read from the store."""
        return await ProofStore(self.stack.store).accesses(self.index.of_uscc(uscc), 0, 1000)


@pytest.fixture
async def running(settings: Settings, redis_url: str) -> AsyncIterator[Running]:
    """certfree with the real store, every port 0, the development identity at the services."""
    stack = await Stack.start(dataclasses.replace(settings, redis_url=redis_url), insecure_dev=True)
    addresses = stack.addresses()
    try:
        async with (
            grpc.aio.insecure_channel(addresses["licenses"]) as licenses,
            grpc.aio.insecure_channel(addresses["proofs"]) as proofs,
        ):
            yield Running(
                stack,
                licenses_pb2_grpc.LicenseServiceStub(licenses),
                proofs_pb2_grpc.ProofServiceStub(proofs),
                HolderIndex(load_secret(stack.settings, "holder_index_key")),
            )
    finally:
        await stack.stop()


@pytest.fixture
async def records(running: Running) -> tuple[str, str]:
    """COMPANY's business license, a clerk's lookup of it and a proof request about it:
    (license id, request id)."""
    issued = await running.licenses.IssueLicense(issue_request(), metadata=caller())
    await running.licenses.ListHolderLicenses(
        licenses_pb2.ListHolderLicensesRequest(holder=holder_ref(COMPANY), purpose=PURPOSE),
        metadata=caller(CENTRE, "clerk"),
    )
    created = await running.proofs.CreateProofRequest(
        create_request(), metadata=caller(CENTRE, "clerk")
    )
    return issued.license.license_id, created.request.request_id


async def refused(call: object) -> grpc.aio.AioRpcError:
    """The error a call ends with (it must fail)."""
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call  # type: ignore[misc]
    return error.value


def holder_mismatch(error: grpc.aio.AioRpcError) -> bool:
    """True for the binding's refusal: PERMISSION_DENIED with reason HOLDER_MISMATCH."""
    info = error_info(error)
    return error.code() == grpc.StatusCode.PERMISSION_DENIED and (
        info is not None and info.reason == "HOLDER_MISMATCH"
    )


class TestOwnRecords:
    """A holder reads their own licenses, accesses and proof requests."""

    async def test_own_licenses_need_no_purpose_and_are_not_recorded(
        self, running: Running, records: tuple[str, str]
    ) -> None:
        """No purpose, no case; the access view keeps only the department's lookup."""
        license_id, _ = records
        before = await running.license_accesses(COMPANY)
        listed = await running.licenses.ListHolderLicenses(
            licenses_pb2.ListHolderLicensesRequest(holder=holder_ref(COMPANY)),
            metadata=running.holder(COMPANY),
        )
        assert [license.license_id for license in listed.licenses] == [license_id]
        assert await running.license_accesses(COMPANY) == before

    async def test_own_access_view_shows_who_looked(
        self, running: Running, records: tuple[str, str]
    ) -> None:
        """The clerk's lookup, with department, purpose and case; nothing of the holder's own."""
        await running.licenses.ListHolderLicenses(
            licenses_pb2.ListHolderLicensesRequest(holder=holder_ref(COMPANY)),
            metadata=running.holder(COMPANY),
        )
        view = await running.licenses.ListLicenseAccesses(
            licenses_pb2.ListLicenseAccessesRequest(holder=holder_ref(COMPANY)),
            metadata=running.holder(COMPANY),
        )
        assert [(a.department_code, a.role, a.kind) for a in view.accesses] == [
            (CENTRE, common_pb2.ROLE_CLERK, licenses_pb2.ACCESS_KIND_LOOKUP)
        ]
        assert view.accesses[0].purpose == PURPOSE

    async def test_own_proof_requests(self, running: Running, records: tuple[str, str]) -> None:
        """Every request about the holder, without a purpose."""
        _, request_id = records
        listed = await running.proofs.ListHolderProofRequests(
            proofs_pb2.ListHolderProofRequestsRequest(holder=holder_ref(COMPANY)),
            metadata=running.holder(COMPANY),
        )
        assert [r.request_id for r in listed.requests] == [request_id]
        assert listed.requests[0].purpose == REQUEST_PURPOSE


class TestAnotherHolder:
    """A holder naming any other holder is refused, and nothing is read or recorded."""

    async def test_every_holder_rpc_refuses_another_holder(
        self, running: Running, records: tuple[str, str]
    ) -> None:
        """OTHER_COMPANY's token on COMPANY's records: HOLDER_MISMATCH, three times."""
        before = (await running.license_accesses(COMPANY), await running.proof_accesses(COMPANY))
        other = running.holder(OTHER_COMPANY)
        calls = [
            running.licenses.ListHolderLicenses(
                licenses_pb2.ListHolderLicensesRequest(holder=holder_ref(COMPANY)),
                metadata=other,
            ),
            running.licenses.ListLicenseAccesses(
                licenses_pb2.ListLicenseAccessesRequest(holder=holder_ref(COMPANY)),
                metadata=other,
            ),
            running.proofs.ListHolderProofRequests(
                proofs_pb2.ListHolderProofRequestsRequest(holder=holder_ref(COMPANY)),
                metadata=other,
            ),
        ]
        for call in calls:
            error = await refused(call)
            assert holder_mismatch(error), error.details()
            assert COMPANY not in (error.details() or "")
        after = (await running.license_accesses(COMPANY), await running.proof_accesses(COMPANY))
        assert after == before

    async def test_purpose_does_not_open_another_holder(
        self, running: Running, records: tuple[str, str]
    ) -> None:
        """Stating a purpose and case changes nothing: a holder is not a department."""
        error = await refused(
            running.licenses.ListHolderLicenses(
                licenses_pb2.ListHolderLicensesRequest(holder=holder_ref(COMPANY), purpose=PURPOSE),
                metadata=running.holder(OTHER_COMPANY),
            )
        )
        assert holder_mismatch(error)

    async def test_a_holder_caller_without_an_index_token_reaches_no_one(
        self, running: Running, records: tuple[str, str]
    ) -> None:
        """Role holder with a staff-like subject (the development default): refused."""
        error = await refused(
            running.proofs.ListHolderProofRequests(
                proofs_pb2.ListHolderProofRequestsRequest(holder=holder_ref(COMPANY)),
                metadata=caller(CENTRE, "holder"),
            )
        )
        assert holder_mismatch(error)


class TestOtherRoles:
    """Departments keep their rules: a lookup states a purpose and is recorded."""

    async def test_a_clerk_lookup_without_purpose_is_refused(
        self, running: Running, records: tuple[str, str]
    ) -> None:
        """INVALID_ARGUMENT naming `purpose`; nothing recorded."""
        before = await running.license_accesses(COMPANY)
        error = await refused(
            running.licenses.ListHolderLicenses(
                licenses_pb2.ListHolderLicensesRequest(holder=holder_ref(COMPANY)),
                metadata=caller(CENTRE, "clerk"),
            )
        )
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "purpose" in (error.details() or "")
        assert await running.license_accesses(COMPANY) == before

    async def test_an_auditor_reads_any_holder_with_a_purpose(
        self, running: Running, records: tuple[str, str]
    ) -> None:
        """The binding applies to role holder only."""
        view = await running.licenses.ListLicenseAccesses(
            licenses_pb2.ListLicenseAccessesRequest(holder=holder_ref(COMPANY), purpose=PURPOSE),
            metadata=caller(CENTRE, "auditor"),
        )
        assert view.accesses


# --- the CLI and the gateway ---------------------------------------------------------------


async def cli(
    settings: Settings, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str]:
    """Run `certfree tokens` with `settings`: exit status and everything printed."""
    parser = argparse.ArgumentParser()
    tokens_cli.add_tokens_commands(parser.add_subparsers(dest="command"))
    status = await tokens_cli.run_with(parser.parse_args(["tokens", *argv]), settings)
    out, err = capsys.readouterr()
    return status, out + err


def holder_issue(*argv: str) -> list[str]:
    """`tokens issue` arguments for a holder session token, with `argv` added."""
    return [
        "issue",
        *("--department", CENTRE, "--role", "holder"),
        *("--scope", "licenses:read", "--scope", "proofs", "--hours", "1"),
        *argv,
    ]


def payload(token: str) -> dict[str, object]:
    """The JWT's claims (the gateway verified it; here only read)."""
    body = token.split(".")[1]
    claims: dict[str, object] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return claims


class TestCli:
    """`certfree tokens issue --role holder --holder-id` and the combinations it refuses."""

    async def test_holder_token_through_the_gateway(
        self, running: Running, records: tuple[str, str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The subject is the index token; the clear ID is not printed or stored; the token
        reads its holder's licenses over HTTP and is refused another holder's."""
        license_id, _ = records
        status, printed = await cli(
            running.stack.settings, capsys, *holder_issue("--holder-id", COMPANY)
        )
        assert status == 0, printed
        (token,) = [line for line in printed.splitlines() if line.startswith("eyJ")]
        assert payload(token)["sub"] == running.index.of_uscc(COMPANY)
        assert COMPANY not in printed and COMPANY not in json.dumps(payload(token))
        stored = [
            value
            async for key in running.stack.store.redis.scan_iter(match="*gateway*")
            for value in [await running.stack.store.redis.dump(key)]
        ]
        assert stored and not any(value and COMPANY.encode() in value for value in stored)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=running.stack.addresses()["gateway"]) as http:
            own = await http.post(
                "/v1/licenses:listByHolder", json={"holder": {"uscc": COMPANY}}, headers=headers
            )
            other = await http.post(
                "/v1/licenses:listAccesses",
                json={"holder": {"uscc": OTHER_COMPANY}},
                headers=headers,
            )
        assert own.status_code == 200, own.text
        assert [item["licenseId"] for item in own.json()["licenses"]] == [license_id]
        assert other.status_code == 403
        (info,) = [d for d in other.json()["details"] if d["@type"].endswith("ErrorInfo")]
        assert info["reason"] == "HOLDER_MISMATCH"

    @pytest.mark.parametrize(
        ("argv", "why"),
        [
            (holder_issue("--holder-id", COMPANY, "--subject", "desk-1"), "not --subject"),
            (holder_issue(), "needs --holder-id"),
            (holder_issue("--subject", "desk-1"), "not --subject"),
            (
                [
                    "issue",
                    *("--department", CENTRE, "--role", "clerk", "--subject", "c-1"),
                    *("--holder-id", COMPANY, "--scope", "proofs", "--hours", "1"),
                ],
                "for role holder only",
            ),
            (
                [
                    "issue",
                    *("--department", CENTRE, "--role", "clerk"),
                    *("--scope", "proofs", "--hours", "1"),
                ],
                "needs --subject",
            ),
            (holder_issue("--holder-id", PERSON[:-1] + "0"), "neither a resident ID"),
        ],
    )
    async def test_bad_combinations_are_refused(
        self,
        settings: Settings,
        redis_url: str,
        capsys: pytest.CaptureFixture[str],
        argv: list[str],
        why: str,
    ) -> None:
        """Exit 1, saying why, and never echoing the ID."""
        status, printed = await cli(
            dataclasses.replace(settings, redis_url=redis_url), capsys, *argv
        )
        assert status == 1 and why in printed
        assert COMPANY not in printed and PERSON[:-1] not in printed

    async def test_an_id_valid_as_both_kinds_needs_the_kind(
        self, settings: Settings, redis_url: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """All digits passing both checks: refused unless --holder-kind says which."""
        both = ambiguous_id()
        local = dataclasses.replace(settings, redis_url=redis_url)
        status, printed = await cli(local, capsys, *holder_issue("--holder-id", both))
        assert status == 1 and "say which kind" in printed and both not in printed
        status, printed = await cli(
            local, capsys, *holder_issue("--holder-id", both, "--holder-kind", "person")
        )
        assert status == 0, printed
        (token,) = [line for line in printed.splitlines() if line.startswith("eyJ")]
        index = HolderIndex(load_secret(local, "holder_index_key"))
        assert payload(token)["sub"] == index.of_resident_id(both)


def ambiguous_id() -> str:
    """A resident ID (of 1949-12-31, Beijing) whose check character is its USCC one too."""
    for sequence in range(1000):
        first17 = f"11010519491231{sequence:03d}"
        if resident_id_check_character(first17) == uscc_check_character(first17):
            return first17 + resident_id_check_character(first17)
    raise AssertionError("no such ID among 1,000 sequence numbers")


# --- the pure rules ---------------------------------------------------------------------


KEY = bytes(range(32))
digits17 = st.text(alphabet="0123456789", min_size=17, max_size=17)


def person_id(first17: str) -> str:
    """A resident ID with a fixed, valid date of birth and the given address and sequence."""
    body = first17[:6] + "19800101" + first17[14:]
    return body + resident_id_check_character(body)


class TestRule:
    """own_holder: other roles pass through, a holder is only themself."""

    @given(digits17, digits17)
    def test_a_holder_is_refused_every_other_holder(self, mine: str, theirs: str) -> None:
        """For any two different people, one's identity never opens the other's records."""
        index = HolderIndex(KEY)
        me, them = person_id(mine), person_id(theirs)
        holder = Caller(MARKET_REGULATION, common_pb2.ROLE_HOLDER, index.of_resident_id(me))
        assert own_holder(holder, index.of_resident_id(me))
        if me != them:
            with pytest.raises(PermissionDenied) as refusal:
                own_holder(holder, index.of_resident_id(them))
            assert refusal.value.reason == common_pb2.HOLDER_MISMATCH
            assert me not in refusal.value.message and them not in refusal.value.message

    def test_other_roles_are_not_the_holder(self) -> None:
        """An auditor whose subject happens to equal the token is still not the holder."""
        token = HolderIndex(KEY).of_uscc(COMPANY)
        for role in (common_pb2.ROLE_AUDITOR, common_pb2.ROLE_CLERK, common_pb2.ROLE_SERVICE):
            assert own_holder(Caller(MARKET_REGULATION, role, token), token) is False

    @given(st.binary(min_size=32, max_size=64), digits17)
    def test_every_index_token_has_the_form(self, key: bytes, first17: str) -> None:
        """Tokens of persons and organisations are recognised; names are not."""
        index = HolderIndex(key)
        assert is_index_token(index.of_resident_id(person_id(first17)))
        assert is_index_token(index.of_uscc(COMPANY))
        assert not is_index_token("desk-3")
        assert not is_index_token(person_id(first17))

    def test_of_identifier_tells_the_kinds_apart(self) -> None:
        """A resident ID gets its p: token, a USCC its o: token; both-valid is refused."""
        index = HolderIndex(KEY)
        assert index.of_identifier(PERSON) == index.of_resident_id(PERSON)
        assert index.of_identifier(COMPANY) == index.of_uscc(COMPANY)
        with pytest.raises(Exception) as refusal:
            index.of_identifier(ambiguous_id())
        violations = getattr(refusal.value, "field_violations", ())
        assert [v.reason for v in violations] == [AMBIGUOUS_KIND]


class TestTokens:
    """A holder token's subject must be a holder index token, minting and verifying."""

    def test_minting_a_holder_token_for_a_name_is_refused(self, settings: Settings) -> None:
        """`sub: desk-1` with role holder: TokenError."""
        policy = TokenPolicy.of(settings)
        with pytest.raises(TokenError, match="holder index token"):
            policy.claims(
                department=CENTRE,
                role="holder",
                subject="desk-1",
                scopes=["licenses:read"],
                lifetime=timedelta(hours=1),
                now=datetime.now(UTC),
            )

    def test_verify_refuses_a_holder_token_without_an_index_token(self, settings: Settings) -> None:
        """Signed by the right key but with a name as subject: refused at the gateway."""
        policy, key = TokenPolicy.of(settings), load_token_key(settings)
        now = datetime.now(UTC)
        good = policy.claims(
            department=CENTRE,
            role="holder",
            subject=HolderIndex(KEY).of_uscc(COMPANY),
            scopes=["licenses:read"],
            lifetime=timedelta(hours=1),
            now=now,
        )
        assert key.verify(key.mint(good), policy, now=int(now.timestamp())) == good
        forged = key.mint(dataclasses.replace(good, subject="desk-1"))
        with pytest.raises(TokenError, match="holder index token"):
            key.verify(forged, policy, now=int(now.timestamp()))
