"""GB/T 36904 license identifiers: real published identifiers, every refusal, round trips.

Real identifiers, issued by provincial e-license systems, whose MOD 37,36 check
verifies over type code + issuer + serial + version without dots (the choice this
module documents):

- ``1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U``:
  the format example of ``associatedZzeCertID`` in a Hunan data contract for
  construction-safety certificates (type code defined by the Ministry of Housing
  and Urban-Rural Development, USCC 11100000000013338W);
- ``1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0``: an
  OFD file name served by Zhejiang's investment-project platform (tzxm.zjzwfw.gov.cn).

Published examples that must be refused:

- ``...11100000000013661B006.113700000045046442.209FA4E88F9E4C878F3E9BED2CE7EA49.001.M``:
  a Swagger example from a certificate-sharing API; its parts are well formed but the
  check character is wrong (``D`` is right), as hand-written examples often are;
- ``1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9``: from a Hefei
  integration; its check verifies, but its issuer is a division code, not a USCC.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime.errors import InvalidArgument, InvalidState
from runtime.holders import USCC_ALPHABET, uscc_check_character
from runtime.iso7064 import ALPHANUMERIC, DIGITS, mod37_36_check
from services.licenses.identifier import (
    MAX_VERSION,
    NEW_SERIAL_LENGTH,
    ROOT,
    SERIAL_MAX_LENGTH,
    LicenseId,
    new_serial,
    parse,
)

HUNAN = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U"
ZHEJIANG = "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0"
SWAGGER = (
    "1.2.156.3005.2.11100000000013661B006.113700000045046442.209FA4E88F9E4C878F3E9BED2CE7EA49.001.M"
)
HEFEI = "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9"

TYPE_CODE = "11100000000013338W011"
ISSUER = "11350100MB01234565"  # the market regulation department of tests/conftest.py


@st.composite
def usccs(draw: st.DrawFn) -> str:
    """Valid USCCs with correct check characters."""
    head = draw(st.text(alphabet=USCC_ALPHABET, min_size=2, max_size=2))
    division = draw(st.text(alphabet=DIGITS, min_size=6, max_size=6))
    body = draw(st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9))
    return head + division + body + uscc_check_character(head + division + body)


license_ids = st.builds(
    LicenseId,
    type_code=st.builds(
        lambda uscc, number: uscc + number, usccs(), st.text(DIGITS, min_size=3, max_size=3)
    ),
    issuer=usccs(),
    serial=st.text(ALPHANUMERIC, min_size=1, max_size=SERIAL_MAX_LENGTH),
    version=st.integers(1, MAX_VERSION),
)


def refused(text: str, field: str = "license_id") -> InvalidArgument:
    """Parse `text` expecting a refusal on `field`; return the error."""
    with pytest.raises(InvalidArgument) as caught:
        LicenseId.parse(text, field)
    assert [v.field for v in caught.value.field_violations] == [field]
    return caught.value


def description(error: InvalidArgument) -> str:
    """The one field violation's description."""
    return error.field_violations[0].description


class TestPublishedIdentifiers:
    """Real identifiers parse into their parts and print back byte for byte."""

    def test_hunan_identifier(self) -> None:
        """The Hunan example parses; its check U covers the parts without dots."""
        license_id = LicenseId.parse(HUNAN)
        assert license_id == LicenseId(TYPE_CODE, "11430000006122244L", "20230000403", 1)
        assert license_id.check == "U"
        assert mod37_36_check("11100000000013338W01111430000006122244L20230000403001") == "U"
        assert str(license_id) == HUNAN

    def test_zhejiang_identifier(self) -> None:
        """The Zhejiang file name parses as version 2 with check 0."""
        license_id = parse(ZHEJIANG)
        assert license_id.version == 2
        assert license_id.check == "0"
        assert str(license_id) == ZHEJIANG

    def test_swagger_example_has_a_wrong_check(self) -> None:
        """The hand-written API example is refused for its check character alone."""
        error = refused(SWAGGER)
        assert error.field_violations[0].reason == "WRONG_CHECK_CHARACTER"
        assert LicenseId.parse(SWAGGER[:-1] + "D").serial.startswith("209FA4E8")

    def test_identifier_without_a_uscc_issuer_is_refused(self) -> None:
        """Hefei's identifier has a division code where the issuer's USCC belongs."""
        assert description(refused(HEFEI)).startswith("the license issuer:")


class TestStructureRefusals:
    """Text that is not root.type.issuer.serial.version.check is refused on the field."""

    @pytest.mark.parametrize(
        ("text", "words"),
        [
            ("", "does not start with"),
            (HUNAN.replace("3005", "3006"), "does not start with"),
            (HUNAN.removesuffix(".U"), "4 parts"),
            (HUNAN + ".U", "6 parts"),
            (HUNAN.replace(".001.", ".1."), "version is not 3 digits"),
            (HUNAN.replace(".001.", ".0001."), "version is not 3 digits"),
            (HUNAN.replace(".001.", ".\uff10\uff10\uff11."), "version is not 3 digits"),
            (HUNAN.replace(".001.", ".000."), "version: is 0"),
            (HUNAN.removesuffix("U"), "check is not one character"),
            (HUNAN + "U", "check is not one character"),
            (HUNAN.replace(".U", ".u"), "check character is wrong"),
            (HUNAN.replace(".U", ".V"), "check character is wrong"),
            (HUNAN.replace("W011.", "W01.", 1), "type code: has 20 characters"),
            (HUNAN.replace("W011.", "W0A1.", 1), "type code: the last 3"),
            (HUNAN.replace("13338W", "13338X", 1), "type code: the USCC's check"),
            (HUNAN.replace("244L", "244M", 1), "issuer: the USCC's check"),
            (HUNAN.replace(".20230000403.", ".2023000040a."), "serial: uses characters"),
            (HUNAN.replace(".20230000403.", ".."), "serial: has 0 characters"),
            (HUNAN.replace(".20230000403.", "." + "9" * 65 + "."), "longer than"),
            (HUNAN + "0" * 200, "longer than"),
        ],
    )
    def test_refused(self, text: str, words: str) -> None:
        """Each malformation is refused and the description says which rule broke."""
        assert words in description(refused(text))

    def test_field_name_is_the_callers(self) -> None:
        """Violations land on the field the caller names."""
        refused(HUNAN.replace(".U", ".V"), field="request.license_id")


class TestConstruction:
    """Building an identifier from parts validates each part under its own name."""

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"type_code": TYPE_CODE[:-1]}, "type_code"),
            ({"issuer": ISSUER.lower()}, "issuer"),
            ({"serial": ""}, "serial"),
            ({"serial": "ab"}, "serial"),
            ({"serial": "9" * (SERIAL_MAX_LENGTH + 1)}, "serial"),
            ({"version": 0}, "version"),
            ({"version": MAX_VERSION + 1}, "version"),
            ({"version": True}, "version"),
        ],
    )
    def test_bad_part(self, changes: dict[str, object], field: str) -> None:
        """A bad part is an InvalidArgument naming that part."""
        parts: dict[str, object] = {
            "type_code": TYPE_CODE,
            "issuer": ISSUER,
            "serial": "A1",
            "version": 1,
        }
        parts.update(changes)
        with pytest.raises(InvalidArgument) as caught:
            LicenseId(**parts)  # type: ignore[arg-type]
        assert caught.value.field_violations[0].field == field

    def test_str_pads_the_version(self) -> None:
        """Version 7 prints as 007 before the check."""
        text = str(LicenseId(TYPE_CODE, ISSUER, "A1", 7))
        assert text.startswith(f"{ROOT}.{TYPE_CODE}.{ISSUER}.A1.007.")

    def test_is_frozen(self) -> None:
        """Identifiers are values."""
        license_id = LicenseId(TYPE_CODE, ISSUER, "A1", 1)
        with pytest.raises(dataclasses.FrozenInstanceError):
            license_id.version = 2  # type: ignore[misc]


class TestVersions:
    """Reissuing keeps the license and moves the version, up to 999."""

    def test_next_version(self) -> None:
        """Version 1 becomes 2, with a new check character computed."""
        first = LicenseId.parse(HUNAN)
        second = first.next_version()
        assert (second.type_code, second.issuer, second.serial) == (
            first.type_code,
            first.issuer,
            first.serial,
        )
        assert second.version == 2
        assert LicenseId.parse(str(second)) == second

    def test_no_version_after_999(self) -> None:
        """Version 999 has no successor."""
        with pytest.raises(InvalidState):
            LicenseId(TYPE_CODE, ISSUER, "A1", MAX_VERSION).next_version()


class TestNewSerial:
    """Serials are random, well formed and unrelated to anything about the holder."""

    def test_shape(self) -> None:
        """16 characters of 0-9A-Z that make a valid identifier."""
        serial = new_serial()
        assert len(serial) == NEW_SERIAL_LENGTH
        assert set(serial) <= set(ALPHANUMERIC)
        LicenseId(TYPE_CODE, ISSUER, serial, 1)

    def test_serials_differ(self) -> None:
        """A thousand draws give a thousand serials."""
        assert len({new_serial() for _ in range(1000)}) == 1000


class TestProperties:
    """For any valid parts: round trips hold and any single-character change is refused."""

    @given(license_ids)
    def test_round_trip(self, license_id: LicenseId) -> None:
        """parse(str(x)) == x and str(parse(t)) == t."""
        text = str(license_id)
        assert LicenseId.parse(text) == license_id
        assert str(LicenseId.parse(text)) == text

    @given(license_ids, st.data())
    def test_any_single_change_is_refused(self, license_id: LicenseId, data: st.DataObject) -> None:
        """Substituting any character, root and dots included, makes the text invalid."""
        text = str(license_id)
        index = data.draw(st.integers(0, len(text) - 1))
        replacement = data.draw(
            st.sampled_from([c for c in ALPHANUMERIC + "." if c != text[index]])
        )
        with pytest.raises(InvalidArgument):
            LicenseId.parse(text[:index] + replacement + text[index + 1 :])
