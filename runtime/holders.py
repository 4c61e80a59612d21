"""Holder identifiers: resident IDs (GB 11643-1999), USCCs (GB 32100-2015), and their index.

Shortest use::

    check_resident_id("11010519491231002X", "holder.resident_id")  # None, or InvalidArgument
    check_uscc("91350100M000100Y43", "issuer")
    index = HolderIndex(key)              # key: 32+ secret bytes from the deployment's keys
    index.of_resident_id("11010519491231002X")   # "p:..." token to store and look up by

A resident ID is personal data. The checks here therefore never put the value in an
exception: each failure is an :class:`~runtime.errors.InvalidArgument` with one
:class:`~runtime.errors.FieldViolation` that names the field and what is wrong
("the resident ID's check character is wrong"), since errors reach logs and clients.

Services never store or index a holder by the raw identifier: they use
:class:`HolderIndex`, a keyed HMAC, so that the store and its backups do not hold a
table from which resident IDs can be read back.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Literal

from cryptography.hazmat.primitives import hashes, hmac

from genproto.certfree.common.v1 import common_pb2
from runtime.errors import FieldViolation, InvalidArgument
from runtime.iso7064 import DIGITS, mod11_2_check

HolderKindName = Literal["person", "organisation"]
"""A holder's kind as people type it: a person (resident ID) or an organisation (USCC)."""

RESIDENT_ID_LENGTH = 18
USCC_LENGTH = 18

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""GB 32100 code characters by value: digits and 21 capitals, without I, O, Z, S, V."""

USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
"""GB 32100 weights of positions 1-17: 3^(i-1) mod 31."""

EARLIEST_BIRTH_DATE = date(1900, 1, 1)
"""No resident ID in use carries an earlier date of birth; earlier ones are typing errors."""

CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")
"""Dates of birth are dates in China (UTC+8, no daylight saving), whatever the server's zone."""

MIN_INDEX_KEY_SIZE = 32
"""Shortest :class:`HolderIndex` key, in bytes: the full strength of HMAC-SHA-256."""

INDEX_TAG_SIZE = 16
"""Bytes of the HMAC kept in a token: 128 bits, far beyond any collision among holders."""

# Field violation reasons (google.rpc.BadRequest.FieldViolation.reason), stable for clients.
WRONG_LENGTH = "WRONG_LENGTH"
BAD_CHARACTER = "BAD_CHARACTER"
BAD_DATE_OF_BIRTH = "BAD_DATE_OF_BIRTH"
WRONG_CHECK_CHARACTER = "WRONG_CHECK_CHARACTER"
AMBIGUOUS_KIND = "AMBIGUOUS_KIND"
NOT_AN_IDENTIFIER = "NOT_AN_IDENTIFIER"

_USCC_VALUES = {char: value for value, char in enumerate(USCC_ALPHABET)}
_INDEX_DOMAIN = b"certfree holder v1\x00"
_INDEX_TOKEN = re.compile(r"^[po]:[a-z2-7]{26}$")  # 16 bytes: 26 base32 characters


def _refuse(field: str, description: str, reason: str) -> InvalidArgument:
    return InvalidArgument(
        f"{field}: {description}",
        field_violations=[FieldViolation(field, description, reason)],
    )


# --- resident ID (居民身份证号码, GB 11643-1999) --------------------------------------


def resident_id_check_character(first17: str) -> str:
    """Return the check character (``0``-``9`` or ``X``) for the first 17 digits of a resident ID.

    GB 11643 uses ISO 7064 MOD 11-2. Raises :class:`ValueError` unless `first17` is
    exactly 17 ASCII digits; the message does not repeat them.
    """
    if len(first17) != RESIDENT_ID_LENGTH - 1:
        raise ValueError(f"a resident ID has 17 digits before the check, not {len(first17)}")
    return mod11_2_check(first17)


def check_resident_id(value: str, field: str, *, today: date | None = None) -> None:
    """Raise :class:`InvalidArgument` on `field` unless `value` is a well-formed resident ID.

    Checks, in order: 18 characters; 17 digits then a digit or uppercase ``X``; a
    date of birth (positions 7-14, YYYYMMDD) that is a real calendar date, not
    before 1900-01-01 and not after `today` (default: today in China); the
    MOD 11-2 check character. The address code (positions 1-6) is only checked to
    be digits: GB/T 2260 codes change every year and old IDs keep old codes.
    """
    if len(value) != RESIDENT_ID_LENGTH:
        raise _refuse(field, f"a resident ID has 18 characters, not {len(value)}", WRONG_LENGTH)
    for position, char in enumerate(value, 1):
        if char in DIGITS or (position == RESIDENT_ID_LENGTH and char == "X"):
            continue
        what = "a digit or an uppercase X" if position == RESIDENT_ID_LENGTH else "a digit"
        raise _refuse(
            field,
            f"the resident ID's character at position {position} is not {what}",
            BAD_CHARACTER,
        )
    _check_birth_date(value[6:14], field, today)
    if resident_id_check_character(value[:17]) != value[17]:
        raise _refuse(field, "the resident ID's check character is wrong", WRONG_CHECK_CHARACTER)


def _check_birth_date(digits: str, field: str, today: date | None) -> None:
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise _refuse(
            field, "the resident ID's date of birth is not a calendar date", BAD_DATE_OF_BIRTH
        ) from None
    if born < EARLIEST_BIRTH_DATE:
        raise _refuse(
            field, "the resident ID's date of birth is before 1900-01-01", BAD_DATE_OF_BIRTH
        )
    if today is None:
        today = datetime.now(CHINA_STANDARD_TIME).date()
    if born > today:
        raise _refuse(field, "the resident ID's date of birth is in the future", BAD_DATE_OF_BIRTH)


# --- unified social credit code (统一社会信用代码, GB 32100-2015) ------------------------


def uscc_check_character(first17: str) -> str:
    """Return the GB 32100 check character for the first 17 characters of a USCC.

    The check makes the weighted sum of all 18 values ≡ 0 (mod 31): it is
    ``31 - (Σ value × weight mod 31)``, with 31 written ``0``. Raises
    :class:`ValueError` unless `first17` is 17 characters of :data:`USCC_ALPHABET`.
    """
    if len(first17) != USCC_LENGTH - 1:
        raise ValueError(f"a USCC has 17 characters before the check, not {len(first17)}")
    total = 0
    for position, (char, weight) in enumerate(zip(first17, USCC_WEIGHTS, strict=True), 1):
        value = _USCC_VALUES.get(char)
        if value is None:
            raise ValueError(f"the USCC's character at position {position} is not allowed")
        total += value * weight
    return USCC_ALPHABET[(31 - total % 31) % 31]


def check_uscc(value: str, field: str) -> None:
    """Raise :class:`InvalidArgument` on `field` unless `value` is a well-formed USCC.

    Checks, in order: 18 characters; every character from :data:`USCC_ALPHABET`
    (digits and capitals without I, O, Z, S, V); positions 3-8, the registering
    authority's administrative division code, are digits; the check character.
    The registration-authority and organisation-type codes (positions 1-2) are not
    checked against their tables, which the authorities extend.
    """
    if len(value) != USCC_LENGTH:
        raise _refuse(field, f"a USCC has 18 characters, not {len(value)}", WRONG_LENGTH)
    for position, char in enumerate(value, 1):
        if char not in _USCC_VALUES:
            raise _refuse(
                field,
                f"the USCC's character at position {position} is not a digit or an allowed "
                "capital (I, O, Z, S, V and lowercase are not used)",
                BAD_CHARACTER,
            )
        if 3 <= position <= 8 and char not in DIGITS:
            raise _refuse(
                field,
                f"the USCC's character at position {position} is not a digit "
                "(positions 3-8 are an administrative division code)",
                BAD_CHARACTER,
            )
    if uscc_check_character(value[:17]) != value[17]:
        raise _refuse(field, "the USCC's check character is wrong", WRONG_CHECK_CHARACTER)


def _failure(check: Callable[[str, str], None], value: str, field: str) -> str | None:
    """Why `check` refuses `value`, or None when it passes."""
    try:
        check(value, field)
    except InvalidArgument as error:
        return "; ".join(v.description for v in error.field_violations)
    return None


# --- the index -----------------------------------------------------------------------


class HolderIndex:
    """Turns holder identifiers into opaque tokens: the only way services index holders.

    A token is ``p:`` (person) or ``o:`` (organisation) followed by the unpadded,
    lowercase base32 of the first 16 bytes of
    ``HMAC-SHA-256(key, "certfree holder v1" 0x00 kind 0x00 identifier)``.

    Why a keyed HMAC and not a plain hash: there are only about 10^11 plausible
    resident IDs (some 3,500 address codes × ~45,000 dates of birth × 1,000
    sequence numbers; the check character follows from the rest). Anyone holding a
    store dump could hash them all in minutes on one GPU and read every holder's ID
    back from a plain SHA-256 index. Without the key, the tokens reveal nothing;
    with it, the deployment can still find a holder's licenses by equality.
    The kind in the input keeps a person's and an organisation's tokens apart even
    if one day an identifier were valid as both. Rotating the key means re-indexing.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        """Keep `key`, which must be at least 32 bytes (raise :class:`ValueError` if not)."""
        if len(key) < MIN_INDEX_KEY_SIZE:
            raise ValueError(
                f"a holder index key needs at least {MIN_INDEX_KEY_SIZE} bytes, got {len(key)}"
            )
        self._key = bytes(key)

    def __repr__(self) -> str:
        return "HolderIndex(key=<hidden>)"

    def of_resident_id(self, value: str, field: str = "holder.resident_id") -> str:
        """Return the ``p:`` token of a resident ID, after :func:`check_resident_id` on `field`.

        Checking first means one person has one token: a mistyped ID is refused
        instead of silently indexed apart.
        """
        check_resident_id(value, field)
        return "p:" + self._tag(b"person", value)

    def of_uscc(self, value: str, field: str = "holder.uscc") -> str:
        """Return the ``o:`` token of a USCC, after :func:`check_uscc` on `field`."""
        check_uscc(value, field)
        return "o:" + self._tag(b"organisation", value)

    def of_ref(self, holder: common_pb2.HolderRef, field: str = "holder") -> str:
        """The token of a holder reference (a resident ID or a USCC); INVALID_ARGUMENT
        naming ``<field>.resident_id``/``.uscc`` for a wrong check character, or `field`
        when the reference names no one."""
        if holder.WhichOneof("id") == "resident_id":
            return self.of_resident_id(holder.resident_id, f"{field}.resident_id")
        if holder.WhichOneof("id") == "uscc":
            return self.of_uscc(holder.uscc, f"{field}.uscc")
        raise InvalidArgument(
            "the holder has no identifier", field_violations=[FieldViolation(field, "required")]
        )

    def of_identifier(
        self, value: str, kind: HolderKindName | None = None, field: str = "holder_id"
    ) -> str:
        """Return the token of `value`, a resident ID or a USCC, of `kind` if given.

        Without `kind`, the identifier's checks decide: a valid resident ID gets its ``p:``
        token, a valid USCC its ``o:`` token. Only 18 digits can pass both checks (rarely:
        the date of birth, MOD 11-2 and mod 31 must all hold); such a value is refused on
        `field` with reason ``AMBIGUOUS_KIND`` rather than guessed, so a holder never gets
        another's token. A value that passes neither is refused naming both failures.
        """
        if kind == "person":
            return self.of_resident_id(value, field)
        if kind == "organisation":
            return self.of_uscc(value, field)
        as_person = _failure(check_resident_id, value, field)
        as_organisation = _failure(check_uscc, value, field)
        if as_person is None and as_organisation is None:
            raise _refuse(
                field,
                "the ID is valid both as a resident ID and as a USCC; say which kind it is",
                AMBIGUOUS_KIND,
            )
        if as_person is None:
            return "p:" + self._tag(b"person", value)
        if as_organisation is None:
            return "o:" + self._tag(b"organisation", value)
        raise _refuse(
            field,
            f"neither a resident ID ({as_person}) nor a USCC ({as_organisation})",
            NOT_AN_IDENTIFIER,
        )

    def _tag(self, kind: bytes, value: str) -> str:
        mac = hmac.HMAC(self._key, hashes.SHA256())
        mac.update(_INDEX_DOMAIN + kind + b"\x00" + value.encode("ascii"))
        digest = mac.finalize()[:INDEX_TAG_SIZE]
        return base64.b32encode(digest).decode("ascii").rstrip("=").lower()


def is_index_token(value: str) -> bool:
    """Whether `value` has the form of a :class:`HolderIndex` token (``p:``/``o:`` and 26
    lowercase base32 characters).

    Only the form: whether it is some holder's token needs the key and the identifier.
    A holder's bearer token carries their index token as its subject, so this is how a
    subject is told apart from a staff or system name.
    """
    return bool(_INDEX_TOKEN.match(value))
