"""The licenses service (电子证照): issue, share and verify signed e-licenses.

Only the contract is mounted so far; every RPC answers UNIMPLEMENTED (issue 4 builds it).
"""

from __future__ import annotations

from genproto.certfree.licenses.v1 import licenses_pb2, licenses_pb2_grpc
from runtime.config import Settings
from runtime.server import Registration, contract_only
from runtime.store import Store


def registrations(settings: Settings, store: Store) -> list[Registration]:
    """The licenses servicers, ready to mount on a server."""
    return contract_only(licenses_pb2, licenses_pb2_grpc)
