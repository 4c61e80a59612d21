"""The spine's one real path: append an attestation, read it back, keep it across restarts."""

from __future__ import annotations

import hashlib
from typing import Any

import grpc
import pytest

from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from tests.conftest import HOUSING_BUREAU, MARKET_REGULATION, caller


def attestation(artefact: bytes = b"signed license bytes", **fields: Any) -> ledger_pb2.Attestation:
    """A well-formed attestation of `artefact` by the market regulation bureau."""
    values: dict[str, Any] = {
        "artefact_sha256": hashlib.sha256(artefact).digest(),
        "kind": ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED,
        "issuer_department": MARKET_REGULATION,
        "artefact_id": "1.2.156.3005.2.11100000000000000001.11350100MB01234565.0001.001.K",
    }
    values.update(fields)
    return ledger_pb2.Attestation(**values)


class TestAppendAndRead:
    """Append returns the entry's index; the entry reads back as appended."""

    async def test_appended_entry_reads_back_by_index(self, ledger_channel: Any) -> None:
        """Two appends get indexes 0 and 1 and read back unchanged."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        first = await stub.Append(
            ledger_pb2.AppendRequest(attestation=attestation(b"a")), metadata=caller()
        )
        second = await stub.Append(
            ledger_pb2.AppendRequest(attestation=attestation(b"b")), metadata=caller()
        )
        assert (first.entry.index, second.entry.index) == (0, 1)
        assert not first.duplicate
        read = await stub.GetEntry(ledger_pb2.GetEntryRequest(index=1), metadata=caller())
        assert read.attestation == attestation(b"b")
        assert read == second.entry
        assert read.accepted_at.seconds > 0

    async def test_retry_returns_the_original_entry(self, ledger_channel: Any) -> None:
        """The same attestation twice is one entry; the retry says it was a duplicate."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        request = ledger_pb2.AppendRequest(attestation=attestation())
        first = await stub.Append(request, metadata=caller())
        again = await stub.Append(request, metadata=caller())
        assert again.duplicate
        assert again.entry == first.entry
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.GetEntry(ledger_pb2.GetEntryRequest(index=1), metadata=caller())
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND

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

    async def test_lookup_finds_entry_by_artefact_hash(self, ledger_channel: Any) -> None:
        """LookupEntry finds the entry from the artefact's hash and kind alone."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        await stub.Append(
            ledger_pb2.AppendRequest(attestation=attestation(b"a")), metadata=caller()
        )
        appended = await stub.Append(
            ledger_pb2.AppendRequest(attestation=attestation(b"b")), metadata=caller()
        )
        found = await stub.LookupEntry(
            ledger_pb2.LookupEntryRequest(
                artefact_sha256=hashlib.sha256(b"b").digest(),
                kind=ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED,
            ),
            metadata=caller(role="auditor"),
        )
        assert found == appended.entry


class TestAuthority:
    """A department attests only its own artefacts, in a role that signs."""

    async def test_other_departments_artefact_is_refused(self, ledger_channel: Any) -> None:
        """The housing bureau cannot attest what the market regulator signed."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.Append(
                ledger_pb2.AppendRequest(attestation=attestation()),
                metadata=caller(department=HOUSING_BUREAU),
            )
        assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED

    async def test_clerk_cannot_append(self, ledger_channel: Any) -> None:
        """A window clerk reads the ledger but does not write it."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.Append(
                ledger_pb2.AppendRequest(attestation=attestation()), metadata=caller(role="clerk")
            )
        assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
        nothing = await stub.Append(
            ledger_pb2.AppendRequest(attestation=attestation()), metadata=caller()
        )
        assert nothing.entry.index == 0, "the refused append wrote nothing"


class TestDurability:
    """An acknowledged append survives a restart of the store."""

    async def test_entry_survives_store_restart(
        self, redis_server: Any, ledger_channel: Any
    ) -> None:
        """Append, restart the store keeping its data, read the entry back."""
        if not redis_server.can_restart:
            pytest.skip(redis_server.why_no_restart)
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        appended = await stub.Append(
            ledger_pb2.AppendRequest(attestation=attestation()), metadata=caller()
        )
        await redis_server.restart()
        read = await stub.GetEntry(ledger_pb2.GetEntryRequest(index=0), metadata=caller())
        assert read == appended.entry
