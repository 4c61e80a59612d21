"""The license catalogue (证照目录) and the departments' authority (权责清单): pure rules.

Three jobs, each a function:

- :func:`check_claims` checks a license's holder claims against its type's
  ``ClaimDefinition`` list and returns them normalised (whole numbers as ``int``);
- :func:`check_authority` enforces "outside the list there is no power"
  (清单之外无权力): only a department in a type's ``issuer_departments`` may issue it;
- :func:`load_seed` reads the catalogue a deployment starts with from a YAML or
  JSON file and refuses it, naming file, entry and field, unless every entry is valid.

Shortest use::

    seed = load_seed("services/licenses/catalog.yaml")
    business_license = seed.license_types[0]
    check_authority(business_license, "11350100MB01234565")
    claims = check_claims(business_license, {"name": "福清市某某有限公司", ...})

Nothing here touches the store, the network or the clock; the only I/O is
:func:`load_seed` reading its one file. Claims are personal data, so no message
raised here ever quotes a claim's value (or a claim name that could be one).

The seed file's shape is the protobuf JSON mapping of ``LicenseType`` and
``Department`` (field names in lowerCamelCase or snake_case, enums by name,
durations as ``"31536000s"``), under two top-level lists::

    departments:
      - code: "11350100MB01234565"          # USCC, quoted: all-digit codes would be YAML ints
        name: 福州市市场监督管理局
        region_code: "350100"
        roles: [ROLE_ISSUER, ROLE_OFFICER]
    license_types:
      - code: "11100000000013127D001"       # the defining authority's USCC + 3 digits
        name: 营业执照
        holder_kinds: [HOLDER_KIND_ORGANISATION]
        claims:
          - {name: name, title: 名称, type: CLAIM_TYPE_STRING, required: true, max_length: 200}
        default_validity: "31536000s"       # omit for licenses that never expire
        issuer_departments: ["11350100MB01234565"]

``revision`` and ``updated_at`` are output only: the store sets them, a seed may not.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import yaml
from google.protobuf import descriptor as pb_descriptor
from google.protobuf import json_format, message_factory
from google.protobuf.message import Message

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.licenses.v1 import licenses_pb2
from runtime import claims as claims_rules

# Re-exported: the claim limits belong to runtime.claims since proof answers share them.
from runtime.claims import DEFAULT_MAX_LENGTH as DEFAULT_MAX_LENGTH
from runtime.claims import MAX_CLAIMS_BYTES as MAX_CLAIMS_BYTES
from runtime.claims import MAX_SAFE_INTEGER as MAX_SAFE_INTEGER
from runtime.errors import CertfreeError, PermissionDenied
from runtime.holders import check_uscc
from runtime.server import violations

_SEED_KEYS = {
    "departments": "departments",
    "license_types": "license_types",
    "licenseTypes": "license_types",
}
_OUTPUT_ONLY = ("revision", "updated_at")
_M = TypeVar("_M", bound=Message)


# --- claims ------------------------------------------------------------------------


def check_claims(
    license_type: licenses_pb2.LicenseType, claims: Mapping[str, Any]
) -> dict[str, Any]:
    """Return `claims` normalised if they fit `license_type`'s schema, else raise.

    Every required claim must be present; the rules are :func:`runtime.claims.check_claims`'
    (one field violation ``claims.<name>`` per problem, INTEGER claims back as ``int``).
    """
    return claims_rules.check_claims(
        license_type.claims, claims, schema=f"license type {license_type.code}"
    )


# --- authority ---------------------------------------------------------------------


def check_authority(license_type: licenses_pb2.LicenseType, department_code: str) -> None:
    """Raise PermissionDenied (OUTSIDE_AUTHORITY) unless the department may issue the type.

    "Outside the list there is no power" (清单之外无权力): only the departments in
    the type's ``issuer_departments`` may issue it. Department and type codes are
    public identifiers of public bodies, so the message names both.
    """
    if department_code in license_type.issuer_departments:
        return
    raise PermissionDenied(
        f"department {department_code} is not granted license type "
        f"{license_type.code} ({license_type.name}) in the authority catalogue",
        reason=common_pb2.OUTSIDE_AUTHORITY,
        metadata={
            "department_code": department_code,
            "license_type_code": license_type.code,
        },
    )


# --- seed file ---------------------------------------------------------------------


class SeedError(ValueError):
    """A seed file is unreadable or invalid; each problem names file, entry and field."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Seed:
    """The catalogue a deployment starts with, every entry validated."""

    license_types: list[licenses_pb2.LicenseType]
    """The license types (证照目录), in file order."""

    departments: list[licenses_pb2.Department]
    """The departments with their roles, in file order."""


def load_seed(path: str | os.PathLike[str]) -> Seed:
    """Read, parse and validate the seed file at `path` (``.yaml``, ``.yml`` or ``.json``).

    Checks each entry against the contract's protovalidate rules, every department
    code and issuer and every type code's authority part as a USCC (GB 32100 check
    character), that each type's issuers are departments of the file with role
    issuer, and that no code or claim name appears twice. Raises :class:`SeedError`
    listing every problem as ``<file>: <entry>.<field>: <why>``.
    """
    where = str(path)
    document = _read_document(Path(path), where)
    if not isinstance(document, Mapping):
        raise SeedError(
            [f"{where}: the top level must be a mapping with departments and license_types"]
        )
    problems: list[str] = []
    lists: dict[str, list[Any]] = {}
    for key, value in document.items():
        target = _SEED_KEYS.get(str(key))
        if target is None:
            problems.append(f"{where}: {key}: unknown key; expected departments and license_types")
        elif target in lists:
            problems.append(f"{where}: {key}: {target} given twice (in two spellings)")
        elif not isinstance(value, list):
            problems.append(f"{where}: {key}: must be a list of entries")
            lists[target] = []
        else:
            lists[target] = value
    departments = _parse_entries(
        where, "departments", lists.get("departments", []), licenses_pb2.Department, problems
    )
    license_types = _parse_entries(
        where, "license_types", lists.get("license_types", []), licenses_pb2.LicenseType, problems
    )
    problems.extend(_check_departments(where, departments))
    problems.extend(_check_license_types(where, license_types, departments))
    if problems:
        raise SeedError(problems)
    return Seed(
        license_types=[message for _, message in license_types],
        departments=[message for _, message in departments],
    )


def _read_document(path: Path, where: str) -> Any:
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise SeedError([f"{where}: unknown seed format; name it .yaml, .yml or .json"])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SeedError([f"{where}: cannot read: {error}"]) from error
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise SeedError(
                [f"{where}: line {error.lineno}, column {error.colno}: not JSON: {error.msg}"]
            ) from error
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise SeedError([f"{where}: {at}not YAML: {problem}"]) from error


def _parse_entries(
    where: str, list_name: str, entries: list[Any], cls: type[_M], problems: list[str]
) -> list[tuple[str, _M]]:
    """Each entry that parses as (``list[i]``, message); every problem goes to `problems`."""
    parsed: list[tuple[str, _M]] = []
    for index, entry in enumerate(entries):
        entry_path = f"{list_name}[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: {entry_path}: must be a mapping of fields")
            continue
        message = cls()
        try:
            json_format.ParseDict(entry, message)
        except json_format.ParseError:
            field, why = _locate_parse_error(entry, _descriptor_of(cls), entry_path)
            problems.append(f"{where}: {field}: {why}")
            continue
        entry_problems = [
            f"{where}: {entry_path}.{name}: output only; the store sets it, a seed may not"
            for name in _OUTPUT_ONLY
            if _has_value(message, name)
        ]
        entry_problems.extend(
            f"{where}: {entry_path}.{v.field}: {v.description}" for v in violations(message)
        )
        problems.extend(entry_problems)
        # Kept even when invalid, so that the cross-checks do not report its
        # issuers again as "not a department of this file".
        parsed.append((entry_path, message))
    return parsed


def _has_value(message: Message, name: str) -> bool:
    field = message.DESCRIPTOR.fields_by_name[name]
    if field.message_type is not None:
        return message.HasField(name)
    return bool(getattr(message, name))


def _descriptor_of(cls: type[Message]) -> pb_descriptor.Descriptor:
    # The stubs type DESCRIPTOR as a union of the upb and pure-Python descriptor classes.
    return cast(pb_descriptor.Descriptor, cls.DESCRIPTOR)


def _locate_parse_error(
    value: dict[str, Any], descriptor: pb_descriptor.Descriptor, path: str
) -> tuple[str, str]:
    """The innermost field of `value` that ParseDict refuses, and why.

    ParseDict's own messages name the failing field only sometimes, and by the
    message type rather than the entry, so each field is parsed alone, descending
    into nested messages and list items until the culprit is found.
    """
    fields = {f.name: f for f in descriptor.fields} | {f.json_name: f for f in descriptor.fields}
    cls = message_factory.GetMessageClass(descriptor)
    for key, item in value.items():
        field = fields.get(str(key))
        if field is None:
            known = ", ".join(f.name for f in descriptor.fields)
            return f"{path}.{key}", f"unknown field; {descriptor.name} has {known}"
        try:
            json_format.ParseDict({key: item}, cls())
        except json_format.ParseError as error:
            return _locate_in_field(field, cls, item, f"{path}.{field.name}", error)
    return path, "cannot be parsed"


def _locate_in_field(
    field: pb_descriptor.FieldDescriptor,
    container: type[Message],
    item: Any,
    path: str,
    error: json_format.ParseError,
) -> tuple[str, str]:
    nested = field.message_type
    # Well-known types (Duration, Timestamp, Struct) have JSON forms of their own.
    if nested is not None and nested.full_name.startswith("google.protobuf."):
        nested = None
    if field.is_repeated and not isinstance(item, list):
        return path, "must be a list"
    if field.is_repeated:
        for index, element in enumerate(item):
            element_path = f"{path}[{index}]"
            if nested is None:
                try:
                    json_format.ParseDict({field.json_name: [element]}, container())
                except json_format.ParseError as element_error:
                    return element_path, _clean(element_error)
            elif not isinstance(element, dict):
                return element_path, "must be a mapping of fields"
            else:
                try:
                    json_format.ParseDict(element, message_factory.GetMessageClass(nested)())
                except json_format.ParseError:
                    return _locate_parse_error(element, nested, element_path)
    elif nested is not None and isinstance(item, dict):
        return _locate_parse_error(item, nested, path)
    return path, _clean(error)


def _clean(error: json_format.ParseError) -> str:
    """ParseDict's message without its "Failed to parse x field:" prefixes and its own path."""
    text = re.sub(r"^(Failed to parse \w+ field: )+", "", str(error).strip())
    text = re.sub(r"\s+at\s+\S+$", "", text)
    return text.rstrip(".")


def _uscc_problem(value: str, field: str) -> str | None:
    """Why `value` is no valid USCC, or None; the check itself is runtime.holders'."""
    try:
        check_uscc(value, field)
    except CertfreeError as error:
        if error.field_violations:
            return "; ".join(v.description for v in error.field_violations)
        return error.message
    except ValueError as error:
        return str(error)
    return None


def _check_departments(
    where: str, departments: Sequence[tuple[str, licenses_pb2.Department]]
) -> list[str]:
    problems: list[str] = []
    first_seen: dict[str, str] = {}
    for entry_path, department in departments:
        field = f"{entry_path}.code"
        problem = _uscc_problem(department.code, field)
        if problem is not None:
            problems.append(f"{where}: {field}: {problem}")
        if department.code in first_seen:
            problems.append(
                f"{where}: {field}: duplicate code {department.code}, "
                f"first at {first_seen[department.code]}"
            )
        first_seen.setdefault(department.code, entry_path)
    return problems


def _check_license_types(
    where: str,
    license_types: Sequence[tuple[str, licenses_pb2.LicenseType]],
    departments: Sequence[tuple[str, licenses_pb2.Department]],
) -> list[str]:
    issuers = {
        department.code
        for _, department in departments
        if common_pb2.ROLE_ISSUER in department.roles
    }
    known = {department.code for _, department in departments}
    problems: list[str] = []
    first_seen: dict[str, str] = {}
    for entry_path, license_type in license_types:
        field = f"{entry_path}.code"
        # The first 18 characters are the USCC of the authority that defines the type.
        problem = _uscc_problem(license_type.code[:18], field)
        if problem is not None:
            problems.append(f"{where}: {field}: the defining authority's code: {problem}")
        if license_type.code in first_seen:
            problems.append(
                f"{where}: {field}: duplicate code {license_type.code}, "
                f"first at {first_seen[license_type.code]}"
            )
        first_seen.setdefault(license_type.code, entry_path)
        claim_names: set[str] = set()
        for index, claim in enumerate(license_type.claims):
            if claim.name in claim_names:
                problems.append(
                    f"{where}: {entry_path}.claims[{index}].name: duplicate claim {claim.name}"
                )
            claim_names.add(claim.name)
        for index, code in enumerate(license_type.issuer_departments):
            issuer_field = f"{entry_path}.issuer_departments[{index}]"
            problem = _uscc_problem(code, issuer_field)
            if problem is not None:
                problems.append(f"{where}: {issuer_field}: {problem}")
            elif code not in known:
                problems.append(f"{where}: {issuer_field}: {code} is not a department of this file")
            elif code not in issuers:
                problems.append(
                    f"{where}: {issuer_field}: department {code} lacks role ROLE_ISSUER"
                )
    return problems
