"""Signed notes, checkpoints and cosignatures against the specs' published examples."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime.tlog.checkpoint import (
    Checkpoint,
    CosignatureSigner,
    CosignatureVerifier,
    cosignature_message,
    count_cosignatures,
    open_checkpoint,
    sign_checkpoint,
)
from runtime.tlog.note import (
    Note,
    NoteError,
    NoteSignature,
    Signer,
    Verifier,
    open_note,
    parse_note,
    sign_note,
)

# golang.org/x/mod/sumdb/note, package documentation ("Example") and note_test.go
# (TestNewVerifier, TestNewSigner, TestSign, TestOpen).
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
PETER_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZS"
    "NXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01o"
    "OTGwnWLox33WWd1RvMc+QQ=\n"
)
PETER_NOTE = PETER_TEXT + "\n" + PETER_SIG

# C2SP signed-note.md, the example at the top (no key is published for it).
QUASIMODO_NOTE = (
    "Ognuno sta solo sul cuor della terra\n"
    "trafitto da un raggio di sole:\n"
    "\n"
    "ed è subito sera.\n"
    "\n"
    "— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9o"
    "JKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)

# C2SP tlog-checkpoint.md, the example at the top; the same lines open tlog-cosignature.md.
SOFA_TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SOFA_LOG_SIG = (
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8="
)
SOFA_NOTE = SOFA_TEXT + "\n— example.com/behind-the-sofa " + SOFA_LOG_SIG + "\n"
# tlog-cosignature.md: the witness line of the example and its "Ed25519 signed message".
SOFA_WITNESS_LINE = (
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dl"
    "rDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
SOFA_COSIGNED_MESSAGE = (
    "cosignature/v1\ntime 1679315147\n"
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)

# The Go checksum database's key, as pinned in cmd/go (src/cmd/go/internal/modfetch/key.go).
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
# A real sum.golang.org checkpoint from transparency-dev/trillian-tessera's
# internal/parse tests (BenchmarkCheckpointUnsafe; the final newline restored).
SUMDB_NOTE = (
    "go.sum database tree\n31700353\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n\n"
    "— sum.golang.org Az3grnmrIUEDFqHzAElIQCPNoRFRAAdFo47fooyWKMHb89k11GJh5zHIfNCOBmwn/C3Y"
    "I8oW9/C8DJ87F61QqspBYwM=\n"
)

# transparency-dev/formats note/note_cosigv1_test.go (TestCoSigV1NewVerifier,
# TestCosignatureTimestamp): a deployed witness's type-0x04 key, a type-0x01 key, and
# a cosignature whose timestamp is 1727964367.
REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
TEST_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
FORMATS_COSIGNATURE = (
    "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOwor"
    "DcFiEBYJXORmnFBOBA=="
)

ROOT = hashlib.sha256(b"certfree").digest()


def b64(raw: bytes) -> str:
    """Standard base64, as the specs use."""
    return base64.b64encode(raw).decode()


def checkpoint(size: int = 7, origin: str = "ledger.example/log") -> Checkpoint:
    """A checkpoint for tests."""
    return Checkpoint(origin, size, ROOT)


class TestPeterNeumannExample:
    """The sumdb/note example keys and note work byte for byte."""

    def test_verifier_key_parses_with_its_key_id(self) -> None:
        """The verifier key names PeterNeumann with key id c74f20a3 and a 32-byte key."""
        verifier = Verifier.from_key_string(PETER_VKEY)
        assert verifier.name == "PeterNeumann"
        assert verifier.key_id == bytes.fromhex("c74f20a3")
        assert len(verifier.public_key) == 32
        assert verifier.key_string() == PETER_VKEY

    def test_signer_key_parses_and_matches_the_verifier(self) -> None:
        """The signer key yields the published verifier key and prints back unchanged."""
        signer = Signer.from_key_string(PETER_SKEY)
        assert signer.key_id == bytes.fromhex("c74f20a3")
        assert signer.verifier() == Verifier.from_key_string(PETER_VKEY)
        assert signer.key_string() == PETER_SKEY

    def test_example_note_verifies(self) -> None:
        """Opening the example note with PeterNeumann's key gives back its text."""
        verifier = Verifier.from_key_string(PETER_VKEY)
        note, verified_by = open_note(PETER_NOTE, [verifier])
        assert note.text == PETER_TEXT
        assert verified_by == [verifier]
        assert note.signatures[0].key == "PeterNeumann+c74f20a3"

    def test_resigning_gives_the_same_note(self) -> None:
        """Ed25519 is deterministic, so signing the example text reproduces the note exactly."""
        assert sign_note(PETER_TEXT, Signer.from_key_string(PETER_SKEY)) == PETER_NOTE

    def test_resigning_replaces_a_signature_by_the_same_key(self) -> None:
        """An existing signature by the signing key is dropped, as in Go's TestSign."""
        stale = NoteSignature("PeterNeumann", bytes.fromhex("c74f20a3"), b"BAD")
        signed = sign_note(PETER_TEXT, Signer.from_key_string(PETER_SKEY), existing=[stale])
        assert signed == PETER_NOTE

    def test_doubly_signed_note_verifies_with_both_keys(self) -> None:
        """The documented PeterNeumann + EnochRoot note verifies under both keys."""
        peter, enoch = Verifier.from_key_string(PETER_VKEY), Verifier.from_key_string(ENOCH_VKEY)
        _, verified_by = open_note(PETER_NOTE + ENOCH_SIG, [peter, enoch])
        assert verified_by == [peter, enoch]

    def test_unknown_second_signature_is_ignored(self) -> None:
        """With only PeterNeumann trusted, EnochRoot's line is kept but does not count."""
        peter = Verifier.from_key_string(PETER_VKEY)
        note, verified_by = open_note(PETER_NOTE + ENOCH_SIG, [peter])
        assert verified_by == [peter]
        assert [s.name for s in note.signatures] == ["PeterNeumann", "EnochRoot"]

    def test_every_substring_and_single_byte_change_of_the_keys_is_rejected(self) -> None:
        """Go's mangling test: no proper substring or one-byte change of a key string parses."""
        for key, parse in (
            (PETER_VKEY, Verifier.from_key_string),
            (PETER_SKEY, Signer.from_key_string),
        ):
            for start in range(len(key) + 1):
                for end in range(start + 1, len(key) + 1):
                    if (start, end) != (0, len(key)):
                        with pytest.raises(NoteError):
                            parse(key[start:end])
            for i in range(len(key)):
                with pytest.raises(NoteError):
                    parse(key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :])


class TestSpecExamples:
    """The C2SP examples parse, and the one whose key is public verifies."""

    def test_signed_note_example_keeps_its_empty_line_in_the_text(self) -> None:
        """The text is split from the signatures at the last empty line."""
        note = parse_note(QUASIMODO_NOTE)
        assert note.text.endswith("\n\ned è subito sera.\n")
        assert [s.name for s in note.signatures] == ["quasimodo.example/salvatore"]
        assert len(note.signatures[0].signature) == 64

    def test_checkpoint_example_parses(self) -> None:
        """The tlog-checkpoint example's text is a valid checkpoint that prints back unchanged."""
        parsed = Checkpoint.from_text(parse_note(SOFA_NOTE).text)
        assert parsed.origin == "example.com/behind-the-sofa"
        assert parsed.size == 20852163
        assert parsed.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
        assert parsed.to_text() == SOFA_TEXT

    def test_checkpoint_example_signature_is_sumdbs_over_the_go_origin(self) -> None:
        """The example's signature has sum.golang.org's key id and verifies only for Go's origin."""
        assert parse_note(SOFA_NOTE).signatures[0].key_id.hex() == "033de0ae"
        sumdb = Verifier.from_key_string(SUMDB_VKEY)
        go_text = SOFA_TEXT.replace("example.com/behind-the-sofa", "go.sum database tree")
        go_note = go_text + "\n— sum.golang.org " + SOFA_LOG_SIG + "\n"
        parsed, _ = open_checkpoint(go_note, sumdb, origin="go.sum database tree")
        assert parsed.size == 20852163
        assert not sumdb.verify(SOFA_TEXT, parse_note(SOFA_NOTE).signatures[0].signature)

    def test_real_sumdb_checkpoint_verifies(self) -> None:
        """A checkpoint signed by sum.golang.org opens with the key pinned in cmd/go."""
        parsed, note = open_checkpoint(SUMDB_NOTE, Verifier.from_key_string(SUMDB_VKEY))
        assert (parsed.origin, parsed.size) == ("go.sum database tree", 31700353)
        assert note.text == parsed.to_text()

    def test_cosigned_message_matches_the_spec(self) -> None:
        """The bytes a witness signs are exactly the spec's example message."""
        assert cosignature_message(SOFA_TEXT, 1679315147) == SOFA_COSIGNED_MESSAGE.encode()

    def test_cosignature_example_carries_the_spec_timestamp(self) -> None:
        """The witness line holds key id, then timestamp 1679315147 and a 64-byte signature."""
        note = parse_note(SOFA_NOTE + SOFA_WITNESS_LINE)
        witness = note.signatures[1]
        assert witness.name == "witness.example.com/w1"
        assert len(witness.signature) == 72
        assert int.from_bytes(witness.signature[:8], "big") == 1679315147

    def test_formats_cosignature_timestamp(self) -> None:
        """transparency-dev/formats' cosignature vector decodes to timestamp 1727964367."""
        raw = base64.b64decode(FORMATS_COSIGNATURE)
        signature = NoteSignature("w", raw[:4], raw[4:])
        assert int.from_bytes(signature.signature[:8], "big") == 1727964367

    def test_deployed_witness_key_parses_as_a_cosignature_key(self) -> None:
        """A type-0x04 vkey parses with its key id; a type-0x01 vkey does not, and vice versa."""
        remora = CosignatureVerifier.from_key_string(REMORA_VKEY)
        assert remora.key_id.hex() == "da77ade7"
        assert remora.key_string() == REMORA_VKEY
        assert Verifier.from_key_string(TEST_VKEY).key_string() == TEST_VKEY
        with pytest.raises(NoteError, match="signature type 0x04, expected 0x01"):
            Verifier.from_key_string(REMORA_VKEY)
        with pytest.raises(NoteError, match="signature type 0x01, expected 0x04"):
            CosignatureVerifier.from_key_string(TEST_VKEY)


class TestKeyStrings:
    """Key strings round-trip, and malformed ones are rejected with the reason."""

    def test_generated_keys_round_trip(self) -> None:
        """A generated signer prints and parses back to an equal signer and verifier."""
        signer = Signer.generate("ledger.example/log")
        again = Signer.from_key_string(signer.key_string())
        assert again == signer
        assert again.verifier() == Verifier.from_key_string(signer.verifier().key_string())
        assert again.sign("x\n") == signer.sign("x\n")

    def test_private_key_is_not_printed(self) -> None:
        """repr() of a signer shows no key material."""
        signer = Signer.from_key_string(PETER_SKEY)
        assert "AYEKF" not in repr(signer)
        assert "private_key" not in repr(signer)

    @pytest.mark.parametrize(
        ("key", "reason"),
        [
            (
                "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T!",
                "not valid base64",
            ),
            (
                "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
                "not valid base64",
            ),
            (
                "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                "key id c74f20a4 does not match",
            ),
            (
                "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                "signature type 0x65",
            ),
            (
                "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
                "not valid base64",  # Go: wrong length; here its last group is non-canonical
            ),
            ("PeterNeumann+c74f20a3", "not <name>\\+<hex key id>\\+<base64 key>"),
            (
                "PeterNeumann+0xf20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                "not 8 hex digits",
            ),
            (
                "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                "contains space",
            ),
            ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key name is empty"),
            ("rekor.sigstore.dev+12345678+AwEB", "signature type 0x03"),
            ("x+12345678+", "key is empty"),
        ],
    )
    def test_bad_verifier_keys_are_rejected(self, key: str, reason: str) -> None:
        """Each malformed verifier key fails with a message naming the broken part."""
        with pytest.raises(NoteError, match=reason):
            Verifier.from_key_string(key)

    def test_uppercase_key_id_is_accepted_and_printed_lowercase(self) -> None:
        """Like Go, hex digits of either case parse; output is lowercase."""
        verifier = Verifier.from_key_string(PETER_VKEY.replace("c74f20a3", "C74F20A3"))
        assert verifier.key_string() == PETER_VKEY

    @pytest.mark.parametrize(
        ("key", "reason"),
        [
            (PETER_SKEY.removeprefix("PRIVATE+KEY+"), "does not start with 'PRIVATE\\+KEY\\+'"),
            (PETER_SKEY.replace("c74f20a3", "c74f20a4"), "key id c74f20a4 does not match"),
            (PETER_SKEY.replace("+AYEK", "+A4EK"), "signature type 0x03"),
            (PETER_SKEY[:-1], "not valid base64"),
            (PETER_SKEY[:-4], "key is 29 bytes, expected 32"),
        ],
    )
    def test_bad_signer_keys_are_rejected_without_echoing_the_secret(
        self, key: str, reason: str
    ) -> None:
        """Each malformed signer key fails with a reason that does not repeat the key."""
        with pytest.raises(NoteError, match=reason) as caught:
            Signer.from_key_string(key)
        assert "AYEKFALVFGyNhPJEMzD1QIDr" not in str(caught.value)

    def test_verifier_with_wrong_key_id_cannot_be_built(self) -> None:
        """Constructing a Verifier checks that the key id belongs to the name and key."""
        peter = Verifier.from_key_string(PETER_VKEY)
        with pytest.raises(NoteError, match="does not match the key"):
            Verifier("EnochRoot", peter.key_id, peter.public_key)
        assert Verifier.from_public_key("PeterNeumann", peter.public_key) == peter


class TestParseNote:
    """Malformed notes are rejected, each with the check that failed."""

    @pytest.mark.parametrize(
        ("note", "reason"),
        [
            (PETER_TEXT, "no blank line"),
            (PETER_TEXT + "\n", "no signature lines"),
            (PETER_TEXT + "\n" + PETER_SIG[:-1], "does not end with a newline"),
            ("\x01" + PETER_NOTE, "control character U\\+0001"),
            (PETER_NOTE.replace("\n", "\r\n", 1), "control character U\\+000D"),
            (PETER_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name"), "valid base64"),
            (
                PETER_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter+Neumann"),
                "contains '\\+'",
            ),
            (PETER_NOTE + "Unexpected line.\n", "signature line 2 does not start with an em dash"),
            (PETER_TEXT + "\n- PeterNeumann AAAAAAAA\n", "does not start with an em dash"),
            (PETER_TEXT + "\n— PeterNeumann\n", "no space between key name and signature"),
            (PETER_TEXT + "\n— PeterNeumann \n", "too short"),
            (PETER_TEXT + "\n— PeterNeumann AAAAAA==\n", "4 bytes, too short"),
            (PETER_TEXT + "\n— PeterNeumann AAAAAAB=\n", "not valid base64"),
            (PETER_TEXT + "\n— \u00a0 AAAAAAAA\n", "contains space"),
            (PETER_TEXT + "\n" + PETER_SIG * 101, "101 signatures, more than 100"),
            (PETER_NOTE + "\n", "no signature lines"),
        ],
    )
    def test_malformed_notes_are_rejected(self, note: str, reason: str) -> None:
        """Go's bad messages and more: each fails to parse with a specific reason."""
        with pytest.raises(NoteError, match=reason):
            parse_note(note)

    def test_invalid_utf8_bytes_are_rejected(self) -> None:
        """A note given as bytes must be UTF-8."""
        with pytest.raises(NoteError, match="not valid UTF-8 at byte 0"):
            parse_note(b"\xff" + PETER_NOTE.encode())
        with pytest.raises(NoteError, match="not valid Unicode"):
            parse_note("\udcff" + PETER_NOTE)

    def test_bytes_and_text_parse_alike(self) -> None:
        """The same note as bytes or str gives the same result."""
        assert parse_note(PETER_NOTE.encode()) == parse_note(PETER_NOTE)

    def test_one_hundred_signatures_are_accepted(self) -> None:
        """The limit is 100 lines, well above the 16 the spec requires."""
        assert len(parse_note(PETER_TEXT + "\n" + PETER_SIG * 100).signatures) == 100

    def test_signed_note_round_trips_through_parse(self) -> None:
        """Parsing a note and re-serialising its signatures gives the same note."""
        note = parse_note(PETER_NOTE + ENOCH_SIG)
        assert sign_note(note.text, existing=note.signatures) == PETER_NOTE + ENOCH_SIG


class TestSignNote:
    """Signing refuses texts that could not be parsed back."""

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("no newline", "does not end with a newline"),
            ("tab\there\n", "control character U\\+0009"),
        ],
    )
    def test_bad_text_is_refused(self, text: str, reason: str) -> None:
        """Text must end in a newline and hold no control characters."""
        with pytest.raises(NoteError, match=reason):
            sign_note(text, Signer.generate("a"))

    def test_note_needs_a_signature(self) -> None:
        """No signer and no existing signature is an error, not an unsigned note."""
        with pytest.raises(NoteError, match="at least one signature"):
            sign_note("text\n")

    def test_text_with_empty_lines_round_trips(self) -> None:
        """Empty lines inside or at the end of the text survive signing and opening."""
        signer = Signer.generate("a.example/k")
        for text in ("a\n\nb\n", "Note\n\n", "\n"):
            note, _ = open_note(sign_note(text, signer), [signer.verifier()])
            assert note.text == text

    def test_new_signatures_come_before_existing_ones(self) -> None:
        """A checkpoint's log signature thus leads the cosignatures."""
        first, second = Signer.generate("first"), Signer.generate("second")
        existing = parse_note(sign_note("t\n", second)).signatures
        assert [
            s.name for s in parse_note(sign_note("t\n", first, existing=existing)).signatures
        ] == [
            "first",
            "second",
        ]


class TestOpenNote:
    """A note opens only with a valid signature from a trusted key."""

    def test_tampered_text_names_the_key_that_failed(self) -> None:
        """Changing one character of the text breaks the known key's signature."""
        tampered = PETER_NOTE.replace("answer", "Answer")
        with pytest.raises(NoteError, match="known key PeterNeumann\\+c74f20a3 does not verify"):
            open_note(tampered, [Verifier.from_key_string(PETER_VKEY)])

    def test_corrupted_signature_from_known_key_rejects_the_note(self) -> None:
        """Go's case: a mangled PeterNeumann signature fails even though the line parses."""
        corrupted = PETER_SIG[:40] + "ABCD" + PETER_SIG[40:]
        with pytest.raises(NoteError, match="does not verify"):
            open_note(PETER_TEXT + "\n" + corrupted, [Verifier.from_key_string(PETER_VKEY)])

    def test_bad_known_signature_rejects_even_beside_a_good_one(self) -> None:
        """One verified signature does not excuse another known key's failure."""
        peter, enoch = Verifier.from_key_string(PETER_VKEY), Verifier.from_key_string(ENOCH_VKEY)
        bad_enoch = ENOCH_SIG[:40] + "ABCD" + ENOCH_SIG[40:]
        with pytest.raises(NoteError, match="EnochRoot\\+af0cfe78 does not verify"):
            open_note(PETER_NOTE + bad_enoch, [peter, enoch])

    def test_wrong_key_is_an_unknown_key(self) -> None:
        """A different key under the same name has another key id, so nothing verifies."""
        impostor = Signer.generate("PeterNeumann").verifier()
        with pytest.raises(
            NoteError, match=r"no signature from a trusted key.*PeterNeumann\+c74f20a3"
        ):
            open_note(PETER_NOTE, [impostor])

    def test_only_unknown_signatures_is_an_error(self) -> None:
        """A note signed only by keys nobody trusts is rejected, listing those keys."""
        with pytest.raises(
            NoteError, match="unknown keys PeterNeumann\\+c74f20a3, EnochRoot\\+af0cfe78"
        ):
            open_note(PETER_NOTE + ENOCH_SIG, [])

    def test_same_name_and_id_but_other_key_is_ambiguous(self) -> None:
        """Two different trusted keys under one name and key id are a configuration error."""
        peter = Verifier.from_key_string(PETER_VKEY)
        twin = object.__new__(Verifier)
        object.__setattr__(twin, "name", peter.name)
        object.__setattr__(twin, "key_id", peter.key_id)
        object.__setattr__(twin, "public_key", bytes(32))
        with pytest.raises(NoteError, match="share name and key id"):
            open_note(PETER_NOTE, [peter, twin])

    def test_repeated_verifier_is_listed_once(self) -> None:
        """The same key given twice, or a signature repeated, verifies once."""
        peter = Verifier.from_key_string(PETER_VKEY)
        _, verified_by = open_note(PETER_NOTE + PETER_SIG, [peter, peter])
        assert verified_by == [peter]


class TestCheckpointText:
    """Checkpoint text follows tlog-checkpoint exactly, in both directions."""

    def test_round_trip_with_extensions(self) -> None:
        """Text out and back gives an equal checkpoint, extension lines included."""
        cp = Checkpoint("o.example/log", 0, ROOT, ("ext one", "ext two"))
        text = cp.to_text()
        assert text == f"o.example/log\n0\n{b64(ROOT)}\next one\next two\n"
        assert Checkpoint.from_text(text) == cp

    @given(size=st.integers(0, 2**64 - 1), root=st.binary(min_size=32, max_size=32))
    def test_any_size_and_root_round_trip(self, size: int, root: bytes) -> None:
        """Every uint64 size and 32-byte root survives to_text/from_text."""
        cp = Checkpoint("log", size, root)
        assert Checkpoint.from_text(cp.to_text()) == cp

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            (f"log\n007\n{b64(ROOT)}\n", "'007' has a leading zero"),
            (f"log\n00\n{b64(ROOT)}\n", "leading zero"),
            (f"log\n+7\n{b64(ROOT)}\n", "not a decimal number"),
            (f"log\n-7\n{b64(ROOT)}\n", "not a decimal number"),
            (f"log\n 7\n{b64(ROOT)}\n", "not a decimal number"),
            (f"log\n1_000\n{b64(ROOT)}\n", "not a decimal number"),
            (f"log\n\u0667\n{b64(ROOT)}\n", "not a decimal number"),
            (f"log\n\n{b64(ROOT)}\n", "not a decimal number"),
            (f"log\n18446744073709551616\n{b64(ROOT)}\n", "outside 0..2\\^64-1"),
            ("log\n7\nthisisnotright\n", "not valid base64"),
            (f"log\n7\n{b64(ROOT)[:-1]}\n", "not valid base64"),
            (f"log\n7\n{b64(ROOT[:31])}\n", "31 bytes, not 32"),
            (f"log\n7\n{b64(ROOT + b'x')}\n", "33 bytes, not 32"),
            (f"log\n7\n{b64(ROOT)}", "does not end with a newline"),
            ("log\n7\n", "2 line\\(s\\)"),
            (f"7\n{b64(ROOT)}\n", "2 line\\(s\\)"),
            (f"\n7\n{b64(ROOT)}\n", "origin line is empty"),
            (f"log\n7\n{b64(ROOT)}\n\n", "extension line 1 is empty"),
            (f"log\n7\n{b64(ROOT)}\next\n\n", "extension line 2 is empty"),
        ],
    )
    def test_malformed_checkpoints_are_rejected(self, text: str, reason: str) -> None:
        """Each violation of the format is refused with the line at fault."""
        with pytest.raises(NoteError, match=reason):
            Checkpoint.from_text(text)

    @pytest.mark.parametrize(
        ("kwargs", "reason"),
        [
            ({"origin": ""}, "origin is empty"),
            ({"origin": "a\nb"}, "control character U\\+000A"),
            ({"size": -1}, "outside"),
            ({"size": True}, "not an integer"),
            ({"root_hash": ROOT[:31]}, "31 bytes"),
            ({"extensions": ("",)}, "extension line 1 is empty"),
        ],
    )
    def test_invalid_checkpoints_cannot_be_built(
        self, kwargs: dict[str, object], reason: str
    ) -> None:
        """The constructor enforces what from_text enforces, so to_text is always valid."""
        fields: dict[str, object] = {"origin": "log", "size": 1, "root_hash": ROOT, **kwargs}
        with pytest.raises(NoteError, match=reason):
            Checkpoint(**fields)  # type: ignore[arg-type]


class TestOpenCheckpoint:
    """A checkpoint opens only with the log's own signature and, if asked, its origin."""

    def test_signed_checkpoint_opens(self) -> None:
        """Signing and opening gives back the checkpoint and the note."""
        log = Signer.generate("ledger.example/log")
        note = sign_checkpoint(checkpoint(), log)
        opened, parsed = open_checkpoint(note, log.verifier(), origin="ledger.example/log")
        assert opened == checkpoint()
        assert parsed.text == checkpoint().to_text()

    def test_wrong_origin_is_rejected(self) -> None:
        """A log's valid signature on another origin is still refused."""
        log = Signer.generate("ledger.example/log")
        note = sign_checkpoint(checkpoint(origin="other.example/log"), log)
        with pytest.raises(
            NoteError, match=re.escape("origin 'other.example/log' is not the expected")
        ):
            open_checkpoint(note, log.verifier(), origin="ledger.example/log")

    def test_wrong_log_key_is_rejected(self) -> None:
        """A checkpoint signed by another key of the same name does not open."""
        log, impostor = Signer.generate("ledger.example/log"), Signer.generate("ledger.example/log")
        with pytest.raises(NoteError, match=re.escape("not signed by log key ledger.example/log")):
            open_checkpoint(sign_checkpoint(checkpoint(), impostor), log.verifier())

    def test_tampered_size_is_rejected(self) -> None:
        """Changing the size breaks the log's signature."""
        log = Signer.generate("ledger.example/log")
        note = sign_checkpoint(checkpoint(7), log).replace("\n7\n", "\n8\n", 1)
        with pytest.raises(NoteError, match="does not verify"):
            open_checkpoint(note, log.verifier())

    def test_cosignatures_alone_do_not_open_a_checkpoint(self) -> None:
        """A note with only witness lines lacks the log signature."""
        log = Signer.generate("ledger.example/log")
        witness = CosignatureSigner.generate("w.example/1")
        text = checkpoint().to_text()
        note = sign_note(text, existing=[witness.cosign(text, 1_700_000_000)])
        with pytest.raises(NoteError, match=re.escape("signed only by unknown keys w.example/1")):
            open_checkpoint(note, log.verifier())

    def test_malformed_note_reports_its_own_fault(self) -> None:
        """A note that does not parse says so, rather than blaming the signature."""
        log = Signer.generate("ledger.example/log")
        with pytest.raises(NoteError, match=r"^note has no blank line"):
            open_checkpoint(checkpoint().to_text(), log.verifier())

    def test_valid_signature_on_a_non_checkpoint_is_rejected(self) -> None:
        """The log's signature over text that is not a checkpoint does not make it one."""
        log = Signer.generate("ledger.example/log")
        with pytest.raises(NoteError, match="leading zero"):
            open_checkpoint(sign_note(f"log\n01\n{b64(ROOT)}\n", log), log.verifier())


class TestCosignatures:
    """cosignature/v1 signatures verify with the witness key and return their timestamp."""

    def test_cosignature_verifies_and_returns_its_timestamp(self) -> None:
        """The right key over the right checkpoint gives back the signing time."""
        witness = CosignatureSigner.generate("w.example/1")
        text = checkpoint().to_text()
        signature = witness.cosign(text, 1679315147)
        assert signature.key_id == witness.key_id
        assert signature.signature[:8] == (1679315147).to_bytes(8, "big")
        assert witness.verifier().verify(text, signature) == 1679315147

    def test_wrong_key_does_not_verify(self) -> None:
        """Another witness, or the same name with another key, gets None and a reason."""
        text = checkpoint().to_text()
        signature = CosignatureSigner.generate("w.example/1").cosign(text, 1)
        other = CosignatureSigner.generate("w.example/1").verifier()
        assert other.verify(text, signature) is None
        with pytest.raises(NoteError, match="is not from witness key"):
            other.check(text, signature)

    def test_tampered_timestamp_does_not_verify(self) -> None:
        """The timestamp is signed: changing it breaks the signature."""
        witness = CosignatureSigner.generate("w.example/1")
        text = checkpoint().to_text()
        good = witness.cosign(text, 1000)
        forged = NoteSignature(
            good.name, good.key_id, (1001).to_bytes(8, "big") + good.signature[8:]
        )
        assert witness.verifier().verify(text, forged) is None
        with pytest.raises(NoteError, match="does not verify over this checkpoint at time 1001"):
            witness.verifier().check(text, forged)

    def test_tampered_checkpoint_does_not_verify(self) -> None:
        """A cosignature for size 7 does not vouch for size 8."""
        witness = CosignatureSigner.generate("w.example/1")
        signature = witness.cosign(checkpoint(7).to_text(), 5)
        assert witness.verifier().verify(checkpoint(8).to_text(), signature) is None

    def test_timestamp_above_2_63_is_refused(self) -> None:
        """The spec caps timestamps at 2^63-1, when signing and when verifying."""
        witness = CosignatureSigner.generate("w.example/1")
        text = checkpoint().to_text()
        with pytest.raises(NoteError, match=re.escape("outside 0..2^63-1")):
            witness.cosign(text, 2**63)
        good = witness.cosign(text, 1)
        huge = NoteSignature(
            good.name, good.key_id, (2**63).to_bytes(8, "big") + good.signature[8:]
        )
        with pytest.raises(NoteError, match="exceeds 2\\^63-1"):
            witness.verifier().check(text, huge)

    def test_plain_note_signature_is_not_a_cosignature(self) -> None:
        """A 64-byte type-0x01 signature has the wrong length for cosignature/v1."""
        witness = CosignatureSigner.generate("w.example/1")
        plain = NoteSignature(witness.name, witness.key_id, bytes(64))
        with pytest.raises(NoteError, match="64 bytes, expected 8-byte timestamp"):
            witness.verifier().check(checkpoint().to_text(), plain)

    def test_witness_only_cosigns_checkpoints(self) -> None:
        """Cosigning text that is not a checkpoint is refused."""
        with pytest.raises(NoteError, match="checkpoint"):
            CosignatureSigner.generate("w.example/1").cosign("hello\n", 1)

    def test_cosignature_keys_round_trip(self) -> None:
        """Private and public witness key strings parse back to equal keys, with type 0x04."""
        witness = CosignatureSigner.generate("w.example/1")
        assert CosignatureSigner.from_key_string(witness.key_string()) == witness
        vkey = witness.verifier().key_string()
        assert base64.b64decode(vkey.split("+", 2)[2])[0] == 0x04
        assert CosignatureVerifier.from_key_string(vkey) == witness.verifier()
        assert CosignatureVerifier.from_public_key(witness.name, witness.verifier().public_key) == (
            witness.verifier()
        )

    def test_witness_key_strings_are_checked(self) -> None:
        """A note key is not a witness key, and a wrong key id is caught."""
        with pytest.raises(NoteError, match="signature type 0x01, expected 0x04"):
            CosignatureSigner.from_key_string(PETER_SKEY)
        witness_key = CosignatureSigner.generate("w.example/1").key_string()
        name, _, rest = witness_key.removeprefix("PRIVATE+KEY+").split("+", 2)
        with pytest.raises(NoteError, match="does not match the key"):
            CosignatureSigner.from_key_string(f"PRIVATE+KEY+{name}+00000000+{rest}")
        with pytest.raises(NoteError, match="not valid base64"):
            CosignatureVerifier.from_key_string(REMORA_VKEY[:-1])

    def test_same_key_has_different_ids_as_log_key_and_witness_key(self) -> None:
        """The type byte separates the two uses of one Ed25519 key."""
        witness = CosignatureSigner.generate("same.example")
        log_id = Verifier.from_public_key("same.example", witness.verifier().public_key).key_id
        assert log_id != witness.key_id


class TestQuorum:
    """k-of-n counting counts each trusted witness with a valid cosignature once."""

    def test_counts_valid_cosignatures_of_trusted_witnesses(self) -> None:
        """Two of three witnesses cosign; a stranger and a forged line do not count."""
        log = Signer.generate("ledger.example/log")
        witnesses = [CosignatureSigner.generate(f"w.example/{i}") for i in range(3)]
        stranger = CosignatureSigner.generate("stranger.example")
        text = checkpoint().to_text()
        good = [witnesses[0].cosign(text, 10), witnesses[2].cosign(text, 11)]
        forged = witnesses[1].cosign(checkpoint(8).to_text(), 12)
        note = sign_checkpoint(checkpoint(), log, [*good, forged, stranger.cosign(text, 13)])
        _, opened = open_checkpoint(note, log.verifier())
        trusted = [w.verifier() for w in witnesses]
        assert count_cosignatures(opened, opened.text, trusted) == ["w.example/0", "w.example/2"]

    def test_repeated_lines_and_repeated_witnesses_count_once(self) -> None:
        """Duplicating a cosignature or listing a witness twice does not inflate the count."""
        witness = CosignatureSigner.generate("w.example/0")
        text = checkpoint().to_text()
        line = witness.cosign(text, 10)
        note = Note(text, (line, line))
        assert count_cosignatures(note, text, [witness.verifier(), witness.verifier()]) == [
            "w.example/0"
        ]

    def test_log_signature_is_not_a_cosignature(self) -> None:
        """The log's own type-0x01 line never counts toward the witness quorum."""
        log = Signer.generate("ledger.example/log")
        as_witness = CosignatureVerifier.from_public_key(log.name, log.verifier().public_key)
        _, opened = open_checkpoint(sign_checkpoint(checkpoint(), log), log.verifier())
        assert count_cosignatures(opened, opened.text, [as_witness]) == []

    def test_no_witnesses_means_zero(self) -> None:
        """With nobody trusted the count is empty."""
        log = Signer.generate("ledger.example/log")
        _, opened = open_checkpoint(sign_checkpoint(checkpoint(), log), log.verifier())
        assert count_cosignatures(opened, opened.text, []) == []
