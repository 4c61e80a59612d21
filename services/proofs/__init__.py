"""The proofs service (我为你证明): the proof catalogue and proof requests between departments.

Only the contract is mounted so far; every RPC answers UNIMPLEMENTED (issue 5 builds it).
"""

from __future__ import annotations

from genproto.certfree.proofs.v1 import proofs_pb2, proofs_pb2_grpc
from runtime.config import Settings
from runtime.server import Registration, contract_only
from runtime.store import Store


def registrations(settings: Settings, store: Store) -> list[Registration]:
    """The proofs servicers, ready to mount on a server."""
    return contract_only(proofs_pb2, proofs_pb2_grpc)
