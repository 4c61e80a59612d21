"""Domain errors and their one mapping to gRPC status (and from there to HTTP).

Handlers raise a :class:`CertfreeError` subclass; the server interceptor turns it
into a ``google.rpc.Status`` with an ``ErrorInfo`` (stable reason from
``certfree.common.v1.ErrorReason``) and, for bad fields, a ``BadRequest`` listing
each field violation. Anything else becomes INTERNAL with the request id only:
clients never see a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from genproto.certfree.common.v1 import common_pb2

ERROR_DOMAIN = "certfree.gov.cn"


@dataclass(frozen=True)
class FieldViolation:
    """One bad field: its path in the request (``attestation.artefact_sha256``) and why."""

    field: str
    description: str
    reason: str = ""


class CertfreeError(Exception):
    """Base of every error a handler may raise on purpose."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL
    reason: int = common_pb2.INTERNAL_FAILURE

    def __init__(
        self,
        message: str,
        *,
        reason: int | None = None,
        metadata: Mapping[str, str] | None = None,
        field_violations: Iterable[FieldViolation] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata = dict(metadata or {})
        self.field_violations = tuple(field_violations)

    @property
    def reason_name(self) -> str:
        """The stable reason string clients branch on."""
        return common_pb2.ErrorReason.Name(self.reason)


class InvalidArgument(CertfreeError):
    """The request broke a rule; nothing was changed."""

    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = common_pb2.INVALID_FIELD


class MalformedRequest(CertfreeError):
    """The request could not be decoded at all."""

    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = common_pb2.MALFORMED_REQUEST


class Unauthenticated(CertfreeError):
    """No trusted identity came with the call."""

    code = grpc.StatusCode.UNAUTHENTICATED
    reason = common_pb2.UNAUTHENTICATED_CALLER


class PermissionDenied(CertfreeError):
    """The caller's role or department may not do this."""

    code = grpc.StatusCode.PERMISSION_DENIED
    reason = common_pb2.ROLE_NOT_ALLOWED


class NotFound(CertfreeError):
    """The named resource does not exist."""

    code = grpc.StatusCode.NOT_FOUND
    reason = common_pb2.NOT_FOUND


class AlreadyExists(CertfreeError):
    """A resource with this identity exists with different content."""

    code = grpc.StatusCode.ALREADY_EXISTS
    reason = common_pb2.ALREADY_EXISTS


class InvalidState(CertfreeError):
    """The resource's state does not allow the operation."""

    code = grpc.StatusCode.FAILED_PRECONDITION
    reason = common_pb2.INVALID_STATE


class NotImplementedYet(CertfreeError):
    """The RPC is in the contract but not built in this version."""

    code = grpc.StatusCode.UNIMPLEMENTED
    reason = common_pb2.NOT_IMPLEMENTED


class Unavailable(CertfreeError):
    """The store or an upstream service did not answer; the call may be retried."""

    code = grpc.StatusCode.UNAVAILABLE
    reason = common_pb2.BACKEND_UNAVAILABLE


class RateLimited(CertfreeError):
    """The caller sent too many requests."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = common_pb2.RATE_LIMITED


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def to_status_proto(error: CertfreeError) -> status_pb2.Status:
    """The google.rpc.Status a client receives for `error`."""
    details = [
        _pack(
            error_details_pb2.ErrorInfo(
                reason=error.reason_name, domain=ERROR_DOMAIN, metadata=error.metadata
            )
        )
    ]
    if error.field_violations:
        details.append(
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=v.field, description=v.description, reason=v.reason
                        )
                        for v in error.field_violations
                    ]
                )
            )
        )
    return status_pb2.Status(code=error.code.value[0], message=error.message, details=details)


def to_grpc_status(error: CertfreeError) -> grpc.Status:
    """`error` as a grpc.Status whose trailers carry the rich details."""
    status: grpc.Status = rpc_status.to_status(to_status_proto(error))
    return status


def internal_error(request_id: str) -> CertfreeError:
    """What a client sees for an unexpected failure: the request id, nothing more."""
    return CertfreeError(
        f"internal error; the server logged it under request id {request_id}",
        metadata={"request_id": request_id},
    )


# google.rpc.Code -> HTTP status, as google/rpc/code.proto documents it.
HTTP_STATUS: dict[int, int] = {
    code_pb2.OK: 200,
    code_pb2.CANCELLED: 499,
    code_pb2.UNKNOWN: 500,
    code_pb2.INVALID_ARGUMENT: 400,
    code_pb2.DEADLINE_EXCEEDED: 504,
    code_pb2.NOT_FOUND: 404,
    code_pb2.ALREADY_EXISTS: 409,
    code_pb2.PERMISSION_DENIED: 403,
    code_pb2.UNAUTHENTICATED: 401,
    code_pb2.RESOURCE_EXHAUSTED: 429,
    code_pb2.FAILED_PRECONDITION: 400,
    code_pb2.ABORTED: 409,
    code_pb2.OUT_OF_RANGE: 400,
    code_pb2.UNIMPLEMENTED: 501,
    code_pb2.INTERNAL: 500,
    code_pb2.UNAVAILABLE: 503,
    code_pb2.DATA_LOSS: 500,
}


def http_status(code: int) -> int:
    """The HTTP status for a google.rpc.Code number."""
    return HTTP_STATUS.get(code, 500)
