"""The sign-in page: tokens, the dev role picker, languages, and the pages' headers."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.conftest import HOUSING_BUREAU
from tests.ui.conftest import Screenshot, SignIn


class TestTokenSignIn:
    """A pasted token leads to the role's page, whose header says who is signed in."""

    async def test_clerk_token_lands_on_the_clerk_page(
        self, page: Page, sign_in: SignIn, screenshot: Screenshot
    ) -> None:
        """A clerk's token opens clerk.html; the header shows the role, department and subject."""
        await sign_in(page, "clerk", HOUSING_BUREAU, "window-3")
        assert page.url.endswith("/ui/clerk.html")
        await expect(page.locator("#page-title")).to_have_text("窗口受理")
        who = page.locator("#who")
        await expect(who).to_contain_text("窗口人员")
        await expect(who).to_contain_text(HOUSING_BUREAU)
        await expect(who).to_contain_text("window-3")
        await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        await screenshot(page, "clerk-placeholder")
