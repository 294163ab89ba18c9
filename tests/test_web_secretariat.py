"""A secretariat runs a review from its browser, from importing its stakeholders to the public
report: every step through the pages, in chromium, with axe on the pages it meets first."""

from __future__ import annotations

import csv
import io
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests import documents
from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.reviews import eventually
from tests.web_site import Site, path_of

pytestmark = pytest.mark.usefixtures("worker")

STATES = ("Germany", "France")


async def _reload_until(page: Page, locator: str, text: str) -> None:
    """Reload until the page shows `text` in `locator`: what a person watching a page does."""

    async def shown() -> bool:
        await page.reload()
        return text in await page.locator(locator).inner_text()

    assert await eventually(shown, deadline_s=60)


async def _import_stakeholders(page: Page, tmp_path: Path, tag: str) -> None:
    people = tmp_path / "stakeholders.csv"
    people.write_text(
        "name,email,organisation,category,country,role\n"
        f"Amal Haddad,amal-{tag}@example.org,Diaspora Council {tag},"
        "diaspora_migrant_organisations,,stakeholder\n"
        f"Boris Petrov,boris-{tag}@example.org,Workers Union {tag},trade_unions,,stakeholder\n"
    )
    await page.get_by_role("link", name="People", exact=True).click()
    await page.get_by_role("link", name="Import people from a CSV file").click()
    await page.locator("#file").set_input_files(str(people))
    await page.get_by_role("button", name="Check the file").click()
    await expect(page.locator("#counts")).to_contain_text("2 to add")
    await page.get_by_role("button", name="Import 2 rows").click()
    await expect(page.locator(".notice")).to_contain_text("Import done: 2 added")


async def _create_review(page: Page, title: str, tag: str) -> str:
    await page.goto("/reviews")
    await page.get_by_role("link", name="Create a review").click()
    await page.get_by_label("Title").fill(title)
    # Two member States of the region rather than all of them: the others' focal points have
    # nothing to do with this story.
    for box in await page.locator("input[name=member_states]").all():
        await box.uncheck()
    for state in STATES:
        await page.get_by_label(state, exact=True).check()
    # The stakeholders just imported, invited by a CSV file of their addresses.
    await page.get_by_label("Import email addresses from a CSV file (optional)").set_input_files(
        files=[
            {
                "name": "invite.csv",
                "mimeType": "text/csv",
                "buffer": f"email\namal-{tag}@example.org\nboris-{tag}@example.org\n".encode(),
            }
        ]
    )
    await page.get_by_role("button", name="Create the review").click()
    await expect(page.locator(".notice")).to_contain_text("was created")
    await page.get_by_role("link", name=f"Edit {title}").click()
    found = re.search(r"/reviews/([^/]+)/edit", page.url)
    assert found is not None, page.url
    return found.group(1)


async def _advance(page: Page, review_id: str, reason: str) -> None:
    await page.goto(f"/reviews/{review_id}/advance")
    await page.get_by_label("Reason").fill(reason)
    await page.get_by_role("button", name="Move to the next phase").click()


async def _export_submissions(page: Page, review_id: str) -> list[dict[str, str]]:
    await page.goto(f"/reviews/{review_id}/submissions")
    async with page.expect_download() as download:
        await page.locator(f"a[href='/reviews/{review_id}/exports/submissions.csv']").click()
    saved = await (await download.value).path()
    text = Path(saved).read_text(encoding="utf-8-sig")  # noqa: ASYNC240
    return list(csv.DictReader(io.StringIO(text)))


# A journey of many pages, tens of seconds: with the slow tests.
@pytest.mark.slow
@needs_chromium
async def test_a_secretariat_runs_a_review_from_its_browser(
    page: Page, site: Site, tmp_path: Path
) -> None:
    tag = secrets.token_hex(3)
    title = f"Regional review of the GCM in the UNECE region {tag}"
    secretariat = await site.person("secretariat", regions=("ECE",), name=f"ECE officer {tag}")
    germany = await site.person(country="DEU", regions=("ECE",))

    await page.goto(path_of(await site.link(secretariat, "/people")))
    await page.get_by_role("button", name="Continue").click()
    await _import_stakeholders(page, tmp_path, tag)
    review_id = await _create_review(page, title, tag)

    # The call opens on the secretariat's word rather than in a week.
    await _advance(page, review_id, "The call opens early")
    await page.goto(f"/reviews/{review_id}/dashboard")
    await expect(page.locator("#states")).to_contain_text("Missing")
    await assert_accessible(page)

    # Germany's report arrives while the secretariat watches the dashboard.
    sent = await site.api.post(
        f"/v1/reviews/{review_id}/submissions",
        json={"kind": "national_report", "content": documents.national_report("DEU")},
        headers=germany.headers,
    )
    assert sent.status == 201, await sent.text()
    await _reload_until(page, "#states", "Submitted")
    await screenshot(page, "secretariat-dashboard")

    # France gets two more weeks.
    await page.get_by_role("link", name="Extend a deadline").click()
    await page.get_by_label("National reports and stakeholder inputs are due").check()
    await page.get_by_label("For whom?").select_option("FRA")
    until = (datetime.now(UTC) + timedelta(days=55)).date()
    await page.get_by_label("Date", exact=True).fill(until.isoformat())
    await page.get_by_label("Reason").fill("Elections")
    await page.get_by_role("button", name="Extend the deadline").click()
    await expect(page.get_by_role("status")).to_contain_text("The deadline was extended.")

    # Those who have not sent anything are reminded: France and the two organisations.
    await page.goto(f"/reviews/{review_id}/remind")
    await expect(page.locator("#states")).to_contain_text("France")
    await assert_accessible(page)
    await page.get_by_role("button", name="Send reminders now").click()
    await expect(page.locator("#reminded")).to_be_visible()

    rows = await _export_submissions(page, review_id)
    assert [row["country"] for row in rows] == ["DEU"]

    # Through the consultation to the compiled report.
    await _advance(page, review_id, "The inputs are in")
    await _advance(page, review_id, "The consultation is over")
    await page.goto(f"/reviews/{review_id}/report")
    await _reload_until(page, "main", "Version 1 awaits your decision.")
    await assert_accessible(page)

    await page.get_by_role("button", name="Request changes").click()
    await page.get_by_label("What should change").fill("Say more about the regional meeting.")
    await page.get_by_role("button", name="Send the report back for changes").click()
    await expect(page.get_by_role("status")).to_contain_text("Version 2 is being compiled")
    await _reload_until(page, "main", "Version 2 awaits your decision.")
    await page.get_by_role("button", name="Approve and publish").click()
    await page.get_by_role("button", name="Approve and publish").click()
    await expect(page.get_by_role("status")).to_contain_text("Version 2 was approved and published")

    # Anyone may now read it, without signing in, and download its PDF.
    await page.get_by_role("button", name="Sign out").click()
    await page.goto("/reports")
    await page.get_by_role("link", name=title, exact=True).click()
    await expect(page.locator("h1")).to_contain_text(title)
    await assert_accessible(page)
    href = await page.get_by_role("link", name="PDF of the report").get_attribute("href")
    assert href is not None
    pdf = await page.request.get(href)
    assert pdf.headers["content-type"] == "application/pdf"
    assert (await pdf.body()).startswith(b"%PDF-")
