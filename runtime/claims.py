"""Claims against their schema: one check for license claims and proof-answer claims.

A license type (``LicenseType.claims``) and a proof item (``ProofItem.answer_claims``)
both describe their claims as a list of ``common.v1.ClaimDefinition``; both sets of
claims end up signed in an SD-JWT, so both obey the same rules, checked here once.

Shortest use::

    claims = check_claims(license_type.claims, {"name": "福清市某某有限公司"},
                          schema=f"license type {license_type.code}")

Pure: no I/O, no clock. Claims are personal data, so no message raised here ever
quotes a claim's value, nor a claim name that could be one.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from genproto.certfree.common.v1 import common_pb2
from runtime.errors import FieldViolation, InvalidArgument

DEFAULT_MAX_LENGTH = 1000
"""Longest string claim, in characters, when its definition gives ``max_length`` 0."""

MAX_CLAIMS_BYTES = 16 * 1024
"""Largest claims object, in bytes of compact UTF-8 JSON. It bounds the SD-JWT
that signs them, which carries every claim once more as a base64url disclosure."""

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest whole number an INTEGER claim may hold: protobuf ``Struct`` carries numbers
as IEEE doubles, which represent every integer exactly only up to 2**53."""

_CLAIM_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# RFC 3339 section 5.6 date-time; "T" and "Z" may be lower case (section 5.6, NOTE).
_DATE_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)


def check_claims(
    definitions: Sequence[common_pb2.ClaimDefinition],
    claims: Mapping[str, Any],
    *,
    schema: str,
    require_mandatory: bool = True,
) -> dict[str, Any]:
    """Return `claims` normalised if they fit `definitions`, else raise.

    No claim may lie outside the definitions, each value must be of its claim's type,
    every required claim must be present (unless `require_mandatory` is false: a proof
    answer that denies carries only what the officer knows), and the whole object may
    be at most :data:`MAX_CLAIMS_BYTES` as compact JSON. INTEGER claims come back as
    ``int`` (JSON numbers arrive as ``float`` from a protobuf ``Struct``: 12.0 is
    whole, 12.5 is not). `schema` names the definitions' owner in messages
    ("license type 11100000000013127D001", "proof item business-license.existence"). Raises
    :class:`~runtime.errors.InvalidArgument` with one ``FieldViolation`` per problem,
    field ``claims.<name>``, all problems at once.
    """
    by_name = {definition.name: definition for definition in definitions}
    problems: list[FieldViolation] = []
    normalised: dict[str, Any] = {}
    for name, value in claims.items():
        definition = by_name.get(name)
        if definition is None:
            problems.append(_outside_schema(name))
            continue
        result = _check_value(definition, value)
        if isinstance(result, str):
            problems.append(FieldViolation(f"claims.{name}", result, "claims.type"))
        else:
            normalised[name] = result[0]
    if require_mandatory:
        problems.extend(
            FieldViolation(f"claims.{name}", f"required by {schema} but missing", "claims.required")
            for name, definition in by_name.items()
            if definition.required and name not in claims
        )
    refused = {name for name in claims if name in by_name and name not in normalised}
    problems.extend(_check_size(claims, normalised, refused))
    if problems:
        raise InvalidArgument(
            f"{len(problems)} problem(s) with the claims for {schema}",
            field_violations=problems,
        )
    return normalised


def _outside_schema(name: str) -> FieldViolation:
    # A name that cannot be a claim name might be anything a caller typed, a
    # resident ID included; such a name is never echoed, since messages reach logs.
    if _CLAIM_NAME.fullmatch(name):
        return FieldViolation(f"claims.{name}", "outside the schema", "claims.outside_schema")
    return FieldViolation(
        "claims",
        "a claim whose name is not a lower_snake_case claim name is outside the schema",
        "claims.outside_schema",
    )


def _check_size(
    claims: Mapping[str, Any], normalised: Mapping[str, Any], refused: set[str]
) -> list[FieldViolation]:
    # Measured on what would be signed: valid claims normalised, unknown ones as
    # given; values already refused for their type (a NaN, say) are left out.
    measured = {name: value for name, value in claims.items() if name not in refused}
    measured.update(normalised)
    try:
        encoded = json.dumps(
            measured, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode("utf-8")
    except (TypeError, ValueError):
        return [
            FieldViolation(
                "claims", "holds a value that is not JSON (or a NaN or infinity)", "claims.json"
            )
        ]
    if len(encoded) > MAX_CLAIMS_BYTES:
        return [
            FieldViolation(
                "claims",
                f"{len(encoded)} bytes as compact JSON; at most {MAX_CLAIMS_BYTES} allowed",
                "claims.size",
            )
        ]
    return []


# A checker returns the (normalised,) value in a 1-tuple, or why it does not fit.
_Checked = tuple[Any] | str


def _check_value(definition: common_pb2.ClaimDefinition, value: Any) -> _Checked:
    checker = _CHECKERS.get(definition.type)
    if checker is None:
        return "the schema gives this claim no known type"
    return checker(definition, value)


def _check_string(definition: common_pb2.ClaimDefinition, value: Any) -> _Checked:
    if not isinstance(value, str):
        return "must be a string"
    limit = definition.max_length or DEFAULT_MAX_LENGTH
    if len(value) > limit:
        return f"longer than {limit} characters"
    return (value,)


def _is_number(value: Any) -> bool:
    # bool is an int subclass in Python, but true is no number in JSON.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_integer(_: common_pb2.ClaimDefinition, value: Any) -> _Checked:
    if not _is_number(value) or (isinstance(value, float) and not value.is_integer()):
        return "must be a whole number"
    if abs(value) > MAX_SAFE_INTEGER:
        return f"must lie within ±{MAX_SAFE_INTEGER}"
    return (int(value),)


def _check_number(_: common_pb2.ClaimDefinition, value: Any) -> _Checked:
    if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        return "must be a finite number"
    return (value,)


def _check_boolean(_: common_pb2.ClaimDefinition, value: Any) -> _Checked:
    if not isinstance(value, bool):
        return "must be true or false"
    return (value,)


def _check_date(_: common_pb2.ClaimDefinition, value: Any) -> _Checked:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return "must be a date YYYY-MM-DD"
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return "must be a real calendar date"
    return (value,)


def _check_date_time(_: common_pb2.ClaimDefinition, value: Any) -> _Checked:
    if not isinstance(value, str):
        return "must be an RFC 3339 date-time string"
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        return "must be an RFC 3339 date-time with a time offset (Z or ±hh:mm)"
    day, hour, minute, second, _fraction, offset = match.groups()
    # RFC 3339 allows second 60 for a leap second, which datetime cannot hold.
    second = "59" if second == "60" else second
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        dt.datetime.fromisoformat(f"{day}T{hour}:{minute}:{second}{offset}")
    except ValueError:
        return "must be a real date and time of day with an offset under 24 hours"
    return (value,)


def _check_object(_: common_pb2.ClaimDefinition, value: Any) -> _Checked:
    if not isinstance(value, Mapping):
        return "must be a JSON object"
    return (value,)


def _check_array(_: common_pb2.ClaimDefinition, value: Any) -> _Checked:
    if not isinstance(value, list | tuple):
        return "must be a JSON array"
    return (value,)


_CHECKERS: dict[int, Callable[[common_pb2.ClaimDefinition, Any], _Checked]] = {
    common_pb2.CLAIM_TYPE_STRING: _check_string,
    common_pb2.CLAIM_TYPE_INTEGER: _check_integer,
    common_pb2.CLAIM_TYPE_NUMBER: _check_number,
    common_pb2.CLAIM_TYPE_BOOLEAN: _check_boolean,
    common_pb2.CLAIM_TYPE_DATE: _check_date,
    common_pb2.CLAIM_TYPE_DATE_TIME: _check_date_time,
    common_pb2.CLAIM_TYPE_OBJECT: _check_object,
    common_pb2.CLAIM_TYPE_ARRAY: _check_array,
}
