"""Offline receipts: C2SP tlog-proof, with the entry itself as the extra data.

A receipt proves, with nothing but itself, the artefact and the log's verifier key,
that the artefact was attested at an index of the log::

    c2sp.org/tlog-proof@v1
    extra <base64 of the entry's canonical bytes>
    index 73894
    <base64 hash>        (the inclusion proof, leaf's sibling first)
    ...

    <the signed checkpoint note, verbatim>

The extra data is not trusted: the verifier recomputes the leaf from it, checks the
artefact's hash against it, and the inclusion proof against the signed checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from runtime.tlog import merkle
from runtime.tlog.checkpoint import Checkpoint, open_checkpoint
from runtime.tlog.entry import Entry, EntryError
from runtime.tlog.note import NoteError, Verifier

HEADER = "c2sp.org/tlog-proof@v1"
_INDEX = re.compile(r"^index (0|[1-9][0-9]*)$")


class ReceiptError(ValueError):
    """A receipt is malformed or does not prove what it claims; the message says which check."""


@dataclass(frozen=True)
class Receipt:
    """A parsed tlog-proof."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint_note: str
    extra: bytes = b""

    def to_text(self) -> str:
        """The receipt in tlog-proof text form."""
        lines = [HEADER]
        if self.extra:
            lines.append("extra " + base64.b64encode(self.extra).decode())
        lines.append(f"index {self.index}")
        lines += [base64.b64encode(h).decode() for h in self.proof]
        return "\n".join(lines) + "\n\n" + self.checkpoint_note

    @classmethod
    def from_text(cls, text: str) -> Receipt:
        """Parse a tlog-proof; ReceiptError names the line that is wrong."""
        head, separator, note = text.partition("\n\n")
        if not separator:
            raise ReceiptError("no empty line separates the proof from the checkpoint")
        lines = head.split("\n")
        if lines[0] != HEADER:
            raise ReceiptError(f"the first line is not {HEADER!r}")
        position = 1
        extra = b""
        if len(lines) > 1 and lines[1].startswith("extra "):
            extra = _b64(lines[1].removeprefix("extra "), "extra")
            position = 2
        if position >= len(lines) or not (match := _INDEX.match(lines[position])):
            raise ReceiptError("missing or malformed 'index' line")
        proof = []
        for line in lines[position + 1 :]:
            digest = _b64(line, "proof hash")
            if len(digest) != merkle.HASH_SIZE:
                raise ReceiptError("a proof hash is not 32 bytes")
            proof.append(digest)
        return cls(int(match.group(1)), tuple(proof), note, extra)


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ReceiptError(f"the {what} is not valid base64") from None


def verify_receipt(
    text: str, artefact: bytes, log: Verifier, *, origin: str | None = None
) -> tuple[Entry, Checkpoint]:
    """Check a receipt end to end; return the attested entry and the checkpoint.

    Checks, in order: the receipt parses; the checkpoint is signed by `log` (and has
    `origin`); the extra data is a canonical certfree entry; the entry's hash is the
    artefact's SHA-256; the inclusion proof leads from that entry to the checkpoint's root.
    """
    receipt = Receipt.from_text(text)
    try:
        checkpoint, _ = open_checkpoint(receipt.checkpoint_note, log, origin=origin)
    except NoteError as error:
        raise ReceiptError(f"checkpoint: {error}") from None
    try:
        entry = Entry.decode(receipt.extra)
    except EntryError as error:
        raise ReceiptError(f"entry: {error}") from None
    if entry.artefact_sha256 != hashlib.sha256(artefact).digest():
        raise ReceiptError("the artefact's SHA-256 is not the one the entry attests")
    try:
        merkle.verify_inclusion(
            merkle.leaf_hash(receipt.extra),
            receipt.index,
            checkpoint.size,
            receipt.proof,
            checkpoint.root_hash,
        )
    except merkle.ProofError as error:
        raise ReceiptError(f"inclusion: {error}") from None
    return entry, checkpoint
