"""The secretariat's reviews in the browser: the list of its regions' reviews, the form that
creates one (States and timeline suggested, errors beside their fields, invitations picked or
imported from a CSV file) and the page that changes a review's title and description."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

import aiohttp
import pytest
from playwright.async_api import Page, expect

from domain.reference import load_reference
from domain.review import Deadline
from domain.timeline import DAYS_FROM_OPENING, suggested_timeline
from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.documents import national_report
from tests.reviews import MAIL_DEADLINE_S, eventually
from tests.test_reviews_api import create_review, open_call, submit
from tests.test_web_invitations import get, secretariat, signed_in_as, stakeholder, text
from tests.web_site import CSRF_FIELD, Site, path_of

pytestmark = pytest.mark.usefixtures("worker")

KEY = re.compile(r'name="_key" value="([^"]+)"')
CHECKED_STATE = re.compile(r'name="member_states" value="([A-Z]{3})" checked')
STATE = re.compile(r'name="member_states" value="([A-Z]{3})"')
LISTED = re.compile(r"<tbody>(.*?)</tbody>", re.S)


def date_of(html: str, name: str) -> str:
    found = re.search(rf'id="{name}" name="{name}" value="([^"]*)"', html)
    assert found is not None, name
    return found.group(1)


def error_beside(html: str, field: str) -> str:
    found = re.search(rf'id="{field}-error">(.*?)</p>', html, re.S)
    return text(found.group(1)) if found else ""


def listed(html: str) -> str:
    found = LISTED.search(html)
    return text(found.group(1)) if found else ""


async def new_form(client: aiohttp.ClientSession) -> tuple[str, dict[str, str]]:
    """The form's page, and the fields it carries as sent back unchanged."""
    html = await get(client, "/reviews/new")
    token, key = CSRF_FIELD.search(html), KEY.search(html)
    assert token is not None and key is not None
    fields = {"csrf_token": token.group(1), "_key": key.group(1), "region": "ECE"}
    fields |= {d.value: date_of(html, d.value) for d in Deadline}
    fields |= {"late_submissions": "accept_flagged", "reminder_days": "14, 7, 1"}
    return html, fields


async def send_form(
    client: aiohttp.ClientSession,
    fields: dict[str, str],
    states: list[str],
    stakeholders: list[str] = (),  # type: ignore[assignment]
    csv: str | None = None,
) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for code in states:
        form.add_field("member_states", code)
    for actor_id in stakeholders:
        form.add_field("stakeholders", actor_id)
    if csv is not None:
        form.add_field("csv", csv.encode(), filename="invite.csv", content_type="text/csv")
    return await client.post("/reviews/new", data=form, allow_redirects=False)


async def created_id(response: aiohttp.ClientResponse) -> str:
    assert response.status == 303, await response.text()
    location = response.headers["Location"]
    assert location.startswith("/reviews?created=")
    return location.removeprefix("/reviews?created=")


async def test_the_list_holds_the_secretariats_regions_newest_first(site: Site) -> None:
    tag = secrets.token_hex(4)
    ece, eca = await secretariat(site), await secretariat(site, "ECA")
    older = await create_review(site.api, ece, title=f"{tag} older")
    newer = await create_review(site.api, ece, title=f"{tag} newer")
    await create_review(
        site.api, eca, region="ECA", title=f"{tag} of Africa", member_states=["EGY"]
    )
    client = await signed_in_as(site, ece)

    home = await client.get("/", allow_redirects=False)
    assert (home.status, home.headers["Location"]) == (303, "/reviews")
    html = await get(client, "/reviews")
    rows = listed(html)
    assert f"{tag} newer" in rows and f"{tag} older" in rows
    assert rows.index(f"{tag} newer") < rows.index(f"{tag} older")
    assert f"{tag} of Africa" not in rows
    assert f'href="/reviews/{newer["id"]}/edit"' in html
    assert f"{tag} older ECE Scheduled The call for inputs opens:" in text(html)
    assert older["id"] in html

    focal_point = await signed_in_as(site, await site.person())
    assert (await focal_point.get("/reviews", allow_redirects=False)).status == 403
    assert (await focal_point.get("/reviews/new", allow_redirects=False)).status == 403
    await client.close()
    await focal_point.close()


async def test_the_form_suggests_the_regions_states_and_the_2020_spacing(site: Site) -> None:
    client = await signed_in_as(site, await secretariat(site))
    before = suggested_timeline(datetime.now(UTC))
    html, fields = await new_form(client)
    after = suggested_timeline(datetime.now(UTC))

    ece = load_reference().region("ECE")
    assert ece is not None
    assert set(CHECKED_STATE.findall(html)) == set(ece.default_scope)
    assert set(STATE.findall(html)) == set(ece.iso3_codes)
    for d in Deadline:
        assert fields[d.value] in {
            before.get(d).date().isoformat(),
            after.get(d).date().isoformat(),
        }
    opens = datetime.fromisoformat(fields["call_opens_at"])
    for d, days in DAYS_FROM_OPENING.items():
        assert (datetime.fromisoformat(fields[d.value]) - opens).days == days
    await client.close()


async def test_creating_a_review_through_the_page_starts_it(site: Site) -> None:
    tag = secrets.token_hex(4)
    runs = await secretariat(site)
    client = await signed_in_as(site, runs)
    _, fields = await new_form(client)
    fields |= {"title": f"{tag} Regional review", "description": "Second round, <b>online</b>"}
    fields["reminder_days"] = "7, 1"
    response = await send_form(client, fields, ["DEU", "FRA"])
    review_id = await created_id(response)
    again = await send_form(client, fields, ["DEU", "FRA"])  # the same page sent twice
    assert await created_id(again) == review_id

    answer = await site.api.get(f"/v1/reviews/{review_id}", headers=runs.headers)
    review = await answer.json()
    assert review["phase"] == "scheduled"
    assert (review["member_states"], review["reminder_days"]) == (["DEU", "FRA"], [7, 1])
    assert review["description"] == "Second round, <b>online</b>"
    assert review["stakeholders"] == "open"
    assert review["timeline"]["inputs_due_at"].startswith(fields["inputs_due_at"] + "T23:59:59")
    count = await site.pool.fetchval("SELECT count(*) FROM reviews WHERE title LIKE $1", f"{tag}%")
    assert count == 1
    listing = await get(client, f"/reviews?created={review_id}")
    assert f"The review “{tag} Regional review” was created." in text(listing)
    # The workflow runs: closing its phase now opens the call for inputs.
    advanced = await site.api.post(
        f"/v1/reviews/{review_id}/advance", json={}, headers=runs.headers
    )
    assert (await advanced.json())["phase"] == "call_for_inputs"
    await client.close()


async def test_mistakes_are_shown_beside_their_fields(site: Site) -> None:
    tag = secrets.token_hex(4)
    client = await signed_in_as(site, await secretariat(site))
    _, fields = await new_form(client)
    fields |= {"title": f"{tag} out of order", "reminder_days": "7, soon"}
    fields["consultation_due_at"] = fields["call_opens_at"]
    response = await send_form(client, fields, [])
    html = await response.text()
    assert response.status == 422, html
    assert error_beside(html, "member_states") == (
        "Error: Select at least one member State, from the list"
    )
    assert error_beside(html, "reminder_days").startswith("Error: Enter up to 10 different")
    fields |= {"reminder_days": "7", "report_due_at": "soon"}
    response = await send_form(client, fields, ["DEU"])
    html = await response.text()
    assert response.status == 422, html
    assert error_beside(html, "report_due_at") == (
        "Error: Enter the date the regional report is due as a date, such as 2026-10-26"
    )
    assert 'href="#timeline"' not in html
    fields["report_due_at"] = ""
    assert "Error: Enter the date the regional report is due" in error_beside(
        await (await send_form(client, fields, ["DEU"])).text(), "report_due_at"
    )
    fields["report_due_at"] = date_of(await get(client, "/reviews/new"), "report_due_at")
    response = await send_form(client, fields, ["DEU"])
    html = await response.text()
    assert response.status == 422, html
    assert error_beside(html, "consultation_due_at") == (
        "Error: The date the consultation closes must be after"
        " the date national reports and inputs are due"
    )
    assert 'href="#consultation_due_at"' in html
    assert f'value="{tag} out of order"' in html  # what was typed stays
    assert re.findall(r'name="member_states" value="([A-Z]{3})" checked', html) == ["DEU"]
    missing = await site.pool.fetchval(
        "SELECT count(*) FROM reviews WHERE title LIKE $1", f"{tag}%"
    )
    assert missing == 0
    await client.close()


async def test_stakeholders_picked_and_imported_from_a_csv_file(site: Site) -> None:
    tag = secrets.token_hex(4)
    runs = await secretariat(site)
    # First by name among the region's stakeholders: the form lists the first 2,000, and the
    # session has made more than that.
    picked = await stakeholder(site, f"000 {tag} Picked Org", "Pia")
    listed_one = await stakeholder(site, f"{tag} Listed Org", "Lars")
    elsewhere = await stakeholder(site, f"{tag} Far Org", "Fay", regions=("ECA",))
    client = await signed_in_as(site, runs)
    html, fields = await new_form(client)
    assert f"000 {tag} Picked Org: Pia" in text(html)
    assert f"{tag} Far Org" not in text(html)
    fields["title"] = f"{tag} invited"
    bad_csv = (
        f"email\n{listed_one.actor.email.upper()}\nnobody-{tag}@example.org\n"
        f"{elsewhere.actor.email}\nnot an address\n"
    )
    response = await send_form(client, fields, ["DEU"], [picked.id], bad_csv)
    html = await response.text()
    assert response.status == 422, html
    words = text(html)
    for row, why in (
        (3, "no account has this email"),
        (4, "no account"),
        (5, "this is not an email"),
    ):
        assert f"Row {row} of the CSV file: {why}" in words
    assert "add it on the People page" in words
    assert "Row 2 " not in words
    assert f'value="{picked.id}" checked' in html

    good_csv = f"{listed_one.actor.email}\n\n"
    response = await send_form(client, fields, ["DEU"], [picked.id], good_csv)
    review_id = await created_id(response)
    invited = await site.pool.fetchval("SELECT stakeholders FROM reviews WHERE id = $1", review_id)
    assert set(invited) == {picked.actor.id, listed_one.actor.id}
    assert await eventually(
        lambda: site.invitation(listed_one.actor.email), deadline_s=MAIL_DEADLINE_S
    )
    await client.close()


async def test_editing_the_title_and_description(site: Site) -> None:
    tag = secrets.token_hex(4)
    runs = await secretariat(site)
    review = await create_review(site.api, runs, title=f"{tag} first", stakeholders=[])
    path = f"/reviews/{review['id']}/edit"
    client = await signed_in_as(site, runs)
    html = await get(client, path)
    assert f'value="{tag} first"' in html
    assert f'href="/reviews/{review["id"]}/invitations"' in html
    assert f'href="/reviews/{review["id"]}/dashboard"' in html

    token = CSRF_FIELD.search(html)
    assert token is not None
    form = {"csrf_token": token.group(1), "title": "", "description": "x"}
    refused = await client.post(path, data=form, allow_redirects=False)
    assert refused.status == 422
    assert error_beside(await refused.text(), "title") == (
        "Error: Enter a title of at most 300 characters"
    )
    form |= {"title": f"{tag} renamed", "description": "Now with a description"}
    saved = await client.post(path, data=form, allow_redirects=False)
    assert (saved.status, saved.headers["Location"]) == (303, f"{path}?saved")
    assert "Your changes were saved." in text(await get(client, f"{path}?saved"))
    assert f"{tag} renamed" in listed(await get(client, "/reviews"))
    shown = await get(client, f"/reviews/{review['id']}")
    assert f"<h1>{tag} renamed</h1>" in shown
    assert '<p class="lede" id="description">Now with a description</p>' in shown
    answer = await (await site.api.get(f"/v1/reviews/{review['id']}", headers=runs.headers)).json()
    assert (answer["title"], answer["description"]) == (f"{tag} renamed", "Now with a description")

    patched = await site.api.patch(
        f"/v1/reviews/{review['id']}", json={"title": f"{tag} by API"}, headers=runs.headers
    )
    assert patched.status == 200, await patched.text()
    assert (await patched.json())["description"] == "Now with a description"
    assert f'value="{tag} by API"' in await get(client, path)
    empty = await site.api.patch(f"/v1/reviews/{review['id']}", json={}, headers=runs.headers)
    assert empty.status == 422

    other = await signed_in_as(site, await secretariat(site, "ECA"))
    assert (await other.get(path, allow_redirects=False)).status == 404
    await client.close()
    await other.close()


# A journey of many pages, tens of seconds: with the slow tests.
@pytest.mark.slow
@needs_chromium
async def test_creating_a_review_in_the_browser(page: Page, site: Site) -> None:
    tag = secrets.token_hex(4)
    runs = await secretariat(site)
    await stakeholder(site, f"Migrant Rights Network {tag}", "Ida Lindqvist")
    await page.goto(path_of(await site.link(runs, "/")))
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("link", name="Create a review").click()
    await expect(page.get_by_role("heading", name="Create a review")).to_be_visible()
    await page.get_by_label("Title").fill(f"Regional review of the GCM in the UNECE region {tag}")
    await page.get_by_label("Description (optional)").fill("The second round of regional reviews.")
    await assert_accessible(page)

    await page.get_by_label("Germany").uncheck()
    await page.get_by_label("Find by organisation or name").fill(tag)
    await page.get_by_label(f"Migrant Rights Network {tag}: Ida Lindqvist").check()
    await screenshot(page, "review-create")
    await page.get_by_label("The date the consultation closes").fill("2020-01-01")
    await page.get_by_role("button", name="Create the review").click()
    summary = page.locator(".error-summary")
    await expect(summary).to_contain_text("The date the consultation closes must be in the future")
    await assert_accessible(page)
    await summary.get_by_role("link").first.click()
    await expect(page.locator("#consultation_due_at")).to_be_focused()
    await expect(page.get_by_label("Germany")).not_to_be_checked()

    suggested = suggested_timeline(datetime.now(UTC)).consultation_due_at.date().isoformat()
    await page.locator("#consultation_due_at").fill(suggested)
    await page.get_by_role("button", name="Create the review").click()
    await expect(page.locator(".notice")).to_contain_text(f"UNECE region {tag}” was created.")
    await assert_accessible(page)
    await page.get_by_role(
        "link", name=f"Edit Regional review of the GCM in the UNECE region {tag}"
    ).click()
    await expect(page.get_by_role("heading", name="Edit the review")).to_be_visible()
    await assert_accessible(page)
    row = await site.pool.fetchrow(
        "SELECT member_states, stakeholders FROM reviews WHERE title LIKE $1", f"%{tag}"
    )
    assert "DEU" not in row["member_states"] and "FRA" in row["member_states"]
    assert len(row["stakeholders"]) == 1


async def test_inviting_more_member_states(site: Site) -> None:
    runs = await secretariat(site)
    france = await site.person(country="FRA", regions=("ECE",))
    review = await create_review(site.api, runs, member_states=["DEU"], stakeholders=[])
    path = f"/reviews/{review['id']}/edit"
    client = await signed_in_as(site, runs)
    html = await get(client, path)
    assert 'name="member_states" value="FRA"' in html
    assert 'name="member_states" value="DEU"' not in html  # a member State already
    token, key = CSRF_FIELD.search(html), KEY.search(html)
    assert token is not None and key is not None
    form = {"csrf_token": token.group(1), "_key": key.group(1)}
    refused = await client.post(f"/reviews/{review['id']}/member-states", data=form)
    assert refused.status == 422
    assert error_beside(await refused.text(), "member_states") == (
        "Error: Select at least one member State"
    )

    sent = await client.post(
        f"/reviews/{review['id']}/member-states",
        data={**form, "member_states": "FRA"},
        allow_redirects=False,
    )
    assert (sent.status, sent.headers["Location"]) == (303, f"{path}?states=1")
    notice = text(await get(client, f"{path}?states=1"))
    assert "1 member State invited; its focal points get an invitation by email." in notice
    answer = await (await site.api.get(f"/v1/reviews/{review['id']}", headers=runs.headers)).json()
    assert answer["member_states"] == ["DEU", "FRA"]
    assert await eventually(lambda: site.invitation(france.actor.email))

    # The review's workflow takes France's report once the call is open.
    await open_call(site.api, runs, review["id"])
    submitted = await submit(site.api, france, review["id"], national_report("FRA"))
    assert submitted.status == 201, await submitted.text()

    # Once inputs are closed, no State joins.
    closed = await site.api.post(
        f"/v1/reviews/{review['id']}/advance", json={}, headers=runs.headers
    )
    assert closed.status == 200, await closed.text()
    late = await site.api.post(
        f"/v1/reviews/{review['id']}/invitations",
        json={"member_states": ["ITA"]},
        headers=runs.headers,
    )
    assert late.status == 409, await late.text()
    assert "Member States can be invited only until" in text(await get(client, path))
    await client.close()
