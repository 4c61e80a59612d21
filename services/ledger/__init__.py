"""The attestation ledger service (证照存证)."""

from __future__ import annotations

from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from runtime.config import Settings
from runtime.server import Registration
from runtime.store import Store
from services.ledger.auditing import Witnesses
from services.ledger.keys import load_signer
from services.ledger.reader import LogReader
from services.ledger.sequencer import Sequencer
from services.ledger.servicer import LedgerServicer
from services.ledger.store import LedgerStore
from services.ledger.witnessing import Witnessing, parse_witnesses

SERVICE_NAME: str = ledger_pb2.DESCRIPTOR.services_by_name["LedgerService"].full_name


def registrations(settings: Settings, store: Store) -> list[Registration]:
    """The ledger servicer, ready to mount; its sequencer starts and stops with the server."""
    ledger_store = LedgerStore(store, settings.ledger_origin)
    reader = LogReader(ledger_store)
    signer = load_signer(settings)
    witnesses = parse_witnesses(settings)
    sequencer = Sequencer(
        ledger_store,
        reader,
        signer,
        settings.ledger_origin,
        max_batch=settings.ledger_max_batch,
        max_delay=settings.ledger_max_delay_ms / 1000,
        lease_ms=settings.ledger_lease_ms,
    )
    servicer = LedgerServicer(
        ledger_store,
        reader,
        sequencer,
        log=signer.verifier(),
        witnesses=Witnesses(tuple(w.verifier for w in witnesses), settings.ledger_witness_quorum),
    )
    on_start, on_stop = sequencer.start, sequencer.stop
    if settings.ledger_witness_quorum:
        witnessing = Witnessing(
            ledger_store,
            reader,
            witnesses,
            settings.ledger_witness_quorum,
            lambda: sequencer.leading,
        )

        async def on_start() -> None:
            await sequencer.start()
            await witnessing.start()

        async def on_stop() -> None:
            await witnessing.stop()
            await sequencer.stop()

    return [
        Registration(
            name=SERVICE_NAME,
            add=lambda server: ledger_pb2_grpc.add_LedgerServiceServicer_to_server(
                servicer, server
            ),
            on_start=on_start,
            on_stop=on_stop,
        )
    ]
