"""One run of the demo: :class:`Demo` numbers and records the steps of each scenario,
makes sure the catalogue entries the scenarios need exist, and holds the steps that
several scenarios share (issuing a business license, verifying, fetching a receipt).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from google.protobuf import json_format

from certfree.demo.client import ApiError, Gateway, check
from certfree.demo.parties import (
    AUDITOR,
    BUSINESS_CLAIMS,
    BUSINESS_LICENSE,
    MARKET_ISSUER,
    NEEDED_DEPARTMENTS,
    NEEDED_LICENSE_TYPES,
    NEEDED_PROOF_ITEMS,
    OPERATOR,
    Party,
)
from certfree.demo.report import Reporter, Step, StepFailed

Scenario = Callable[["Demo"], Awaitable[None]]
"""A scenario: plays its steps on a :class:`Demo`; :class:`StepFailed` when one failed."""


class Demo:
    """One run of the demo against one gateway: its parties, holders and output."""

    def __init__(self, gateway: Gateway, reporter: Reporter, verifier_key: str | None) -> None:
        self.gateway = gateway
        self.reporter = reporter
        self.verifier_key = verifier_key
        self.run_id = secrets.token_hex(4)
        """Makes this run's requests new; holders and the shared license are reused."""
        self._scenario = 0
        self._step = 0

    # --- steps ---

    def begin(self, scenario: int, title: str) -> None:
        """Start numbering the steps of `scenario`."""
        self._scenario, self._step = scenario, 0
        self.reporter.heading(f"场景 {scenario} / scenario {scenario}: {title}")

    def passed(self, label: str, **figures: object) -> None:
        """Record a step whose checks passed."""
        self._step += 1
        shown = {key.replace("_", " "): str(value) for key, value in figures.items()}
        self.reporter.step(Step(self._scenario, self._step, label, True, shown))

    def failed(self, label: str, failure: str) -> None:
        """Record a step that failed."""
        self._step += 1
        self.reporter.step(Step(self._scenario, self._step, label, False, {}, failure))

    async def attempt(self, label: str, action: Awaitable[dict[str, object]]) -> None:
        """Run `action` as a step: its figures when it passes, what failed when not."""
        try:
            figures = await action
        except (StepFailed, ApiError, httpx.HTTPError) as error:
            self.failed(label, str(error))
            raise StepFailed(label) from error
        except KeyError as error:  # the API answered, but not in the shape the contract says
            self.failed(label, f"the response lacks the field {error}")
            raise StepFailed(label) from error
        self.passed(label, **figures)

    # --- catalogue ---

    async def prepare_catalogue(self) -> None:
        """Create, through the operator APIs, the sample entries the demo needs that are missing."""
        from services.licenses import SAMPLE_CATALOGUE as LICENSE_SAMPLE
        from services.licenses.catalog import load_seed
        from services.proofs import SAMPLE_CATALOGUE as PROOF_SAMPLE
        from services.proofs.catalog import load_catalog

        seed = load_seed(LICENSE_SAMPLE)
        items = load_catalog(PROOF_SAMPLE)
        wanted: list[tuple[str, str, Any]] = []
        for department in seed.departments:
            if department.code in NEEDED_DEPARTMENTS:
                wanted.append(("/v1/departments/", department.code, department))
        for license_type in seed.license_types:
            if license_type.code in NEEDED_LICENSE_TYPES:
                wanted.append(("/v1/license-types/", license_type.code, license_type))
        for item in items.proof_items:
            if item.code in NEEDED_PROOF_ITEMS:
                wanted.append(("/v1/proof-items/", item.code, item))
        created = []
        for prefix, code, entry in wanted:
            try:
                await self.gateway.call(OPERATOR, "GET", prefix + code)
                continue
            except ApiError as error:
                if error.status != 404:
                    raise
            await self.gateway.call(
                OPERATOR, "PUT", prefix + code, json_format.MessageToDict(entry)
            )
            created.append(code)
        self.reporter.step(
            Step(
                0,
                1,
                "目录就绪 catalogue ready: the sample departments, license type and proof items "
                "the demo uses",
                True,
                {"entries": str(len(wanted)), "created": str(len(created))},
            )
        )

    # --- shared steps ---

    async def business_license(self, holder: str, request_id: str) -> dict[str, Any]:
        """福清市市场监督管理局 issues a business license to `holder` (idempotent per id)."""
        issued = await self.gateway.call(
            MARKET_ISSUER,
            "POST",
            "/v1/licenses",
            {
                "requestId": request_id,
                "licenseTypeCode": BUSINESS_LICENSE,
                "holder": {"uscc": holder},
                "claims": BUSINESS_CLAIMS,
            },
        )
        license: dict[str, Any] = issued["license"]
        check("ledgerIndex" in license, "the license has no ledger index: not attested")
        return license

    async def verify(self, party: Party, sd_jwt: str, receipt: str | None = None) -> dict[str, Any]:
        """VerifyLicense as `party` (a receipt for proof answers)."""
        body: dict[str, Any] = {"sdJwt": sd_jwt}
        if receipt:
            body["ledgerReceipt"] = receipt
        return await self.gateway.call(party, "POST", "/v1/licenses:verify", body)

    async def receipt(self, index: str) -> str:
        """The C2SP tlog-proof of ledger entry `index`, as an auditor fetches it."""
        found = await self.gateway.call(AUDITOR, "GET", f"/v1/ledger/entries/{index}/receipt")
        return str(found["tlogProof"])
