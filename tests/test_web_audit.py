"""A review's audit trail: the API's filters (type, actor, from/to) and paging with them, and
the page that shows it in plain words, in the person's time zone with UTC beside."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, expect

import i18n
from db.actors import update_preferences
from tests import documents
from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.reviews import eventually
from tests.test_api_basics import assert_problem
from tests.test_reviews_api import create_review, open_call, submit
from tests.test_web_invitations import get, signed_in_as, text
from tests.web_site import Site, path_of

pytestmark = pytest.mark.usefixtures("worker")

ROWS = "<tbody>"


def rows_of(html: str) -> str:
    """The words of the trail's table (the filters name every type too)."""
    return text(html[html.index(ROWS) :]) if ROWS in html else ""


async def trail(
    site: Site, title: str = "Review of <b>ECE</b>", names: tuple[str, str] | None = None
) -> tuple[Any, Any, str]:
    """A secretariat of ECE (in Paris time), a focal point of Germany, and their review: created,
    opened and sent a national report, three events by two people."""
    named = [{"name": name} for name in names] if names else [{}, {}]
    runs = await site.person("secretariat", regions=("ECE",), **named[0])
    await update_preferences(site.pool, runs.actor.id, {"time_zone": "Europe/Paris"})
    germany = await site.person("focal_point", country="DEU", regions=("ECE",), **named[1])
    review_id = str((await create_review(site.api, runs, title=title))["id"])
    await open_call(site.api, runs, review_id)
    sent = await submit(site.api, germany, review_id, documents.national_report("DEU"))
    assert sent.status == 201, await sent.text()

    async def three() -> bool:
        return len(await events(site, runs, review_id)) >= 3

    await eventually(three)
    return runs, germany, review_id


async def events(site: Site, account: Any, review_id: str, **query: str) -> list[dict[str, Any]]:
    response = await site.api.get(
        f"/v1/reviews/{review_id}/events?{urlencode(query)}", headers=account.headers
    )
    body = await response.json()
    assert response.status == 200, body
    return list(body["items"])


async def test_the_api_filters_by_type_actor_and_time(site: Site) -> None:
    runs, germany, review_id = await trail(site)
    everything = await events(site, runs, review_id)
    assert [e["type"] for e in everything] == [
        "review.created",
        "phase.changed",
        "submission.accepted",
    ]
    by_type = await events(site, runs, review_id, type="phase.changed")
    assert [e["type"] for e in by_type] == ["phase.changed"]
    by_germany = await events(site, runs, review_id, actor=germany.id)
    assert [e["type"] for e in by_germany] == ["submission.accepted"]
    both = await events(site, runs, review_id, actor=runs.id, type="submission.accepted")
    assert both == []

    opened = datetime.fromisoformat(everything[1]["at"])
    since = await events(site, runs, review_id, **{"from": opened.isoformat()})
    assert [e["seq"] for e in since] == [e["seq"] for e in everything[1:]]
    before = await events(site, runs, review_id, to=opened.isoformat())
    assert [e["seq"] for e in before] == [everything[0]["seq"]]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert await events(site, runs, review_id, **{"from": later}) == []

    # Paging keeps the filters: one event a page, the first's next_after leading to the second.
    first = await site.api.get(
        f"/v1/reviews/{review_id}/events?limit=1&from={quote(opened.isoformat())}",
        headers=runs.headers,
    )
    page_one = await first.json()
    assert [e["seq"] for e in page_one["items"]] == [everything[1]["seq"]]
    page_two = await events(
        site,
        runs,
        review_id,
        limit="1",
        after=str(page_one["next_after"]),
        **{"from": opened.isoformat()},
    )
    assert [e["seq"] for e in page_two] == [everything[2]["seq"]]

    for query, pointer in (
        ("type=review.exploded", "/type"),
        ("actor=someone", "/actor"),
        ("from=yesterday", "/from"),
        ("to=2020-10-27T10:00:00", "/to"),  # no offset: which instant is meant is not known
        (f"from={quote(later)}&to={quote(opened.isoformat())}", "/to"),
    ):
        refused = await site.api.get(
            f"/v1/reviews/{review_id}/events?{query}", headers=runs.headers
        )
        problem = await assert_problem(refused, 422)
        assert [e["pointer"] for e in problem["errors"]] == [pointer], query


async def test_the_page_filters_in_the_persons_time_zone(site: Site) -> None:
    runs, germany, review_id = await trail(site)
    path = f"/reviews/{review_id}/audit"
    async with await signed_in_as(site, runs) as client:
        html = await get(client, path)
        rows = text(html[html.index(ROWS) :])
        assert "Review created “Review of <b>ECE</b>”" in rows
        assert "Phase changed From scheduled to call for inputs: open now" in rows
        assert "Submission accepted The national report of Germany" in rows
        assert germany.actor.name in rows and runs.actor.name in rows
        # Times in Paris, with UTC beside.
        assert "CET (" in rows or "CEST (" in rows
        assert "UTC)" in rows

        only_germany = rows_of(await get(client, f"{path}?actor={germany.id}"))
        assert "Submission accepted" in only_germany and "Phase changed" not in only_germany

        today = datetime.now(ZoneInfo("Europe/Paris")).date()
        tomorrow = (today + timedelta(days=1)).isoformat()
        assert "No event matches these filters." in text(
            await get(client, f"{path}?from={tomorrow}")
        )
        all_today = rows_of(await get(client, f"{path}?from={today}&to={today}"))
        assert all(w in all_today for w in ("Review created", "Phase changed", "Submission"))

        wrong = await get(client, f"{path}?from=2020-02-30&to={today}", 422)
        assert 'href="#from"' in wrong and 'id="from-error"' in wrong
        assert "Enter a real date, like 2020-10-27" in text(wrong)
        backwards = await get(client, f"{path}?from={tomorrow}&to={today}", 422)
        assert "The end date must be on or after the start" in text(backwards)
        tampered = await get(client, f"{path}?type=review.exploded", 422)
        assert "Choose a type of event from the list" in text(tampered)


async def test_a_long_trail_comes_a_page_at_a_time_with_its_filters(site: Site) -> None:
    runs, _, review_id = await trail(site)
    # Sixty reminders more, on record as already announced (no mail goes out for them).
    await site.pool.execute(
        """INSERT INTO review_events (id, review_id, type, at, data, expanded_at)
           SELECT gen_random_uuid(), $1, 'reminder.due', now(), '{"deadline": "inputs_due_at"}',
                  now()
           FROM generate_series(1, 60)""",
        review_id,
    )
    path = f"/reviews/{review_id}/audit?type=reminder.due"
    async with await signed_in_as(site, runs) as client:
        first = await get(client, path)
        assert first.count("<strong>Reminder sent</strong>") == 50
        assert "When national reports and stakeholder inputs are due" in rows_of(first)
        more = re.search(r'<a href="([^"]+)">Show more events</a>', first)
        assert more is not None and "type=reminder.due" in unescape(more.group(1))
        second = await get(client, unescape(more.group(1)))
        assert second.count("<strong>Reminder sent</strong>") == 10
        assert "Show more events" not in second and "Back to the first events" in second
        # The page for a review with no report yet says so.
        report = text(await get(client, f"/reviews/{review_id}/report"))
        assert "There is no report yet." in report
        assert "The report is compiled when the consultation closes." in report
        # So does the synthesis's, before the consultation opens.
        synthesis = text(await get(client, f"/reviews/{review_id}/synthesis"))
        assert "The synthesis is compiled when the consultation opens." in synthesis


@needs_chromium
async def test_the_trail_in_a_browser(page: Page, site: Site) -> None:
    runs, _, review_id = await trail(
        site,
        "Regional review of the GCM in the UNECE region",
        ("Elena Petrova (ECE secretariat)", "Jonas Weber (Germany)"),
    )
    await page.goto(path_of(await site.link(runs, f"/reviews/{review_id}")))
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("link", name="Audit trail").click()
    await expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    await expect(page.locator("#events tbody tr")).to_have_count(3)
    await assert_accessible(page)
    await screenshot(page, "audit")
    await page.get_by_label("Type of event").select_option(label="Phase changed")
    await page.get_by_role("button", name="Apply filters").click()
    await expect(page.locator("#events tbody tr")).to_have_count(1)
    await assert_accessible(page)


def test_an_annex_event_reads_as_its_submission_type_size_and_hash() -> None:
    """What the trail says of an annex attached or removed, in the person's language; an
    input's organisation is not named (its events never hold a name)."""
    from web.audit import EVENT_TYPES, _details

    data = {
        "kind": "national_report", "subject": "DEU", "annex_id": "x",
        "media_type": "application/pdf", "size": 2_500_000, "sha256": "ab" * 32,
    }  # fmt: skip
    said = _details("annex.attached", data, "UTC")
    assert said == f"The national report of Germany: PDF, 2.5 MB, SHA-256 {'ab' * 32}"
    an_input = {**data, "kind": "stakeholder_input", "subject": "an-organisation-id"}
    assert _details("annex.removed", an_input, "UTC").startswith("The stakeholder input: PDF")
    with i18n.using("fr"):
        assert _details("annex.attached", data, "UTC").startswith(
            "Le rapport national (Allemagne) : PDF, 2,5\u202fMo, SHA-256 abab"
        )
        assert i18n.gettext(EVENT_TYPES["annex.removed"]) != "Annex removed from a draft"
