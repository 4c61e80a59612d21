"""The sign-in page: tokens, the dev role picker, languages, and what the pages may load."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.async_api import Browser, Error, Page, expect
from structlog.testing import capture_logs

from gateway.pages import CONTENT_SECURITY_POLICY
from runtime.tokens import TokenKey, TokenPolicy
from tests.conftest import HOUSING_BUREAU, MARKET_REGULATION
from tests.ui.conftest import (
    PAGE_OF_ROLE,
    ROLE_SCOPES,
    Guard,
    Mint,
    Screenshot,
    SignIn,
    UiStack,
    wait_ready,
)

HOLDER = "p:" + "a" * 26  # the form of a holder index token (runtime.holders)
# Each page's title and the role's name in the header, in zh-CN (the default).
LANDING = {
    "clerk": ("窗口受理", "窗口人员"),
    "officer": ("协查收件箱", "部门经办人"),
    "auditor": ("审计与监督", "审计人员"),
    "holder": ("我的证照与查询记录", "持证人"),
}
CALL_API = """async ([method, path]) => {
  const app = await import("/ui/app.js");
  try {
    return {ok: await app.api(method, path)};
  } catch (error) {
    return {name: error.name, status: error.status, code: error.code, message: error.message};
  }
}"""


async def _paste(page: Page, token: str) -> None:
    await page.goto("/ui/")
    await wait_ready(page)
    await page.locator("#token").fill(token)
    await page.locator("#token-submit").click()


class TestTokenSignIn:
    """A pasted token leads to the role's page, whose header says who is signed in."""

    async def test_each_role_lands_on_its_page(self, page: Page, sign_in: SignIn) -> None:
        """Clerk, officer, auditor and holder tokens open their own page; the header shows the
        role, the department and the subject, and the language is zh-CN."""
        for role, (title, role_name) in LANDING.items():
            subject = HOLDER if role == "holder" else f"{role}-7"
            await sign_in(page, role, HOUSING_BUREAU, subject)
            assert page.url.endswith(f"/ui/{PAGE_OF_ROLE[role]}")
            await expect(page.locator("#page-title")).to_have_text(title)
            await expect(page).to_have_title(title)
            who = page.locator("#who")
            await expect(who).to_contain_text(role_name)
            await expect(who).to_contain_text(HOUSING_BUREAU)
            await expect(who).to_contain_text(subject)
            await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    async def test_the_pasted_token_is_shown_before_sign_in(
        self, page: Page, mint: Mint, screenshot: Screenshot
    ) -> None:
        """Pasting a token shows the role, department and subject it names."""
        await page.goto("/ui/")
        await wait_ready(page)
        await expect(page.get_by_role("heading", name="使用令牌登录")).to_be_visible()
        await page.get_by_label("令牌", exact=True).fill(
            mint("officer", MARKET_REGULATION, "officer-li")
        )
        await expect(page.locator("#preview-role")).to_have_text("部门经办人 (officer)")
        await expect(page.locator("#preview-department")).to_have_text(MARKET_REGULATION)
        await expect(page.locator("#preview-subject")).to_have_text("officer-li")
        await screenshot(page, "login")

    async def test_sign_out_forgets_the_session(self, page: Page, sign_in: SignIn) -> None:
        """Sign out returns to the sign-in page, which then shows no one signed in."""
        await sign_in(page, "auditor", MARKET_REGULATION, "audit-1")
        await page.get_by_role("button", name="退出登录").click()
        await page.wait_for_url("**/ui/index.html")
        await wait_ready(page)
        await expect(page.locator("#who")).to_have_text("未登录")
        assert await page.evaluate("sessionStorage.getItem('certfree.session')") is None


class TestRefusedTokens:
    """A token the gateway refuses is said so plainly, and nobody is signed in."""

    async def test_text_that_is_no_token_is_refused_without_a_call(self, page: Page) -> None:
        """Pasting something that is not a JWT says so at once."""
        await _paste(page, "not-a-token")
        await expect(page.locator("#login-error")).to_contain_text("这不是一个令牌")
        assert page.url.endswith("/ui/")

    async def test_expired_token_shows_the_gateways_reason(
        self, page: Page, guard: Guard, mint: Mint
    ) -> None:
        """An expired token: the first API call answers 401, the page shows why and stays."""
        guard.expect_http_errors(401)
        long_ago = datetime.now(UTC) - timedelta(hours=3)
        await _paste(page, mint("clerk", HOUSING_BUREAU, "window-3", now=long_ago))
        error = page.locator("#login-error")
        await expect(error).to_contain_text("网关拒绝了此令牌")
        await expect(error).to_contain_text("the token has expired")
        assert page.url.endswith("/ui/")
        assert await page.evaluate("sessionStorage.getItem('certfree.session')") is None

    async def test_token_of_another_key_is_refused(
        self, page: Page, guard: Guard, ui_stack: UiStack
    ) -> None:
        """A well-formed token signed by a key that is not the gateway's is refused."""
        guard.expect_http_errors(401)
        stranger = TokenKey(Ed25519PrivateKey.generate())
        claims = TokenPolicy.of(ui_stack.settings).claims(
            department=HOUSING_BUREAU,
            role="clerk",
            subject="window-3",
            scopes=ROLE_SCOPES["clerk"],
            lifetime=timedelta(hours=1),
            now=datetime.now(UTC),
        )
        await _paste(page, stranger.mint(claims))
        await expect(page.locator("#login-error")).to_contain_text("signature")

    async def test_refusal_on_a_role_page_shows_a_notice(
        self, page: Page, guard: Guard, sign_in: SignIn, mint: Mint
    ) -> None:
        """When a page's API call is refused (the token expired meanwhile), api() throws
        ApiError with the gateway's status and the header tells the person to sign in again."""
        guard.expect_http_errors(401)
        await sign_in(page, "clerk", HOUSING_BUREAU, "window-3")
        expired = mint("clerk", HOUSING_BUREAU, "window-3", now=datetime.now(UTC) - timedelta(1))
        await page.evaluate(
            """token => {
              const kept = JSON.parse(sessionStorage.getItem("certfree.session"));
              sessionStorage.setItem("certfree.session", JSON.stringify({...kept, token}));
            }""",
            expired,
        )
        answer: dict[str, Any] = await page.evaluate(CALL_API, ["GET", "/v1/ledger/checkpoint"])
        assert answer["name"] == "ApiError"
        assert answer["status"] == 401
        assert answer["code"] == 16  # UNAUTHENTICATED
        assert answer["message"] == "the token has expired"
        notice = page.locator("#notice")
        await expect(notice).to_be_visible()
        await expect(notice).to_contain_text("网关拒绝了您的令牌：the token has expired")


class TestLanguages:
    """zh-CN by default; English on request, remembered across reloads and pages."""

    async def test_switch_to_english_relabels_and_persists(
        self, page: Page, sign_in: SignIn, screenshot: Screenshot
    ) -> None:
        """Choosing English relabels the page and sets <html lang>; a reload and the next
        page keep it; choosing 中文 goes back."""
        await page.goto("/ui/")
        await wait_ready(page)
        await expect(page.locator("#page-title")).to_have_text("登录")
        await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        await page.get_by_label("语言").select_option("en")
        await expect(page.locator("#page-title")).to_have_text("Sign in")
        await expect(page.get_by_label("Token", exact=True)).to_be_visible()
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        await page.reload()
        await wait_ready(page)
        await expect(page.locator("#page-title")).to_have_text("Sign in")
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        await expect(page.get_by_label("Language")).to_have_value("en")
        await screenshot(page, "login-en")
        await sign_in(page, "holder", HOUSING_BUREAU, HOLDER)
        await expect(page.locator("#page-title")).to_have_text("My licenses and who looked")
        await expect(page.locator("#who")).to_contain_text("Holder")
        await page.get_by_label("Language").select_option("zh-CN")
        await expect(page.locator("#who")).to_contain_text("持证人")
        await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


class TestDevRolePicker:
    """The role picker exists only when the gateway runs --insecure-dev."""

    async def test_absent_without_insecure_dev(self, page: Page, gateway_url: str) -> None:
        """Without --insecure-dev the picker is not in the DOM at all."""
        await page.goto("/ui/")
        await wait_ready(page)
        assert await page.locator("#dev-identity").count() == 0
        assert await page.locator("#dev-form").count() == 0
        async with httpx.AsyncClient(base_url=gateway_url) as http:
            assert (await http.get("/ui/config.json")).json() == {
                "devIdentity": False,
                "defaultLanguage": "zh-CN",
            }

    async def test_present_and_working_with_insecure_dev(
        self, dev_page: Page, screenshot: Screenshot
    ) -> None:
        """With --insecure-dev, picking a department, role and subject opens the role's page,
        and api() calls go out as that identity."""
        page = dev_page
        await page.goto("/ui/")
        await wait_ready(page)
        picker = page.locator("#dev-identity")
        await expect(picker).to_be_visible()
        await page.get_by_label("部门", exact=True).fill(MARKET_REGULATION)
        await page.get_by_label("角色", exact=True).select_option("auditor")
        await page.get_by_label("用户", exact=True).fill("audit-dev")
        await screenshot(page, "login-dev")
        async with page.expect_navigation(url="**/ui/auditor.html"):
            await page.get_by_role("button", name="以此身份进入").click()
        await wait_ready(page)
        await expect(page.locator("#who")).to_contain_text("审计人员")
        await expect(page.locator("#who")).to_contain_text("audit-dev")
        answer: dict[str, Any] = await page.evaluate(CALL_API, ["GET", "/v1/ledger/checkpoint"])
        assert "ok" in answer, answer


class TestWhatPagesMayLoad:
    """The pages send their security headers, and nothing leaves the gateway."""

    async def test_every_ui_response_has_the_security_headers(self, gateway_url: str) -> None:
        """Pages, scripts, config.json and a missing file all carry the CSP, nosniff and
        no-referrer; scripts are served as JavaScript."""
        async with httpx.AsyncClient(base_url=gateway_url) as http:
            for path, status in (
                ("/ui/", 200),
                ("/ui/index.html", 200),
                ("/ui/app.js", 200),
                ("/ui/style.css", 200),
                ("/ui/config.json", 200),
                ("/ui/no-such-page.html", 404),
            ):
                response = await http.get(path)
                assert response.status_code == status, path
                assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
                assert response.headers["x-content-type-options"] == "nosniff"
                assert response.headers["referrer-policy"] == "no-referrer"
            script = await http.get("/ui/login.js")
            assert "javascript" in script.headers["content-type"]

    async def test_root_leads_to_the_sign_in_page(self, gateway_url: str) -> None:
        """``/`` and ``/ui`` redirect to ``/ui/``."""
        async with httpx.AsyncClient(base_url=gateway_url) as http:
            for path in ("/", "/ui"):
                response = await http.get(path)
                assert response.status_code == 302
                assert response.headers["location"] == "/ui/"

    async def test_access_log_and_metrics_name_the_pages_routes(self, gateway_url: str) -> None:
        """A static file is logged and counted as ``/ui/{path}``, never by its file name."""
        async with httpx.AsyncClient(base_url=gateway_url) as http:
            with capture_logs() as logs:
                await http.get("/ui/app.js")
                await http.get("/ui/config.json")
                # The access log writes its line once the response is sent, which may be
                # after this client has read it (a file is streamed): wait for both lines.
                for _ in range(100):
                    if sum(entry["event"] == "http" for entry in logs) >= 2:
                        break
                    await asyncio.sleep(0.02)
            metrics = (await http.get("/metrics")).text
        routes = sorted(entry["route"] for entry in logs if entry["event"] == "http")
        assert routes == ["/ui/config.json", "/ui/{path}"]
        assert 'route="/ui/{path}"' in metrics

    async def test_csp_stops_a_call_to_another_origin(
        self, browser: Browser, gateway_url: str
    ) -> None:
        """A script on a page that tried to fetch another origin is stopped by the CSP
        before any request is made."""
        guard = Guard(gateway_url)
        context = await browser.new_context(base_url=gateway_url)
        try:
            await context.route("**/*", guard.route)
            page = await context.new_page()
            guard.watch(context, page)
            await page.goto("/ui/")
            await wait_ready(page)
            refused = await page.evaluate(
                """() => fetch("http://192.0.2.1/steal").then(() => "sent", e => e.name)"""
            )
        finally:
            await context.close()
        assert refused == "TypeError"
        assert guard.outside == []  # the browser never asked: the CSP refused first
        assert any("Content Security Policy" in text for text in guard.console_errors)

    async def test_guard_catches_a_request_outside_the_gateway(
        self, browser: Browser, gateway_url: str
    ) -> None:
        """The page fixture's guard records (and aborts) a navigation to another origin."""
        guard = Guard(gateway_url)
        context = await browser.new_context(base_url=gateway_url)
        try:
            await context.route("**/*", guard.route)
            page = await context.new_page()
            guard.watch(context, page)
            with contextlib.suppress(Error):  # aborted by the guard, as it should be
                await page.goto("http://192.0.2.1/")
        finally:
            await context.close()
        assert guard.outside == ["GET http://192.0.2.1/"]
        assert guard.findings()
