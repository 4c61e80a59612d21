"""The holder's access view: their licenses, who looked at them, and requests about them."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from runtime.holders import HolderIndex, resident_id_check_character, uscc_check_character
from runtime.secrets import load_secret
from tests.ui.api import CENTRE, call, issue_business_license, now_rfc3339
from tests.ui.conftest import ROLE_SCOPES, Guard, Mint, Screenshot, SignIn, UiStack, wait_ready

POLICE = "11350181MB1234503E"  # 福清市公安局: issues the residence permit
RESIDENCE_PERMIT = "11100000000013374L001"  # 居住证, a person's license
HOUSEHOLD_PROOF = "household-registration.proof"  # 户籍证明, answered from the residence permit
MARITAL_STATUS = "marital-status.verification"  # 婚姻状况证明, 福清市民政局 verifies
LOOKUP_PURPOSE = "户籍迁入登记 household move"
WITHOUT_CATALOGUE = tuple(s for s in ROLE_SCOPES["holder"] if s != "catalogue:read")
"""A holder token that may not read the catalogues: the page shows codes, not names."""


def resident_id() -> str:
    """A synthetic resident ID no living person holds (born 1900-01-01), unique per test."""
    first17 = f"35018119000101{secrets.randbelow(1000):03d}"
    return first17 + resident_id_check_character(first17)


@dataclass(frozen=True)
class Story:
    """What the departments did about one person before they signed in."""

    resident_id: str
    license_id: str
    case: str
    """The clerk's lookup's case reference (办件号)."""
    request_case: str
    """The proof requests' case reference."""


def _consent() -> dict[str, Any]:
    return {
        "givenBy": "CONSENT_GIVER_HOLDER",
        "method": "CONSENT_METHOD_AT_WINDOW_ID_CHECKED",
        "givenAt": now_rfc3339(),
    }


async def play_story(gateway_url: str, mint: Mint, licenses: int = 1) -> Story:
    """福清市公安局 issues residence permits to a person; a window clerk looks up their
    licenses for a case and asks for two proofs about them (as certfree demo does)."""
    person = resident_id()
    run = secrets.token_hex(3)
    issuer = mint("issuer", POLICE, "gaj-registry-01")
    clerk = mint("clerk", CENTRE, "window-07")
    license_id = ""
    for number in range(licenses):
        issued = await call(
            gateway_url,
            issuer,
            "POST",
            "/v1/licenses",
            {
                "requestId": f"holder-page-{run}-{number}",
                "licenseTypeCode": RESIDENCE_PERMIT,
                "holder": {"residentId": person},
                "claims": {
                    "name": "示例居民",
                    "sex": "女",
                    "born_on": "1900-01-01",
                    "residence_address": "福建省福清市示例路2号",
                    "household_registration_address": "福建省福清市示例村",
                },
            },
        )
        license_id = issued["license"]["licenseId"]
    case = f"FQ-{run}-HJ"
    await call(
        gateway_url,
        clerk,
        "POST",
        "/v1/licenses:listByHolder",
        {
            "holder": {"residentId": person},
            "purpose": {"purpose": LOOKUP_PURPOSE, "caseReference": case},
        },
    )
    request_case = f"FQ-{run}-ZM"
    for item in (HOUSEHOLD_PROOF, MARITAL_STATUS):
        await call(
            gateway_url,
            clerk,
            "POST",
            "/v1/proof-requests",
            {
                "clientRequestId": f"holder-page-{run}-{item}",
                "proofItemCode": item,
                "holder": {"residentId": person},
                "purpose": {
                    "purpose": "入学申请 school enrolment",
                    "caseReference": request_case,
                },
                "consent": _consent(),
            },
        )
    return Story(person, license_id, case, request_case)


@pytest_asyncio.fixture(loop_scope="session")
async def story(gateway_url: str, mint: Mint) -> AsyncIterator[Story]:
    """One person's licenses, a clerk's lookup and two proof requests about them."""
    yield await play_story(gateway_url, mint)


@pytest.fixture(scope="session")
def holder_index(ui_stack: UiStack) -> HolderIndex:
    """The stack's holder index (the key ``certfree tokens issue --holder-id`` uses)."""
    return HolderIndex(load_secret(ui_stack.settings, "holder_index_key"))


async def sign_in_as_holder(
    page: Page, mint: Mint, subject: str, *, path: str = "holder.html", catalogue: bool = True
) -> None:
    """Sign in through the real sign-in page with a holder token whose subject is `subject`."""
    scopes = ROLE_SCOPES["holder"] if catalogue else WITHOUT_CATALOGUE
    token = mint("holder", CENTRE, subject, scopes=scopes)
    await page.goto("/ui/")
    await wait_ready(page)
    await page.locator("#token").fill(token)
    async with page.expect_navigation(url="**/ui/holder.html"):
        await page.locator("#token-submit").click()
    await wait_ready(page)
    if path != "holder.html":
        await page.goto(f"/ui/{path}")
        await wait_ready(page)


async def enter_id(page: Page, value: str, label: str = "居民身份证号码或统一社会信用代码") -> None:
    """Type the ID into the form and press the button."""
    await page.get_by_label(label).fill(value)
    await page.locator("#holder-submit").click()


class TestHolderSeesTheirRecords:
    """A holder sees their licenses, every department's lookup and every request about them."""

    async def test_licenses_lookups_and_requests(
        self,
        page: Page,
        mint: Mint,
        holder_index: HolderIndex,
        story: Story,
        screenshot: Screenshot,
    ) -> None:
        """After entering their resident ID once, the three sections show the residence
        permit, the clerk's lookup with its purpose and case, and both proof requests."""
        await sign_in_as_holder(page, mint, holder_index.of_resident_id(story.resident_id))
        await expect(page.get_by_role("heading", name="这里是什么")).to_be_visible()
        await expect(page.locator(".holder-intro")).to_contain_text("不会显示任何其他人的信息")
        await enter_id(page, story.resident_id)

        await expect(page.locator("#holder-whose")).to_contain_text(story.resident_id[-4:])
        await expect(page.locator("#holder-whose")).not_to_contain_text(story.resident_id)

        licenses = page.locator("#licenses")
        row = licenses.locator("tbody tr").filter(has_text=story.license_id)
        await expect(row).to_have_count(1)
        await expect(row).to_contain_text("居住证")
        await expect(row).to_contain_text("福清市公安局")
        await expect(row.locator(".mark-ok")).to_have_text("有效")
        await expect(row).to_contain_text("至")

        accesses = page.locator("#accesses")
        lookup = accesses.locator("tbody tr").filter(has_text=story.case)
        await expect(lookup).to_have_count(1)
        await expect(lookup).to_contain_text("福清市行政服务中心管理委员会")
        await expect(lookup).to_contain_text("窗口人员")
        await expect(lookup).to_contain_text(LOOKUP_PURPOSE)
        await expect(lookup).to_contain_text("查询了您的证照")

        requests = page.locator("#requests tbody tr")
        await expect(requests.filter(has_text=story.request_case)).to_have_count(2)
        household = requests.filter(has_text="户籍证明")
        await expect(household).to_contain_text("入学申请 school enrolment")
        await expect(household).to_contain_text("福清市公安局")
        await expect(household.locator(".mark-ok")).to_have_text("已答复")
        await expect(household).to_contain_text("属实")
        await expect(household).to_contain_text("福建省福清市示例村")
        marital = requests.filter(has_text="婚姻状况证明")
        await expect(marital).to_contain_text("福清市民政局")
        await expect(marital.locator(".mark-yellow")).to_have_text("已提交，待受理")
        await expect(marital).to_contain_text("尚未答复")
        await screenshot(page, "holder")

        # The ID is remembered for the tab: a reload shows the records without asking.
        await page.reload()
        await wait_ready(page)
        await expect(page.locator("#holder-ask")).to_be_hidden()
        await expect(licenses.locator("tbody tr").filter(has_text=story.license_id)).to_have_count(
            1
        )

    async def test_in_english(
        self,
        page: Page,
        mint: Mint,
        holder_index: HolderIndex,
        story: Story,
        screenshot: Screenshot,
    ) -> None:
        """Every label of the page, the statuses and the roles read in English."""
        await sign_in_as_holder(page, mint, holder_index.of_resident_id(story.resident_id))
        await page.get_by_label("语言").select_option("en")
        await expect(page.get_by_role("heading", name="What this page shows")).to_be_visible()
        await enter_id(page, story.resident_id, "Resident ID or unified social credit code (USCC)")
        await expect(page.get_by_role("heading", name="My licenses", exact=True)).to_be_visible()
        await expect(page.get_by_role("heading", name="Who looked at my data")).to_be_visible()
        await expect(page.get_by_role("heading", name="Requests about me")).to_be_visible()
        row = page.locator("#licenses tbody tr").filter(has_text=story.license_id)
        await expect(row.locator(".mark-ok")).to_have_text("Valid")
        lookup = page.locator("#accesses tbody tr").filter(has_text=story.case)
        await expect(lookup).to_contain_text("Window clerk")
        await expect(lookup).to_contain_text("Looked up your licenses")
        household = page.locator("#requests tbody tr").filter(has_text="户籍证明")
        await expect(household.locator(".mark-ok")).to_have_text("Answered")
        await expect(household).to_contain_text("Confirmed")
        await expect(page.locator("#holder-whose")).to_contain_text("Showing the records of ID")
        await screenshot(page, "holder-en")
        # Back to Chinese: the drawn rows follow without a reload.
        await page.get_by_label("Language").select_option("zh-CN")
        await expect(row.locator(".mark-ok")).to_have_text("有效")
        await expect(lookup).to_contain_text("窗口人员")


class TestOnlyTheirOwn:
    """Another person's ID is refused with a clear message, and nothing of theirs is shown."""

    async def test_another_persons_id_shows_the_mismatch(
        self,
        page: Page,
        guard: Guard,
        mint: Mint,
        holder_index: HolderIndex,
        story: Story,
        gateway_url: str,
    ) -> None:
        """Entering someone else's resident ID: the services answer 403 HOLDER_MISMATCH and
        the page says the ID is not the one the sign-in is for, showing no records."""
        guard.expect_http_errors(403)
        other = await play_story(gateway_url, mint)
        while other.resident_id == story.resident_id:  # one chance in a thousand
            other = await play_story(gateway_url, mint)
        await sign_in_as_holder(page, mint, holder_index.of_resident_id(story.resident_id))
        await enter_id(page, other.resident_id)
        error = page.locator("#holder-error")
        await expect(error).to_have_text(
            "此证件号码不是您本次登录所对应的身份。您只能查看您本人的记录，请输入您自己的证件号码。"
        )
        await expect(page.locator("#holder-records")).to_be_hidden()
        await expect(page.get_by_text(other.license_id)).to_have_count(0)
        assert await page.evaluate("sessionStorage.getItem('certfree.holder.id')") is None
        await page.get_by_label("语言").select_option("en")
        await expect(error).to_have_text(
            "This ID is not the one your sign-in is for. "
            "You can see only your own records: please enter your own ID."
        )
        # Their own ID then works.
        await enter_id(page, story.resident_id, "Resident ID or unified social credit code (USCC)")
        await expect(error).to_be_hidden()
        await expect(
            page.locator("#licenses tbody tr").filter(has_text=story.license_id)
        ).to_have_count(1)

    async def test_text_that_is_no_id_is_refused_without_a_call(
        self, page: Page, sign_in: SignIn, holder_index: HolderIndex, story: Story
    ) -> None:
        """Something that is not 18 characters of an ID is refused at once."""
        await sign_in(page, "holder", CENTRE, holder_index.of_resident_id(story.resident_id))
        await enter_id(page, "12345")
        await expect(page.locator("#holder-error")).to_contain_text("这不是 18 位")
        await expect(page.locator("#holder-records")).to_be_hidden()

    async def test_other_roles_are_sent_to_sign_in(self, page: Page, sign_in: SignIn) -> None:
        """A clerk opening the holder page is told it is for holders; no form, no call."""
        await sign_in(page, "clerk", CENTRE, "window-07")
        await page.goto("/ui/holder.html")
        await wait_ready(page)
        await expect(page.locator("#holder-wrong-role")).to_be_visible()
        await expect(page.locator("#holder-ask")).to_be_hidden()


class TestPagesAndCodes:
    """The page pages where the API pages, and shows codes when it may not read names."""

    async def test_next_and_previous_page(
        self, page: Page, mint: Mint, holder_index: HolderIndex, gateway_url: str
    ) -> None:
        """With one license a page, two licenses take two pages; without catalogue:read the
        license type and issuer are shown by code."""
        story = await play_story(gateway_url, mint, licenses=2)
        await sign_in_as_holder(
            page,
            mint,
            holder_index.of_resident_id(story.resident_id),
            path="holder.html?pageSize=1",
            catalogue=False,
        )
        await enter_id(page, story.resident_id)
        licenses = page.locator("#licenses")
        await expect(licenses.locator("tbody tr")).to_have_count(1)
        await expect(licenses.locator(".holder-page")).to_have_text("第 1 页")
        row = await licenses.locator("tbody tr").inner_text()
        assert RESIDENCE_PERMIT in row and POLICE in row
        number = licenses.locator("tbody tr td:nth-child(2) code")
        first = await number.inner_text()
        await licenses.get_by_role("button", name="下一页").click()
        await expect(licenses.locator(".holder-page")).to_have_text("第 2 页")
        await expect(number).not_to_have_text(first)
        await licenses.get_by_role("button", name="上一页").click()
        await expect(licenses.locator(".holder-page")).to_have_text("第 1 页")
        await expect(number).to_have_text(first)


class TestOrganisations:
    """A company signs in the same way with its USCC and sees its own licenses."""

    async def test_company_sees_its_business_license(
        self, page: Page, mint: Mint, holder_index: HolderIndex, gateway_url: str
    ) -> None:
        """The token's o: subject makes the page name the holder by USCC."""
        first17 = f"91350181MA{secrets.randbelow(10**7):07d}"
        uscc = first17 + uscc_check_character(first17)
        license = await issue_business_license(gateway_url, mint, uscc)
        await sign_in_as_holder(page, mint, holder_index.of_uscc(uscc))
        await enter_id(page, uscc.lower())
        row = page.locator("#licenses tbody tr").filter(has_text=license["licenseId"])
        await expect(row).to_contain_text("营业执照")
        await expect(row).to_contain_text("长期有效")
        await expect(page.locator("#accesses")).to_contain_text("还没有部门查询过您的证照")
        await expect(page.locator("#requests")).to_contain_text("还没有与您有关的证明协查")
