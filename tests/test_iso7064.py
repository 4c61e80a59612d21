"""ISO 7064 MOD 11-2 and MOD 37,36 against published examples, and their error detection.

Known answers and where they are published:

- MOD 11-2 ``079`` → ``X``: the example of ISO/IEC 7064, as reproduced in the
  documentation of the Rust ``iso-7064`` crate (``MOD11_2.compute("079")``,
  ``verify("079X")``); ``0794`` → ``0`` continues the same example.
- MOD 11-2 ``11010519491231002`` → ``X``: the example resident ID printed in
  GB 11643-1999 (公民身份号码), whose check is MOD 11-2.
- MOD 37,36 ``A12425GABC1234002`` → ``M``: the example of the hybrid system in
  python-stdnum's ``stdnum/iso7064/mod_37_36.py``.
- MOD 37,36 over real GB/T 36904 license identifiers: see ``tests/test_identifier.py``.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime.iso7064 import (
    ALPHANUMERIC,
    DIGITS,
    MOD11_2_CHECKS,
    mod11_2_check,
    mod11_2_valid,
    mod37_36_check,
    mod37_36_valid,
)

digit_strings = st.text(alphabet=DIGITS, min_size=1, max_size=40)
alphanumeric_strings = st.text(alphabet=ALPHANUMERIC, min_size=1, max_size=80)


class TestPublishedExamples:
    """The check characters equal the ones the standards and reference libraries print."""

    @pytest.mark.parametrize(
        ("digits", "check"),
        [("079", "X"), ("0794", "0"), ("11010519491231002", "X")],
    )
    def test_mod11_2(self, digits: str, check: str) -> None:
        """MOD 11-2 gives the published check character, and the whole string validates."""
        assert mod11_2_check(digits) == check
        assert mod11_2_valid(digits + check)

    def test_mod37_36(self) -> None:
        """MOD 37,36 gives ``M`` for the ISO example ``A12425GABC1234002``."""
        assert mod37_36_check("A12425GABC1234002") == "M"
        assert mod37_36_valid("A12425GABC1234002M")

    def test_wrong_checks_are_refused(self) -> None:
        """The examples with another check character do not validate."""
        assert not mod11_2_valid("0790")
        assert not mod11_2_valid("079x")
        assert not mod37_36_valid("A12425GABC1234002N")


class TestBadInput:
    """Input outside the alphabet raises ValueError naming the position, not the text."""

    @pytest.mark.parametrize("text", ["", "12a4", "１２", "07 9"])
    def test_mod11_2_refuses(self, text: str) -> None:
        """Empty input and non-ASCII-digits are refused."""
        with pytest.raises(ValueError, match="MOD 11-2") as caught:
            mod11_2_check(text)
        if text:
            assert text not in str(caught.value)

    @pytest.mark.parametrize("text", ["", "abc", "AB-C", "A12425GABC1234002*"])
    def test_mod37_36_refuses(self, text: str) -> None:
        """Empty input, lowercase and punctuation are refused."""
        with pytest.raises(ValueError, match="MOD 37,36"):
            mod37_36_check(text)

    @pytest.mark.parametrize("text", ["", "X", "0X9", "12a45"])
    def test_mod11_2_valid_says_false_instead_of_raising(self, text: str) -> None:
        """The MOD 11-2 validator answers False for anything malformed."""
        assert not mod11_2_valid(text)

    @pytest.mark.parametrize("text", ["", "M", "a12425gabc1234002m", "A-B"])
    def test_mod37_36_valid_says_false_instead_of_raising(self, text: str) -> None:
        """The MOD 37,36 validator answers False for anything malformed."""
        assert not mod37_36_valid(text)


class TestMod112Properties:
    """Every digit string with its check validates; every single error is caught."""

    @given(digit_strings)
    def test_appending_the_check_validates(self, digits: str) -> None:
        """Data plus its computed check character is valid."""
        check = mod11_2_check(digits)
        assert check in MOD11_2_CHECKS
        assert mod11_2_valid(digits + check)

    @given(digit_strings, st.data())
    def test_any_single_substitution_is_caught(self, digits: str, data: st.DataObject) -> None:
        """Changing any one character, the check included, breaks validity."""
        text = digits + mod11_2_check(digits)
        index = data.draw(st.integers(0, len(text) - 1))
        choices = MOD11_2_CHECKS if index == len(text) - 1 else DIGITS
        replacement = data.draw(st.sampled_from([c for c in choices if c != text[index]]))
        assert not mod11_2_valid(text[:index] + replacement + text[index + 1 :])

    @given(st.text(alphabet=DIGITS, min_size=2, max_size=40), st.data())
    def test_any_adjacent_transposition_is_caught(self, digits: str, data: st.DataObject) -> None:
        """Swapping two different neighbours (MOD 11-2's other promise) breaks validity."""
        text = digits + mod11_2_check(digits)
        index = data.draw(st.integers(0, len(text) - 2))
        swapped = text[:index] + text[index + 1] + text[index] + text[index + 2 :]
        if swapped != text:
            assert not mod11_2_valid(swapped)


class TestMod3736Properties:
    """Every alphanumeric string with its check validates; every substitution is caught."""

    @given(alphanumeric_strings)
    def test_appending_the_check_validates(self, text: str) -> None:
        """Data plus its computed check character is valid, and the check is in 0-9A-Z."""
        check = mod37_36_check(text)
        assert check in ALPHANUMERIC
        assert mod37_36_valid(text + check)

    @given(alphanumeric_strings, st.data())
    def test_any_single_substitution_is_caught(self, text: str, data: st.DataObject) -> None:
        """Changing any one character, the check included, breaks validity."""
        full = text + mod37_36_check(text)
        index = data.draw(st.integers(0, len(full) - 1))
        replacement = data.draw(st.sampled_from([c for c in ALPHANUMERIC if c != full[index]]))
        assert not mod37_36_valid(full[:index] + replacement + full[index + 1 :])
