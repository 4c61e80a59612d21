"""gRPC face of the licenses service: decode, call Licensing, encode.

Roles are checked by the server against runtime.policy before a handler runs; the
department rules (authority catalogue, issuing department) are Licensing's, and a
holder's reach to their own records only is runtime.holder_binding's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc
from google.api import httpbody_pb2
from google.protobuf import json_format

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.licenses.v1 import licenses_pb2, licenses_pb2_grpc
from runtime.errors import (
    FieldViolation,
    InvalidArgument,
    InvalidState,
    NotFound,
)
from runtime.holder_binding import own_holder
from runtime.identity import current_caller
from runtime.store import RevisionMismatch
from services.licenses.licensing import Licensing
from services.licenses.status_list import MEDIA_TYPE
from services.licenses.store import LicenseStore
from services.licenses.verification import LicenseVerifier

_BATCH_VERIFY_CONCURRENCY = 8
_CACHE_CONTROL = "x-http-cache-control"  # a key of runtime.server.HTTP_HEADER_METADATA


_T = TypeVar("_T")
_E = TypeVar("_E", licenses_pb2.LicenseType, licenses_pb2.Department)
_DEFAULT_PAGE = 100


def _offset(page_token: str) -> int:
    """The offset a page token names (tokens here are offsets); INVALID_ARGUMENT if not one."""
    if page_token and not (page_token.isdigit() and len(page_token) <= 9):
        raise InvalidArgument(
            "page_token is not one this service issued",
            field_violations=[FieldViolation("page_token", "pass the next_page_token as given")],
        )
    return int(page_token or 0)


def _page(items: Sequence[_T], page_size: int, page_token: str) -> tuple[list[_T], str]:
    """One page of `items` (already in their listing order) and the next page's token.

    The token is the offset of the next item; lists here are short enough (a holder's
    licenses, a department's keys, the catalogue) to be read whole and cut.
    """
    start = _offset(page_token)
    size = page_size or _DEFAULT_PAGE
    end = start + size
    return list(items[start:end]), (str(end) if end < len(items) else "")


class LicenseServicer(licenses_pb2_grpc.LicenseServiceServicer):
    """certfree.licenses.v1.LicenseService."""

    def __init__(self, licensing: Licensing, verifier: LicenseVerifier) -> None:
        self._licensing = licensing
        self._verifier = verifier

    async def IssueLicense(
        self, request: licenses_pb2.IssueLicenseRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.IssueLicenseResponse:
        """Issue a license signed by the caller's department."""
        caller = current_caller()
        license, duplicate = await self._licensing.issue(caller, request)
        return licenses_pb2.IssueLicenseResponse(license=license, duplicate=duplicate)

    async def GetLicense(
        self, request: licenses_pb2.GetLicenseRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.License:
        """One license, for a stated purpose; recorded in the holder's access view."""
        caller = current_caller()
        license = await self._licensing.get(request.license_id)
        await self._licensing.record_access(
            caller,
            await self._licensing.holder_of(license.license_id),
            licenses_pb2.ACCESS_KIND_READ,
            request.purpose,
            license_id=license.license_id,
        )
        return license

    async def ListHolderLicenses(
        self, request: licenses_pb2.ListHolderLicensesRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.ListHolderLicensesResponse:
        """A holder's licenses (the intake lookup, 免提交), for a stated purpose; recorded in
        the access view. A holder lists their own without a purpose, unrecorded: their own
        look at their own licenses is no department's access to their data."""
        caller = current_caller()
        holder = self._licensing.holders.of_ref(request.holder)
        own = own_holder(caller, holder)
        if not own and not request.HasField("purpose"):
            raise InvalidArgument(
                "a lookup states its purpose and case",
                field_violations=[FieldViolation("purpose", "required for this role")],
            )
        licenses, next_token = _page(
            await self._licensing.holder_licenses(request.holder, request),
            request.page_size,
            request.page_token,
        )
        if not own:
            await self._licensing.record_access(
                caller, holder, licenses_pb2.ACCESS_KIND_LOOKUP, request.purpose
            )
        return licenses_pb2.ListHolderLicensesResponse(
            licenses=licenses, next_page_token=next_token
        )

    async def VerifyLicense(
        self, request: licenses_pb2.VerifyLicenseRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.VerifyLicenseResponse:
        """Every check of a presented SD-JWT, each with its outcome."""
        current_caller()
        return await self._verifier.verify(request, datetime.now(UTC))

    async def BatchVerifyLicenses(
        self, request: licenses_pb2.BatchVerifyLicensesRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.BatchVerifyLicensesResponse:
        """VerifyLicense for up to 1,000 SD-JWTs, in order; their store reads overlap."""
        current_caller()
        now = datetime.now(UTC)
        # A few at a time: enough to overlap store reads, never enough to drain the
        # store's connection pool (which the ledger's lease renewals share in one process).
        gate = asyncio.Semaphore(_BATCH_VERIFY_CONCURRENCY)

        async def verify(item: licenses_pb2.VerifyLicenseRequest) -> Any:
            async with gate:
                return await self._verifier.verify(item, now)

        results = await asyncio.gather(*(verify(item) for item in request.requests))
        return licenses_pb2.BatchVerifyLicensesResponse(results=results)

    async def ChangeLicenseStatus(
        self, request: licenses_pb2.ChangeLicenseStatusRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.ChangeLicenseStatusResponse:
        """Move a license within the GB/T status set; attested."""
        caller = current_caller()
        license, change, duplicate = await self._licensing.change_status(caller, request)
        return licenses_pb2.ChangeLicenseStatusResponse(
            license=license, change=change, duplicate=duplicate
        )

    async def PresentLicense(
        self, request: licenses_pb2.PresentLicenseRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.PresentLicenseResponse:
        """A presentation disclosing only the chosen claims, with the holder's consent."""
        caller = current_caller()
        presentation, claims, access_id = await self._licensing.present(caller, request)
        response = licenses_pb2.PresentLicenseResponse(
            presentation=presentation, access_id=access_id
        )
        response.disclosed_claims.update(claims)
        return response

    async def AmendLicense(
        self, request: licenses_pb2.AmendLicenseRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.AmendLicenseResponse:
        """The next version of a license, linked to its predecessor; signed and attested."""
        caller = current_caller()
        license, predecessor, duplicate = await self._licensing.amend(caller, request)
        return licenses_pb2.AmendLicenseResponse(
            license=license, predecessor=predecessor, duplicate=duplicate
        )

    async def ListLicenseAccesses(
        self, request: licenses_pb2.ListLicenseAccessesRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.ListLicenseAccessesResponse:
        """The holder's access view: who looked, when, for what purpose and case. A holder
        reads only their own (HOLDER_MISMATCH otherwise); an auditor states a purpose."""
        caller = current_caller()
        holder = self._licensing.holders.of_ref(request.holder)
        own_holder(caller, holder)
        if caller.role == common_pb2.ROLE_AUDITOR and not request.HasField("purpose"):
            raise InvalidArgument(
                "an auditor states a purpose",
                field_violations=[FieldViolation("purpose", "required for auditors")],
            )
        start = _offset(request.page_token)
        size = request.page_size or _DEFAULT_PAGE
        accesses = await self._licensing.accesses(holder, start, size + 1)
        return licenses_pb2.ListLicenseAccessesResponse(
            accesses=accesses[:size],
            next_page_token=str(start + size) if len(accesses) > size else "",
        )

    async def GetStatusList(
        self, request: licenses_pb2.GetStatusListRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.StatusList:
        """A department's signed Status List Token, with caching headers for the gateway."""
        token, issued_at, expires_at = await self._licensing.status_list_token(
            request.department_code, request.list_number
        )
        ttl = self._licensing.status_list_ttl
        context.set_trailing_metadata(
            ((_CACHE_CONTROL, f"public, max-age={int(ttl.total_seconds())}"),)
        )
        response = licenses_pb2.StatusList(
            department_code=request.department_code,
            list_number=request.list_number,
            uri=self._licensing.status_uri(request.department_code, request.list_number),
            bits=4,
            token=token,
        )
        response.issued_at.FromDatetime(issued_at)
        response.expires_at.FromDatetime(expires_at)
        response.ttl.FromTimedelta(ttl)
        return response

    async def GetStatusListToken(
        self, request: licenses_pb2.GetStatusListRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        """The bare Status List Token, at the URI licenses name."""
        token, _, _ = await self._licensing.status_list_token(
            request.department_code, request.list_number
        )
        ttl = int(self._licensing.status_list_ttl.total_seconds())
        context.set_trailing_metadata(((_CACHE_CONTROL, f"public, max-age={ttl}"),))
        return httpbody_pb2.HttpBody(content_type=MEDIA_TYPE, data=token.encode())

    async def GetIssuerJwks(
        self, request: licenses_pb2.GetIssuerJwksRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        """The department's JWK Set: its keys, less those marked compromised.

        A JWK Set carries no key state, so a compromised key leaves it (fail closed); what
        such a key signed before its compromise still verifies through VerifyLicense,
        which knows from when the key is distrusted.
        """
        keys = [
            k
            for k in await self._licensing.keys.all(request.department_code)
            if k.state != licenses_pb2.KEY_STATE_COMPROMISED
        ]
        if not keys:
            raise NotFound(f"department {request.department_code} has published no keys")
        document = {"keys": [json_format.MessageToDict(k.public_jwk) for k in keys]}
        context.set_trailing_metadata(((_CACHE_CONTROL, "public, max-age=60"),))
        return httpbody_pb2.HttpBody(
            content_type="application/jwk-set+json", data=json.dumps(document).encode()
        )

    async def ListIssuerKeys(
        self, request: licenses_pb2.ListIssuerKeysRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.ListIssuerKeysResponse:
        """A department's published keys: the active one first, then newest first."""
        keys = await self._licensing.keys.all(request.department_code)
        keys.sort(
            key=lambda k: (k.state != licenses_pb2.KEY_STATE_ACTIVE, -k.not_before.ToNanoseconds())
        )
        page, next_token = _page(keys, request.page_size, request.page_token)
        return licenses_pb2.ListIssuerKeysResponse(keys=page, next_page_token=next_token)

    async def RotateIssuerKey(
        self, request: licenses_pb2.RotateIssuerKeyRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.RotateIssuerKeyResponse:
        """A new active key for a department (operator); the old one retires, still verifying."""
        current_caller()
        key, previous, duplicate = await self._licensing.keys.rotate(
            request.department_code, request.algorithm, request_id=request.request_id
        )
        response = licenses_pb2.RotateIssuerKeyResponse(key=key, duplicate=duplicate)
        if previous is not None:
            response.previous_key.CopyFrom(previous)
        return response

    async def MarkIssuerKeyCompromised(
        self,
        request: licenses_pb2.MarkIssuerKeyCompromisedRequest,
        context: grpc.aio.ServicerContext,
    ) -> licenses_pb2.MarkIssuerKeyCompromisedResponse:
        """Distrust a key's signatures from a time on (operator)."""
        caller = current_caller()
        key = await self._licensing.keys.mark_compromised(
            request.department_code,
            request.key_id,
            request.compromised_since.ToDatetime(UTC),
            reason=request.reason,
            actor=caller,
        )
        return licenses_pb2.MarkIssuerKeyCompromisedResponse(key=key)

    async def SignProofAnswer(
        self, request: licenses_pb2.SignProofAnswerRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.SignProofAnswerResponse:
        """A proof answer signed by the caller's department (role service); not attested here."""
        caller = current_caller()
        issued, key_id = await self._licensing.sign_proof_answer(caller, request)
        return licenses_pb2.SignProofAnswerResponse(
            sd_jwt=issued.sd_jwt, key_id=key_id, sd_jwt_sha256=issued.issuer_jwt_sha256
        )


class LicenseCatalogServicer(licenses_pb2_grpc.LicenseCatalogServiceServicer):
    """certfree.licenses.v1.LicenseCatalogService."""

    def __init__(self, store: LicenseStore, licensing: Licensing) -> None:
        self._store = store
        self._licensing = licensing

    async def ListLicenseTypes(
        self, request: licenses_pb2.ListLicenseTypesRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.ListLicenseTypesResponse:
        """License types by code, optionally those one department may issue."""
        current_caller()
        types = [
            t
            for t in await self._store.catalogue(licenses_pb2.LicenseType)
            if not request.issuer_department or request.issuer_department in t.issuer_departments
        ]
        page, next_token = _page(types, request.page_size, request.page_token)
        return licenses_pb2.ListLicenseTypesResponse(license_types=page, next_page_token=next_token)

    async def GetLicenseType(
        self, request: licenses_pb2.GetLicenseTypeRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.LicenseType:
        """One license type."""
        current_caller()
        return await self._licensing.license_type(request.license_type_code)

    async def UpsertLicenseType(
        self, request: licenses_pb2.UpsertLicenseTypeRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.UpsertLicenseTypeResponse:
        """Create or replace a license type (operator)."""
        current_caller()
        entry, created = await self._upsert(request.license_type, request.expected_revision)
        return licenses_pb2.UpsertLicenseTypeResponse(license_type=entry, created=created)

    async def _upsert(self, given: _E, expected: int) -> tuple[_E, bool]:
        """Store a catalogue entry stamped now; the entry as stored, and whether it is new."""
        entry = type(given)()
        entry.CopyFrom(given)
        entry.updated_at.GetCurrentTime()
        try:
            entry.revision = await self._store.upsert(entry, expected)
        except RevisionMismatch as error:
            raise InvalidState(f"expected_revision {expected} is stale: {error}") from None
        return entry, entry.revision == 1

    async def ListDepartments(
        self, request: licenses_pb2.ListDepartmentsRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.ListDepartmentsResponse:
        """Departments by code, optionally within a region."""
        current_caller()
        found = [
            d
            for d in await self._store.catalogue(licenses_pb2.Department)
            if d.region_code.startswith(request.region_prefix)
        ]
        page, next_token = _page(found, request.page_size, request.page_token)
        return licenses_pb2.ListDepartmentsResponse(departments=page, next_page_token=next_token)

    async def GetDepartment(
        self, request: licenses_pb2.GetDepartmentRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.Department:
        """One department."""
        current_caller()
        found = await self._store.catalogue_entry(licenses_pb2.Department, request.department_code)
        if found is None:
            raise NotFound(f"no department {request.department_code}")
        return found

    async def UpsertDepartment(
        self, request: licenses_pb2.UpsertDepartmentRequest, context: grpc.aio.ServicerContext
    ) -> licenses_pb2.UpsertDepartmentResponse:
        """Create or replace a department (operator)."""
        current_caller()
        entry, created = await self._upsert(request.department, request.expected_revision)
        return licenses_pb2.UpsertDepartmentResponse(department=entry, created=created)
