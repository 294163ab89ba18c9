"""The admin's global syntheses on the pages: starting the roll-up of a cycle, reading the
regions missing from it, approving its version after a confirmation, and its public page."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.reviews import eventually
from tests.rollups import free_cycle, published_regional_review
from tests.web_site import Site, path_of

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("worker")]


async def compiled(page: Page) -> bool:
    """Whether the roll-up's page, read again, lists a version."""
    await page.reload()
    return await page.locator("#versions").count() > 0


@needs_chromium
async def test_the_admin_starts_and_approves_a_roll_up_in_the_browser(
    page: Page, site: Site
) -> None:
    cycle = free_cycle()
    ece = await published_regional_review(site.api, site.make_account, "ECE", cycle)
    admin = await site.person("admin", name="Forum admin")
    await page.goto(path_of(await site.link(admin, "/rollups")))
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Global syntheses")
    await expect(page.get_by_role("link", name="Global syntheses")).to_have_attribute(
        "aria-current", "page"
    )
    await assert_accessible(page)

    # Errors beside the fields, with a summary.
    await page.get_by_label("Cycle").fill("2021-2022")
    await page.get_by_role("button", name="Start the roll-up").click()
    summary = page.locator(".error-summary")
    await expect(summary.get_by_role("link")).to_have_count(2)
    await expect(page.locator("#cycle-error")).to_contain_text("such as 2024-2025")
    await expect(page.locator("#title-error")).to_contain_text("Enter a title")
    await assert_accessible(page)

    await page.get_by_label("Cycle").fill(cycle)
    await page.get_by_label("Title").fill(f"Global synthesis {cycle}")
    await page.get_by_role("button", name="Start the roll-up").click()
    await expect(page.locator(".notice")).to_contain_text("The roll-up started")
    await eventually(lambda: compiled(page), deadline_s=60)
    await expect(page.locator("#regions")).to_contain_text("Economic Commission for Europe")
    await expect(page.locator(f'#regions a[href="/reports/{ece.id}"]')).to_have_count(1)
    await expect(page.locator("#missing li")).to_have_count(4)
    await expect(page.locator("#status")).to_have_text("Awaiting your approval")
    draft = await page.request.get(f"/rollups/{cycle}/versions/1.html")
    assert draft.status == 200 and f"Global synthesis {cycle}" in await draft.text()
    await assert_accessible(page)
    await screenshot(page, "rollup")

    await page.get_by_role("link", name="Approve version 1").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("approve version 1")
    await assert_accessible(page)
    await page.get_by_role("button", name="Yes, approve and publish it").click()
    await expect(page.locator(".notice")).to_contain_text("The version is approved")
    await expect(page.locator("#status")).to_have_text("Published")
    await assert_accessible(page)

    await page.get_by_role("link", name="Version 1, published").click()
    assert page.url.endswith(f"/reports/global/{cycle}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Global synthesis {cycle}")
    await assert_accessible(page)
