"""C2SP checkpoints (https://c2sp.org/tlog-checkpoint) and cosignatures (tlog-cosignature).

A checkpoint is the text of a signed note::

    <origin>
    <tree size, decimal, no leading zeros>
    <base64 RFC 6962 root hash>
    [extension lines]

The log signs it with its Ed25519 note key; witnesses add ``cosignature/v1``
signature lines (type 0x04): ``timestamp (u64 big-endian) || Ed25519 signature``
over ``"cosignature/v1\\ntime <timestamp>\\n" + checkpoint text``.

Shortest use::

    note = sign_checkpoint(Checkpoint(origin, size, root), log_signer)
    checkpoint, opened = open_checkpoint(note, log_verifier, origin=origin)
    witnesses = count_cosignatures(opened, opened.text, trusted_witnesses)

Pure functions only: no I/O, no clock (timestamps are passed in).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from runtime.tlog.note import (
    ED25519_KEY_SIZE,
    ED25519_SIGNATURE_SIZE,
    Note,
    NoteError,
    NoteSignature,
    PublicNoteKey,
    Signer,
    Verifier,
    check_key_id,
    check_key_name,
    compute_key_id,
    decode_base64,
    decode_key_string,
    ed25519_private_key,
    ed25519_public_bytes,
    ed25519_seed,
    ed25519_verify,
    encode_base64,
    encode_key_string,
    open_note,
    parse_note,
    sign_note,
)

HASH_SIZE = 32
"""Bytes in an RFC 6962 SHA-256 root hash."""

MAX_TREE_SIZE = 2**64 - 1
"""Largest tree size a checkpoint may state (tlog-tiles and the Go tools use uint64)."""

SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04
"""Signature type byte of timestamped Ed25519 cosignatures (tlog-cosignature)."""

MAX_TIMESTAMP = 2**63 - 1
"""Largest cosignature timestamp the spec allows."""

_TIMESTAMP_SIZE = 8
_SIZE = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, tree size, root hash and optional extension lines."""

    origin: str
    """Unique identifier of the log, e.g. ``ledger.example/attestations``."""
    size: int
    """Number of leaves in the tree."""
    root_hash: bytes
    """32-byte RFC 6962 root of the tree at `size`."""
    extensions: tuple[str, ...] = ()
    """Opaque non-empty lines after the root (NOT RECOMMENDED by the spec)."""

    def __post_init__(self) -> None:
        if not self.origin:
            raise NoteError("checkpoint origin is empty")
        _check_line(self.origin, "checkpoint origin")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise NoteError(f"checkpoint tree size {self.size!r} is not an integer")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise NoteError(f"checkpoint tree size {self.size} is outside 0..2^64-1")
        if len(self.root_hash) != HASH_SIZE:
            raise NoteError(f"checkpoint root hash is {len(self.root_hash)} bytes, not 32")
        for number, line in enumerate(self.extensions, 1):
            if not line:
                raise NoteError(f"checkpoint extension line {number} is empty")
            _check_line(line, f"checkpoint extension line {number}")

    def to_text(self) -> str:
        """Return the note text: origin, size, base64 root, extensions, each ending in newline."""
        lines = [self.origin, str(self.size), encode_base64(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse checkpoint note text strictly; :class:`NoteError` says which line is wrong."""
        if not text.endswith("\n"):
            raise NoteError("checkpoint text does not end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError(
                f"checkpoint has {len(lines)} line(s); it needs origin, tree size and root hash"
            )
        origin, size_text, root_text, *extensions = lines
        if not origin:
            raise NoteError("checkpoint origin line is empty")
        if not _SIZE.fullmatch(size_text):
            if size_text[:1] == "0" and size_text.isascii() and size_text.isdigit():
                raise NoteError(f"checkpoint tree size {size_text!r} has a leading zero")
            raise NoteError(f"checkpoint tree size {size_text[:40]!r} is not a decimal number")
        root = decode_base64(root_text)
        if root is None:
            raise NoteError(f"checkpoint root hash {root_text[:60]!r} is not valid base64")
        if len(root) != HASH_SIZE:
            raise NoteError(f"checkpoint root hash is {len(root)} bytes, not 32")
        return cls(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(
    checkpoint: Checkpoint, signer: Signer, cosignatures: Sequence[NoteSignature] = ()
) -> str:
    """Return the signed note: the log's signature line first, then `cosignatures`."""
    return sign_note(checkpoint.to_text(), signer, existing=cosignatures)


def open_checkpoint(
    note: str | bytes, log_verifier: Verifier, *, origin: str | None = None
) -> tuple[Checkpoint, Note]:
    """Verify the log's signature on a checkpoint note, then parse it.

    Requires a valid signature by `log_verifier` (same name and key id); other
    signature lines, such as witness cosignatures, are ignored and left in the
    returned note for :func:`count_cosignatures`. If `origin` is given, the
    checkpoint's origin must equal it.
    """
    parse_note(note)  # a malformed note fails with its own reason, not as "not signed"
    try:
        opened, _ = open_note(note, [log_verifier])
    except NoteError as error:
        raise NoteError(f"checkpoint not signed by log key {log_verifier.name}: {error}") from None
    checkpoint = Checkpoint.from_text(opened.text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not the expected {origin!r}")
    return checkpoint, opened


def cosignature_message(checkpoint_text: str, timestamp: int) -> bytes:
    """Return the bytes a cosignature/v1 signs: header line, time line, checkpoint text."""
    _check_timestamp(timestamp)
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


@dataclass(frozen=True)
class CosignatureVerifier(PublicNoteKey):
    """A witness's cosignature/v1 public key (vkey signature type 0x04)."""

    SIGNATURE_TYPE: ClassVar[int] = SIGNATURE_TYPE_COSIGNATURE_V1
    WHAT: ClassVar[str] = "witness key"

    def check(self, checkpoint_text: str, signature: NoteSignature) -> int:
        """Return the cosignature's timestamp, or raise :class:`NoteError` saying why not."""
        if (signature.name, signature.key_id) != (self.name, self.key_id):
            raise NoteError(f"cosignature by {signature.key} is not from witness key {self.key}")
        if len(signature.signature) != _TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE:
            raise NoteError(
                f"cosignature by {self.key} is {len(signature.signature)} bytes, "
                "expected 8-byte timestamp and 64-byte signature"
            )
        timestamp = int.from_bytes(signature.signature[:_TIMESTAMP_SIZE], "big")
        if timestamp > MAX_TIMESTAMP:
            raise NoteError(f"cosignature by {self.key}: timestamp {timestamp} exceeds 2^63-1")
        try:
            message = cosignature_message(checkpoint_text, timestamp)
        except UnicodeEncodeError:
            raise NoteError("checkpoint text is not valid Unicode") from None
        if not ed25519_verify(self.public_key, message, signature.signature[_TIMESTAMP_SIZE:]):
            raise NoteError(
                f"cosignature by {self.key} does not verify over this checkpoint "
                f"at time {timestamp}"
            )
        return timestamp

    def verify(self, checkpoint_text: str, sig: NoteSignature) -> int | None:
        """Return the cosignature's timestamp if it verifies, else ``None``."""
        try:
            return self.check(checkpoint_text, sig)
        except NoteError:
            return None

    @property
    def key(self) -> str:
        """``<name>+<hex key id>``, how messages name the key."""
        return f"{self.name}+{self.key_id.hex()}"


@dataclass(frozen=True)
class CosignatureSigner:
    """A witness's cosignature/v1 private key; keep it secret."""

    name: str
    """The witness's key name."""
    key_id: bytes
    """4 bytes: ``SHA-256(name || 0x0A || 0x04 || public key)[:4]``."""
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)
    """The private key; never printed."""

    def __post_init__(self) -> None:
        check_key_name(self.name)
        public_key = ed25519_public_bytes(self.private_key)
        expected = compute_key_id(self.name, SIGNATURE_TYPE_COSIGNATURE_V1, public_key)
        check_key_id(self.name, self.key_id, expected, "witness signer key")

    @classmethod
    def generate(cls, name: str) -> CosignatureSigner:
        """Create a witness signer with a fresh random key."""
        check_key_name(name)
        key = Ed25519PrivateKey.generate()
        public_key = ed25519_public_bytes(key)
        return cls(name, compute_key_id(name, SIGNATURE_TYPE_COSIGNATURE_V1, public_key), key)

    @classmethod
    def from_key_string(cls, text: str) -> CosignatureSigner:
        """Parse ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x04 || seed)>``, checking the key id.

        This is the form transparency-dev/formats' NewSignerForCosignatureV1 reads.
        """
        name, key_id, seed = decode_key_string(
            text, SIGNATURE_TYPE_COSIGNATURE_V1, ED25519_KEY_SIZE, private=True
        )
        return cls(name, key_id, ed25519_private_key(seed))

    def key_string(self) -> str:
        """Return the private key string (type 0x04)."""
        return encode_key_string(
            self.name,
            self.key_id,
            SIGNATURE_TYPE_COSIGNATURE_V1,
            ed25519_seed(self.private_key),
            private=True,
        )

    def verifier(self) -> CosignatureVerifier:
        """Return the matching witness verifier."""
        return CosignatureVerifier(self.name, self.key_id, ed25519_public_bytes(self.private_key))

    def cosign(self, checkpoint_text: str, timestamp: int) -> NoteSignature:
        """Cosign a checkpoint's note text at `timestamp` (POSIX seconds).

        The text must parse as a checkpoint: a witness states it saw a tree head,
        so it never signs anything else.
        """
        Checkpoint.from_text(checkpoint_text)
        message = cosignature_message(checkpoint_text, timestamp)
        signature = timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + self.private_key.sign(message)
        return NoteSignature(self.name, self.key_id, signature)


def count_cosignatures(
    note: Note, checkpoint_text: str, witnesses: Sequence[CosignatureVerifier]
) -> list[str]:
    """Return the names of the `witnesses` with a valid cosignature in `note`, each name once.

    Invalid cosignatures, and signatures by keys not among `witnesses`, do not count;
    they are not errors, since the quorum decides. Compare ``len()`` with k for k-of-n.
    """
    names: list[str] = []
    for witness in witnesses:
        if witness.name in names:
            continue  # one vote per witness, even if it is listed under two keys
        if any(witness.verify(checkpoint_text, s) is not None for s in note.signatures):
            names.append(witness.name)
    return names


def _check_line(text: str, what: str) -> None:
    for char in text:
        if ord(char) < 0x20:
            raise NoteError(f"{what} contains control character U+{ord(char):04X}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError(f"{what} is not valid Unicode") from None


def _check_timestamp(timestamp: int) -> None:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise NoteError(f"cosignature timestamp {timestamp!r} is not an integer")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError(f"cosignature timestamp {timestamp} is outside 0..2^63-1")
