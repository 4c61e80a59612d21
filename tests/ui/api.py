"""What the page tests do through the gateway's HTTP API beside the page: the departments'
side of a story (issue a license, start or answer a request), as intake systems call it."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import httpx

from certfree.demo import synthetic_resident_id, synthetic_uscc
from certfree.demo.parties import BUSINESS_CLAIMS
from tests.ui.conftest import Mint

CENTRE = "11350181MB1234505L"  # 福清市行政服务中心管理委员会: the window
MARKET = "11350181MB12345018"  # 福清市市场监督管理局: issues business licenses
HOUSING = "11350181MB12345671"  # 福清市住房和城乡建设局: answers the drawing-review proof
CIVIL_AFFAIRS = "11350181MB1234502B"  # 福清市民政局
BUSINESS_LICENSE = "11100000000013127D001"  # 营业执照, an organisation's license
DRAWING_REVIEW = "construction-drawing-review.verification"  # 施工图审查合格证明, verified


async def call(
    gateway_url: str, token: str, method: str, path: str, body: dict[str, Any] | None = None
) -> Any:
    """One API call with `token`; its JSON answer (the test fails on anything but 200)."""
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30.0) as client:
        response = await client.request(
            method, path, json=body, headers={"authorization": f"Bearer {token}"}
        )
    assert response.status_code == 200, f"{method} {path}: {response.text}"
    return response.json()


async def issue_business_license(gateway_url: str, mint: Mint, holder_uscc: str) -> dict[str, Any]:
    """福清市市场监督管理局 issues a business license to `holder_uscc`; the license record
    (with its SD-JWT and ledger index)."""
    issued = await call(
        gateway_url,
        mint("issuer", MARKET, "scjg-registry-02"),
        "POST",
        "/v1/licenses",
        {
            "requestId": f"ui-{secrets.token_hex(6)}",
            "licenseTypeCode": BUSINESS_LICENSE,
            "holder": {"uscc": holder_uscc},
            "claims": BUSINESS_CLAIMS,
        },
    )
    license: dict[str, Any] = issued["license"]
    assert "ledgerIndex" in license
    return license


def now_rfc3339() -> str:
    """The current instant as the API's JSON takes a timestamp."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def create_request(
    gateway_url: str, mint: Mint, case: str, *, serial: int, item: str = DRAWING_REVIEW
) -> dict[str, Any]:
    """A window clerk asks for proof item `item` about synthetic company `serial`, its
    agent consenting at the window (as certfree demo does); the request."""
    created = await call(
        gateway_url,
        mint("clerk", CENTRE, "window-3"),
        "POST",
        "/v1/proof-requests",
        {
            "clientRequestId": f"ui-{secrets.token_hex(8)}",
            "proofItemCode": item,
            "holder": {"uscc": synthetic_uscc(serial)},
            "purpose": {"purpose": "建筑工程施工许可", "caseReference": case},
            "consent": {
                "givenBy": "CONSENT_GIVER_AUTHORISED_AGENT",
                "agent": {"residentId": synthetic_resident_id(serial)},
                "method": "CONSENT_METHOD_AT_WINDOW_ID_CHECKED",
                "givenAt": now_rfc3339(),
            },
            "note": "申请人在窗口等候",
        },
    )
    request: dict[str, Any] = created["request"]
    return request


async def answer_drawing_review(gateway_url: str, mint: Mint, request_id: str) -> dict[str, Any]:
    """The housing bureau accepts a drawing-review request and answers it CONFIRMED; the
    answered request."""
    officer = mint("officer", HOUSING, "zjj-officer-031")
    path = f"/v1/proof-requests/{request_id}"
    await call(gateway_url, officer, "POST", f"{path}:accept", {"note": "核验审查备案"})
    answered = await call(
        gateway_url,
        officer,
        "POST",
        f"{path}:answer",
        {
            "outcome": "PROOF_OUTCOME_CONFIRMED",
            "claims": {
                "certificate_number": "FQSTSC-2025-UI",
                "project_name": "福清市示例村道建设工程",
                "passed_on": "2025-05-20",
            },
            "explanation": "施工图审查合格, 已备案",
        },
    )
    request: dict[str, Any] = answered["request"]
    return request
