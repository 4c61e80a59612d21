"""What every part of :class:`~services.proofs.proving.Proofs` shares: its collaborators
and the one way a change is written.

A change to a request is decided on the request as read and written with compare and
set on the bytes read (``ProofStore.transition``); when another writer came first,
:meth:`ProofsCore._apply` reads and decides again. Each write passes the sweeper's
``next_look_ms`` as the request's deadline-index score, so answered and final requests
leave the index and open ones are looked at when their mark or expiry next changes.
Ledger entries are made before the write they belong to; a ledger that does not answer
makes the call UNAVAILABLE with nothing written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence

from genproto.certfree.proofs.v1 import proofs_pb2
from runtime import attestation
from runtime.attestation import LedgerClient
from runtime.errors import InvalidState, NotFound, Unavailable
from runtime.holders import HolderIndex
from services.proofs import records
from services.proofs.deadlines import WorkingCalendar
from services.proofs.records import Change, millis
from services.proofs.store import ProofStore
from services.proofs.sweeper import next_look_ms
from services.proofs.upstream import LicensesClient

WRITE_ATTEMPTS = 3
"""Times a change is rebuilt and written again when another writer changed the request first."""

Decide = Callable[[proofs_pb2.ProofRequest, dt.datetime], Change]
"""Builds the change from the request as read and the time; raises if the step is refused."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """The deployment's proof settings, read once at start-up."""

    warning_before: dt.timedelta
    """Working time before the due time that turns a request yellow, unless the item says."""
    expiry: dt.timedelta
    """Calendar time after creation at which an unfinished request expires."""


class ProofsCore:
    """The store, upstream clients, calendar and clock, and reading and writing requests."""

    def __init__(
        self,
        store: ProofStore,
        licenses: LicensesClient,
        ledger: LedgerClient,
        holders: HolderIndex,
        calendar: WorkingCalendar,
        limits: Limits,
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.store = store
        self.holders = holders
        self.calendar = calendar
        self._licenses = licenses
        self._ledger = ledger
        self._limits = limits
        self._clock = clock

    async def item(self, code: str) -> proofs_pb2.ProofItem:
        """One proof item; NOT_FOUND if the catalogue lacks it."""
        item = await self.store.item(code)
        if item is None:
            raise NotFound(f"proof item {code} is not in the catalogue")
        return item

    async def _read(self, request_id: str) -> tuple[proofs_pb2.ProofRequest, bytes]:
        found = await self.store.get(request_id)
        if found is None:
            raise NotFound(f"proof request {request_id} does not exist")
        return found

    def _next_look(self, request: proofs_pb2.ProofRequest) -> int | None:
        """The request's score in the deadline index: the sweeper's next look."""
        return next_look_ms(request, now=self._clock(), expiry=self._limits.expiry)

    async def _write(
        self, before: bytes, done: Change, *, inbox: Sequence[str]
    ) -> proofs_pb2.ProofRequest:
        """Write `done` once, if the request is still `before`; else FAILED_PRECONDITION."""
        written = await self.store.transition(
            before,
            done.after,
            done.event,
            inbox_departments=inbox,
            deadline_ms=self._next_look(done.after),
        )
        if not written:
            raise InvalidState(
                "the proof request changed meanwhile; read it again and decide anew",
                metadata={"conflict": "true"},
            )
        return done.after

    async def _apply(
        self,
        request_id: str,
        decide: Decide,
        *,
        inbox: Callable[[proofs_pb2.ProofRequest], Sequence[str]] = records.inbox_departments,
        sampling: bool = False,
    ) -> proofs_pb2.ProofRequest:
        """Read, decide, write; again (up to WRITE_ATTEMPTS) if another writer came first.

        `decide` raises when the step is not allowed on the request as read, so every
        attempt re-checks it against the current state.
        """
        for _ in range(WRITE_ATTEMPTS):
            request, before = await self._read(request_id)
            now = self._clock()
            done = decide(request, now)
            written = await self.store.transition(
                before,
                done.after,
                done.event,
                inbox_departments=inbox(done.after),
                deadline_ms=self._next_look(done.after),
                sampling_ms=millis(now) if sampling else None,
            )
            if written:
                return done.after
        raise Unavailable("the proof request keeps changing under this call; try again")

    async def _attest(
        self, kind: int, issuer: str, artefact_id: str, sha256: bytes
    ) -> attestation.Attested:
        try:
            return await self._ledger.attest(kind, issuer, artefact_id, sha256)
        except Exception as error:  # grpc.aio.AioRpcError, or the channel closing
            raise Unavailable(
                "the ledger did not accept the attestation; nothing was written, try again"
            ) from error
