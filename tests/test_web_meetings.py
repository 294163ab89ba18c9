"""Consultation meetings in a real browser: the secretariat adds one with a single place, two
stakeholders register from the review's page (the second waits, and sees its place), the
first cancels and the second moves up; once the meeting has started the secretariat records
who came and writes the rapporteur's summary, which the synthesis then shows."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, expect

from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.reviews import eventually
from tests.test_web_tasks import consultation  # noqa: F401 (a fixture: a review in consultation)
from tests.web_site import Site, path_of

pytestmark = [pytest.mark.slow, needs_chromium]

# The rules ask only that a meeting starts in the future; it must not start before the two
# registrations and the cancellation below are done in the browser, axe on each page (about
# 6 s here: 20 s leaves room for a slower machine).
LEAD = timedelta(seconds=20)
SUMMARY = "The participants called for regular pathways for migrant workers."


async def signed_in(site: Site, page: Page, account: Any) -> None:
    await page.goto(path_of(await site.link(account)))
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_load_state()


def local_input(at: datetime, zone_name: str) -> str:
    """`at` as a datetime-local field takes it, to the second (a browser drops ":00")."""
    local = at.astimezone(ZoneInfo(zone_name)).replace(microsecond=0)
    if local.second == 0:
        local += timedelta(seconds=1)
    return local.strftime("%Y-%m-%dT%H:%M:%S")


async def add_meeting(page: Page, review_id: str, title: str, zone_name: str) -> datetime:
    """The meeting added through the console's form, with one place; when it starts."""
    await page.goto(f"/reviews/{review_id}/meetings")
    await assert_accessible(page)
    # Sent empty: every problem is named in the summary and beside its field.
    await page.get_by_role("button", name="Add the meeting").click()
    await expect(page.locator(".error-summary")).to_be_visible()
    for field in ("title", "starts_at", "ends_at", "audience"):
        await expect(page.locator(f"#{field}-error")).to_be_visible()
    await expect(page.locator("#title-error")).to_contain_text("Enter a title")
    await assert_accessible(page)

    starts_at = datetime.now(UTC) + LEAD
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Starts").fill(local_input(starts_at, zone_name))
    await page.get_by_label("Ends").fill(local_input(starts_at + timedelta(hours=2), zone_name))
    await page.get_by_label("Link to join (online)").fill("https://meet.example.org/gcm")
    await page.get_by_label("Number of places").fill("1")
    await page.get_by_label("Stakeholders", exact=True).check()
    await page.get_by_role("button", name="Add the meeting").click()
    await expect(page.get_by_role("status")).to_contain_text("The meeting is added")
    await expect(page.locator("#meetings")).to_contain_text(title)
    await assert_accessible(page)
    await screenshot(page, "meetings")
    return starts_at.replace(microsecond=0)


async def register(page: Page, review_id: str, notice: str) -> None:
    await page.goto(f"/reviews/{review_id}")
    await assert_accessible(page)
    await page.get_by_role("button", name="Register").click()
    await expect(page.locator("#meeting-notice")).to_have_text(notice)
    await assert_accessible(page)


async def test_a_meeting_with_one_place_is_registered_for_held_and_summarised(
    page: Page,
    site: Site,
    consultation: dict[str, Any],  # noqa: F811 (the fixture imported above)
    ece_secretariat: Any,
) -> None:
    review_id = consultation["review"]["id"]
    first, second = consultation["people"]["a1"], consultation["people"]["b1"]
    title = f"Multi-stakeholder consultation {secrets.token_hex(2)}"
    await signed_in(site, page, ece_secretariat)
    starts_at = await add_meeting(page, review_id, title, ece_secretariat.actor.time_zone)

    async with site.other_page(page) as one, site.other_page(page) as two:
        await signed_in(site, one, first)
        await register(one, review_id, "You are registered.")
        await expect(one.locator("#meeting-1-status")).to_have_text("Registered")
        await signed_in(site, two, second)
        await register(two, review_id, "The meeting is full: you are on the waiting list.")
        await expect(two.locator("#meeting-1-place")).to_have_text(
            "You are number 1 on the waiting list."
        )

        await one.get_by_role("button", name="Cancel my registration").click()
        await expect(one.locator("#meeting-notice")).to_have_text("Your registration is cancelled.")
        await two.reload()
        await expect(two.locator("#meeting-1-status")).to_have_text("Registered")
        await expect(two.locator("#meeting-1-place")).to_have_count(0)
        await assert_accessible(two)
    assert datetime.now(UTC) < starts_at, "the registrations took longer than LEAD"

    await page.get_by_role("link", name=title).click()
    await expect(page.locator("#attendance")).to_contain_text(second.actor.name)
    await expect(page.locator("#waiting-list")).to_have_count(0)
    await assert_accessible(page)
    # Attendance and the summary wait for the start, by the wall clock the service reads.
    await eventually(lambda: _past(starts_at), deadline_s=LEAD.total_seconds() + 10)
    await page.get_by_label(second.actor.name).check()
    await page.get_by_role("button", name="Save attendance").click()
    await expect(page.get_by_role("status")).to_have_text("Attendance is saved.")
    await expect(page.get_by_label(second.actor.name)).to_be_checked()
    await page.get_by_label("Rapporteur's summary").check()
    await page.get_by_label("Summary", exact=True).fill(SUMMARY)
    await page.get_by_role("button", name="Save the summary").click()
    await expect(page.get_by_role("status")).to_contain_text("The summary is saved")
    await assert_accessible(page)

    await page.goto(f"/reviews/{review_id}/synthesis")
    meetings = page.locator("section[aria-labelledby=consultation-meetings]")
    await expect(meetings).to_contain_text(title)
    await expect(meetings).to_contain_text(SUMMARY)
    await expect(meetings).to_contain_text("1 registered, 1 attended")
    await assert_accessible(page)


async def _past(at: datetime) -> bool:
    return datetime.now(UTC) > at
