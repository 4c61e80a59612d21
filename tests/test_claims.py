"""Claims against their schema (runtime.claims): one set of rules for licenses and proof answers.

The type rules, limits and normalisation were first written for license claims and are
tested here directly; tests/test_license_catalog.py keeps the license-type cases (a
seed's schemas), tests/test_proofs.py the answer claims over gRPC.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genproto.certfree.common.v1 import common_pb2
from runtime.claims import (
    DEFAULT_MAX_LENGTH,
    MAX_CLAIMS_BYTES,
    MAX_SAFE_INTEGER,
    check_claims,
)
from runtime.errors import InvalidArgument, to_status_proto

SCHEMA = "proof item test.item"

# RFC 3339 section 5.8, "Examples": every one is a valid date-time with an offset,
# including the two leap seconds.
RFC3339_EXAMPLES = [
    "1985-04-12T23:20:50.52Z",
    "1996-12-19T16:39:57-08:00",
    "1990-12-31T23:59:60Z",
    "1990-12-31T15:59:60-08:00",
    "1937-01-01T12:00:27.87+00:20",
]

# A resident-ID-shaped string (GB 11643's own example, 11010519491231002X): it
# must never appear in an error a claim check raises.
RESIDENT_ID_LIKE = "11010519491231002X"


def one_claim_type(
    claim_type: int, *, max_length: int = 0, required: bool = False
) -> list[common_pb2.ClaimDefinition]:
    """The definitions of a single claim ``value`` of `claim_type`."""
    return [
        common_pb2.ClaimDefinition(
            name="value",
            title="值",
            type=claim_type,  # type: ignore[arg-type]
            required=required,
            max_length=max_length,
        )
    ]


def check(
    definitions: Sequence[common_pb2.ClaimDefinition],
    claims: dict[str, Any],
    *,
    require_mandatory: bool = True,
) -> dict[str, Any]:
    """check_claims with the test schema's name."""
    return check_claims(definitions, claims, schema=SCHEMA, require_mandatory=require_mandatory)


def refusals(
    definitions: Sequence[common_pb2.ClaimDefinition],
    claims: dict[str, Any],
    *,
    require_mandatory: bool = True,
) -> dict[str, str]:
    """check_claims' field violations for `claims`, as field -> description."""
    with pytest.raises(InvalidArgument) as refused:
        check(definitions, claims, require_mandatory=require_mandatory)
    found = {v.field: v.description for v in refused.value.field_violations}
    assert len(found) == len(refused.value.field_violations)
    return found


class TestMandatoryClaims:
    """Required claims must be present unless the caller waives it (a denied proof answer)."""

    def test_missing_required_claim_names_it_and_the_schema(self) -> None:
        """The violation is on claims.<name> and the message names the schema's owner."""
        definitions = one_claim_type(common_pb2.CLAIM_TYPE_STRING, required=True)
        with pytest.raises(InvalidArgument) as refused:
            check(definitions, {})
        assert {v.field: v.description for v in refused.value.field_violations} == {
            "claims.value": f"required by {SCHEMA} but missing"
        }
        assert SCHEMA in str(refused.value)

    def test_waived_mandatory_claims_may_be_missing(self) -> None:
        """With require_mandatory false an empty claims object passes."""
        definitions = one_claim_type(common_pb2.CLAIM_TYPE_STRING, required=True)
        assert check(definitions, {}, require_mandatory=False) == {}

    def test_waiving_keeps_every_other_rule(self) -> None:
        """A waived check still refuses wrong types and unknown claims."""
        definitions = one_claim_type(common_pb2.CLAIM_TYPE_DATE, required=True)
        found = refusals(definitions, {"value": 1, "other": "x"}, require_mandatory=False)
        assert found == {
            "claims.value": "must be a date YYYY-MM-DD",
            "claims.other": "outside the schema",
        }


class TestUnknownNames:
    """Claims outside the schema are refused; names that could be personal data are not echoed."""

    def test_a_claim_name_is_named(self) -> None:
        """A lower_snake_case name is a claim name, safe to echo."""
        assert refusals([], {"passed_on_typo": "2026-03-02"}) == {
            "claims.passed_on_typo": "outside the schema"
        }

    @given(st.text(max_size=10))
    def test_a_name_holding_an_id_is_never_echoed(self, prefix: str) -> None:
        """A key carrying a resident ID is reported on ``claims`` without quoting it."""
        with pytest.raises(InvalidArgument) as refused:
            check([], {prefix + RESIDENT_ID_LIKE: "x"})
        assert [v.field for v in refused.value.field_violations] == ["claims"]
        assert RESIDENT_ID_LIKE not in repr(to_status_proto(refused.value))
        assert RESIDENT_ID_LIKE not in str(refused.value)


class TestAnyValidClaims:
    """Claims built to fit their definitions always pass, and come back equal."""

    @given(
        st.dictionaries(
            st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
            st.one_of(
                st.tuples(st.just(common_pb2.CLAIM_TYPE_STRING), st.text(max_size=50)),
                st.tuples(st.just(common_pb2.CLAIM_TYPE_BOOLEAN), st.booleans()),
                st.tuples(
                    st.just(common_pb2.CLAIM_TYPE_INTEGER),
                    st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
                ),
                st.tuples(
                    st.just(common_pb2.CLAIM_TYPE_NUMBER),
                    st.floats(allow_nan=False, allow_infinity=False),
                ),
                st.tuples(
                    st.just(common_pb2.CLAIM_TYPE_DATE),
                    st.dates().map(lambda d: d.isoformat()),
                ),
            ),
            max_size=8,
        )
    )
    def test_fitting_claims_pass_unchanged(self, typed: dict[str, tuple[int, Any]]) -> None:
        """Every value of its definition's type passes; required ones are present."""
        definitions = [
            common_pb2.ClaimDefinition(name=name, type=kind, required=True)  # type: ignore[arg-type]
            for name, (kind, _) in typed.items()
        ]
        claims = {name: value for name, (_, value) in typed.items()}
        assert check(definitions, claims) == claims


WRONG_VALUES = [
    (common_pb2.CLAIM_TYPE_STRING, 12),
    (common_pb2.CLAIM_TYPE_STRING, None),
    (common_pb2.CLAIM_TYPE_INTEGER, "12"),
    (common_pb2.CLAIM_TYPE_INTEGER, 12.5),
    (common_pb2.CLAIM_TYPE_INTEGER, True),
    (common_pb2.CLAIM_TYPE_INTEGER, float(2**53)),
    (common_pb2.CLAIM_TYPE_NUMBER, "3.5"),
    (common_pb2.CLAIM_TYPE_NUMBER, False),
    (common_pb2.CLAIM_TYPE_NUMBER, math.nan),
    (common_pb2.CLAIM_TYPE_NUMBER, math.inf),
    (common_pb2.CLAIM_TYPE_BOOLEAN, "true"),
    (common_pb2.CLAIM_TYPE_BOOLEAN, 1),
    (common_pb2.CLAIM_TYPE_DATE, "2024-02-30"),
    (common_pb2.CLAIM_TYPE_DATE, "2023-02-29"),
    (common_pb2.CLAIM_TYPE_DATE, "2024-13-01"),
    (common_pb2.CLAIM_TYPE_DATE, "2024-1-5"),
    (common_pb2.CLAIM_TYPE_DATE, "20240105"),
    (common_pb2.CLAIM_TYPE_DATE, "2024-01-05T00:00:00Z"),
    (common_pb2.CLAIM_TYPE_DATE, 20240105),
    (common_pb2.CLAIM_TYPE_DATE_TIME, "2024-05-11T09:30:00"),
    (common_pb2.CLAIM_TYPE_DATE_TIME, "2024-05-11 09:30:00+08:00"),
    (common_pb2.CLAIM_TYPE_DATE_TIME, "2024-05-11"),
    (common_pb2.CLAIM_TYPE_DATE_TIME, "2024-02-30T09:30:00+08:00"),
    (common_pb2.CLAIM_TYPE_DATE_TIME, "2024-05-11T24:00:00Z"),
    (common_pb2.CLAIM_TYPE_DATE_TIME, "2024-05-11T09:30:00+24:00"),
    (common_pb2.CLAIM_TYPE_DATE_TIME, 1715391000),
    (common_pb2.CLAIM_TYPE_OBJECT, ["a"]),
    (common_pb2.CLAIM_TYPE_OBJECT, "{}"),
    (common_pb2.CLAIM_TYPE_ARRAY, {"a": 1}),
    (common_pb2.CLAIM_TYPE_ARRAY, "[]"),
]

RIGHT_VALUES = [
    (common_pb2.CLAIM_TYPE_STRING, ""),
    (common_pb2.CLAIM_TYPE_STRING, "法定代表人"),
    (common_pb2.CLAIM_TYPE_INTEGER, -7),
    (common_pb2.CLAIM_TYPE_INTEGER, MAX_SAFE_INTEGER),
    (common_pb2.CLAIM_TYPE_NUMBER, 3),
    (common_pb2.CLAIM_TYPE_NUMBER, 1234.56),
    (common_pb2.CLAIM_TYPE_BOOLEAN, False),
    (common_pb2.CLAIM_TYPE_DATE, "2024-02-29"),
    (common_pb2.CLAIM_TYPE_DATE_TIME, "2024-05-11T09:30:00+08:00"),
    (common_pb2.CLAIM_TYPE_DATE_TIME, "2024-05-11t01:30:00.123456z"),
    *((common_pb2.CLAIM_TYPE_DATE_TIME, example) for example in RFC3339_EXAMPLES),
    (common_pb2.CLAIM_TYPE_OBJECT, {}),
    (common_pb2.CLAIM_TYPE_OBJECT, {"province": "福建", "floors": [1, 2]}),
    (common_pb2.CLAIM_TYPE_ARRAY, []),
    (common_pb2.CLAIM_TYPE_ARRAY, ["热食类食品制售", {"note": 1}]),
]


class TestClaimTypes:
    """Each value must be of its ClaimType; a refusal names the claim and never quotes the value."""

    @pytest.mark.parametrize(("claim_type", "value"), WRONG_VALUES)
    def test_wrong_value_is_refused_on_its_field(self, claim_type: int, value: Any) -> None:
        """A value not of the claim's type is refused on claims.value."""
        found = refusals(one_claim_type(claim_type), {"value": value})
        assert list(found) == ["claims.value"]

    @pytest.mark.parametrize(("claim_type", "value"), RIGHT_VALUES)
    def test_right_value_passes_unchanged(self, claim_type: int, value: Any) -> None:
        """A value of the claim's type comes back as it was given."""
        assert check(one_claim_type(claim_type), {"value": value}) == {"value": value}

    def test_the_value_never_appears_in_the_error(self) -> None:
        """Personal data in a mistyped claim is not repeated in the message or the details."""
        with pytest.raises(InvalidArgument) as refused:
            check(one_claim_type(common_pb2.CLAIM_TYPE_INTEGER), {"value": RESIDENT_ID_LIKE})
        assert RESIDENT_ID_LIKE not in repr(to_status_proto(refused.value))
        assert RESIDENT_ID_LIKE not in str(refused.value)

    def test_unspecified_type_in_a_schema_is_refused(self) -> None:
        """A claim whose definition has no type fits nothing."""
        found = refusals(one_claim_type(common_pb2.CLAIM_TYPE_UNSPECIFIED), {"value": "x"})
        assert list(found) == ["claims.value"]


class TestStringLength:
    """String claims are limited to max_length characters, 1,000 when the definition says 0."""

    def test_max_length_counts_characters_not_bytes(self) -> None:
        """Ten Chinese characters fit a 10-character limit; eleven do not."""
        license_type = one_claim_type(common_pb2.CLAIM_TYPE_STRING, max_length=10)
        assert check(license_type, {"value": "福" * 10}) == {"value": "福" * 10}
        found = refusals(license_type, {"value": "福" * 11})
        assert found == {"claims.value": "longer than 10 characters"}

    def test_default_limit_is_one_thousand(self) -> None:
        """With max_length 0 the limit is DEFAULT_MAX_LENGTH."""
        license_type = one_claim_type(common_pb2.CLAIM_TYPE_STRING)
        assert DEFAULT_MAX_LENGTH == 1000
        assert check(license_type, {"value": "a" * 1000})
        assert list(refusals(license_type, {"value": "a" * 1001})) == ["claims.value"]

    @given(st.text(max_size=40))
    def test_any_text_within_the_limit_passes(self, text: str) -> None:
        """Any string up to max_length characters passes unchanged."""
        license_type = one_claim_type(common_pb2.CLAIM_TYPE_STRING, max_length=40)
        assert check(license_type, {"value": text}) == {"value": text}


class TestClaimsSize:
    """The whole claims object is at most 16 KiB as compact UTF-8 JSON."""

    def test_oversize_claims_are_refused_on_claims(self) -> None:
        """6,000 Chinese characters (18,000 bytes) exceed 16 KiB though within max_length."""
        license_type = one_claim_type(common_pb2.CLAIM_TYPE_STRING, max_length=65536)
        found = refusals(license_type, {"value": "证" * 6000})
        assert list(found) == ["claims"]
        assert str(MAX_CLAIMS_BYTES) in found["claims"]

    def test_exactly_at_the_limit_passes(self) -> None:
        """A claims object of exactly MAX_CLAIMS_BYTES bytes is accepted."""
        license_type = one_claim_type(common_pb2.CLAIM_TYPE_STRING, max_length=65536)
        overhead = len(json.dumps({"value": ""}, separators=(",", ":")))
        value = "a" * (MAX_CLAIMS_BYTES - overhead)
        assert check(license_type, {"value": value}) == {"value": value}
        assert list(refusals(license_type, {"value": value + "a"})) == ["claims"]

    def test_a_value_that_is_not_json_is_refused(self) -> None:
        """Nested content JSON cannot carry (bytes, NaN) is refused on claims."""
        license_type = one_claim_type(common_pb2.CLAIM_TYPE_OBJECT)
        assert list(refusals(license_type, {"value": {"raw": b"\x00"}})) == ["claims"]
        assert list(refusals(license_type, {"value": {"n": math.nan}})) == ["claims"]


class TestIntegerNormalisation:
    """INTEGER claims come back as int; whole floats are whole numbers, others are not."""

    def test_whole_float_becomes_int(self) -> None:
        """12.0 (as a protobuf Struct delivers 12) comes back as the int 12."""
        result = check(one_claim_type(common_pb2.CLAIM_TYPE_INTEGER), {"value": 12.0})
        assert result == {"value": 12}
        assert type(result["value"]) is int

    def test_numbers_beyond_doubles_exact_range_are_refused(self) -> None:
        """2**53 and beyond are refused: a Struct cannot carry them exactly."""
        license_type = one_claim_type(common_pb2.CLAIM_TYPE_INTEGER)
        assert list(refusals(license_type, {"value": MAX_SAFE_INTEGER + 1})) == ["claims.value"]
        assert list(refusals(license_type, {"value": -(2**60)})) == ["claims.value"]

    @given(st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER))
    def test_every_safe_integer_round_trips_as_float(self, number: int) -> None:
        """Any whole number within ±(2**53 - 1), sent as a float, comes back as that int."""
        license_type = one_claim_type(common_pb2.CLAIM_TYPE_INTEGER)
        result = check(license_type, {"value": float(number)})["value"]
        assert type(result) is int
        assert result == number

    @given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()))
    def test_fractions_are_not_integers(self, number: float) -> None:
        """Any finite float with a fractional part is refused as INTEGER, accepted as NUMBER."""
        assert list(refusals(one_claim_type(common_pb2.CLAIM_TYPE_INTEGER), {"value": number}))
        assert check(one_claim_type(common_pb2.CLAIM_TYPE_NUMBER), {"value": number})
