"""`certfree keys`: the operator's key commands against a real stack on loopback.

The stack runs in the test's event loop, so each command runs in a thread
(``asyncio.to_thread``) and calls the licenses service over gRPC as an operator's
machine would. What a command claims is checked against the service's own answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import grpc
import httpx
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from certfree import cli
from certfree.keys_cli import KeyRow, key_table, parse_rfc3339
from certfree.stack import Stack
from genproto.certfree.licenses.v1 import licenses_pb2, licenses_pb2_grpc
from runtime.config import Settings
from tests.conftest import HOUSING_BUREAU, MARKET_REGULATION, caller


@dataclasses.dataclass(frozen=True)
class Result:
    """What one `certfree` invocation did."""

    code: int
    out: str
    err: str


@dataclasses.dataclass
class Running:
    """The stack and a channel to its licenses service, to check what the CLI did."""

    stack: Stack
    licenses: licenses_pb2_grpc.LicenseServiceAsyncStub

    @property
    def address(self) -> str:
        """The licenses service's gRPC address, for --licenses."""
        return self.stack.addresses()["licenses"]

    async def keys(self, department: str = MARKET_REGULATION) -> list[licenses_pb2.IssuerKey]:
        """The department's keys as the service publishes them."""
        response = await self.licenses.ListIssuerKeys(
            licenses_pb2.ListIssuerKeysRequest(department_code=department),
            metadata=caller(role="clerk"),
        )
        return list(response.keys)


@pytest.fixture
async def running(settings: Settings, redis_url: str) -> AsyncIterator[Running]:
    """certfree with the real store of the test session, every port 0."""
    stack = await Stack.start(dataclasses.replace(settings, redis_url=redis_url), insecure_dev=True)
    try:
        async with grpc.aio.insecure_channel(stack.addresses()["licenses"]) as channel:
            stub = licenses_pb2_grpc.LicenseServiceStub(channel)  # an aio channel: an async stub
            yield Running(stack, cast("licenses_pb2_grpc.LicenseServiceAsyncStub", stub))
    finally:
        await stack.stop()


def _main(argv: list[str]) -> int:
    try:
        cli.main(argv)
    except SystemExit as exited:
        return exited.code if isinstance(exited.code, int) else 2
    return 0


async def certfree(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    """Run `certfree ARGV` in a thread (the stack needs this loop); capture its output."""
    capsys.readouterr()
    with capture_logs():  # the stack's request logs stay out of the command's output
        code = await asyncio.to_thread(_main, list(argv))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


async def keys(
    capsys: pytest.CaptureFixture[str], running: Running, command: str, *argv: str
) -> Result:
    """Run `certfree keys COMMAND --department MARKET_REGULATION --licenses ... ARGV`."""
    return await certfree(
        capsys,
        "keys",
        command,
        "--department",
        MARKET_REGULATION,
        "--licenses",
        running.address,
        *argv,
    )


def as_json(message: Message) -> Any:
    """`message` in proto3 JSON with zero values, as the gateway writes it."""
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True)


def assert_clean_failure(result: Result, code: int, *words: str) -> None:
    """Exit `code`, nothing on stdout, `words` on stderr, and no traceback."""
    assert result.code == code, result
    assert result.out == ""
    assert "Traceback" not in result.err
    for word in words:
        assert word in result.err, result.err


async def rotated_twice(capsys: pytest.CaptureFixture[str], running: Running) -> Result:
    """A first (EdDSA) key, then a rotation to SM2 under request id `to-sm2`."""
    first = await keys(capsys, running, "rotate", "--request-id", "first")
    assert first.code == 0, first.err
    second = await keys(capsys, running, "rotate", "--algorithm", "sm2", "--request-id", "to-sm2")
    assert second.code == 0, second.err
    return second


class TestRotate:
    """`keys rotate` makes a new active key, retires the old one, and is idempotent."""

    async def test_rotate_to_sm2_retires_the_old_key(
        self, capsys: pytest.CaptureFixture[str], running: Running
    ) -> None:
        """The new SM2 key is active and attested; the EdDSA key before it is retired."""
        result = await rotated_twice(capsys, running)
        active, retired = await running.keys()
        assert active.algorithm == licenses_pb2.SIGNATURE_ALGORITHM_SM2_SM3
        assert active.state == licenses_pb2.KEY_STATE_ACTIVE
        assert retired.algorithm == licenses_pb2.SIGNATURE_ALGORITHM_EDDSA_ED25519
        assert retired.state == licenses_pb2.KEY_STATE_RETIRED
        assert f"now signs with key {active.key_id} (sm2)" in result.out
        assert f"retired: key {retired.key_id} (eddsa)" in result.out
        assert f"publication attested at index {active.ledger_index}" in result.out
        assert "request id: to-sm2" in result.out

    async def test_same_request_id_is_already_done(
        self, capsys: pytest.CaptureFixture[str], running: Running
    ) -> None:
        """A repeat with the same --request-id returns the same key and rotates nothing."""
        await rotated_twice(capsys, running)
        before = await running.keys()
        again = await keys(
            capsys, running, "rotate", "--algorithm", "sm2", "--request-id", "to-sm2"
        )
        assert again.code == 0, again.err
        assert again.out.startswith("already done: request to-sm2")
        assert f"key {before[0].key_id} (sm2, now active)" in again.out
        assert await running.keys() == before
        assert again.err == ""

    async def test_repeat_with_another_algorithm_says_it_was_not_applied(
        self, capsys: pytest.CaptureFixture[str], running: Running
    ) -> None:
        """The request id wins over a changed --algorithm, and the operator is told so."""
        await rotated_twice(capsys, running)
        again = await keys(
            capsys, running, "rotate", "--algorithm", "es256", "--request-id", "to-sm2"
        )
        assert again.code == 0
        assert "already done" in again.out
        assert "--algorithm es256 was not applied" in again.err

    async def test_without_request_id_one_is_made_and_printed(
        self, capsys: pytest.CaptureFixture[str], running: Running
    ) -> None:
        """The generated request id is printed, and repeating it is a duplicate."""
        result = await keys(capsys, running, "rotate", "--algorithm", "es256")
        assert result.code == 0, result.err
        request_id = result.out.split("request id: ")[1].split()[0]
        again = await keys(capsys, running, "rotate", "--request-id", request_id)
        assert "already done" in again.out
        assert len(await running.keys()) == 1

    async def test_json_is_the_services_answer(
        self, capsys: pytest.CaptureFixture[str], running: Running
    ) -> None:
        """--json prints the RotateIssuerKeyResponse as proto3 JSON."""
        result = await keys(capsys, running, "rotate", "--json", "--request-id", "j")
        assert result.code == 0, result.err
        answer = json.loads(result.out)
        (key,) = await running.keys()
        assert answer["key"] == as_json(key)
        assert answer["duplicate"] is False
        assert "previousKey" not in answer

    async def test_unknown_algorithm_is_refused_before_any_call(
        self, capsys: pytest.CaptureFixture[str], running: Running
    ) -> None:
        """argparse names the choices; the service is never asked."""
        result = await keys(capsys, running, "rotate", "--algorithm", "rsa")
        assert_clean_failure(result, 2, "invalid choice: 'rsa'", "'sm2'")
        assert await running.keys() == []

    async def test_bad_request_id_prints_the_field_violation(
        self, capsys: pytest.CaptureFixture[str], running: Running
    ) -> None:
        """The service's protovalidate refusal: code, message and the field, exit 1."""
        result = await keys(capsys, running, "rotate", "--request-id", "not allowed!")
        assert_clean_failure(
            result, 1, "certfree keys rotate: refused: INVALID_ARGUMENT:", "\n  request_id: "
        )


class TestList:
    """`keys list` shows every published key, active first, as a table or as JSON."""

    async def test_table_shows_both_keys_with_the_old_one_retired(
        self, capsys: pytest.CaptureFixture[str], running: Running
    ) -> None:
        """One heading line, then the active SM2 key, then the retired EdDSA key."""
        await rotated_twice(capsys, running)
        active, retired = await running.keys()
        result = await keys(capsys, running, "list")
        assert result.code == 0, result.err
        heading, first, second = result.out.splitlines()
        assert heading.split() == [
            *("KEY", "ID", "ALGORITHM", "STATE", "NOT", "BEFORE", "NOT", "AFTER"),
            *("COMPROMISED", "SINCE", "LEDGER", "INDEX"),
        ]
        assert first.split() == [
            active.key_id,
            "sm2",
            "active",
            KeyRow.of(active).not_before,
            "-",
            "-",
            str(active.ledger_index),
        ]
        assert second.split() == [
            retired.key_id,
            "eddsa",
            "retired",
            KeyRow.of(retired).not_before,
            KeyRow.of(retired).not_after,
            "-",
            str(retired.ledger_index),
        ]

    async def test_json_is_what_the_gateway_would_serve(
        self, capsys: pytest.CaptureFixture[str], running: Running
    ) -> None:
        """--json prints ListIssuerKeysResponse as the gateway's route does."""
        await rotated_twice(capsys, running)
        async with httpx.AsyncClient(base_url=running.stack.addresses()["gateway"]) as http:
            served = await http.get(
                f"/v1/departments/{MARKET_REGULATION}/keys", headers=dict(caller(role="clerk"))
            )
        result = await keys(capsys, running, "list", "--json")
        assert result.code == 0, result.err
        assert json.loads(result.out) == served.json()
        assert [key["publicJwk"]["kid"] for key in served.json()["keys"]] == [
            key.key_id for key in await running.keys()
        ]

    async def test_a_department_without_keys_is_said_so(
        self, capsys: pytest.CaptureFixture[str], running: Running
    ) -> None:
        """No table with no rows: a sentence saying how the first key comes."""
        result = await keys(capsys, running, "list")
        assert result.code == 0, result.err
        assert "has published no keys" in result.out

    async def test_another_department_can_be_the_caller(
        self, capsys: pytest.CaptureFixture[str], running: Running
    ) -> None:
        """--as-department changes only the identity sent, not the department listed."""
        await rotated_twice(capsys, running)
        result = await keys(capsys, running, "list", "--as-department", HOUSING_BUREAU)
        assert result.code == 0, result.err
        assert len(result.out.splitlines()) == 3


class TestCompromised:
    """`keys compromised` distrusts a key from a time; bad input is named, never a traceback."""

    async def test_marks_the_key_compromised_from_the_time_given(
        self, capsys: pytest.CaptureFixture[str], running: Running
    ) -> None:
        """The retired key turns compromised with the given time, and the list shows it."""
        await rotated_twice(capsys, running)
        _, retired = await running.keys()
        since = retired.not_before.ToDatetime(UTC)  # exposed from the day it was made
        local = since.astimezone(timezone(timedelta(hours=8))).isoformat()  # +08:00, Beijing
        result = await keys(
            capsys,
            running,
            "compromised",
            *("--key-id", retired.key_id, "--since", local, "--reason", "key file leaked"),
        )
        assert result.code == 0, result.err
        _, marked = await running.keys()
        assert marked.state == licenses_pb2.KEY_STATE_COMPROMISED
        assert marked.compromised_since.ToDatetime(UTC) == since
        assert f"distrusted from {since:%Y-%m-%dT%H:%M:%SZ}" in result.out
        assert result.err == ""
        assert f"change attested at index {marked.ledger_index}" in result.out
        listed = await keys(capsys, running, "list")
        assert listed.out.splitlines()[2].split()[2:6] == [
            "compromised",
            KeyRow.of(marked).not_before,
            KeyRow.of(marked).not_after,
            f"{since:%Y-%m-%dT%H:%M:%SZ}",
        ]
        assert marked.compromise_reason == "key file leaked"
        note = f"key {retired.key_id} marked compromised by "
        assert note in result.out and note in listed.out
        assert listed.out.rstrip().endswith(": key file leaked")

    async def test_a_time_after_the_key_stopped_signing_is_pointed_out(
        self, capsys: pytest.CaptureFixture[str], running: Running
    ) -> None:
        """Done as asked, but the operator hears that no signature is affected."""
        await rotated_twice(capsys, running)
        _, retired = await running.keys()
        since = retired.not_after.ToDatetime(UTC) + timedelta(hours=1)
        result = await keys(
            capsys,
            running,
            "compromised",
            *("--key-id", retired.key_id, "--since", since.isoformat(), "--reason", "leak"),
        )
        assert result.code == 0
        assert "no signature it made is affected" in result.err

    async def test_malformed_time_is_refused_before_any_call(
        self, capsys: pytest.CaptureFixture[str], running: Running
    ) -> None:
        """A time without an offset is not RFC 3339: argparse says so, exit 2."""
        await rotated_twice(capsys, running)
        _, retired = await running.keys()
        result = await keys(
            capsys,
            running,
            "compromised",
            *("--key-id", retired.key_id, "--since", "2026-03-01 09:30", "--reason", "leak"),
        )
        assert_clean_failure(result, 2, "argument --since:", "not an RFC 3339 date-time")
        assert (await running.keys())[1].state == licenses_pb2.KEY_STATE_RETIRED

    async def test_unknown_key_id_is_refused_by_the_service(
        self, capsys: pytest.CaptureFixture[str], running: Running
    ) -> None:
        """NOT_FOUND with the service's sentence, exit 1."""
        await rotated_twice(capsys, running)
        result = await keys(
            capsys,
            running,
            "compromised",
            *("--key-id", "no-such-key", "--since", "2026-03-01T01:30:00Z", "--reason", "leak"),
        )
        assert_clean_failure(result, 1, "refused: NOT_FOUND:", "has published no key no-such-key")

    async def test_short_reason_prints_the_field_violation(
        self, capsys: pytest.CaptureFixture[str], running: Running
    ) -> None:
        """The contract wants 2-500 characters of reason; the violation names the field."""
        result = await keys(
            capsys,
            running,
            "compromised",
            *("--key-id", "k", "--since", "2026-03-01T01:30:00Z", "--reason", "x"),
        )
        assert_clean_failure(result, 1, "INVALID_ARGUMENT", "\n  reason: ")


class TestBadTargetsAndCallers:
    """Before or without a service: a sentence and exit 2, never a traceback."""

    async def test_wrong_check_character_is_refused_before_any_call(
        self, capsys: pytest.CaptureFixture[str], running: Running
    ) -> None:
        """A mistyped department code would otherwise get keys of its own."""
        typo = MARKET_REGULATION[:-1] + ("0" if MARKET_REGULATION[-1] != "0" else "1")
        result = await certfree(
            capsys, "keys", "rotate", "--department", typo, "--licenses", running.address
        )
        assert_clean_failure(result, 2, "--department: the USCC's check character is wrong")
        assert typo not in result.err  # the message names the rule, not the value
        assert await running.keys(typo) == []

    async def test_bad_as_department_is_named(
        self, capsys: pytest.CaptureFixture[str], running: Running
    ) -> None:
        """--as-department is checked like --department."""
        result = await keys(capsys, running, "list", "--as-department", "short")
        assert_clean_failure(result, 2, "--as-department: a USCC has 18 characters")

    async def test_unreachable_service_exits_2(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Nothing listens: UNAVAILABLE, with a hint about --licenses."""
        result = await certfree(
            capsys, "keys", "list", "--department", MARKET_REGULATION, "--licenses", "127.0.0.1:1"
        )
        assert_clean_failure(result, 2, "did not answer: UNAVAILABLE", "--licenses HOST:PORT")


# RFC 3339 section 5.8, "Examples", each with the instant it names.
RFC3339_EXAMPLES = {
    "1985-04-12T23:20:50.52Z": datetime(1985, 4, 12, 23, 20, 50, 520000, UTC),
    "1996-12-19T16:39:57-08:00": datetime(1996, 12, 20, 0, 39, 57, tzinfo=UTC),
    "1937-01-01T12:00:27.87+00:20": datetime(1937, 1, 1, 11, 40, 27, 870000, UTC),
}


class TestParseRfc3339:
    """--since takes RFC 3339 date-times and nothing looser."""

    @pytest.mark.parametrize(("text", "instant"), RFC3339_EXAMPLES.items())
    def test_the_rfcs_examples(self, text: str, instant: datetime) -> None:
        """Section 5.8's examples parse to the instants the RFC describes."""
        assert parse_rfc3339(text) == instant

    @pytest.mark.parametrize("text", ["1990-12-31T23:59:60Z", "1990-12-31T15:59:60-08:00"])
    def test_the_rfcs_leap_seconds_are_refused_by_name(self, text: str) -> None:
        """Section 5.8's leap seconds are valid RFC 3339, but no Timestamp can hold them."""
        with pytest.raises(ValueError, match="leap second"):
            parse_rfc3339(text)

    @pytest.mark.parametrize(
        "text",
        [
            "2026-03-01",  # a date
            "2026-03-01T09:30:00",  # no offset: local to where?
            "2026-03-01T09:30Z",  # no seconds
            "20260301T093000Z",  # ISO 8601 basic format
            "2026-W09-7T09:30:00Z",  # ISO 8601 week date
            "yesterday",
        ],
    )
    def test_looser_forms_are_refused(self, text: str) -> None:
        """What datetime.fromisoformat would guess at is refused with an example."""
        with pytest.raises(ValueError, match="not an RFC 3339 date-time"):
            parse_rfc3339(text)

    def test_impossible_dates_are_refused(self) -> None:
        """The right shape is not enough: February has no 30th."""
        with pytest.raises(ValueError, match="not a real time"):
            parse_rfc3339("2026-02-30T00:00:00Z")

    def test_lowercase_t_and_z_and_a_space_are_rfc_3339_too(self) -> None:
        """Section 5.6 allows lowercase; its note allows a space for the T."""
        instant = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
        assert parse_rfc3339("2026-03-01t01:30:00z") == instant
        assert parse_rfc3339("2026-03-01 09:30:00+08:00") == instant

    @given(
        st.datetimes(
            timezones=st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(
                lambda minutes: timezone(timedelta(minutes=minutes))
            )
        )
    )
    def test_any_aware_time_round_trips(self, instant: datetime) -> None:
        """Every aware datetime with a whole-minute offset, written in RFC 3339, reads back."""
        assert parse_rfc3339(instant.isoformat()) == instant


class TestKeyTable:
    """The table has one line per key and shows unset times and indexes as '-'."""

    def test_unset_fields_show_as_dashes(self) -> None:
        """An unattested key without an end shows '-' in those columns."""
        key = licenses_pb2.IssuerKey(
            key_id="k1",
            algorithm=licenses_pb2.SIGNATURE_ALGORITHM_ES256,
            state=licenses_pb2.KEY_STATE_ACTIVE,
        )
        key.not_before.FromDatetime(datetime(2026, 3, 1, 1, 30, tzinfo=UTC))
        assert KeyRow.of(key) == KeyRow(
            "k1", "es256", "active", "2026-03-01T01:30:00Z", "-", "-", "-"
        )
        heading, row = key_table([key]).splitlines()
        assert heading.index("ALGORITHM") == row.index("es256")
