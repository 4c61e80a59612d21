"""``certfree demo``: the seed reports' scenarios, played against a running certfree.

    certfree demo [--gateway URL] [--scenario N] [--json] [--verifier-key VKEY]

Everything goes through the gateway's HTTP API, the one intake systems use, as the
development identity (``x-certfree-department/-role/-subject``, which the gateway
forwards only under ``certfree up --insecure-dev``). The demo first makes sure the
catalogue entries it needs exist, creating only missing ones from the shipped samples
through the operator APIs, then plays:

1. Fuqing's construction-permit applicant (report 004): the window lacks the
   construction-drawing review approval, the clerk starts a department verification,
   the housing bureau's officer (listening on the inbox stream) accepts and answers,
   and the clerk verifies the signed answer, all while the applicant waits.
2. A business registration answered from a shared business license (data sharing).
3. Accept with gaps: commitments recorded with a due date, the background sampler
   selects some, and the housing bureau records its check of one.
4. A license revoked, then failing verification at another city's window.
5. An auditor verifying an attestation offline: a receipt file, the artefact and the
   log's verifier key, through ``certfree ledger verify-receipt``.

Holders are synthetic: resident IDs born 1900-01-01 with sequence numbers 00x (no
living person's) and enterprise USCCs with correct check characters; they are printed
masked, and no names are printed. Exit status: 0 when every check of every scenario
passed, 1 when one failed (the step says what), 2 when the demo could not run at all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import httpx
from google.protobuf import json_format

from certfree import ledger_cli
from runtime.holders import resident_id_check_character, uscc_check_character
from runtime.identity import DEPARTMENT_HEADER, ROLE_HEADER, SUBJECT_HEADER

DEFAULT_GATEWAY = "http://127.0.0.1:8080"
"""Where ``certfree up`` serves the gateway by default."""

EXIT_OK = 0
"""Every check of every scenario passed."""
EXIT_FAILED = 1
"""A check failed, or a step could not be played; the output names it."""
EXIT_CANNOT_RUN = 2
"""The demo could not run: the gateway does not answer, or a bad argument."""

SAMPLER_WAIT_SECONDS = 40.0
"""How long scenario 3 waits for the background sampler to decide one batch."""
SAMPLING_BATCH = 5
"""Commitments recorded per sampling round in scenario 3."""
SAMPLING_ROUNDS = 8
"""Rounds scenario 3 tries before concluding that sampling never selects anything."""
STREAM_WAIT_SECONDS = 30.0
"""How long scenario 1 waits for the officer's answer to come back on the inbox stream."""

# --- who takes part (the shipped sample catalogue's departments) ---------------------

CENTRE = (
    "11350181MB1234505L"  # 福清市行政服务中心管理委员会: the window, and the catalogue operator
)
HOUSING = "11350181MB12345671"  # 福清市住房和城乡建设局
MARKET = "11350181MB12345018"  # 福清市市场监督管理局
EFFICIENCY = "11350181MB1234506P"  # 福清市机关效能建设领导小组办公室: supervision and audit
QUANZHOU_CENTRE = "11350500MB0234506U"  # 泉州市行政服务中心管理委员会

BUSINESS_LICENSE = "11100000000013127D001"  # 营业执照
DRAWING_REVIEW_VERIFICATION = "construction-drawing-review.verification"
DRAWING_REVIEW_COMMITMENT = "construction-drawing-review.accept-with-gaps"
BUSINESS_LICENSE_EXISTENCE = "business-license.existence"

NEEDED_DEPARTMENTS = (CENTRE, HOUSING, MARKET, EFFICIENCY, QUANZHOU_CENTRE)
NEEDED_LICENSE_TYPES = (BUSINESS_LICENSE,)
NEEDED_PROOF_ITEMS = (
    DRAWING_REVIEW_VERIFICATION,
    DRAWING_REVIEW_COMMITMENT,
    BUSINESS_LICENSE_EXISTENCE,
)


@dataclass(frozen=True)
class Party:
    """A caller of the gateway: a department, a role and a staff number."""

    department: str
    """The department's USCC."""
    role: str
    """The role acted in (clerk, officer, issuer, auditor, operator)."""
    subject: str
    """The staff number or system name (never a person's name)."""

    def headers(self) -> dict[str, str]:
        """The development identity headers that name this caller."""
        return {
            DEPARTMENT_HEADER: self.department,
            ROLE_HEADER: self.role,
            SUBJECT_HEADER: self.subject,
        }


WINDOW_CLERK = Party(CENTRE, "clerk", "window-07")
OPERATOR = Party(CENTRE, "operator", "catalogue-admin")
HOUSING_OFFICER = Party(HOUSING, "officer", "zjj-officer-031")
MARKET_ISSUER = Party(MARKET, "issuer", "scjg-registry-02")
AUDITOR = Party(EFFICIENCY, "auditor", "xny-auditor-05")
QUANZHOU_CLERK = Party(QUANZHOU_CENTRE, "clerk", "qz-window-12")

# --- synthetic holders ---------------------------------------------------------------


def synthetic_resident_id(number: int) -> str:
    """A well-formed resident ID no living person holds: Fuqing's region code, born
    1900-01-01, sequence `number` (0-999), with its MOD 11-2 check character."""
    first17 = f"35018119000101{number:03d}"
    return first17 + resident_id_check_character(first17)


def synthetic_uscc(number: int) -> str:
    """A well-formed enterprise USCC (91, Fuqing's region) with its GB 32100 check character."""
    first17 = f"91350181MA{number:07d}"
    return first17 + uscc_check_character(first17)


def mask(identifier: str) -> str:
    """A holder identifier as the demo prints it: region, stars, last four."""
    return identifier[:6] + "*" * (len(identifier) - 10) + identifier[-4:]


# --- records and output ---------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step of a scenario, as printed and as ``--json`` writes it."""

    scenario: int
    """The scenario's number (0: preparing the catalogue)."""
    number: int
    """The step's number within its scenario, from 1."""
    label: str
    """What happened, zh-CN with English."""
    ok: bool
    """True when the step's checks passed."""
    figures: dict[str, str] = field(default_factory=dict)
    """The figures that matter: ids, ledger indexes, states, seconds."""
    failure: str = ""
    """What failed, when not ok."""


class StepFailed(Exception):
    """A step's check failed (or the step could not be played); the message says what."""


class Reporter:
    """Prints steps as they happen: plain lines for people, JSON lines with ``--json``."""

    def __init__(self, out: TextIO, *, as_json: bool) -> None:
        self.out = out
        self.as_json = as_json
        self.steps: list[Step] = []

    def heading(self, text: str) -> None:
        """A scenario's title (people only)."""
        if not self.as_json:
            print(f"\n{text}", file=self.out, flush=True)

    def note(self, text: str) -> None:
        """A line of explanation (people only)."""
        if not self.as_json:
            print(f"  {text}", file=self.out, flush=True)

    def step(self, step: Step) -> None:
        """Record and print one step."""
        self.steps.append(step)
        if self.as_json:
            print(json.dumps(asdict(step), ensure_ascii=False), file=self.out, flush=True)
            return
        mark = "✓" if step.ok else "✗"
        name = "准备 / setup" if step.scenario == 0 else f"步骤 {step.number} / step {step.number}"
        line = f"  {mark} {name}: {step.label}"
        figures = ", ".join(f"{key} {value}" for key, value in step.figures.items())
        if figures:
            line += f"\n      {figures}"
        if step.failure:
            line += f"\n      失败 / FAILED: {step.failure}"
        print(line, file=self.out, flush=True)

    def summary(self, scenario: int, ok: bool, seconds: float) -> None:
        """A scenario's verdict."""
        record = {"scenario": scenario, "passed": ok, "seconds": round(seconds, 2)}
        if self.as_json:
            print(json.dumps({"summary": record}), file=self.out, flush=True)
        else:
            verdict = "通过 / passed" if ok else "未通过 / FAILED"
            print(f"  => 场景 {scenario} {verdict} ({seconds:.2f} s)", file=self.out, flush=True)


# --- the gateway ------------------------------------------------------------------------


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


def _rfc3339(instant: datetime) -> str:
    return instant.isoformat(timespec="seconds").replace("+00:00", "Z")


def _now() -> str:
    return _rfc3339(datetime.now(UTC))


def _consent(agent: str, given_by: str = "CONSENT_GIVER_AUTHORISED_AGENT") -> dict[str, Any]:
    return {
        "givenBy": given_by,
        "agent": {"residentId": agent},
        "method": "CONSENT_METHOD_AT_WINDOW_ID_CHECKED",
        "givenAt": _now(),
    }


def _check(condition: bool, failure: str) -> None:
    if not condition:
        raise StepFailed(failure)


def _checks_summary(verified: dict[str, Any]) -> str:
    """The VerifyLicense checks as ``NAME outcome`` pairs, short."""
    parts = []
    for check in verified.get("checks", []):
        name = str(check["check"]).removeprefix("VERIFICATION_CHECK_")
        outcome = str(check["outcome"]).removeprefix("CHECK_OUTCOME_")
        parts.append(f"{name} {outcome}".lower())
    return ", ".join(parts)


# --- the demo ---------------------------------------------------------------------------


Scenario = Callable[["Demo"], Awaitable[None]]


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
                "claims": {
                    "name": "福清示例贸易有限公司",
                    "type": "有限责任公司",
                    "legal_representative": "示例法定代表人",
                    "established_on": "2024-03-01",
                    "business_scope": "日用百货销售",
                    "address": "福建省福清市示例路1号",
                },
            },
        )
        license: dict[str, Any] = issued["license"]
        _check("ledgerIndex" in license, "the license has no ledger index: not attested")
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


# --- scenario 1 ---------------------------------------------------------------------------


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
                "consent": _consent(agent),
                "note": "申请人在窗口等候 the applicant is waiting at the window",
            },
        )
        made.update(created["request"])
        _check(made["state"] == "PROOF_REQUEST_STATE_SUBMITTED", f"state is {made['state']}")
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
        _check(seen["requestId"] == request_id, "the inbox showed another request")
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
        _check(state == "PROOF_REQUEST_STATE_ACCEPTED", f"state is {state}")
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
        _check(result["state"] == "PROOF_REQUEST_STATE_ANSWERED", f"state is {result['state']}")
        _check(bool(result["answer"].get("sdJwt")), "the answer is not signed")
        return {"outcome": "confirmed", "ledger index": result["answer"].get("ledgerIndex", "-")}

    await demo.attempt("住建局 answers: confirmed, signed by the bureau and attested", answer())
    received: dict[str, Any] = {}

    async def clerk_receives() -> dict[str, object]:
        received.update(await clerk.wait("the clerk's inbox"))
        _check(bool(received.get("answer", {}).get("sdJwt")), "no signed answer on the stream")
        return {"elapsed": f"{time.perf_counter() - started:.2f} s since the request"}

    await demo.attempt(
        "窗口 clerk receives the signed answer on the inbox stream", clerk_receives()
    )

    async def verify() -> dict[str, object]:
        answer = received["answer"]
        receipt = await demo.receipt(answer["ledgerIndex"])
        verified = await demo.verify(WINDOW_CLERK, answer["sdJwt"], receipt)
        _check(verified["valid"] is True, f"not valid: {_checks_summary(verified)}")
        return {
            "valid": "true",
            "signed by": verified["issuerDepartment"],
            "ledger index": verified.get("ledgerIndex", "-"),
            "checks": _checks_summary(verified),
        }

    await demo.attempt(
        "窗口 clerk verifies the answer with the licenses service (signature, authority, ledger)",
        verify(),
    )
    demo.reporter.note(
        f"从发起到核验完毕 request to verified answer: {time.perf_counter() - started:.2f} s "
        "(report 004: 'within minutes')"
    )


# --- scenario 2 ---------------------------------------------------------------------------


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
                "consent": _consent(agent),
            },
        )
        answered.update(created["request"])
        answer = answered.get("answer", {})
        _check(answered["state"] == "PROOF_REQUEST_STATE_ANSWERED", f"state {answered['state']}")
        _check(
            answer.get("outcome") == "PROOF_OUTCOME_CONFIRMED", f"outcome {answer.get('outcome')}"
        )
        _check(
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
        _check(verified["valid"] is True, f"not valid: {_checks_summary(verified)}")
        return {"valid": "true", "signed by": verified["issuerDepartment"]}

    await demo.attempt("窗口 clerk verifies the signed answer", verify())


# --- scenario 3 ---------------------------------------------------------------------------


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
    fulfil_by = _rfc3339(datetime.now(UTC) + timedelta(days=20))
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
                        "consent": _consent(agent, "CONSENT_GIVER_LEGAL_REPRESENTATIVE"),
                    },
                )
                request_id = created["request"]["requestId"]
                committed = await demo.gateway.call(
                    WINDOW_CLERK,
                    "POST",
                    f"/v1/proof-requests/{request_id}:recordCommitment",
                    {
                        "text": text,
                        "made": _consent(agent, "CONSENT_GIVER_LEGAL_REPRESENTATIVE"),
                        "fulfilBy": fulfil_by,
                    },
                )
                after = committed["request"]
                outcome = after.get("answer", {}).get("outcome")
                _check(outcome == "PROOF_OUTCOME_COMMITTED", f"outcome {outcome}")
                _check(
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
            _check(
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

    async def check() -> dict[str, object]:
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
        _check(state == "COMMITMENT_CHECK_STATE_FOUND_TRUE", f"check state {state}")
        return {
            "request": chosen_id,
            "check state": "found true",
            "ledger index": commitment["check"].get("ledgerIndex", "-"),
        }

    await demo.attempt("住建局 officer checks the sampled commitment and records it", check())


# --- scenario 4 ---------------------------------------------------------------------------


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
        _check(verified["valid"] is True, f"not valid: {_checks_summary(verified)}")
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
        _check(status == "LICENSE_STATUS_REVOKED", f"status {status}")
        return {"status": "revoked", "ledger index": changed["change"].get("ledgerIndex", "-")}

    await demo.attempt("福清市市场监督管理局 revokes it (撤销), attested", revoke())

    async def verify_revoked() -> dict[str, object]:
        verified = await demo.verify(QUANZHOU_CLERK, license["sdJwt"])
        status: dict[str, Any] = next(
            (c for c in verified["checks"] if c["check"] == "VERIFICATION_CHECK_STATUS"), {}
        )
        _check(verified["valid"] is False, "the revoked license still verifies")
        _check(
            status.get("outcome") == "CHECK_OUTCOME_FAILED",
            f"the status check is {status.get('outcome')}, not failed",
        )
        return {
            "valid": "false",
            "status check": f"failed: {status.get('detail', '')}",
            "signature": "still passes (the signature is genuine; the status is not)",
        }

    await demo.attempt("泉州 window verifies it again: the status check fails", verify_revoked())


# --- scenario 5 ---------------------------------------------------------------------------


def _verify_receipt_offline(receipt: Path, artefact: Path, key: str) -> tuple[int, str]:
    """``certfree ledger verify-receipt RECEIPT ARTEFACT --key KEY``, in process: exit
    status and what it printed."""
    parser = argparse.ArgumentParser(prog="certfree")
    ledger_cli.add_ledger_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["ledger", "verify-receipt", str(receipt), str(artefact), "--key", key]
    )
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        status: int = ledger_cli.run(args)
    return status, printed.getvalue().strip()


async def offline_receipt(demo: Demo) -> None:
    """An auditor verifies a license's attestation offline from a receipt file."""
    demo.begin(
        5,
        "审计: 凭存证回执离线核验 / an auditor verifies an attestation offline from a receipt",
    )
    if not demo.verifier_key:
        demo.failed(
            "审计员 auditor is given the log's verifier key",
            "not available: no --verifier-key, and the log key file is not readable here "
            "(run the demo where `certfree ledger verifier-key` works, or pass the key)",
        )
        raise StepFailed("no verifier key")
    key = demo.verifier_key
    holder = synthetic_uscc(102)
    license: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="certfree-demo-") as folder:
        receipt_file = Path(folder) / "license.tlog-proof"
        artefact_file = Path(folder) / "license.jwt"

        async def fetch() -> dict[str, object]:
            license.update(await demo.business_license(holder, f"demo-business-license-{holder}"))
            receipt_file.write_text(await demo.receipt(license["ledgerIndex"]), encoding="utf-8")
            # The ledger attests the issuer-signed JWT: the SD-JWT's part before the first "~".
            artefact_file.write_bytes(license["sdJwt"].split("~", 1)[0].encode("ascii"))
            return {
                "license": license["licenseId"],
                "ledger index": license["ledgerIndex"],
                "files": f"{receipt_file.name}, {artefact_file.name}",
            }

        await demo.attempt(
            "审计员 auditor saves a license's ledger receipt (C2SP tlog-proof) and its artefact",
            fetch(),
        )

        printed_lines: list[str] = []

        async def offline() -> dict[str, object]:
            status, printed = _verify_receipt_offline(receipt_file, artefact_file, key)
            _check(status == ledger_cli.EXIT_OK, f"exit {status}: {printed}")
            printed_lines.extend(printed.splitlines())
            return {"exit": status, "network": "none: the file, the artefact and the key only"}

        await demo.attempt("审计员 runs the offline verifier: receipt verified", offline())
        demo.reporter.note(
            "$ certfree ledger verify-receipt license.tlog-proof license.jwt --key VKEY"
        )
        for line in printed_lines:
            demo.reporter.note(f"  {line}")

        async def forged() -> dict[str, object]:
            genuine = artefact_file.read_bytes()
            artefact_file.write_bytes(genuine[:-1] + (b"A" if genuine[-1:] != b"A" else b"B"))
            status, printed = _verify_receipt_offline(receipt_file, artefact_file, key)
            _check(status == ledger_cli.EXIT_CHECK_FAILED, f"exit {status}: {printed}")
            return {"exit": status, "says": printed.splitlines()[0] if printed else ""}

        await demo.attempt("审计员 checks a forged artefact against the receipt: refused", forged())


SCENARIOS: dict[int, Scenario] = {
    1: fuqing_construction_permit,
    2: shared_business_license,
    3: accept_with_gaps,
    4: revoked_license,
    5: offline_receipt,
}
"""The scenarios by number, in the order played."""


# --- running ------------------------------------------------------------------------------


async def play(
    gateway_url: str,
    *,
    scenarios: list[int] | None = None,
    verifier_key: str | None = None,
    out: TextIO | None = None,
    as_json: bool = False,
) -> int:
    """Play `scenarios` (default all) against the gateway at `gateway_url`; the exit status."""
    reporter = Reporter(out or sys.stdout, as_json=as_json)
    chosen = scenarios or sorted(SCENARIOS)
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30.0) as client:
        try:
            ready = await client.get("/readyz")
        except httpx.HTTPError as error:
            print(
                f"certfree demo: the gateway at {gateway_url} does not answer: {error}",
                file=sys.stderr,
            )
            return EXIT_CANNOT_RUN
        if ready.status_code != 200:
            print(
                f"certfree demo: the gateway at {gateway_url} is not ready: {ready.text}",
                file=sys.stderr,
            )
            return EXIT_CANNOT_RUN
        demo = Demo(Gateway(client), reporter, verifier_key)
        if not as_json:
            print(f"certfree demo against {gateway_url} (run {demo.run_id})", file=reporter.out)
        try:
            await demo.prepare_catalogue()
        except ApiError as error:
            reporter.step(Step(0, 1, "目录就绪 catalogue ready", False, {}, str(error)))
            return EXIT_FAILED
        failed = []
        for number in chosen:
            started = time.perf_counter()
            try:
                await SCENARIOS[number](demo)
                ok = True
            except StepFailed:
                ok = False
            except (ApiError, httpx.HTTPError, KeyError) as error:
                demo.failed("(unexpected)", str(error))
                ok = False
            reporter.summary(number, ok, time.perf_counter() - started)
            if not ok:
                failed.append(number)
    if not as_json:
        verdict = "all passed" if not failed else f"FAILED: {', '.join(map(str, failed))}"
        print(f"\n场景 scenarios {', '.join(map(str, chosen))}: {verdict}", file=reporter.out)
    return EXIT_OK if not failed else EXIT_FAILED


def local_verifier_key(data_dir: Path | None) -> str | None:
    """The log's verifier key from this machine's ledger key file (as ``certfree ledger
    verifier-key`` prints it), or None when it cannot be read here."""
    from runtime.config import ConfigError, load
    from runtime.tlog.note import NoteError, Signer

    try:
        settings = load(data_dir=data_dir)
        signer = Signer.from_key_string(settings.ledger_key_path.read_text().strip())
    except (ConfigError, OSError, NoteError):
        return None
    return signer.verifier().key_string()


def add_demo_command(subparsers: Any) -> None:
    """Add ``certfree demo`` to the ``certfree`` command's subparsers."""
    demo = subparsers.add_parser(
        "demo",
        help="play the seed reports' scenarios against a running certfree (--insecure-dev)",
        description=(
            "Seed what the scenarios need (missing sample catalogue entries only) and play "
            "them through the gateway's HTTP API as the development identity, printing each "
            "step. Exit 0 when every check passed, 1 when one failed, 2 when the gateway "
            "does not answer."
        ),
    )
    demo.add_argument(
        "--gateway",
        default=DEFAULT_GATEWAY,
        metavar="URL",
        help=f"the gateway's base URL (default: {DEFAULT_GATEWAY})",
    )
    demo.add_argument(
        "--scenario",
        type=int,
        choices=sorted(SCENARIOS),
        action="append",
        metavar="N",
        help="play only scenario N (1-5); repeatable",
    )
    demo.add_argument("--json", action="store_true", help="print one JSON record per step")
    demo.add_argument(
        "--verifier-key",
        metavar="VKEY",
        help="the log's verifier key for scenario 5 (default: this machine's "
        "ledger key file, as `certfree ledger verifier-key` prints it)",
    )
    demo.add_argument(
        "--data-dir", type=Path, help="the data directory whose log key to use (CERTFREE_DATA_DIR)"
    )


def run(args: argparse.Namespace) -> int:
    """Run the parsed ``certfree demo`` command; return its exit status."""
    key = args.verifier_key or local_verifier_key(args.data_dir)
    return asyncio.run(
        play(args.gateway, scenarios=args.scenario, verifier_key=key, as_json=args.json)
    )
