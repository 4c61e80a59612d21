"""The clerk console: a case, the applicant's licenses, a proof request answered live, gaps."""

from __future__ import annotations

import secrets
from pathlib import Path

from playwright.async_api import Page, expect

from certfree.demo import synthetic_resident_id, synthetic_uscc
from tests.ui.api import (
    CENTRE,
    DRAWING_REVIEW,
    HOUSING,
    call,
    issue_business_license,
)
from tests.ui.conftest import Mint, Screenshot, SignIn

VERIFICATION_ITEM = DRAWING_REVIEW
COMMITMENT_ITEM = "construction-drawing-review.accept-with-gaps"


async def _set_case(page: Page, case_reference: str, purpose: str) -> None:
    await page.get_by_label("办件编号").fill(case_reference)
    await page.get_by_label("事由").fill(purpose)
    await page.get_by_role("button", name="设定办件").click()
    await expect(page.locator("#case-current-ref")).to_have_text(case_reference)


async def _consent_by_agent(page: Page, agent: str) -> None:
    await page.get_by_label("同意人", exact=True).select_option("CONSENT_GIVER_AUTHORISED_AGENT")
    await page.get_by_label("同意人的居民身份证号码").fill(agent)
    await page.get_by_label("同意人已在窗口当面同意，我已核验其身份证件").check()


class TestMainPath:
    """A clerk looks up and verifies a license, then watches a department answer live."""

    async def test_lookup_verify_request_and_live_answer(
        self,
        page: Page,
        sign_in: SignIn,
        mint: Mint,
        gateway_url: str,
        screenshot: Screenshot,
        tmp_path: Path,
    ) -> None:
        """The license is listed and verifies; the request's answer arrives without a reload
        and downloads as the signed SD-JWT; printing shows the answer alone."""
        holder = synthetic_uscc(701)
        case_reference = f"FQ-{secrets.token_hex(3)}-SGXK"
        license = await issue_business_license(gateway_url, mint, holder)
        await sign_in(page, "clerk", CENTRE, "window-3")

        # Until the case is set nothing can be looked up.
        await expect(page.get_by_role("button", name="查询", exact=True)).to_be_disabled()
        await _set_case(page, case_reference, "建筑工程施工许可")
        await page.get_by_label("申请人证件号码").fill(holder)
        await expect(page.locator("#holder-hint")).to_have_text("统一社会信用代码，校验位正确。")
        await page.get_by_role("button", name="查询", exact=True).click()
        await expect(page.locator("#lookup-status")).to_contain_text("找到 1 本电子证照")
        row = page.locator(f"tr[data-license-id='{license['licenseId']}']")
        await expect(row).to_contain_text("营业执照")
        await expect(row).to_contain_text("福清市市场监督管理局")
        await expect(row.locator(".mark-ok")).to_have_text("有效")
        await page.get_by_role("button", name="核验 营业执照").click()
        await expect(page.locator(".clerk-verdict")).to_contain_text("核验通过")
        await expect(page.locator(".clerk-checks")).to_contain_text("签名")
        await expect(page.locator(".clerk-checks")).to_contain_text("区块链存证")

        # The missing drawing-review approval: the housing bureau must confirm it.
        await page.get_by_label("证明事项", exact=True).select_option(VERIFICATION_ITEM)
        await expect(page.locator("#proof-item-info")).to_contain_text("部门核验（证明协查）")
        await expect(page.locator("#proof-item-info")).to_contain_text("福清市住房和城乡建设局")
        await _consent_by_agent(page, synthetic_resident_id(1))
        await page.get_by_role("button", name="发起证明请求").dblclick()
        await expect(page.locator("#request-state-text")).to_have_text("已提交，等待受理")
        await expect(page.locator("#live")).to_contain_text("已连接")
        await expect(page.locator("#request-deadline .mark-ok")).to_have_text("正常")
        await expect(page.locator("#answer-outcome")).to_contain_text("等待核验部门答复")
        await screenshot(page, "clerk")
        request_id = (await page.locator("#request-id").text_content() or "").strip()
        assert request_id

        # A double click made one request, not two.
        clerk_token = mint("clerk", CENTRE, "window-3")
        listed = await call(
            gateway_url,
            clerk_token,
            "GET",
            "/v1/proof-requests?direction=REQUEST_DIRECTION_OUTGOING&pageSize=500",
        )
        mine = [r for r in listed["requests"] if r["purpose"]["caseReference"] == case_reference]
        assert [r["requestId"] for r in mine] == [request_id]

        # The housing bureau's officer accepts and answers while the page stays open.
        await page.evaluate("window.__sameDocument = true")
        officer = mint("officer", HOUSING, "zjj-officer-031")
        await call(
            gateway_url,
            officer,
            "POST",
            f"/v1/proof-requests/{request_id}:accept",
            {"note": "核验施工图审查备案"},
        )
        await expect(page.locator("#request-state-text")).to_have_text("已受理，正在核验")
        answered = await call(
            gateway_url,
            officer,
            "POST",
            f"/v1/proof-requests/{request_id}:answer",
            {
                "outcome": "PROOF_OUTCOME_CONFIRMED",
                "claims": {
                    "certificate_number": "FQSTSC-2025-0701",
                    "project_name": "福清市示例村道建设工程",
                    "passed_on": "2025-05-20",
                },
                "explanation": "施工图审查合格, 已备案",
            },
        )
        sd_jwt = answered["request"]["answer"]["sdJwt"]
        outcome = page.locator("#answer-outcome")
        await expect(outcome).to_have_text("属实（已确认）")
        await expect(page.locator("#request-state-text")).to_have_text("已答复")
        await expect(page.locator("#answer-details")).to_contain_text("FQSTSC-2025-0701")
        await expect(page.locator("#answer-details")).to_contain_text("审查合格书编号")
        assert await page.evaluate("window.__sameDocument") is True  # no reload
        await expect(page.locator("#request-view")).to_have_attribute("aria-live", "polite")
        await page.get_by_text("办理过程（全程留痕）").click()
        await expect(page.locator("#history-list li")).to_have_count(3)
        await expect(page.locator("#history-list")).to_contain_text("答复")

        # The signed answer verifies, and downloads as the SD-JWT itself.
        await page.get_by_role("button", name="核验签名答复").click()
        await expect(page.locator("#answer-verification .clerk-verdict")).to_contain_text(
            "核验通过"
        )
        await screenshot(page, "clerk-answer")
        link = page.get_by_role("link", name="下载签名答复（SD-JWT）")
        assert (await link.get_attribute("href") or "").startswith("blob:")
        async with page.expect_download() as waiting:
            await link.click()
        download = await waiting.value
        assert download.suggested_filename == f"proof-answer-{request_id}.sd-jwt"
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
        assert saved.read_text(encoding="utf-8") == sd_jwt

        # Printing: the button calls window.print(); the print stylesheet keeps the answer.
        await page.evaluate("window.print = () => { window.__printed = true; }")
        await page.get_by_role("button", name="打印答复").click()
        assert await page.evaluate("window.__printed") is True
        await page.emulate_media(media="print")
        await expect(page.locator("#lookup")).to_be_hidden()
        await expect(page.locator("#proof")).to_be_hidden()
        await expect(outcome).to_be_visible()
        await expect(page.locator("#answer-sd-jwt")).to_have_text(sd_jwt)
        await page.emulate_media(media="screen")
        await expect(page.locator("#answer-sd-jwt")).to_be_hidden()


class TestAcceptWithGaps:
    """Accept with gaps: a commitment with a due date stands in for the missing approval."""

    async def test_a_commitment_is_recorded_with_its_due_date(
        self, page: Page, sign_in: SignIn, mint: Mint, gateway_url: str
    ) -> None:
        """Recording the commitment answers the request as committed, with the due date shown
        and stored, awaiting sampling."""
        holder = synthetic_uscc(702)
        case_reference = f"FQ-{secrets.token_hex(3)}-RQ"
        await sign_in(page, "clerk", CENTRE, "window-3")
        await _set_case(page, case_reference, "建筑工程施工许可")
        await page.get_by_label("申请人证件号码").fill(holder)
        await page.get_by_label("证明事项", exact=True).select_option(COMMITMENT_ITEM)
        await expect(page.locator("#proof-item-info")).to_contain_text("告知承诺（容缺受理）")
        await expect(page.locator("#commitment-text")).to_contain_text("本单位承诺")
        await expect(page.get_by_role("button", name="发起证明请求")).to_be_hidden()
        await page.get_by_label("同意人", exact=True).select_option(
            "CONSENT_GIVER_LEGAL_REPRESENTATIVE"
        )
        await page.get_by_label("同意人的居民身份证号码").fill(synthetic_resident_id(2))
        await page.get_by_label("同意人已在窗口当面同意，我已核验其身份证件").check()
        await page.get_by_label("补交期限").fill("2099-06-30")
        await page.get_by_role("button", name="记录承诺并容缺受理").click()

        await expect(page.locator("#answer-outcome")).to_have_text("以承诺代替（容缺受理）")
        details = page.locator("#commitment-details")
        await expect(details).to_contain_text("2099")
        await expect(details).to_contain_text("等待抽查")
        await expect(page.locator("#request-deadline")).to_have_text("无（即时办理）")
        await expect(page.get_by_role("link", name="下载签名答复（SD-JWT）")).to_be_hidden()

        request_id = (await page.locator("#request-id").text_content() or "").strip()
        stored = await call(
            gateway_url,
            mint("clerk", CENTRE, "window-3"),
            "GET",
            f"/v1/proof-requests/{request_id}",
        )
        assert stored["answer"]["outcome"] == "PROOF_OUTCOME_COMMITTED"
        assert stored["commitment"]["fulfilBy"].startswith("2099-06-30")
        assert stored["purpose"]["caseReference"] == case_reference


class TestEnglish:
    """The console reads in English, with the hint and the case bar."""

    async def test_the_page_in_english(
        self, page: Page, sign_in: SignIn, screenshot: Screenshot
    ) -> None:
        """Every label switches; a wrong check digit is a hint, and an unknown holder has none."""
        await sign_in(page, "clerk", CENTRE, "window-3")
        await page.locator("#language").select_option("en")
        await expect(page.locator("#page-title")).to_have_text("Clerk console")
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        await page.get_by_label("Case number").fill("FQ-2025-000123")
        await page.get_by_label("Purpose").fill("Construction permit")
        await page.get_by_role("button", name="Set the case").click()
        await expect(page.locator("#case-current-purpose")).to_have_text("Construction permit")
        wrong = synthetic_resident_id(3)[:-1] + (
            "0" if synthetic_resident_id(3)[-1] != "0" else "1"
        )
        await page.get_by_label("Applicant's ID").fill(wrong)
        await expect(page.locator("#holder-hint")).to_contain_text("check digit is wrong")
        await page.get_by_label("Applicant's ID").fill(synthetic_resident_id(3))
        await expect(page.locator("#holder-hint")).to_have_text(
            "A resident ID; its check digit is right."
        )
        await page.get_by_role("button", name="Look up", exact=True).click()
        await expect(page.locator("#lookup-status")).to_contain_text("No licenses found")
        await page.get_by_label("Proof item", exact=True).select_option(VERIFICATION_ITEM)
        await expect(page.locator("#proof-item-info")).to_contain_text("Department verification")
        await expect(page.get_by_role("button", name="Start the proof request")).to_be_visible()
        await screenshot(page, "clerk-en")


class TestMoreInformation:
    """A department's question reaches the window live and is answered there."""

    async def test_the_clerk_answers_a_question_in_place(
        self, page: Page, sign_in: SignIn, mint: Mint, gateway_url: str
    ) -> None:
        """The officer asks for more; the page shows the question; the reply sends the
        request back to submitted."""
        await sign_in(page, "clerk", CENTRE, "window-3")
        await _set_case(page, f"FQ-{secrets.token_hex(3)}-MI", "建筑工程施工许可")
        await page.get_by_label("申请人证件号码").fill(synthetic_uscc(703))
        await page.get_by_label("证明事项", exact=True).select_option(VERIFICATION_ITEM)
        await _consent_by_agent(page, synthetic_resident_id(4))
        await page.get_by_role("button", name="发起证明请求").click()
        await expect(page.locator("#request-state-text")).to_have_text("已提交，等待受理")
        await expect(page.locator("#live")).to_contain_text("已连接")
        request_id = (await page.locator("#request-id").text_content() or "").strip()
        assert request_id

        await call(
            gateway_url,
            mint("officer", HOUSING, "zjj-officer-031"),
            "POST",
            f"/v1/proof-requests/{request_id}:askForMoreInfo",
            {"question": "请提供审查机构名称"},
        )
        await expect(page.locator("#request-state-text")).to_have_text("待补充材料")
        await expect(page.locator("#more-info")).to_contain_text("请提供审查机构名称")
        await page.get_by_label("补充说明").fill("福州示例施工图审查中心")
        await page.get_by_role("button", name="提交补充").click()
        await expect(page.locator("#request-state-text")).to_have_text("已提交，等待受理")
        await expect(page.locator("#more-info")).to_be_hidden()
