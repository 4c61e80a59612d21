"""The proofs service's client of the licenses service, over gRPC like any other caller.

Two calls, both made as role service on behalf of a department:

- :meth:`LicensesClient.list_holder_licenses`: the data-sharing route's lookup of a
  holder's valid licenses of one type, for the requesting department, so that the
  holder's access view on the licenses side records who looked and why;
- :meth:`LicensesClient.sign_proof_answer`: a proof answer signed by the answering
  department's key (the licenses service holds every department's keys).

Upstream failures become :mod:`runtime.errors` exceptions here, once: an upstream that
does not answer is :class:`~runtime.errors.Unavailable` (the caller may retry), and an
upstream refusal keeps its meaning (PERMISSION_DENIED, INVALID_ARGUMENT ...) with the
upstream's message, which never carries personal data.
"""

from __future__ import annotations

import grpc

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.licenses.v1 import licenses_pb2, licenses_pb2_grpc
from runtime.config import Settings
from runtime.errors import (
    CertfreeError,
    InvalidArgument,
    InvalidState,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from runtime.upstream import ServiceCaller

PAGE_SIZE = 500
"""Licenses asked for per page of the holder lookup (the contract's largest page)."""

MAX_PAGES = 20
"""Pages read at most in one lookup (10,000 licenses of one type is no real holder)."""

_REFUSALS: dict[grpc.StatusCode, type[CertfreeError]] = {
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.FAILED_PRECONDITION: InvalidState,
}


def _translate(error: grpc.aio.AioRpcError, what: str) -> CertfreeError:
    """The runtime error standing for an upstream failure of `what`."""
    refusal = _REFUSALS.get(error.code())
    if refusal is not None:
        return refusal(f"the licenses service refused {what}: {error.details() or ''}".rstrip())
    return Unavailable(
        f"the licenses service did not answer {what} ({error.code().name}); try again"
    )


class LicensesClient(ServiceCaller):
    """Calls the licenses service as role service, for a department."""

    def __init__(self, settings: Settings, subject: str) -> None:
        """A client of the licenses service the settings name (``target("licenses")``)."""
        super().__init__(settings, "licenses", subject)
        self._stub = licenses_pb2_grpc.LicenseServiceStub(self._channel)

    async def list_holder_licenses(
        self,
        department: str,
        holder: common_pb2.HolderRef,
        purpose: common_pb2.AccessPurpose,
        license_type_code: str,
    ) -> list[licenses_pb2.License]:
        """The holder's VALID licenses of one type, newest first, looked up for `department`."""
        found: list[licenses_pb2.License] = []
        token = ""
        for _ in range(MAX_PAGES):
            try:
                page = await self._stub.ListHolderLicenses(
                    licenses_pb2.ListHolderLicensesRequest(
                        holder=holder,
                        purpose=purpose,
                        license_type_code=license_type_code,
                        statuses=[licenses_pb2.LICENSE_STATUS_VALID],
                        page_size=PAGE_SIZE,
                        page_token=token,
                    ),
                    metadata=self._metadata(department),
                    timeout=self._timeout,
                )
            except grpc.aio.AioRpcError as error:
                raise _translate(error, "the holder's license lookup") from None
            found.extend(page.licenses)
            token = page.next_page_token
            if not token:
                break
        return found

    async def sign_proof_answer(
        self, department: str, request: licenses_pb2.SignProofAnswerRequest
    ) -> licenses_pb2.SignProofAnswerResponse:
        """The answer signed by `department`'s current key (SD-JWT VC, not attested)."""
        try:
            response: licenses_pb2.SignProofAnswerResponse = await self._stub.SignProofAnswer(
                request, metadata=self._metadata(department), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            raise _translate(error, "to sign the proof answer") from None
        return response
