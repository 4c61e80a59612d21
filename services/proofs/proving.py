"""The proofs service's work: :class:`Proofs`, the one entry point of the servicer.

The servicer decodes, authorises by role and calls :class:`Proofs`; its parts decide
everything else (which party the caller's department is on a request, whether the
state machine allows the step, what the change is) and write each change once, with
its history event, through ``ProofStore`` (compare and set on the bytes it read).
Nothing is half-written: a change is built whole first, and anything upstream (a
signature, a ledger entry) happens before the one write. The parts, one job each:

- :mod:`~services.proofs.core`: the collaborators, reading and writing requests;
- :mod:`~services.proofs.routes`: creating requests, the automatic routes' first step;
- :mod:`~services.proofs.verification`: the departments' actions (accept, answer,
  reject, ask, supply, withdraw, close);
- :mod:`~services.proofs.answers`: writing answers, signed and attested or unsigned;
- :mod:`~services.proofs.commitments`: commitments, their checks and attested forms;
- :mod:`~services.proofs.parties`: pure rules on callers and what they send;
- this module: the catalogue and the reads.

Decisions that span the parts (see also docs/proofs.md):

- NOT_REQUIRED and COMMITTED answers are unsigned.
- Answer claims follow :func:`runtime.claims.check_claims`, the licenses' rules;
  mandatory ones are required for CONFIRMED only: a denial carries what the officer knows.
"""

from __future__ import annotations

from collections.abc import Sequence

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.proofs.v1 import proofs_pb2
from runtime.errors import InvalidState
from runtime.identity import Caller
from runtime.store import RevisionMismatch
from services.proofs.catalog import Catalogue, check_proof_item
from services.proofs.commitments import Commitments
from services.proofs.parties import actor, new_id, require_reader
from services.proofs.records import timestamp
from services.proofs.routes import Routes
from services.proofs.store import BOTH
from services.proofs.verification import Verification


class Proofs(Routes, Verification, Commitments):
    """Proof requests and the proof catalogue: every RPC's work but encoding.

    Built with :class:`~services.proofs.core.ProofsCore`'s arguments (store, licenses
    and ledger clients, holder index, calendar, limits, clock).
    """

    # --- catalogue ---------------------------------------------------------------------

    async def seed(self, catalogue: Catalogue) -> None:
        """Store the catalogue file's items that the store does not have yet (never overwrites)."""
        known = {item.code for item in await self.store.items()}
        for item in catalogue.proof_items:
            if item.code not in known:
                stored = proofs_pb2.ProofItem()
                stored.CopyFrom(item)
                stored.updated_at.CopyFrom(timestamp(self._clock()))
                await self.store.upsert_item(stored, 0)

    async def upsert_item(
        self, item: proofs_pb2.ProofItem, expected_revision: int
    ) -> tuple[proofs_pb2.ProofItem, bool]:
        """Create or replace a proof item; (the item as stored, whether it was created)."""
        check_proof_item(item)
        stored = proofs_pb2.ProofItem()
        stored.CopyFrom(item)
        stored.ClearField("revision")
        stored.updated_at.CopyFrom(timestamp(self._clock()))
        try:
            revision = await self.store.upsert_item(stored, expected_revision)
        except RevisionMismatch as error:
            raise InvalidState(
                f"proof item {item.code} changed meanwhile: {error}",
                metadata={"expected_revision": str(expected_revision)},
            ) from None
        stored.revision = revision
        return stored, revision == 1

    async def items(self, route: int, department: str) -> list[proofs_pb2.ProofItem]:
        """Proof items by code, by route and authoritative department when given."""
        return [
            item
            for item in await self.store.items()
            if (not route or item.route == route)
            and (not department or department in item.authoritative_departments)
        ]

    # --- reads ---------------------------------------------------------------------------

    async def get(self, caller: Caller, request_id: str) -> proofs_pb2.ProofRequest:
        """One request, if the caller may read it (see :func:`require_reader`)."""
        request, _ = await self._read(request_id)
        require_reader(caller, request)
        return request

    async def events(
        self, caller: Caller, request_id: str, offset: int, limit: int
    ) -> tuple[list[proofs_pb2.ProofRequestEvent], bool]:
        """A page of a request's history, oldest first, and whether more follow."""
        request, _ = await self._read(request_id)
        require_reader(caller, request)
        events = await self.store.events(request_id, offset, limit + 1)
        return events[:limit], len(events) > limit

    async def list_for_department(
        self,
        department: str,
        request: proofs_pb2.ListProofRequestsRequest,
        offset: int,
        limit: int,
    ) -> tuple[list[proofs_pb2.ProofRequest], int | None]:
        """A filtered page of a department's requests; (page, next offset or None).

        Offsets count the department's unfiltered index, so pages stay stable while the
        filters skip requests.
        """
        chunk = max(limit, 100)
        page: list[proofs_pb2.ProofRequest] = []
        position = offset
        while True:
            batch = await self.store.list_for_department(
                department, request.direction or BOTH, offset=position, limit=chunk
            )
            for index, found in enumerate(batch):
                if matches(found, request):
                    page.append(found)
                    if len(page) == limit:
                        return page, position + index + 1
            if len(batch) < chunk:
                return page, None
            position += len(batch)

    async def list_for_holder(
        self, holder: common_pb2.HolderRef, offset: int, limit: int
    ) -> tuple[list[proofs_pb2.ProofRequest], bool]:
        """A page of every request about a holder, newest first, and whether more follow."""
        token = self.holders.of_ref(holder)
        found = await self.store.list_for_holder(token, offset, limit + 1)
        return found[:limit], len(found) > limit

    async def record_holder_access(
        self,
        caller: Caller,
        holder: common_pb2.HolderRef,
        purpose: common_pb2.AccessPurpose | None,
        requests: Sequence[proofs_pb2.ProofRequest],
    ) -> str:
        """Record that `caller` listed the holder's `requests` for `purpose` (None: a
        holder's own listing), under the holder's index token; the access's id."""
        access = proofs_pb2.ProofRequestAccess(
            access_id=new_id("pa"),
            accessed_by=actor(caller),
            request_ids=[request.request_id for request in requests],
            accessed_at=timestamp(self._clock()),
        )
        if purpose is not None:
            access.purpose.CopyFrom(purpose)
        await self.store.record_access(self.holders.of_ref(holder), access)
        return access.access_id


def matches(request: proofs_pb2.ProofRequest, filters: proofs_pb2.ListProofRequestsRequest) -> bool:
    """Whether a request passes a list's filters (states, marks, item, check state)."""
    return (
        (not filters.states or request.state in filters.states)
        and (not filters.sla_marks or request.sla_mark in filters.sla_marks)
        and (not filters.proof_item_code or request.proof_item_code == filters.proof_item_code)
        and (
            not filters.commitment_check_state
            or request.commitment.check_state == filters.commitment_check_state
        )
    )
