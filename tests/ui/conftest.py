"""Fixtures for the page tests: the real stack on loopback, Debian's chromium, a guarded page.

One stack for the session (embedded Valkey, the three services, two gateways on port 0:
``gateway_url`` as in production, tokens only; ``dev_gateway_url`` with
``--insecure-dev``), one headless chromium from ``/usr/bin/chromium`` driven by
Playwright's async API (never ``playwright install``), and per test a fresh browser
context whose guard fails the test when a page asks for anything outside the gateway,
logs a console error, throws an uncaught error, or gets an HTTP error it did not expect.
Every test in this directory runs on the session's event loop (see
:func:`pytest_collection_modifyitems`), which the stack and the browser live on.

A page test reads like a person using the page::

    async def test_clerk_looks_up(page: Page, sign_in: SignIn, screenshot: Screenshot) -> None:
        await sign_in(page, "clerk", HOUSING_BUREAU, "window-3")
        await page.get_by_label("...").fill("...")
        await screenshot(page, "clerk")
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Playwright,
    Request,
    Response,
    Route,
    ViewportSize,
    async_playwright,
    expect,
)
from pytest_asyncio import is_async_test

from certfree.stack import Stack
from gateway.app import build_app
from gateway.server import RunningGateway, start_gateway
from runtime.config import Settings, load
from runtime.tokens import TokenKey, TokenPolicy, load_token_key

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's chromium; ``python3 dev.py test`` installs it when it is missing."""
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "pages"
"""Where ``CERTFREE_UPDATE_SCREENSHOTS=1`` writes each test's screenshot."""
UPDATE_SCREENSHOTS = "CERTFREE_UPDATE_SCREENSHOTS"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
WAIT_MS = 10_000
"""How long a page may take to show something (a loaded 2-core box)."""
expect.set_options(timeout=WAIT_MS)  # assertions wait as long as actions, not 5 s

ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    "intake": ("proofs", "licenses:read", "licenses:verify", "catalogue:read", "ledger:read"),
    "clerk": ("proofs", "licenses:read", "licenses:verify", "catalogue:read", "ledger:read"),
    "officer": ("proofs", "licenses:read", "licenses:issue", "catalogue:read", "ledger:read"),
    "issuer": ("licenses:read", "licenses:issue", "catalogue:read", "ledger:read"),
    "auditor": ("ledger:read", "licenses:read", "licenses:verify", "proofs", "catalogue:read"),
    "supervisor": ("ledger:read", "licenses:read", "licenses:verify", "proofs", "catalogue:read"),
    "operator": ("catalogue:read", "catalogue:write", "keys", "ledger:read"),
    "holder": ("licenses:read", "proofs", "ledger:read", "catalogue:read"),
}
"""The scopes :func:`mint` gives each role by default (docs/pages.md shows the same)."""

PAGE_OF_ROLE = {
    "intake": "clerk.html",
    "clerk": "clerk.html",
    "officer": "officer.html",
    "issuer": "officer.html",
    "auditor": "auditor.html",
    "supervisor": "auditor.html",
    "operator": "auditor.html",
    "holder": "holder.html",
}
"""Where sign-in takes each role (gateway/ui/app.js ROLE_PAGES)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run every async test under tests/ui on the session's loop (the stack's, the browser's)."""
    here = Path(__file__).parent
    marker = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if is_async_test(item) and here in Path(str(item.path)).parents:
            item.add_marker(marker, append=False)


# --- the stack ---------------------------------------------------------------------------


@dataclasses.dataclass
class UiStack:
    """The running stack and its two gateways."""

    stack: Stack
    gateway: RunningGateway
    """The gateway without --insecure-dev: tokens only, no role picker."""

    @property
    def settings(self) -> Settings:
        """The stack's settings (data dir, token policy)."""
        return self.stack.settings

    @property
    def url(self) -> str:
        """The tokens-only gateway's base URL."""
        return f"http://127.0.0.1:{self.gateway.port}"

    @property
    def dev_url(self) -> str:
        """The --insecure-dev gateway's base URL."""
        return self.stack.addresses()["gateway"]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def ui_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[UiStack]:
    """certfree up --insecure-dev on loopback (its own embedded Valkey), plus a second
    gateway on the same services that runs without --insecure-dev.

    The services trust the gateway's identity headers here as they do in development;
    in production mutual TLS does that. What the pages see of each gateway is exactly
    what a deployment's gateway with and without --insecure-dev shows.
    """
    settings = load(
        {},
        data_dir=tmp_path_factory.mktemp("ui-stack") / "var",
        ledger_port=0,
        licenses_port=0,
        proofs_port=0,
        gateway_port=0,
        metrics_port=0,
        grace_seconds=1.0,
        # Every day all day (but its last minute) is working time, so deadlines run while
        # the tests do, whenever they run: the officer page's red mark is reached, not
        # skipped because the suite ran at night.
        working_hours="00:00-23:59",
        working_weekdays="1-7",
    )
    stack = await Stack.start(settings, insecure_dev=True)
    try:
        addresses = stack.addresses()
        targets = {f"{name}_target": addresses[name] for name in ("ledger", "licenses", "proofs")}
        gateway_settings = dataclasses.replace(settings, **targets)  # type: ignore[arg-type]
        app = build_app(gateway_settings, store=stack.store, forward_dev_identity=False)
        gateway = await start_gateway(gateway_settings, app, port=0)
        try:
            yield UiStack(stack=stack, gateway=gateway)
        finally:
            await gateway.stop()
    finally:
        await stack.stop()


@pytest.fixture(scope="session")
def gateway_url(ui_stack: UiStack) -> str:
    """The base URL of the gateway as in production (tokens only): ``http://127.0.0.1:N``."""
    return ui_stack.url


@pytest.fixture(scope="session")
def dev_gateway_url(ui_stack: UiStack) -> str:
    """The base URL of the gateway running --insecure-dev (the role picker exists)."""
    return ui_stack.dev_url


@pytest.fixture(scope="session")
def token_key(ui_stack: UiStack) -> TokenKey:
    """The key both gateways verify tokens with (the stack's data dir's token key)."""
    return load_token_key(ui_stack.settings)


class Mint(Protocol):
    """Mint a token: ``mint(role, department, subject, scopes=None, lifetime=..., now=...)``."""

    def __call__(
        self,
        role: str,
        department: str,
        subject: str,
        *,
        scopes: Iterable[str] | None = None,
        lifetime: timedelta = ...,
        now: datetime | None = None,
    ) -> str: ...


@pytest.fixture(scope="session")
def mint(ui_stack: UiStack, token_key: TokenKey) -> Mint:
    """Mint a bearer token as ``certfree tokens issue`` does; scopes default to
    :data:`ROLE_SCOPES` of the role, the lifetime to one hour from `now` (default: now)."""
    policy = TokenPolicy.of(ui_stack.settings)

    def mint_token(
        role: str,
        department: str,
        subject: str,
        *,
        scopes: Iterable[str] | None = None,
        lifetime: timedelta = timedelta(hours=1),
        now: datetime | None = None,
    ) -> str:
        claims = policy.claims(
            department=department,
            role=role,
            subject=subject,
            scopes=ROLE_SCOPES[role] if scopes is None else scopes,
            lifetime=lifetime,
            now=now or datetime.now(UTC),
        )
        return token_key.mint(claims)

    return mint_token


# --- the browser -------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    """Playwright's driver (the browser is Debian's, never a download)."""
    async with async_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium; the session fails, saying what to install, when it is missing."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(python3 dev.py test does: apt-get install chromium)"
        )
    return CHROMIUM


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(playwright: Playwright, chromium: Path) -> AsyncIterator[Browser]:
    """Headless chromium from /usr/bin/chromium, for the whole session."""
    launched = await playwright.chromium.launch(
        executable_path=str(chromium), headless=True, args=["--no-sandbox"]
    )
    try:
        yield launched
    finally:
        await launched.close()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Guard:
    """What a page did that a page must not: every finding fails the test at teardown."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        """The gateway's origin, the only one a page may ask."""
        self.outside: list[str] = []
        """Requests to any other origin (aborted, and recorded)."""
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.http_errors: list[str] = []
        """Gateway answers >= 400 the test did not declare with :meth:`expect_http_errors`."""
        self.expected_statuses: set[int] = set()

    def expect_http_errors(self, *statuses: int) -> None:
        """Declare that the page is expected to receive these HTTP statuses (say 401)."""
        self.expected_statuses.update(statuses)

    def watch(self, context: BrowserContext, page: Page) -> None:
        """Attach the guard's listeners to `page` (and its context's routing)."""
        page.on("request", self._on_request)
        page.on("response", self._on_response)
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)

    async def route(self, route: Route) -> None:
        """Let the gateway's requests through; abort (and record) any other."""
        url = route.request.url
        if _origin(url) == self.origin or url.startswith(("data:", "blob:", "about:")):
            await route.continue_()
            return
        self._record_outside(f"{route.request.method} {url}")
        await route.abort("blockedbyclient")

    def _on_request(self, request: Request) -> None:
        url = request.url
        if _origin(url) != self.origin and not url.startswith(("data:", "blob:", "about:")):
            self._record_outside(f"{request.method} {url}")

    def _record_outside(self, entry: str) -> None:
        # The route handler and the request event both see an outside request: once.
        if entry not in self.outside:
            self.outside.append(entry)

    def _on_response(self, response: Response) -> None:
        if response.status >= 400 and response.status not in self.expected_statuses:
            self.http_errors.append(
                f"{response.request.method} {response.url} answered {response.status}"
            )

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        # chromium logs every HTTP error status as a console error; those are judged by
        # their status in _on_response, where the test may have declared them expected.
        if message.text.startswith("Failed to load resource: the server responded"):
            return
        self.console_errors.append(message.text)

    def _on_page_error(self, error: Error) -> None:
        self.page_errors.append(f"{error.name}: {error.message}")

    def findings(self) -> list[str]:
        """Everything recorded, one line each."""
        return [
            *(f"request outside the gateway: {entry}" for entry in self.outside),
            *(f"console error: {text}" for text in self.console_errors),
            *(f"uncaught page error: {text}" for text in self.page_errors),
            *(f"unexpected HTTP error: {text}" for text in self.http_errors),
        ]


async def _guarded_page(browser: Browser, base_url: str) -> AsyncIterator[tuple[Page, Guard]]:
    guard = Guard(_origin(base_url))
    context = await browser.new_context(
        base_url=base_url, viewport=VIEWPORT, locale="zh-CN", service_workers="block"
    )
    context.set_default_timeout(WAIT_MS)
    await context.route("**/*", guard.route)
    page = await context.new_page()
    guard.watch(context, page)
    try:
        yield page, guard
    finally:
        await context.close()
    findings = guard.findings()
    if findings:
        pytest.fail("the page misbehaved:\n" + "\n".join(findings), pytrace=False)


@pytest_asyncio.fixture(loop_scope="session")
async def guarded(browser: Browser, gateway_url: str) -> AsyncIterator[tuple[Page, Guard]]:
    """A fresh page on the tokens-only gateway and its guard."""
    async for pair in _guarded_page(browser, gateway_url):
        yield pair


@pytest.fixture
def page(guarded: tuple[Page, Guard]) -> Page:
    """A fresh page (own context: empty storage) on the tokens-only gateway, whose
    ``base_url`` is the gateway's, so ``page.goto("/ui/")`` works. Fails the test at
    teardown on a request outside the gateway, a console error, an uncaught error or an
    HTTP error status the test did not declare with ``guard.expect_http_errors``."""
    return guarded[0]


@pytest.fixture
def guard(guarded: tuple[Page, Guard]) -> Guard:
    """The guard of ``page``."""
    return guarded[1]


@pytest_asyncio.fixture(loop_scope="session")
async def dev_guarded(browser: Browser, dev_gateway_url: str) -> AsyncIterator[tuple[Page, Guard]]:
    """A fresh page on the --insecure-dev gateway and its guard."""
    async for pair in _guarded_page(browser, dev_gateway_url):
        yield pair


@pytest.fixture
def dev_page(dev_guarded: tuple[Page, Guard]) -> Page:
    """Like ``page``, on the gateway running --insecure-dev."""
    return dev_guarded[0]


# --- helpers -----------------------------------------------------------------------------


async def wait_ready(page: Page) -> None:
    """Wait until the page's script has drawn it (it sets ``body[data-ready]``)."""
    await page.wait_for_selector("body[data-ready='true']", state="attached")


SignIn = Callable[[Page, str, str, str], Awaitable[None]]


@pytest.fixture
def sign_in(mint: Mint) -> SignIn:
    """``await sign_in(page, role, department, subject)``: mint a token with the role's
    default scopes, paste it into the real sign-in page, press the button, and wait for
    the role's page to be drawn."""

    async def sign_in_with_token(page: Page, role: str, department: str, subject: str) -> None:
        token = mint(role, department, subject)
        await page.goto("/ui/")
        await wait_ready(page)
        await page.locator("#token").fill(token)
        async with page.expect_navigation(url=f"**/ui/{PAGE_OF_ROLE[role]}"):
            await page.locator("#token-submit").click()
        await wait_ready(page)

    return sign_in_with_token


Screenshot = Callable[[Page, str], Awaitable[bytes]]


@pytest.fixture
def screenshot() -> Screenshot:
    """``await screenshot(page, name)``: a PNG of the page (asserted non-empty); written
    to ``docs/pages/<name>.png`` when ``CERTFREE_UPDATE_SCREENSHOTS=1``."""

    async def take(page: Page, name: str) -> bytes:
        png = await page.screenshot(full_page=True)
        assert png.startswith(PNG_MAGIC) and len(png) > len(PNG_MAGIC)
        if os.environ.get(UPDATE_SCREENSHOTS) == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            (SCREENSHOTS / f"{name}.png").write_bytes(png)
        return png

    return take
