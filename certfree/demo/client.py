"""The gateway's HTTP/JSON API as the demo calls it: :class:`Gateway` (one JSON call
as a party, and a department's inbox read as Server-Sent Events), :class:`ApiError`
for the gateway's error answers, and the small helpers the scenarios share to build
requests (timestamps, consent) and to check answers.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx

from certfree.demo.parties import Party
from certfree.demo.report import StepFailed


class ApiError(Exception):
    """The gateway answered with an error: HTTP status, google.rpc reason and message."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"HTTP {status} {reason}: {message}")
        self.status = status
        self.reason = reason


def _api_error(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        return ApiError(response.status_code, "", response.text[:200])
    reason = next((d.get("reason", "") for d in body.get("details", []) if "reason" in d), "")
    return ApiError(response.status_code, reason, str(body.get("message", "")))


class Gateway:
    """The gateway's JSON API as the demo's parties call it."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def call(
        self,
        party: Party,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One JSON call as `party`; the response body, or :class:`ApiError`."""
        response = await self.client.request(
            method, path, json=body, params=params, headers=party.headers()
        )
        if response.status_code != 200:
            raise _api_error(response)
        found: dict[str, Any] = response.json()
        return found

    @contextlib.asynccontextmanager
    async def inbox(
        self, party: Party, direction: str
    ) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """The party's department inbox as Server-Sent Events: an iterator of messages."""
        async with self.client.stream(
            "GET",
            "/v1/proof-requests:streamInbox",
            params={"direction": direction},
            headers=party.headers(),
            timeout=httpx.Timeout(10.0, read=None),
        ) as response:
            if response.status_code != 200:
                await response.aread()
                raise _api_error(response)
            yield _sse_messages(response)


async def _sse_messages(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The JSON `data:` of each Server-Sent Event; an ``error`` event raises."""
    data: list[str] = []
    event = "message"
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            data.append(line[5:].strip())
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif not line and data:
            message = json.loads("\n".join(data))
            if event == "error":
                raise ApiError(200, "STREAM_ERROR", str(message.get("message", "")))
            yield message
            data, event = [], "message"


def rfc3339(instant: datetime) -> str:
    """`instant` as the API's RFC 3339 timestamps write it: whole seconds, ``Z`` for UTC."""
    return instant.isoformat(timespec="seconds").replace("+00:00", "Z")


def _now() -> str:
    return rfc3339(datetime.now(UTC))


def consent(agent: str, given_by: str = "CONSENT_GIVER_AUTHORISED_AGENT") -> dict[str, Any]:
    """A proof request's consent as JSON: given by `given_by` through `agent` (a resident
    ID), at the window with the ID checked, now."""
    return {
        "givenBy": given_by,
        "agent": {"residentId": agent},
        "method": "CONSENT_METHOD_AT_WINDOW_ID_CHECKED",
        "givenAt": _now(),
    }


def check(condition: bool, failure: str) -> None:
    """Fail the step, saying `failure`, unless `condition` holds."""
    if not condition:
        raise StepFailed(failure)


def checks_summary(verified: dict[str, Any]) -> str:
    """The VerifyLicense checks as ``NAME outcome`` pairs, short."""
    parts = []
    for check in verified.get("checks", []):
        name = str(check["check"]).removeprefix("VERIFICATION_CHECK_")
        outcome = str(check["outcome"]).removeprefix("CHECK_OUTCOME_")
        parts.append(f"{name} {outcome}".lower())
    return ", ".join(parts)
