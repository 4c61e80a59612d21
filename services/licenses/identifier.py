"""The license identifier of GB/T 36904-2018 (电子证照 标识规范), with its check character.

An identifier reads::

    1.2.156.3005.2.<type code>.<issuer>.<serial>.<version>.<check>
    1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U

- ``1.2.156.3005.2``: the root OID of e-licenses (电子证照根代码);
- type code (证照类型代码), 21 characters: the USCC of the authority that defines
  the license type, then a 3-digit number it assigns;
- issuer (证照颁发机构代码): the issuing department's USCC;
- serial (流水号): chosen by the issuer, unique per type and issuer;
- version (版本号): 3 digits, ``001`` for the first issue of a license;
- check (校验位): ISO 7064 MOD 37,36 (GB/T 17710) over
  ``type code + issuer + serial + version`` concatenated, **without** the root and
  **without** dots.

What the check covers was settled against identifiers issued by provincial systems
(a Hunan construction-safety certificate and a Zhejiang investment-project file name;
see ``tests/test_identifier.py``) and against deployed issuing code that feeds exactly
that concatenation to its MOD 37,36 routine; the standard's text was not available.

Choices of ours where the standard leaves room or was not at hand: the serial is 1 to
64 characters of ``0-9A-Z`` (the MOD 37,36 alphabet, so lowercase is refused rather
than folded); versions run from 001 to 999; both USCCs must carry correct GB 32100
check characters, so identifiers from systems that put other codes there are refused.

Shortest use::

    license_id = LicenseId(type_code, issuer, new_serial(), 1)
    text = str(license_id)                      # what goes on the license
    LicenseId.parse(text) == license_id         # InvalidArgument if anything is off
    license_id.next_version()                   # the same license, reissued

Serials come from :func:`new_serial`, never from the holder: identifiers are printed,
shared and recorded, and must say nothing about who holds the license.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from runtime.errors import FieldViolation, InvalidArgument, InvalidState
from runtime.holders import (
    BAD_CHARACTER,
    USCC_LENGTH,
    WRONG_CHECK_CHARACTER,
    WRONG_LENGTH,
    check_uscc,
)
from runtime.iso7064 import ALPHANUMERIC, DIGITS, mod37_36_check

ROOT = "1.2.156.3005.2"
"""The root OID of e-license identifiers (GB/T 36904)."""

TYPE_CODE_LENGTH = USCC_LENGTH + 3
"""A type code is the defining authority's USCC and a 3-digit number."""

VERSION_DIGITS = 3
MAX_VERSION = 10**VERSION_DIGITS - 1

SERIAL_MAX_LENGTH = 64
"""Longest serial accepted (our bound); the longest seen in deployed systems is 32."""

NEW_SERIAL_LENGTH = 16
"""Characters in a :func:`new_serial`: 36^16 ≈ 2^82, so collisions stay negligible."""

MAX_TEXT_LENGTH = (
    len(ROOT) + TYPE_CODE_LENGTH + USCC_LENGTH + SERIAL_MAX_LENGTH + VERSION_DIGITS + 1 + 5
)
"""Longest identifier text: every part at its longest, the check, and five dots."""

BAD_STRUCTURE = "BAD_STRUCTURE"
"""Field violation reason: the text is not root.type.issuer.serial.version.check."""
BAD_VERSION = "BAD_VERSION"
"""Field violation reason: the version is not 001-999."""

_Refuse = Callable[[str, str, str], InvalidArgument]

_ALPHANUMERIC = frozenset(ALPHANUMERIC)
_DIGITS = frozenset(DIGITS)


def new_serial() -> str:
    """Return a fresh random serial: 16 characters of ``0-9A-Z`` from :mod:`secrets`."""
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(NEW_SERIAL_LENGTH))


@dataclass(frozen=True)
class LicenseId:
    """A GB/T 36904 license identifier; constructing one validates every part."""

    type_code: str
    """21 characters: the defining authority's USCC and a 3-digit type number."""
    issuer: str
    """The issuing department's USCC."""
    serial: str
    """1 to 64 characters of ``0-9A-Z``, unique per type code and issuer."""
    version: int
    """1 to 999; written with three digits."""

    def __post_init__(self) -> None:
        _check_parts(self.type_code, self.issuer, self.serial, self.version, None)

    @property
    def check(self) -> str:
        """The MOD 37,36 check character over type code, issuer, serial and version."""
        return mod37_36_check(self._checked_text())

    def __str__(self) -> str:
        return (
            f"{ROOT}.{self.type_code}.{self.issuer}.{self.serial}."
            f"{self.version:0{VERSION_DIGITS}d}.{self.check}"
        )

    @classmethod
    def parse(cls, text: str, field: str = "license_id") -> LicenseId:
        """Parse and check an identifier; raise :class:`InvalidArgument` on `field` if bad.

        Every failure names what is wrong (the structure, which part, or the check
        character) in one field violation. ``str(LicenseId.parse(t)) == t`` for
        every `t` that parses: there is one spelling per identifier.
        """
        if len(text) > MAX_TEXT_LENGTH:
            raise _refuse(
                field,
                f"the license identifier is longer than {MAX_TEXT_LENGTH} characters",
                WRONG_LENGTH,
            )
        if not text.startswith(ROOT + "."):
            raise _refuse(
                field, f"the license identifier does not start with {ROOT}.", BAD_STRUCTURE
            )
        parts = text[len(ROOT) + 1 :].split(".")
        if len(parts) != 5:
            raise _refuse(
                field,
                f"the license identifier has {len(parts)} parts after the root, expected 5 "
                "(type code, issuer, serial, version, check)",
                BAD_STRUCTURE,
            )
        type_code, issuer, serial, version_text, check = parts
        if len(version_text) != VERSION_DIGITS or not set(version_text) <= _DIGITS:
            raise _refuse(field, "the license identifier's version is not 3 digits", BAD_VERSION)
        if len(check) != 1:
            raise _refuse(
                field,
                "the license identifier's check is not one character",
                WRONG_CHECK_CHARACTER,
            )
        version = int(version_text)
        # Validate here first so that violations land on `field`, not on part names.
        _check_parts(type_code, issuer, serial, version, field)
        parsed = cls(type_code, issuer, serial, version)
        if parsed.check != check:
            raise _refuse(
                field,
                "the license identifier's check character is wrong",
                WRONG_CHECK_CHARACTER,
            )
        return parsed

    def next_version(self) -> LicenseId:
        """The same license one version later; :class:`InvalidState` after version 999."""
        if self.version >= MAX_VERSION:
            raise InvalidState(f"a license has no version after {MAX_VERSION}")
        return dataclasses.replace(self, version=self.version + 1)

    def _checked_text(self) -> str:
        return f"{self.type_code}{self.issuer}{self.serial}{self.version:0{VERSION_DIGITS}d}"


def parse(text: str, field: str = "license_id") -> LicenseId:
    """Same as :meth:`LicenseId.parse`."""
    return LicenseId.parse(text, field)


# --- validation ----------------------------------------------------------------------


def _refuse(field: str, description: str, reason: str) -> InvalidArgument:
    return InvalidArgument(
        f"{field}: {description}",
        field_violations=[FieldViolation(field, description, reason)],
    )


def _check_parts(type_code: str, issuer: str, serial: str, version: int, field: str | None) -> None:
    """Validate every part; violations go on `field`, or on the part's own name if None."""

    def refuse(part: str, description: str, reason: str) -> InvalidArgument:
        what = {
            "type_code": "the license type code",
            "issuer": "the license issuer",
            "serial": "the license serial",
            "version": "the license version",
        }[part]
        return _refuse(field or part, f"{what}: {description}", reason)

    if len(type_code) != TYPE_CODE_LENGTH:
        raise refuse(
            "type_code",
            f"has {len(type_code)} characters, expected {TYPE_CODE_LENGTH} "
            "(the defining authority's USCC and 3 digits)",
            WRONG_LENGTH,
        )
    _check_uscc_part(type_code[:USCC_LENGTH], "type_code", refuse)
    if not set(type_code[USCC_LENGTH:]) <= _DIGITS:
        raise refuse("type_code", "the last 3 characters are not digits", BAD_CHARACTER)
    _check_uscc_part(issuer, "issuer", refuse)
    if not 1 <= len(serial) <= SERIAL_MAX_LENGTH:
        raise refuse(
            "serial",
            f"has {len(serial)} characters, expected 1 to {SERIAL_MAX_LENGTH}",
            WRONG_LENGTH,
        )
    if not set(serial) <= _ALPHANUMERIC:
        raise refuse("serial", "uses characters other than digits and uppercase A-Z", BAD_CHARACTER)
    # bool is an int; a version of True would print as 001 and hide a bug.
    if isinstance(version, bool) or not isinstance(version, int):
        raise refuse("version", "is not an integer", BAD_VERSION)
    if not 1 <= version <= MAX_VERSION:
        raise refuse("version", f"is {version}, expected 1 to {MAX_VERSION}", BAD_VERSION)


def _check_uscc_part(value: str, part: str, refuse: _Refuse) -> None:
    try:
        check_uscc(value, part)
    except InvalidArgument as error:
        violation = error.field_violations[0]
        raise refuse(part, violation.description, violation.reason) from None
