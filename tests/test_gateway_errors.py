"""The gateway's HTTP form of a service's error status."""

from __future__ import annotations

from google.protobuf import duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from gateway.errors import status_response


def _exhausted(delay: duration_pb2.Duration) -> status_pb2.Status:
    status = status_pb2.Status(code=code_pb2.RESOURCE_EXHAUSTED, message="rate limited")
    status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=delay))
    return status


class TestRetryAfter:
    """A service's RetryInfo becomes HTTP Retry-After, in whole seconds rounded up."""

    def test_retry_info_sets_retry_after(self) -> None:
        """2.1 s to wait is Retry-After: 3, on a 429."""
        response = status_response(_exhausted(duration_pb2.Duration(seconds=2, nanos=10**8)))
        assert response.status_code == 429
        assert response.headers["retry-after"] == "3"

    def test_sub_second_delay_is_one_second(self) -> None:
        """Retry-After is never 0: a client would retry at once."""
        response = status_response(_exhausted(duration_pb2.Duration(nanos=5 * 10**8)))
        assert response.headers["retry-after"] == "1"

    def test_given_header_wins(self) -> None:
        """A Retry-After the gateway set itself (its own rate limit) is kept."""
        response = status_response(
            _exhausted(duration_pb2.Duration(seconds=9)), headers={"Retry-After": "4"}
        )
        assert response.headers["retry-after"] == "4"

    def test_no_retry_info_no_header(self) -> None:
        """Other errors carry no Retry-After."""
        status = status_pb2.Status(code=code_pb2.NOT_FOUND, message="no such license")
        status.details.add().Pack(error_details_pb2.ErrorInfo(reason="NOT_FOUND"))
        assert "retry-after" not in status_response(status).headers
