"""gRPC face of the ledger: decode, authorise, call the store, encode.

The spine's thin path: Append (idempotent, durable on return), GetEntry and
LookupEntry. The Merkle tree, checkpoints, proofs and receipts arrive with issue 3;
until then those RPCs answer UNIMPLEMENTED, saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import grpc

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from runtime.errors import AlreadyExists, NotFound, PermissionDenied
from runtime.identity import current_caller, require_role
from services.ledger.store import LedgerStore

Clock = Callable[[], datetime]
_APPENDERS = (common_pb2.ROLE_ISSUER, common_pb2.ROLE_OFFICER, common_pb2.ROLE_SERVICE)


def default_idempotency_key(attestation: ledger_pb2.Attestation) -> str:
    """Without an explicit key, one artefact of one kind is attested once."""
    kind = ledger_pb2.AttestationKind.Name(attestation.kind).removeprefix("ATTESTATION_KIND_")
    return f"{kind.lower()}:{attestation.artefact_sha256.hex()}"


class LedgerServicer(ledger_pb2_grpc.LedgerServiceServicer):
    """certfree.ledger.v1.LedgerService."""

    def __init__(self, store: LedgerStore, clock: Clock = lambda: datetime.now(UTC)) -> None:
        self._store = store
        self._clock = clock

    async def Append(
        self, request: ledger_pb2.AppendRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.AppendResponse:
        """Append one attestation; a retry with the same key returns the original entry."""
        caller = require_role(*_APPENDERS)
        attestation = request.attestation
        if (
            caller.role != common_pb2.ROLE_SERVICE
            and attestation.issuer_department != caller.department_code
        ):
            raise PermissionDenied(
                "a department attests only its own artefacts",
                reason=common_pb2.OUTSIDE_AUTHORITY,
                metadata={"issuer_department": attestation.issuer_department},
            )
        key = request.idempotency_key or default_idempotency_key(attestation)
        entry = ledger_pb2.LedgerEntry(attestation=attestation)
        entry.accepted_at.FromDatetime(self._clock())
        appended = await self._store.append(key, entry.SerializeToString(deterministic=True))
        stored = await self._entry(appended.index)
        if not appended.created and stored.attestation != attestation:
            raise AlreadyExists(
                f"idempotency key {key!r} was used for a different attestation "
                f"(entry {appended.index})",
                metadata={"index": str(appended.index)},
            )
        return ledger_pb2.AppendResponse(entry=stored, duplicate=not appended.created)

    async def GetEntry(
        self, request: ledger_pb2.GetEntryRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.LedgerEntry:
        """One entry by index."""
        current_caller()
        return await self._entry(request.index)

    async def LookupEntry(
        self, request: ledger_pb2.LookupEntryRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.LedgerEntry:
        """The entry attesting an artefact, by its hash and kind."""
        current_caller()
        probe = ledger_pb2.Attestation(artefact_sha256=request.artefact_sha256, kind=request.kind)
        index = await self._store.index_of(default_idempotency_key(probe))
        if index is None:
            raise NotFound("no entry attests this artefact hash and kind")
        return await self._entry(index)

    async def _entry(self, index: int) -> ledger_pb2.LedgerEntry:
        raw = await self._store.entry(index)
        if raw is None:
            raise NotFound(f"the log has no entry {index}", metadata={"index": str(index)})
        entry = ledger_pb2.LedgerEntry.FromString(raw)
        entry.index = index
        return entry
