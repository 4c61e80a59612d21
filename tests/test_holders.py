"""Resident IDs, USCCs and the holder index: published samples, every rule, no leaks.

Samples and where they come from:

- ``11010519491231002X``: the example resident ID printed in GB 11643-1999.
- ``91350100M000100Y43``: the USCC sample widely reproduced in GB 32100 explanations.
- ``11350100MB01234565`` and ``11350181MB12345671``: the departments of
  ``tests/conftest.py``; both have correct check characters.
- ``11100000000013338W``, ``11430000006122244L``, ``11330105002500287C``,
  ``113700000045046442``: issuers and type-code owners inside real GB/T 36904 license
  identifiers published by provincial systems (see ``tests/test_identifier.py``).
- ``91310115MA1H8R7C6D``: a blog's "valid" example whose check character is wrong
  (the right one is ``7``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime.errors import InvalidArgument
from runtime.holders import (
    BAD_CHARACTER,
    BAD_DATE_OF_BIRTH,
    USCC_ALPHABET,
    WRONG_CHECK_CHARACTER,
    WRONG_LENGTH,
    HolderIndex,
    check_resident_id,
    check_uscc,
    resident_id_check_character,
    uscc_check_character,
)
from runtime.iso7064 import DIGITS

GB11643_SAMPLE = "11010519491231002X"
USCC_SAMPLES = [
    "91350100M000100Y43",
    "11350100MB01234565",
    "11350181MB12345671",
    "11100000000013338W",
    "11430000006122244L",
    "11330105002500287C",
    "113700000045046442",
]
KEY = bytes(range(32))


def refusal(
    value: str, check: Callable[[str, str], None], field: str = "holder"
) -> InvalidArgument:
    """Run a check expected to refuse `value`; return the error after checking it leaks nothing."""
    with pytest.raises(InvalidArgument) as caught:
        check(value, field)
    error = caught.value
    assert len(error.field_violations) == 1
    violation = error.field_violations[0]
    assert violation.field == field
    for text in (str(error), violation.description):
        assert not value or value not in text
        if len(value) >= 10:
            assert value[:10] not in text
            assert value[6:14] not in text  # the date of birth alone is personal data too
    return error


def reason(error: InvalidArgument) -> str:
    """The one field violation's reason."""
    return error.field_violations[0].reason


def with_check(first17: str) -> str:
    """A resident ID completed with its check character."""
    return first17 + resident_id_check_character(first17)


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    """Valid resident IDs: any address and sequence, any birth date from 1900 to today."""
    address = draw(st.text(alphabet=DIGITS, min_size=6, max_size=6))
    born = draw(st.dates(date(1900, 1, 1), date.today() - timedelta(days=1)))
    sequence = draw(st.text(alphabet=DIGITS, min_size=3, max_size=3))
    return with_check(address + born.strftime("%Y%m%d") + sequence)


@st.composite
def usccs(draw: st.DrawFn) -> str:
    """Valid USCCs: any code characters, a six-digit division code, the computed check."""
    head = draw(st.text(alphabet=USCC_ALPHABET, min_size=2, max_size=2))
    division = draw(st.text(alphabet=DIGITS, min_size=6, max_size=6))
    body = draw(st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9))
    first17 = head + division + body
    return first17 + uscc_check_character(first17)


class TestResidentIdSamples:
    """The standard's sample ID passes and its check character is recomputed."""

    def test_gb11643_sample_is_valid(self) -> None:
        """11010519491231002X passes; its check character is X."""
        check_resident_id(GB11643_SAMPLE, "holder")
        assert resident_id_check_character(GB11643_SAMPLE[:17]) == "X"

    def test_check_character_needs_17_digits(self) -> None:
        """Anything but 17 digits is a ValueError."""
        with pytest.raises(ValueError):
            resident_id_check_character("1101051949123100")
        with pytest.raises(ValueError):
            resident_id_check_character("1101051949123100A")


class TestResidentIdRefusals:
    """Each broken rule is refused with its own reason and without echoing the ID."""

    @pytest.mark.parametrize("value", ["", GB11643_SAMPLE[:17], GB11643_SAMPLE + "0"])
    def test_wrong_length(self, value: str) -> None:
        """Not 18 characters."""
        assert reason(refusal(value, check_resident_id)) == WRONG_LENGTH

    @pytest.mark.parametrize(
        "value",
        [
            "11010519491231002x",
            "1101051949123100X2",
            "A1010519491231002X",
            "１" + GB11643_SAMPLE[1:],
        ],
    )
    def test_bad_character(self, value: str) -> None:
        """A letter other than a final uppercase X, or a non-ASCII digit."""
        error = refusal(value, check_resident_id)
        assert reason(error) == BAD_CHARACTER
        assert "position" in error.field_violations[0].description

    @pytest.mark.parametrize("birth", ["19000229", "19491331", "19490230", "18991231", "00000000"])
    def test_bad_date_of_birth(self, birth: str) -> None:
        """Not a calendar date (1900 was no leap year), or before 1900."""
        value = with_check("110105" + birth + "002")
        assert reason(refusal(value, check_resident_id)) == BAD_DATE_OF_BIRTH

    def test_date_of_birth_in_the_future(self) -> None:
        """Born tomorrow is refused; born today is fine."""
        today = date(2024, 5, 1)
        check_resident_id(with_check("110105" + "20240501" + "002"), "holder", today=today)
        with pytest.raises(InvalidArgument) as caught:
            check_resident_id(with_check("110105" + "20240502" + "002"), "holder", today=today)
        assert reason(caught.value) == BAD_DATE_OF_BIRTH

    def test_leap_day_and_earliest_date_are_accepted(self) -> None:
        """2000-02-29 and 1900-01-01 are real dates in range."""
        check_resident_id(with_check("110105" + "20000229" + "002"), "holder")
        check_resident_id(with_check("110105" + "19000101" + "002"), "holder")

    def test_wrong_check_character(self) -> None:
        """The sample with check 0 instead of X."""
        error = refusal(GB11643_SAMPLE[:17] + "0", check_resident_id)
        assert reason(error) == WRONG_CHECK_CHARACTER
        assert error.field_violations[0].description == "the resident ID's check character is wrong"


class TestResidentIdProperties:
    """Any well-formed ID validates; any single-character change is refused."""

    @given(resident_ids())
    def test_valid_ids_pass(self, value: str) -> None:
        """Address, date and sequence plus the computed check pass."""
        check_resident_id(value, "holder")

    @given(resident_ids(), st.data())
    def test_any_single_change_is_refused(self, value: str, data: st.DataObject) -> None:
        """Changing one character (to a digit or X) is caught by some rule."""
        index = data.draw(st.integers(0, 17))
        replacement = data.draw(st.sampled_from([c for c in DIGITS + "X" if c != value[index]]))
        changed = value[:index] + replacement + value[index + 1 :]
        refusal(changed, check_resident_id)


class TestUsccSamples:
    """Published and real USCCs pass; a wrongly published one does not."""

    @pytest.mark.parametrize("value", USCC_SAMPLES)
    def test_samples_are_valid(self, value: str) -> None:
        """Each sample passes and its check character is recomputed."""
        check_uscc(value, "issuer")
        assert uscc_check_character(value[:17]) == value[17]

    def test_blog_example_has_a_wrong_check_character(self) -> None:
        """91310115MA1H8R7C6D is refused: its check character should be 7."""
        error = refusal("91310115MA1H8R7C6D", check_uscc)
        assert reason(error) == WRONG_CHECK_CHARACTER
        assert uscc_check_character("91310115MA1H8R7C6") == "7"

    def test_check_31_is_written_0(self) -> None:
        """A weighted sum ≡ 0 (mod 31) gives check 0, not a 32nd character."""
        assert uscc_check_character("0" * 17) == "0"
        check_uscc("0" * 18, "issuer")


class TestUsccRefusals:
    """Each broken rule is refused with its own reason."""

    @pytest.mark.parametrize("value", ["", "91350100M000100Y4", "91350100M000100Y433"])
    def test_wrong_length(self, value: str) -> None:
        """Not 18 characters."""
        assert reason(refusal(value, check_uscc)) == WRONG_LENGTH

    @pytest.mark.parametrize(
        "value",
        [
            "91350100M000100I43",  # I is not used
            "91350100MO00100Y43",  # nor O
            "91350100M000100S43",  # nor S
            "91350100m000100Y43",  # lowercase
            "9135A100M000100Y43",  # the division code is digits
        ],
    )
    def test_bad_character(self, value: str) -> None:
        """Characters outside the code's alphabet, and letters in the division code."""
        assert reason(refusal(value, check_uscc)) == BAD_CHARACTER

    def test_wrong_check_character(self) -> None:
        """The sample with another check character."""
        assert reason(refusal("91350100M000100Y44", check_uscc)) == WRONG_CHECK_CHARACTER


class TestUsccProperties:
    """Any 17 code characters plus the check validate; any single change is refused."""

    @given(usccs())
    def test_valid_codes_pass(self, value: str) -> None:
        """The computed check makes the code valid."""
        check_uscc(value, "issuer")

    @given(usccs(), st.data())
    def test_any_single_change_is_refused(self, value: str, data: st.DataObject) -> None:
        """Weights are non-zero modulo the prime 31, so every substitution shows."""
        index = data.draw(st.integers(0, 17))
        alphabet = USCC_ALPHABET + "IOZSV"
        replacement = data.draw(st.sampled_from([c for c in alphabet if c != value[index]]))
        refusal(value[:index] + replacement + value[index + 1 :], check_uscc)


class TestHolderIndex:
    """Tokens are keyed, stable, typed by kind, and computed only for valid identifiers."""

    def test_known_answer(self) -> None:
        """The token is the documented HMAC-SHA-256, recomputed here with the stdlib."""
        mac = hmac.new(KEY, b"certfree holder v1\x00person\x00" + GB11643_SAMPLE.encode(), "sha256")
        expected = "p:" + base64.b32encode(mac.digest()[:16]).decode().rstrip("=").lower()
        assert HolderIndex(KEY).of_resident_id(GB11643_SAMPLE) == expected

    def test_token_shape(self) -> None:
        """``p:`` or ``o:`` then 26 lowercase base32 characters (128 bits)."""
        index = HolderIndex(KEY)
        assert re.fullmatch(r"p:[a-z2-7]{26}", index.of_resident_id(GB11643_SAMPLE))
        assert re.fullmatch(r"o:[a-z2-7]{26}", index.of_uscc(USCC_SAMPLES[0]))

    def test_same_key_same_token(self) -> None:
        """Two instances with one key agree, so every replica finds the same holder."""
        assert HolderIndex(KEY).of_uscc(USCC_SAMPLES[0]) == HolderIndex(KEY).of_uscc(
            USCC_SAMPLES[0]
        )

    def test_other_key_other_token(self) -> None:
        """Without the key the token cannot be recomputed."""
        other = HolderIndex(bytes(range(1, 33)))
        assert other.of_resident_id(GB11643_SAMPLE) != HolderIndex(KEY).of_resident_id(
            GB11643_SAMPLE
        )

    def test_token_is_not_a_plain_hash(self) -> None:
        """Hashing the ID (with or without the domain prefix) does not give the token."""
        token = HolderIndex(KEY).of_resident_id(GB11643_SAMPLE)
        for data in (
            GB11643_SAMPLE.encode(),
            b"certfree holder v1\x00person\x00" + GB11643_SAMPLE.encode(),
        ):
            digest = hashlib.sha256(data).digest()[:16]
            assert token[2:] != base64.b32encode(digest).decode().rstrip("=").lower()
            assert token[2:] != digest.hex()

    def test_short_key_is_refused(self) -> None:
        """Keys under 32 bytes raise ValueError."""
        with pytest.raises(ValueError, match="32 bytes"):
            HolderIndex(bytes(31))

    def test_repr_hides_the_key(self) -> None:
        """Logging the index does not log its key."""
        assert KEY.hex() not in repr(HolderIndex(KEY))
        assert repr(KEY) not in repr(HolderIndex(KEY))

    def test_invalid_identifiers_are_refused(self) -> None:
        """A mistyped ID is refused on the named field instead of indexed apart."""
        index = HolderIndex(KEY)
        with pytest.raises(InvalidArgument) as caught:
            index.of_resident_id(GB11643_SAMPLE.lower())
        assert caught.value.field_violations[0].field == "holder.resident_id"
        with pytest.raises(InvalidArgument) as caught:
            index.of_uscc("91350100M000100Y44", field="holder_id")
        assert caught.value.field_violations[0].field == "holder_id"

    def test_person_and_organisation_tokens_differ(self) -> None:
        """For a string valid as both kinds, the kind inside the MAC input separates them."""
        both = next(
            first17 + resident_id_check_character(first17)
            for first17 in (f"11010519491231{n:03d}" for n in range(1000))
            if resident_id_check_character(first17) == uscc_check_character(first17)
        )
        index = HolderIndex(KEY)
        assert index.of_resident_id(both)[2:] != index.of_uscc(both)[2:]
