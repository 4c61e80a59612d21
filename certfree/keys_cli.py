"""``certfree keys``: the operator's commands for departments' signing keys.

    certfree keys rotate --department USCC [--algorithm eddsa|es256|sm2] [--request-id ID]
    certfree keys list --department USCC [--json]
    certfree keys compromised --department USCC --key-id KID --since RFC3339 --reason TEXT

Each command is one call (``list``: one per page) to the licenses service over gRPC —
``RotateIssuerKey``, ``ListIssuerKeys``, ``MarkIssuerKeyCompromised`` — at ``--licenses
HOST:PORT``, by default the settings' licenses target (``CERTFREE_LICENSES_TARGET``, else
``CERTFREE_LISTEN_HOST:CERTFREE_LICENSES_PORT``). The caller travels as the development
identity (``x-certfree-department`` = ``--as-department``, default ``--department``;
``x-certfree-role`` = ``operator``), which only ``certfree up --insecure-dev`` trusts;
production identity comes with mutual TLS later.

Exit status: 0 done; 1 the service refused the request (stderr has its message and each
field violation); 2 nothing was asked or nothing was answered (a bad argument, a
configuration error, the service unreachable, slow or failing inside).
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf import json_format, timestamp_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from genproto.certfree.licenses.v1 import licenses_pb2, licenses_pb2_grpc
from runtime.errors import InvalidArgument
from runtime.holders import check_uscc
from runtime.identity import DEPARTMENT_HEADER, ROLE_HEADER

__all__ = [
    "ALGORITHMS",
    "CannotRun",
    "KeyRow",
    "KeysClient",
    "Refused",
    "add_keys_commands",
    "describe_refusal",
    "key_table",
    "parse_rfc3339",
    "run",
]

EXIT_OK = 0
"""The command did what it says."""
EXIT_REFUSED = 1
"""The licenses service refused the request."""
EXIT_CANNOT_RUN = 2
"""Nothing was asked (bad arguments, configuration) or nothing was answered."""

RPC_TIMEOUT_SECONDS = 30.0
"""How long one call to the licenses service may take."""
ROLE = "operator"
"""The role every ``certfree keys`` call acts in: RotateIssuerKey and
MarkIssuerKeyCompromised require it."""

ALGORITHMS: Mapping[str, int] = {
    "eddsa": licenses_pb2.SIGNATURE_ALGORITHM_EDDSA_ED25519,
    "es256": licenses_pb2.SIGNATURE_ALGORITHM_ES256,
    "sm2": licenses_pb2.SIGNATURE_ALGORITHM_SM2_SM3,
}
"""``--algorithm`` names and the contract's SignatureAlgorithm values."""
DEFAULT_ALGORITHM = "eddsa"
"""The algorithm of a rotation that names none: the service's own default for first keys."""

_ALGORITHM_NAMES = {value: name for name, value in ALGORITHMS.items()}
_BAD_ANSWER_CODES = (
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.DATA_LOSS,
)
# RFC 3339 section 5.6 date-time; the space instead of "T" is the one variant its note
# allows. datetime.fromisoformat alone would also take ISO 8601 forms RFC 3339 has not
# (week dates, basic format, no offset), so the shape is checked first.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:(?P<second>\d{2})(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})"
)
_IDENTITY_NOTE = (
    "Identity: sent as x-certfree-department (--as-department, default --department) and "
    "x-certfree-role=operator, the development identity that `certfree up --insecure-dev` "
    "trusts; production identity comes with mutual TLS later."
)
_EXIT_STATUS = (
    "Exit status: 0 done; 1 the licenses service refused (stderr has its message and each "
    "field violation); 2 bad arguments, or the service could not be reached or failed."
)


class Refused(Exception):
    """The licenses service refused the request; the message says why, in its words."""


class CannotRun(Exception):
    """Nothing was asked (a bad argument, a configuration error) or nothing was answered."""


# --- values ----------------------------------------------------------------------------


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 date-time (``2026-03-01T09:30:00+08:00``, ``...Z``) as an aware datetime.

    Raises ValueError saying what is wrong. Fractions finer than a microsecond are cut
    to the microsecond (earlier, never later: a compromise then covers slightly more).
    A leap second (``:60``) is refused: protobuf Timestamps smear leap seconds away.
    """
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"{text!r} is not an RFC 3339 date-time such as 2026-03-01T09:30:00+08:00 "
            "or 2026-03-01T01:30:00Z (the offset is required)"
        )
    if match["second"] == "60":
        raise ValueError(
            f"{text!r} is a leap second, which a protobuf Timestamp cannot hold; "
            "give the second before it"
        )
    try:
        return datetime.fromisoformat(match[0].upper())
    except ValueError as error:  # 2026-02-30, 25:00, +24:00 ...
        raise ValueError(f"{text!r} is not a real time: {error}") from None


def _time(stamp: timestamp_pb2.Timestamp) -> str:
    """A Timestamp in UTC, to the second: ``2026-03-01T01:30:00Z``."""
    return f"{stamp.ToDatetime(UTC):%Y-%m-%dT%H:%M:%SZ}"


def _algorithm(value: int) -> str:
    return _ALGORITHM_NAMES.get(value, f"algorithm {value}")


def _state(value: int) -> str:
    return licenses_pb2.KeyState.Name(value).removeprefix("KEY_STATE_").lower()


@dataclass(frozen=True)
class KeyRow:
    """One key as the table shows it: every field already text, ``-`` where unset."""

    key_id: str
    """The ``kid`` that signed artefacts name."""
    algorithm: str
    """``eddsa``, ``es256`` or ``sm2``: the ``--algorithm`` names."""
    state: str
    """``active``, ``retired`` or ``compromised``."""
    not_before: str
    """From when it signs (UTC)."""
    not_after: str
    """Until when it signed (UTC); ``-`` while active."""
    compromised_since: str
    """From when its signatures fail (UTC); ``-`` if never compromised."""
    ledger_index: str
    """Index of its publication's attestation; ``-`` until the ledger accepted it."""

    @classmethod
    def of(cls, key: licenses_pb2.IssuerKey) -> KeyRow:
        """The row of a published key."""
        return cls(
            key_id=key.key_id,
            algorithm=_algorithm(key.algorithm),
            state=_state(key.state),
            not_before=_time(key.not_before) if key.HasField("not_before") else "-",
            not_after=_time(key.not_after) if key.HasField("not_after") else "-",
            compromised_since=(
                _time(key.compromised_since) if key.HasField("compromised_since") else "-"
            ),
            ledger_index=str(key.ledger_index) if key.HasField("ledger_index") else "-",
        )


_HEADINGS = KeyRow(
    key_id="KEY ID",
    algorithm="ALGORITHM",
    state="STATE",
    not_before="NOT BEFORE",
    not_after="NOT AFTER",
    compromised_since="COMPROMISED SINCE",
    ledger_index="LEDGER INDEX",
)


def key_table(keys: Sequence[licenses_pb2.IssuerKey]) -> str:
    """The keys as an aligned text table under a heading line, in the order given."""
    rows = [astuple(_HEADINGS), *(astuple(KeyRow.of(key)) for key in keys)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(fields(KeyRow)))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def describe_refusal(error: grpc.RpcError) -> str:
    """A failed call in words: its code, the service's message, then each bad field.

    The rich ``google.rpc.Status`` in the trailers (runtime.errors) is preferred; a call
    that never reached a certfree handler has only the transport's code and details.
    """
    code: grpc.StatusCode = error.code()
    status = _rich_status(error)
    message = status.message if status is not None else (error.details() or "")
    lines = [f"{code.name}: {message}"]
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            lines += [f"  {v.field}: {v.description}" for v in bad.field_violations]
    if code is grpc.StatusCode.UNAUTHENTICATED:
        lines.append(
            "  (certfree keys sends the development identity, which only "
            "`certfree up --insecure-dev` trusts; production identity comes with mTLS later)"
        )
    return "\n".join(lines)


def _rich_status(error: grpc.RpcError) -> status_pb2.Status | None:
    try:
        status: status_pb2.Status | None = rpc_status.from_call(error)
    except ValueError:  # trailers whose code disagrees with the call's: ignore them
        return None
    return status


# --- the service -----------------------------------------------------------------------


class KeysClient:
    """The key RPCs of the licenses service, called as an operator of one department.

    Every method raises Refused when the service says no and CannotRun when it cannot be
    reached or fails inside. Use it as a context manager: it owns its channel.
    """

    def __init__(self, target: str, acting_department: str) -> None:
        """A client of the licenses service at `target`, acting for `acting_department`."""
        self.target = target
        """The gRPC target, ``HOST:PORT``."""
        self._channel = grpc.insecure_channel(target)
        self._stub = licenses_pb2_grpc.LicenseServiceStub(self._channel)
        self._metadata = ((DEPARTMENT_HEADER, acting_department), (ROLE_HEADER, ROLE))

    def __enter__(self) -> KeysClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def list_keys(self, department: str) -> list[licenses_pb2.IssuerKey]:
        """Every key the department published, active first, then newest first."""
        keys: list[licenses_pb2.IssuerKey] = []
        request = licenses_pb2.ListIssuerKeysRequest(department_code=department)
        while True:
            page = self._call(self._stub.ListIssuerKeys, request)
            keys.extend(page.keys)
            if not page.next_page_token:
                return keys
            request.page_token = page.next_page_token

    def rotate(
        self, department: str, algorithm: int, request_id: str
    ) -> licenses_pb2.RotateIssuerKeyResponse:
        """A new active key of `algorithm`; a repeated `request_id` returns the first one's."""
        request = licenses_pb2.RotateIssuerKeyRequest(
            department_code=department,
            algorithm=algorithm,  # type: ignore[arg-type]
            request_id=request_id,
        )
        response: licenses_pb2.RotateIssuerKeyResponse = self._call(
            self._stub.RotateIssuerKey, request
        )
        return response

    def mark_compromised(
        self, department: str, key_id: str, since: datetime, reason: str
    ) -> licenses_pb2.IssuerKey:
        """Distrust every signature `key_id` made at or after `since`; the key as published."""
        request = licenses_pb2.MarkIssuerKeyCompromisedRequest(
            department_code=department, key_id=key_id, reason=reason
        )
        request.compromised_since.FromDatetime(since)
        response = self._call(self._stub.MarkIssuerKeyCompromised, request)
        key: licenses_pb2.IssuerKey = response.key
        return key

    def _call(self, method: Callable[..., Any], request: Any) -> Any:
        try:
            return method(request, metadata=self._metadata, timeout=RPC_TIMEOUT_SECONDS)
        except grpc.RpcError as error:
            text = describe_refusal(error)
            if error.code() in _BAD_ANSWER_CODES:
                raise CannotRun(
                    f"the licenses service at {self.target} did not answer: {text}\n"
                    "  (is `certfree up` running there? --licenses HOST:PORT names another)"
                ) from None
            raise Refused(text) from None


# --- commands --------------------------------------------------------------------------


def _rotate(client: KeysClient, args: argparse.Namespace) -> None:
    request_id = args.request_id or f"rotate-{secrets.token_hex(8)}"
    response = client.rotate(args.department, ALGORITHMS[args.algorithm], request_id)
    key = KeyRow.of(response.key)
    if args.json:
        _print_json(response)
        return
    if response.duplicate:
        print(
            f"already done: request {request_id} rotated department {args.department} to key "
            f"{key.key_id} ({key.algorithm}, now {key.state}) earlier; nothing changed"
        )
        if key.algorithm != args.algorithm:
            print(
                f"note: that rotation made an {key.algorithm} key; --algorithm "
                f"{args.algorithm} was not applied (a new --request-id rotates again)",
                file=sys.stderr,
            )
        return
    lines = [
        f"rotated: department {args.department} now signs with key {key.key_id} "
        f"({key.algorithm}) from {key.not_before}"
    ]
    if response.HasField("previous_key"):
        previous = KeyRow.of(response.previous_key)
        lines.append(
            f"{previous.state}: key {previous.key_id} ({previous.algorithm}) signed until "
            f"{previous.not_after} and still verifies what it signed"
        )
    lines.append(f"ledger: {_attested('publication', key)}")
    lines.append(f"request id: {request_id} (repeat it to retry without rotating twice)")
    print("\n".join(lines))


def _list(client: KeysClient, args: argparse.Namespace) -> None:
    keys = client.list_keys(args.department)
    if args.json:
        _print_json(licenses_pb2.ListIssuerKeysResponse(keys=keys))
    elif not keys:
        print(
            f"department {args.department} has published no keys: its first (eddsa) key is "
            "made on its first issuance, or by `certfree keys rotate`"
        )
    else:
        print(key_table(keys))
        for key in keys:
            if key.compromise_reason or key.HasField("compromise_marked_by"):
                print(_compromise_note(key))


def _compromise_note(key: licenses_pb2.IssuerKey) -> str:
    """Who marked a key compromised, when, and why: the record the trust registry keeps."""
    by = key.compromise_marked_by
    who = by.subject or "an operator"
    if by.department_code:
        who += f" of {by.department_code}"
    when = _time(key.compromise_marked_at) if key.HasField("compromise_marked_at") else "-"
    return f"key {key.key_id} marked compromised by {who} at {when}: {key.compromise_reason}"


def _compromised(client: KeysClient, args: argparse.Namespace) -> None:
    published = client.mark_compromised(args.department, args.key_id, args.since, args.reason)
    if args.json:
        _print_json(licenses_pb2.MarkIssuerKeyCompromisedResponse(key=published))
        return
    key = KeyRow.of(published)
    if published.HasField("not_after") and args.since > published.not_after.ToDatetime(UTC):
        print(
            f"note: key {key.key_id} stopped signing at {key.not_after}, before --since: "
            "no signature it made is affected (give the time the key was exposed)",
            file=sys.stderr,
        )
    print(
        f"compromised: key {key.key_id} of department {args.department} is distrusted from "
        f"{key.compromised_since}: signatures it made at or after then fail verification\n"
        f"state: {key.state}; it signs nothing more\n"
        f"{_compromise_note(published)}\n"
        f"ledger: {_attested('change', key)}"
    )


def _attested(what: str, key: KeyRow) -> str:
    if key.ledger_index == "-":
        return f"{what} not attested yet: the ledger has not accepted it"
    return f"{what} attested at index {key.ledger_index}"


def _print_json(message: Any) -> None:
    """Proto3 JSON with zero values included, as the gateway serves the same answer."""
    data = json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _department(value: str, option: str) -> str:
    try:
        check_uscc(value, option)
    except InvalidArgument as error:  # the code is an organisation's, not personal data
        raise CannotRun(f"{error.message} (a department is named by its USCC)") from None
    return value


def _target(args: argparse.Namespace) -> str:
    if args.licenses:
        return str(args.licenses)
    from runtime.config import ConfigError, load

    try:
        return load().target("licenses")
    except ConfigError as error:
        raise CannotRun(f"configuration error: {error}") from None


def run(args: argparse.Namespace) -> int:
    """Run the parsed ``certfree keys`` command; return its exit status."""
    name = f"certfree keys {args.keys_command}"
    try:
        _department(args.department, "--department")
        acting = _department(args.as_department or args.department, "--as-department")
        with KeysClient(_target(args), acting) as client:
            args.keys_run(client, args)
    except Refused as refused:
        print(f"{name}: refused: {refused}", file=sys.stderr)
        return EXIT_REFUSED
    except CannotRun as error:
        print(f"{name}: error: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    return EXIT_OK


# --- argparse --------------------------------------------------------------------------


def _since(text: str) -> datetime:
    try:
        return parse_rfc3339(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _paragraphs(*texts: str) -> str:
    """Texts wrapped for a terminal, blank lines between (argparse would join them)."""
    return "\n\n".join(textwrap.fill(text, 79) for text in texts)


def add_keys_commands(subparsers: Any) -> None:
    """Register ``certfree keys`` and its subcommands on the launcher's subparsers."""
    keys = subparsers.add_parser(
        "keys",
        help="operate departments' signing keys: rotate, list, compromised",
        description=_paragraphs(
            "Rotate, list and mark compromised a department's signing keys through the "
            "licenses service's gRPC API, acting in the operator role."
        ),
        epilog=_paragraphs(_IDENTITY_NOTE, _EXIT_STATUS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = keys.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--department", required=True, metavar="USCC", help="the department whose keys these are"
    )
    common.add_argument(
        "--as-department",
        metavar="USCC",
        help=(
            "the department the operator acts for, sent as x-certfree-department "
            "(default: --department); development identity only, mTLS comes later"
        ),
    )
    common.add_argument(
        "--licenses",
        metavar="HOST:PORT",
        help=(
            "the licenses service's gRPC address (default: CERTFREE_LICENSES_TARGET, else "
            "CERTFREE_LISTEN_HOST:CERTFREE_LICENSES_PORT)"
        ),
    )
    common.add_argument(
        "--json", action="store_true", help="print the service's answer as proto3 JSON"
    )

    def command(name: str, run: Callable[[KeysClient, argparse.Namespace], None], **kw: Any) -> Any:
        kw["description"] = _paragraphs(kw["description"])
        parser = commands.add_parser(
            name,
            parents=[common],
            epilog=_paragraphs(_IDENTITY_NOTE, _EXIT_STATUS),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            **kw,
        )
        parser.set_defaults(keys_run=run)
        return parser

    rotate = command(
        "rotate",
        _rotate,
        help="make a new signing key for a department; the old one retires",
        description=(
            "Make a new key the department signs with from now on; its previous key "
            "retires and keeps verifying what it signed. The publication is attested in "
            "the ledger. Idempotent under --request-id: a repeat says 'already done'."
        ),
    )
    rotate.add_argument(
        "--algorithm",
        choices=sorted(ALGORITHMS),
        default=DEFAULT_ALGORITHM,
        help=(
            f"eddsa (Ed25519), es256 (P-256) or sm2 (SM2 with SM3) (default: {DEFAULT_ALGORITHM})"
        ),
    )
    rotate.add_argument(
        "--request-id",
        metavar="ID",
        help=(
            "idempotency key, 1-128 of [A-Za-z0-9._:-] (default: a new one, printed so "
            "that a retry can reuse it)"
        ),
    )
    command(
        "list",
        _list,
        help="list a department's published keys, current and past",
        description=(
            "Print the department's keys, the active one first, then newest first: key id, "
            "algorithm, state, not before, not after, compromised since, ledger index."
        ),
    )
    compromised = command(
        "compromised",
        _compromised,
        help="distrust every signature a key made from a given time on",
        description=(
            "Mark a key compromised: every signature it made at or after --since fails "
            "verification from now on, and it signs nothing more. Attested in the ledger."
        ),
    )
    compromised.add_argument("--key-id", required=True, metavar="KID", help="the key's kid")
    compromised.add_argument(
        "--since",
        required=True,
        type=_since,
        metavar="RFC3339",
        help="from when to distrust it, e.g. 2026-03-01T09:30:00+08:00",
    )
    compromised.add_argument(
        "--reason",
        required=True,
        metavar="TEXT",
        help="why, in words (2-500 characters); attested as metadata, so no personal data",
    )
