"""Two check character systems of ISO/IEC 7064:2003 (GB/T 17710-2008, identical).

Shortest use::

    mod11_2_check("079")            # "X"   (resident IDs, GB 11643)
    mod37_36_check("A12425GABC1234002")  # "M"   (license identifiers, GB/T 36904)

- MOD 11-2 is a *pure* system: numeric input, one check character from ``0-9X``
  (``X`` stands for 10). A string with its check character appended is valid when
  its weighted sum, weights ``2^(i-1) mod 11`` counted from the right, is 1 mod 11.
- MOD 37,36 is a *hybrid* system: input and check character both from ``0-9A-Z``,
  so the check never needs a supplementary symbol.

Both are computed the recursive way the standard describes (Horner's scheme), which
gives the same answer as the weighted sums without building the weight tables.
Everything here is pure. Inputs outside the alphabet raise :class:`ValueError` whose
message names the position, never the text: callers pass personal data through here.
"""

from __future__ import annotations

DIGITS = "0123456789"
"""Alphabet of MOD 11-2 input."""

MOD11_2_CHECKS = DIGITS + "X"
"""Check characters of MOD 11-2, by value (10 is ``X``)."""

ALPHANUMERIC = DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""Alphabet of MOD 37,36 input and check characters, by value (``A`` is 10)."""

_ALPHANUMERIC_VALUES = {char: value for value, char in enumerate(ALPHANUMERIC)}


def mod11_2_check(digits: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character (``0``-``9`` or ``X``) for `digits`.

    Raises :class:`ValueError` if `digits` is empty or holds anything but ASCII digits.
    """
    if not digits:
        raise ValueError("MOD 11-2 input is empty")
    product = 0
    for position, char in enumerate(digits, 1):
        if char not in DIGITS:
            raise ValueError(f"MOD 11-2 input has a non-digit at position {position}")
        product = (product + int(char)) * 2 % 11
    # The check C makes (product + C) ≡ 1 (mod 11).
    return MOD11_2_CHECKS[(12 - product) % 11]


def mod11_2_valid(text: str) -> bool:
    """Report whether `text` ends in the correct MOD 11-2 check character for the rest."""
    if len(text) < 2:
        return False
    try:
        return mod11_2_check(text[:-1]) == text[-1]
    except ValueError:
        return False


def mod37_36_check(text: str) -> str:
    """Return the ISO 7064 MOD 37,36 check character (``0-9A-Z``) for `text`.

    `text` must be non-empty and use only ``0-9`` and uppercase ``A-Z``; anything
    else raises :class:`ValueError`. Lowercase is refused rather than folded, so
    that one identifier has exactly one spelling.
    """
    if not text:
        raise ValueError("MOD 37,36 input is empty")
    modulus = len(ALPHANUMERIC)  # M = 36; the hybrid system also uses M + 1 = 37
    product = modulus
    for position, char in enumerate(text, 1):
        value = _ALPHANUMERIC_VALUES.get(char)
        if value is None:
            raise ValueError(
                f"MOD 37,36 input has a character outside 0-9A-Z at position {position}"
            )
        total = (product + value) % modulus or modulus  # ||S||_M, with 0 read as M
        product = total * 2 % (modulus + 1)
    # The check C makes (product + C) ≡ 1 (mod 36).
    return ALPHANUMERIC[(1 - product) % modulus]


def mod37_36_valid(text: str) -> bool:
    """Report whether `text` ends in the correct MOD 37,36 check character for the rest."""
    if len(text) < 2:
        return False
    try:
        return mod37_36_check(text[:-1]) == text[-1]
    except ValueError:
        return False
