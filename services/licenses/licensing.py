"""The licenses service's work: issue, amend, change status and present licenses.

Between the thin servicer and the pure rules (catalog, identifier, status, sdjwt): each
method reads what it needs, applies the rules, writes through the store in one script,
and attests in the ledger. A license is stored before it is attested; if the ledger
does not answer, the license stays in the store's "unattested" set and the next call
with the same request id (or the background retry) attests it — ledger appends are
idempotent, so a retry never makes a second entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from google.protobuf import json_format, struct_pb2

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.licenses.v1 import licenses_pb2
from runtime import sdjwt
from runtime.attestation import LICENSE_ISSUED, LICENSE_STATUS_CHANGED, LedgerClient
from runtime.errors import (
    AlreadyExists,
    FieldViolation,
    InvalidArgument,
    InvalidState,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from runtime.holders import HolderIndex
from runtime.identity import Caller
from runtime.logs import get_logger
from runtime.metrics import LICENSES_ISSUED
from services.licenses import catalog, proof_answer, status
from services.licenses.identifier import LicenseId, new_serial
from services.licenses.keys import IssuerKeys, algorithm_of
from services.licenses.status_list import (
    TOKEN_TYPE,
    StatusList,
    StatusReference,
    status_claim,
    token_claims,
)
from services.licenses.store import (
    STATUS_BLOCK,
    STATUS_LIST_CAPACITY,
    CatalogueEntry,
    Changed,
    LicenseStore,
    StatusSlot,
)

Clock = Callable[[], datetime]
_log = get_logger("licenses")


def _content_hash(*parts: Any) -> str:
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _status_uri(public_url: str, department: str, list_number: int) -> str:
    # Where GetStatusListToken serves the bare token (the gateway route of licenses.proto).
    return f"{public_url}/v1/departments/{department}/status-lists/{list_number}/token"


class Licensing:
    """Licenses of every department, on one store and one ledger."""

    def __init__(
        self,
        store: LicenseStore,
        keys: IssuerKeys,
        ledger: LedgerClient,
        holders: HolderIndex,
        *,
        public_url: str,
        status_list_ttl: timedelta,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self.keys = keys
        self._ledger = ledger
        self.holders = holders
        self._public_url = public_url
        self.status_list_ttl = status_list_ttl
        self._clock = clock
        self._retry_task: asyncio.Task[None] | None = None
        self._types: dict[str, tuple[float, licenses_pb2.LicenseType]] = {}
        self._status_reads = _StatusReads(store)

    # --- catalogue -------------------------------------------------------------------

    async def license_type(self, code: str) -> licenses_pb2.LicenseType:
        """A license type by code, or NotFound (cached for a second: verify reads it often)."""
        cached = self._types.get(code)
        now = time.monotonic()
        if cached is not None and now - cached[0] < 1.0:
            return cached[1]
        license_type = await self._read_license_type(code)
        self._types[code] = (now, license_type)
        return license_type

    async def _read_license_type(self, code: str) -> licenses_pb2.LicenseType:
        found = await self._store.catalogue_entry(licenses_pb2.LicenseType, code)
        if found is None:
            raise NotFound(f"no license type {code} in the catalogue")
        return found

    async def department_known(self, code: str) -> bool:
        """Whether the catalogue holds the department."""
        return await self._store.catalogue_entry(licenses_pb2.Department, code) is not None

    async def seed(self, seed: catalog.Seed) -> None:
        """Store the seed file's entries that the store does not have yet (never overwrites)."""
        departments = {d.code for d in await self._store.catalogue(licenses_pb2.Department)}
        types = {t.code for t in await self._store.catalogue(licenses_pb2.LicenseType)}
        new: list[CatalogueEntry] = [d for d in seed.departments if d.code not in departments]
        new += [t for t in seed.license_types if t.code not in types]
        for entry in new:
            entry.updated_at.FromDatetime(self._clock())
            await self._store.upsert(entry, 0)

    # --- proof answers ----------------------------------------------------------------

    async def sign_proof_answer(
        self, caller: Caller, request: licenses_pb2.SignProofAnswerRequest
    ) -> tuple[sdjwt.Issued, str]:
        """A proof answer signed by the caller's department, and the key id; not stored.

        The department must be in the catalogue; its authority for the proof item is the
        proofs service's to check before it asks, and the answer is its to attest.
        """
        department = caller.department_code
        if not await self.department_known(department):
            raise PermissionDenied(
                f"department {department} is not in the catalogue and signs no proof answers",
                reason=common_pb2.OUTSIDE_AUTHORITY,
            )
        self.holders.of_ref(request.holder)  # refuses a bad check character
        which = request.holder.WhichOneof("id") or ""
        holder = {which: getattr(request.holder, which)}
        valid_for = (
            request.valid_for.ToTimedelta()
            if request.HasField("valid_for")
            else proof_answer.DEFAULT_VALIDITY
        )
        signer = await self.keys.signer(department)
        try:
            issued = proof_answer.issue(
                signer,
                issuer=department,
                now=self._clock(),
                valid_for=valid_for,
                request_id=request.request_id,
                request_sha256=request.request_sha256,
                case_reference=request.case_reference,
                proof_item_code=request.proof_item_code,
                outcome=request.outcome,
                holder=holder,
                claims=json_format.MessageToDict(request.claims),
            )
        except ValueError as error:
            # The messages name arguments and claim names, never a value.
            raise InvalidArgument(
                "the proof answer cannot be signed",
                field_violations=[FieldViolation("claims", str(error))],
            ) from None
        return issued, signer.key_id

    # --- issue -----------------------------------------------------------------------

    async def issue(
        self, caller: Caller, request: licenses_pb2.IssueLicenseRequest
    ) -> tuple[licenses_pb2.License, bool]:
        """Issue (or find the earlier issuance under the same request id); (license, duplicate)."""
        license_type = await self.license_type(request.license_type_code)
        catalog.check_authority(license_type, caller.department_code)
        holder = self.holders.of_ref(request.holder)
        self._check_holder_kind(license_type, request.holder)
        claims = catalog.check_claims(license_type, json_format.MessageToDict(request.claims))
        fingerprint = _content_hash(
            request.license_type_code,
            holder,
            claims,
            request.valid_from.ToJsonString() if request.HasField("valid_from") else None,
            request.valid_until.ToJsonString() if request.HasField("valid_until") else None,
        )
        request_key = f"issue:{caller.department_code}:{request.request_id}"
        earlier = await self._store.request(request_key)
        if earlier is not None:
            replayed = await self._replay(earlier, fingerprint)
            LICENSES_ISSUED.labels(request.license_type_code, "duplicate").inc()
            return replayed, True
        now = self._clock()
        valid_from = request.valid_from.ToDatetime(UTC) if request.HasField("valid_from") else now
        if request.HasField("valid_until"):
            valid_until: datetime | None = request.valid_until.ToDatetime(UTC)
        elif license_type.HasField("default_validity"):
            valid_until = valid_from + license_type.default_validity.ToTimedelta()
        else:
            valid_until = None
        if valid_until is not None and valid_until <= valid_from:
            raise InvalidArgument(
                "valid_until must be after valid_from",
                field_violations=[FieldViolation("valid_until", "must be after valid_from")],
            )
        license_id = LicenseId(request.license_type_code, caller.department_code, new_serial(), 1)
        license, slot = await self._sign(
            license_type, license_id, claims, now, valid_from, valid_until, predecessor=""
        )
        stored = await self._store.issue(
            request_key=request_key,
            request_value=f"{fingerprint} {license.license_id}",
            license=license,
            holder=holder,
            slot=slot,
            status_value=status.status_list_value(status.VALID),
        )
        if stored is not None:  # a concurrent retry won the race
            replayed = await self._replay(stored, fingerprint)
            LICENSES_ISSUED.labels(request.license_type_code, "duplicate").inc()
            return replayed, True
        issued = await self._attest_pending(license.license_id)
        LICENSES_ISSUED.labels(request.license_type_code, "issued").inc()
        return issued, False

    def _check_holder_kind(
        self, license_type: licenses_pb2.LicenseType, holder: common_pb2.HolderRef
    ) -> None:
        kind = (
            common_pb2.HOLDER_KIND_PERSON
            if holder.WhichOneof("id") == "resident_id"
            else common_pb2.HOLDER_KIND_ORGANISATION
        )
        if kind not in license_type.holder_kinds:
            raise InvalidArgument(
                f"license type {license_type.code} is not issued to this kind of holder",
                field_violations=[
                    FieldViolation(
                        "holder", "this license type is not issued to this kind of holder"
                    )
                ],
            )

    async def _replay(self, earlier: str, fingerprint: str) -> licenses_pb2.License:
        stored_fingerprint, _, license_id = earlier.partition(" ")
        if stored_fingerprint != fingerprint:
            raise AlreadyExists(
                "this request_id was used for a different issuance",
                metadata={"license_id": license_id},
            )
        return await self._attest_pending(license_id)

    async def _sign(
        self,
        license_type: licenses_pb2.LicenseType,
        license_id: LicenseId,
        claims: Mapping[str, Any],
        now: datetime,
        valid_from: datetime,
        valid_until: datetime | None,
        *,
        predecessor: str,
    ) -> tuple[licenses_pb2.License, StatusSlot]:
        issuer = license_id.issuer
        signer = await self.keys.signer(issuer)
        slot = await self._store.next_status_slot(issuer)
        uri = _status_uri(self._public_url, issuer, slot.list_number)
        visible: dict[str, Any] = {"license_id": str(license_id)}
        if predecessor:
            visible["predecessor_id"] = predecessor
        issued = sdjwt.issue(
            signer,
            vct=license_type.code,
            issuer=issuer,
            issued_at=int(now.timestamp()),
            not_before=int(valid_from.timestamp()),
            expires=None if valid_until is None else int(valid_until.timestamp()),
            visible=visible,
            disclosable=claims,
            status=status_claim(StatusReference(slot.index, uri)),
        )
        struct = struct_pb2.Struct()
        struct.update(claims)
        license = licenses_pb2.License(
            license_id=str(license_id),
            license_type_code=license_type.code,
            issuer_department=issuer,
            version=license_id.version,
            predecessor_id=predecessor,
            status=status.VALID,
            claims=struct,
            sd_jwt=issued.sd_jwt,
            issuer_jwt_sha256=issued.issuer_jwt_sha256,
            key_id=signer.key_id,
            algorithm=algorithm_of(signer.alg),  # type: ignore[arg-type]
            status_list_uri=uri,
            status_list_index=slot.index,
        )
        license.issued_at.FromDatetime(datetime.fromtimestamp(int(now.timestamp()), UTC))
        license.valid_from.FromDatetime(datetime.fromtimestamp(int(valid_from.timestamp()), UTC))
        if valid_until is not None:
            license.valid_until.FromDatetime(
                datetime.fromtimestamp(int(valid_until.timestamp()), UTC)
            )
        return license, slot

    async def amend(
        self, caller: Caller, request: licenses_pb2.AmendLicenseRequest
    ) -> tuple[licenses_pb2.License, licenses_pb2.License, bool]:
        """Issue the next version of a license; (new version, predecessor, duplicate).

        The new version is stored (and attested) first, then the predecessor gets its
        `successor_id`; a retry with the same request id finishes whichever step a crash
        interrupted.
        """
        predecessor = await self.get(request.license_id)
        if predecessor.issuer_department != caller.department_code:
            raise PermissionDenied(
                f"only the issuing department {predecessor.issuer_department} amends it",
                reason=common_pb2.OUTSIDE_AUTHORITY,
            )
        license_type = await self.license_type(predecessor.license_type_code)
        catalog.check_authority(license_type, caller.department_code)
        claims = catalog.check_claims(license_type, json_format.MessageToDict(request.claims))
        fingerprint = _content_hash(
            request.license_id,
            claims,
            request.reason,
            request.valid_from.ToJsonString() if request.HasField("valid_from") else None,
            request.valid_until.ToJsonString() if request.HasField("valid_until") else None,
        )
        request_key = f"amend:{caller.department_code}:{request.request_id}"
        earlier = await self._store.request(request_key)
        if earlier is not None:
            amended = await self._replay(earlier, fingerprint)
            return amended, await self._link(predecessor.license_id, amended.license_id), True
        if predecessor.successor_id:
            raise InvalidState(
                f"{request.license_id} was already amended by {predecessor.successor_id}; "
                "amend the latest version",
                metadata={"successor_id": predecessor.successor_id},
            )
        if status.is_final(predecessor.status):
            raise InvalidState(
                f"a license in status {status.status_name(predecessor.status)} is not amended"
            )
        now = self._clock()
        valid_from = request.valid_from.ToDatetime(UTC) if request.HasField("valid_from") else now
        valid_until: datetime | None = None
        if request.HasField("valid_until"):
            valid_until = request.valid_until.ToDatetime(UTC)
        elif predecessor.HasField("valid_until"):
            valid_until = predecessor.valid_until.ToDatetime(UTC)
        if valid_until is not None and valid_until <= valid_from:
            raise InvalidArgument(
                "valid_until must be after valid_from",
                field_violations=[FieldViolation("valid_until", "must be after valid_from")],
            )
        license_id = LicenseId.parse(predecessor.license_id).next_version()
        license, slot = await self._sign(
            license_type,
            license_id,
            claims,
            now,
            valid_from,
            valid_until,
            predecessor=predecessor.license_id,
        )
        stored = await self._store.issue(
            request_key=request_key,
            request_value=f"{fingerprint} {license.license_id}",
            license=license,
            holder=await self.holder_of(predecessor.license_id),
            slot=slot,
            status_value=status.status_list_value(status.VALID),
        )
        if stored is not None:
            amended = await self._replay(stored, fingerprint)
            return amended, await self._link(predecessor.license_id, amended.license_id), True
        amended = await self._attest_pending(license.license_id)
        return amended, await self._link(predecessor.license_id, amended.license_id), False

    async def _link(self, predecessor_id: str, successor_id: str) -> licenses_pb2.License:
        """Set the predecessor's successor_id (if not yet); the predecessor as stored."""
        for _ in range(5):
            found = await self._store.license(predecessor_id)
            if found is None:
                raise NotFound(f"no license {predecessor_id}")
            license, before = found
            if license.successor_id == successor_id:
                return license
            license.successor_id = successor_id
            if await self._store.replace(before, license):
                return license
        raise Unavailable("the predecessor kept changing; retry with the same request_id")

    # --- attestation -----------------------------------------------------------------

    async def _attest_pending(self, license_id: str) -> licenses_pb2.License:
        """Attest what of the license is not in the ledger yet; the license as stored after.

        Raises Unavailable when the ledger does not answer (the license stays stored and
        queued; a retry with the same request id finishes it).
        """
        for _ in range(5):
            found = await self._store.license(license_id)
            if found is None:
                raise NotFound(f"no license {license_id}")
            license, before = found
            after = licenses_pb2.License()
            after.CopyFrom(license)
            try:
                if not after.HasField("ledger_index"):
                    attested = await self._ledger.attest(
                        LICENSE_ISSUED,
                        after.issuer_department,
                        after.license_id,
                        after.issuer_jwt_sha256,
                    )
                    after.ledger_index = attested.index
                    after.ledger_receipt = attested.receipt
                for change in after.status_history:
                    if not change.HasField("ledger_index"):
                        attested = await self._ledger.attest(
                            LICENSE_STATUS_CHANGED,
                            after.issuer_department,
                            after.license_id,
                            change_sha256(after.license_id, change),
                        )
                        change.ledger_index = attested.index
            except grpc.aio.AioRpcError as error:
                _log.warning("the ledger did not attest; queued", code=error.code().name)
                raise Unavailable(
                    "the license is stored but the ledger did not answer; retry with the same "
                    "request_id to finish, or wait for the background retry"
                ) from None
            if after == license or await self._store.save_attested(before, after):
                return after
        raise Unavailable("the license kept changing while it was being attested; retry")

    async def retry_unattested(self) -> int:
        """Attest every queued license once; how many were finished."""
        done = 0
        for member in await self._store.unattested():
            with contextlib.suppress(Unavailable, NotFound):
                if member.startswith("key:"):
                    _, department, key_id = member.split(":", 2)
                    done += await self.keys.attest_queued(department, key_id)
                else:
                    await self._attest_pending(member)
                    done += 1
        return done

    async def start(self) -> None:
        """Start the background retry of unattested licenses and the status cache's tracking."""
        await self._store.start()
        self._retry_task = asyncio.create_task(self._retry_loop(), name="licenses attest retry")

    async def stop(self) -> None:
        """Stop the background retry and the status cache's tracking."""
        if self._retry_task is not None:
            self._retry_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retry_task
        await self._store.stop()

    async def _retry_loop(self) -> None:
        while True:
            await asyncio.sleep(5)
            with contextlib.suppress(Exception):
                await self.retry_unattested()

    # --- read ------------------------------------------------------------------------

    async def get(self, license_id: str) -> licenses_pb2.License:
        """A license by identifier, or NotFound."""
        LicenseId.parse(license_id)
        found = await self._store.license(license_id)
        if found is None:
            raise NotFound(f"no license {license_id}")
        return found[0]

    async def holder_licenses(
        self, holder: common_pb2.HolderRef, request: licenses_pb2.ListHolderLicensesRequest
    ) -> list[licenses_pb2.License]:
        """A holder's licenses, filtered as the request asks, newest first."""
        found = await self._store.holder_licenses(self.holders.of_ref(holder))
        return [
            license
            for license in found
            if (
                not request.license_type_code
                or license.license_type_code == request.license_type_code
            )
            and (not request.statuses or license.status in request.statuses)
            and (request.include_superseded or not license.successor_id)
        ]

    async def record_access(
        self,
        caller: Caller,
        holder: str,
        kind: int,
        purpose: common_pb2.AccessPurpose,
        *,
        license_id: str = "",
        disclosed: Sequence[str] = (),
    ) -> str:
        """Write an access to the holder's access view; its id."""
        now = self._clock()
        access_id = f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(5)}"
        access = licenses_pb2.LicenseAccess(
            access_id=access_id,
            kind=kind,  # type: ignore[arg-type]
            license_id=license_id,
            department_code=caller.department_code,
            role=caller.role,  # type: ignore[arg-type]
            subject=caller.subject,
            purpose=purpose,
            disclosed_claims=list(disclosed),
        )
        access.accessed_at.FromDatetime(now)
        await self._store.record_access(holder, access)
        return access_id

    async def holder_of(self, license_id: str) -> str:
        """The index token of a stored license's holder."""
        holder = await self._store.holder_of(license_id)
        if holder is None:
            raise NotFound(f"no license {license_id}")
        return holder

    # --- status ----------------------------------------------------------------------

    async def change_status(
        self, caller: Caller, request: licenses_pb2.ChangeLicenseStatusRequest
    ) -> tuple[licenses_pb2.License, licenses_pb2.LicenseStatusChange, bool]:
        """Move a license to another status, if allowed; attested; (license, change, duplicate)."""
        license = await self.get(request.license_id)
        if license.issuer_department != caller.department_code:
            raise PermissionDenied(
                f"only the issuing department {license.issuer_department} changes its status",
                reason=common_pb2.OUTSIDE_AUTHORITY,
            )
        request_key = (
            f"status:{request.license_id}:{request.request_id}" if request.request_id else ""
        )
        fingerprint = _content_hash(request.status, request.reason)
        if request_key and (earlier := await self._store.request(request_key)):
            if earlier.partition(" ")[0] != fingerprint:
                raise AlreadyExists("this request_id was used for a different status change")
            current = await self._attest_pending(request.license_id)
            position = int(earlier.partition(" ")[2])
            return current, current.status_history[position], True
        for _ in range(5):
            found = await self._store.license(request.license_id)
            assert found is not None
            license, before = found
            status.check_transition(license.status, request.status)
            change = licenses_pb2.LicenseStatusChange(
                from_status=license.status,
                to_status=request.status,
                reason=request.reason,
                actor=common_pb2.Caller(
                    department_code=caller.department_code,
                    role=caller.role,  # type: ignore[arg-type]
                    subject=caller.subject,
                ),
            )
            change.changed_at.FromDatetime(self._clock())
            after = licenses_pb2.License()
            after.CopyFrom(license)
            after.status = request.status
            after.status_history.append(change)
            slot = StatusSlot(self._list_number(after.status_list_uri), after.status_list_index)
            try:
                earlier = await self._store.update(
                    before,
                    after,
                    slot=slot,
                    status_value=status.status_list_value(request.status),
                    request_key=request_key,
                    request_value=f"{fingerprint} {len(after.status_history) - 1}",
                )
            except Changed:
                continue
            if earlier is not None:
                current = await self._attest_pending(request.license_id)
                return current, current.status_history[int(earlier.partition(" ")[2])], True
            current = await self._attest_pending(request.license_id)
            return current, current.status_history[-1], False
        raise Unavailable("the license kept changing; retry")

    async def status_of(self, department: str, reference: StatusReference) -> int:
        """The status a department's list gives for `reference` (its own list URI only)."""
        prefix, _, suffix = _status_uri(self._public_url, department, 0).rpartition("/0/")
        number = reference.uri.removeprefix(prefix + "/").removesuffix("/" + suffix)
        if reference.uri != f"{prefix}/{number}/{suffix}" or not number.isdigit():
            raise ValueError(f"the status list {reference.uri} is not the issuer's list here")
        if reference.idx >= STATUS_LIST_CAPACITY:
            raise ValueError(f"index {reference.idx} is beyond the list's {STATUS_LIST_CAPACITY}")
        list_number = int(number)
        byte = await self._status_reads.read(department, list_number, reference.idx // 2)
        return int(status.status_from_list_value((byte >> (4 * (reference.idx % 2))) & 0x0F))

    async def receipt_of(self, verified: sdjwt.Verified) -> str:
        """The ledger receipt (tlog-proof) of a license of this deployment.

        The stored license's receipt when the store holds this exact issuer-signed JWT,
        else a fresh one from the ledger (AioRpcError NOT_FOUND when it attests nothing
        of the kind). The receipt is checked by the caller, never trusted.
        """
        digest = verified.issuer_jwt_sha256
        license_id = verified.visible.get("license_id")
        found = await self._store.license(license_id) if isinstance(license_id, str) else None
        if found is not None and found[0].issuer_jwt_sha256 == digest and found[0].ledger_receipt:
            return found[0].ledger_receipt
        return await self._ledger.receipt(LICENSE_ISSUED, digest, str(verified.iss))

    async def present(
        self, caller: Caller, request: licenses_pb2.PresentLicenseRequest
    ) -> tuple[str, dict[str, Any], str]:
        """A presentation disclosing only the chosen claims; (presentation, claims, access id)."""
        license = await self.get(request.license_id)
        unknown = sorted(set(request.disclose) - set(json_format.MessageToDict(license.claims)))
        if unknown:
            raise InvalidArgument(
                "the license carries no such claims",
                field_violations=[
                    FieldViolation("disclose", f"not a claim of this license: {name}")
                    for name in unknown
                ],
            )
        presentation = sdjwt.present(license.sd_jwt, request.disclose)
        claims = {
            k: v
            for k, v in json_format.MessageToDict(license.claims).items()
            if k in request.disclose
        }
        access_id = await self.record_access(
            caller,
            await self.holder_of(license.license_id),
            licenses_pb2.ACCESS_KIND_PRESENTATION,
            request.purpose,
            license_id=license.license_id,
            disclosed=sorted(request.disclose),
        )
        return presentation, claims, access_id

    def status_uri(self, department: str, list_number: int) -> str:
        """The URI of a department's status list (what licenses' status claims carry)."""
        return _status_uri(self._public_url, department, list_number)

    async def accesses(
        self, holder: str, start: int, count: int
    ) -> list[licenses_pb2.LicenseAccess]:
        """A page of a holder's access view, newest first."""
        return await self._store.accesses(holder, start, count)

    @staticmethod
    def _list_number(uri: str) -> int:
        return int(uri.rsplit("/", 2)[1])

    async def status_list_token(
        self, department: str, list_number: int
    ) -> tuple[str, datetime, datetime]:
        """The department's signed Status List Token: (token, iat, exp)."""
        if list_number > await self._store.status_lists(department):
            raise NotFound(f"department {department} has no status list {list_number}")
        raw = await self._store.status_list(department, list_number)
        size = STATUS_LIST_CAPACITY if raw else 2
        entries = StatusList.from_bytes(raw.ljust(size // 2, b"\0"), status.STATUS_LIST_BITS)
        now = self._clock().replace(microsecond=0)
        expires = now + 10 * self.status_list_ttl
        claims = token_claims(
            entries,
            uri=_status_uri(self._public_url, department, list_number),
            issued_at=now,
            expires_at=expires,
            ttl=self.status_list_ttl,
            issuer=department,
        )
        signer = await self.keys.signer(department)
        token = signer.sign_compact({"typ": TOKEN_TYPE}, json.dumps(claims).encode())
        return token, now, expires


class _StatusReads:
    """Status bytes from the status cache when it has them, else read together: reads
    asked for while another read is in flight (or while the event loop is busy) share
    the next pipelined round trip.

    The cache (:attr:`LicenseStore.status_cache`) holds STATUS_BLOCK-byte ranges of the
    lists, dropped when the store's CLIENT TRACKING says a list changed (and at once
    when this process changed it), so a cached byte is never older than an invalidation
    message still on its way. While tracking is not established (or turned off) every
    read goes to the store, for one byte, exactly as without a cache.

    A batch verify (or many concurrent verifies) asks for one byte per license; one
    round trip per license was most of a verify's store cost. At most one round trip
    is in flight: a read asked for meanwhile waits for it to return and then goes with
    every other read that waited, so a lone read goes at once and a busy server sends
    fewer, larger pipelines. Each range is read after its verify asked for it, so it is
    as fresh as a lone read would be.
    """

    def __init__(self, store: LicenseStore) -> None:
        self._store = store
        self._cache = store.status_cache
        # (department, list number, first offset, last offset) -> futures waiting for it.
        self._pending: dict[tuple[str, int, int, int], list[asyncio.Future[bytes]]] = {}
        self._busy = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def read(self, department: str, list_number: int, offset: int) -> int:
        """One byte of a department's status list (0 beyond what is written)."""
        cache = self._cache
        if cache is not None and cache.enabled:
            first = offset - offset % STATUS_BLOCK
            cached = cache.get(self._store.status_key(department, list_number), first)
            if cached is not None:
                return _byte(cached, offset - first)
            read = (department, list_number, first, first + STATUS_BLOCK - 1)
        else:
            first = offset
            read = (department, list_number, offset, offset)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes] = loop.create_future()
        if not self._pending and not self._busy:
            self._busy = True
            loop.call_soon(self._flush)  # after the tasks already ready, which may join
        self._pending.setdefault(read, []).append(future)
        return _byte(await future, offset - first)

    def _flush(self) -> None:
        batch, self._pending = self._pending, {}
        task = asyncio.ensure_future(self._read(batch))
        self._tasks.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._pending:
            self._flush()  # the reads that waited go together now
        else:
            self._busy = False

    async def _read(
        self, batch: dict[tuple[str, int, int, int], list[asyncio.Future[bytes]]]
    ) -> None:
        reads = list(batch)
        # Begun before the read is sent (for the ranges the cache would keep): an
        # invalidation that arrives meanwhile makes the ticket stale, so a range read
        # just before a write is never kept after it.
        cache = self._cache
        tickets = [
            cache.begin(self._store.status_key(department, number))
            if cache is not None and last - first == STATUS_BLOCK - 1
            else None
            for department, number, first, last in reads
        ]
        try:
            found = await self._store.status_ranges(reads)
        except BaseException as error:
            for ticket in tickets:
                if ticket is not None and cache is not None:
                    cache.abandon(ticket)
            for future in (future for futures in batch.values() for future in futures):
                if isinstance(error, asyncio.CancelledError):
                    future.cancel()
                elif not future.done():  # the store's error is each reader's, as a lone read's
                    future.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        for read, ticket, value in zip(reads, tickets, found, strict=True):
            if ticket is not None and cache is not None:
                cache.fill(ticket, read[2], value)
            for future in batch[read]:
                if not future.done():  # its verify may have been cancelled meanwhile
                    future.set_result(value)


def _byte(data: bytes, index: int) -> int:
    """Byte `index` of a status range as read: 0 past its end (beyond what is written)."""
    return data[index] if index < len(data) else 0


def change_sha256(license_id: str, change: licenses_pb2.LicenseStatusChange) -> bytes:
    """SHA-256 of a status change as the ledger attests it (no personal data in it)."""
    record = {
        "license_id": license_id,
        "from": licenses_pb2.LicenseStatus.Name(change.from_status),
        "to": licenses_pb2.LicenseStatus.Name(change.to_status),
        "reason_sha256": hashlib.sha256(change.reason.encode()).hexdigest(),
        "actor": change.actor.department_code,
        "at": change.changed_at.ToJsonString(),
    }
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).digest()
