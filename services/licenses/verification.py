"""VerifyLicense: every check of a presented SD-JWT, in order, each with its outcome.

A bad SD-JWT is never an error here: the answer names the check that failed and why,
marks the checks that needed it as skipped, and passes the rest. Only the store or a
bug raise.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import grpc

from genproto.certfree.licenses.v1 import licenses_pb2
from runtime import sdjwt
from runtime.errors import InvalidArgument, NotFound, PermissionDenied
from runtime.signing import SignatureError
from services.licenses import catalog, status
from services.licenses.keys import KeyUnusable, check_usable
from services.licenses.licensing import Licensing
from services.licenses.status_list import parse_status_claim

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

    def __init__(self) -> None:
        self.response = licenses_pb2.VerifyLicenseResponse()
        self._done: dict[int, int] = {}

    def record(self, check: int, outcome: int, detail: str = "") -> None:
        """Record one check's outcome."""
        self._done[check] = outcome
        self.response.checks.add(check=check, outcome=outcome, detail=detail)

    def passed(self, check: int) -> None:
        """The check passed."""
        self.record(check, licenses_pb2.CHECK_OUTCOME_PASSED)

    def failed(self, check: int, detail: str) -> None:
        """The check failed, saying why."""
        self.record(check, licenses_pb2.CHECK_OUTCOME_FAILED, detail)

    def finish(self) -> licenses_pb2.VerifyLicenseResponse:
        """Mark every check not run as skipped; valid only if every check passed."""
        for check in self.ORDER:
            if check not in self._done:
                self.record(check, licenses_pb2.CHECK_OUTCOME_SKIPPED, "an earlier check failed")
        order = {check: position for position, check in enumerate(self.ORDER)}
        self.response.checks.sort(key=lambda c: order[c.check])
        self.response.valid = all(
            c.outcome == licenses_pb2.CHECK_OUTCOME_PASSED for c in self.response.checks
        )
        return self.response


async def verify_license(
    licensing: Licensing,
    request: licenses_pb2.VerifyLicenseRequest,
    now: datetime,
) -> licenses_pb2.VerifyLicenseResponse:
    """Every check of a presented SD-JWT; never raises for a bad SD-JWT, only for the store."""
    run = Verification()
    response = run.response
    at = request.verify_at.ToDatetime(UTC) if request.HasField("verify_at") else now
    try:
        header, payload = _peek(request.sd_jwt)
        issuer, key_id = payload.get("iss"), header.get("kid")
        if not isinstance(issuer, str) or not isinstance(key_id, str):
            raise sdjwt.FormatError("the JWT names no issuer (iss) or no key (kid)")
    except sdjwt.FormatError as error:
        run.failed(CHECK.VERIFICATION_CHECK_FORMAT, str(error))
        return run.finish()
    response.issuer_department, response.key_id = issuer, key_id
    try:
        public, published = await licensing.keys.public_key(issuer, key_id)
        issued_at = datetime.fromtimestamp(int(payload.get("iat", 0)), UTC)
        check_usable(published, issued_at)
    except (NotFound, InvalidArgument, KeyUnusable, ValueError, TypeError) as error:
        detail = error.message if isinstance(error, NotFound | InvalidArgument) else str(error)
        try:
            sdjwt.verify(request.sd_jwt, lambda h, p: _refuse_key(detail))
        except sdjwt.FormatError as format_error:
            run.failed(CHECK.VERIFICATION_CHECK_FORMAT, str(format_error))
            return run.finish()
        except _KeyRefused:
            pass
        run.passed(CHECK.VERIFICATION_CHECK_FORMAT)
        run.failed(CHECK.VERIFICATION_CHECK_ISSUER_KEY, detail)
        return run.finish()
    try:
        verified = sdjwt.verify(request.sd_jwt, lambda h, p: public)
    except sdjwt.FormatError as error:
        run.failed(CHECK.VERIFICATION_CHECK_FORMAT, str(error))
        return run.finish()
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
    # Authority and schema.
    try:
        license_type = await licensing.license_type(verified.vct)
        catalog.check_authority(license_type, issuer)
        run.passed(CHECK.VERIFICATION_CHECK_ISSUER_AUTHORITY)
    except (NotFound, PermissionDenied) as error:
        run.failed(CHECK.VERIFICATION_CHECK_ISSUER_AUTHORITY, error.message)
        license_type = None
    if license_type is not None and CHECK.VERIFICATION_CHECK_SCHEMA not in run._done:
        problems = _schema_problems(license_type, verified.claims)
        if problems:
            run.failed(CHECK.VERIFICATION_CHECK_SCHEMA, problems)
        else:
            run.passed(CHECK.VERIFICATION_CHECK_SCHEMA)
    # Validity window.
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
    # Status, from the issuer's list (the same bytes its signed Status List Token carries).
    try:
        reference = parse_status_claim(verified.status)
        found = await licensing.status_of(issuer, reference)
        response.status = found  # type: ignore[assignment]
        if found == status.VALID:
            run.passed(CHECK.VERIFICATION_CHECK_STATUS)
        else:
            run.failed(
                CHECK.VERIFICATION_CHECK_STATUS, f"the status list says {status.status_name(found)}"
            )
    except ValueError as error:
        run.failed(CHECK.VERIFICATION_CHECK_STATUS, str(error))
    # Ledger inclusion of the issuer-signed JWT.
    try:
        index = await licensing.ledger_index(verified, issuer)
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            run.failed(
                CHECK.VERIFICATION_CHECK_LEDGER_INCLUSION,
                "the ledger holds no attestation of this license",
            )
        else:
            run.record(
                CHECK.VERIFICATION_CHECK_LEDGER_INCLUSION,
                licenses_pb2.CHECK_OUTCOME_UNAVAILABLE,
                "the ledger did not answer",
            )
    else:
        response.ledger_index = index
        run.passed(CHECK.VERIFICATION_CHECK_LEDGER_INCLUSION)
    return run.finish()


class _KeyRefused(Exception):
    pass


def _refuse_key(detail: str) -> Any:
    raise _KeyRefused(detail)


def _schema_problems(license_type: licenses_pb2.LicenseType, disclosed: Mapping[str, Any]) -> str:
    """What of the disclosed claims does not fit the type (required claims may be withheld)."""
    defined = {d.name: d for d in license_type.claims}
    unknown = sorted(set(disclosed) - set(defined))
    if unknown:
        return f"claims outside the type's schema: {', '.join(unknown[:10])}"
    partial = licenses_pb2.LicenseType()
    partial.CopyFrom(license_type)
    del partial.claims[:]
    for definition in license_type.claims:
        if definition.name in disclosed:
            partial.claims.append(definition)
    try:
        catalog.check_claims(partial, dict(disclosed))
    except InvalidArgument as error:
        return "; ".join(f"{v.field}: {v.description}" for v in error.field_violations)
    return ""
