"""The attestation ledger service (证照存证)."""

from __future__ import annotations

from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from runtime.config import Settings
from runtime.server import Registration
from runtime.store import Store
from services.ledger.servicer import LedgerServicer
from services.ledger.store import LedgerStore

SERVICE_NAME: str = ledger_pb2.DESCRIPTOR.services_by_name["LedgerService"].full_name


def registrations(settings: Settings, store: Store) -> list[Registration]:
    """The ledger servicer, ready to mount on a server."""
    # RPCs not overridden yet answer UNIMPLEMENTED (see runtime.server.contract_only).
    servicer = LedgerServicer(LedgerStore(store, settings.ledger_origin))  # type: ignore[abstract]
    return [
        Registration(
            name=SERVICE_NAME,
            add=lambda server: ledger_pb2_grpc.add_LedgerServiceServicer_to_server(
                servicer, server
            ),
        )
    ]
