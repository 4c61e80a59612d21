"""Scenario 3, accept with gaps (容缺受理) on the commitment route (告知承诺):
commitments recorded with a due date, the proofs service's background sampler choosing
some, and the housing bureau recording its check of one.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from certfree.demo.client import check, consent, rfc3339
from certfree.demo.core import Demo
from certfree.demo.parties import (
    DRAWING_REVIEW_COMMITMENT,
    HOUSING_OFFICER,
    WINDOW_CLERK,
    synthetic_resident_id,
    synthetic_uscc,
)
from certfree.demo.report import StepFailed

SAMPLER_WAIT_SECONDS = 40.0
"""How long scenario 3 waits for the background sampler to decide one batch."""
SAMPLING_BATCH = 5
"""Commitments recorded per sampling round in scenario 3."""
SAMPLING_ROUNDS = 8
"""Rounds scenario 3 tries before concluding that sampling never selects anything."""


async def accept_with_gaps(demo: Demo) -> None:
    """Commitments recorded with a due date, sampled by the sweeper, one checked."""
    demo.begin(
        3,
        "容缺受理: 告知承诺, 事后抽查 / accept with gaps: a commitment with a due date, "
        "sampled and checked",
    )
    item = await demo.gateway.call(
        WINDOW_CLERK, "GET", f"/v1/proof-items/{DRAWING_REVIEW_COMMITMENT}"
    )
    text = str(item["commitment"]["text"])
    rate = item["commitment"].get("samplingRate", "the deployment's rate")
    fulfil_by = rfc3339(datetime.now(UTC) + timedelta(days=20))
    selected: str | None = None
    recorded = 0
    for round_number in range(1, SAMPLING_ROUNDS + 1):
        ids: list[str] = []

        async def record(
            round_number: int = round_number, ids: list[str] = ids
        ) -> dict[str, object]:
            indexes = []
            for n in range(SAMPLING_BATCH):
                serial = 300 + (round_number - 1) * SAMPLING_BATCH + n
                holder, agent = synthetic_uscc(serial), synthetic_resident_id(serial % 1000)
                created = await demo.gateway.call(
                    WINDOW_CLERK,
                    "POST",
                    "/v1/proof-requests",
                    {
                        "clientRequestId": f"demo-{demo.run_id}-commit-{serial}",
                        "proofItemCode": DRAWING_REVIEW_COMMITMENT,
                        "holder": {"uscc": holder},
                        "purpose": {
                            "purpose": "建筑工程施工许可 construction permit",
                            "caseReference": f"FQ-{demo.run_id}-RQ{serial}",
                        },
                        "consent": consent(agent, "CONSENT_GIVER_LEGAL_REPRESENTATIVE"),
                    },
                )
                request_id = created["request"]["requestId"]
                committed = await demo.gateway.call(
                    WINDOW_CLERK,
                    "POST",
                    f"/v1/proof-requests/{request_id}:recordCommitment",
                    {
                        "text": text,
                        "made": consent(agent, "CONSENT_GIVER_LEGAL_REPRESENTATIVE"),
                        "fulfilBy": fulfil_by,
                    },
                )
                after = committed["request"]
                outcome = after.get("answer", {}).get("outcome")
                check(outcome == "PROOF_OUTCOME_COMMITTED", f"outcome {outcome}")
                check(
                    after["commitment"].get("checkState")
                    == "COMMITMENT_CHECK_STATE_AWAITING_SAMPLING",
                    "the commitment is not waiting for sampling",
                )
                indexes.append(str(after["commitment"]["ledgerIndex"]))
                ids.append(request_id)
            first = ids[0]
            return {
                "requests": f"{first} and {len(ids) - 1} more",
                "status": "answered (committed)",
                "fulfil by": fulfil_by,
                "ledger indexes": " ".join(indexes),
            }

        await demo.attempt(
            f"窗口 clerk takes {SAMPLING_BATCH} applications with a missing drawing-review "
            "approval against a signed commitment (告知承诺, due in 20 days)",
            record(),
        )
        recorded += len(ids)
        decided: dict[str, str] = {}

        async def sampled(
            ids: list[str] = ids, decided: dict[str, str] = decided
        ) -> dict[str, object]:
            deadline = time.monotonic() + SAMPLER_WAIT_SECONDS
            started = time.perf_counter()
            while len(decided) < len(ids) and time.monotonic() < deadline:
                for request_id in ids:
                    if request_id in decided:
                        continue
                    found = await demo.gateway.call(
                        WINDOW_CLERK, "GET", f"/v1/proof-requests/{request_id}"
                    )
                    state = found["commitment"]["checkState"]
                    if state != "COMMITMENT_CHECK_STATE_AWAITING_SAMPLING":
                        decided[request_id] = state
                await asyncio.sleep(0.25)
            check(
                len(decided) == len(ids),
                f"the sampler decided {len(decided)} of {len(ids)} within "
                f"{SAMPLER_WAIT_SECONDS:.0f} s (it runs every CERTFREE_PROOFS_SWEEP_SECONDS)",
            )
            chosen = [r for r, s in decided.items() if s == "COMMITMENT_CHECK_STATE_SELECTED"]
            return {
                "selected": f"{len(chosen)} of {len(ids)} (item rate {rate})",
                "waited": f"{time.perf_counter() - started:.2f} s",
            }

        await demo.attempt(
            "抽查 the proofs service's background sampler decides which commitments are checked",
            sampled(),
        )
        chosen = [r for r, s in decided.items() if s == "COMMITMENT_CHECK_STATE_SELECTED"]
        if chosen:
            selected = chosen[0]
            break
        demo.reporter.note("none selected this time; more applicants come to the window")
    if selected is None:
        demo.failed(
            "住建局 checks a sampled commitment",
            f"the sampler selected none of {recorded} commitments",
        )
        raise StepFailed("no commitment was selected")
    chosen_id = selected

    async def check_sampled() -> dict[str, object]:
        checked = await demo.gateway.call(
            HOUSING_OFFICER,
            "POST",
            f"/v1/proof-requests/{chosen_id}:recordCommitmentCheck",
            {
                "result": "COMMITMENT_CHECK_RESULT_TRUE",
                "note": "已核对审查机构备案, 承诺属实 the review record confirms the commitment",
            },
        )
        commitment = checked["request"]["commitment"]
        state = commitment["checkState"]
        check(state == "COMMITMENT_CHECK_STATE_FOUND_TRUE", f"check state {state}")
        return {
            "request": chosen_id,
            "check state": "found true",
            "ledger index": commitment["check"].get("ledgerIndex", "-"),
        }

    await demo.attempt(
        "住建局 officer checks the sampled commitment and records it", check_sampled()
    )
