"""The ledger over gRPC: appends are integrated, durable and checkpointed; proofs verify."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from runtime.config import Settings
from runtime.tlog import merkle
from runtime.tlog.checkpoint import open_checkpoint, sign_checkpoint
from runtime.tlog.entry import KINDS, Entry
from runtime.tlog.note import Signer, Verifier
from runtime.tlog.receipt import ReceiptError, verify_receipt
from services.ledger.servicer import entry_message
from tests.conftest import HOUSING_BUREAU, MARKET_REGULATION, caller


def attestation(artefact: bytes = b"signed license bytes", **fields: Any) -> ledger_pb2.Attestation:
    """A well-formed attestation of `artefact` by the market regulation bureau."""
    values: dict[str, Any] = {
        "artefact_sha256": hashlib.sha256(artefact).digest(),
        "kind": ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED,
        "issuer_department": MARKET_REGULATION,
        "artefact_id": "1.2.156.3005.2.11100000000013127D001.11350100MB01234565.0001.001.K",
    }
    values.update(fields)
    return ledger_pb2.Attestation(**values)


def log_verifier(settings: Settings) -> Verifier:
    """The log's public key, from the key file the ledger created on first start."""
    return Signer.from_key_string(settings.ledger_key_path.read_text().strip()).verifier()


def rebuilt(
    append: ledger_pb2.AppendRequest,
    result: ledger_pb2.AppendResult,
    checkpoint: ledger_pb2.Checkpoint,
) -> ledger_pb2.AppendResponse:
    """What a caller knows of one append of a batch (BatchAppend answers compactly): the
    entry rebuilt from what it sent and the result's index and time, and the checkpoint."""
    sent = append.attestation
    entry = Entry(
        KINDS[sent.kind - 1],
        sent.issuer_department,
        sent.artefact_id,
        sent.artefact_sha256,
        result.accepted_at.ToMilliseconds(),
    )
    return ledger_pb2.AppendResponse(
        entry=entry_message(result.index, entry.encode()),
        duplicate=result.duplicate,
        checkpoint=checkpoint,
    )


async def append_many(stub: Any, count: int, prefix: str = "a") -> list[ledger_pb2.AppendResponse]:
    """Append `count` distinct attestations in one BatchAppend."""
    request = ledger_pb2.BatchAppendRequest(
        appends=[
            ledger_pb2.AppendRequest(attestation=attestation(f"{prefix}{i}".encode()))
            for i in range(count)
        ]
    )
    response = await stub.BatchAppend(request, metadata=caller())
    assert len(response.results) == count
    return [
        rebuilt(a, r, response.checkpoint)
        for a, r in zip(request.appends, response.results, strict=True)
    ]


class TestAppend:
    """Append returns the entry's index with a signed checkpoint that covers it."""

    async def test_append_returns_entry_and_covering_checkpoint(
        self, settings: Settings, ledger_channel: Any
    ) -> None:
        """The checkpoint is signed by the log and its tree includes the entry."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        response = await stub.Append(
            ledger_pb2.AppendRequest(attestation=attestation()), metadata=caller()
        )
        checkpoint, _ = open_checkpoint(
            response.checkpoint.signed_note, log_verifier(settings), origin=settings.ledger_origin
        )
        assert response.entry.index == 0
        assert checkpoint.size == 1
        assert checkpoint.root_hash == merkle.leaf_hash(response.entry.encoded)
        read = await stub.GetEntry(ledger_pb2.GetEntryRequest(index=0), metadata=caller())
        assert read == response.entry

    async def test_retry_returns_the_original_entry(self, ledger_channel: Any) -> None:
        """The same attestation twice is one entry; the retry says it was a duplicate."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        request = ledger_pb2.AppendRequest(attestation=attestation())
        first = await stub.Append(request, metadata=caller())
        again = await stub.Append(request, metadata=caller())
        assert again.duplicate and again.entry == first.entry
        assert again.checkpoint.size == 1

    async def test_repeat_within_one_batch_is_one_entry(self, ledger_channel: Any) -> None:
        """The same attestation twice in one batch is appended once; both get its index."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        request = ledger_pb2.AppendRequest(attestation=attestation(b"twice"))
        other = ledger_pb2.AppendRequest(attestation=attestation(b"between"))
        batch = ledger_pb2.BatchAppendRequest(appends=[request, other, request])
        results = (await stub.BatchAppend(batch, metadata=caller())).results
        assert [r.index for r in results] == [0, 1, 0]
        assert [r.duplicate for r in results] == [False, False, True]
        checkpoint = await stub.GetCheckpoint(ledger_pb2.GetCheckpointRequest(), metadata=caller())
        assert checkpoint.size == 2

    async def test_key_reused_within_a_batch_writes_nothing(self, ledger_channel: Any) -> None:
        """Two different attestations under one key in a batch: ALREADY_EXISTS, nothing written."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        batch = ledger_pb2.BatchAppendRequest(
            appends=[
                ledger_pb2.AppendRequest(attestation=attestation(b"a"), idempotency_key="k-2"),
                ledger_pb2.AppendRequest(attestation=attestation(b"b"), idempotency_key="k-2"),
            ]
        )
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.BatchAppend(batch, metadata=caller())
        assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS
        checkpoint = await stub.GetCheckpoint(ledger_pb2.GetCheckpointRequest(), metadata=caller())
        assert checkpoint.size == 0

    async def test_key_reused_for_other_content_is_refused(self, ledger_channel: Any) -> None:
        """An idempotency key names one attestation; another under it is ALREADY_EXISTS."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        await stub.Append(
            ledger_pb2.AppendRequest(attestation=attestation(b"a"), idempotency_key="k-1"),
            metadata=caller(),
        )
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.Append(
                ledger_pb2.AppendRequest(attestation=attestation(b"b"), idempotency_key="k-1"),
                metadata=caller(),
            )
        assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS
        checkpoint = await stub.GetCheckpoint(ledger_pb2.GetCheckpointRequest(), metadata=caller())
        assert checkpoint.size == 1, "the refused append wrote nothing"

    async def test_batch_reusing_a_logged_key_writes_nothing(self, ledger_channel: Any) -> None:
        """A batch whose last append reuses a logged key for other content: none of it lands."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        await stub.Append(
            ledger_pb2.AppendRequest(attestation=attestation(b"a"), idempotency_key="k-1"),
            metadata=caller(),
        )
        batch = ledger_pb2.BatchAppendRequest(
            appends=[
                ledger_pb2.AppendRequest(attestation=attestation(b"fresh")),
                ledger_pb2.AppendRequest(attestation=attestation(b"b"), idempotency_key="k-1"),
            ]
        )
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.BatchAppend(batch, metadata=caller())
        assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS
        assert "append 1" in (raised.value.details() or "")
        checkpoint = await stub.GetCheckpoint(ledger_pb2.GetCheckpointRequest(), metadata=caller())
        assert checkpoint.size == 1, "the fresh append of the refused batch was not written"

    async def test_concurrent_calls_racing_for_one_key(self, ledger_channel: Any) -> None:
        """Two calls in flight at once put one key on two contents: exactly one lands."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        outcomes = await asyncio.gather(
            *(
                stub.Append(
                    ledger_pb2.AppendRequest(attestation=attestation(body), idempotency_key="race"),
                    metadata=caller(),
                )
                for body in (b"first", b"second")
            ),
            return_exceptions=True,
        )
        refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
        assert len(refused) == 1 and refused[0].code() == grpc.StatusCode.ALREADY_EXISTS
        checkpoint = await stub.GetCheckpoint(ledger_pb2.GetCheckpointRequest(), metadata=caller())
        assert checkpoint.size == 1

    async def test_concurrent_appends_get_distinct_indexes(self, ledger_channel: Any) -> None:
        """Fifty concurrent callers, batched together, each get their own index."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        responses = await asyncio.gather(
            *(
                stub.Append(
                    ledger_pb2.AppendRequest(attestation=attestation(f"c{i}".encode())),
                    metadata=caller(),
                )
                for i in range(50)
            )
        )
        assert sorted(r.entry.index for r in responses) == list(range(50))

    async def test_batch_with_a_bad_item_writes_nothing(self, ledger_channel: Any) -> None:
        """One attestation of another department refuses the whole batch."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        request = ledger_pb2.BatchAppendRequest(
            appends=[
                ledger_pb2.AppendRequest(attestation=attestation(b"ok")),
                ledger_pb2.AppendRequest(
                    attestation=attestation(b"other", issuer_department=HOUSING_BUREAU)
                ),
            ]
        )
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.BatchAppend(request, metadata=caller())
        assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
        checkpoint = await stub.GetCheckpoint(ledger_pb2.GetCheckpointRequest(), metadata=caller())
        assert checkpoint.size == 0

    async def test_resident_id_in_artefact_id_is_refused(self, ledger_channel: Any) -> None:
        """Personal data never enters the ledger: INVALID_ARGUMENT naming the field."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.Append(
                ledger_pb2.AppendRequest(
                    attestation=attestation(artefact_id="holder-35010219900101123X")
                ),
                metadata=caller(),
            )
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    async def test_bad_batch_item_is_named_by_its_position(self, ledger_channel: Any) -> None:
        """A resident ID in the third item of a batch: the field violation names
        appends[2], and nothing of the batch is written."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        items = [
            attestation(b"a"),
            attestation(b"b"),
            attestation(b"c", artefact_id="r-35010219900101123X"),
        ]
        request = ledger_pb2.BatchAppendRequest(
            appends=[ledger_pb2.AppendRequest(attestation=item) for item in items]
        )
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.BatchAppend(request, metadata=caller())
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        status = rpc_status.from_call(raised.value)
        assert status is not None
        bad_request = error_details_pb2.BadRequest()
        next(d for d in status.details if d.Is(bad_request.DESCRIPTOR)).Unpack(bad_request)
        fields = [violation.field for violation in bad_request.field_violations]
        assert fields == ["appends[2].attestation.artefact_id"]
        checkpoint = await stub.GetCheckpoint(ledger_pb2.GetCheckpointRequest(), metadata=caller())
        assert checkpoint.size == 0

    async def test_clerk_cannot_append(self, ledger_channel: Any) -> None:
        """A window clerk reads the ledger but does not write it."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.Append(
                ledger_pb2.AppendRequest(attestation=attestation()), metadata=caller(role="clerk")
            )
        assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED


class TestProofs:
    """Inclusion and consistency proofs from the stored tiles verify against checkpoints."""

    async def test_every_entry_has_a_verifying_inclusion_proof(
        self, settings: Settings, ledger_channel: Any
    ) -> None:
        """Across tile boundaries (600 entries, 3 level-0 tiles), every proof verifies."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        results = await append_many(stub, 600)
        checkpoint, _ = open_checkpoint(results[-1].checkpoint.signed_note, log_verifier(settings))
        assert checkpoint.size == 600
        for index in (*range(0, 600, 37), 255, 256, 511, 512, 599):
            proof = await stub.GetInclusionProof(
                ledger_pb2.GetInclusionProofRequest(index=index), metadata=caller()
            )
            merkle.verify_inclusion(
                merkle.leaf_hash(results[index].entry.encoded),
                index,
                checkpoint.size,
                list(proof.hashes),
                checkpoint.root_hash,
            )

    async def test_log_growth_is_consistent(self, settings: Settings, ledger_channel: Any) -> None:
        """Every earlier checkpoint is a prefix of the latest: consistency proofs verify."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        verifier = log_verifier(settings)
        checkpoints = []
        for batch, count in enumerate((1, 2, 5, 250, 3, 300)):
            results = await append_many(stub, count, prefix=f"b{batch}-")
            checkpoints.append(open_checkpoint(results[-1].checkpoint.signed_note, verifier)[0])
        latest = checkpoints[-1]
        for old in checkpoints[:-1]:
            proof = await stub.GetConsistencyProof(
                ledger_pb2.GetConsistencyProofRequest(first_size=old.size), metadata=caller()
            )
            merkle.verify_consistency(
                old.size, latest.size, list(proof.hashes), old.root_hash, latest.root_hash
            )

    async def test_proof_beyond_the_log_is_refused(self, ledger_channel: Any) -> None:
        """An index or tree size the log does not have is INVALID_ARGUMENT."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        await append_many(stub, 3)
        for request in (
            ledger_pb2.GetInclusionProofRequest(index=3),
            ledger_pb2.GetInclusionProofRequest(index=0, tree_size=4),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await stub.GetInclusionProof(request, metadata=caller())
            assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    async def test_lookup_by_artefact_hash(self, ledger_channel: Any) -> None:
        """LookupEntry finds the entry from the artefact's hash and kind alone."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        results = await append_many(stub, 5)
        found = await stub.LookupEntry(
            ledger_pb2.LookupEntryRequest(
                artefact_sha256=hashlib.sha256(b"a3").digest(),
                kind=ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED,
            ),
            metadata=caller(role="auditor"),
        )
        assert found == results[3].entry


class TestArtefactChain:
    """A license's issuance and status changes come back as one chain, each entry proven."""

    async def test_chain_lists_issue_and_status_change_with_proofs(
        self, settings: Settings, ledger_channel: Any
    ) -> None:
        """Entries of other artefacts interleave; the chain holds only this one's, in order."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        license_id = "1.2.156.3005.2.11100000000013127D001.11350100MB01234565.000042.001.Q"
        await append_many(stub, 3, prefix="other")
        issued = await stub.Append(
            ledger_pb2.AppendRequest(attestation=attestation(b"v1", artefact_id=license_id)),
            metadata=caller(),
        )
        await append_many(stub, 300, prefix="more")
        revoked = await stub.Append(
            ledger_pb2.AppendRequest(
                attestation=attestation(
                    b"revocation",
                    artefact_id=license_id,
                    kind=ledger_pb2.ATTESTATION_KIND_LICENSE_STATUS_CHANGED,
                )
            ),
            metadata=caller(),
        )
        chain = await stub.ListArtefactEntries(
            ledger_pb2.ListArtefactEntriesRequest(artefact_id=license_id),
            metadata=caller(role="auditor"),
        )
        assert [e.entry for e in chain.entries] == [issued.entry, revoked.entry]
        checkpoint, _ = open_checkpoint(chain.checkpoint.signed_note, log_verifier(settings))
        for item in chain.entries:
            merkle.verify_inclusion(
                merkle.leaf_hash(item.entry.encoded),
                item.entry.index,
                checkpoint.size,
                list(item.inclusion_proof),
                checkpoint.root_hash,
            )

    async def test_one_batch_with_two_entries_of_an_artefact(self, ledger_channel: Any) -> None:
        """Issuance and status change in one BatchAppend after an earlier entry: all chained."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        license_id = "1.2.156.3005.2.11100000000013127D001.11350100MB01234565.000043.001.K"
        first = await stub.Append(
            ledger_pb2.AppendRequest(attestation=attestation(b"a0", artefact_id=license_id)),
            metadata=caller(),
        )
        batch = await stub.BatchAppend(
            ledger_pb2.BatchAppendRequest(
                appends=[
                    ledger_pb2.AppendRequest(
                        attestation=attestation(b"a1", artefact_id=license_id)
                    ),
                    ledger_pb2.AppendRequest(attestation=attestation(b"x", artefact_id="other-1")),
                    ledger_pb2.AppendRequest(
                        attestation=attestation(
                            b"a2",
                            artefact_id=license_id,
                            kind=ledger_pb2.ATTESTATION_KIND_LICENSE_STATUS_CHANGED,
                        )
                    ),
                ]
            ),
            metadata=caller(),
        )
        chain = await stub.ListArtefactEntries(
            ledger_pb2.ListArtefactEntriesRequest(artefact_id=license_id),
            metadata=caller(role="auditor"),
        )
        assert [e.entry.index for e in chain.entries] == [
            first.entry.index,
            batch.results[0].index,
            batch.results[2].index,
        ]

    async def test_unknown_artefact_has_an_empty_chain(self, ledger_channel: Any) -> None:
        """No entry, no error: the chain is empty and the checkpoint still comes back."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        await append_many(stub, 2)
        chain = await stub.ListArtefactEntries(
            ledger_pb2.ListArtefactEntriesRequest(artefact_id="never-attested"), metadata=caller()
        )
        assert not chain.entries and chain.checkpoint.size == 2


class TestReceipts:
    """A receipt proves an attestation offline with the artefact and the log's key only."""

    async def test_receipt_verifies_offline(self, settings: Settings, ledger_channel: Any) -> None:
        """The tlog-proof names the entry, its index and a checkpoint signed by the log."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        await append_many(stub, 300)
        receipt = await stub.GetReceipt(ledger_pb2.GetReceiptRequest(index=257), metadata=caller())
        entry, checkpoint = verify_receipt(
            receipt.tlog_proof, b"a257", log_verifier(settings), origin=settings.ledger_origin
        )
        assert entry.artefact_id.startswith("1.2.156.3005.2.")
        assert checkpoint.size == 300

    async def test_receipt_for_another_artefact_fails(
        self, settings: Settings, ledger_channel: Any
    ) -> None:
        """The wrong artefact, the wrong key or a tampered proof each fail, saying which."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        await append_many(stub, 10)
        text = (
            await stub.GetReceipt(ledger_pb2.GetReceiptRequest(index=4), metadata=caller())
        ).tlog_proof
        with pytest.raises(ReceiptError, match="SHA-256"):
            verify_receipt(text, b"a5", log_verifier(settings))
        with pytest.raises(ReceiptError, match="checkpoint"):
            verify_receipt(text, b"a4", Signer.generate(settings.ledger_origin).verifier())
        lines = text.split("\n")
        lines[3] = "A" * 43 + "="  # replace the first proof hash
        with pytest.raises(ReceiptError, match="inclusion"):
            verify_receipt("\n".join(lines), b"a4", log_verifier(settings))


class TestDurability:
    """What was acknowledged survives restarts of the store and of the ledger."""

    async def test_entries_survive_store_restart(
        self, redis_server: Any, settings: Settings, ledger_channel: Any
    ) -> None:
        """Append, kill -9 the store, restart it, read back; appends continue consistently."""
        if not redis_server.can_restart:
            pytest.skip(redis_server.why_no_restart)
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        before = await append_many(stub, 20)
        await redis_server.restart(hard=True)
        read = await stub.GetEntry(ledger_pb2.GetEntryRequest(index=19), metadata=caller())
        assert read == before[19].entry
        after = await append_many(stub, 5, prefix="z")
        assert after[0].entry.index == 20

    async def test_a_new_ledger_process_continues_the_tree(
        self, settings: Settings, start_ledger: Any, tmp_path: Path
    ) -> None:
        """A second ledger on the same store reloads the tree's edge and extends it."""
        first = await start_ledger()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{first.port}") as channel:
            old = await append_many(ledger_pb2_grpc.LedgerServiceStub(channel), 300)
        await first.stop(0)
        second = await start_ledger()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{second.port}") as channel:
            stub = ledger_pb2_grpc.LedgerServiceStub(channel)
            new = await append_many(stub, 10, prefix="n")
            proof = await stub.GetConsistencyProof(
                ledger_pb2.GetConsistencyProofRequest(first_size=300), metadata=caller()
            )
        verifier = log_verifier(settings)
        old_cp = open_checkpoint(old[-1].checkpoint.signed_note, verifier)[0]
        new_cp = open_checkpoint(new[-1].checkpoint.signed_note, verifier)[0]
        merkle.verify_consistency(300, 310, list(proof.hashes), old_cp.root_hash, new_cp.root_hash)


class TestAppendStream:
    """Bulk attestation over one stream: pipelined batches, answered in order."""

    async def test_batches_are_answered_in_order(
        self, settings: Settings, ledger_channel: Any
    ) -> None:
        """Ten batches of 100: responses in request order, indexes 0..999, proofs verify."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)

        sent = [
            ledger_pb2.BatchAppendRequest(
                appends=[
                    ledger_pb2.AppendRequest(attestation=attestation(f"s{b}-{i}".encode()))
                    for i in range(100)
                ]
            )
            for b in range(10)
        ]

        async def batches() -> Any:
            for batch in sent:
                yield batch

        responses = [r async for r in stub.AppendStream(batches(), metadata=caller())]
        indexes = [item.index for r in responses for item in r.results]
        assert indexes == list(range(1000))
        checkpoint, _ = open_checkpoint(
            responses[-1].checkpoint.signed_note, log_verifier(settings)
        )
        assert checkpoint.size == 1000
        proof = await stub.GetInclusionProof(
            ledger_pb2.GetInclusionProofRequest(index=777, tree_size=checkpoint.size),
            metadata=caller(),
        )
        entry = rebuilt(sent[7].appends[77], responses[7].results[77], responses[7].checkpoint)
        merkle.verify_inclusion(
            merkle.leaf_hash(entry.entry.encoded),
            777,
            checkpoint.size,
            list(proof.hashes),
            checkpoint.root_hash,
        )

    async def test_invalid_batch_ends_the_stream_with_its_error(self, ledger_channel: Any) -> None:
        """A batch breaking a rule ends the stream INVALID_ARGUMENT; earlier batches stand."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)

        async def batches() -> Any:
            yield ledger_pb2.BatchAppendRequest(
                appends=[ledger_pb2.AppendRequest(attestation=attestation(b"first"))]
            )
            yield ledger_pb2.BatchAppendRequest(
                appends=[ledger_pb2.AppendRequest(attestation=attestation(b"x", artefact_id=""))]
            )

        received = []
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            async for response in stub.AppendStream(batches(), metadata=caller()):
                received.append(response)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        checkpoint = await stub.GetCheckpoint(ledger_pb2.GetCheckpointRequest(), metadata=caller())
        assert checkpoint.size == 1

    async def test_stream_needs_an_appending_role(self, ledger_channel: Any) -> None:
        """A clerk's stream is refused before any batch is read."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)

        async def batches() -> Any:
            yield ledger_pb2.BatchAppendRequest(
                appends=[ledger_pb2.AppendRequest(attestation=attestation())]
            )

        with pytest.raises(grpc.aio.AioRpcError) as raised:
            async for _ in stub.AppendStream(batches(), metadata=caller(role="clerk")):
                pass
        assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED


def _outcomes(response: ledger_pb2.VerifyReceiptResponse) -> dict[str, str]:
    """Each check's outcome by name: {"inclusion": "PASSED", ...}."""
    return {
        ledger_pb2.ReceiptCheck.Name(c.check).removeprefix("RECEIPT_CHECK_").lower(): (
            ledger_pb2.ReceiptCheckOutcome.Name(c.outcome).removeprefix("RECEIPT_CHECK_OUTCOME_")
        )
        for c in response.checks
    }


class TestVerifyReceipt:
    """VerifyReceipt answers every check of a receipt; a failing receipt is an answer, not
    an error."""

    async def _receipt(self, stub: Any, index: int) -> str:
        request = ledger_pb2.GetReceiptRequest(index=index)
        return str((await stub.GetReceipt(request, metadata=caller())).tlog_proof)

    async def _verify(self, stub: Any, text: str, **fields: Any) -> Any:
        request = ledger_pb2.VerifyReceiptRequest(tlog_proof=text, **fields)
        return await stub.VerifyReceipt(request, metadata=caller())

    async def test_a_good_receipt_passes_every_check_it_can_run(
        self, settings: Settings, ledger_channel: Any
    ) -> None:
        """Form, signature, artefact, inclusion and consistency pass; the path leads to the
        root; no witnesses are configured, so that check is not run and does not count."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        await append_many(stub, 20)
        text = await self._receipt(stub, 13)
        await append_many(stub, 7, prefix="later")  # the log grows after the receipt
        response = await self._verify(stub, text, artefact_sha256=hashlib.sha256(b"a13").digest())
        assert response.valid
        assert _outcomes(response) == {
            "format": "PASSED",
            "signature": "PASSED",
            "artefact": "PASSED",
            "inclusion": "PASSED",
            "consistency": "PASSED",
            "witnesses": "NOT_CHECKED",
        }
        assert response.entry.index == 13
        assert response.checkpoint.size == 20
        assert response.latest_checkpoint.size == 27
        assert response.verifier_key == log_verifier(settings).key_string()
        assert response.leaf_hash == merkle.leaf_hash(response.entry.encoded)
        assert len(response.audit_path) == 5  # leaf 13 of 20: four full levels and the edge
        assert response.audit_path[-1].node == response.checkpoint.root_hash

    async def test_without_the_artefact_the_entry_is_shown_not_compared(
        self, ledger_channel: Any
    ) -> None:
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        await append_many(stub, 3)
        response = await self._verify(stub, await self._receipt(stub, 1))
        assert response.valid
        assert _outcomes(response)["artefact"] == "NOT_CHECKED"
        assert response.entry.attestation.artefact_sha256 == hashlib.sha256(b"a1").digest()

    async def test_each_tampering_fails_its_own_check(
        self, settings: Settings, ledger_channel: Any
    ) -> None:
        """Another artefact, a changed proof hash, another log's key: each fails its check,
        and the checks that need a verified checkpoint are not run without one."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        await append_many(stub, 10)
        text = await self._receipt(stub, 4)
        other = await self._verify(stub, text, artefact_sha256=hashlib.sha256(b"a5").digest())
        assert not other.valid
        assert _outcomes(other)["artefact"] == "FAILED"
        assert _outcomes(other)["inclusion"] == "PASSED"

        lines = text.split("\n")
        lines[3] = "A" * 43 + "="  # the first proof hash
        tampered = await self._verify(stub, "\n".join(lines))
        assert _outcomes(tampered)["inclusion"] == "FAILED"
        assert not tampered.valid

        stranger = Signer.generate(settings.ledger_origin).verifier().key_string()
        foreign = await self._verify(stub, text, verifier_key=stranger)
        outcomes = _outcomes(foreign)
        assert outcomes["signature"] == "FAILED"
        assert outcomes["inclusion"] == outcomes["consistency"] == "NOT_CHECKED"
        assert foreign.verifier_key == stranger
        assert not foreign.HasField("checkpoint")

    async def test_a_checkpoint_of_another_history_fails_consistency(
        self, settings: Settings, ledger_channel: Any
    ) -> None:
        """A receipt on a checkpoint the log's key signed for a history the log does not have
        (a split view) passes the signature and fails inclusion and consistency."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        await append_many(stub, 8)
        text = await self._receipt(stub, 2)
        head, _, note = text.partition("\n\n")
        real = open_checkpoint(note, log_verifier(settings), origin=settings.ledger_origin)[0]
        forked = dataclasses.replace(real, root_hash=hashlib.sha256(b"another history").digest())
        signer = Signer.from_key_string(settings.ledger_key_path.read_text().strip())
        response = await self._verify(stub, head + "\n\n" + sign_checkpoint(forked, signer))
        outcomes = _outcomes(response)
        assert outcomes["signature"] == "PASSED"
        assert outcomes["inclusion"] == outcomes["consistency"] == "FAILED"
        assert not response.valid

    async def test_text_that_is_not_a_receipt_fails_its_form(self, ledger_channel: Any) -> None:
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        await append_many(stub, 1)
        response = await self._verify(stub, '{"tlogProof": "pasted the JSON"}')
        assert not response.valid
        outcomes = _outcomes(response)
        assert outcomes.pop("format") == "FAILED"
        assert set(outcomes.values()) == {"NOT_CHECKED"}

    async def test_a_malformed_verifier_key_is_invalid_argument(self, ledger_channel: Any) -> None:
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        await append_many(stub, 1)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await self._verify(stub, await self._receipt(stub, 0), verifier_key="not-a-key")
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
