"""Error bodies: every failure the gateway answers is a ``google.rpc.Status`` in JSON.

An upstream failure carries the Status its service put in the
``grpc-status-details-bin`` trailer (ErrorInfo, BadRequest ...), unchanged; the
HTTP status comes from its code through :func:`runtime.errors.http_status`, the
one mapping. Failures without such a trailer (the transport's own, such as an
unreachable upstream) and the gateway's own refusals (bad JSON, unknown route,
body too large) get a Status built here in the same shape, with an ErrorInfo in
the ``certfree.gov.cn`` domain. Nothing here ever carries a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import grpc
from google.protobuf import descriptor_pool, json_format
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2
from starlette.responses import JSONResponse

from genproto.certfree.common.v1 import common_pb2
from runtime.errors import (
    CertfreeError,
    FieldViolation,
    http_status,
    internal_error,
    to_status_proto,
)
from runtime.logs import get_logger
from runtime.server import REQUEST_ID_HEADER

STATUS_DETAILS_KEY = "grpc-status-details-bin"

# The stable reason for a status that arrived without details of its own.
_REASONS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: common_pb2.INVALID_FIELD,
    grpc.StatusCode.OUT_OF_RANGE: common_pb2.INVALID_FIELD,
    grpc.StatusCode.UNAUTHENTICATED: common_pb2.UNAUTHENTICATED_CALLER,
    grpc.StatusCode.PERMISSION_DENIED: common_pb2.ROLE_NOT_ALLOWED,
    grpc.StatusCode.NOT_FOUND: common_pb2.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS: common_pb2.ALREADY_EXISTS,
    grpc.StatusCode.FAILED_PRECONDITION: common_pb2.INVALID_STATE,
    grpc.StatusCode.UNIMPLEMENTED: common_pb2.NOT_IMPLEMENTED,
    grpc.StatusCode.UNAVAILABLE: common_pb2.BACKEND_UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: common_pb2.BACKEND_UNAVAILABLE,
    grpc.StatusCode.RESOURCE_EXHAUSTED: common_pb2.RATE_LIMITED,
}
_log = get_logger("gateway")


def error_status(
    code: grpc.StatusCode,
    message: str,
    *,
    reason: int | None = None,
    metadata: Mapping[str, str] | None = None,
    field_violations: Iterable[FieldViolation] = (),
) -> status_pb2.Status:
    """A Status with an ErrorInfo (and a BadRequest when fields are named), as services send."""
    error = CertfreeError(
        message,
        reason=_REASONS.get(code, common_pb2.INTERNAL_FAILURE) if reason is None else reason,
        metadata=metadata,
        field_violations=field_violations,
    )
    status = to_status_proto(error)
    status.code = code.value[0]
    return status


def _fallback_message(code: grpc.StatusCode, upstream: str) -> str:
    if code is grpc.StatusCode.UNAVAILABLE:
        return f"the {upstream} service is unavailable; retry later"
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"the {upstream} service did not answer in time; retry later"
    if code is grpc.StatusCode.UNIMPLEMENTED:
        return f"the {upstream} service does not implement this RPC"
    return f"the {upstream} service failed ({code.name})"


def upstream_status(error: grpc.aio.AioRpcError, upstream: str) -> status_pb2.Status:
    """The Status of a failed upstream call: the service's own, else one built from the code."""
    code = error.code()
    for key, value in error.trailing_metadata() or ():
        if key != STATUS_DETAILS_KEY or not isinstance(value, bytes):
            continue
        # As grpc_status.rpc_status.from_call reads it, minus its ValueError on a mismatch.
        try:
            rich = status_pb2.Status.FromString(value)
        except DecodeError:
            break
        if rich.code == code.value[0]:
            return rich
    # The transport's words may name internal addresses: log them, do not send them.
    _log.warning("upstream failed", upstream=upstream, code=code.name, details=error.details())
    return error_status(code, _fallback_message(code, upstream))


def _detail_json(detail: Any) -> dict[str, Any]:
    """One packed detail as JSON; a type this process does not know keeps only its name."""
    try:
        descriptor_pool.Default().FindMessageTypeByName(detail.TypeName())
    except KeyError:
        return {"@type": detail.type_url}
    rendered: dict[str, Any] = json_format.MessageToDict(detail)
    return rendered


def status_json(status: status_pb2.Status) -> dict[str, Any]:
    """``{"code": 5, "message": "...", "details": [{"@type": ...}, ...]}``."""
    return {
        "code": status.code,
        "message": status.message,
        "details": [_detail_json(detail) for detail in status.details],
    }


def status_response(
    status: status_pb2.Status,
    *,
    status_code: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The HTTP response for `status`: its mapped HTTP status unless one is given, and a
    ``Retry-After`` (whole seconds, rounded up) when the status carries a RetryInfo."""
    headers = dict(headers or {})
    retry = error_details_pb2.RetryInfo()
    for detail in status.details:
        if "Retry-After" not in headers and detail.Unpack(retry):
            delay = retry.retry_delay.seconds + (retry.retry_delay.nanos > 0)
            headers["Retry-After"] = str(max(delay, 1))
    return JSONResponse(
        status_json(status),
        status_code=status_code or http_status(status.code),
        headers=headers,
    )


def internal_error_response(request_id: str, exc: BaseException) -> JSONResponse:
    """An unexpected failure: logged with its traceback, answered with the request id only."""
    _log.error("request failed unexpectedly", exc_info=exc, request_id=request_id)
    return status_response(
        to_status_proto(internal_error(request_id)), headers={REQUEST_ID_HEADER: request_id}
    )
