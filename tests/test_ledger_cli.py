"""`certfree ledger`: the auditor commands against a real stack on loopback.

The stack runs in the test's event loop, so each command runs in a thread
(``asyncio.to_thread``) and talks to it over HTTP like any auditor's machine would.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import pytest
from structlog.testing import capture_logs

from certfree import cli
from certfree.ledger_cli import Progress
from certfree.stack import Stack
from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from runtime.config import Settings
from runtime.tlog import merkle
from runtime.tlog.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from runtime.tlog.entry import Entry
from runtime.tlog.note import Signer
from tests.conftest import MARKET_REGULATION, caller

HEADERS = {"x-certfree-department": MARKET_REGULATION, "x-certfree-role": "auditor"}
RECEIPT_INDEX = 300


@dataclass(frozen=True)
class Result:
    """What one `certfree` invocation did."""

    code: int
    out: str
    err: str


@dataclass(frozen=True)
class Log:
    """A running stack whose ledger holds 600 entries, and an auditor's files about it."""

    stack: Stack
    settings: Settings
    url: str
    key: str
    """The log's verifier key string."""
    checkpoint_300: Path
    """The signed checkpoint the log served at 300 entries."""
    checkpoint_600: Path
    receipt: Path
    """The tlog-proof of entry RECEIPT_INDEX in the 600-entry tree."""
    artefact: Path
    """The bytes that entry attests."""

    def tile_key(self, level: int, index: int) -> str:
        """The store key of a hash tile (docs/store.md)."""
        return f"{{ledger:{self.settings.ledger_origin}}}:tile:{level}:{index}"

    def bundle_key(self, index: int) -> str:
        """The store key of an entry bundle (docs/store.md)."""
        return f"{{ledger:{self.settings.ledger_origin}}}:bundle:{index}"

    def signer(self) -> Signer:
        """The log's private key (to forge a split view in a test)."""
        return Signer.from_key_string(self.settings.ledger_key_path.read_text().strip())

    def network(self, *, key: str | None = None) -> list[str]:
        """The options of a command that reads the log, as the development auditor."""
        return ["--log", self.url, "--key", key or self.key, "--department", MARKET_REGULATION]


def _main(argv: list[str]) -> int:
    try:
        cli.main(argv)
    except SystemExit as exited:
        return exited.code if isinstance(exited.code, int) else 2
    return 0


async def certfree(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    """Run `certfree ARGV` in a thread (the stack needs this loop); capture its output."""
    capsys.readouterr()
    with capture_logs():  # the stack's request logs stay out of the command's output
        code = await asyncio.to_thread(_main, list(argv))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def _attestation(i: int) -> ledger_pb2.AppendRequest:
    return ledger_pb2.AppendRequest(
        attestation=ledger_pb2.Attestation(
            artefact_sha256=hashlib.sha256(f"t{i}".encode()).digest(),
            kind=ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED,
            issuer_department=MARKET_REGULATION,
            artefact_id=f"license-{i}",
        )
    )


@pytest.fixture
async def log(settings: Settings, tmp_path: Path) -> AsyncIterator[Log]:
    """600 entries appended in two BatchAppends, with the checkpoint after each saved."""
    stack = await Stack.start(settings, insecure_dev=True)
    try:
        url = stack.addresses()["gateway"]
        saved = {}
        async with (
            grpc.aio.insecure_channel(stack.addresses()["ledger"]) as channel,
            httpx.AsyncClient(base_url=url, headers=HEADERS) as http,
        ):
            stub = ledger_pb2_grpc.LedgerServiceStub(channel)
            for first in (0, 300):
                request = ledger_pb2.BatchAppendRequest(
                    appends=[_attestation(i) for i in range(first, first + 300)]
                )
                await stub.BatchAppend(request, metadata=caller())
                size = first + 300
                saved[size] = tmp_path / f"checkpoint-{size}"
                saved[size].write_text((await http.get("/tlog/checkpoint")).text)
            receipt = await http.get(f"/v1/ledger/entries/{RECEIPT_INDEX}/receipt")
        (tmp_path / "receipt.tlog-proof").write_text(receipt.json()["tlogProof"])
        (tmp_path / "artefact").write_bytes(f"t{RECEIPT_INDEX}".encode())
        signer = Signer.from_key_string(settings.ledger_key_path.read_text().strip())
        yield Log(
            stack=stack,
            settings=settings,
            url=url,
            key=signer.verifier().key_string(),
            checkpoint_300=saved[300],
            checkpoint_600=saved[600],
            receipt=tmp_path / "receipt.tlog-proof",
            artefact=tmp_path / "artefact",
        )
    finally:
        await stack.stop()


def _other_key(log: Log) -> str:
    """A verifier key with the log's name but another key: an impostor log."""
    return Signer.generate(log.settings.ledger_origin).verifier().key_string()


class TestCheckpoint:
    """`ledger checkpoint` verifies the log's signature before printing anything."""

    async def test_prints_the_verified_origin_size_and_root(
        self, capsys: pytest.CaptureFixture[str], log: Log
    ) -> None:
        """Exit 0 with the origin, the size and the root of the signed note."""
        result = await certfree(capsys, "ledger", "checkpoint", *log.network())
        assert result.code == 0, result.err
        note = log.checkpoint_600.read_text()
        checkpoint, _ = open_checkpoint(note, log.signer().verifier())
        assert f"origin  {log.settings.ledger_origin}" in result.out
        assert "size    600" in result.out
        assert f"root    {base64.b64encode(checkpoint.root_hash).decode()}" in result.out

    async def test_another_key_fails_the_signature_check(
        self, capsys: pytest.CaptureFixture[str], log: Log
    ) -> None:
        """A note the given key did not sign is refused, naming the signature check."""
        result = await certfree(capsys, "ledger", "checkpoint", *log.network(key=_other_key(log)))
        assert result.code == 1
        assert "check failed: signature:" in result.err
        assert "not signed by log key" in result.err
        assert result.out == ""

    async def test_another_origin_fails_the_origin_check(
        self, capsys: pytest.CaptureFixture[str], log: Log
    ) -> None:
        """--origin pins the log: a checkpoint of another origin is refused."""
        result = await certfree(
            capsys, "ledger", "checkpoint", *log.network(), "--origin", "other.example/log"
        )
        assert result.code == 1
        assert "check failed: origin:" in result.err

    async def test_without_identity_the_refusal_says_what_to_give(
        self, capsys: pytest.CaptureFixture[str], log: Log
    ) -> None:
        """The development gateway wants an identity: exit 2, pointing at --department."""
        result = await certfree(capsys, "ledger", "checkpoint", "--log", log.url, "--key", log.key)
        assert result.code == 2
        assert "could not check" in result.err
        assert "HTTP 401" in result.err
        assert "--department" in result.err


class TestVerifyReceipt:
    """`ledger verify-receipt` checks a tlog-proof offline and names any failed check."""

    async def test_prints_the_attested_entry(
        self, capsys: pytest.CaptureFixture[str], log: Log
    ) -> None:
        """Exit 0 with the entry's fields, its accepted time in ISO 8601, and the tree size."""
        result = await certfree(
            capsys,
            "ledger",
            "verify-receipt",
            str(log.receipt),
            str(log.artefact),
            "--key",
            log.key,
            "--origin",
            log.settings.ledger_origin,
        )
        assert result.code == 0, result.err
        assert f"is entry {RECEIPT_INDEX} of {log.settings.ledger_origin}" in result.out
        assert re.search(r"^kind +license_issued$", result.out, re.M)
        assert re.search(rf"^issuer +{MARKET_REGULATION}$", result.out, re.M)
        assert re.search(rf"^artefact id +license-{RECEIPT_INDEX}$", result.out, re.M)
        assert re.search(r"^accepted +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", result.out, re.M)
        assert re.search(r"^checkpoint size +600$", result.out, re.M)

    @pytest.mark.parametrize(
        ("tamper", "check", "reason"),
        [
            ("artefact", "artefact", "the artefact's SHA-256 is not the one the entry attests"),
            ("key", "checkpoint", "not signed by log key"),
            ("proof", "inclusion", "leads to root"),
            ("format", "receipt", "the file is not a tlog-proof"),
        ],
    )
    async def test_a_wrong_input_fails_its_check(
        self,
        capsys: pytest.CaptureFixture[str],
        log: Log,
        tmp_path: Path,
        tamper: str,
        check: str,
        reason: str,
    ) -> None:
        """Another artefact, another key, a changed proof hash, a non-receipt: exit 1, named."""
        receipt, artefact, key = log.receipt, log.artefact, log.key
        if tamper == "artefact":
            artefact = tmp_path / "other"
            artefact.write_bytes(b"t301")
        elif tamper == "key":
            key = _other_key(log)
        elif tamper in ("proof", "format"):
            lines = log.receipt.read_text().split("\n")
            if tamper == "proof":
                lines[3] = base64.b64encode(bytes(32)).decode()  # the first audit-path hash
            else:
                lines[0] = "not a tlog-proof"
            receipt = tmp_path / "tampered"
            receipt.write_text("\n".join(lines))
        result = await certfree(
            capsys, "ledger", "verify-receipt", str(receipt), str(artefact), "--key", key
        )
        assert result.code == 1
        assert f"check failed: {check}:" in result.err
        assert reason in result.err
        assert result.out == ""


class TestVerifyConsistency:
    """`ledger verify-consistency` proves growth and refuses rollbacks and forks."""

    async def test_older_checkpoint_extends_to_newer(
        self, capsys: pytest.CaptureFixture[str], log: Log
    ) -> None:
        """The checkpoints at 300 and 600 entries are consistent by the log's proof."""
        result = await certfree(
            capsys,
            "ledger",
            "verify-consistency",
            str(log.checkpoint_300),
            str(log.checkpoint_600),
            *log.network(),
        )
        assert result.code == 0, result.err
        assert "grew from 300 to 600 entries" in result.out

    @pytest.mark.parametrize("new", [[], ["-"]])
    async def test_without_new_the_latest_is_fetched(
        self, capsys: pytest.CaptureFixture[str], log: Log, new: list[str]
    ) -> None:
        """NEW omitted or '-' means the log's latest checkpoint."""
        result = await certfree(
            capsys, "ledger", "verify-consistency", str(log.checkpoint_300), *new, *log.network()
        )
        assert result.code == 0, result.err
        assert "grew from 300 to 600 entries" in result.out

    async def test_a_smaller_new_size_is_refused_as_rollback(
        self, capsys: pytest.CaptureFixture[str], log: Log
    ) -> None:
        """Going from 600 back to 300 entries is a rollback, refused before any proof."""
        result = await certfree(
            capsys,
            "ledger",
            "verify-consistency",
            str(log.checkpoint_600),
            str(log.checkpoint_300),
            *log.network(),
        )
        assert result.code == 1
        assert "check failed: rollback:" in result.err
        assert "600" in result.err and "300" in result.err

    async def test_a_split_view_fails_the_consistency_proof(
        self, capsys: pytest.CaptureFixture[str], log: Log, tmp_path: Path
    ) -> None:
        """A checkpoint the log signed for another tree of 300 entries does not extend."""
        forked = Checkpoint(log.settings.ledger_origin, 300, hashlib.sha256(b"fork").digest())
        old = tmp_path / "forked"
        old.write_text(sign_checkpoint(forked, log.signer()))
        result = await certfree(capsys, "ledger", "verify-consistency", str(old), *log.network())
        assert result.code == 1
        assert "check failed: consistency:" in result.err
        assert "old root" in result.err


class TestAudit:
    """`ledger audit` rebuilds the tree from the entries and names the first mismatch."""

    async def test_the_entries_rebuild_the_signed_root(
        self, capsys: pytest.CaptureFixture[str], log: Log
    ) -> None:
        """Every bundle and tile checks out; --progress draws the bar on stderr."""
        result = await certfree(capsys, "ledger", "audit", *log.network(), "--progress")
        assert result.code == 0, result.err
        assert "audit passed" in result.out
        assert re.search(r"^size +600$", result.out, re.M)
        # 3 level-0 tiles and the partial level-1 tile of 2 hashes.
        assert "checked  3 entry bundles, 4 hash tiles" in result.out
        assert "600/600 entries 100%" in result.err

    async def test_no_progress_bar_unless_asked_off_a_terminal(
        self, capsys: pytest.CaptureFixture[str], log: Log
    ) -> None:
        """Captured stderr is not a terminal: without --progress it stays empty."""
        result = await certfree(capsys, "ledger", "audit", *log.network(), "--jobs", "1")
        assert result.code == 0, result.err
        assert result.err == ""

    async def test_a_corrupted_leaf_hash_is_named_by_tile_and_position(
        self, capsys: pytest.CaptureFixture[str], log: Log
    ) -> None:
        """One hash of tile/0/001 overwritten in the store: the audit names that position."""
        await log.stack.store.redis.setrange(log.tile_key(0, 1), 5 * 32, bytes(32))
        result = await certfree(capsys, "ledger", "audit", *log.network())
        assert result.code == 1
        assert "check failed: tile: tile/0/001 position 5 (entry 261)" in result.err

    async def test_a_changed_entry_is_named_by_tile_and_position(
        self, capsys: pytest.CaptureFixture[str], log: Log
    ) -> None:
        """One hex digit of an entry in bundle 1 changed: its leaf hash no longer matches."""
        key = log.bundle_key(1)
        offset = await _sha256_offset(log, key, position=3)
        current = await log.stack.store.redis.getrange(key, offset, offset)
        await log.stack.store.redis.setrange(key, offset, b"0" if current != b"0" else b"1")
        result = await certfree(capsys, "ledger", "audit", *log.network())
        assert result.code == 1
        assert "check failed: tile: tile/0/001 position 3 (entry 259)" in result.err
        assert "tile/entries/001" in result.err

    async def test_entry_and_tile_changed_together_fail_the_root(
        self, capsys: pytest.CaptureFixture[str], log: Log
    ) -> None:
        """A rewrite that keeps tile and bundle agreeing still differs from the signed root."""
        key = log.bundle_key(2)
        offset = await _sha256_offset(log, key, position=0)
        current = await log.stack.store.redis.getrange(key, offset, offset)
        await log.stack.store.redis.setrange(key, offset, b"0" if current != b"0" else b"1")
        entry = await _bundle_entry(log, key, position=0)
        await log.stack.store.redis.setrange(log.tile_key(0, 2), 0, merkle.leaf_hash(entry))
        result = await certfree(capsys, "ledger", "audit", *log.network())
        assert result.code == 1
        assert "check failed: root:" in result.err
        assert "not the checkpoint's" in result.err

    async def test_a_corrupted_upper_tile_is_named(
        self, capsys: pytest.CaptureFixture[str], log: Log
    ) -> None:
        """Level-1 tiles hold the roots of 256 entries; a wrong one is named with its range."""
        await log.stack.store.redis.setrange(log.tile_key(1, 0), 32, bytes(32))
        result = await certfree(capsys, "ledger", "audit", *log.network())
        assert result.code == 1
        assert "check failed: tile: tile/1/000.p/2 position 1 (entries 256-511)" in result.err


async def _bundle_entry(log: Log, key: str, position: int) -> bytes:
    """The encoded entry at `position` of a stored bundle."""
    data = await log.stack.store.redis.get(key)
    offset = 0
    for _ in range(position):
        offset += 2 + int.from_bytes(data[offset : offset + 2], "big")
    length = int.from_bytes(data[offset : offset + 2], "big")
    return bytes(data[offset + 2 : offset + 2 + length])


async def _sha256_offset(log: Log, key: str, position: int) -> int:
    """The byte offset, in a stored bundle, of the first hex digit of an entry's sha256."""
    data = await log.stack.store.redis.get(key)
    offset = 0
    for _ in range(position):
        offset += 2 + int.from_bytes(data[offset : offset + 2], "big")
    entry = await _bundle_entry(log, key, position)
    Entry.decode(entry)  # a well-formed entry before the change
    return offset + 2 + entry.index(b"\nsha256 ") + len(b"\nsha256 ")


class TestVerifierKey:
    """`ledger verifier-key` prints what operators give auditors, never the private key."""

    async def test_prints_the_logs_verifier_key(
        self, capsys: pytest.CaptureFixture[str], log: Log, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The key string that verifies the log's checkpoints, and nothing private."""
        monkeypatch.delenv("CERTFREE_LEDGER_KEY_FILE", raising=False)
        monkeypatch.setenv("CERTFREE_LEDGER_ORIGIN", log.settings.ledger_origin)
        result = await certfree(
            capsys, "ledger", "verifier-key", "--data-dir", str(log.settings.data_dir)
        )
        assert result.code == 0, result.err
        assert result.out == log.key + "\n"
        assert "PRIVATE" not in result.out

    async def test_a_missing_key_file_is_explained(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """No key yet: exit 2 saying where it was looked for and who creates it."""
        monkeypatch.delenv("CERTFREE_LEDGER_KEY_FILE", raising=False)
        result = await certfree(
            capsys, "ledger", "verifier-key", "--data-dir", str(tmp_path / "empty")
        )
        assert result.code == 2
        assert "no log key at" in result.err


class TestProgress:
    """The progress bar redraws at most ten times a second on a terminal."""

    def test_a_terminal_is_redrawn_in_place_at_most_every_tenth_of_a_second(self) -> None:
        """Updates 50 ms apart draw every other one; close draws the end and a newline."""
        now = [0.0]
        stream = io.StringIO()
        progress = Progress(1000, stream, interactive=True, clock=lambda: now[0])
        for step in range(1, 5):
            now[0] = step * 0.05
            progress.update(step * 100)
        progress.close(1000)
        drawn = stream.getvalue().split("\r")[1:]
        assert [line.split()[2] for line in drawn] == ["100/1,000", "300/1,000", "1,000/1,000"]
        assert drawn[-1].endswith("100% 5,000 entries/s\n")

    def test_off_a_terminal_lines_are_written_at_most_once_a_second(self) -> None:
        """Into a file or a CI log: whole lines, no carriage returns."""
        now = [0.0]
        stream = io.StringIO()
        progress = Progress(10, stream, interactive=False, clock=lambda: now[0])
        for step in range(1, 10):
            now[0] = step * 0.3
            progress.update(step)
        progress.close(10)
        lines = stream.getvalue().splitlines()
        assert "\r" not in stream.getvalue()
        assert [line.split()[2] for line in lines] == ["1/10", "5/10", "9/10", "10/10"]
