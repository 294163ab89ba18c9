"""A review's page and the submission form, as a focal point's or stakeholder's browser uses
them: deadlines in the person's zone, drafts on the server that the secretariat never sees,
the API's checks beside each field, sending through the API's use case (once per page),
resubmitting, refusals in plain words; and the issue's scenario in a real browser."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from html import unescape
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from tests import documents
from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.reviews import MAIL_DEADLINE_S, eventually
from tests.test_reviews_api import create_review, open_call
from tests.test_web_forms import controls, posted
from tests.web_site import Site, form_token, path_of, post_form
from web.format import deadline
from web.forms import form_for

pytestmark = pytest.mark.usefixtures("worker")

KEY = re.compile(r'name="_key" value="([^"]+)"')
SUMMARY_LINK = re.compile(r'<div class="error-summary".*?</div>', re.S)


@pytest.fixture
async def review(api: Any, ece_secretariat: Any) -> dict[str, Any]:
    """A review of the ECE region taking national reports and inputs."""
    created = await create_review(api, ece_secretariat)
    await open_call(api, ece_secretariat, created["id"])
    return created


async def focal_point(site: Site, country: str = "DEU", zone: str = "UTC") -> Any:
    account = await site.person("focal_point", country=country)
    await site.pool.execute(
        "UPDATE actors SET time_zone = $2 WHERE id = $1", account.actor.id, zone
    )
    return account


async def open_form(client: aiohttp.ClientSession, path: str) -> tuple[str, str]:
    """The form page at `path`: its HTML and its idempotency key."""
    response = await client.get(path)
    html = await response.text()
    assert response.status == 200, html
    found = KEY.search(html)
    assert found is not None
    return html, found.group(1)


def pairs_of(document: dict[str, Any], kind: str = "national_report") -> list[tuple[str, str]]:
    """What a browser posts for the form filled with `document`."""
    return posted(form_for(kind).render(document))


async def post_document(
    site: Site,
    review_id: str,
    document: dict[str, Any],
    button: str = "_submit",
    key: str | None = None,
) -> aiohttp.ClientResponse:
    path = f"/reviews/{review_id}/submit"
    _, rendered_key = await open_form(site.client, path)
    token = await form_token(site.client, path)
    data = [
        ("csrf_token", token),
        ("_key", key or rendered_key),
        *pairs_of(document),
        (button, "1"),
    ]
    return await site.client.post(path, data=data, allow_redirects=False)


async def submissions_seen_by(api: Any, secretariat: Any, review_id: str) -> list[dict[str, Any]]:
    response = await api.get(f"/v1/reviews/{review_id}/submissions", headers=secretariat.headers)
    assert response.status == 200
    return (await response.json())["items"]


# ---- the review's page -----------------------------------------------------------------------


async def test_review_page_shows_the_deadlines_in_the_persons_zone_with_utc(
    site: Site, review: dict[str, Any]
) -> None:
    germany = await focal_point(site, zone="Europe/Berlin")
    await site.sign_in(germany)
    response = await site.client.get(f"/reviews/{review['id']}")
    html = unescape(await response.text())
    assert response.status == 200
    due = datetime.fromisoformat(review["timeline"]["inputs_due_at"])
    written = deadline(due, "Europe/Berlin")
    assert "UTC)" in written and written in html
    assert review["title"] in html
    assert "The national report of Germany" in html
    assert "Call for inputs" in html
    assert "You have not sent your national report yet." in html
    assert f'href="/reviews/{review["id"]}/submit"' in html


async def test_a_focal_point_sees_its_own_states_extension_only(
    site: Site, review: dict[str, Any], api: Any, ece_secretariat: Any
) -> None:
    until = datetime.fromisoformat(review["deadlines"]["inputs_due_at"]) + timedelta(days=9)
    extension = {
        "deadline": "inputs_due_at",
        "until": until.isoformat(),
        "reason": "Elections",
        "country": "DEU",
    }
    extended = await api.post(
        f"/v1/reviews/{review['id']}/extensions", json=extension, headers=ece_secretariat.headers
    )
    assert extended.status == 200, await extended.text()
    await site.sign_in(await focal_point(site, zone="America/New_York"))

    async def shown() -> str | None:
        html = unescape(await (await site.client.get(f"/reviews/{review['id']}")).text())
        return html if "Your extension" in html else None

    html = await eventually(shown)
    assert f"Your national report is due {deadline(until, 'America/New_York')}." in html
    async with site.other_client() as other:
        france = await focal_point(site, country="FRA")
        assert (await post_form(other, path_of(await site.link(france)))).status == 303
        html = await (await other.get(f"/reviews/{review['id']}")).text()
        assert "Your extension" not in html and "National reports and" in html


async def test_a_review_the_person_may_not_see_is_not_found(
    site: Site, review: dict[str, Any]
) -> None:
    spain = await focal_point(site, country="ESP")
    await site.sign_in(spain)
    for path in (f"/reviews/{review['id']}", f"/reviews/{review['id']}/submit", "/reviews/nope"):
        response = await site.client.get(path)
        assert response.status == 404, path
        assert "Page not found" in await response.text()


async def test_a_visitor_is_sent_to_sign_in_first(site: Site, review: dict[str, Any]) -> None:
    response = await site.client.get(f"/reviews/{review['id']}", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/sign-in?next=")


async def test_hostile_titles_show_as_text(site: Site, api: Any, ece_secretariat: Any) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    created = await create_review(api, ece_secretariat, title=hostile)
    await open_call(api, ece_secretariat, created["id"])
    await site.sign_in(await focal_point(site))
    for path in (f"/reviews/{created['id']}", f"/reviews/{created['id']}/submit"):
        html = await (await site.client.get(path)).text()
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html


# ---- drafts ----------------------------------------------------------------------------------


async def test_a_draft_is_saved_restored_shared_and_never_seen_by_the_secretariat(
    site: Site, review: dict[str, Any], api: Any, ece_secretariat: Any
) -> None:
    germany = await focal_point(site)
    await site.sign_in(germany)
    path = f"/reviews/{review['id']}/submit"
    html, _ = await open_form(site.client, path)
    # The account's country is filled in already.
    assert ("/country", "DEU") in controls(html).pairs
    draft = {
        "country": "DEU",
        "preparation": {"methodology": "Ministries met <b>twice</b>."},
    }
    saved = await post_document(site, review["id"], draft, button="_save")
    assert saved.status == 303
    assert saved.headers["Location"] == f"{path}?saved"
    html = await (await site.client.get(saved.headers["Location"])).text()
    assert "Your draft was saved on" in html
    assert ("/preparation/methodology", "Ministries met <b>twice</b>.") in controls(html).pairs
    assert "<b>twice</b>" not in html

    # A colleague of the same country continues the same draft.
    colleague = await focal_point(site)
    async with site.other_client() as other:
        assert (await post_form(other, path_of(await site.link(colleague)))).status == 303
        html, _ = await open_form(other, path)
        assert ("/preparation/methodology", "Ministries met <b>twice</b>.") in controls(html).pairs

    # A draft is not a submission: the secretariat's listing has nothing.
    assert await submissions_seen_by(api, ece_secretariat, review["id"]) == []


async def test_adding_an_entry_keeps_everything_typed_and_saves_it(
    site: Site, review: dict[str, Any]
) -> None:
    await site.sign_in(await focal_point(site))
    path = f"/reviews/{review['id']}/submit"
    _, key = await open_form(site.client, path)
    data = [
        ("csrf_token", await form_token(site.client, path)),
        ("_key", key),
        ("/country", "DEU"),
        ("/next_steps", "A national plan."),
        ("_add", "/preparation/consulted"),
    ]
    response = await site.client.post(path, data=data, allow_redirects=False)
    html = await response.text()
    assert response.status == 200
    found = controls(html)
    assert ("/next_steps", "A national plan.") in found.pairs
    assert "f-preparation-consulted-0-category" in found.ids
    # Saved on the way: a new visit to the form finds both.
    again, _ = await open_form(site.client, path)
    assert "f-preparation-consulted-0-category" in controls(again).ids


# ---- sending ---------------------------------------------------------------------------------


async def test_errors_are_shown_beside_their_fields_and_in_the_summary_and_nothing_is_sent(
    site: Site, review: dict[str, Any], api: Any, ece_secretariat: Any
) -> None:
    await site.sign_in(await focal_point(site))
    report = documents.national_report("DEU")
    report["contact"]["email"] = "not an email"
    report["preparation"]["methodology"] = ""
    response = await post_document(site, review["id"], report)
    html = await response.text()
    assert response.status == 422
    assert "<title>Error: " in html
    [summary] = SUMMARY_LINK.findall(html)
    targets = re.findall(r'href="#([^"]+)"', summary)
    assert len(targets) == 2
    found = controls(html)
    assert set(targets) <= set(found.ids)
    assert "f-contact-email" in targets and "f-preparation-methodology" in targets
    # Each error is beside its field, which names it.
    for target in targets:
        assert f'id="{target}-error"' in html
        assert re.search(rf'id="{target}"[^>]*aria-describedby="[^"]*{target}-error', html)
    assert "Enter an email address like name@example.org" in html
    # What was typed is shown again, and kept as the draft.
    assert ("/contact/email", "not an email") in found.pairs
    again, _ = await open_form(site.client, f"/reviews/{review['id']}/submit")
    assert ("/contact/email", "not an email") in controls(again).pairs
    assert await submissions_seen_by(api, ece_secretariat, review["id"]) == []


async def test_sent_through_the_apis_path_then_resubmitted_as_version_2(
    site: Site, review: dict[str, Any], api: Any, ece_secretariat: Any
) -> None:
    await site.sign_in(await focal_point(site))
    review_path = f"/reviews/{review['id']}"
    first = await post_document(site, review["id"], documents.national_report("DEU"))
    assert first.status == 303, await first.text()
    assert first.headers["Location"] == f"{review_path}?sent=1"
    page_html = await (await site.client.get(first.headers["Location"])).text()
    assert "Your national report was sent: version 1" in page_html

    [seen] = await submissions_seen_by(api, ece_secretariat, review["id"])
    assert (seen["kind"], seen["subject"], seen["latest_version"]) == ("national_report", "DEU", 1)
    # The draft went with it; a new version starts from the one sent.
    drafts = "SELECT count(*) FROM submission_drafts WHERE review_id = $1"
    assert await site.pool.fetchval(drafts, review["id"]) == 0
    html, _ = await open_form(site.client, f"{review_path}/submit")
    assert "This starts from version 1, the last you sent." in html
    assert form_for("national_report").parse(posted(html)) == documents.national_report("DEU")

    revised = documents.national_report("DEU", next_steps="Revised <i>steps</i>.")
    second = await post_document(site, review["id"], revised)
    assert second.headers["Location"] == f"{review_path}?sent=2"
    [seen] = await submissions_seen_by(api, ece_secretariat, review["id"])
    assert seen["latest_version"] == 2

    # The review's page lists both versions; each reads as a summary.
    page_html = await (await site.client.get(review_path)).text()
    links = re.findall(rf'href="({review_path}/submissions/[^"]+\?version=(\d))"', page_html)
    assert [version for _, version in links] == ["2", "1"]
    summary = await site.client.get(unescape(links[0][0]))
    text = await summary.text()
    assert summary.status == 200
    assert "Revised &lt;i&gt;steps&lt;/i&gt;." in text
    assert "Germany" in text and "In progress" in text
    old = await (await site.client.get(unescape(links[1][0]))).text()
    assert "Adopt a national GCM implementation plan" in old


async def test_the_same_page_sent_twice_makes_one_version(
    site: Site, review: dict[str, Any], api: Any, ece_secretariat: Any
) -> None:
    await site.sign_in(await focal_point(site))
    key = secrets.token_urlsafe(16)
    report = documents.national_report("DEU")
    first = await post_document(site, review["id"], report, key=key)
    second = await post_document(site, review["id"], report, key=key)
    assert first.headers["Location"] == second.headers["Location"]
    assert first.headers["Location"].endswith("?sent=1")
    [seen] = await submissions_seen_by(api, ece_secretariat, review["id"])
    assert seen["latest_version"] == 1


async def test_a_refusal_is_said_in_plain_words_and_the_draft_kept(
    site: Site, api: Any, ece_secretariat: Any
) -> None:
    scheduled = await create_review(api, ece_secretariat)
    await site.sign_in(await focal_point(site))
    response = await post_document(site, scheduled["id"], documents.national_report("DEU"))
    html = unescape(await response.text())
    assert response.status == 409
    assert "Your national report was not sent." in html
    assert "The call for inputs has not opened yet" in html
    assert "Your answers are kept as a draft." in html
    again, _ = await open_form(site.client, f"/reviews/{scheduled['id']}/submit")
    assert "Adopt a national GCM implementation plan" in again
    page_html = await (await site.client.get(f"/reviews/{scheduled['id']}")).text()
    assert "This review does not take submissions now." in page_html


async def test_a_stakeholder_gets_its_own_form_not_the_national_report(
    site: Site, review: dict[str, Any]
) -> None:
    ngo = await site.person(
        "stakeholder",
        organisation="Migrant Rights Europe",
        stakeholder_category="civil_society",
        regions=("ECE",),
    )
    await site.sign_in(ngo)
    path = f"/reviews/{review['id']}/submit"
    refused = await site.client.get(f"{path}?kind=national_report")
    assert refused.status == 403
    html, _ = await open_form(site.client, path)
    assert ("/organisation/name", "Migrant Rights Europe") in controls(html).pairs
    assert 'name="/preparation/methodology"' not in html
    assert "Your input" in html


async def test_the_secretariat_has_no_submission_form(
    site: Site, review: dict[str, Any], ece_secretariat: Any
) -> None:
    await site.sign_in(ece_secretariat)
    response = await site.client.get(f"/reviews/{review['id']}/submit")
    assert response.status == 403


# ---- in a browser ----------------------------------------------------------------------------


async def fill_by_keyboard(page: Page, field_id: str, text: str) -> None:
    """Tab from where the focus is until `field_id` has it, then type `text`."""
    for _ in range(200):
        if await page.evaluate("document.activeElement && document.activeElement.id") == field_id:
            await page.keyboard.type(text)
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"{field_id} is not reached with the Tab key")


# The whole journey, its mail waiting behind the session's: `make test-slow`, which CI runs too.
@pytest.mark.slow
@needs_chromium
async def test_a_focal_point_sends_and_resubmits_its_national_report_in_a_browser(
    page: Page, site: Site, api: Any, ece_secretariat: Any
) -> None:
    germany = await focal_point(site, zone="Europe/Berlin")
    # Germany's focal point is invited; no stakeholder is, so the invitation is not queued
    # behind one to every stakeholder the session has made.
    review = await create_review(api, ece_secretariat, member_states=["DEU"], stakeholders=[])
    await open_call(api, ece_secretariat, review["id"])
    # A colleague has prepared most of the report as a draft; the contact is left to fill.
    await site.sign_in(await focal_point(site))
    prepared = documents.national_report("DEU")
    del prepared["contact"]
    prepared["preparation"]["methodology"] = ""
    assert (await post_document(site, review["id"], prepared, button="_save")).status == 303

    # From the invitation mail: its link signs in and opens the review.
    review_path = f"/reviews/{review['id']}"
    invitation = await eventually(
        lambda: site.invitation(germany.actor.email), deadline_s=MAIL_DEADLINE_S
    )
    await page.goto(path_of(invitation))
    await page.get_by_role("button", name="Continue").click()
    await expect(page).to_have_url(re.compile(f"{review_path}$"))
    await expect(page.locator("#deadlines")).to_contain_text("UTC")
    await assert_accessible(page)
    await screenshot(page, "review-page")

    await page.get_by_role("link", name="Start or continue your national report").click()
    await page.locator("#f-contact-name").focus()
    await page.keyboard.type("Anna Example")
    await fill_by_keyboard(page, "f-contact-email", "not an email")
    await page.get_by_role("button", name="Send your national report").click()
    summary = page.locator(".error-summary")
    await expect(summary).to_contain_text("Enter an email address like name@example.org")
    await expect(summary).to_contain_text("methodology")
    await assert_accessible(page)
    # The top of the form (the whole national report runs to many screens).
    await screenshot(page, "national-report-errors", full_page=False)

    # Each link of the summary moves the focus to its field; fixed with the keyboard alone.
    await summary.get_by_role("link", name=re.compile("methodology", re.I)).click()
    await expect(page.locator("#f-preparation-methodology")).to_be_focused()
    await page.keyboard.type("An inter-ministerial working group met six times.")
    await summary.get_by_role("link", name=re.compile("email address", re.I)).focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#f-contact-email")).to_be_focused()
    await page.keyboard.press("Control+A")
    await page.keyboard.type("gcm@interior.example.org")
    await assert_accessible(page)
    await page.keyboard.press("Enter")  # in a field, Enter sends the form
    await expect(page.locator(".notice")).to_contain_text(
        "Your national report was sent: version 1"
    )
    [seen] = await submissions_seen_by(api, ece_secretariat, review["id"])
    assert seen["latest_version"] == 1

    # Resubmitted from the keyboard: the link, a change typed, the space bar on "Send".
    await page.locator("#start-form").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator(".notice")).to_contain_text("starts from version 1")
    await page.locator("#f-next_steps").fill("")
    await fill_by_keyboard(page, "f-next_steps", "A national plan in 2025.")
    await assert_accessible(page)
    await page.get_by_role("button", name="Send your national report").focus()
    await page.keyboard.press("Space")
    await expect(page.locator(".notice")).to_contain_text("version 2")
    await page.get_by_role("link", name=re.compile("Version 1")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your national report, version 1"
    )
    await assert_accessible(page)
    [seen] = await submissions_seen_by(api, ece_secretariat, review["id"])
    assert seen["latest_version"] == 2
    own_host = str(api.make_url("")).rstrip("/")
    assert all(url.startswith(own_host) for url in page.requests_made)  # type: ignore[attr-defined]
