"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys.

A signed note is a text ending in a newline, a blank line, then one or more
signature lines ``— <key name> base64(4-byte key id || signature)``. The key id is
``SHA-256(name || 0x0A || signature type || public key)[:4]``. Keys travel as the
strings of golang.org/x/mod/sumdb/note::

    verifier key  <name>+<hex key id>+<base64(0x01 || 32-byte public key)>
    signer key    PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>

Shortest use::

    signer = Signer.generate("ledger.example/log")
    note = sign_note("hello\\n", signer)
    opened, verified_by = open_note(note, [signer.verifier()])

Everything here is pure: no I/O, no clock. Every rejection is a :class:`NoteError`
whose message says which check failed. Base64 is the standard alphabet with padding
and must be canonical (re-encoding gives back the same string).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

SIGNATURE_TYPE_ED25519 = 0x01
"""Signature type byte of plain Ed25519 note signatures (signed-note, "Signature types")."""

MAX_SIGNATURES = 100
"""Most signature lines a note may carry; the spec asks for at least 16, Go allows 100."""

KEY_ID_SIZE = 4
ED25519_KEY_SIZE = 32
ED25519_SIGNATURE_SIZE = 64

_SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_HEX_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")


class NoteError(ValueError):
    """A note or key is malformed or did not verify; the message says which check failed."""


# --- shared helpers (also used by runtime.tlog.checkpoint) -------------------------


def compute_key_id(name: str, signature_type: int, public_key: bytes) -> bytes:
    """Return ``SHA-256(name || 0x0A || signature type || public key)[:4]``."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([signature_type]) + public_key)
    return digest.digest()[:KEY_ID_SIZE]


def check_key_name(name: str) -> None:
    """Raise :class:`NoteError` unless `name` is a valid key name.

    A key name is non-empty UTF-8 without Unicode spaces, plus signs or control
    characters (signed-note, "Format").
    """
    if not name:
        raise NoteError("key name is empty")
    if "+" in name:
        raise NoteError(f"key name {name!r} contains '+'")
    for char in name:
        if char.isspace() or ord(char) < 0x20:
            raise NoteError(f"key name {name!r} contains space or control character {char!r}")
    _check_encodable(name, "key name")


def decode_base64(text: str) -> bytes | None:
    """Decode canonical standard base64 with padding; ``None`` if `text` is anything else."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if base64.b64encode(raw).decode("ascii") != text:
        return None  # non-canonical: stray bits in the last character
    return raw


def encode_base64(raw: bytes) -> str:
    """Encode as standard base64 with padding."""
    return base64.b64encode(raw).decode("ascii")


def decode_key_string(
    text: str, signature_type: int, key_size: int, *, private: bool
) -> tuple[str, bytes, bytes]:
    """Split a key string into (name, declared key id, key material after the type byte).

    Checks the ``PRIVATE+KEY+`` prefix when `private`, the name, the 8 hex digits of
    the key id, the base64, the type byte and the key length. The caller checks the
    key id against the key, since for a signer key it needs the derived public key.
    Messages never repeat private key material.
    """
    what = "signer key" if private else "verifier key"
    if private:
        if not text.startswith(_PRIVATE_PREFIX):
            raise NoteError(f"{what} does not start with {_PRIVATE_PREFIX!r}")
        text = text[len(_PRIVATE_PREFIX) :]
    name, hex_id, key64 = _split3(text)
    if hex_id is None or key64 is None:
        raise NoteError(f"{what} is not <name>+<hex key id>+<base64 key>")
    try:
        check_key_name(name)
    except NoteError as error:
        raise NoteError(f"{what}: {error}") from None
    if not _HEX_KEY_ID.fullmatch(hex_id):
        raise NoteError(f"{what} {name!r}: key id {hex_id!r} is not 8 hex digits")
    raw = decode_base64(key64)
    if raw is None:
        raise NoteError(f"{what} {name!r}: key is not valid base64")
    if not raw:
        raise NoteError(f"{what} {name!r}: key is empty")
    if raw[0] != signature_type:
        raise NoteError(
            f"{what} {name!r}: signature type 0x{raw[0]:02x}, expected 0x{signature_type:02x}"
        )
    if len(raw) != 1 + key_size:
        raise NoteError(f"{what} {name!r}: key is {len(raw) - 1} bytes, expected {key_size}")
    return name, bytes.fromhex(hex_id), raw[1:]


def encode_key_string(
    name: str, key_id: bytes, signature_type: int, key: bytes, *, private: bool
) -> str:
    """Build ``[PRIVATE+KEY+]<name>+<hex key id>+<base64(type || key)>``."""
    prefix = _PRIVATE_PREFIX if private else ""
    return f"{prefix}{name}+{key_id.hex()}+{encode_base64(bytes([signature_type]) + key)}"


def check_key_id(name: str, key_id: bytes, expected: bytes, what: str) -> None:
    """Raise :class:`NoteError` unless the declared `key_id` equals the one computed."""
    if len(key_id) != KEY_ID_SIZE:
        raise NoteError(f"{what} {name!r}: key id is {len(key_id)} bytes, expected 4")
    if key_id != expected:
        raise NoteError(
            f"{what} {name!r}: key id {key_id.hex()} does not match the key "
            f"(computed {expected.hex()})"
        )


def ed25519_private_key(seed: bytes) -> Ed25519PrivateKey:
    """Load an Ed25519 private key from its 32-byte RFC 8032 seed."""
    return Ed25519PrivateKey.from_private_bytes(seed)


def ed25519_seed(key: Ed25519PrivateKey) -> bytes:
    """Return the 32-byte RFC 8032 seed of an Ed25519 private key."""
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def ed25519_public_bytes(key: Ed25519PrivateKey) -> bytes:
    """Return the 32-byte public key of an Ed25519 private key."""
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Report whether `signature` is a valid Ed25519 signature of `message`."""
    if len(signature) != ED25519_SIGNATURE_SIZE:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# --- keys --------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicNoteKey:
    """An Ed25519 public key of a signed-note signature type; subclasses fix the type."""

    SIGNATURE_TYPE: ClassVar[int]
    """The signature type byte this kind of key signs with."""
    WHAT: ClassVar[str]
    """How errors name this kind of key."""

    name: str
    """Key name: the log's origin for a log key, the witness's name for a witness key."""
    key_id: bytes
    """4 bytes: ``SHA-256(name || 0x0A || signature type || public key)[:4]``."""
    public_key: bytes
    """32-byte RFC 8032 public key."""

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != ED25519_KEY_SIZE:
            raise NoteError(
                f"{self.WHAT} {self.name!r}: public key is {len(self.public_key)} bytes, "
                "expected 32"
            )
        expected = compute_key_id(self.name, self.SIGNATURE_TYPE, self.public_key)
        check_key_id(self.name, self.key_id, expected, self.WHAT)

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes) -> Self:
        """Build the key for a raw 32-byte public key, computing its key id."""
        check_key_name(name)
        return cls(name, compute_key_id(name, cls.SIGNATURE_TYPE, public_key), public_key)

    @classmethod
    def from_key_string(cls, text: str) -> Self:
        """Parse ``<name>+<hex key id>+<base64(type || public key)>``, checking the key id."""
        name, key_id, public_key = decode_key_string(
            text, cls.SIGNATURE_TYPE, ED25519_KEY_SIZE, private=False
        )
        return cls(name, key_id, public_key)

    def key_string(self) -> str:
        """Return the vkey string (lowercase hex key id)."""
        return encode_key_string(
            self.name, self.key_id, self.SIGNATURE_TYPE, self.public_key, private=False
        )


@dataclass(frozen=True)
class Verifier(PublicNoteKey):
    """An Ed25519 signed-note verifier (signature type 0x01): what auditors are given."""

    SIGNATURE_TYPE: ClassVar[int] = SIGNATURE_TYPE_ED25519
    WHAT: ClassVar[str] = "verifier key"

    def verify(self, text: str, signature: bytes) -> bool:
        """Report whether `signature` (without key id) signs the UTF-8 bytes of `text`."""
        try:
            message = text.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return ed25519_verify(self.public_key, message, signature)


@dataclass(frozen=True)
class Signer:
    """An Ed25519 signed-note signer (signature type 0x01); keep it secret."""

    name: str
    """Key name, conventionally the log's origin."""
    key_id: bytes
    """4 bytes: ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``."""
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)
    """The private key; never printed."""

    def __post_init__(self) -> None:
        check_key_name(self.name)
        public_key = ed25519_public_bytes(self.private_key)
        expected = compute_key_id(self.name, SIGNATURE_TYPE_ED25519, public_key)
        check_key_id(self.name, self.key_id, expected, "signer key")

    @classmethod
    def generate(cls, name: str) -> Signer:
        """Create a signer with a fresh random key."""
        check_key_name(name)
        key = Ed25519PrivateKey.generate()
        return cls(
            name, compute_key_id(name, SIGNATURE_TYPE_ED25519, ed25519_public_bytes(key)), key
        )

    @classmethod
    def from_key_string(cls, text: str) -> Signer:
        """Parse ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>``, checking the key id."""
        name, key_id, seed = decode_key_string(
            text, SIGNATURE_TYPE_ED25519, ED25519_KEY_SIZE, private=True
        )
        return cls(name, key_id, ed25519_private_key(seed))

    def key_string(self) -> str:
        """Return the signer key string, for a key file or a Kubernetes Secret."""
        return encode_key_string(
            self.name,
            self.key_id,
            SIGNATURE_TYPE_ED25519,
            ed25519_seed(self.private_key),
            private=True,
        )

    def verifier(self) -> Verifier:
        """Return the matching verifier."""
        return Verifier(self.name, self.key_id, ed25519_public_bytes(self.private_key))

    def sign(self, text: str) -> bytes:
        """Return the raw 64-byte Ed25519 signature of the UTF-8 bytes of `text`."""
        return self.private_key.sign(text.encode("utf-8"))


# --- notes -------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note, verified or not."""

    name: str
    """Key name from the signature line."""
    key_id: bytes
    """The 4 bytes before the signature."""
    signature: bytes
    """Everything after the key id (for cosignature/v1: timestamp || Ed25519 signature)."""

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.key_id) != KEY_ID_SIZE:
            raise NoteError(f"signature by {self.name!r}: key id is {len(self.key_id)} bytes")
        if not self.signature:
            raise NoteError(f"signature by {self.name!r} is empty")

    @property
    def key(self) -> str:
        """``<name>+<hex key id>``, how messages name the key."""
        return f"{self.name}+{self.key_id.hex()}"

    def line(self) -> str:
        """Return the signature line, with its final newline."""
        return f"{_SIGNATURE_PREFIX}{self.name} {encode_base64(self.key_id + self.signature)}\n"


@dataclass(frozen=True)
class Note:
    """A parsed note: its text (with the final newline) and every signature line."""

    text: str
    signatures: tuple[NoteSignature, ...]


def parse_note(note: str | bytes) -> Note:
    """Split a signed note into text and signatures, without verifying anything.

    Rejects, with a :class:`NoteError` naming the problem: invalid UTF-8, control
    characters other than newline, no blank line before the signatures, no signature
    line, a last line without newline, a line that is not ``— <name> <base64>``, a
    signature shorter than key id plus one byte, more than 100 signatures.
    """
    text = _decode(note)
    for index, char in enumerate(text):
        if ord(char) < 0x20 and char != "\n":
            raise NoteError(f"note contains control character U+{ord(char):04X} at {index}")
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line between the text and the signatures")
    body, block = text[: split + 1], text[split + 2 :]
    if not block:
        raise NoteError("note has no signature lines after the blank line")
    if not block.endswith("\n"):
        raise NoteError("note's last signature line does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signatures, more than {MAX_SIGNATURES}")
    return Note(body, tuple(_parse_signature_line(n, line) for n, line in enumerate(lines, 1)))


def sign_note(text: str, *signers: Signer, existing: Sequence[NoteSignature] = ()) -> str:
    """Sign `text` and return the signed note.

    The new signatures come first, then the `existing` ones (a checkpoint's log
    signature thus leads its cosignatures); an existing signature by the same key as a
    new one is replaced. Order carries no meaning in the spec.
    """
    _check_text(text)
    fresh = [NoteSignature(s.name, s.key_id, s.sign(text)) for s in signers]
    replaced = {(s.name, s.key_id) for s in fresh}
    kept = [s for s in existing if (s.name, s.key_id) not in replaced]
    signatures = fresh + kept
    if not signatures:
        raise NoteError("a signed note needs at least one signature")
    if len(signatures) > MAX_SIGNATURES:
        raise NoteError(f"{len(signatures)} signatures, more than {MAX_SIGNATURES}")
    return text + "\n" + "".join(s.line() for s in signatures)


def open_note(note: str | bytes, verifiers: Sequence[Verifier]) -> tuple[Note, list[Verifier]]:
    """Parse `note` and verify it; return it with the verifiers whose signatures verify.

    Signatures whose (name, key id) matches no verifier are ignored, as the spec
    requires. A signature from a known key that does not verify rejects the whole
    note, and so does a note with no verified signature from a known key.
    """
    parsed = parse_note(note)
    known: dict[tuple[str, bytes], Verifier] = {}
    for verifier in verifiers:
        other = known.setdefault((verifier.name, verifier.key_id), verifier)
        if other != verifier:
            raise NoteError(
                f"two different verifier keys share name and key id "
                f"{verifier.name}+{verifier.key_id.hex()}"
            )
    verified: list[Verifier] = []
    unknown: list[str] = []
    for signature in parsed.signatures:
        match = known.get((signature.name, signature.key_id))
        if match is None:
            unknown.append(signature.key)
        elif not match.verify(parsed.text, signature.signature):
            raise NoteError(f"signature by known key {signature.key} does not verify")
        elif match not in verified:
            verified.append(match)
    if not verified:
        raise NoteError(
            "note has no signature from a trusted key; it is signed only by unknown keys "
            + ", ".join(unknown)
        )
    return parsed, verified


# --- internals ---------------------------------------------------------------------


def _split3(text: str) -> tuple[str, str | None, str | None]:
    """Split at the first two '+' (base64 may itself contain '+')."""
    parts = text.split("+", 2)
    if len(parts) != 3:
        return text, None, None
    return parts[0], parts[1], parts[2]


def _check_encodable(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise NoteError(f"{what} is not valid Unicode: {error.reason}") from None


def _decode(note: str | bytes) -> str:
    if isinstance(note, bytes):
        try:
            return note.decode("utf-8")
        except UnicodeDecodeError as error:
            raise NoteError(f"note is not valid UTF-8 at byte {error.start}") from None
    _check_encodable(note, "note")
    return note


def _check_text(text: str) -> None:
    _check_encodable(text, "note text")
    if not text.endswith("\n"):
        raise NoteError("note text does not end with a newline")
    for index, char in enumerate(text):
        if ord(char) < 0x20 and char != "\n":
            raise NoteError(f"note text contains control character U+{ord(char):04X} at {index}")


def _parse_signature_line(number: int, line: str) -> NoteSignature:
    where = f"signature line {number}"
    if not line.startswith(_SIGNATURE_PREFIX):
        raise NoteError(f"{where} does not start with an em dash and a space: {line[:40]!r}")
    name, space, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    if not space:
        raise NoteError(f"{where} has no space between key name and signature")
    try:
        check_key_name(name)
    except NoteError as error:
        raise NoteError(f"{where}: {error}") from None
    raw = decode_base64(encoded)
    if raw is None:
        raise NoteError(f"{where} ({name}): signature is not valid base64")
    if len(raw) <= KEY_ID_SIZE:
        raise NoteError(
            f"{where} ({name}): signature is {len(raw)} bytes, too short for a key id "
            "and a signature"
        )
    return NoteSignature(name, raw[:KEY_ID_SIZE], raw[KEY_ID_SIZE:])
