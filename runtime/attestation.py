"""Attesting a service's artefacts in the ledger, over gRPC like any other caller.

The licenses and proofs services both attest through this client (role service, on
behalf of the department that signed). Appends are idempotent in the ledger (artefact
hash and kind), so a retry after a crash or a lost reply never makes a second entry:
a caller that did not hear back simply appends again until the ledger answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from runtime.config import Settings
from runtime.upstream import ServiceCaller

LICENSE_ISSUED = ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED
LICENSE_STATUS_CHANGED = ledger_pb2.ATTESTATION_KIND_LICENSE_STATUS_CHANGED
KEY_PUBLISHED = ledger_pb2.ATTESTATION_KIND_KEY_PUBLISHED
PROOF_ANSWERED = ledger_pb2.ATTESTATION_KIND_PROOF_ANSWERED
COMMITMENT_RECORDED = ledger_pb2.ATTESTATION_KIND_COMMITMENT_RECORDED
COMMITMENT_CHECKED = ledger_pb2.ATTESTATION_KIND_COMMITMENT_CHECKED


@dataclass(frozen=True)
class Attested:
    """Where the ledger put an artefact, and the offline receipt (C2SP tlog-proof)."""

    index: int
    receipt: str


class LedgerClient(ServiceCaller):
    """Appends attestations as a service (role service, for the signing department)."""

    def __init__(self, settings: Settings, subject: str) -> None:
        """A client of the ledger the settings name (``target("ledger")``)."""
        super().__init__(settings, "ledger", subject)
        self._stub = ledger_pb2_grpc.LedgerServiceStub(self._channel)

    async def lookup(self, kind: int, artefact_sha256: bytes, department: str) -> int:
        """The index of the entry attesting `artefact_sha256` as `kind`; AioRpcError if none."""
        entry = await self._stub.LookupEntry(
            ledger_pb2.LookupEntryRequest(artefact_sha256=artefact_sha256, kind=kind),  # type: ignore[arg-type]
            metadata=self._metadata(department),
            timeout=self._timeout,
        )
        return int(entry.index)

    async def receipt(self, kind: int, artefact_sha256: bytes, department: str) -> str:
        """A fresh receipt (tlog-proof) of the entry attesting `artefact_sha256` as `kind`.

        Raises grpc.aio.AioRpcError (NOT_FOUND when the ledger holds no such entry).
        """
        index = await self.lookup(kind, artefact_sha256, department)
        receipt = await self._stub.GetReceipt(
            ledger_pb2.GetReceiptRequest(index=index),
            metadata=self._metadata(department),
            timeout=self._timeout,
        )
        return str(receipt.tlog_proof)

    async def attest(
        self, kind: int, issuer: str, artefact_id: str, artefact_sha256: bytes
    ) -> Attested:
        """Append (or find again) one attestation; returns once the ledger has it durably.

        Raises grpc.aio.AioRpcError when the ledger does not answer; the caller retries.
        """
        metadata = self._metadata(issuer)
        appended = await self._stub.Append(
            ledger_pb2.AppendRequest(
                attestation=ledger_pb2.Attestation(
                    artefact_sha256=artefact_sha256,
                    kind=kind,  # type: ignore[arg-type]
                    issuer_department=issuer,
                    artefact_id=artefact_id,
                )
            ),
            metadata=metadata,
            timeout=self._timeout,
        )
        receipt = await self._stub.GetReceipt(
            ledger_pb2.GetReceiptRequest(index=appended.entry.index),
            metadata=metadata,
            timeout=self._timeout,
        )
        return Attested(appended.entry.index, receipt.tlog_proof)
