"""The GB/T license status rules: every transition, the status-list values, the docs table;
and a status change as two replicas of the licenses service see it."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

import services.licenses
from genproto.certfree.licenses.v1 import licenses_pb2, licenses_pb2_grpc
from genproto.certfree.licenses.v1.licenses_pb2 import LicenseStatus
from runtime.config import Settings
from runtime.errors import InvalidArgument, InvalidState
from runtime.identity import DevIdentity
from runtime.server import start_server
from runtime.store import Store, connect
from services.licenses import status as status_module
from services.licenses.licensing import _StatusReads
from services.licenses.status import (
    CANCELLED,
    EXPIRED,
    REVOKED,
    STATUS_LIST_BITS,
    STATUSES,
    SUSPENDED,
    TRANSFERRED,
    TRANSITIONS,
    VALID,
    WITHDRAWN,
    check_transition,
    is_final,
    status_from_list_value,
    status_list_value,
    status_name,
)
from services.licenses.store import STATUS_BLOCK, LicenseStore
from tests import test_licenses
from tests.conftest import HOUSING_BUREAU, caller
from tests.test_licenses import Running, issue_request

running = test_licenses.running  # the fixture: a real stack on the session's store

UNSPECIFIED = licenses_pb2.LICENSE_STATUS_UNSPECIFIED

# Spelled out again on purpose: the test states the rule, the module implements it.
EXPECTED_MOVES: dict[LicenseStatus, set[LicenseStatus]] = {
    VALID: {SUSPENDED, REVOKED, CANCELLED, EXPIRED, TRANSFERRED, WITHDRAWN},
    SUSPENDED: {VALID, REVOKED, CANCELLED, EXPIRED, WITHDRAWN},
    REVOKED: set(),
    CANCELLED: set(),
    EXPIRED: set(),
    TRANSFERRED: set(),
    WITHDRAWN: set(),
}

# The values licenses.proto fixes in the LicenseStatus comments.
PROTO_LIST_VALUES: dict[LicenseStatus, int] = {
    VALID: 0x00,
    REVOKED: 0x01,
    SUSPENDED: 0x02,
    CANCELLED: 0x03,
    EXPIRED: 0x0C,
    TRANSFERRED: 0x0D,
    WITHDRAWN: 0x0E,
}

ALL_PAIRS = [(current, new) for current in STATUSES for new in STATUSES]
ALLOWED = [(c, n) for c, n in ALL_PAIRS if n in EXPECTED_MOVES[c]]
REFUSED = [(c, n) for c, n in ALL_PAIRS if n not in EXPECTED_MOVES[c]]


def pair_id(pair: tuple[LicenseStatus, LicenseStatus]) -> str:
    """A readable test id: ``VALID->SUSPENDED``."""
    return f"{status_name(pair[0])}->{status_name(pair[1])}"


class TestTransitionMatrix:
    """Every pair of statuses is allowed or refused exactly as the table says."""

    def test_the_table_covers_every_status_and_nothing_else(self) -> None:
        """TRANSITIONS has one row per real status and names only real statuses."""
        assert set(TRANSITIONS) == set(STATUSES) == set(EXPECTED_MOVES)
        for targets in TRANSITIONS.values():
            assert targets <= set(STATUSES)
        assert {s: set(t) for s, t in TRANSITIONS.items()} == EXPECTED_MOVES

    def test_the_matrix_is_complete(self) -> None:
        """The allowed and refused pairs split all 49 pairs between them."""
        assert len(ALLOWED) + len(REFUSED) == len(STATUSES) ** 2 == 49
        assert len(ALLOWED) == 11

    @pytest.mark.parametrize("pair", ALLOWED, ids=[pair_id(p) for p in ALLOWED])
    def test_allowed_move_passes(self, pair: tuple[LicenseStatus, LicenseStatus]) -> None:
        """An allowed move raises nothing."""
        check_transition(*pair)

    @pytest.mark.parametrize("pair", REFUSED, ids=[pair_id(p) for p in REFUSED])
    def test_refused_move_is_invalid_state_naming_both(
        self, pair: tuple[LicenseStatus, LicenseStatus]
    ) -> None:
        """A refused move is FAILED_PRECONDITION and its message names both statuses."""
        current, new = pair
        with pytest.raises(InvalidState) as caught:
            check_transition(current, new)
        error = caught.value
        assert error.code == grpc.StatusCode.FAILED_PRECONDITION
        assert error.reason_name == "INVALID_STATE"
        assert status_name(current) in error.message
        assert status_name(new) in error.message
        assert error.metadata == {"from": status_name(current), "to": status_name(new)}


class TestRefusalMessages:
    """Messages say what is allowed, or that the status is final, or that nothing changes."""

    def test_message_lists_what_is_allowed(self) -> None:
        """A suspended license refused a transfer is told the statuses it may take."""
        with pytest.raises(InvalidState, match="TRANSFERRED") as caught:
            check_transition(SUSPENDED, TRANSFERRED)
        assert caught.value.message.endswith(
            "it may become VALID, REVOKED, CANCELLED, EXPIRED, WITHDRAWN"
        )

    @pytest.mark.parametrize("final", [REVOKED, CANCELLED, EXPIRED, TRANSFERRED, WITHDRAWN])
    def test_message_says_final(self, final: LicenseStatus) -> None:
        """Any move out of a final status says the status is final."""
        with pytest.raises(InvalidState, match=f"{status_name(final)} is final"):
            check_transition(final, VALID)

    @pytest.mark.parametrize("status", [VALID, SUSPENDED])
    def test_same_status_is_refused(self, status: LicenseStatus) -> None:
        """Moving to the status the license already has is refused as a no-op."""
        with pytest.raises(InvalidState, match=f"already {status_name(status)}"):
            check_transition(status, status)


class TestNotAStatus:
    """UNSPECIFIED and numbers outside the enum are never statuses."""

    @pytest.mark.parametrize("new", [UNSPECIFIED, 8, 99, -1])
    def test_unknown_target_is_a_bad_request(self, new: int) -> None:
        """Asking for a non-status is INVALID_ARGUMENT on the status field."""
        with pytest.raises(InvalidArgument) as caught:
            check_transition(VALID, new)  # type: ignore[arg-type]
        assert [v.field for v in caught.value.field_violations] == ["status"]

    def test_unknown_current_status_is_invalid_state(self) -> None:
        """A stored status that is not a status refuses every move."""
        with pytest.raises(InvalidState, match="current status"):
            check_transition(UNSPECIFIED, VALID)

    def test_unspecified_has_no_list_value(self) -> None:
        """UNSPECIFIED never appears in a status list."""
        with pytest.raises(ValueError, match="UNSPECIFIED"):
            status_list_value(UNSPECIFIED)


class TestStatusListValues:
    """Each status has the status-list value licenses.proto fixes, and back."""

    @pytest.mark.parametrize("status", STATUSES, ids=status_name)
    def test_value_is_the_protos(self, status: LicenseStatus) -> None:
        """status_list_value gives the proto's value and status_from_list_value inverts it."""
        assert status_list_value(status) == PROTO_LIST_VALUES[status]
        assert status_from_list_value(PROTO_LIST_VALUES[status]) == status

    def test_values_match_the_drafts_registered_meanings(self) -> None:
        """VALID, REVOKED and SUSPENDED use the draft's VALID, INVALID and SUSPENDED."""
        assert (status_list_value(VALID), status_list_value(REVOKED)) == (0x00, 0x01)
        assert status_list_value(SUSPENDED) == 0x02

    def test_every_value_fits_the_list_width(self) -> None:
        """All values fit in STATUS_LIST_BITS bits, and 4 is the least width that does."""
        values = [status_list_value(s) for s in STATUSES]
        assert max(values) < 2**STATUS_LIST_BITS
        assert max(values) >= 2**2
        assert len(set(values)) == len(values)

    @pytest.mark.parametrize(
        "value", [v for v in range(256) if v not in PROTO_LIST_VALUES.values()]
    )
    def test_other_values_are_refused(self, value: int) -> None:
        """A value no status maps to is a ValueError naming the value."""
        with pytest.raises(ValueError, match=f"0x{value:02X}"):
            status_from_list_value(value)


class TestStateMachineInvariants:
    """Random sequences of requested moves keep the machine's promises."""

    @given(st.lists(st.sampled_from(STATUSES), max_size=30))
    def test_random_walk(self, requests: list[LicenseStatus]) -> None:
        """Applying only allowed moves from VALID, a final status is never left."""
        current = VALID
        for new in requests:
            try:
                check_transition(current, new)
            except InvalidState:
                assert new not in TRANSITIONS[current]
                continue
            assert not is_final(current)
            current = new

    @given(st.sampled_from(STATUSES))
    def test_final_means_no_moves(self, status: LicenseStatus) -> None:
        """is_final holds exactly for the statuses with no allowed moves."""
        assert is_final(status) == (not EXPECTED_MOVES[status])

    def test_every_status_is_reachable_from_valid(self) -> None:
        """No status in the table is dead: each can be reached from a new license."""
        reached, frontier = {VALID}, [VALID]
        while frontier:
            for new in TRANSITIONS[frontier.pop()]:
                if new not in reached:
                    reached.add(new)
                    frontier.append(new)
        assert reached == set(STATUSES)


class TestDocumentedTable:
    """The Markdown table in the module docstring says what TRANSITIONS does."""

    def test_table_matches_transitions(self) -> None:
        """Each row's 'may become' column is that status's row of TRANSITIONS."""
        doc = status_module.__doc__
        assert doc is not None
        rows = [line for line in doc.splitlines() if line.startswith("| ") and "---" not in line]
        header, body = rows[0], rows[1:]
        assert header.startswith("| from | may become | why |")
        documented: dict[LicenseStatus, set[LicenseStatus]] = {}
        by_name = {status_name(s): s for s in STATUSES}
        for row in body:
            cells = [cell.strip() for cell in row.strip("|").split("|")]
            assert len(cells) == 3 and cells[2], f"row without a why: {row}"
            source = by_name[cells[0].split(" ")[0]]
            if cells[1] == "any other status":
                targets = set(STATUSES) - {source}
            elif cells[1] == "nothing: final":
                targets = set()
            else:
                targets = {by_name[name.strip()] for name in cells[1].split(",")}
            documented[source] = targets
        assert documented == {s: set(t) for s, t in TRANSITIONS.items()}


async def _getranges(store: Store) -> int:
    """How many GETRANGEs the server has run (INFO commandstats)."""
    stats: dict[str, Any] = await store.redis.info("commandstats")
    return int(stats.get("cmdstat_getrange", {}).get("calls", 0))


async def _tracking_clients(store: Store) -> set[str]:
    """Names of the connections subscribed for invalidations (the status caches)."""
    listed = await store.redis.execute_command("CLIENT", "LIST")  # type: ignore[no-untyped-call]
    fields = [dict(f.split("=", 1) for f in line.split()) for line in listed.decode().splitlines()]
    return {f["name"] for f in fields if f["name"].endswith("-tracking") and f["sub"] == "1"}


class TestStatusAcrossReplicas:
    """A status change shows at once on the replica that made it, and on another replica
    as soon as the store's invalidation reaches its status cache."""

    async def test_revocation_reaches_a_cached_status_on_the_other_replica(
        self, running: Running, settings: Settings, redis_url: str
    ) -> None:
        """Both replicas serve the status from memory; revoke on A: A sees it on the next
        verify, B within the bounded wait for the push."""
        addresses = running.stack.addresses()
        replica_settings = dataclasses.replace(
            settings, redis_url=redis_url, ledger_target=addresses["ledger"]
        )
        replica_store = await connect(redis_url, client_name="certfree-replica")
        replica = await start_server(
            replica_settings,
            "127.0.0.1:0",
            services.licenses.registrations(replica_settings, replica_store),
            DevIdentity(),
        )
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{replica.port}") as channel:
                a, b = running.licenses, licenses_pb2_grpc.LicenseServiceStub(channel)
                deadline = time.monotonic() + 5.0
                wanted = {"certfree-tracking", "certfree-replica-tracking"}
                while not wanted <= await _tracking_clients(replica_store):
                    assert time.monotonic() < deadline, "the status caches were not tracked"
                    await asyncio.sleep(0.01)
                issued = await a.IssueLicense(issue_request(), metadata=caller())
                license = issued.license
                request = licenses_pb2.VerifyLicenseRequest(sd_jwt=license.sd_jwt)
                clerk = caller(HOUSING_BUREAU, "clerk")

                async def status(replica: licenses_pb2_grpc.LicenseServiceStub) -> int:
                    return int((await replica.VerifyLicense(request, metadata=clerk)).status)

                for stub in (a, b):  # fills each replica's cache
                    assert await status(stub) == licenses_pb2.LICENSE_STATUS_VALID
                before = await _getranges(replica_store)
                for stub in (a, b):
                    assert await status(stub) == licenses_pb2.LICENSE_STATUS_VALID
                assert await _getranges(replica_store) == before, "a status read reached the store"

                await a.ChangeLicenseStatus(
                    licenses_pb2.ChangeLicenseStatusRequest(
                        license_id=license.license_id,
                        status=licenses_pb2.LICENSE_STATUS_REVOKED,
                        reason="inspection",
                    ),
                    metadata=caller(),
                )
                assert await status(a) == licenses_pb2.LICENSE_STATUS_REVOKED
                deadline = time.monotonic() + 5.0
                while await status(b) != licenses_pb2.LICENSE_STATUS_REVOKED:
                    assert time.monotonic() < deadline, "replica B still says VALID"
                    await asyncio.sleep(0.001)
        finally:
            await replica.stop(0)
            await replica_store.close()


class TestCachedStatusReads:
    """Status bytes read through the cache are the store's bytes, wherever they fall."""

    async def test_cached_and_uncached_reads_agree_with_the_list(self, store: Store) -> None:
        """Offsets in the first, a middle and the partial last block, beyond the end, and
        in a missing list: the same bytes cached, uncached and from the list itself."""
        data = bytes(n % 251 for n in range(2 * STATUS_BLOCK + 100))
        cached, uncached = LicenseStore(store), LicenseStore(store, status_cache=False)
        await store.redis.set(cached.status_key("D1", 1), data)
        await cached.start()
        try:
            assert cached.status_cache is not None
            assert await cached.status_cache.wait_enabled(5.0)
            offsets = [0, 1, STATUS_BLOCK - 1, STATUS_BLOCK, 2 * STATUS_BLOCK + 99]
            offsets += [2 * STATUS_BLOCK + 100, 3 * STATUS_BLOCK, 10**6]
            reads = [("D1", 1, offset) for offset in offsets] + [("D2", 1, 5), ("D1", 2, 0)]
            expected = [
                data[o] if (d, n) == ("D1", 1) and o < len(data) else 0 for d, n, o in reads
            ]
            for source in (cached, uncached):
                status_reads = _StatusReads(source)
                lone = [await status_reads.read(*read) for read in reads]
                together = await asyncio.gather(*(status_reads.read(*read) for read in reads))
                assert lone == list(together) == expected
            before = await _getranges(store)
            again = _StatusReads(cached)
            assert [await again.read(*read) for read in reads[:5]] == expected[:5]
            assert await _getranges(store) == before, "kept ranges were read again"
        finally:
            await cached.stop()
