"""Drafting and clearance within a State on the pages: a focal point puts colleagues on its
team, a drafter writes and saves, the clearing officer clears, the focal point sends; and the
issue's scenario in a real browser."""

from __future__ import annotations

import re
import secrets
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests import documents
from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.reviews import MAIL_DEADLINE_S, eventually
from tests.test_reviews_api import create_review, open_call
from tests.test_web_reviews import post_document
from tests.web_site import LINK, Site, path_of, text_of

pytestmark = pytest.mark.usefixtures("worker")


async def signed_in_by(page: Page, link: str) -> None:
    """`page` signed in by the sign-in or invitation `link`."""
    await page.goto(path_of(link))
    await page.get_by_role("button", name="Continue").click()


async def add_drafter(page: Page, name: str, email: str) -> None:
    await page.get_by_label("Full name").fill(name)
    await page.get_by_label("Email address").fill(email)
    await page.get_by_role("button", name="Add the drafter").click()
    await expect(page.locator(".notice")).to_contain_text("The drafter is on your team")


async def put_a_team(page: Page) -> tuple[str, str]:
    """On the team page: Dana Drafter and Olga Officer added as drafters, Olga named the
    clearing officer. Their addresses are the test's own: a drafter of the same country and
    address is one account, whose invitation from another test holds a link already used."""
    tag = secrets.token_hex(4)
    dana, olga = f"dana.{tag}@interior.example.org", f"olga.{tag}@foreign.example.org"
    await add_drafter(page, "Dana Drafter", dana)
    await add_drafter(page, "Olga Officer", olga)
    await page.get_by_label("Olga Officer").check()
    await page.get_by_role("button", name="Save the clearing officer").click()
    await expect(page.locator(".notice")).to_contain_text("The clearing officer is saved")
    return dana, olga


def other(site: Site, page: Page) -> AbstractAsyncContextManager[Page]:
    return site.other_page(page)


async def mail_text(site: Site, address: str, subject: str) -> str | None:
    """The text of the mail to `address` whose subject starts with `subject`, once sent."""
    for message in await site.mails_to(address):
        # A long subject is folded: its text may start after a line break.
        if str(message["Subject"]).strip().startswith(subject):
            return text_of(message)
    return None


async def invited_link(site: Site, address: str) -> str:
    """The sign-in link of the account's invitation mailed to `address`."""
    text = await eventually(
        lambda: mail_text(site, address, "An account was made for you"),
        deadline_s=MAIL_DEADLINE_S,
    )
    found = LINK.search(text)
    assert found is not None
    return found.group(0)


@pytest.mark.slow
@needs_chromium
async def test_a_team_of_three_drafts_clears_and_sends_a_national_report_in_a_browser(
    page: Page, site: Site, api: Any, ece_secretariat: Any
) -> None:
    review = await create_review(api, ece_secretariat, member_states=["DEU"], stakeholders=[])
    await open_call(api, ece_secretariat, review["id"])
    team_path = f"/reviews/{review['id']}/team"
    germany = await site.person("focal_point", country="DEU", regions=("ECE",))
    # The focal point began the report: all of it but the contact.
    await site.sign_in(germany)
    prepared = documents.national_report("DEU")
    del prepared["contact"]
    assert (await post_document(site, review["id"], prepared, button="_save")).status == 303

    # The focal point puts two colleagues on the team, and names one the clearing officer.
    await signed_in_by(page, await site.link(germany, team_path))
    await expect(page).to_have_url(re.compile(f"{team_path}$"))
    await assert_accessible(page)
    await page.get_by_role("button", name="Add the drafter").click()
    summary = page.locator(".error-summary")
    await expect(summary).to_contain_text("Enter the drafter's name")
    await summary.get_by_role("link", name="Enter the drafter's email address").click()
    await expect(page.locator("#email")).to_be_focused()
    await assert_accessible(page)
    dana, olga = await put_a_team(page)
    await assert_accessible(page)
    await screenshot(page, "national-report-team")

    # The drafter, from the invitation mailed to them, writes the contact and saves.
    async with other(site, page) as drafter:
        await signed_in_by(drafter, await invited_link(site, dana))
        await drafter.goto(f"/reviews/{review['id']}/submit")
        await expect(drafter.get_by_role("button", name="Send your national report")).to_have_count(
            0
        )
        await drafter.locator("#f-contact-name").fill("Dana Drafter")
        await drafter.locator("#f-contact-email").fill(dana)
        await drafter.get_by_role("button", name="Save draft").click()
        await expect(drafter.locator(".notice")).to_contain_text("Your draft was saved")
        await drafter.locator("#team-link").click()
        await drafter.get_by_role("button", name="Send for clearance").click()
        await expect(drafter.locator(".notice")).to_contain_text("sent for clearance")
        await expect(drafter.locator("#clearance-status")).to_contain_text("waiting")
        await assert_accessible(drafter)

    # Before clearance the focal point cannot send, and is told why.
    await page.goto(f"/reviews/{review['id']}/submit")
    await page.get_by_role("button", name="Send your national report").click()
    await expect(page.locator(".error-summary")).to_contain_text(
        "Your country's team clears the national report before it is sent."
    )

    # The clearing officer is told by mail, reads the latest revision and clears it.
    asked = await eventually(
        lambda: mail_text(site, olga, "National report sent for clearance"),
        deadline_s=MAIL_DEADLINE_S,
    )
    assert team_path in asked and "Dana Drafter" in asked
    async with other(site, page) as officer:
        await signed_in_by(officer, await invited_link(site, olga))
        await officer.goto(team_path)
        await expect(officer.locator("#history")).to_contain_text("Dana Drafter")
        await officer.locator("#read-latest").click()
        await expect(officer.get_by_role("heading", level=1)).to_contain_text("Revision")
        await expect(officer.locator("main")).to_contain_text("Dana Drafter")
        await assert_accessible(officer)
        await officer.get_by_role("button", name="Clear this draft").click()
        await expect(officer.locator(".notice")).to_contain_text("You cleared the draft")
        await expect(officer.locator("#clearance-status")).to_contain_text("Cleared")
        await assert_accessible(officer)

    # The focal point sends exactly what was cleared.
    await page.goto(f"/reviews/{review['id']}/submit")
    await page.get_by_role("button", name="Send your national report").click()
    await expect(page.locator(".notice")).to_contain_text(
        "Your national report was sent: version 1"
    )
    await page.goto(team_path)
    await expect(page.locator("#clearance-status")).to_contain_text("Sent")
    await expect(page.locator("#history")).to_contain_text("Cleared by Olga Officer")
    own_host = str(api.make_url("")).rstrip("/")
    assert all(url.startswith(own_host) for url in page.requests_made)  # type: ignore[attr-defined]
