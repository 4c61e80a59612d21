"""The auditor page: verify a license or a receipt check by check (with the Merkle path
drawn), a proof request's full history, and on-time statistics as charts.

Every artefact is made through the gateway's API as the departments would make it (an
issuer issues and revokes a license, a clerk asks, an officer answers), then an auditor
of the efficiency office reads it on the page like a person: paste, click, read.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from playwright.async_api import Page, expect

from certfree.demo import synthetic_uscc
from tests.ui.api import (
    CENTRE,
    DRAWING_REVIEW,
    HOUSING,
    MARKET,
    answer_drawing_review,
    call,
    create_request,
    issue_business_license,
)
from tests.ui.conftest import Mint, Screenshot, SignIn

HOUSING_NAME = "福清市住房和城乡建设局"
EFFICIENCY = "11350181MB1234506P"  # 福清市机关效能建设领导小组办公室: supervision and audit
BUSINESS_LICENSE = "11100000000013127D001"


class Gateway:
    """The gateway's JSON API with a minted token per call, as intake systems call it."""

    def __init__(self, url: str, mint: Mint) -> None:
        self.url = url
        self.mint = mint

    async def call(
        self,
        role: str,
        department: str,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One call as `role` of `department`; the JSON answer (fails on a non-200)."""
        token = self.mint(role, department, f"{role}-test")
        answer: dict[str, Any] = await call(self.url, token, method, path, body)
        return answer

    async def issue_license(self, serial: int) -> dict[str, Any]:
        """福清市市场监督管理局 issues a business license to a synthetic enterprise."""
        return await issue_business_license(self.url, self.mint, synthetic_uscc(serial))

    async def answered_request(self) -> str:
        """A clerk's department-verification request, accepted and answered by the
        housing bureau; its ID."""
        request = await create_request(self.url, self.mint, "FQ-UI-SGXK", serial=601)
        await answer_drawing_review(self.url, self.mint, request["requestId"])
        request_id: str = request["requestId"]
        return request_id


def gateway_of(gateway_url: str, mint: Mint) -> Gateway:
    return Gateway(gateway_url, mint)


async def verify_receipt_as_auditor(api: Gateway, receipt: str) -> dict[str, Any]:
    """VerifyReceipt through the gateway's API, as the efficiency office's auditor."""
    return await api.call(
        "auditor", EFFICIENCY, "POST", "/v1/ledger/receipts:verify", {"tlogProof": receipt}
    )


async def _open_auditor(page: Page, sign_in: SignIn) -> None:
    await sign_in(page, "auditor", EFFICIENCY, "xny-auditor-05")
    await expect(page.locator("#page-title")).to_have_text("审计与监督")


async def _verify(page: Page, text: str) -> None:
    await page.get_by_label("证照（SD-JWT）或存证回执（tlog-proof）").fill(text)
    await page.get_by_role("button", name="核验", exact=True).click()


def _tamper(receipt: str) -> str:
    """The receipt with one character of its first audit-path hash changed (still base64
    of 32 bytes), so the path no longer leads to the signed root."""
    lines = receipt.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("index ")) + 1
    assert lines[at], "the receipt has no audit path to tamper with"
    first = lines[at][0]
    lines[at] = ("B" if first == "A" else "A") + lines[at][1:]
    return "\n".join(lines)


class TestVerifyLicense:
    """A pasted license is checked by the gateway and every check is shown in order."""

    async def test_valid_license_then_revoked_fails_the_status_check(
        self, page: Page, sign_in: SignIn, mint: Mint, gateway_url: str, screenshot: Screenshot
    ) -> None:
        """A fresh license passes every check; after its issuer revokes it, verifying again
        shows the status check failed (and the verdict not valid)."""
        api = gateway_of(gateway_url, mint)
        license = await api.issue_license(201)
        await _open_auditor(page, sign_in)
        await _verify(page, license["sdJwt"])
        await expect(page.locator("#detected")).to_have_text("识别为：电子证照（SD-JWT）")
        await expect(page.locator("#verdict")).to_have_text("✓ 有效")
        checks = page.locator("#checks li")
        await expect(checks).to_have_count(9)
        for i in range(9):
            await expect(checks.nth(i)).to_have_attribute("data-outcome", "PASSED")
            await expect(checks.nth(i)).to_contain_text("✓ 通过")
        await expect(page.locator("#checks li[data-check='STATUS']")).to_contain_text("证照状态")
        await expect(page.locator("#verify-result")).to_contain_text(license["licenseId"])
        await screenshot(page, "auditor-license")

        await api.call(
            "issuer",
            MARKET,
            "POST",
            f"/v1/licenses/{license['licenseId']}:changeStatus",
            {"status": "LICENSE_STATUS_REVOKED", "reason": "登记机关依法撤销登记"},
        )
        await page.get_by_role("button", name="核验", exact=True).click()
        await expect(page.locator("#verdict")).to_have_text("✗ 无效")
        status = page.locator("#checks li[data-check='STATUS']")
        await expect(status).to_have_attribute("data-outcome", "FAILED")
        await expect(status).to_contain_text("✗ 未通过")
        await expect(page.locator("#checks li[data-check='SIGNATURE']")).to_have_attribute(
            "data-outcome", "PASSED"
        )

    async def test_license_receipt_is_fetched_and_checked_against_its_jwt(
        self, page: Page, sign_in: SignIn, mint: Mint, gateway_url: str
    ) -> None:
        """From a verified license, one button fetches its ledger receipt and verifies it
        against the hash of the license's issuer-signed JWT (computed in the browser)."""
        license = await gateway_of(gateway_url, mint).issue_license(202)
        await _open_auditor(page, sign_in)
        await _verify(page, license["sdJwt"])
        await expect(page.locator("#verdict")).to_have_text("✓ 有效")
        await page.get_by_role("button", name="获取并核验该证照的账本回执").click()
        await expect(page.locator("#result-heading")).to_have_text("回执核验结果")
        jwt_hash = hashlib.sha256(license["sdJwt"].split("~", 1)[0].encode()).hexdigest()
        await expect(page.locator("#artefact-hash")).to_contain_text(jwt_hash)
        artefact = page.locator("#checks li[data-check='ARTEFACT']")
        await expect(artefact).to_have_attribute("data-outcome", "PASSED")
        await expect(page.locator("#verdict")).to_have_text("✓ 有效")


class TestVerifyReceipt:
    """A pasted receipt is checked, its Merkle path drawn step by step; a tampered one fails."""

    async def test_receipt_with_artefact_passes_and_path_is_drawn_then_tampered_fails(
        self,
        page: Page,
        sign_in: SignIn,
        mint: Mint,
        gateway_url: str,
        screenshot: Screenshot,
    ) -> None:
        """Receipt plus artefact file: no check fails, the drawing has one step per audit
        path step of the answer, the sizes and witnesses are shown; one changed character
        in the path makes a check fail."""
        api = gateway_of(gateway_url, mint)
        license = await api.issue_license(203)
        for serial in (204, 205, 206):  # a tree of several entries: a path of several steps
            await api.issue_license(serial)
        index = license["ledgerIndex"]
        receipt = (
            await api.call("auditor", EFFICIENCY, "GET", f"/v1/ledger/entries/{index}/receipt")
        )["tlogProof"]
        artefact = license["sdJwt"].split("~", 1)[0].encode("ascii")
        expected = await verify_receipt_as_auditor(api, receipt)
        steps = len(expected["auditPath"])
        assert steps >= 1

        await _open_auditor(page, sign_in)
        await page.get_by_label("被存证的文件（在本浏览器内计算 SHA-256，不上传）").set_input_files(
            {"name": "license.jwt", "mimeType": "application/jwt", "buffer": artefact}
        )
        await expect(page.locator("#artefact-hash")).to_contain_text(
            hashlib.sha256(artefact).hexdigest()
        )
        await _verify(page, receipt)
        await expect(page.locator("#detected")).to_have_text(
            "识别为：账本存证回执（C2SP tlog-proof）"
        )
        await expect(page.locator("#verdict")).to_have_text("✓ 有效")
        checks = page.locator("#checks li")
        await expect(checks).to_have_count(6)
        for name in ("FORMAT", "SIGNATURE", "ARTEFACT", "INCLUSION", "CONSISTENCY"):
            check = page.locator(f"#checks li[data-check='{name}']")
            await expect(check).to_have_attribute("data-outcome", "PASSED")
            await expect(check).to_contain_text("✓ 通过")
        await expect(page.locator("#checks li[data-outcome='FAILED']")).to_have_count(0)
        await expect(page.locator("#checks li[data-check='WITNESSES']")).to_contain_text("未检查")
        drawing = page.locator("svg#merkle-path")
        await expect(drawing.locator(".merkle-step")).to_have_count(steps)
        await expect(drawing.locator(".merkle-leaf")).to_have_count(1)
        await expect(page.locator("#merkle-root-verdict")).to_have_text("根 = 检查点根哈希 ✓")
        # Every hash box carries its full hash in a <title>.
        first_sibling = expected["auditPath"][0]["sibling"]
        sibling_hex = base64.b64decode(first_sibling).hex()
        title = drawing.locator(".merkle-step[data-step='1'] .aud-sibling title")
        await expect(title).to_contain_text(sibling_hex)
        sizes = page.locator("#checkpoint-sizes")
        await expect(sizes).to_contain_text(f"回执：{expected['checkpoint']['size']} 条")
        await expect(sizes).to_contain_text("最新：")
        await expect(page.locator("#witnesses")).to_have_text("无")
        await screenshot(page, "auditor-receipt")

        await _verify(page, _tamper(receipt))
        await expect(page.locator("#verdict")).to_have_text("✗ 无效")
        inclusion = page.locator("#checks li[data-check='INCLUSION']")
        await expect(inclusion).to_have_attribute("data-outcome", "FAILED")
        await expect(inclusion).to_contain_text("✗ 未通过")
        await expect(page.locator("#merkle-root-verdict")).to_have_text("根 ≠ 检查点根哈希 ✗")

    async def test_unrecognised_text_is_said_so_without_a_call(
        self, page: Page, sign_in: SignIn
    ) -> None:
        """Text that is neither an SD-JWT nor a tlog-proof is named as such."""
        await _open_auditor(page, sign_in)
        await _verify(page, "hello auditor")
        await expect(page.locator("#verify-result")).to_contain_text("无法识别")


class TestRequestHistory:
    """A proof request and every event of its history, as a timeline table."""

    async def test_answered_request_shows_every_event(
        self, page: Page, sign_in: SignIn, mint: Mint, gateway_url: str
    ) -> None:
        """Created, accepted, answered: each event is a row with its time, actor, action,
        state change and note, in the order the service recorded them."""
        api = gateway_of(gateway_url, mint)
        request_id = await api.answered_request()
        events = (
            await api.call("auditor", EFFICIENCY, "GET", f"/v1/proof-requests/{request_id}/events")
        )["events"]
        await _open_auditor(page, sign_in)
        await page.get_by_role("tab", name="协查请求记录").click()
        await page.get_by_label("请求编号").fill(request_id)
        await page.get_by_role("button", name="查询").click()
        await expect(page.locator("#request-heading")).to_have_text(f"请求 {request_id}")
        await expect(page.locator("#request-state")).to_have_text("已答复")
        rows = page.locator("#history-table tbody tr")
        await expect(rows).to_have_count(len(events))
        kinds = [str(e["type"]).removeprefix("PROOF_REQUEST_EVENT_TYPE_") for e in events]
        assert kinds[0] == "CREATED" and "ACCEPTED" in kinds and "ANSWERED" in kinds
        for row, kind in zip(range(len(events)), kinds, strict=True):
            await expect(rows.nth(row)).to_have_attribute("data-event", kind)
        created = page.locator("#history-table tr[data-event='CREATED']")
        await expect(created).to_contain_text("发起请求")
        await expect(created).to_contain_text("窗口人员")
        await expect(created).to_contain_text("已提交")
        accepted = page.locator("#history-table tr[data-event='ACCEPTED']")
        await expect(accepted).to_contain_text("已提交 → 已受理")
        await expect(accepted).to_contain_text(HOUSING_NAME)
        await expect(accepted).to_contain_text("核验审查备案")
        answered = page.locator("#history-table tr[data-event='ANSWERED']")
        await expect(answered).to_contain_text("已受理 → 已答复")


class TestStatistics:
    """On-time rates per department and item as bar charts, with the figures as text."""

    async def test_statistics_chart_shows_the_answering_department(
        self, page: Page, sign_in: SignIn, mint: Mint, gateway_url: str, screenshot: Screenshot
    ) -> None:
        """After the housing bureau answered a request, the department chart has a bar for
        it with its on-time rate in words, and the table has its row; English relabels."""
        await gateway_of(gateway_url, mint).answered_request()
        await _open_auditor(page, sign_in)
        tab = page.get_by_role("tab", name="监察统计")
        await tab.click()
        await expect(tab).to_have_attribute("aria-selected", "true")
        await page.get_by_role("button", name="统计", exact=True).click()
        bar = page.locator(f"#chart-departments .aud-bar-row[data-code='{HOUSING}']")
        await expect(bar).to_contain_text(HOUSING_NAME)
        await expect(bar).to_contain_text("按期")
        await expect(
            page.locator(f"#chart-items .aud-bar-row[data-code='{DRAWING_REVIEW}']")
        ).to_have_count(1)
        row = page.locator(
            f"#stats-table tr[data-department='{HOUSING}'][data-item='{DRAWING_REVIEW}']"
        )
        await expect(row).to_contain_text(HOUSING)
        await screenshot(page, "auditor-stats")

        await page.locator("#language").select_option("en")
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        await expect(page.get_by_role("tab", name="Supervision statistics")).to_be_visible()
        await expect(page.locator("#stats-result figcaption").first).to_have_text(
            "On-time rate per department"
        )
        await expect(bar).to_contain_text("on time")
        await screenshot(page, "auditor-en")


class TestKeyboardAndRoles:
    """The tabs work from the keyboard; an operator sees only what it may call."""

    async def test_arrow_keys_move_between_tabs(self, page: Page, sign_in: SignIn) -> None:
        """ArrowRight selects and focuses the next tab and shows its panel; End the last."""
        await _open_auditor(page, sign_in)
        verify = page.get_by_role("tab", name="核验证照或回执")
        await verify.focus()
        await page.keyboard.press("ArrowRight")
        history = page.get_by_role("tab", name="协查请求记录")
        await expect(history).to_be_focused()
        await expect(history).to_have_attribute("aria-selected", "true")
        await expect(page.locator("#panel-history")).to_be_visible()
        await expect(page.locator("#panel-verify")).to_be_hidden()
        await page.keyboard.press("End")
        await expect(page.get_by_role("tab", name="监察统计")).to_be_focused()
        await expect(page.locator("#panel-stats")).to_be_visible()

    async def test_operator_sees_only_the_verify_tab(self, page: Page, sign_in: SignIn) -> None:
        """Operators may verify receipts but not read histories or statistics."""
        await sign_in(page, "operator", CENTRE, "catalogue-admin")
        await expect(page.get_by_role("tab", name="核验证照或回执")).to_be_visible()
        await expect(page.get_by_role("tab", name="协查请求记录")).to_be_hidden()
        await expect(page.get_by_role("tab", name="监察统计")).to_be_hidden()
        await expect(page.locator("#panel-verify")).to_contain_text("运维人员只能核验回执")

    async def test_supervisor_reads_the_statistics(
        self, page: Page, sign_in: SignIn, mint: Mint, gateway_url: str
    ) -> None:
        """A supervisor of the service centre lands here and gets the same charts."""
        await gateway_of(gateway_url, mint).answered_request()
        await sign_in(page, "supervisor", CENTRE, "jc-supervisor-01")
        await page.get_by_role("tab", name="监察统计").click()
        await page.get_by_label("部门（统一社会信用代码）").fill(HOUSING)
        await page.get_by_role("button", name="统计", exact=True).click()
        await expect(page.locator("#chart-departments .aud-bar-row")).to_have_count(1)
        await expect(
            page.locator(f"#chart-departments .aud-bar-row[data-code='{HOUSING}']")
        ).to_contain_text(HOUSING_NAME)
