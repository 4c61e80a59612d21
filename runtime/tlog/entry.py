"""The bytes of one ledger entry: what the Merkle tree hashes and the entry bundles hold.

An entry is UTF-8 text, one ``key value`` pair per line, in this order, each line
ending in a newline::

    certfree/attestation/v1
    kind license_issued
    issuer 11350100MB01234565
    artefact 1.2.156.3005.2.11100000000013127D001.11350100MB01234565.000001.001.K
    sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    accepted 1763888400000

``kind`` is the AttestationKind without its prefix, lower case; ``issuer`` the
signing department's USCC; ``artefact`` an identifier that is not personal data;
``sha256`` the artefact's hash in lower-case hex; ``accepted`` the ledger's clock
in Unix milliseconds. Text because an auditor reads it with nothing but the spec;
fixed order and formatting because the tree hashes the exact bytes. Entries are
far below the 64 KiB limit of an entry bundle (``MAX_ENTRY_SIZE`` caps them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADER = "certfree/attestation/v1"
MAX_ENTRY_SIZE = 1024
"""Far below tlog-tiles' 65,535: the fields are short by rule."""

KINDS = (
    "license_issued",
    "license_status_changed",
    "proof_answered",
    "commitment_recorded",
    "commitment_checked",
    "key_published",
    "status_list_published",
)
"""The entry kinds, in the order of ``certfree.ledger.v1.AttestationKind`` (1-based)."""

_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")
_ARTEFACT = re.compile(r"^[A-Za-z0-9._:/+=-]{1,256}$")
_HEX = re.compile(r"^[0-9a-f]{64}$")
_MILLIS = re.compile(r"^(0|[1-9][0-9]{0,15})$")
# A resident ID (GB 11643) anywhere: area, birth date 18xx-20xx, sequence, check character.
_RESIDENT_ID = re.compile(
    r"(?<![0-9])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
    r"[0-9]{3}[0-9Xx](?![0-9A-Za-z])"
)


class EntryError(ValueError):
    """An entry is malformed or would carry personal data; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Entry:
    """One attestation as the ledger records it."""

    kind: str
    """One of KINDS."""
    issuer: str
    """The signing department's unified social credit code."""
    artefact_id: str
    """An identifier of the artefact that is not personal data."""
    artefact_sha256: bytes
    """SHA-256 of the artefact's exact bytes."""
    accepted_ms: int
    """When the ledger accepted it, Unix milliseconds."""

    def __post_init__(self) -> None:
        check_fields(self.kind, self.issuer, self.artefact_id, self.artefact_sha256)
        if not 0 <= self.accepted_ms < 10**16:
            raise EntryError("accepted", "must be Unix milliseconds")

    def encode(self) -> bytes:
        """The canonical bytes of the entry."""
        return encode_fields(
            self.kind, self.issuer, self.artefact_id, self.artefact_sha256, self.accepted_ms
        )

    @classmethod
    def decode(cls, data: bytes) -> Entry:
        """Parse canonical bytes; anything else (order, spacing, extra lines) is EntryError."""
        if len(data) > MAX_ENTRY_SIZE:
            raise EntryError("entry", f"longer than {MAX_ENTRY_SIZE} bytes")
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            raise EntryError("entry", "is not ASCII text") from None
        lines = text.split("\n")
        names = ("kind", "issuer", "artefact", "sha256", "accepted")
        if len(lines) != 7 or lines[0] != HEADER or lines[-1] != "":
            raise EntryError("entry", f"is not a {HEADER} entry of six lines")
        values = {}
        for name, line in zip(names, lines[1:6], strict=True):
            key, _, value = line.partition(" ")
            if key != name or not value or " " in value:
                raise EntryError("entry", f"expected line {name!r}, found {line!r}")
            values[name] = value
        if not _HEX.match(values["sha256"]):
            raise EntryError("sha256", "must be 64 lower-case hex digits")
        if not _MILLIS.match(values["accepted"]):
            raise EntryError("accepted", "must be a decimal without leading zeros")
        entry = cls(
            kind=values["kind"],
            issuer=values["issuer"],
            artefact_id=values["artefact"],
            artefact_sha256=bytes.fromhex(values["sha256"]),
            accepted_ms=int(values["accepted"]),
        )
        if entry.encode() != data:
            raise EntryError("entry", "is not in canonical form")
        return entry


def check_fields(kind: str, issuer: str, artefact_id: str, artefact_sha256: bytes) -> None:
    """Raise EntryError unless these are the fields of a well-formed entry."""
    if kind not in KINDS:
        raise EntryError("kind", f"{kind!r} is not an attestation kind")
    if not _USCC.match(issuer):
        raise EntryError("issuer_department", "must be an 18-character USCC")
    check_artefact_id(artefact_id)
    if len(artefact_sha256) != 32:
        raise EntryError("artefact_sha256", "must be 32 bytes")


def encode_fields(
    kind: str, issuer: str, artefact_id: str, artefact_sha256: bytes, accepted_ms: int
) -> bytes:
    """The canonical bytes of an entry of fields that :func:`check_fields` accepted.

    The sequencer encodes with this directly: its submissions were checked once, when
    they were made, and checking them again per entry was a tenth of its CPU.
    """
    return (
        f"{HEADER}\nkind {kind}\nissuer {issuer}\nartefact {artefact_id}\n"
        f"sha256 {artefact_sha256.hex()}\naccepted {accepted_ms}\n"
    ).encode()


def check_artefact_id(artefact_id: str) -> None:
    """Refuse identifiers that are, or contain, a holder's identity in clear.

    A department's USCC inside a GB/T 36904 license identifier is fine (departments
    are public bodies); an identifier that is nothing but a USCC names a holder
    organisation, and a resident ID anywhere names a person.
    """
    if not _ARTEFACT.match(artefact_id):
        raise EntryError("artefact_id", "must be 1-256 of [A-Za-z0-9._:/+=-]")
    if _RESIDENT_ID.search(artefact_id):
        raise EntryError("artefact_id", "contains what looks like a resident ID; hash or salt it")
    if _USCC.match(artefact_id):
        raise EntryError("artefact_id", "is a bare USCC (a holder in clear); hash or salt it")
