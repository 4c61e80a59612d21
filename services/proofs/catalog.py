"""The proof catalogue (证明事项清单): checking items, the seed file, and data-sharing rules.

Three jobs, each a function:

- :func:`check_proof_item` refuses an item, naming each bad field, unless it meets
  the contract's protovalidate rules and the rules protovalidate cannot express
  (:func:`proof_item_problems` lists them);
- :func:`load_catalog` reads the catalogue a deployment starts with from a YAML or
  JSON file and refuses it, naming file, item and field, unless every item is valid;
- :func:`evaluate_rule` decides whether a license's claims meet a data-sharing rule
  (数据共享) and copies the answer claims the rule names.

Shortest use::

    catalogue = load_catalog("services/proofs/catalog.yaml")
    item = catalogue.by_code("business-license.existence")
    result = evaluate_rule(item.data_sharing, license_claims)
    if result.matched:
        answer_claims = result.answer_claims

Nothing here touches the store, the network or the clock; the only I/O is
:func:`load_catalog` reading its one file. License claims are personal data, so no
message here quotes a claim's value.

The file's shape is the protobuf JSON mapping of ``ProofItem`` (field names in
lowerCamelCase or snake_case, enums by name, durations as ``"7200s"``) under one
top-level list::

    proof_items:
      - code: construction-drawing-review.verification
        name: 施工图设计文件审查合格证明
        route: PROOF_ROUTE_DEPARTMENT_VERIFICATION
        legal_basis: 《建设工程质量管理条例》...
        authoritative_departments: ["11350181MB12345671"]   # USCCs, quoted
        holder_kinds: [HOLDER_KIND_ORGANISATION]
        deadline: {working_time: "7200s"}
        warning_before: "1800s"

Dates in condition values must be quoted (``"2020-01-01"``): YAML would read them
as dates, which are not JSON. ``revision`` and ``updated_at`` are output only: the
store sets them, a file may not.

Rules beyond protovalidate (field paths relative to the item):

- every authoritative department and the defining authority of a data-sharing
  rule's license type is a USCC with a correct check character;
- answer claim names are unique; a data-sharing rule's ``answer_claims_from``
  keys are among them;
- a cancelled item carries no deadline, warning, answer claims, rule or terms;
- only a data_sharing item carries a rule and only a commitment item terms;
- ``warning_before`` needs a deadline;
- a data-sharing rule that falls back to the department names the departments
  and has a deadline;
- condition values are typed for their operator: none for PRESENT; a string,
  number or boolean for EQUALS and NOT_EQUALS; a non-empty list of those for IN;
  a number, a date ``YYYY-MM-DD`` or an RFC 3339 date-time for the comparisons.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from google.protobuf import json_format, struct_pb2

from genproto.certfree.proofs.v1 import proofs_pb2
from runtime.errors import CertfreeError, FieldViolation, InvalidArgument
from runtime.holders import check_uscc
from runtime.server import violations

PRESENT = proofs_pb2.CLAIM_OPERATOR_PRESENT
EQUALS = proofs_pb2.CLAIM_OPERATOR_EQUALS
NOT_EQUALS = proofs_pb2.CLAIM_OPERATOR_NOT_EQUALS
IN = proofs_pb2.CLAIM_OPERATOR_IN
GREATER_OR_EQUAL = proofs_pb2.CLAIM_OPERATOR_GREATER_OR_EQUAL
LESS_OR_EQUAL = proofs_pb2.CLAIM_OPERATOR_LESS_OR_EQUAL

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# RFC 3339 section 5.6 date-time; "T" and "Z" may be lower case (section 5.6, NOTE).
_DATE_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)
_LIST_KEYS = ("proof_items", "proofItems")
_OUTPUT_ONLY = ("revision", "updated_at")


# --- checking one item ---------------------------------------------------------------


def check_proof_item(item: proofs_pb2.ProofItem, prefix: str = "proof_item") -> None:
    """Raise :class:`~runtime.errors.InvalidArgument` unless `item` is a valid proof item.

    Every problem, protovalidate's and :func:`proof_item_problems`', is one
    ``FieldViolation`` whose field is ``<prefix>.<path>`` (``proof_item.deadline``).
    Output-only fields are not checked: UpsertProofItem ignores them.
    """
    problems = [
        FieldViolation(_join(prefix, v.field), v.description, v.reason)
        for v in [*violations(item), *proof_item_problems(item)]
    ]
    if problems:
        raise InvalidArgument(
            f"{len(problems)} problem(s) with proof item {item.code}",
            field_violations=problems,
        )


def _join(prefix: str, path: str) -> str:
    return ".".join(part for part in (prefix, path) if part)


def proof_item_problems(item: proofs_pb2.ProofItem) -> list[FieldViolation]:
    """The problems with `item` that protovalidate cannot see, fields relative to the item."""
    problems: list[FieldViolation] = []
    for index, code in enumerate(item.authoritative_departments):
        problem = _uscc_problem(code, f"authoritative_departments[{index}]")
        if problem is not None:
            problems.append(problem)
    answer_names: set[str] = set()
    for index, claim in enumerate(item.answer_claims):
        if claim.name in answer_names:
            problems.append(
                FieldViolation(
                    f"answer_claims[{index}].name",
                    f"duplicate answer claim {claim.name}",
                    "proof_item.answer_claims_unique",
                )
            )
        answer_names.add(claim.name)
    problems.extend(_route_problems(item))
    if item.HasField("warning_before") and not item.HasField("deadline"):
        problems.append(
            FieldViolation(
                "warning_before", "a warning needs a deadline", "proof_item.warning_needs_deadline"
            )
        )
    if item.HasField("data_sharing"):
        problems.extend(_rule_problems(item, answer_names))
    return problems


def _route_problems(item: proofs_pb2.ProofItem) -> list[FieldViolation]:
    problems: list[FieldViolation] = []
    route = item.route
    if route == proofs_pb2.PROOF_ROUTE_CANCELLED:
        # Nothing is asked of anyone: no department answers, nothing is due, and
        # the answer (NOT_REQUIRED) carries the legal basis only.
        for name in ("deadline", "warning_before"):
            if item.HasField(name):
                problems.append(
                    FieldViolation(
                        name,
                        "a cancelled item carries no deadline: nobody has to answer it",
                        "proof_item.cancelled_no_deadline",
                    )
                )
        if item.answer_claims:
            problems.append(
                FieldViolation(
                    "answer_claims",
                    "a cancelled item's answer carries no claims, only its legal basis",
                    "proof_item.cancelled_no_claims",
                )
            )
    if item.HasField("data_sharing") and route != proofs_pb2.PROOF_ROUTE_DATA_SHARING:
        problems.append(
            FieldViolation(
                "data_sharing",
                "only a data_sharing item carries a data-sharing rule",
                "proof_item.data_sharing_route",
            )
        )
    if item.HasField("commitment") and route != proofs_pb2.PROOF_ROUTE_COMMITMENT:
        problems.append(
            FieldViolation(
                "commitment",
                "only a commitment item carries commitment terms",
                "proof_item.commitment_route",
            )
        )
    return problems


def _rule_problems(item: proofs_pb2.ProofItem, answer_names: set[str]) -> list[FieldViolation]:
    rule = item.data_sharing
    problems: list[FieldViolation] = []
    problem = _uscc_problem(rule.license_type_code[:18], "data_sharing.license_type_code")
    if problem is not None:
        problems.append(
            FieldViolation(
                problem.field,
                f"the defining authority's code: {problem.description}",
                problem.reason,
            )
        )
    for name in sorted(rule.answer_claims_from):
        if name not in answer_names:
            problems.append(
                FieldViolation(
                    f"data_sharing.answer_claims_from[{name!r}]",
                    f"{name} is not one of the item's answer_claims",
                    "data_sharing.answer_claim_unknown",
                )
            )
    if rule.fall_back_to_department:
        if not item.authoritative_departments:
            problems.append(
                FieldViolation(
                    "authoritative_departments",
                    "a rule that falls back to the department needs authoritative departments",
                    "data_sharing.fall_back_departments",
                )
            )
        if not item.HasField("deadline"):
            problems.append(
                FieldViolation(
                    "deadline",
                    "a rule that falls back to the department needs a deadline",
                    "data_sharing.fall_back_deadline",
                )
            )
    for index, condition in enumerate(rule.conditions):
        why = _condition_value_problem(condition)
        if why is not None:
            problems.append(
                FieldViolation(
                    f"data_sharing.conditions[{index}].value", why, "claim_condition.value_type"
                )
            )
    return problems


def _condition_value_problem(condition: proofs_pb2.ClaimCondition) -> str | None:
    """Why the condition's value does not suit its operator, or None."""
    has_value = condition.HasField("value")
    operator = condition.operator
    if operator == PRESENT:
        return "a PRESENT condition takes no value" if has_value else None
    if not has_value:
        return None  # protovalidate reports it (claim_condition.value_required)
    value = value_to_python(condition.value)
    if operator in (EQUALS, NOT_EQUALS):
        return None if _is_scalar(value) else "must be a string, a finite number or a boolean"
    if operator == IN:
        if not isinstance(value, list) or not value:
            return "must be a non-empty list for CLAIM_OPERATOR_IN"
        if not all(_is_scalar(element) for element in value):
            return "every element must be a string, a finite number or a boolean"
        return None
    if operator in (GREATER_OR_EQUAL, LESS_OR_EQUAL):
        if _is_number(value) or (
            isinstance(value, str) and (_parse_date(value) or _parse_date_time(value))
        ):
            return None
        return "must be a finite number, a date YYYY-MM-DD or an RFC 3339 date-time"
    return None  # an unknown operator: protovalidate reports it


def _uscc_problem(value: str, path: str) -> FieldViolation | None:
    try:
        check_uscc(value, path)
    except CertfreeError as error:
        if error.field_violations:
            return error.field_violations[0]
        return FieldViolation(path, error.message, "uscc")
    return None


# --- the seed file ---------------------------------------------------------------------


class CatalogError(ValueError):
    """A catalogue file is unreadable or invalid; each problem names file, item and field."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Catalogue:
    """The proof catalogue a deployment starts with, every item validated."""

    proof_items: tuple[proofs_pb2.ProofItem, ...]
    """The proof items, in file order."""

    def by_code(self, code: str) -> proofs_pb2.ProofItem | None:
        """The item with `code`, or None."""
        return next((item for item in self.proof_items if item.code == code), None)


def load_catalog(path: str | os.PathLike[str]) -> Catalogue:
    """Read, parse and validate the catalogue file at `path` (``.yaml``, ``.yml`` or ``.json``).

    Checks each item with :func:`check_proof_item`'s rules, refuses output-only
    fields and duplicate codes, and raises :class:`CatalogError` listing every
    problem as ``<file>: proof_items[<i>] (<code>).<field>: <why>``.
    """
    where = str(path)
    document = _read_document(Path(path), where)
    if not isinstance(document, Mapping):
        raise CatalogError([f"{where}: the top level must be a mapping with proof_items"])
    keys = [key for key in document if key in _LIST_KEYS]
    problems = [
        f"{where}: {key}: unknown key; expected proof_items" for key in document if key not in keys
    ]
    if len(keys) > 1:
        problems.append(f"{where}: proof_items given twice (in two spellings)")
    entries = document[keys[0]] if keys else []
    if not isinstance(entries, list):
        raise CatalogError([*problems, f"{where}: {keys[0]}: must be a list of proof items"])
    items: list[proofs_pb2.ProofItem] = []
    first_seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        label = f"proof_items[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: {label}: must be a mapping of fields")
            continue
        code = entry.get("code")
        if isinstance(code, str):
            label += f" ({code})"
        item = proofs_pb2.ProofItem()
        try:
            json_format.ParseDict(entry, item)
        except json_format.ParseError:
            field_name, why = _locate_parse_error(entry)
            problems.append(f"{where}: {label}.{field_name}: {why}")
            continue
        problems.extend(
            f"{where}: {label}.{name}: output only; the store sets it, a file may not"
            for name in _OUTPUT_ONLY
            if _has_value(item, name)
        )
        try:
            check_proof_item(item, prefix="")
        except InvalidArgument as error:
            problems.extend(
                f"{where}: {_join(label, v.field)}: {v.description}" for v in error.field_violations
            )
        if item.code in first_seen:
            problems.append(
                f"{where}: {label}.code: duplicate code {item.code}, "
                f"first at proof_items[{first_seen[item.code]}]"
            )
        first_seen.setdefault(item.code, index)
        items.append(item)
    if problems:
        raise CatalogError(problems)
    return Catalogue(proof_items=tuple(items))


def _read_document(path: Path, where: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CatalogError([f"{where}: cannot be read: {error}"]) from error
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise CatalogError(
                [f"{where}: line {error.lineno}, column {error.colno}: not JSON: {error.msg}"]
            ) from error
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise CatalogError([f"{where}: {at}not YAML: {problem}"]) from error


def _locate_parse_error(entry: dict[str, Any]) -> tuple[str, str]:
    """The top-level field of `entry` that ParseDict refuses, and ParseDict's reason."""
    for key, value in entry.items():
        try:
            json_format.ParseDict({key: value}, proofs_pb2.ProofItem())
        except json_format.ParseError as error:
            text = re.sub(r"^(Failed to parse \w+ field: )+", "", str(error).strip())
            return str(key), text.rstrip(".")
    return "", "cannot be parsed"


def _has_value(item: proofs_pb2.ProofItem, name: str) -> bool:
    if name == "updated_at":
        return item.HasField("updated_at")
    return bool(getattr(item, name))


# --- data-sharing rules --------------------------------------------------------------


@dataclass(frozen=True)
class RuleResult:
    """What a data-sharing rule says about one license's claims."""

    matched: bool
    """True when every condition holds: the license confirms the fact."""

    failed_condition: int | None = None
    """The index in ``rule.conditions`` of the first condition that failed; None when matched."""

    failed_claim: str | None = None
    """That condition's claim name (a schema name, never a value); None when matched."""

    reason: str = ""
    """Why that condition failed, in words that quote no claim value; empty when matched."""

    answer_claims: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """When matched, the answer claims copied per ``answer_claims_from``; else empty."""


def evaluate_rule(
    rule: proofs_pb2.DataSharingRule, license_claims: Mapping[str, Any]
) -> RuleResult:
    """Decide whether `license_claims` meet `rule`, and copy the answer claims if they do.

    `license_claims` are the claims of one valid license of ``rule.license_type_code``
    (the caller picks the licenses and checks their status; JSON values, numbers as
    ``int`` or ``float``). Conditions are checked in order and the first failure is
    reported. Every operator but NOT_EQUALS needs the claim present (not missing, not
    null), and so does NOT_EQUALS: the rule confirms facts only from claims the
    license carries. Equality is JSON equality (1 equals 1.0, true never equals 1;
    two RFC 3339 date-times are equal when they are the same instant). The
    comparisons compare numbers with numbers, dates ``YYYY-MM-DD`` with dates and
    date-times with date-times (as instants); anything else fails as not comparable.
    When matched, ``answer_claims_from`` (answer name → license claim name) is
    copied; a license claim the license lacks is left out of the answer.
    """
    for index, condition in enumerate(rule.conditions):
        reason = _condition_failure(condition, license_claims)
        if reason is not None:
            return RuleResult(
                matched=False, failed_condition=index, failed_claim=condition.claim, reason=reason
            )
    answer = {
        name: license_claims[source]
        for name, source in sorted(rule.answer_claims_from.items())
        if license_claims.get(source) is not None
    }
    return RuleResult(matched=True, answer_claims=MappingProxyType(answer))


def _condition_failure(
    condition: proofs_pb2.ClaimCondition, claims: Mapping[str, Any]
) -> str | None:
    actual = claims.get(condition.claim)
    if actual is None:
        return "the license does not carry the claim"
    operator = condition.operator
    if operator == PRESENT:
        return None
    if not condition.HasField("value"):
        return "the condition has no value to compare with"
    expected = value_to_python(condition.value)
    if operator == EQUALS:
        return None if _equal(actual, expected) else "the claim does not equal the value"
    if operator == NOT_EQUALS:
        return "the claim equals the excluded value" if _equal(actual, expected) else None
    if operator == IN:
        if not isinstance(expected, list):
            return "the condition's value is not a list"
        if any(_equal(actual, option) for option in expected):
            return None
        return "the claim is not among the listed values"
    if operator in (GREATER_OR_EQUAL, LESS_OR_EQUAL):
        order = _compare(actual, expected)
        if order is None:
            return "the claim cannot be compared with the value (number, date or date-time)"
        if operator == GREATER_OR_EQUAL:
            return None if order >= 0 else "the claim is less than the value"
        return None if order <= 0 else "the claim is greater than the value"
    return "the condition's operator is unknown"


def value_to_python(value: struct_pb2.Value) -> Any:
    """A protobuf ``Value`` as a plain JSON value (None, bool, float, str, list or dict).

    Unlike ``json_format.MessageToDict`` it keeps a NaN or infinity as a float
    (which then fails every check) instead of raising.
    """
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        return value.number_value
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "list_value":
        return [value_to_python(element) for element in value.list_value.values]
    if kind == "struct_value":
        return {key: value_to_python(item) for key, item in value.struct_value.fields.items()}
    return None


def _is_number(value: Any) -> bool:
    # bool is an int subclass in Python, but true is no number in JSON.
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and (not isinstance(value, float) or math.isfinite(value))
    )


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | bool) or _is_number(value)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if isinstance(a, str) and isinstance(b, str):
        instant_a, instant_b = _parse_date_time(a), _parse_date_time(b)
        if instant_a is not None and instant_b is not None:
            return instant_a == instant_b
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_equal(a[key], b[key]) for key in a)
    return False


def _compare(a: Any, b: Any) -> int | None:
    """-1, 0 or 1 as `a` is before, at or after `b`; None when they are not comparable."""
    pair: tuple[Any, Any] | None = None
    if _is_number(a) and _is_number(b):
        pair = (a, b)
    elif isinstance(a, str) and isinstance(b, str):
        dates = (_parse_date(a), _parse_date(b))
        instants = (_parse_date_time(a), _parse_date_time(b))
        if dates[0] is not None and dates[1] is not None:
            pair = dates
        elif instants[0] is not None and instants[1] is not None:
            pair = instants
    if pair is None:
        return None
    return int(bool(pair[0] > pair[1])) - int(bool(pair[0] < pair[1]))


def _parse_date(text: str) -> dt.date | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _parse_date_time(text: str) -> dt.datetime | None:
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return None
    day, hour, minute, second, fraction, offset = match.groups()
    # RFC 3339 allows second 60 for a leap second, which datetime cannot hold.
    second = "59" if second == "60" else second
    offset = "+00:00" if offset in ("Z", "z") else offset
    micros = (fraction or ".0")[1:7].ljust(6, "0")
    try:
        return dt.datetime.fromisoformat(f"{day}T{hour}:{minute}:{second}.{micros}{offset}")
    except ValueError:
        return None
