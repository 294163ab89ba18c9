"""The people pages: the accounts a secretariat manages, searched and paged; adding, editing and
deactivating a person (after a confirmation); importing a CSV file through a preview kept on
the server; and the whole of it in a real browser."""

from __future__ import annotations

import re
import secrets
from html import unescape
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.web_site import Site, browser_like, form_token, path_of, post_form

pytestmark = pytest.mark.usefixtures("worker")

HEADER = "name,email,organisation,category,country,role\n"
PERSON_LINK = re.compile(r'<a href="/people/([0-9a-f-]{36})">([^<]*)</a>')


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def get(client: aiohttp.ClientSession, path: str, status: int = 200) -> str:
    response = await client.get(path, allow_redirects=False)
    html = await response.text()
    assert response.status == status, html
    return html


async def post(
    client: aiohttp.ClientSession, path: str, data: dict[str, str], token_from: str | None = None
) -> aiohttp.ClientResponse:
    token = await form_token(client, token_from or path)
    return await client.post(path, data={"csrf_token": token, **data}, allow_redirects=False)


async def upload(client: aiohttp.ClientSession, csv: str) -> aiohttp.ClientResponse:
    token = await form_token(client, "/people/import")
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    form.add_field("file", csv.encode(), filename="people.csv", content_type="text/csv")
    return await client.post("/people/import", data=form, allow_redirects=False)


async def secretariat(site: Site) -> Any:
    sec = await site.person("secretariat", regions=("ECE",))
    await site.sign_in(sec)
    return sec


async def test_only_those_who_manage_accounts_see_people(site: Site) -> None:
    tag = secrets.token_hex(4)
    sec = await secretariat(site)
    made = []
    for name in ("Zoe", "Amy", "Max"):
        response = await site.api.post(
            "/v1/actors", json={"name": f"{tag} {name}", "role": "observer"}, headers=sec.headers
        )
        made.append((await response.json())["id"])
    html = await get(site.client, f"/people?q={tag}&limit=2")
    assert [name for _, name in PERSON_LINK.findall(html)] == [f"{tag} Amy", f"{tag} Max"]
    assert '<a href="/people" aria-current="page">People</a>' in html
    more = re.search(r'<a href="([^"]+)">Show more people</a>', html)
    assert more is not None
    rest = await get(site.client, unescape(more.group(1)))
    assert [name for _, name in PERSON_LINK.findall(rest)] == [f"{tag} Zoe"]

    bad = await get(site.client, "/people?limit=0&country=XX", status=422)
    assert 'href="#country"' in bad and "three-letter code" in text(bad)

    # Anyone else: no link to the page, and the page refuses them.
    other = browser_like(site.api)
    async with other:
        focal_point = await site.person()
        assert (await post_form(other, path_of(await site.link(focal_point)))).status == 303
        tasks = await get(other, "/tasks")
        assert 'href="/people"' not in tasks
        await get(other, "/people", status=403)
        await get(other, f"/people/{made[0]}", status=403)
    # Another secretariat's people are not found.
    other_sec = await site.person("secretariat", regions=("ECE",))
    await site.sign_in(other_sec)
    await get(site.client, f"/people/{made[0]}", status=404)


async def test_adding_editing_and_deactivating_a_person(site: Site) -> None:
    tag = secrets.token_hex(4)
    await secretariat(site)
    refused = await post(site.client, "/people/new", {"name": "", "email": "", "role": ""})
    assert refused.status == 422
    assert 'href="#email"' in await refused.text()
    address = f"new-{tag}@example.org"
    form = {"name": f"New {tag}", "email": address, "role": "focal_point", "country": "deu"}
    added = await post(site.client, "/people/new", form)
    assert added.status == 303, await added.text()
    person_path = added.headers["Location"].partition("?")[0]
    assert "The person has been added" in text(await get(site.client, added.headers["Location"]))
    assert await site.mailed_link(address)  # the invitation

    edited = await post(
        site.client, person_path, {"name": f"Renamed {tag}", "email": "nope", "organisation": ""}
    )
    assert edited.status == 422 and 'href="#email"' in await edited.text()
    saved = await post(
        site.client, person_path, {"name": f"Renamed {tag}", "email": address, "organisation": ""}
    )
    assert saved.status == 303
    assert f"Renamed {tag}" in text(await get(site.client, person_path))

    confirm = await get(site.client, f"{person_path}/deactivate")
    assert f"Are you sure you want to deactivate Renamed {tag}?" in text(confirm)
    done = await post(site.client, f"{person_path}/deactivate", {"reason": "Left the ministry"})
    assert done.status == 303
    assert "Deactivated" in text(await get(site.client, person_path))
    reason = await site.pool.fetchval(
        """SELECT data ->> 'reason' FROM account_events
           WHERE type = 'account.deactivated' AND account_id = $1::uuid""",
        person_path.rsplit("/", 1)[1],
    )
    assert reason == "Left the ministry"


async def test_importing_through_a_preview_kept_on_the_server(site: Site) -> None:
    tag = secrets.token_hex(4)
    await secretariat(site)
    example = await site.client.get("/people/import/example.csv")
    assert example.status == 200 and example.content_type == "text/csv"
    assert (await example.text()).startswith(HEADER.strip())

    csv = HEADER + f"Ann {tag},ann-{tag}@example.org,,,,observer\nBad {tag},nope,,,,observer\n"
    uploaded = await upload(site.client, csv)
    assert uploaded.status == 303, await uploaded.text()
    preview_path = uploaded.headers["Location"]
    preview = text(await get(site.client, preview_path))
    assert "1 to add, 0 to update, 0 unchanged, 1 with errors" in preview
    assert "Row 3, email:" in preview

    # The upload is its uploader's alone.
    async with browser_like(site.api) as other:
        someone = await site.person("secretariat", regions=("ECE",))
        assert (await post_form(other, path_of(await site.link(someone)))).status == 303
        await get(other, preview_path, status=404)

    applied = await post(site.client, preview_path, {})
    assert applied.status == 303
    assert "Import done: 1 added" in text(await get(site.client, applied.headers["Location"]))
    assert await site.mailed_link(f"ann-{tag}@example.org")
    # Confirmed again (a second click): the upload is gone, nothing more is made.
    again = await post(site.client, preview_path, {}, token_from="/people")
    assert again.status == 404
    second = await upload(site.client, csv)
    assert "0 to add, 0 to update, 1 unchanged, 1 with errors" in text(
        await get(site.client, second.headers["Location"])
    )

    not_csv = await upload(site.client, "just some text\n")
    assert not_csv.status == 422 and "first row must name the columns" in text(await not_csv.text())


@needs_chromium
async def test_managing_people_in_the_browser(page: Page, site: Site, tmp_path: Any) -> None:
    tag = secrets.token_hex(3)
    sec = await site.person("secretariat", regions=("ECE",), name="ECE secretariat")
    csv = tmp_path / "people.csv"
    csv.write_text(
        HEADER + f"Amal Haddad,amal-{tag}@example.org,Diaspora Council {tag},"
        "diaspora_migrant_organisations,,stakeholder\n"
        f"Boris Petrov,boris-{tag}@example.org,Workers Union {tag},trade_unions,,stakeholder\n"
        f"Clara Weiss,clara-{tag}@example.org,,,DEU,focal_point\n"
        f"Dana Novak,not-an-address,,,,observer\n"
    )
    await page.goto(path_of(await site.link(sec, "/people")))
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("link", name="Import people from a CSV file").click()
    await assert_accessible(page)
    await page.locator("#file").set_input_files(str(csv))
    await page.get_by_role("button", name="Check the file").click()
    await expect(page.locator("#counts")).to_contain_text("3 to add, 0 to update")
    await expect(page.locator(".error-summary")).to_contain_text("Row 5, email:")
    await assert_accessible(page)
    await screenshot(page, "people-import")
    await page.get_by_role("button", name="Import 3 rows").click()
    await expect(page.locator(".notice")).to_contain_text("Import done: 3 added")

    await page.get_by_label("Name, email address or organisation").fill(f"workers union {tag}")
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("#people tbody tr")).to_have_count(1)
    await assert_accessible(page)
    await page.get_by_role("link", name="Boris Petrov").click()
    await page.get_by_label("Full name").fill("Boris Petrov-Ivanov")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator(".notice")).to_contain_text("The changes have been saved.")
    await expect(page.locator("h1")).to_have_text("Boris Petrov-Ivanov")

    await page.get_by_role("link", name="Deactivate this account").click()
    await expect(page.locator("h1")).to_contain_text("Are you sure you want to deactivate")
    await assert_accessible(page)
    await page.get_by_label("Reason (optional)").fill("Left the union")
    await page.get_by_role("button", name="Yes, deactivate the account").click()
    await expect(page.locator("#status")).to_have_text("Deactivated")

    await page.get_by_role("link", name="People").first.click()
    await page.get_by_label("Name, email address or organisation").fill(tag)
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("#people tbody tr")).to_have_count(3)
    await assert_accessible(page)
    await screenshot(page, "people")
    made: list[str] = page.requests_made  # type: ignore[attr-defined]
    assert all(url.startswith(str(site.api.make_url(""))) for url in made)  # nothing elsewhere
