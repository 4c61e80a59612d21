"""The officer inbox: open requests by deadline with their marks, live arrivals, and the
officer's steps (accept, answer, reject, ask for more information) through the page."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.async_api import Page, expect

from services.proofs.deadlines import WorkingCalendar
from tests.ui.api import CENTRE, CIVIL_AFFAIRS, DRAWING_REVIEW, HOUSING, call, create_request
from tests.ui.conftest import Guard, Mint, Screenshot, SignIn, UiStack

CENTRE_NAME = "福清市行政服务中心管理委员会"
DRAWING_REVIEW_NAME = "施工图设计文件审查合格证明"
SLA_ITEM = "ui-officer.warning-from-the-start"
"""A department verification item whose warning is longer than its limit: yellow at once."""
SLA_WAIT_MS = 20_000
"""The sweeper runs every 5 s; a loaded 2-core box may take a few rounds."""


def _case() -> str:
    return f"FQ-UI-{uuid.uuid4().hex[:8].upper()}"


async def _create(
    gateway_url: str, mint: Mint, case: str, item: str = DRAWING_REVIEW
) -> dict[str, Any]:
    """A window clerk starts a proof request through the API, as certfree/demo does."""
    return await create_request(gateway_url, mint, case, serial=301, item=item)


async def _clerk_call(gateway_url: str, mint: Mint, path: str, body: dict[str, Any]) -> None:
    await call(gateway_url, mint("clerk", CENTRE, "window-3"), "POST", path, body)


async def _stored(gateway_url: str, mint: Mint, request_id: str) -> dict[str, Any]:
    token = mint("clerk", CENTRE, "window-3")
    found: dict[str, Any] = await call(
        gateway_url, token, "GET", f"/v1/proof-requests/{request_id}"
    )
    return found


async def _open_inbox(page: Page, sign_in: SignIn, department: str) -> None:
    await sign_in(page, "officer", department, "officer-li")
    await expect(page.locator("#live-status")).to_have_text("● 实时更新已连接")


def _row(page: Page, case: str) -> Any:
    return page.locator("#request-rows tr", has_text=case)


class TestAnsweringARequest:
    """A request a clerk starts appears live; the officer accepts and answers it, signed."""

    async def test_arrives_live_is_accepted_and_answered(
        self,
        page: Page,
        sign_in: SignIn,
        mint: Mint,
        gateway_url: str,
        screenshot: Screenshot,
    ) -> None:
        """With the page open, a new department verification shows up without a reload
        (announced), with its item, department, case, state and an on-time mark; accepting
        and answering CONFIRMED shows ANSWERED and the signed answer with its claims."""
        await _open_inbox(page, sign_in, HOUSING)
        case = _case()
        made = await _create(gateway_url, mint, case)

        row = _row(page, case)
        await expect(row).to_be_visible()
        for text in (DRAWING_REVIEW_NAME, CENTRE_NAME, "待受理", "正常"):
            await expect(row).to_contain_text(text)
        await expect(row.locator(".mark-ok")).to_have_text("正常")
        await expect(page.locator("#live")).to_contain_text(f"新的协查请求：{DRAWING_REVIEW_NAME}")
        await expect(page.locator("#live")).to_contain_text(case)

        await page.get_by_role("button", name=f"查看请求 {case}").click()
        detail = page.locator("#detail")
        await expect(detail).to_be_visible()
        await expect(page.locator("#detail-state")).to_have_text("待受理")
        await expect(detail).to_contain_text(made["requestId"])
        await expect(page.locator("#history-rows")).to_contain_text("发起")
        # Only the moves SUBMITTED allows: no answer before acceptance.
        await expect(page.locator("#actions button")).to_have_text(
            ["受理", "退回…", "要求补充材料…"]
        )

        await page.get_by_role("button", name="受理", exact=True).click()
        await expect(page.locator("#detail-state")).to_have_text("已受理")
        await expect(page.locator("#action-done")).to_have_text("已受理，可以答复了。")
        await expect(page.locator("#actions button")).to_have_text(
            ["答复…", "退回…", "要求补充材料…"]
        )
        await expect(page.locator("#history-rows")).to_contain_text("officer-li")

        await page.get_by_role("button", name="答复…").click()
        await expect(page.get_by_role("radio", name="属实", exact=True)).to_be_checked()
        await page.get_by_label("审查合格书编号").fill("FQSTSC-2025-0042")
        await page.get_by_label("工程名称").fill("福清市示例村道建设工程")
        await page.get_by_label("审查合格日期").fill("2025-05-20")
        await page.get_by_label("说明").fill("施工图审查合格，已备案")
        await screenshot(page, "officer")
        await page.get_by_role("button", name="签名并答复").click()

        await expect(page.locator("#detail-state")).to_have_text("已答复")
        await expect(page.locator("#action-done")).to_have_text("已答复，签名答复见下方。")
        answer = page.locator("#answer")
        await expect(answer).to_be_visible()
        await expect(page.locator("#answer-outcome")).to_have_text("属实")
        stored = await _stored(gateway_url, mint, made["requestId"])
        assert stored["state"] == "PROOF_REQUEST_STATE_ANSWERED"
        await expect(page.get_by_label("签名答复（SD-JWT）")).to_have_value(
            stored["answer"]["sdJwt"]
        )
        decoded = page.locator("#decoded-claims")
        await expect(decoded).to_contain_text("urn:certfree:proof-answer:v1")
        await expect(decoded).to_contain_text(HOUSING)
        await expect(decoded).to_contain_text("certificate_number（选择性披露）")
        await expect(decoded).to_contain_text("FQSTSC-2025-0042")
        await expect(decoded).to_contain_text(case)
        await expect(page.locator("#history-rows")).to_contain_text("已受理 → 已答复")
        await expect(row).to_have_count(0)  # answered: no longer open
        await expect(page.locator("#actions button")).to_have_count(0)
        await screenshot(page, "officer-answered")

        await page.get_by_label("语言").select_option("en")
        await expect(page.locator("#page-title")).to_have_text("Officer inbox")
        await expect(page.locator("#inbox-heading")).to_have_text("Open proof requests")
        await expect(page.locator("#detail-state")).to_have_text("Answered")
        await expect(page.locator("#answer-outcome")).to_have_text("Confirmed")
        await expect(page.locator("#live-status")).to_have_text("● Live updates on")
        await expect(page.get_by_label("Signed answer (SD-JWT)")).to_be_visible()
        await expect(page.locator("#history-rows")).to_contain_text("Accepted → Answered")
        await screenshot(page, "officer-en")


class TestRejectingAndAsking:
    """The officer rejects with a reason, asks for more information, and sees API refusals."""

    async def test_reject_with_a_reason(
        self, page: Page, sign_in: SignIn, mint: Mint, gateway_url: str
    ) -> None:
        """A request listed from the backlog is rejected with a kind and a reason; it leaves
        the open list and its detail and history show the reason."""
        case = _case()
        await _create(gateway_url, mint, case)
        await _open_inbox(page, sign_in, HOUSING)
        await expect(_row(page, case)).to_contain_text("待受理")
        await page.get_by_role("button", name=f"查看请求 {case}").click()
        await page.get_by_role("button", name="退回…").click()
        await page.get_by_label("退回类别").select_option(label="请求有误")
        await page.get_by_label("退回原因", exact=True).fill("建设单位名称与施工图审查备案不一致")
        await page.get_by_role("button", name="确认退回").click()
        await expect(page.locator("#detail-state")).to_have_text("已退回")
        await expect(page.locator("#detail")).to_contain_text(
            "请求有误：建设单位名称与施工图审查备案不一致"
        )
        await expect(page.locator("#history-rows")).to_contain_text("待受理 → 已退回")
        await expect(page.locator("#actions button")).to_have_count(0)
        await expect(_row(page, case)).to_have_count(0)

    async def test_ask_for_more_info_then_the_reply_arrives_live(
        self, page: Page, guard: Guard, sign_in: SignIn, mint: Mint, gateway_url: str
    ) -> None:
        """Asking a question moves the request to NEEDS_MORE_INFO with no step left for the
        officer; the clerk's reply comes back live (SUBMITTED again, the answer shown); an
        answer the API refuses (CONFIRMED without its claims) is shown in words."""
        guard.expect_http_errors(400)
        await _open_inbox(page, sign_in, HOUSING)
        case = _case()
        made = await _create(gateway_url, mint, case)
        await page.get_by_role("button", name=f"查看请求 {case}").click()
        await page.get_by_role("button", name="要求补充材料…").click()
        await page.get_by_label("需要窗口补充的内容").fill("请提供施工图审查合格书编号")
        await page.get_by_role("button", name="发送").click()
        await expect(page.locator("#detail-state")).to_have_text("待补充材料")
        await expect(page.locator("#more-info")).to_contain_text("问：请提供施工图审查合格书编号")
        await expect(page.locator("#more-info")).to_contain_text("等待窗口答复")
        await expect(page.locator("#actions button")).to_have_count(0)
        await expect(page.locator("#action-note")).to_contain_text("已要求补充材料")
        await expect(_row(page, case)).to_contain_text("待补充材料")

        await _clerk_call(
            gateway_url,
            mint,
            f"/v1/proof-requests/{made['requestId']}:supplyMoreInfo",
            {"reply": "审查合格书编号 FQSTSC-2025-0042"},
        )
        await expect(page.locator("#detail-state")).to_have_text("待受理")
        await expect(page.locator("#more-info")).to_contain_text(
            "答：审查合格书编号 FQSTSC-2025-0042"
        )
        await expect(page.locator("#live")).to_contain_text(f"办件 {case}：补充材料")
        await expect(_row(page, case)).to_contain_text("待受理")

        await page.get_by_role("button", name="受理", exact=True).click()
        await expect(page.locator("#detail-state")).to_have_text("已受理")
        await page.get_by_role("button", name="答复…").click()
        await page.get_by_role("button", name="签名并答复").click()
        error = page.locator("#action-error")
        await expect(error).to_contain_text("出错了：")
        await expect(error).to_contain_text("claims.certificate_number")
        await expect(page.locator("#detail-state")).to_have_text("已受理")


class TestDeadlineMarks:
    """Each open request shows its SLA mark in words and colour."""

    async def test_warning_mark_in_words(
        self,
        page: Page,
        sign_in: SignIn,
        mint: Mint,
        gateway_url: str,
        ui_stack: UiStack,
    ) -> None:
        """A request whose item warns earlier than its limit is yellow from the start: the
        row says 黄牌 in .mark-yellow. During working hours its one-second limit also runs
        out, and the sweeper's red mark (红牌, .mark-red) arrives live. The test stack works
        all day but the last minute of each day (tests/ui/conftest.py); only in that minute
        does the deadline wait for the next working period, and only yellow is checked."""
        operator = mint("operator", CENTRE, "catalogue-admin")
        async with httpx.AsyncClient(base_url=gateway_url) as http:
            base = await http.get(
                f"/v1/proof-items/{DRAWING_REVIEW}", headers={"authorization": f"Bearer {operator}"}
            )
            item = {k: v for k, v in base.json().items() if k not in ("revision", "updatedAt")}
            item.update(
                code=SLA_ITEM,
                name="测试用：即时预警的核验事项",
                authoritativeDepartments=[CIVIL_AFFAIRS],
                deadline={"workingTime": "1s"},
                warningBefore="3600s",
            )
            put = await http.put(
                f"/v1/proof-items/{SLA_ITEM}",
                headers={"authorization": f"Bearer {operator}"},
                json=item,
            )
            assert put.status_code == 200, put.text
        settings = ui_stack.settings
        calendar = WorkingCalendar.from_config(
            hours=settings.working_hours,
            weekdays=settings.working_weekdays,
            holidays=settings.holidays,
            workdays=settings.makeup_workdays,
            zone=settings.time_zone,
        )
        now = datetime.now(UTC)
        working = calendar.is_working_instant(now) and calendar.is_working_instant(
            now + timedelta(seconds=30)
        )
        case = _case()
        made = await _create(gateway_url, mint, case, item=SLA_ITEM)
        assert made["slaMark"] in ("SLA_MARK_WARNING", "SLA_MARK_OVERDUE")
        await _open_inbox(page, sign_in, CIVIL_AFFAIRS)
        row = _row(page, case)
        await expect(row).to_contain_text("测试用：即时预警的核验事项")
        if not working:
            await expect(row.locator(".mark-yellow")).to_have_text("黄牌 · 临近期限")
            return
        await expect(row.locator(".mark-red")).to_contain_text("红牌 · 已超期", timeout=SLA_WAIT_MS)
