"""The report's approval by two parties in the browser: the secretariat names them on the edit
form, the commission's lead approves, the co-chair finds the report on its tasks and sends it
back, and once both approved the new version in turn it is published."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser import assert_accessible, needs_chromium
from tests.reviews import eventually
from tests.test_reviews_api import create_review
from tests.test_web_invitations import secretariat
from tests.web_site import Site, path_of

pytestmark = [pytest.mark.usefixtures("worker"), pytest.mark.slow]


async def signed_in(page: Page, site: Site, account: Any, path: str) -> None:
    """`page` signed in as `account` by its link, at `path`."""
    await page.goto(path_of(await site.link(account, path)))
    await page.get_by_role("button", name="Continue").click()


async def approve(page: Page, button: str, outcome: str) -> None:
    """Approve the version the report page shows, from it; `outcome`: what it then says."""
    await page.get_by_role("button", name=button).click()
    await assert_accessible(page)
    await page.get_by_role("button", name=button).click()
    await expect(page.get_by_role("status")).to_contain_text(outcome)
    await assert_accessible(page)


@needs_chromium
async def test_two_approvers_in_turn_with_a_change_request(page: Page, site: Site) -> None:
    runs = await secretariat(site)
    lead = await site.person("secretariat", regions=("ECE",), name="Commission lead")
    co_chair = await site.person("approver", regions=("ECE",), name="Network co-chair")
    review = await create_review(site.api, runs, stakeholders=[], title="Review with a chain")
    review_id = review["id"]
    report = f"/reviews/{review_id}/report"

    await signed_in(page, site, runs, f"/reviews/{review_id}/edit")
    await expect(page.get_by_role("heading", name="Approvers of the report")).to_be_visible()
    await assert_accessible(page)
    await page.get_by_label("Approver 1", exact=True).select_option(
        label="Commission lead (Secretariat)"
    )
    await page.get_by_label("Position of approver 1 (optional)").fill("Executive Secretary")
    await page.get_by_label("Approver 2", exact=True).select_option(
        label="Network co-chair (UN Network on Migration)"
    )
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_role("status")).to_contain_text("Your changes were saved.")
    await assert_accessible(page)

    for _ in range(3):  # the call, the consultation, then the compilation and approval
        advanced = await site.api.post(
            f"/v1/reviews/{review_id}/advance", json={}, headers=runs.headers
        )
        assert advanced.status == 200, await advanced.text()
    assert (await advanced.json())["phase"] == "approval"

    async with site.other_page(page) as first:
        await signed_in(first, site, lead, report)
        await expect(first.locator("#approvers")).to_contain_text("Their turn")
        await expect(first.get_by_text("Version 1 awaits your decision.")).to_be_visible()
        await assert_accessible(first)
        await approve(first, "Approve", "It now awaits the next approver")

    async with site.other_page(page) as second:
        await signed_in(second, site, co_chair, "/tasks")
        task = second.get_by_role("link", name="Approve the report of Review with a chain")
        await expect(task).to_be_visible()
        await assert_accessible(second)
        await task.click()
        await expect(second.get_by_text("Version 1 awaits your decision.")).to_be_visible()
        await assert_accessible(second)
        await second.get_by_role("button", name="Request changes").click()
        await assert_accessible(second)
        await second.locator("#note").fill("Name the Network's regional work plan")
        await second.get_by_role("button", name="Send the report back for changes").click()
        await expect(second.get_by_role("status")).to_contain_text("Version 2 is being compiled")
        await assert_accessible(second)

    async def compiled() -> bool:
        """Version 2 is compiled and awaits its approvers (asked of the API: reloading a
        page in a loop races the browser's own navigation)."""
        answer = await site.api.get(f"/v1/reviews/{review_id}/approvals", headers=runs.headers)
        chain = await answer.json()
        return bool(chain["version"] == 2 and chain["phase"] == "approval")

    await eventually(compiled, deadline_s=60)
    async with site.other_page(page) as first:
        await signed_in(first, site, lead, report)
        await expect(first.get_by_text("Version 2 awaits your decision.")).to_be_visible()
        # The new version needs every approval again, from the first.
        await expect(first.locator("#approvers")).not_to_contain_text("Approved")
        await assert_accessible(first)
        await approve(first, "Approve", "It now awaits the next approver")

    async with site.other_page(page) as second:
        await signed_in(second, site, co_chair, report)
        await expect(second.get_by_text("Version 2 awaits your decision.")).to_be_visible()
        await approve(second, "Approve and publish", "Version 2 was approved and published")

    await page.goto(f"/reports/{review_id}")
    await expect(
        page.get_by_role("heading", name=re.compile("Review with a chain"))
    ).to_be_visible()
    await expect(page.locator("main")).to_contain_text(re.compile(r"Published.*Version\s*2", re.S))
    await assert_accessible(page)
