"""Scenario 2, data sharing (数据共享): a business registration whose proof item is
answered at once from the business license the holder already has, and the clerk
verifying the signed answer.
"""

from __future__ import annotations

import time
from typing import Any

from certfree.demo.client import check, checks_summary, consent
from certfree.demo.core import Demo
from certfree.demo.parties import (
    BUSINESS_LICENSE_EXISTENCE,
    WINDOW_CLERK,
    mask,
    synthetic_resident_id,
    synthetic_uscc,
)


async def shared_business_license(demo: Demo) -> None:
    """A business registration answered from a shared business license (data sharing)."""
    demo.begin(
        2,
        "数据共享: 营业执照证明由电子证照库自动答复 / a business license proof answered "
        "automatically from the shared license",
    )
    holder, agent = synthetic_uscc(102), synthetic_resident_id(2)
    demo.reporter.note(f"市场主体 business {mask(holder)}, 经办人 agent {mask(agent)} (synthetic)")
    license: dict[str, Any] = {}

    async def issue() -> dict[str, object]:
        license.update(await demo.business_license(holder, f"demo-business-license-{holder}"))
        return {"license": license["licenseId"], "ledger index": license["ledgerIndex"]}

    await demo.attempt(
        "福清市市场监督管理局 holds the business license it issued (电子证照)", issue()
    )
    answered: dict[str, Any] = {}

    async def ask() -> dict[str, object]:
        started = time.perf_counter()
        created = await demo.gateway.call(
            WINDOW_CLERK,
            "POST",
            "/v1/proof-requests",
            {
                "clientRequestId": f"demo-{demo.run_id}-registration",
                "proofItemCode": BUSINESS_LICENSE_EXISTENCE,
                "holder": {"uscc": holder},
                "purpose": {
                    "purpose": "市场主体变更登记 business registration",
                    "caseReference": f"FQ-{demo.run_id}-BG",
                },
                "consent": consent(agent),
            },
        )
        answered.update(created["request"])
        answer = answered.get("answer", {})
        check(answered["state"] == "PROOF_REQUEST_STATE_ANSWERED", f"state {answered['state']}")
        check(
            answer.get("outcome") == "PROOF_OUTCOME_CONFIRMED", f"outcome {answer.get('outcome')}"
        )
        check(
            answer.get("sourceLicenseId") == license["licenseId"],
            "the answer was not drawn from the holder's license",
        )
        return {
            "request": answered["requestId"],
            "outcome": "confirmed",
            "from license": answer["sourceLicenseId"],
            "ledger index": answer.get("ledgerIndex", "-"),
            "time": f"{time.perf_counter() - started:.2f} s",
        }

    await demo.attempt(
        "窗口 clerk asks; the data_sharing route answers at once from the license (answered)",
        ask(),
    )

    async def verify() -> dict[str, object]:
        answer = answered["answer"]
        verified = await demo.verify(
            WINDOW_CLERK, answer["sdJwt"], await demo.receipt(answer["ledgerIndex"])
        )
        check(verified["valid"] is True, f"not valid: {checks_summary(verified)}")
        return {"valid": "true", "signed by": verified["issuerDepartment"]}

    await demo.attempt("窗口 clerk verifies the signed answer", verify())
