"""C2SP tlog-witness: the add-checkpoint rules, `certfree witness` on loopback, k-of-n cosigning.

Every checkpoint here is a real signed checkpoint of a real small tree, and every
proof is the RFC 9162 reference proof of runtime.tlog.merkle.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from certfree import cli
from certfree.witness import (
    RunningWitness,
    StateFile,
    WitnessConfig,
    add_witness_command,
    config_from_args,
    load_cosigner,
    start_witness,
)
from runtime.config import ConfigError, load
from runtime.tlog import merkle
from runtime.tlog.checkpoint import (
    Checkpoint,
    CosignatureSigner,
    CosignatureVerifier,
    open_checkpoint,
    sign_checkpoint,
)
from runtime.tlog.cosign import QuorumNotMet, WitnessEndpoint, collect_cosignatures
from runtime.tlog.note import NoteError, Signer, encode_base64, parse_note, sign_note
from runtime.tlog.witness import (
    MAX_PROOF_LINES,
    SIZE_CONTENT_TYPE,
    WitnessError,
    WitnessState,
    add_checkpoint,
    format_add_checkpoint,
    parse_add_checkpoint,
    parse_known_size,
    read_cosignatures,
    verify_witness_quorum,
)

ORIGIN = "witness.test/log"
NOW = 1_763_888_400
LOG = Signer.generate(ORIGIN)
LEAVES = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(20)]
# Another history of the same log: equal to LEAVES for 3 entries, different after.
FORK = LEAVES[:3] + [merkle.leaf_hash(f"forged {i}".encode()) for i in range(3, 20)]


def note(size: int, leaves: list[bytes] = LEAVES, signer: Signer = LOG) -> str:
    """The log's signed checkpoint of the first `size` leaves."""
    return sign_checkpoint(Checkpoint(signer.name, size, merkle.root(leaves[:size])), signer)


def proof(old: int, size: int, leaves: list[bytes] = LEAVES) -> list[bytes]:
    """The RFC 9162 consistency proof from `old` to `size` (empty when there is none)."""
    return merkle.consistency_proof(old, leaves[:size]) if 0 < old < size else []


def body(old: int, size: int, leaves: list[bytes] = LEAVES) -> str:
    """An add-checkpoint request for the checkpoint at `size`, claiming the witness holds `old`."""
    return format_add_checkpoint(old, proof(old, size, leaves), note(size, leaves))


def held(size: int, leaves: list[bytes] = LEAVES) -> WitnessState:
    """The state of a witness that last cosigned the checkpoint at `size`."""
    return WitnessState(ORIGIN, size, merkle.root(leaves[:size]))


def refusal(state: WitnessState | None, request: str | bytes) -> WitnessError:
    """The WitnessError add_checkpoint raises for `request`."""
    with pytest.raises(WitnessError) as caught:
        add_checkpoint(state, request, LOG.verifier(), WITNESS, NOW)
    return caught.value


WITNESS = CosignatureSigner.generate("witness.test/w1")
ZERO_HASH_LINE = encode_base64(bytes(32)) + "\n"


class TestAddCheckpoint:
    """The witness cosigns exactly the checkpoints that extend what it last cosigned."""

    def test_first_sighting_is_cosigned_from_the_empty_tree(self) -> None:
        state, line = add_checkpoint(None, body(0, 5), LOG.verifier(), WITNESS, NOW)
        assert state == held(5)
        text = Checkpoint(ORIGIN, 5, merkle.root(LEAVES[:5])).to_text()
        [cosignature] = read_cosignatures(line, text, WITNESS.verifier())
        assert WITNESS.verifier().check(text, cosignature) == NOW

    def test_every_growth_with_a_valid_proof_is_cosigned(self) -> None:
        for old in range(1, 18):
            for size in range(old, 18):
                state, _ = add_checkpoint(held(old), body(old, size), LOG.verifier(), WITNESS, NOW)
                assert state == held(size), (old, size)

    def test_same_size_same_root_is_cosigned_again(self) -> None:
        state, line = add_checkpoint(held(7), body(7, 7), LOG.verifier(), WITNESS, NOW)
        assert state == held(7)
        assert line.startswith("\u2014 witness.test/w1 ")

    def test_same_size_different_root_is_a_conflict(self) -> None:
        error = refusal(held(7), body(7, 7, FORK))
        assert error.status == 409
        assert error.known_size == 7
        assert "conflicting checkpoint" in error.reason

    def test_rollback_is_refused_whatever_old_claims(self) -> None:
        claims_own_size = refusal(held(13), body(5, 5))
        assert (claims_own_size.status, claims_own_size.known_size) == (409, 13)
        claims_witness_size = refusal(held(13), format_add_checkpoint(13, [], note(5)))
        assert claims_witness_size.status == 400
        assert "above the checkpoint's size 5" in claims_witness_size.reason

    def test_proof_that_does_not_verify_is_422(self) -> None:
        tampered = proof(5, 13)
        tampered[0] = bytes(32)
        error = refusal(held(5), format_add_checkpoint(5, tampered, note(13)))
        assert error.status == 422
        assert "consistency proof from size 5 to 13" in error.reason

    def test_a_forked_history_is_422(self) -> None:
        """The fork's own proof leads elsewhere than the root the witness holds."""
        error = refusal(held(5), body(5, 13, FORK))
        assert error.status == 422

    def test_first_sighting_with_a_proof_is_422(self) -> None:
        error = refusal(None, format_add_checkpoint(0, proof(3, 5), note(5)))
        assert error.status == 422

    def test_empty_tree_must_have_the_empty_root(self) -> None:
        state, _ = add_checkpoint(None, body(0, 0), LOG.verifier(), WITNESS, NOW)
        assert state == WitnessState(ORIGIN, 0, merkle.EMPTY_ROOT)
        wrong = sign_checkpoint(Checkpoint(ORIGIN, 0, bytes(32)), LOG)
        assert refusal(None, format_add_checkpoint(0, [], wrong)).status == 422

    def test_wrong_log_key_is_403(self) -> None:
        impostor = Signer.generate(ORIGIN)  # same name, another key
        error = refusal(None, format_add_checkpoint(0, [], note(5, signer=impostor)))
        assert error.status == 403
        assert "not signed by log key" in error.reason

    def test_bad_signature_by_the_log_key_is_403(self) -> None:
        forged = note(5).replace(encode_base64(merkle.root(LEAVES[:5])), encode_base64(bytes(32)))
        assert refusal(None, format_add_checkpoint(0, [], forged)).status == 403

    def test_other_origin_is_404(self) -> None:
        other = Signer.generate("witness.test/other")
        error = refusal(None, format_add_checkpoint(0, [], note(5, signer=other)))
        assert error.status == 404

    def test_stale_old_is_409_with_the_known_size(self) -> None:
        error = refusal(held(13), body(5, 17))
        assert (error.status, error.known_size) == (409, 13)
        error = refusal(None, body(5, 17))
        assert (error.status, error.known_size) == (409, 0)

    def test_cosignatures_already_on_the_note_are_ignored(self) -> None:
        other = CosignatureSigner.generate("witness.test/w2")
        text = Checkpoint(ORIGIN, 5, merkle.root(LEAVES[:5])).to_text()
        cosigned = sign_note(text, LOG, existing=[other.cosign(text, NOW)])
        state, _ = add_checkpoint(
            None, format_add_checkpoint(0, [], cosigned), LOG.verifier(), WITNESS, NOW
        )
        assert state == held(5)

    @pytest.mark.parametrize(
        ("request_body", "why"),
        [
            (b"old 0\n\n\xff", "not valid UTF-8"),
            (f"old 3\n{encode_base64(bytes(32))}\n", "no empty line"),
            ("old 0\n" + note(5), "proof line 1 'witness.test/log'"),
            ("old 05\n\n" + note(5), "is not 'old <size>'"),
            ("old -1\n\n" + note(5), "is not 'old <size>'"),
            ("old  3\n\n" + note(5), "is not 'old <size>'"),
            ("new 3\n\n" + note(5), "is not 'old <size>'"),
            (f"old {2**64}\n\n" + note(5), "exceeds 2^64-1"),
            ("old 3\nnot base64!\n\n" + note(5), "proof line 1"),
            (f"old 3\n{encode_base64(bytes(31))}\n\n" + note(5), "proof line 1"),
            (
                "old 3\n" + ZERO_HASH_LINE * (MAX_PROOF_LINES + 1) + "\n" + note(5),
                "64 proof lines",
            ),
            ("old 0\n\nwitness.test/log\n5\n", "checkpoint:"),
            ("old 0\n\n" + note(5).replace("\n5\n", "\n05\n"), "checkpoint:"),
        ],
    )
    def test_malformed_request_is_400(self, request_body: str | bytes, why: str) -> None:
        error = refusal(None, request_body)
        assert error.status == 400
        assert why in error.reason

    def test_spec_example_body_parses(self) -> None:
        """The example request of c2sp.org/tlog-witness, byte for byte."""
        example = (
            "old 20852014\n"
            "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
            "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
            "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
            "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
            "\n"
            "example.com/behind-the-sofa\n"
            "20852163\n"
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
            "\n"
            "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe"
            "4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
            "\u2014 example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlc"
            "VGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
        )
        request = parse_add_checkpoint(example)
        assert request.old_size == 20852014
        assert len(request.proof) == 4
        assert request.checkpoint.origin == "example.com/behind-the-sofa"
        assert request.checkpoint.size == 20852163
        assert format_add_checkpoint(request.old_size, request.proof, request.note) == example

    def test_state_is_for_one_origin(self) -> None:
        with pytest.raises(ValueError, match="is for"):
            add_checkpoint(
                WitnessState("witness.test/other", 1, LEAVES[0]),
                body(1, 2),
                LOG.verifier(),
                WITNESS,
                NOW,
            )


class TestClientHelpers:
    """The log reads a witness's answers strictly and ignores keys it does not know."""

    TEXT = Checkpoint(ORIGIN, 5, merkle.root(LEAVES[:5])).to_text()

    def test_answer_lines_by_other_keys_are_ignored(self) -> None:
        other = CosignatureSigner.generate("witness.test/w2")
        answer = other.cosign(self.TEXT, NOW).line() + WITNESS.cosign(self.TEXT, NOW).line()
        [mine] = read_cosignatures(answer, self.TEXT, WITNESS.verifier())
        assert mine.name == "witness.test/w1"

    def test_answer_without_the_witness_cosignature_is_refused(self) -> None:
        other = CosignatureSigner.generate("witness.test/w2")
        with pytest.raises(NoteError, match="without its own cosignature"):
            read_cosignatures(other.cosign(self.TEXT, NOW).line(), self.TEXT, WITNESS.verifier())
        with pytest.raises(NoteError, match="no signature lines"):
            read_cosignatures("", self.TEXT, WITNESS.verifier())

    def test_cosignature_over_another_checkpoint_is_refused(self) -> None:
        elsewhere = Checkpoint(ORIGIN, 6, merkle.root(LEAVES[:6])).to_text()
        line = WITNESS.cosign(elsewhere, NOW).line()
        with pytest.raises(NoteError, match="does not verify"):
            read_cosignatures(line, self.TEXT, WITNESS.verifier())

    def test_known_size_body(self) -> None:
        assert parse_known_size("13\n") == 13
        for bad in ("13", "013\n", "x\n", "13\n\n"):
            with pytest.raises(ValueError):
                parse_known_size(bad)


class TestWitnessQuorum:
    """An auditor counts valid cosignatures by trusted witnesses, one vote per witness."""

    TEXT = Checkpoint(ORIGIN, 5, merkle.root(LEAVES[:5])).to_text()
    W: ClassVar = [CosignatureSigner.generate(f"witness.test/q{i}") for i in range(3)]

    def cosigned(self, *signers: CosignatureSigner) -> str:
        return sign_note(self.TEXT, LOG, existing=[s.cosign(self.TEXT, NOW) for s in signers])

    def test_quorum_met(self) -> None:
        trusted = [w.verifier() for w in self.W]
        names = verify_witness_quorum(self.cosigned(self.W[0], self.W[2]), trusted, 2)
        assert names == ["witness.test/q0", "witness.test/q2"]

    def test_quorum_not_met_names_the_count_and_why(self) -> None:
        trusted = [w.verifier() for w in self.W]
        with pytest.raises(NoteError) as caught:
            verify_witness_quorum(self.cosigned(self.W[0], self.W[2]), trusted, 3)
        message = str(caught.value)
        assert "2 of 3 trusted witnesses cosigned, 3 required" in message
        assert "witness.test/q1: no cosignature by witness.test/q1+" in message

    def test_invalid_and_untrusted_cosignatures_do_not_count(self) -> None:
        stranger = CosignatureSigner.generate("witness.test/stranger")
        elsewhere = Checkpoint(ORIGIN, 6, merkle.root(LEAVES[:6])).to_text()
        stale = self.W[1].cosign(elsewhere, NOW)  # a cosignature of another checkpoint
        cosigned = sign_note(
            self.TEXT,
            LOG,
            existing=[self.W[0].cosign(self.TEXT, NOW), stale, stranger.cosign(self.TEXT, NOW)],
        )
        trusted = [w.verifier() for w in self.W]
        with pytest.raises(NoteError) as caught:
            verify_witness_quorum(cosigned, trusted, 2)
        assert "1 of 3 trusted witnesses cosigned, 2 required" in str(caught.value)
        assert "does not verify over this checkpoint" in str(caught.value)

    def test_unreachable_quorum_is_a_configuration_error(self) -> None:
        trusted = [w.verifier() for w in self.W]
        for quorum in (0, 4):
            with pytest.raises(ValueError, match="can never be met"):
                verify_witness_quorum(self.cosigned(*self.W), trusted, quorum)


# --- the HTTP witness on loopback --------------------------------------------------

StartWitness = Callable[..., Awaitable[RunningWitness]]


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[StartWitness]:
    """Start witnesses on loopback port 0 (each with its own data dir unless told); stop them."""
    running: list[RunningWitness] = []

    async def start_one(name: str = "witness.test/w1", data: Path | None = None) -> RunningWitness:
        data = data or tmp_path / name.replace("/", "_")
        witness = await start_witness(
            WitnessConfig(
                key_file=data / "keys" / "witness.key",
                state_file=data / "witness" / "state.json",
                logs={ORIGIN: LOG.verifier()},
                name=name,
                port=0,
            )
        )
        running.append(witness)
        return witness

    yield start_one
    for witness in running:
        with contextlib.suppress(Exception):
            await witness.stop()


async def post(witness: RunningWitness, content: str | bytes) -> httpx.Response:
    """POST an add-checkpoint body to a running witness."""
    async with httpx.AsyncClient() as client:
        url = f"http://127.0.0.1:{witness.port}/add-checkpoint"
        return await client.post(url, content=content)


class TestWitnessServer:
    """`certfree witness` answers per the spec, and what it acknowledged is on disk."""

    async def test_cosigns_and_persists_before_answering(
        self, start: StartWitness, tmp_path: Path
    ) -> None:
        witness = await start()
        response = await post(witness, body(0, 5))
        assert response.status_code == 200
        text = Checkpoint(ORIGIN, 5, merkle.root(LEAVES[:5])).to_text()
        assert read_cosignatures(response.text, text, witness.verifier)
        saved = json.loads((tmp_path / "witness.test_w1" / "witness" / "state.json").read_text())
        assert saved["logs"][ORIGIN] == {
            "size": 5,
            "root_hash": encode_base64(merkle.root(LEAVES[:5])),
        }
        key_file = tmp_path / "witness.test_w1" / "keys" / "witness.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert (await post(witness, body(5, 13))).status_code == 200

    async def test_stale_old_is_409_with_the_size_as_text_x_tlog_size(
        self, start: StartWitness
    ) -> None:
        witness = await start()
        assert (await post(witness, body(0, 13))).status_code == 200
        response = await post(witness, body(5, 17))
        assert response.status_code == 409
        assert response.headers["content-type"] == SIZE_CONTENT_TYPE
        assert response.text == "13\n"

    async def test_refusals_carry_the_spec_status(self, start: StartWitness) -> None:
        witness = await start()
        assert (await post(witness, body(0, 5))).status_code == 200
        other = Signer.generate("witness.test/other")
        impostor = Signer.generate(ORIGIN)
        tampered = proof(5, 13)
        tampered[-1] = bytes(32)
        cases = {
            "old 5\n": 400,
            format_add_checkpoint(0, [], note(5, signer=other)): 404,
            format_add_checkpoint(5, proof(5, 13), note(13, signer=impostor)): 403,
            format_add_checkpoint(5, tampered, note(13)): 422,
            body(5, 5, FORK): 409,
        }
        for request_body, status in cases.items():
            response = await post(witness, request_body)
            assert response.status_code == status, (response.text, request_body)
        oversize = await post(witness, "old 0\n" + "A" * 70_000)
        assert oversize.status_code == 413

    async def test_state_survives_a_restart(self, start: StartWitness, tmp_path: Path) -> None:
        first = await start(data=tmp_path / "w")
        assert (await post(first, body(0, 13))).status_code == 200
        await first.stop()
        second = await start(data=tmp_path / "w")
        assert second.verifier == first.verifier  # the same key, read back
        rollback = await post(second, body(0, 5))
        assert (rollback.status_code, rollback.text) == (409, "13\n")
        assert (await post(second, format_add_checkpoint(13, [], note(5)))).status_code == 400
        assert (await post(second, body(13, 17))).status_code == 200

    async def test_a_second_witness_cannot_share_the_state_file(
        self, start: StartWitness, tmp_path: Path
    ) -> None:
        await start(data=tmp_path / "w")
        with pytest.raises(ConfigError, match="another witness is using"):
            StateFile.open(tmp_path / "w" / "witness" / "state.json")

    async def test_racing_requests_for_one_log_never_roll_it_back(
        self, start: StartWitness, tmp_path: Path
    ) -> None:
        """Two requests from the same old size: one wins, the other learns the winner's size."""
        witness = await start(data=tmp_path / "w")
        assert (await post(witness, body(0, 5))).status_code == 200
        for _ in range(5):
            held_size = json.loads((tmp_path / "w" / "witness" / "state.json").read_text())
            old = held_size["logs"][ORIGIN]["size"]
            sizes = [old + 1, old + 2]
            answers = await asyncio.gather(*(post(witness, body(old, s)) for s in sizes))
            statuses = sorted(a.status_code for a in answers)
            assert statuses == [200, 409]
            winner = sizes[[a.status_code for a in answers].index(200)]
            loser = answers[[a.status_code for a in answers].index(409)]
            assert loser.text == f"{winner}\n"
            state = json.loads((tmp_path / "w" / "witness" / "state.json").read_text())
            assert state["logs"][ORIGIN]["size"] == winner

    async def test_damaged_state_file_stops_start_up(
        self, start: StartWitness, tmp_path: Path
    ) -> None:
        state = tmp_path / "w" / "witness" / "state.json"
        state.parent.mkdir(parents=True)
        state.write_text('{"version": 1, "logs": {"x": {"size": 3}}}')
        with pytest.raises(ConfigError, match="damaged"):
            await start(data=tmp_path / "w")


# --- the log collects k-of-n -------------------------------------------------------


async def fetch_proof(old: int, new: int) -> list[bytes]:
    """The log's consistency proof, from the reference tree."""
    return merkle.consistency_proof(old, LEAVES[:new])


def unused_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def three(start: StartWitness) -> list[WitnessEndpoint]:
    """Two running witnesses and a third whose server is down."""
    w1, w2 = await start("witness.test/w1"), await start("witness.test/w2")
    down = CosignatureSigner.generate("witness.test/w3")
    return [
        WitnessEndpoint("witness.test/w1", f"http://127.0.0.1:{w1.port}", w1.verifier),
        WitnessEndpoint("witness.test/w2", f"http://127.0.0.1:{w2.port}/", w2.verifier),
        WitnessEndpoint("witness.test/w3", f"http://127.0.0.1:{unused_port()}", down.verifier()),
    ]


class TestCollectCosignatures:
    """The log gets k-of-n cosignatures concurrently, catching up with each witness's size."""

    async def test_two_of_three_with_one_witness_down(self, three: list[WitnessEndpoint]) -> None:
        sizes: dict[str, int] = {}
        cosigned = await collect_cosignatures(
            note(5), three, 2, fetch_proof, 5.0, known_sizes=sizes
        )
        trusted = [w.verifier for w in three]
        assert verify_witness_quorum(cosigned, trusted, 2) == ["witness.test/w1", "witness.test/w2"]
        checkpoint, _ = open_checkpoint(cosigned, LOG.verifier(), origin=ORIGIN)
        assert checkpoint.size == 5
        assert sizes == {"witness.test/w1": 5, "witness.test/w2": 5}
        grown = await collect_cosignatures(note(13), three, 2, fetch_proof, 5.0, known_sizes=sizes)
        assert len(parse_note(grown).signatures) == 3  # the log's and two cosignatures
        assert sizes == {"witness.test/w1": 13, "witness.test/w2": 13}

    async def test_quorum_of_three_fails_naming_the_count(
        self, three: list[WitnessEndpoint]
    ) -> None:
        with pytest.raises(QuorumNotMet) as caught:
            await collect_cosignatures(note(5), three, 3, fetch_proof, 5.0)
        assert "2 witness(es) cosigned, 3 required" in str(caught.value)
        assert caught.value.cosigned == ["witness.test/w1", "witness.test/w2"]
        assert list(caught.value.failures) == ["witness.test/w3"]
        assert "ConnectError" in caught.value.failures["witness.test/w3"]

    async def test_a_log_that_forgot_the_sizes_catches_up_on_409(
        self, three: list[WitnessEndpoint]
    ) -> None:
        await collect_cosignatures(note(5), three, 2, fetch_proof, 5.0)
        asked: list[tuple[int, int]] = []

        async def recording(old: int, new: int) -> list[bytes]:
            asked.append((old, new))
            return await fetch_proof(old, new)

        cosigned = await collect_cosignatures(note(13), three, 2, recording, 5.0, known_sizes={})
        assert len(verify_witness_quorum(cosigned, [w.verifier for w in three], 2)) == 2
        assert asked == [(5, 13), (5, 13)]

    async def test_a_failing_proof_fetch_costs_only_that_witness(
        self, three: list[WitnessEndpoint]
    ) -> None:
        sizes: dict[str, int] = {}
        await collect_cosignatures(note(5), three, 2, fetch_proof, 5.0, known_sizes=sizes)
        sizes["witness.test/w2"] = 4  # a wrong idea of w2: its catch-up needs a second proof

        async def failing_for_4(old: int, new: int) -> list[bytes]:
            if old == 4:
                raise ConnectionError("store unavailable")
            return await fetch_proof(old, new)

        with pytest.raises(QuorumNotMet) as caught:
            await collect_cosignatures(note(13), three, 2, failing_for_4, 5.0, known_sizes=sizes)
        assert caught.value.cosigned == ["witness.test/w1"]
        assert "no consistency proof from 4 to 13" in caught.value.failures["witness.test/w2"]

    async def test_a_split_view_is_not_cosigned(self, three: list[WitnessEndpoint]) -> None:
        sizes: dict[str, int] = {}
        await collect_cosignatures(note(5), three, 2, fetch_proof, 5.0, known_sizes=sizes)
        with pytest.raises(QuorumNotMet) as caught:
            await collect_cosignatures(note(5, FORK), three, 1, fetch_proof, 5.0, known_sizes=sizes)
        assert "HTTP 409" in caught.value.failures["witness.test/w1"]

    async def test_a_silent_witness_costs_only_the_timeout(
        self, three: list[WitnessEndpoint]
    ) -> None:
        async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(1)
            await asyncio.sleep(30)

        silent = await asyncio.start_server(never_answer, "127.0.0.1", 0)
        port = silent.sockets[0].getsockname()[1]
        try:
            slow = WitnessEndpoint("witness.test/w3", f"http://127.0.0.1:{port}", three[2].verifier)
            started = asyncio.get_running_loop().time()
            with pytest.raises(QuorumNotMet) as caught:
                await collect_cosignatures(note(5), [*three[:2], slow], 3, fetch_proof, 0.3)
            assert asyncio.get_running_loop().time() - started < 2
            assert caught.value.failures == {"witness.test/w3": "no answer within 0.3 s"}
        finally:
            silent.close()

    async def test_older_cosignature_by_the_same_witness_is_replaced(
        self, three: list[WitnessEndpoint]
    ) -> None:
        first = await collect_cosignatures(note(5), three, 2, fetch_proof, 5.0)
        again = await collect_cosignatures(first, three, 2, fetch_proof, 5.0)
        assert len(parse_note(again).signatures) == 3


# --- the command -------------------------------------------------------------------


def witness_args(*argv: str) -> argparse.Namespace:
    """Parse `certfree witness ARGV` with the command's own parser."""
    parser = argparse.ArgumentParser(prog="certfree")
    add_witness_command(parser.add_subparsers())
    return parser.parse_args(["witness", *argv])


class TestCommand:
    """`certfree witness` is a real command: help, then serve until SIGTERM."""

    def test_help_names_the_protocol(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exited:
            cli.main(["witness", "--help"])
        assert exited.value.code == 0
        out = capsys.readouterr().out
        assert "add-checkpoint" in out
        assert "--log ORIGIN=VKEY" in out

    def test_logs_come_from_flags_and_a_file(self, tmp_path: Path) -> None:
        other = Signer.generate("witness.test/other")
        logs_file = tmp_path / "logs"
        logs_file.write_text(
            f"# trusted logs\n\nwitness.test/other={other.verifier().key_string()}\n"
        )
        args = witness_args(
            "--log", f"{ORIGIN}={LOG.verifier().key_string()}", "--logs-file", str(logs_file)
        )
        config = config_from_args(load({}, data_dir=tmp_path), args)
        assert config.logs == {ORIGIN: LOG.verifier(), "witness.test/other": other.verifier()}
        assert config.state_file == tmp_path / "witness" / "state.json"
        assert config.key_file == tmp_path / "keys" / "witness.key"

    @pytest.mark.parametrize(
        ("flag", "why"),
        [
            ("no-equals-sign", "expected ORIGIN=VKEY"),
            (f"{ORIGIN}=not+a+key", "verifier key"),
        ],
    )
    def test_bad_log_flag_is_a_configuration_error(
        self, tmp_path: Path, flag: str, why: str
    ) -> None:
        args = witness_args("--log", flag)
        with pytest.raises(ConfigError, match=why):
            config_from_args(load({}, data_dir=tmp_path), args)

    def test_production_needs_an_existing_key_of_the_right_name(self, tmp_path: Path) -> None:
        key_file = tmp_path / "witness.key"
        with pytest.raises(ConfigError, match="does not exist"):
            load_cosigner(key_file, "witness.test/w1", "production")
        created = load_cosigner(key_file, "witness.test/w1", "development")
        assert load_cosigner(key_file, None, "production") == created
        with pytest.raises(ConfigError, match=r"is for 'witness\.test/w1'"):
            load_cosigner(key_file, "witness.test/w9", "production")

    async def test_serves_until_sigterm(self, tmp_path: Path) -> None:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "certfree",
            "witness",
            "--name",
            "witness.test/cli",
            "--log",
            f"{ORIGIN}={LOG.verifier().key_string()}",
            "--data-dir",
            str(tmp_path),
            "--port",
            "0",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "CERTFREE_MODE": "development"},
        )
        try:
            assert process.stdout is not None
            banner = ""
            while "state" not in banner:
                line = await asyncio.wait_for(process.stdout.readline(), 20)
                assert line, "the witness exited before printing its address"
                banner += line.decode()
            match = re.search(r"http://127\.0\.0\.1:(\d+)/add-checkpoint", banner)
            assert match, banner
            key = re.search(r"key\s+(\S+)", banner)
            assert key, banner
            verifier = CosignatureVerifier.from_key_string(key.group(1))
            async with httpx.AsyncClient() as client:
                url = f"http://127.0.0.1:{match.group(1)}/add-checkpoint"
                response = await client.post(url, content=body(0, 5))
            assert response.status_code == 200
            text = Checkpoint(ORIGIN, 5, merkle.root(LEAVES[:5])).to_text()
            assert read_cosignatures(response.text, text, verifier)
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 20) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
