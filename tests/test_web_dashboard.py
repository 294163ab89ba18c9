"""A review's dashboard for those who run it: its timeline, each member State's national
report, stakeholder inputs by category and the coverage of the objectives; its commands
(extend, advance, cancel), each confirmed with a reason; and who may see any of it."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from reports.render import NO_REPORT, STATUSES
from tests import documents
from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.reviews import eventually
from tests.test_reviews_api import create_review, open_call, submit
from tests.test_web_invitations import get, signed_in_as, stakeholder, text
from tests.web_site import Site, form_token, path_of

pytestmark = pytest.mark.usefixtures("worker")

KEY = re.compile(r'name="_key" value="([^"]+)"')
STATES = re.compile(r'<table id="states">.*?<tbody>(.*?)</tbody>', re.S)
RATES = re.compile(r'<table id="rates">.*?<tbody>(.*?)</tbody>', re.S)
COVERAGE = re.compile(r'<table id="coverage".*?<tbody>(.*?)</tbody>', re.S)
ROW = re.compile(r"<tr>(.*?)</tr>", re.S)


def rows(pattern: re.Pattern[str], html: str) -> list[str]:
    found = pattern.search(html)
    assert found is not None, html
    return [text(row) for row in ROW.findall(found.group(1))]


async def post(
    client: aiohttp.ClientSession, path: str, fields: dict[str, str]
) -> aiohttp.ClientResponse:
    """The form at `path` sent with `fields`, its CSRF token and its own key."""
    html = await get(client, path)
    key = KEY.search(html)
    assert key is not None
    data = {"csrf_token": await form_token(client, path), "_key": key.group(1), **fields}
    return await client.post(path, data=data, allow_redirects=False)


async def accepted(site: Site, review_id: str, kind: str, count: int) -> bool:
    stored = await site.pool.fetchval(
        "SELECT count(*) FROM submissions WHERE review_id = $1 AND kind = $2"
        " AND latest_version > 0",
        review_id,
        kind,
    )
    return bool(stored == count)


async def secretariat_in(site: Site, time_zone: str) -> Any:
    """An ECE secretariat account that reads times in `time_zone`."""
    runs = await site.person("secretariat", regions=("ECE",))
    await site.pool.execute(
        "UPDATE actors SET time_zone = $2 WHERE id = $1", runs.actor.id, time_zone
    )
    return runs


async def focal_point(site: Site, country: str) -> Any:
    return await site.person("focal_point", country=country, regions=("ECE",))


async def review_under_way(site: Site, runs: Any) -> tuple[str, datetime]:
    """A review of DEU, FRA, KAZ and USA in its call for inputs, with two stakeholder
    organisations invited (civil society, academia): DEU reported, FRA reported late, KAZ has
    an extension and USA nothing; the civil society organisation sent its input."""
    tag = secrets.token_hex(4)
    society = await stakeholder(site, f"{tag} Society", "Sam")
    academy = await stakeholder(site, f"{tag} Academy", "Ada", stakeholder_category="academia")
    created = await create_review(
        site.api, runs, stakeholders=[society.id, academy.id], title="Review <b>ECE</b>"
    )
    review_id = str(created["id"])
    await open_call(site.api, runs, review_id)
    due = datetime.fromisoformat(created["deadlines"]["inputs_due_at"])
    extension = {
        "deadline": "inputs_due_at",
        "until": (due + timedelta(days=3)).isoformat(),
        "reason": "Elections",
        "country": "KAZ",
    }
    extended = await site.api.post(
        f"/v1/reviews/{review_id}/extensions", json=extension, headers=runs.headers
    )
    assert extended.status == 200, await extended.text()
    for country in ("DEU", "FRA"):
        sent = await submit(
            site.api,
            await focal_point(site, country),
            review_id,
            documents.national_report(country),
        )
        assert sent.status == 201, await sent.text()
    organisation = society.actor.organisation
    sent = await submit(
        site.api, society, review_id, documents.stakeholder_input(organisation, "civil_society")
    )
    assert sent.status == 201, await sent.text()
    await eventually(lambda: accepted(site, review_id, "national_report", 2))
    await eventually(lambda: accepted(site, review_id, "stakeholder_input", 1))
    # A report received after its deadline, as the workflow marks one.
    await site.pool.execute(
        """UPDATE submission_versions v SET late = true FROM submissions s
           WHERE v.submission_id = s.id AND s.review_id = $1 AND s.subject = 'FRA'""",
        review_id,
    )
    return review_id, due


async def test_the_dashboard_shows_each_state_each_category_and_the_coverage(site: Site) -> None:
    runs = await secretariat_in(site, "Europe/Berlin")
    review_id, due = await review_under_way(site, runs)
    await site.sign_in(runs)

    review = await get(site.client, f"/reviews/{review_id}")
    assert f'href="/reviews/{review_id}/dashboard"' in review
    html = await get(site.client, f"/reviews/{review_id}/dashboard")
    assert "Review &lt;b&gt;ECE&lt;/b&gt;" in html
    words = text(html)
    assert "Call for inputs: national reports and stakeholder inputs are collected" in words
    # The next deadline, in the person's zone with UTC beside.
    assert "Next deadline National reports and stakeholder inputs are due:" in words
    assert f"({due.day} {due:%B %Y}, {due:%H:%M} UTC)" in words

    states = rows(STATES, html)
    assert states[0].startswith("Germany (DEU) Submitted ") and states[0].endswith(" 1 None")
    assert states[1].startswith("France (FRA) Submitted late ")
    kaz = due + timedelta(days=3)
    assert states[2].startswith(f"Kazakhstan (KAZ) Extended — — Until {kaz.astimezone(UTC).day} ")
    assert states[2].endswith(f"{kaz:%H:%M} UTC)")
    assert states[3].startswith("United States of America (USA) Missing — —")

    assert rows(RATES, html) == ["Academia 1 0 0 %", "Civil society 1 1 100 %"]

    coverage = rows(COVERAGE, html)
    assert len(coverage) == 4
    statuses = {o["number"]: o["status"] for o in documents.national_report("DEU")["objectives"]}
    germany = coverage[0].split()
    assert germany[:2] == ["Germany", "(DEU)"]
    assert germany[2] == {"implemented": "IM", "in_progress": "IP", "planned": "PL",
                          "not_started": "NS", "not_applicable": "NA"}[statuses[1]]  # fmt: skip
    assert coverage[3].count("—") == 23  # USA sent nothing

    for path in ("submissions", "answers", "report", "audit", "remind", "announce"):
        assert f'href="/reviews/{review_id}/{path}"' in html


async def test_only_those_who_run_the_review_see_its_dashboard(site: Site, admin: Any) -> None:
    runs = await site.person("secretariat", regions=("ECE",))
    created = await create_review(site.api, runs)
    review_id = created["id"]
    germany = await focal_point(site, "DEU")
    other_region = await site.person("secretariat", regions=("ECA",))

    for person in (germany, other_region):
        async with await signed_in_as(site, person) as client:
            review = await get(client, f"/reviews/{review_id}", 200 if person is germany else 404)
            assert "/dashboard" not in review
            for page in ("dashboard", "extend", "advance", "cancel"):
                refused = await get(client, f"/reviews/{review_id}/{page}", status=404)
                absent = await get(client, f"/reviews/ece-test-missing/{page}", status=404)
                assert text(refused) == text(absent).replace("ece-test-missing", review_id)
            token = await form_token(client, "/tasks")
            cancel = await client.post(
                f"/reviews/{review_id}/cancel",
                data={"csrf_token": token, "reason": "no"},
                allow_redirects=False,
            )
            assert cancel.status == 404
    async with await signed_in_as(site, admin) as client:
        assert "Dashboard" in await get(client, f"/reviews/{review_id}/dashboard")
    assert (await site.pool.fetchval("SELECT phase FROM reviews WHERE id = $1", review_id)) == (
        "scheduled"
    )


async def test_extending_for_one_state_through_the_page(site: Site) -> None:
    runs = await site.person("secretariat", regions=("ECE",))
    review_id, due = await review_under_way(site, runs)
    await site.sign_in(runs)
    path = f"/reviews/{review_id}/extend"
    new_date = (due + timedelta(days=5)).date()

    sent = await post(
        site.client,
        path,
        {
            "deadline": "inputs_due_at",
            "country": "USA",
            "until_date": new_date.isoformat(),
            "until_time": "18:30",
            "reason": "The report is in translation",
        },
    )
    assert sent.status == 303, await sent.text()
    assert sent.headers["Location"] == f"/reviews/{review_id}/dashboard?done=extended"
    html = await get(site.client, sent.headers["Location"])
    assert "The deadline was extended." in text(html)
    usa = rows(STATES, html)[3]
    assert usa.endswith(f"Extended — — Until {new_date.day} {new_date:%B %Y}, 18:30 UTC")

    event = await site.pool.fetchrow(
        "SELECT actor_id, data FROM review_events WHERE review_id = $1"
        " AND type = 'deadline.extended' AND data ->> 'country' = 'USA'",
        review_id,
    )
    assert event is not None
    assert event["data"]["reason"] == "The report is in translation"
    assert event["actor_id"] == runs.actor.id
    assert datetime.fromisoformat(event["data"]["until"]) == datetime(
        new_date.year, new_date.month, new_date.day, 18, 30, tzinfo=UTC
    )


async def test_a_refused_extension_is_named_beside_its_field(site: Site) -> None:
    runs = await site.person("secretariat", regions=("ECE",))
    created = await create_review(site.api, runs)
    review_id = created["id"]
    await site.sign_in(runs)
    path = f"/reviews/{review_id}/extend"

    empty = await post(site.client, path, {"until_time": "23:59"})
    assert empty.status == 422
    html = await empty.text()
    for field in ("deadline", "until-date", "reason"):
        assert f'href="#{field}"' in html and f'id="{field}-error"' in html
    assert "Enter the reason" in text(html)

    past = await post(
        site.client,
        path,
        {"deadline": "inputs_due_at", "until_date": "2001-01-01", "reason": "Late"},
    )
    assert past.status == 422
    html = await past.text()
    assert 'id="until-date-error"' in html and 'href="#until-date"' in html
    assert "The new date must be in the future" in text(html)
    assert ">Late</textarea>" in html  # what was typed is kept

    # Only the inputs deadline moves for one State: the use case's refusal, beside its field.
    one_state = await post(
        site.client,
        path,
        {
            "deadline": "report_due_at",
            "country": "DEU",
            "until_date": (datetime.now(UTC) + timedelta(days=200)).date().isoformat(),
            "reason": "Late",
        },
    )
    assert one_state.status == 422
    html = await one_state.text()
    assert 'id="deadline-error"' in html and "Only inputs_due_at" in text(html)
    extended = await site.pool.fetchval(
        "SELECT count(*) FROM review_events WHERE review_id = $1 AND type = 'deadline.extended'",
        review_id,
    )
    assert extended == 0


async def test_advance_then_cancel_through_their_confirmation_pages(site: Site) -> None:
    runs = await site.person("secretariat", regions=("ECE",))
    created = await create_review(site.api, runs)
    review_id = created["id"]
    await site.sign_in(runs)

    confirm = text(await get(site.client, f"/reviews/{review_id}/advance"))
    assert "Move to the next phase now?" in confirm
    assert "Next Call for inputs: national reports and stakeholder inputs" in confirm
    advanced = await post(site.client, f"/reviews/{review_id}/advance", {"reason": "Ready"})
    assert advanced.status == 303
    dashboard = text(await get(site.client, advanced.headers["Location"]))
    assert "The review moved to its next phase." in dashboard
    assert "Where the review stands Call for inputs" in dashboard

    confirm = text(await get(site.client, f"/reviews/{review_id}/cancel"))
    assert "This cannot be undone." in confirm
    no_reason = await post(site.client, f"/reviews/{review_id}/cancel", {"reason": "  "})
    assert no_reason.status == 422
    assert 'href="#reason"' in await no_reason.text()
    phase = await site.pool.fetchval("SELECT phase FROM reviews WHERE id = $1", review_id)
    assert phase == "call_for_inputs"

    cancelled = await post(site.client, f"/reviews/{review_id}/cancel", {"reason": "Postponed"})
    assert cancelled.status == 303
    dashboard = text(await get(site.client, cancelled.headers["Location"]))
    assert "The review was cancelled." in dashboard
    assert "Cancelled: this review ended without a report" in dashboard
    assert "Cancel the review" not in dashboard
    reasons = await site.pool.fetch(
        "SELECT type, data ->> 'reason' AS reason FROM review_events WHERE review_id = $1"
        " AND type IN ('review.cancelled', 'phase.advanced') ORDER BY seq",
        review_id,
    )
    assert ("review.cancelled", "Postponed") in [(r["type"], r["reason"]) for r in reasons]
    assert "This review has ended already" in text(
        await get(site.client, f"/reviews/{review_id}/cancel")
    )


@needs_chromium
async def test_the_dashboard_and_an_extension_in_a_browser(page: Page, site: Site) -> None:
    runs = await secretariat_in(site, "Europe/Berlin")
    review_id, due = await review_under_way(site, runs)

    await page.goto(path_of(await site.link(runs, f"/reviews/{review_id}")))
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("link", name="Open the review's dashboard").click()
    await expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    await expect(page.locator("#states")).to_contain_text("Missing")
    await assert_accessible(page)
    await screenshot(page, "dashboard")

    await page.get_by_role("link", name="Extend a deadline").click()
    await page.get_by_label("National reports and stakeholder inputs are due").check()
    await page.get_by_label("For whom?").select_option("USA")
    await page.get_by_role("button", name="Extend the deadline").click()
    await expect(page.locator(".error-summary")).to_be_visible()
    await expect(page.locator("#reason-error")).to_contain_text("Enter the reason")
    await assert_accessible(page)

    new_date = (due + timedelta(days=4)).date()
    await page.get_by_label("Date", exact=True).fill(new_date.isoformat())
    await page.get_by_label("Reason").fill("Elections")
    await page.get_by_role("button", name="Extend the deadline").click()
    await expect(page.get_by_role("status")).to_contain_text("The deadline was extended.")
    usa = page.locator("#states tbody tr").nth(3)
    await expect(usa).to_contain_text(f"Until {new_date.day} {new_date:%B %Y}, 23:59 CE")
    assert all(url.startswith(str(site.api.make_url(""))) for url in page.requests_made)  # type: ignore[attr-defined]


def test_the_coverage_colours_are_the_reports() -> None:
    """The stylesheet draws each status as the report's heatmap does."""
    css = (Path(__file__).parent.parent / "web" / "static" / "reviewflow.css").read_text()
    for style in (*STATUSES.values(), NO_REPORT):
        rule = f".status-{style.id or 'none'} {{ background: {style.fill}; color: {style.ink}; }}"
        assert rule in css
