"""IETF Token Status List (draft-ietf-oauth-status-list): the list, its token, the reference.

Three pieces, all pure (no I/O, no clock, no keys):

- :class:`StatusList`, the list itself (draft §4): one status of 1, 2, 4 or 8 bits per
  referenced token, packed into bytes from the least significant bit up, compressed
  with DEFLATE in the ZLIB format (RFC 1950) and carried in JSON as
  ``{"bits": b, "lst": base64url(compressed)}``.
- The Status List Token (draft §5.1): a JWT with header ``typ`` ``statuslist+jwt`` and
  claims ``sub`` (the list's URI), ``iat``, ``exp``, ``ttl`` and ``status_list``.
  :func:`token_header` and :func:`token_claims` build what the signer signs;
  :func:`check_token_claims` is what a verifier runs on a token *after* its signature
  verified.
- The referenced token's ``status`` claim (draft §6.1): ``{"status_list": {"idx": i,
  "uri": u}}``, built by :func:`status_claim` and read by :func:`parse_status_claim`.

Shortest use::

    statuses = StatusList(100_000, bits=4)
    statuses.set(41, 0x02)
    claims = token_claims(statuses, uri=uri, issued_at=now, expires_at=now + day, ttl=hour)
    # ... signed elsewhere as a JWS with token_header(alg=..., kid=...) ...
    received = check_token_claims(header, payload, uri=uri, now=later)
    assert received.get(41) == 0x02

Every rejection of outside input is a :class:`StatusListError` saying which check
failed. The list's size is the number of entries its bytes hold: a list asked for
10 one-bit entries holds 16, the last 6 always 0 (VALID), exactly what a verifier
decoding ``lst`` sees.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeGuard
from urllib.parse import urlsplit

TOKEN_TYPE = "statuslist+jwt"  # noqa: S105  # a JWT type name, not a secret
"""The ``typ`` header of a Status List Token in JWT form (draft §5.1)."""

MEDIA_TYPE = "application/statuslist+jwt"
"""The media type a Status List Token is served with (draft §8.2)."""

ALLOWED_BITS = (1, 2, 4, 8)
"""Bits per status the draft allows, so that no status straddles two bytes."""

MAX_LIST_BYTES = 16 * 1024 * 1024
"""Largest decompressed list accepted: 16 MiB, 16 million 8-bit statuses.

A few kilobytes of ``lst`` can inflate to gigabytes; decoding stops at this bound.
"""

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


class StatusListError(ValueError):
    """A status list, Status List Token or status claim is malformed or unacceptable."""


# --- the list ----------------------------------------------------------------------


class StatusList:
    """A mutable list of statuses, `bits` bits each, packed as the draft specifies.

    Entry ``i`` lives in byte ``i * bits // 8`` at bit offset ``i * bits % 8``,
    counted from the least significant bit (draft §4.1, step 3).
    """

    __slots__ = ("_bits", "_data")

    def __init__(self, size: int, bits: int) -> None:
        """An all-zero (all VALID) list with room for at least `size` entries."""
        _check_bits(bits)
        if size < 1:
            raise ValueError(f"a status list needs at least one entry, not {size}")
        self._bits = bits
        self._data = bytearray(-(-size * bits // 8))

    @classmethod
    def from_bytes(cls, data: bytes, bits: int) -> StatusList:
        """The list whose uncompressed byte array is `data`."""
        _check_bits(bits)
        if not data:
            raise StatusListError("the status list is empty")
        status_list = cls.__new__(cls)
        status_list._bits = bits
        status_list._data = bytearray(data)
        return status_list

    @property
    def bits(self) -> int:
        """Bits per status: 1, 2, 4 or 8."""
        return self._bits

    def __len__(self) -> int:
        """How many entries the byte array holds."""
        return len(self._data) * 8 // self._bits

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StatusList):
            return NotImplemented
        return self._bits == other._bits and self._data == other._data

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable

    def __repr__(self) -> str:
        return f"StatusList(size={len(self)}, bits={self._bits})"

    def to_bytes(self) -> bytes:
        """The uncompressed byte array."""
        return bytes(self._data)

    def get(self, index: int) -> int:
        """The status at `index`; :class:`IndexError` past the end."""
        byte, shift = self._locate(index)
        return (self._data[byte] >> shift) & ((1 << self._bits) - 1)

    def set(self, index: int, value: int) -> None:
        """Set the status at `index` to `value` (0 to ``2**bits - 1``)."""
        mask = (1 << self._bits) - 1
        if not 0 <= value <= mask:
            raise ValueError(f"status value {value} does not fit in {self._bits} bits")
        byte, shift = self._locate(index)
        self._data[byte] = (self._data[byte] & ~(mask << shift)) | (value << shift)

    def nonzero(self) -> Iterator[tuple[int, int]]:
        """Every ``(index, status)`` whose status is not 0 (VALID), in index order.

        Skips zero bytes whole, so walking a mostly-valid list of millions is quick.
        """
        per_byte = 8 // self._bits
        mask = (1 << self._bits) - 1
        for byte_index, byte in enumerate(self._data):
            if not byte:
                continue
            for slot in range(per_byte):
                value = (byte >> (slot * self._bits)) & mask
                if value:
                    yield byte_index * per_byte + slot, value

    def encode(self) -> dict[str, Any]:
        """The JSON Status List (draft §4.2): ``{"bits": b, "lst": "..."}``.

        ``lst`` is the ZLIB-compressed byte array at the highest compression level
        (the draft recommends it), base64url-encoded without padding.
        """
        compressed = zlib.compress(bytes(self._data), level=9)
        lst = base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")
        return {"bits": self._bits, "lst": lst}

    @classmethod
    def decode(cls, obj: object) -> StatusList:
        """Read a JSON Status List, as found in a token's ``status_list`` claim.

        Checks that `obj` is an object with integer ``bits`` in {1, 2, 4, 8} and a
        string ``lst`` that is canonical base64url without padding of a complete ZLIB
        stream inflating to 1 to :data:`MAX_LIST_BYTES` bytes. Other members (such
        as ``aggregation_uri``) are allowed and ignored.
        """
        if not isinstance(obj, Mapping):
            raise StatusListError("status_list is not a JSON object")
        bits = obj.get("bits")
        if not _is_int(bits):
            raise StatusListError("status_list.bits is missing or not an integer")
        if bits not in ALLOWED_BITS:
            raise StatusListError(f"status_list.bits is {bits}; it must be 1, 2, 4 or 8")
        lst = obj.get("lst")
        if not isinstance(lst, str):
            raise StatusListError("status_list.lst is missing or not a string")
        return cls.from_bytes(_inflate(_decode_base64url(lst)), bits)

    def _locate(self, index: int) -> tuple[int, int]:
        if not 0 <= index < len(self):
            raise IndexError(f"status list index {index} is outside 0..{len(self) - 1}")
        position = index * self._bits
        return position // 8, position % 8


# --- the Status List Token ---------------------------------------------------------


def token_header(*, alg: str, kid: str) -> dict[str, Any]:
    """The protected header of a Status List Token signed with key `kid` under `alg`."""
    return {"alg": alg, "kid": kid, "typ": TOKEN_TYPE}


def token_claims(
    status_list: StatusList,
    *,
    uri: str,
    issued_at: datetime,
    expires_at: datetime,
    ttl: timedelta,
    issuer: str | None = None,
) -> dict[str, Any]:
    """The claims of a Status List Token (draft §5.1) for `status_list` published at `uri`.

    ``exp`` and ``ttl`` are only RECOMMENDED by the draft; certfree always sets both,
    so that a verifier knows how stale a list may be. `issuer` adds ``iss`` when the
    licenses carry one. Times must be timezone-aware; they become whole seconds.
    """
    _check_uri(uri, "uri")
    iat, exp = _numeric_date(issued_at), _numeric_date(expires_at)
    if exp <= iat:
        raise ValueError("a status list token must expire after it is issued")
    seconds = int(ttl.total_seconds())
    if seconds < 1:
        raise ValueError("ttl must be at least one second")
    claims: dict[str, Any] = {
        "sub": uri,
        "iat": iat,
        "exp": exp,
        "ttl": seconds,
        "status_list": status_list.encode(),
    }
    if issuer is not None:
        claims["iss"] = issuer
    return claims


def check_token_claims(
    header: Mapping[str, Any],
    payload: Mapping[str, Any],
    *,
    uri: str,
    now: datetime,
    leeway: timedelta = timedelta(0),
) -> StatusList:
    """Check a Status List Token whose signature already verified; return its list.

    `uri` is the ``uri`` of the referenced token's ``status_list`` claim. Checks, in
    order (draft §5.1 and §8.3): ``typ`` is ``statuslist+jwt``, ``alg`` is present and
    not ``none``; ``sub`` equals `uri`; ``iat`` is a NumericDate not after `now`;
    ``exp``, if present, is a NumericDate after `now`; ``ttl``, if present, is a
    positive number; ``status_list`` decodes. `leeway` allows for clock skew on both
    time checks. Raises :class:`StatusListError` naming the first check that failed.
    """
    _check_header(header)
    if not isinstance(payload, Mapping):
        raise StatusListError("the status list token's payload is not a JSON object")
    subject = payload.get("sub")
    if not isinstance(subject, str):
        raise StatusListError("the status list token has no sub claim")
    if subject != uri:
        raise StatusListError(
            f"the status list token is for {subject!r}, not the list the license names ({uri!r})"
        )
    at = _numeric_date(now)
    skew = leeway.total_seconds()
    iat = payload.get("iat")
    if not _is_number(iat):
        raise StatusListError("the status list token's iat is missing or not a number")
    if iat > at + skew:
        raise StatusListError("the status list token is issued in the future (iat after now)")
    if "exp" in payload:
        exp = payload["exp"]
        if not _is_number(exp):
            raise StatusListError("the status list token's exp is not a number")
        if at >= exp + skew:
            raise StatusListError("the status list token has expired (exp is not after now)")
    if "ttl" in payload:
        ttl = payload["ttl"]
        if not _is_number(ttl) or ttl <= 0:
            raise StatusListError("the status list token's ttl is not a positive number")
    if "status_list" not in payload:
        raise StatusListError("the status list token has no status_list claim")
    return StatusList.decode(payload["status_list"])


# --- the referenced token's status claim -------------------------------------------


@dataclass(frozen=True)
class StatusReference:
    """Where a license's status lives: entry `idx` of the list published at `uri`."""

    idx: int
    """The license's index in the list, from 0."""
    uri: str
    """The URI of the Status List Token; equal to that token's ``sub``."""

    def __post_init__(self) -> None:
        if not _is_int(self.idx) or self.idx < 0:
            raise StatusListError("status_list.idx must be a non-negative integer")
        _check_uri(self.uri, "status_list.uri")


def status_claim(reference: StatusReference) -> dict[str, Any]:
    """The value of the ``status`` claim a license carries: ``{"status_list": {...}}``."""
    return {"status_list": {"idx": reference.idx, "uri": reference.uri}}


def parse_status_claim(claim: object) -> StatusReference:
    """Read the value of a license's ``status`` claim.

    Requires a ``status_list`` object with a non-negative integer ``idx`` and an
    absolute URI ``uri``. Other status mechanisms beside ``status_list``, and other
    members inside it, are allowed and ignored, as the draft says.
    """
    if not isinstance(claim, Mapping):
        raise StatusListError("the status claim is not a JSON object")
    reference = claim.get("status_list")
    if not isinstance(reference, Mapping):
        raise StatusListError("the status claim has no status_list object")
    if "idx" not in reference:
        raise StatusListError("status_list.idx is missing")
    if not isinstance(reference.get("uri"), str):
        raise StatusListError("status_list.uri is missing or not a string")
    return StatusReference(reference["idx"], reference["uri"])


# --- internals ---------------------------------------------------------------------


def _check_bits(bits: int) -> None:
    if not _is_int(bits) or bits not in ALLOWED_BITS:
        raise ValueError(f"bits must be 1, 2, 4 or 8, not {bits!r}")


def _is_int(value: object) -> TypeGuard[int]:
    # JSON true parses to a bool, which Python counts as an int; it is not one here.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_uri(uri: str, what: str) -> None:
    """Require an absolute URI (RFC 3986: a scheme, then something after it)."""
    if not isinstance(uri, str) or not uri:
        raise StatusListError(f"{what} must be a non-empty string")
    scheme = urlsplit(uri).scheme
    if not _URI_SCHEME.fullmatch(scheme) or len(uri) == len(scheme) + 1:
        raise StatusListError(f"{what} {uri!r} is not an absolute URI")
    if any(char.isspace() or ord(char) < 0x20 for char in uri):
        raise StatusListError(f"{what} contains spaces or control characters")


def _check_header(header: Mapping[str, Any]) -> None:
    if not isinstance(header, Mapping):
        raise StatusListError("the status list token's header is not a JSON object")
    typ = header.get("typ")
    if not isinstance(typ, str):
        raise StatusListError("the status list token has no typ header")
    # RFC 7515 §4.1.9: a typ without "/" means "application/" + typ, compared
    # case-insensitively, so both spellings name the same media type.
    if typ.lower() not in (TOKEN_TYPE, MEDIA_TYPE):
        raise StatusListError(f"the token's typ is {typ!r}, not {TOKEN_TYPE!r}")
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg or alg.lower() == "none":
        raise StatusListError("the status list token is not signed (alg missing or none)")


def _decode_base64url(text: str) -> bytes:
    """Canonical base64url without padding (RFC 7515 §2), or :class:`StatusListError`."""
    if not _BASE64URL.fullmatch(text):
        raise StatusListError("status_list.lst is not base64url without padding")
    if len(text) % 4 == 1:
        raise StatusListError("status_list.lst has an impossible base64url length")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise StatusListError("status_list.lst is not valid base64url") from None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != text:
        raise StatusListError("status_list.lst is not canonical base64url (stray bits)")
    return raw


def _inflate(compressed: bytes) -> bytes:
    """Inflate one complete ZLIB stream, refusing more than :data:`MAX_LIST_BYTES`."""
    inflater = zlib.decompressobj()  # default wbits: the ZLIB (RFC 1950) format only
    try:
        data = inflater.decompress(compressed, MAX_LIST_BYTES + 1)
    except zlib.error as error:
        raise StatusListError(f"status_list.lst is not ZLIB-compressed data ({error})") from None
    if len(data) > MAX_LIST_BYTES or inflater.unconsumed_tail:
        raise StatusListError(f"status_list.lst inflates past {MAX_LIST_BYTES} bytes")
    if not inflater.eof:
        raise StatusListError("status_list.lst is a truncated ZLIB stream")
    if inflater.unused_data:
        raise StatusListError("status_list.lst has bytes after its ZLIB stream")
    return data


def _numeric_date(moment: datetime) -> int:
    """Whole seconds since the epoch (a JWT NumericDate) of an aware datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times must be timezone-aware")
    return int(moment.timestamp())
