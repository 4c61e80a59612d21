"""The ledger entry's bytes: one canonical text form, and no personal data in it."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genproto.certfree.ledger.v1 import ledger_pb2
from runtime.tlog.entry import KINDS, Entry, EntryError, check_artefact_id

ISSUER = "11350100MB01234565"


def entry(**fields: object) -> Entry:
    """A well-formed entry, with `fields` changed."""
    values: dict[str, object] = {
        "kind": "license_issued",
        "issuer": ISSUER,
        "artefact_id": "1.2.156.3005.2.11100000000013127D001.11350100MB01234565.000001.001.K",
        "artefact_sha256": hashlib.sha256(b"license").digest(),
        "accepted_ms": 1_763_888_400_000,
    }
    values.update(fields)
    return Entry(**values)  # type: ignore[arg-type]


class TestEncoding:
    """Encoding is canonical and round-trips; anything else is refused."""

    def test_encoding_is_the_documented_text(self) -> None:
        """Six lines in a fixed order, as docs/ledger.md shows."""
        assert entry().encode() == (
            b"certfree/attestation/v1\nkind license_issued\nissuer 11350100MB01234565\n"
            b"artefact 1.2.156.3005.2.11100000000013127D001.11350100MB01234565.000001.001.K\n"
            b"sha256 " + hashlib.sha256(b"license").hexdigest().encode() + b"\n"
            b"accepted 1763888400000\n"
        )

    @given(
        kind=st.sampled_from(KINDS),
        digest=st.binary(min_size=32, max_size=32),
        millis=st.integers(min_value=0, max_value=10**15),
        artefact=st.from_regex(r"\Ar-[A-Za-z0-9._:/+=-]{1,60}\Z"),
    )
    def test_round_trip(self, kind: str, digest: bytes, millis: int, artefact: str) -> None:
        """decode(encode(e)) == e for every valid entry."""
        original = entry(
            kind=kind, artefact_sha256=digest, accepted_ms=millis, artefact_id=artefact
        )
        assert Entry.decode(original.encode()) == original

    @pytest.mark.parametrize(
        "mangle",
        [
            lambda b: b.replace(b"kind ", b"kind  "),
            lambda b: b.replace(b"accepted 1763888400000\n", b"accepted 01763888400000\n"),
            lambda b: b + b"extra line\n",
            lambda b: b.rstrip(b"\n"),
            lambda b: b.replace(b"certfree/attestation/v1", b"certfree/attestation/v2"),
            lambda b: b.upper(),
        ],
    )
    def test_non_canonical_bytes_are_refused(self, mangle: object) -> None:
        """Any change of spacing, order, version or case is not an entry."""
        with pytest.raises(EntryError):
            Entry.decode(mangle(entry().encode()))  # type: ignore[operator]

    def test_kinds_follow_the_contract_enum(self) -> None:
        """KINDS[i] is AttestationKind i+1, by name."""
        for number, kind in enumerate(KINDS, start=1):
            assert ledger_pb2.AttestationKind.Name(number) == f"ATTESTATION_KIND_{kind.upper()}"  # type: ignore[arg-type]
        assert len(ledger_pb2.AttestationKind.keys()) == len(KINDS) + 1


class TestNoPersonalData:
    """An artefact identifier never carries a holder in clear."""

    @pytest.mark.parametrize(
        "artefact_id",
        [
            "35010219900101123X",
            "case-350102199001011234-answer",
            "91350100M000100Y43",
        ],
    )
    def test_identity_in_clear_is_refused(self, artefact_id: str) -> None:
        """A resident ID anywhere, or an identifier that is just a USCC, is refused."""
        with pytest.raises(EntryError, match="artefact_id"):
            check_artefact_id(artefact_id)

    def test_license_identifier_with_issuer_uscc_is_accepted(self) -> None:
        """A GB/T 36904 identifier names the issuing department, which is public."""
        check_artefact_id("1.2.156.3005.2.11100000000013127D001.11350100MB01234565.000001.001.K")
