"""The ledger publishes checkpoints cosigned by k of n witnesses (C2SP tlog-witness)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

import services.ledger
from certfree import cli
from certfree.witness import RunningWitness, WitnessConfig, start_witness
from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from runtime.config import ConfigError, Settings
from runtime.tlog.note import NoteError, Signer
from runtime.tlog.receipt import verify_receipt
from runtime.tlog.witness import verify_witness_quorum
from tests.conftest import MARKET_REGULATION, caller


@pytest.fixture
async def witnesses(settings: Settings, tmp_path: Path) -> AsyncIterator[list[RunningWitness]]:
    """Three witnesses of the test log, whose key is made first so they can trust it."""
    log = Signer.generate(settings.ledger_origin)
    settings.ledger_key_path.parent.mkdir(parents=True)
    settings.ledger_key_path.write_text(log.key_string() + "\n")
    running = [
        await start_witness(
            WitnessConfig(
                key_file=tmp_path / f"w{n}" / "witness.key",
                state_file=tmp_path / f"w{n}" / "state.json",
                logs={settings.ledger_origin: log.verifier()},
                name=f"witness-{n}.test",
                port=0,
            )
        )
        for n in range(3)
    ]
    yield running
    for witness in running:
        with contextlib.suppress(Exception):
            await witness.stop()


def witnessed_settings(
    settings: Settings, witnesses: list[RunningWitness], quorum: int
) -> Settings:
    """`settings` with the witnesses configured."""
    listed = " ".join(f"{w.verifier.key_string()}@http://127.0.0.1:{w.port}" for w in witnesses)
    return dataclasses.replace(settings, ledger_witnesses=listed, ledger_witness_quorum=quorum)


class TestWitnessing:
    """Checkpoints reach /tlog/checkpoint and receipts only once the quorum cosigned."""

    async def test_checkpoint_is_cosigned_by_the_quorum(
        self,
        settings: Settings,
        store: Any,
        start_ledger: Any,
        witnesses: list[RunningWitness],
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """With one of three witnesses down, two cosign; receipts carry their cosignatures."""
        await witnesses[2].stop()  # one witness is down: 2 of 3 still meet the quorum
        configured = witnessed_settings(settings, witnesses, quorum=2)
        running = await start_ledger(services.ledger.registrations(configured, store))
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = ledger_pb2_grpc.LedgerServiceStub(channel)
            request = ledger_pb2.AppendRequest(
                attestation=ledger_pb2.Attestation(
                    artefact_sha256=hashlib.sha256(b"witnessed").digest(),
                    kind=ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED,
                    issuer_department=MARKET_REGULATION,
                    artefact_id="license-w",
                )
            )
            await stub.Append(request, metadata=caller())
            trusted = [w.verifier for w in witnesses]
            for _ in range(100):
                body = await stub.GetCheckpointNote(
                    ledger_pb2.GetCheckpointNoteRequest(), metadata=caller()
                )
                note = body.data.decode()
                if "\n1\n" in note and "witness-" in note:
                    break
                await asyncio.sleep(0.1)
            assert sorted(verify_witness_quorum(note, trusted, 2)) == [
                "witness-0.test",
                "witness-1.test",
            ]
            with pytest.raises(NoteError, match="2 of 3"):
                verify_witness_quorum(note, trusted, 3)
            receipt = await stub.GetReceipt(
                ledger_pb2.GetReceiptRequest(index=0), metadata=caller()
            )
            verified = await stub.VerifyReceipt(
                ledger_pb2.VerifyReceiptRequest(tlog_proof=receipt.tlog_proof), metadata=caller()
            )
            assert verified.valid
            assert sorted(verified.witnesses) == ["witness-0.test", "witness-1.test"]
            (witnessed,) = [
                c for c in verified.checks if c.check == ledger_pb2.RECEIPT_CHECK_WITNESSES
            ]
            assert witnessed.outcome == ledger_pb2.RECEIPT_CHECK_OUTCOME_PASSED
            assert "2 of 3, 2 required" in witnessed.detail
        log = Signer.from_key_string(settings.ledger_key_path.read_text().strip()).verifier()
        entry, _ = verify_receipt(receipt.tlog_proof, b"witnessed", log)
        assert entry.artefact_id == "license-w"
        checkpoint_note = receipt.tlog_proof.split("\n\n", 1)[1]
        assert len(verify_witness_quorum(checkpoint_note, trusted, 2)) == 2

        # The auditor's command checks the same quorum, offline.
        (tmp_path / "receipt").write_text(receipt.tlog_proof)
        (tmp_path / "artefact").write_bytes(b"witnessed")
        command = [
            "ledger",
            "verify-receipt",
            str(tmp_path / "receipt"),
            str(tmp_path / "artefact"),
        ]
        command += ["--key", log.key_string()]
        for verifier in trusted:
            command += ["--witness", verifier.key_string()]
        for quorum, status in (("2", 0), ("3", 1)):
            with pytest.raises(SystemExit) as exited:
                cli.main([*command, "--quorum", quorum])
            assert exited.value.code == status, quorum
        assert "2 of 3 trusted witnesses cosigned, 3 required" in capsys.readouterr().err

    def test_quorum_larger_than_the_witnesses_is_refused(self, settings: Settings) -> None:
        """A quorum the configured witnesses cannot meet fails at start-up, naming the setting."""
        with pytest.raises(ConfigError, match="CERTFREE_LEDGER_WITNESS_QUORUM"):
            dataclasses.replace(settings, ledger_witnesses="a@http://x", ledger_witness_quorum=2)
