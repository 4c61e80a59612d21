"""The GB/T status of a license, the moves between statuses, and their status-list values.

Pure rules, no I/O. A license's status changes only along the table below; amending
a license is not a status change (it issues a new version, linked to its
predecessor, which keeps its own status). Every status has a fixed value in the
issuer's IETF Token Status List (see :mod:`services.licenses.status_list`), fixed by
``protos/certfree/licenses/v1/licenses.proto``: the draft's registered values where
they mean the same thing (VALID 0x00, INVALID 0x01, SUSPENDED 0x02), the rest in the
ranges the draft reserves as application specific (0x03, 0x0C to 0x0F). The largest
value is 0x0E, so the lists use 4 bits per license.

Allowed transitions:

| from | may become | why |
|---|---|---|
| VALID (有效) | any other status | the normal life of a license |
| SUSPENDED (暂停) | VALID, REVOKED, CANCELLED, EXPIRED, WITHDRAWN | suspension is temporary |
| REVOKED (撤销) | nothing: final | annulled; reviving it would revive every proof built on it |
| CANCELLED (注销) | nothing: final | the holder gave it up or ceased to exist |
| EXPIRED (过期) | nothing: final | its validity is over; renewal issues a new license |
| TRANSFERRED (转让) | nothing: final | it belongs to another holder now, who gets a new license |
| WITHDRAWN (收回/废止) | nothing: final | taken back by the issuer; only reissuing restores it |

A suspended license cannot be transferred: the suspension is lifted first. A move to
the status a license already has is refused too: it changes nothing and would record
a change that did not happen (idempotent retries are matched by request id before
this rule is reached).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from genproto.certfree.licenses.v1 import licenses_pb2
from genproto.certfree.licenses.v1.licenses_pb2 import LicenseStatus
from runtime.errors import FieldViolation, InvalidArgument, InvalidState

VALID = licenses_pb2.LICENSE_STATUS_VALID
SUSPENDED = licenses_pb2.LICENSE_STATUS_SUSPENDED
REVOKED = licenses_pb2.LICENSE_STATUS_REVOKED
CANCELLED = licenses_pb2.LICENSE_STATUS_CANCELLED
EXPIRED = licenses_pb2.LICENSE_STATUS_EXPIRED
TRANSFERRED = licenses_pb2.LICENSE_STATUS_TRANSFERRED
WITHDRAWN = licenses_pb2.LICENSE_STATUS_WITHDRAWN

STATUSES: tuple[LicenseStatus, ...] = (
    VALID,
    SUSPENDED,
    REVOKED,
    CANCELLED,
    EXPIRED,
    TRANSFERRED,
    WITHDRAWN,
)
"""Every real status, in the order of the enum (UNSPECIFIED is not a status)."""

TRANSITIONS: Mapping[LicenseStatus, frozenset[LicenseStatus]] = MappingProxyType(
    {
        VALID: frozenset({SUSPENDED, REVOKED, CANCELLED, EXPIRED, TRANSFERRED, WITHDRAWN}),
        SUSPENDED: frozenset({VALID, REVOKED, CANCELLED, EXPIRED, WITHDRAWN}),
        REVOKED: frozenset(),
        CANCELLED: frozenset(),
        EXPIRED: frozenset(),
        TRANSFERRED: frozenset(),
        WITHDRAWN: frozenset(),
    }
)
"""For each status, the statuses a license in it may move to (empty: the status is final)."""

STATUS_LIST_BITS = 4
"""Bits per license in the issuers' status lists: enough for the largest value, 0x0E."""

_LIST_VALUES: Mapping[LicenseStatus, int] = MappingProxyType(
    {
        VALID: 0x00,  # draft: VALID
        REVOKED: 0x01,  # draft: INVALID
        SUSPENDED: 0x02,  # draft: SUSPENDED
        CANCELLED: 0x03,  # application specific, as the draft reserves
        EXPIRED: 0x0C,
        TRANSFERRED: 0x0D,
        WITHDRAWN: 0x0E,
    }
)
_FROM_LIST_VALUES: Mapping[int, LicenseStatus] = MappingProxyType(
    {value: status for status, value in _LIST_VALUES.items()}
)


def status_name(status: int) -> str:
    """The short name of a status for messages: ``SUSPENDED`` for LICENSE_STATUS_SUSPENDED."""
    try:
        return LicenseStatus.Name(status).removeprefix("LICENSE_STATUS_")
    except ValueError:
        return f"unknown status {status}"


def is_final(status: LicenseStatus) -> bool:
    """Report whether a license in `status` can never change status again."""
    return not TRANSITIONS.get(status, frozenset())


def check_transition(current: LicenseStatus, new: LicenseStatus) -> None:
    """Raise unless a license in status `current` may move to status `new`.

    A `new` status that is not a status at all (UNSPECIFIED, or a number outside
    the enum) is a bad request: :class:`~runtime.errors.InvalidArgument` on the
    ``status`` field. A move the table refuses, including to the same status, is
    :class:`~runtime.errors.InvalidState`, whose message names both statuses and
    what `current` allows.
    """
    if new not in TRANSITIONS:
        raise InvalidArgument(
            f"{status_name(new)} is not a license status a license can move to",
            field_violations=[
                FieldViolation("status", "must be one of " + _names(STATUSES), "UNKNOWN_STATUS")
            ],
        )
    allowed = TRANSITIONS.get(current)
    if allowed is None:
        # The stored status itself is not a status: the record is damaged, not the request.
        raise InvalidState(f"the license's current status ({status_name(current)}) is not valid")
    if new in allowed:
        return
    metadata = {"from": status_name(current), "to": status_name(new)}
    if new == current:
        message = f"the license is already {status_name(current)}"
    elif not allowed:
        message = (
            f"a {status_name(current)} license cannot become {status_name(new)}: "
            f"{status_name(current)} is final"
        )
    else:
        message = (
            f"a {status_name(current)} license cannot become {status_name(new)}; "
            f"it may become {_names(allowed)}"
        )
    raise InvalidState(message, metadata=metadata)


def status_list_value(status: LicenseStatus) -> int:
    """The value a license in `status` has in its issuer's status list.

    Raises :class:`ValueError` for UNSPECIFIED or a number outside the enum.
    """
    try:
        return _LIST_VALUES[status]
    except KeyError:
        raise ValueError(f"{status_name(status)} has no status list value") from None


def status_from_list_value(value: int) -> LicenseStatus:
    """The license status a status-list value stands for.

    Raises :class:`ValueError` for a value no status maps to (the draft's other
    values, or anything our lists never contain).
    """
    try:
        return _FROM_LIST_VALUES[value]
    except KeyError:
        raise ValueError(f"status list value 0x{value:02X} is not a license status") from None


def _names(statuses: frozenset[LicenseStatus] | tuple[LicenseStatus, ...]) -> str:
    """Names in enum order, so messages read the same every time."""
    return ", ".join(status_name(s) for s in STATUSES if s in statuses)
