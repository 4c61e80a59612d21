"""Scenario 1, department verification (证明协查): Fuqing's construction-permit
applicant (report 004), whose missing construction-drawing review approval the housing
bureau certifies while she waits; the officer and the clerk each watch their inbox
stream (:class:`InboxWatch`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from typing import Any

from certfree.demo.client import Gateway, check, checks_summary, consent
from certfree.demo.core import Demo
from certfree.demo.parties import (
    DRAWING_REVIEW_VERIFICATION,
    HOUSING,
    HOUSING_OFFICER,
    WINDOW_CLERK,
    Party,
    mask,
    synthetic_resident_id,
    synthetic_uscc,
)
from certfree.demo.report import StepFailed

STREAM_WAIT_SECONDS = 30.0
"""How long scenario 1 waits for the officer's answer to come back on the inbox stream."""


class InboxWatch:
    """A department's inbox stream, watched in a background task until one request's
    event arrives: how an officer's screen or a clerk's window learns of it."""

    def __init__(self, gateway: Gateway, party: Party, direction: str) -> None:
        self.open = asyncio.Event()
        """Set once the stream's first message (the live end) arrived."""
        self._wanted: tuple[str, str] = ("", "")
        self._found: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._watch(gateway, party, direction))

    def expect(self, client_request_id: str, event_suffix: str) -> None:
        """Wait for the request with `client_request_id` and an event type ending so."""
        self._wanted = (client_request_id, event_suffix)

    async def _watch(self, gateway: Gateway, party: Party, direction: str) -> None:
        async with gateway.inbox(party, direction) as messages:
            async for message in messages:
                self.open.set()
                for event in message.get("events", []):
                    request = event.get("request", {})
                    kind = str(event.get("event", {}).get("type", ""))
                    client_id, suffix = self._wanted
                    if request.get("clientRequestId") == client_id and kind.endswith(suffix):
                        self._found.set_result(request)
                        return

    async def wait(self, what: str, awaitable: Awaitable[Any] | None = None) -> Any:
        """The expected request (or `awaitable`), failing the step when the stream died
        or nothing came within :data:`STREAM_WAIT_SECONDS`."""
        waiting = asyncio.ensure_future(awaitable if awaitable is not None else self._found)
        done, _ = await asyncio.wait(
            [waiting, self._task], timeout=STREAM_WAIT_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        if waiting in done:
            return waiting.result()
        if awaitable is not None:
            waiting.cancel()
        if self._task in done and self._task.exception() is not None:
            raise StepFailed(f"{what}: the inbox stream failed: {self._task.exception()}")
        raise StepFailed(f"{what}: nothing arrived within {STREAM_WAIT_SECONDS:.0f} s")

    async def close(self) -> None:
        """Stop watching."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task


async def fuqing_construction_permit(demo: Demo) -> None:
    """The Fuqing applicant whose missing approval is certified while she waits."""
    demo.begin(
        1,
        "福清 施工许可: 窗口缺少施工图审查合格证明, 住建局当场核验 / the housing bureau "
        "certifies the missing construction-drawing approval while the applicant waits",
    )
    holder, agent = synthetic_uscc(101), synthetic_resident_id(1)
    demo.reporter.note(
        f"建设单位 construction unit {mask(holder)}, 代办人 agent {mask(agent)} (synthetic)"
    )
    officer = InboxWatch(demo.gateway, HOUSING_OFFICER, "REQUEST_DIRECTION_INCOMING")
    clerk = InboxWatch(demo.gateway, WINDOW_CLERK, "REQUEST_DIRECTION_OUTGOING")
    try:
        await _fuqing_steps(demo, holder, agent, officer, clerk)
    finally:
        await officer.close()
        await clerk.close()


async def _fuqing_steps(
    demo: Demo, holder: str, agent: str, officer: InboxWatch, clerk: InboxWatch
) -> None:
    client_id = f"demo-{demo.run_id}-permit"
    officer.expect(client_id, "_CREATED")
    clerk.expect(client_id, "_ANSWERED")

    async def listen() -> dict[str, object]:
        await officer.wait("the officer's inbox", officer.open.wait())
        await clerk.wait("the clerk's inbox", clerk.open.wait())
        return {"stream": "GET /v1/proof-requests:streamInbox (SSE)"}

    await demo.attempt("住建局 officer and 窗口 clerk open their inbox streams (SSE)", listen())
    started = time.perf_counter()
    made: dict[str, Any] = {}

    async def create() -> dict[str, object]:
        created = await demo.gateway.call(
            WINDOW_CLERK,
            "POST",
            "/v1/proof-requests",
            {
                "clientRequestId": client_id,
                "proofItemCode": DRAWING_REVIEW_VERIFICATION,
                "holder": {"uscc": holder},
                "purpose": {
                    "purpose": "建筑工程施工许可 construction permit",
                    "caseReference": f"FQ-{demo.run_id}-SGXK",
                },
                "consent": consent(agent),
                "note": "申请人在窗口等候 the applicant is waiting at the window",
            },
        )
        made.update(created["request"])
        check(made["state"] == "PROOF_REQUEST_STATE_SUBMITTED", f"state is {made['state']}")
        return {
            "request": made["requestId"],
            "route": made["route"].removeprefix("PROOF_ROUTE_").lower(),
            "to": ", ".join(made["targetDepartments"]),
            "due": made.get("dueAt", "-"),
        }

    await demo.attempt(
        "窗口 clerk starts a 证明协查 department_verification proof request with the agent's "
        "consent (status submitted)",
        create(),
    )
    request_id = made["requestId"]

    async def officer_sees() -> dict[str, object]:
        seen = await officer.wait("the officer's inbox")
        check(seen["requestId"] == request_id, "the inbox showed another request")
        return {"seen after": f"{time.perf_counter() - started:.2f} s"}

    await demo.attempt("住建局 officer sees the request arrive in the inbox", officer_sees())

    async def accept() -> dict[str, object]:
        accepted = await demo.gateway.call(
            HOUSING_OFFICER,
            "POST",
            f"/v1/proof-requests/{request_id}:accept",
            {"note": "核验施工图审查备案 checking the review record"},
        )
        state = accepted["request"]["state"]
        check(state == "PROOF_REQUEST_STATE_ACCEPTED", f"state is {state}")
        return {"status": "accepted", "answering department": HOUSING}

    await demo.attempt("住建局 accepts the request (status accepted)", accept())

    async def answer() -> dict[str, object]:
        answered = await demo.gateway.call(
            HOUSING_OFFICER,
            "POST",
            f"/v1/proof-requests/{request_id}:answer",
            {
                "outcome": "PROOF_OUTCOME_CONFIRMED",
                "claims": {
                    "certificate_number": f"FQSTSC-2025-{demo.run_id}",
                    "project_name": "福清市示例村道建设工程",
                    "passed_on": "2025-05-20",
                },
                "explanation": "施工图审查合格, 已备案 the drawings passed review, on record",
            },
        )
        result = answered["request"]
        check(result["state"] == "PROOF_REQUEST_STATE_ANSWERED", f"state is {result['state']}")
        check(bool(result["answer"].get("sdJwt")), "the answer is not signed")
        return {"outcome": "confirmed", "ledger index": result["answer"].get("ledgerIndex", "-")}

    await demo.attempt("住建局 answers: confirmed, signed by the bureau and attested", answer())
    received: dict[str, Any] = {}

    async def clerk_receives() -> dict[str, object]:
        received.update(await clerk.wait("the clerk's inbox"))
        check(bool(received.get("answer", {}).get("sdJwt")), "no signed answer on the stream")
        return {"elapsed": f"{time.perf_counter() - started:.2f} s since the request"}

    await demo.attempt(
        "窗口 clerk receives the signed answer on the inbox stream", clerk_receives()
    )

    async def verify() -> dict[str, object]:
        answer = received["answer"]
        receipt = await demo.receipt(answer["ledgerIndex"])
        verified = await demo.verify(WINDOW_CLERK, answer["sdJwt"], receipt)
        check(verified["valid"] is True, f"not valid: {checks_summary(verified)}")
        return {
            "valid": "true",
            "signed by": verified["issuerDepartment"],
            "ledger index": verified.get("ledgerIndex", "-"),
            "checks": checks_summary(verified),
        }

    await demo.attempt(
        "窗口 clerk verifies the answer with the licenses service (signature, authority, ledger)",
        verify(),
    )
    demo.reporter.note(
        f"从发起到核验完毕 request to verified answer: {time.perf_counter() - started:.2f} s "
        "(report 004: 'within minutes')"
    )
