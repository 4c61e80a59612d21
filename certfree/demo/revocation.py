"""Scenario 4, a license revoked (撤销): issued and verified as valid at Quanzhou's
window, revoked by its issuer, then failing verification there on its status check
while its signature still passes.
"""

from __future__ import annotations

from typing import Any

from certfree.demo.client import check, checks_summary
from certfree.demo.core import Demo
from certfree.demo.parties import MARKET_ISSUER, QUANZHOU_CLERK, mask, synthetic_uscc


async def revoked_license(demo: Demo) -> None:
    """A license revoked by its issuer, then failing verification in another city."""
    demo.begin(
        4,
        "证照撤销: 泉州窗口核验失败 / a revoked license fails verification at another "
        "city's window",
    )
    holder = synthetic_uscc(104)
    demo.reporter.note(f"市场主体 business {mask(holder)} (synthetic)")
    license: dict[str, Any] = {}

    async def issue() -> dict[str, object]:
        license.update(await demo.business_license(holder, f"demo-{demo.run_id}-to-revoke"))
        return {"license": license["licenseId"], "ledger index": license["ledgerIndex"]}

    await demo.attempt("福清市市场监督管理局 issues a business license", issue())

    async def verify_valid() -> dict[str, object]:
        verified = await demo.verify(QUANZHOU_CLERK, license["sdJwt"])
        check(verified["valid"] is True, f"not valid: {checks_summary(verified)}")
        return {"valid": "true", "status": verified["status"].removeprefix("LICENSE_STATUS_")}

    await demo.attempt("泉州 window verifies it: valid", verify_valid())

    async def revoke() -> dict[str, object]:
        changed = await demo.gateway.call(
            MARKET_ISSUER,
            "POST",
            f"/v1/licenses/{license['licenseId']}:changeStatus",
            {
                "status": "LICENSE_STATUS_REVOKED",
                "reason": "登记机关依法撤销登记 registration revoked by the registry",
                "requestId": f"demo-{demo.run_id}-revoke",
            },
        )
        status = changed["license"]["status"]
        check(status == "LICENSE_STATUS_REVOKED", f"status {status}")
        return {"status": "revoked", "ledger index": changed["change"].get("ledgerIndex", "-")}

    await demo.attempt("福清市市场监督管理局 revokes it (撤销), attested", revoke())

    async def verify_revoked() -> dict[str, object]:
        verified = await demo.verify(QUANZHOU_CLERK, license["sdJwt"])
        status: dict[str, Any] = next(
            (c for c in verified["checks"] if c["check"] == "VERIFICATION_CHECK_STATUS"), {}
        )
        check(verified["valid"] is False, "the revoked license still verifies")
        check(
            status.get("outcome") == "CHECK_OUTCOME_FAILED",
            f"the status check is {status.get('outcome')}, not failed",
        )
        return {
            "valid": "false",
            "status check": f"failed: {status.get('detail', '')}",
            "signature": "still passes (the signature is genuine; the status is not)",
        }

    await demo.attempt("泉州 window verifies it again: the status check fails", verify_revoked())
