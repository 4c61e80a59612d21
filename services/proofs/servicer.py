"""gRPC face of the proofs service: decode, call Proofs, encode.

Roles are checked by the server against runtime.policy before a handler runs; the
department rules (requesting, addressed, party) are checked here and in parties, and a
holder's reach to their own records only by runtime.holder_binding.

Requests arrive already validated against their protovalidate rules (the server's
interceptor), so lengths, patterns and required fields are not checked again here.
Every error is a :mod:`runtime.errors` exception, mapped to a gRPC status once by
that interceptor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC
from typing import TypeVar

import grpc

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.proofs.v1 import proofs_pb2, proofs_pb2_grpc
from runtime.errors import FieldViolation, InvalidArgument, PermissionDenied
from runtime.holder_binding import own_holder
from runtime.identity import Caller, current_caller
from services.proofs import statistics
from services.proofs.inbox import stream_inbox
from services.proofs.parties import OVERSEERS
from services.proofs.proving import Proofs

DEFAULT_PAGE = 100
"""Page size when the caller gives none."""

_T = TypeVar("_T")


def offset_of(page_token: str) -> int:
    """The offset a page token names (tokens here are offsets); INVALID_ARGUMENT if not one."""
    if page_token and not (page_token.isdigit() and len(page_token) <= 9):
        raise InvalidArgument(
            "page_token is not one this service issued",
            field_violations=[FieldViolation("page_token", "pass the next_page_token as given")],
        )
    return int(page_token or 0)


def _page(items: Sequence[_T], page_size: int, page_token: str) -> tuple[list[_T], str]:
    start = offset_of(page_token)
    end = start + (page_size or DEFAULT_PAGE)
    return list(items[start:end]), (str(end) if end < len(items) else "")


def _department(caller: Caller, requested: str) -> str:
    """The department a list or stream is about: the caller's unless an overseer names another."""
    if not requested or requested == caller.department_code:
        return caller.department_code
    if caller.role not in OVERSEERS:
        raise PermissionDenied(
            "only supervisors and auditors may name another department",
            reason=common_pb2.OUTSIDE_AUTHORITY,
        )
    return requested


class ProofServicer(proofs_pb2_grpc.ProofServiceServicer):
    """certfree.proofs.v1.ProofService."""

    def __init__(self, proofs: Proofs) -> None:
        self._proofs = proofs

    async def CreateProofRequest(
        self, request: proofs_pb2.CreateProofRequestRequest, context: grpc.aio.ServicerContext
    ) -> proofs_pb2.CreateProofRequestResponse:
        """Create a request; automatic routes answer at once."""
        caller = current_caller()
        created, duplicate = await self._proofs.create(caller, request)
        return proofs_pb2.CreateProofRequestResponse(request=created, duplicate=duplicate)

    async def GetProofRequest(
        self, request: proofs_pb2.GetProofRequestRequest, context: grpc.aio.ServicerContext
    ) -> proofs_pb2.ProofRequest:
        """One request, for its two departments, supervisors and auditors."""
        caller = current_caller()
        return await self._proofs.get(caller, request.request_id)

    async def ListProofRequests(
        self, request: proofs_pb2.ListProofRequestsRequest, context: grpc.aio.ServicerContext
    ) -> proofs_pb2.ListProofRequestsResponse:
        """A department's requests, filtered, most recently changed first."""
        caller = current_caller()
        department = _department(caller, request.department_code)
        found, next_offset = await self._proofs.list_for_department(
            department,
            request,
            offset_of(request.page_token),
            request.page_size or DEFAULT_PAGE,
        )
        return proofs_pb2.ListProofRequestsResponse(
            requests=found, next_page_token="" if next_offset is None else str(next_offset)
        )

    async def ListHolderProofRequests(
        self,
        request: proofs_pb2.ListHolderProofRequestsRequest,
        context: grpc.aio.ServicerContext,
    ) -> proofs_pb2.ListHolderProofRequestsResponse:
        """Every request about a holder: auditors and supervisors (with a purpose), holders
        (their own only: HOLDER_MISMATCH otherwise); the listing is recorded as an access
        to the holder's data."""
        caller = current_caller()
        own_holder(caller, self._proofs.holders.of_ref(request.holder))
        if caller.role in OVERSEERS and not request.HasField("purpose"):
            raise InvalidArgument(
                "a supervisor or auditor states a purpose",
                field_violations=[FieldViolation("purpose", "required for this role")],
            )
        start = offset_of(request.page_token)
        size = request.page_size or DEFAULT_PAGE
        found, more = await self._proofs.list_for_holder(request.holder, start, size)
        # Recorded before the page is returned: a listing that cannot be recorded fails.
        await self._proofs.record_holder_access(
            caller, request.holder, request.purpose if request.HasField("purpose") else None, found
        )
        return proofs_pb2.ListHolderProofRequestsResponse(
            requests=found, next_page_token=str(start + size) if more else ""
        )

    async def StreamInbox(
        self, request: proofs_pb2.StreamInboxRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[proofs_pb2.StreamInboxResponse]:
        """The department inbox, live: new and changed requests as events, resumable by cursor."""
        caller = current_caller()
        department = _department(caller, request.department_code)
        async for message in stream_inbox(
            self._proofs.store, department, request.direction, request.cursor
        ):
            yield message

    async def AcceptProofRequest(
        self, request: proofs_pb2.AcceptProofRequestRequest, context: grpc.aio.ServicerContext
    ) -> proofs_pb2.AcceptProofRequestResponse:
        """An officer of a target department accepts the request."""
        caller = current_caller()
        accepted = await self._proofs.accept(caller, request.request_id, request.note)
        return proofs_pb2.AcceptProofRequestResponse(request=accepted)

    async def AnswerProofRequest(
        self, request: proofs_pb2.AnswerProofRequestRequest, context: grpc.aio.ServicerContext
    ) -> proofs_pb2.AnswerProofRequestResponse:
        """An officer of the answering department answers, signed and attested."""
        caller = current_caller()
        answered = await self._proofs.answer(caller, request)
        return proofs_pb2.AnswerProofRequestResponse(request=answered)

    async def RejectProofRequest(
        self, request: proofs_pb2.RejectProofRequestRequest, context: grpc.aio.ServicerContext
    ) -> proofs_pb2.RejectProofRequestResponse:
        """An officer of a target department rejects the request."""
        caller = current_caller()
        rejected = await self._proofs.reject(caller, request)
        return proofs_pb2.RejectProofRequestResponse(request=rejected)

    async def AskForMoreInfo(
        self, request: proofs_pb2.AskForMoreInfoRequest, context: grpc.aio.ServicerContext
    ) -> proofs_pb2.AskForMoreInfoResponse:
        """An officer of a target department asks the requesting department a question."""
        caller = current_caller()
        asked = await self._proofs.ask_for_more_info(caller, request.request_id, request.question)
        return proofs_pb2.AskForMoreInfoResponse(request=asked)

    async def SupplyMoreInfo(
        self, request: proofs_pb2.SupplyMoreInfoRequest, context: grpc.aio.ServicerContext
    ) -> proofs_pb2.SupplyMoreInfoResponse:
        """The requesting department replies; the request is SUBMITTED again."""
        caller = current_caller()
        supplied = await self._proofs.supply_more_info(caller, request)
        return proofs_pb2.SupplyMoreInfoResponse(request=supplied)

    async def WithdrawProofRequest(
        self, request: proofs_pb2.WithdrawProofRequestRequest, context: grpc.aio.ServicerContext
    ) -> proofs_pb2.WithdrawProofRequestResponse:
        """The requesting department withdraws a request not yet answered."""
        caller = current_caller()
        withdrawn = await self._proofs.withdraw(caller, request.request_id, request.reason)
        return proofs_pb2.WithdrawProofRequestResponse(request=withdrawn)

    async def CloseProofRequest(
        self, request: proofs_pb2.CloseProofRequestRequest, context: grpc.aio.ServicerContext
    ) -> proofs_pb2.CloseProofRequestResponse:
        """The requesting department closes an answered request."""
        caller = current_caller()
        closed = await self._proofs.close(caller, request.request_id, request.note)
        return proofs_pb2.CloseProofRequestResponse(request=closed)

    async def ListProofRequestEvents(
        self, request: proofs_pb2.ListProofRequestEventsRequest, context: grpc.aio.ServicerContext
    ) -> proofs_pb2.ListProofRequestEventsResponse:
        """A request's history, oldest first."""
        caller = current_caller()
        start = offset_of(request.page_token)
        size = request.page_size or DEFAULT_PAGE
        events, more = await self._proofs.events(caller, request.request_id, start, size)
        return proofs_pb2.ListProofRequestEventsResponse(
            events=events, next_page_token=str(start + size) if more else ""
        )

    async def RecordCommitment(
        self, request: proofs_pb2.RecordCommitmentRequest, context: grpc.aio.ServicerContext
    ) -> proofs_pb2.RecordCommitmentResponse:
        """The requesting department records the applicant's commitment."""
        caller = current_caller()
        recorded = await self._proofs.record_commitment(caller, request)
        return proofs_pb2.RecordCommitmentResponse(request=recorded)

    async def RecordCommitmentCheck(
        self, request: proofs_pb2.RecordCommitmentCheckRequest, context: grpc.aio.ServicerContext
    ) -> proofs_pb2.RecordCommitmentCheckResponse:
        """An officer of an authoritative department records a commitment's check."""
        caller = current_caller()
        checked = await self._proofs.record_commitment_check(caller, request)
        return proofs_pb2.RecordCommitmentCheckResponse(request=checked)

    async def GetProofStatistics(
        self, request: proofs_pb2.GetProofStatisticsRequest, context: grpc.aio.ServicerContext
    ) -> proofs_pb2.GetProofStatisticsResponse:
        """Counts per department and item, for supervisors and auditors."""
        current_caller()
        start = (
            request.start_time.ToDatetime(tzinfo=UTC) if request.HasField("start_time") else None
        )
        end = request.end_time.ToDatetime(tzinfo=UTC) if request.HasField("end_time") else None
        start_ms = request.start_time.ToMilliseconds() if start else None
        end_ms = request.end_time.ToMilliseconds() if end else None
        store = self._proofs.store
        rows = []
        for department, item_code in await store.statistics_keys():
            if request.department_code and department != request.department_code:
                continue
            if request.proof_item_code and item_code != request.proof_item_code:
                continue
            requests = await store.list_for_item(
                department, item_code, start_ms=start_ms, end_ms=end_ms
            )
            rows.append(
                statistics.statistics(
                    requests, department=department, item_code=item_code, start=start, end=end
                )
            )
        return proofs_pb2.GetProofStatisticsResponse(rows=rows)


class ProofCatalogServicer(proofs_pb2_grpc.ProofCatalogServiceServicer):
    """certfree.proofs.v1.ProofCatalogService."""

    def __init__(self, proofs: Proofs) -> None:
        self._proofs = proofs

    async def ListProofItems(
        self, request: proofs_pb2.ListProofItemsRequest, context: grpc.aio.ServicerContext
    ) -> proofs_pb2.ListProofItemsResponse:
        """Proof items by code, by route or authoritative department."""
        current_caller()
        items = await self._proofs.items(request.route, request.department_code)
        page, next_token = _page(items, request.page_size, request.page_token)
        return proofs_pb2.ListProofItemsResponse(proof_items=page, next_page_token=next_token)

    async def GetProofItem(
        self, request: proofs_pb2.GetProofItemRequest, context: grpc.aio.ServicerContext
    ) -> proofs_pb2.ProofItem:
        """One proof item."""
        current_caller()
        return await self._proofs.item(request.proof_item_code)

    async def UpsertProofItem(
        self, request: proofs_pb2.UpsertProofItemRequest, context: grpc.aio.ServicerContext
    ) -> proofs_pb2.UpsertProofItemResponse:
        """Create or replace a proof item (role operator)."""
        current_caller()
        item, created = await self._proofs.upsert_item(
            request.proof_item, request.expected_revision
        )
        return proofs_pb2.UpsertProofItemResponse(proof_item=item, created=created)
