"""VerifyLicense: every check of a presented SD-JWT, in order, each with its outcome.

A bad SD-JWT is never an error here: the answer names the check that failed and why,
marks the checks that needed it as skipped, and passes the rest. Only the store or a
bug raise.

Three kinds of SD-JWT verify here: a license of this deployment (keys, catalogue,
status list and ledger are ours), a license of a trusted other deployment (keys,
authority and log key from the trust file; status from the Status List Token the
caller passes; ledger inclusion from the receipt the caller passes), and a proof answer
of either (no status; ledger inclusion only against a receipt the caller passes).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import grpc

from genproto.certfree.licenses.v1 import licenses_pb2
from runtime import sdjwt
from runtime.errors import InvalidArgument, NotFound, PermissionDenied
from runtime.metrics import LICENSES_VERIFIED
from runtime.signing import PublicKey, SignatureError
from runtime.tlog.note import Verifier
from runtime.tlog.receipt import Receipt, ReceiptError, verify_receipt
from services.licenses import catalog, proof_answer, status
from services.licenses.keys import KeyUnusable, check_usable
from services.licenses.licensing import Licensing
from services.licenses.status_list import (
    StatusListError,
    StatusReference,
    check_token_claims,
    parse_status_claim,
)
from services.licenses.trust import LocalLog, Trust, TrustedDepartment, TrustedDeployment

CHECK = licenses_pb2


def _peek(sd_jwt_text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The unverified header and payload of the issuer-signed JWT (to find the key)."""
    parts = sd_jwt_text.split("~", 1)[0].split(".")
    if len(parts) != 3:
        raise sdjwt.FormatError("the issuer-signed JWT is not three base64url parts")
    try:
        decoded = [json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in parts[:2]]
    except ValueError:
        raise sdjwt.FormatError(
            "the issuer-signed JWT's header or payload is not base64url JSON"
        ) from None
    if not all(isinstance(d, dict) for d in decoded):
        raise sdjwt.FormatError("the issuer-signed JWT's header or payload is not a JSON object")
    return decoded[0], decoded[1]


class Verification:
    """Runs the checks of VerifyLicense in order; a failed check skips those that need it."""

    ORDER = (
        CHECK.VERIFICATION_CHECK_FORMAT,
        CHECK.VERIFICATION_CHECK_ISSUER_KEY,
        CHECK.VERIFICATION_CHECK_SIGNATURE,
        CHECK.VERIFICATION_CHECK_DISCLOSURES,
        CHECK.VERIFICATION_CHECK_ISSUER_AUTHORITY,
        CHECK.VERIFICATION_CHECK_SCHEMA,
        CHECK.VERIFICATION_CHECK_VALIDITY_WINDOW,
        CHECK.VERIFICATION_CHECK_STATUS,
        CHECK.VERIFICATION_CHECK_LEDGER_INCLUSION,
    )

    GOOD = (licenses_pb2.CHECK_OUTCOME_PASSED, licenses_pb2.CHECK_OUTCOME_NOT_APPLICABLE)
    """Outcomes that leave the SD-JWT valid."""

    def __init__(self) -> None:
        self.response = licenses_pb2.VerifyLicenseResponse()
        self._done: dict[int, int] = {}

    def done(self, check: int) -> bool:
        """Whether the check has an outcome already."""
        return check in self._done

    def record(self, check: int, outcome: int, detail: str = "") -> None:
        """Record one check's outcome."""
        self._done[check] = outcome
        self.response.checks.add(check=check, outcome=outcome, detail=detail)

    def passed(self, check: int, detail: str = "") -> None:
        """The check passed (`detail`: what it covered, when that is worth saying)."""
        self.record(check, licenses_pb2.CHECK_OUTCOME_PASSED, detail)

    def failed(self, check: int, detail: str) -> None:
        """The check failed, saying why."""
        self.record(check, licenses_pb2.CHECK_OUTCOME_FAILED, detail)

    def unavailable(self, check: int, detail: str) -> None:
        """The check could not be decided now, saying why."""
        self.record(check, licenses_pb2.CHECK_OUTCOME_UNAVAILABLE, detail)

    def not_applicable(self, check: int, detail: str) -> None:
        """The check does not apply to what was presented, saying why."""
        self.record(check, licenses_pb2.CHECK_OUTCOME_NOT_APPLICABLE, detail)

    def finish(self) -> licenses_pb2.VerifyLicenseResponse:
        """Mark every check not run as skipped; valid if every check passed or did not apply."""
        for check in self.ORDER:
            if check not in self._done:
                self.record(check, licenses_pb2.CHECK_OUTCOME_SKIPPED, "an earlier check failed")
        order = {check: position for position, check in enumerate(self.ORDER)}
        self.response.checks.sort(key=lambda c: order[c.check])
        self.response.valid = all(c.outcome in self.GOOD for c in self.response.checks)
        LICENSES_VERIFIED.labels(self.outcome()).inc()
        return self.response

    def outcome(self) -> str:
        """``valid``, or the first check (in order) that failed or could not be decided,
        by its short name (``signature``, ``status`` ...): a bounded metric label."""
        for check in self.response.checks:
            if check.outcome not in self.GOOD:
                name = licenses_pb2.VerificationCheck.Name(check.check)
                return name.removeprefix("VERIFICATION_CHECK_").lower()
        return "valid"


Foreign = tuple[TrustedDeployment, TrustedDepartment]


class LicenseVerifier:
    """VerifyLicense: licenses of this and of trusted deployments, and proof answers."""

    def __init__(self, licensing: Licensing, trust: Trust, log: LocalLog) -> None:
        self._licensing = licensing
        self._trust = trust
        self._log = log
        # Receipts already proven: (receipt, artefact, log key) digest -> index. A receipt
        # that verified once verifies forever (the checkpoint's signature does not expire).
        self._proven: dict[bytes, int] = {}
        # Issuer-signed JWTs already proven in a log: (JWT digest, log key, kind) -> index.
        self._included: dict[tuple[bytes, str, str], int] = {}
        # (id of a license type, disclosed claim names) -> (that type, its partial copy).
        self._partial_types: _PartialTypes = {}

    async def verify(
        self, request: licenses_pb2.VerifyLicenseRequest, now: datetime
    ) -> licenses_pb2.VerifyLicenseResponse:
        """Every check of a presented SD-JWT; never raises for a bad SD-JWT, only for the store."""
        run = Verification()
        response = run.response
        at = request.verify_at.ToDatetime(UTC) if request.HasField("verify_at") else now
        # The SD-JWT is split and decoded once: the format checks, the key lookup and
        # the signature check (over the very bytes decoded) all read the same parse.
        try:
            parsed = sdjwt.parse(request.sd_jwt)
            issuer, key_id = parsed.payload.get("iss"), parsed.header.get("kid")
            if not isinstance(issuer, str) or not isinstance(key_id, str):
                raise sdjwt.FormatError("the JWT names no issuer (iss) or no key (kid)")
        except sdjwt.FormatError as error:
            run.failed(CHECK.VERIFICATION_CHECK_FORMAT, str(error))
            return run.finish()
        response.issuer_department, response.key_id = issuer, key_id
        foreign = self._trust.foreign(issuer)
        try:
            public = await self._issuer_key(issuer, key_id, parsed.payload, foreign)
        except _KeyRefused as refused:
            run.passed(CHECK.VERIFICATION_CHECK_FORMAT)
            run.failed(CHECK.VERIFICATION_CHECK_ISSUER_KEY, str(refused))
            return run.finish()
        try:
            verified = sdjwt.verify_parsed(parsed, public)
        except SignatureError as error:
            run.passed(CHECK.VERIFICATION_CHECK_FORMAT)
            run.passed(CHECK.VERIFICATION_CHECK_ISSUER_KEY)
            run.failed(CHECK.VERIFICATION_CHECK_SIGNATURE, str(error))
            return run.finish()
        except sdjwt.DisclosureError as error:
            for check in (
                CHECK.VERIFICATION_CHECK_FORMAT,
                CHECK.VERIFICATION_CHECK_ISSUER_KEY,
                CHECK.VERIFICATION_CHECK_SIGNATURE,
            ):
                run.passed(check)
            run.failed(CHECK.VERIFICATION_CHECK_DISCLOSURES, str(error))
            return run.finish()
        for check in (
            CHECK.VERIFICATION_CHECK_FORMAT,
            CHECK.VERIFICATION_CHECK_ISSUER_KEY,
            CHECK.VERIFICATION_CHECK_SIGNATURE,
            CHECK.VERIFICATION_CHECK_DISCLOSURES,
        ):
            run.passed(check)
        response.vct = verified.vct
        response.license_id = str(verified.visible.get("license_id", ""))
        for name, value in (
            ("issued_at", verified.iat),
            ("valid_from", verified.nbf),
            ("valid_until", verified.exp),
        ):
            if value is not None:
                getattr(response, name).FromSeconds(value)
        response.disclosed_claims.update(dict(verified.claims))
        if request.expected_vct and request.expected_vct != verified.vct:
            run.failed(
                CHECK.VERIFICATION_CHECK_SCHEMA,
                f"vct is {verified.vct}, not the expected {request.expected_vct}",
            )
        answer = verified.vct == proof_answer.VCT
        if answer:
            await self._answer_authority(run, verified, issuer, foreign)
        else:
            await self._license_authority(run, verified, issuer, foreign)
        _validity_window(run, verified, at)
        if answer:
            run.not_applicable(
                CHECK.VERIFICATION_CHECK_STATUS,
                "a proof answer has no status list: it is not revoked, it expires",
            )
        elif foreign is not None:
            _foreign_status(run, verified, foreign, request.status_list_token, at)
        else:
            await self._local_status(run, verified, issuer)
        await self._ledger_inclusion(run, verified, request.ledger_receipt, foreign, answer)
        return run.finish()

    async def _issuer_key(
        self, issuer: str, key_id: str, payload: Mapping[str, Any], foreign: Foreign | None
    ) -> PublicKey:
        """The key the JWS names, if it may vouch for it; _KeyRefused says why not."""
        if foreign is not None:
            deployment, department = foreign
            found = department.keys.get(key_id)
            if found is None:
                raise _KeyRefused(
                    f"department {issuer} of deployment {deployment.name} publishes no key "
                    f"{key_id} in the JWK Set this deployment trusts"
                )
            return found
        try:
            public, published = await self._licensing.keys.public_key(issuer, key_id)
            issued_at = datetime.fromtimestamp(int(payload.get("iat", 0)), UTC)
            check_usable(published, issued_at)
        except (NotFound, InvalidArgument) as error:
            raise _KeyRefused(error.message) from None
        except (KeyUnusable, ValueError, TypeError, OverflowError) as error:
            raise _KeyRefused(str(error)) from None
        return public

    async def _license_authority(
        self, run: Verification, verified: sdjwt.Verified, issuer: str, foreign: Foreign | None
    ) -> None:
        """ISSUER_AUTHORITY and SCHEMA of a license."""
        if foreign is not None:
            deployment, department = foreign
            if verified.vct in department.license_types:
                run.passed(
                    CHECK.VERIFICATION_CHECK_ISSUER_AUTHORITY,
                    f"deployment {deployment.name} grants department {issuer} this license "
                    "type (trust file)",
                )
            else:
                run.failed(
                    CHECK.VERIFICATION_CHECK_ISSUER_AUTHORITY,
                    f"the trust file does not grant department {issuer} of deployment "
                    f"{deployment.name} license type {verified.vct}",
                )
        try:
            license_type = await self._licensing.license_type(verified.vct)
            if foreign is None:
                catalog.check_authority(license_type, issuer)
                run.passed(CHECK.VERIFICATION_CHECK_ISSUER_AUTHORITY)
        except (NotFound, PermissionDenied) as error:
            if foreign is None:
                run.failed(CHECK.VERIFICATION_CHECK_ISSUER_AUTHORITY, error.message)
            elif not run.done(CHECK.VERIFICATION_CHECK_SCHEMA):
                run.not_applicable(
                    CHECK.VERIFICATION_CHECK_SCHEMA,
                    f"license type {verified.vct} is not in this deployment's catalogue; its "
                    "schema is the issuing deployment's",
                )
            license_type = None
        if license_type is not None and not run.done(CHECK.VERIFICATION_CHECK_SCHEMA):
            problems = _schema_problems(license_type, verified.claims, self._partial_types)
            if problems:
                run.failed(CHECK.VERIFICATION_CHECK_SCHEMA, problems)
            else:
                run.passed(CHECK.VERIFICATION_CHECK_SCHEMA)

    async def _answer_authority(
        self, run: Verification, verified: sdjwt.Verified, issuer: str, foreign: Foreign | None
    ) -> None:
        """ISSUER_AUTHORITY and SCHEMA of a proof answer."""
        item = verified.visible.get("proof_item_code", "")
        if foreign is not None:
            known = f"department {issuer} is trusted as one of deployment {foreign[0].name}"
        elif await self._licensing.department_known(issuer):
            known = f"department {issuer} is in the catalogue"
        else:
            known = ""
        if known:
            run.passed(
                CHECK.VERIFICATION_CHECK_ISSUER_AUTHORITY,
                f"{known} and its key was valid; its authority to answer proof item "
                f"{str(item)[:64]} is checked by the proofs service when it answers",
            )
        else:
            run.failed(
                CHECK.VERIFICATION_CHECK_ISSUER_AUTHORITY,
                f"department {issuer} is not in this deployment's catalogue",
            )
        if not run.done(CHECK.VERIFICATION_CHECK_SCHEMA):
            problems = proof_answer.problems(verified.visible, verified.claims)
            if problems:
                run.failed(CHECK.VERIFICATION_CHECK_SCHEMA, problems)
            else:
                run.passed(CHECK.VERIFICATION_CHECK_SCHEMA)

    async def _local_status(self, run: Verification, verified: sdjwt.Verified, issuer: str) -> None:
        """STATUS from this deployment's list (the same bytes its signed token carries)."""
        try:
            reference = _status_reference(verified.status)
            found = await self._licensing.status_of(issuer, reference)
        except ValueError as error:
            run.failed(CHECK.VERIFICATION_CHECK_STATUS, str(error))
            return
        run.response.status = found  # type: ignore[assignment]
        if found == status.VALID:
            run.passed(CHECK.VERIFICATION_CHECK_STATUS)
        else:
            run.failed(
                CHECK.VERIFICATION_CHECK_STATUS, f"the status list says {status.status_name(found)}"
            )

    async def _ledger_inclusion(
        self,
        run: Verification,
        verified: sdjwt.Verified,
        receipt: str,
        foreign: Foreign | None,
        answer: bool,
    ) -> None:
        """LEDGER_INCLUSION: a receipt of the issuer-signed JWT, proven against the log's key."""
        check = CHECK.VERIFICATION_CHECK_LEDGER_INCLUSION
        if not receipt and answer:
            run.not_applicable(
                check,
                "no receipt was passed: a proof answer is attested by the proofs service and "
                "its ledger inclusion is checked against the receipt the caller passes",
            )
            return
        if not receipt and foreign is not None:
            run.failed(
                check,
                f"a license of deployment {foreign[0].name} proves its ledger inclusion by its "
                "receipt: pass the license's ledger_receipt as ledger_receipt",
            )
            return
        if not receipt and (log := self._log.verifier()) is not None:
            # This deployment's license, with no receipt passed: once its issuer-signed
            # JWT was proven in this log, it is proven for good (the log is append-only
            # and its signed checkpoints do not expire); no store read, no proof again.
            proven = self._included.get(_included_key(verified, log, "license_issued"))
            if proven is not None:
                run.response.ledger_index = proven
                run.passed(check)
                return
        if not receipt:
            try:
                receipt = await self._licensing.receipt_of(verified)
            except grpc.aio.AioRpcError as error:
                if error.code() == grpc.StatusCode.NOT_FOUND:
                    run.failed(check, "the ledger holds no attestation of this license")
                else:
                    run.unavailable(check, "the ledger did not answer")
                return
        log = foreign[0].ledger if foreign is not None else self._log.verifier()
        if log is None:
            run.unavailable(
                check,
                "this deployment's log verifier key is not known: the ledger's key file is "
                "not readable here and the trust file gives no ledger_verifier_key",
            )
            return
        kind = "proof_answered" if answer else "license_issued"
        try:
            index = self._prove(receipt, verified, log, kind)
        except ReceiptError as error:
            run.failed(check, _receipt_detail(str(error), log))
            return
        run.response.ledger_index = index
        run.passed(check)

    def _prove(self, receipt: str, verified: sdjwt.Verified, log: Verifier, kind: str) -> int:
        """The index a receipt proves for this issuer-signed JWT; ReceiptError if it does not."""
        artefact = verified.issuer_jwt.encode("ascii")
        key = hashlib.sha256(
            b"\0".join((receipt.encode(), artefact, log.key_string().encode(), kind.encode()))
        ).digest()
        if (index := self._proven.get(key)) is not None:
            return index
        entry, _ = verify_receipt(receipt, artefact, log, origin=log.name)
        if entry.kind != kind:
            raise ReceiptError(f"kind: the receipt's entry is a {entry.kind}, not a {kind}")
        if entry.issuer != verified.iss:
            raise ReceiptError(f"issuer: the receipt's entry names issuer {entry.issuer}")
        index = Receipt.from_text(receipt).index
        if len(self._proven) >= _PROVEN_CACHE_SIZE:
            self._proven.clear()
            self._included.clear()
        self._proven[key] = index
        self._included[_included_key(verified, log, kind)] = index
        return index


def _validity_window(run: Verification, verified: sdjwt.Verified, at: datetime) -> None:
    """VALIDITY_WINDOW: `at` lies within nbf/exp."""
    if verified.nbf is not None and at.timestamp() < verified.nbf:
        run.failed(
            CHECK.VERIFICATION_CHECK_VALIDITY_WINDOW,
            f"not valid before {datetime.fromtimestamp(verified.nbf, UTC).isoformat()}",
        )
    elif verified.exp is not None and at.timestamp() >= verified.exp:
        run.failed(
            CHECK.VERIFICATION_CHECK_VALIDITY_WINDOW,
            f"expired at {datetime.fromtimestamp(verified.exp, UTC).isoformat()}",
        )
    else:
        run.passed(CHECK.VERIFICATION_CHECK_VALIDITY_WINDOW)


def _foreign_status(
    run: Verification, verified: sdjwt.Verified, foreign: Foreign, token: str, at: datetime
) -> None:
    """STATUS of another deployment's license, from the Status List Token the caller passed."""
    check = CHECK.VERIFICATION_CHECK_STATUS
    deployment, department = foreign
    try:
        reference = parse_status_claim(verified.status)
    except ValueError as error:
        run.failed(check, str(error))
        return
    if not reference.uri.startswith(deployment.public_url + "/"):
        run.failed(
            check,
            f"the license's status list is not under deployment {deployment.name}'s "
            f"public URL {deployment.public_url}",
        )
        return
    if not token:
        run.unavailable(
            check,
            f"the status of a license of deployment {deployment.name} is checked from its "
            "Status List Token, which the caller fetches and passes as status_list_token; "
            "none was passed",
        )
        return
    try:
        header, _ = _peek(token)
        public = department.keys.get(str(header.get("kid")))
        if public is None:
            raise StatusListError(
                f"the status list token names a key that department {department.code} "
                "does not publish in the trusted JWK Set"
            )
        signed_header, body = public.verify_compact(token)
        payload = json.loads(body)
        if not isinstance(payload, dict) or payload.get("iss", department.code) != department.code:
            raise StatusListError("the status list token is not the issuer's")
        entries = check_token_claims(signed_header, payload, uri=reference.uri, now=at)
        if entries.bits != status.STATUS_LIST_BITS:
            raise StatusListError(f"the status list has {entries.bits} bits per entry, not 4")
        found = status.status_from_list_value(entries.get(reference.idx))
    except (sdjwt.FormatError, SignatureError, StatusListError, ValueError, IndexError) as error:
        detail = str(error) if not isinstance(error, IndexError) else "index beyond the list"
        run.failed(check, f"status list token: {detail}")
        return
    run.response.status = found
    if found == status.VALID:
        run.passed(check, f"from deployment {deployment.name}'s status list token")
    else:
        run.failed(check, f"the status list says {status.status_name(found)}")


def _receipt_detail(message: str, log: Verifier) -> str:
    """The LEDGER_INCLUSION detail for a receipt that proves nothing: which part failed."""
    key = f"{log.name}+{log.key_id.hex()}"
    checks = (
        ("checkpoint: ", f"the receipt's checkpoint is not signed by the log key {key}"),
        ("inclusion: ", "the receipt's audit path does not lead to the checkpoint's root"),
        ("entry: ", "the receipt's entry is malformed"),
        ("kind: ", "the receipt attests another kind of artefact"),
        ("issuer: ", "the receipt attests another issuer's artefact"),
    )
    for prefix, meaning in checks:
        if message.startswith(prefix):
            return f"{meaning} ({message.removeprefix(prefix)})"
    if message.startswith("the artefact's SHA-256"):
        return (
            "the receipt attests another artefact: its entry's SHA-256 is not that of this "
            "SD-JWT's issuer-signed JWT"
        )
    return f"the receipt is not a C2SP tlog-proof ({message})"


class _KeyRefused(Exception):
    pass


def _schema_problems(
    license_type: licenses_pb2.LicenseType, disclosed: Mapping[str, Any], cache: _PartialTypes
) -> str:
    """What of the disclosed claims does not fit the type (required claims may be withheld)."""
    defined = {d.name: d for d in license_type.claims}
    unknown = sorted(set(disclosed) - set(defined))
    if unknown:
        return f"claims outside the type's schema: {', '.join(unknown[:10])}"
    partial = _partial_type(license_type, frozenset(disclosed), cache)
    try:
        catalog.check_claims(partial, dict(disclosed))
    except InvalidArgument as error:
        return "; ".join(f"{v.field}: {v.description}" for v in error.field_violations)
    return ""


_PROVEN_CACHE_SIZE = 100_000
"""Most receipts (and proven JWTs) a verifier remembers before starting afresh."""

_PartialTypes = dict[tuple[int, frozenset[str]], tuple[Any, licenses_pb2.LicenseType]]


def _partial_type(
    license_type: licenses_pb2.LicenseType, names: frozenset[str], cache: _PartialTypes
) -> licenses_pb2.LicenseType:
    """`license_type` with only the claim definitions in `names` (required ones may be
    withheld), cached per type object: Licensing keeps one object per type revision for
    a second, so a batch copies each type once, not once per license."""
    key = (id(license_type), names)
    cached = cache.get(key)
    # The type itself is kept in the entry, so its id cannot be reused by another object
    # while the entry lives; `is` then proves it is the very object the copy came from.
    if cached is not None and cached[0] is license_type:
        return cached[1]
    partial = licenses_pb2.LicenseType()
    partial.CopyFrom(license_type)
    del partial.claims[:]
    for definition in license_type.claims:
        if definition.name in names:
            partial.claims.append(definition)
    if len(cache) >= 1024:
        cache.clear()
    cache[key] = (license_type, partial)
    return partial


def _included_key(verified: sdjwt.Verified, log: Verifier, kind: str) -> tuple[bytes, str, str]:
    return verified.issuer_jwt_sha256, log.key_string(), kind


def _status_reference(claim: Mapping[str, Any] | None) -> StatusReference:
    """parse_status_claim, with the URI check of well-formed claims done once per list entry."""
    reference = claim.get("status_list") if isinstance(claim, Mapping) else None
    if isinstance(reference, Mapping):
        idx, uri = reference.get("idx"), reference.get("uri")
        if type(idx) is int and type(uri) is str:
            return _cached_reference(idx, uri)
    return parse_status_claim(claim)


@functools.lru_cache(maxsize=4096)
def _cached_reference(idx: int, uri: str) -> StatusReference:
    # parse_status_claim reads only idx and uri, so the same pair parses the same way.
    return parse_status_claim({"status_list": {"idx": idx, "uri": uri}})
