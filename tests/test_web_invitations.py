"""Inviting more stakeholders to a review from the browser, for those who run it: the region's
stakeholders not yet invited, searched and paged; inviting through the API's use case (once
per page, a mail each); every refusal as a page; and the page with the keyboard alone."""

from __future__ import annotations

import re
import secrets
from html import unescape
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.reviews import eventually
from tests.test_reviews_api import create_review
from tests.web_site import Site, browser_like, form_token, path_of, post_form

pytestmark = pytest.mark.usefixtures("worker")

KEY = re.compile(r'name="_key" value="([^"]+)"')
PICKABLE = re.compile(r'name="stakeholders" value="([0-9a-f-]{36})"')
INVITED_ROWS = re.compile(r'<table id="invited">.*?<tbody>(.*?)</tbody>', re.S)
SUMMARY = re.compile(r'<div class="error-summary".*?</div>', re.S)


def text(html: str) -> str:
    """The page's words, tags and spacing dropped."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def invited_part(html: str) -> str:
    found = INVITED_ROWS.search(html)
    return text(found.group(1)) if found else ""


def more_link(html: str, label: str) -> str:
    found = re.search(rf'<a href="([^"]+)">{label}</a>', html)
    assert found is not None, label
    return unescape(found.group(1))


async def stakeholder(site: Site, organisation: str, name: str, **fields: Any) -> Any:
    fields.setdefault("regions", ("ECE",))
    fields.setdefault("stakeholder_category", "civil_society")
    return await site.person("stakeholder", organisation=organisation, name=name, **fields)


async def secretariat(site: Site, region: str = "ECE") -> Any:
    return await site.person("secretariat", regions=(region,))


async def review_inviting(
    site: Site, runs: Any, invited: list[Any], title: str = "Review <i>of</i> ECE"
) -> str:
    created = await create_review(site.api, runs, stakeholders=[s.id for s in invited], title=title)
    return str(created["id"])


async def get(client: aiohttp.ClientSession, path: str, status: int = 200) -> str:
    response = await client.get(path, allow_redirects=False)
    html = await response.text()
    assert response.status == status, html
    return html


async def signed_in_as(site: Site, account: Any) -> aiohttp.ClientSession:
    """A browser of its own, signed in as `account`."""
    client = browser_like(site.api)
    assert (await post_form(client, path_of(await site.link(account)))).status == 303
    return client


async def send(
    site: Site, path: str, picked: list[Any], key: str | None = None
) -> aiohttp.ClientResponse:
    """The form at `path` sent with `picked` ticked (and its own key, unless `key`)."""
    html = await get(site.client, path)
    found = KEY.search(html)
    assert found is not None
    token = await form_token(site.client, path)
    data = [("csrf_token", token), ("_key", key or found.group(1))]
    data += [("stakeholders", s.id) for s in picked]
    return await site.client.post(path, data=data, allow_redirects=False)


async def test_only_the_regions_stakeholders_not_yet_invited_are_offered(site: Site) -> None:
    tag = secrets.token_hex(4)
    runs = await secretariat(site)
    invited = await stakeholder(site, f"{tag} Invited Org", "Ida")
    bob = await stakeholder(site, f"{tag} Alpha Org", "Bob")
    ann = await stakeholder(site, f"{tag} Alpha Org", "Ann", stakeholder_category="academia")
    zed = await stakeholder(site, f"{tag} Beta <b>Org</b>", "Zed")
    await stakeholder(site, f"{tag} Elsewhere", "Eve", regions=("ECA",))
    closed = await stakeholder(site, f"{tag} Closed Org", "Cid")
    await site.pool.execute("UPDATE actors SET disabled_at = now() WHERE id = $1", closed.actor.id)
    review_id = await review_inviting(site, runs, [invited])
    await site.sign_in(runs)

    html = await get(site.client, f"/reviews/{review_id}/invitations?q={tag}")
    assert PICKABLE.findall(html) == [ann.id, bob.id, zed.id]  # by organisation, then name
    assert f"{tag} Beta &lt;b&gt;Org&lt;/b&gt;: Zed" in html  # names show as text
    assert "Review &lt;i&gt;of&lt;/i&gt; ECE" in html
    page_text = text(html)
    assert f"{tag} Alpha Org: Ann (Academia" in page_text
    assert "1 stakeholder is invited." in page_text
    assert invited_part(html) == f"{tag} Invited Org Ida Civil society"

    # The search is on organisation or name, in any case, its wildcards taken as typed.
    by_name = await get(site.client, f"/reviews/{review_id}/invitations?q=ZED+")
    assert zed.id in PICKABLE.findall(by_name)
    alpha = await get(site.client, f"/reviews/{review_id}/invitations?q={tag.upper()}+ALPHA")
    assert PICKABLE.findall(alpha) == [ann.id, bob.id]
    wildcard = await get(site.client, f"/reviews/{review_id}/invitations?q={tag}%25Org")
    assert PICKABLE.findall(wildcard) == []
    assert "No stakeholder of the region who is not invited yet matches this search" in text(
        wildcard
    )


async def test_a_long_list_comes_a_page_at_a_time(site: Site) -> None:
    tag = secrets.token_hex(4)
    runs = await secretariat(site)
    everyone = [await stakeholder(site, f"{tag} Org {i:02d}", "Pat") for i in range(53)]
    invited = everyone[:2]
    review_id = await review_inviting(site, runs, invited)
    for extra in range(51):  # paged too: the invited list
        invited.append(await stakeholder(site, f"{tag} Late {extra:02d}", "Lee"))
    await site.pool.execute(
        "UPDATE reviews SET stakeholders = $2 WHERE id = $1",
        review_id,
        [s.actor.id for s in invited],
    )
    await site.sign_in(runs)
    path = f"/reviews/{review_id}/invitations"

    first = await get(site.client, f"{path}?q={tag}+org")
    assert PICKABLE.findall(first) == [s.id for s in everyone[2:52]]
    second = await get(site.client, more_link(first, "Show more stakeholders"))
    assert PICKABLE.findall(second) == [everyone[52].id]
    assert "Back to the first stakeholders" in second
    assert "53 stakeholders are invited." in text(first)
    # By organisation: the 51 "Late" ones, then the 2 "Org" ones.
    assert invited_part(first).count(" Lee ") == 50 and " Pat " not in invited_part(first)
    more_invited = await get(site.client, more_link(first, "Show more invited stakeholders"))
    assert invited_part(more_invited) == " ".join(
        f"{tag} {organisation} Civil society"
        for organisation in ("Late 50 Lee", "Org 00 Pat", "Org 01 Pat")
    )
    assert PICKABLE.findall(more_invited) == PICKABLE.findall(first)  # the search kept

    # A place in the lists typed into the address is named beside its field, never a failure.
    for query in ("after=nope", "invited_after=%00", "q=%00", "q=" + "x" * 201, "q=%ED%A0%80"):
        response = await site.client.get(f"{path}?{query}", allow_redirects=False)
        assert response.status in (200, 422), await response.text()
    too_long = await get(site.client, f"{path}?q={'x' * 201}", status=422)
    assert 'href="#q"' in too_long and 'id="q-error"' in too_long
    assert "Enter at most 200 characters" in text(too_long)
    assert len(PICKABLE.findall(too_long)) == 50  # the list without the search
    forged = await get(site.client, f"{path}?q={tag}&after=nope", status=422)
    assert 'href="#more"' in forged and "the list starts again" in text(forged)


async def test_inviting_two_mails_each_an_invitation_once(site: Site) -> None:
    tag = secrets.token_hex(4)
    runs = await secretariat(site)
    first = await stakeholder(site, f"{tag} First", "Ida")
    a = await stakeholder(site, f"{tag} A", "Ann")
    b = await stakeholder(site, f"{tag} B", "Ben")
    c = await stakeholder(site, f"{tag} C", "Cy")
    review_id = await review_inviting(site, runs, [first])
    await site.sign_in(runs)
    path = f"/reviews/{review_id}/invitations?q={tag}"

    html = await get(site.client, path)
    found = KEY.search(html)
    assert found is not None
    sent = await send(site, path, [a, b], key=found.group(1))
    assert sent.status == 303
    after = await get(site.client, sent.headers["Location"])
    assert "2 stakeholders invited; each gets an invitation by email." in text(after)
    assert PICKABLE.findall(after) == [c.id]
    assert f"{tag} A Ann" in invited_part(after) and f"{tag} B Ben" in invited_part(after)
    assert "3 stakeholders are invited." in text(after)
    for person in (a, b):
        link = await eventually(lambda person=person: site.invitation(person.actor.email))
        assert link.startswith("http")

    # The same page sent again (a double click): the answer of the first, nobody invited twice.
    again = await send(site, path, [a, b], key=found.group(1))
    assert again.status == 303
    assert again.headers["Location"] == sent.headers["Location"]
    recorded = await site.pool.fetchval(
        "SELECT count(*) FROM review_events WHERE review_id = $1 AND type = 'stakeholders.invited'",
        review_id,
    )
    assert recorded == 1
    for person in (a, b):
        assert len(await site.mails_to(person.actor.email)) == 1
    # The same page's key with other choices: refused in plain words, nobody invited.
    reused = await send(site, path, [c], key=found.group(1))
    assert reused.status == 422
    assert "This page was already used to invite other stakeholders" in text(await reused.text())

    # From a page shown before: those invited since are counted, not invited again.
    late = await send(site, path, [a, c])
    assert late.status == 303
    notice = text(await get(site.client, late.headers["Location"]))
    assert "1 stakeholder invited; they get an invitation by email. 1 was invited already." in (
        notice
    )


async def test_nothing_picked_or_someone_not_offered_is_named_beside_the_list(
    site: Site,
) -> None:
    tag = secrets.token_hex(4)
    runs = await secretariat(site)
    a = await stakeholder(site, f"{tag} A", "Ann")
    foreign = await stakeholder(site, f"{tag} F", "Fay", regions=("ECA",))
    review_id = await review_inviting(site, runs, [])
    await site.sign_in(runs)
    path = f"/reviews/{review_id}/invitations?q={tag}"

    nothing = await send(site, path, [])
    html = await nothing.text()
    assert nothing.status == 422, html
    summary = SUMMARY.search(html)
    assert summary is not None
    assert '<a href="#stakeholders">Select at least one stakeholder</a>' in summary.group(0)
    assert 'id="stakeholders-error"' in html and "form-group--error" in html
    assert 'id="stakeholders" name="stakeholders"' in html  # where the summary's link leads
    assert "No stakeholder is invited yet." in text(html)

    refused = await send(site, path, [a, foreign])
    html = await refused.text()
    assert refused.status == 422, html
    assert "can no longer be invited" in text(html)
    assert 'name="stakeholders" value="' + a.id + '" checked' in html  # the choice kept
    token = await form_token(site.client, path)
    forged = await site.client.post(
        path, data={"csrf_token": token, "stakeholders": "not-an-id"}, allow_redirects=False
    )
    assert forged.status == 422
    assert "Select stakeholders from the list" in text(await forged.text())
    invited = await site.pool.fetchval(
        "SELECT cardinality(stakeholders) FROM reviews WHERE id = $1", review_id
    )
    assert invited == 0


async def test_only_those_who_run_the_review_may_invite(site: Site) -> None:
    tag = secrets.token_hex(4)
    runs = await secretariat(site)
    a = await stakeholder(site, f"{tag} A", "Ann")
    b = await stakeholder(site, f"{tag} B", "Ben")
    review_id = await review_inviting(site, runs, [a])
    path = f"/reviews/{review_id}/invitations"
    for person, status in (
        (await site.person("focal_point", country="DEU"), 403),
        (a, 403),  # invited, so the review is theirs to see: not to run
        (await secretariat(site, "ECA"), 404),
    ):
        async with await signed_in_as(site, person) as client:
            await get(client, path, status)
            token = await form_token(client, "/account")
            posted = await client.post(
                path, data={"csrf_token": token, "stakeholders": b.id}, allow_redirects=False
            )
            assert posted.status == status, await posted.text()
            if status == 403:
                review_page = await get(client, f"/reviews/{review_id}")
                assert "Invite stakeholders" not in review_page
    # A visitor is asked to sign in first.
    async with browser_like(site.api) as visitor:
        asked = await visitor.get(path, allow_redirects=False)
        assert asked.status == 303 and asked.headers["Location"].startswith("/sign-in")
    invited = await site.pool.fetchval("SELECT stakeholders FROM reviews WHERE id = $1", review_id)
    assert invited == [a.actor.id]

    # Those who run it reach the page from the review's.
    await site.sign_in(runs)
    review_page = await get(site.client, f"/reviews/{review_id}")
    assert f'<a href="{path}" id="invite-stakeholders">Invite stakeholders</a>' in review_page


async def test_a_review_open_to_all_or_ended_offers_nobody(site: Site) -> None:
    runs = await secretariat(site)
    a = await stakeholder(site, f"{secrets.token_hex(4)} A", "Ann")
    open_review = await create_review(site.api, runs)
    await site.sign_in(runs)
    path = f"/reviews/{open_review['id']}/invitations"
    html = await get(site.client, path)
    assert "open to every stakeholder of its region" in text(html)
    main = html.split("<main")[1].split("</main>")[0]
    assert PICKABLE.findall(html) == [] and '<form method="post"' not in main
    token = await form_token(site.client, path)
    refused = await site.client.post(
        path, data={"csrf_token": token, "stakeholders": a.id}, allow_redirects=False
    )
    assert refused.status == 409
    assert "open to every stakeholder of its region" in text(await refused.text())

    ended_id = await review_inviting(site, runs, [])
    cancelled = await site.api.post(
        f"/v1/reviews/{ended_id}/cancel", json={"reason": "Merged"}, headers=runs.headers
    )
    assert cancelled.status == 200, await cancelled.text()
    ended = await get(site.client, f"/reviews/{ended_id}/invitations")
    assert "The review has ended: nobody can be invited to it." in text(ended)
    assert PICKABLE.findall(ended) == []


@needs_chromium
async def test_picking_stakeholders_with_the_keyboard(page: Page, site: Site) -> None:
    tag = secrets.token_hex(4)
    runs = await secretariat(site)
    first = await stakeholder(site, f"Migrant Rights Network {tag}", "Ida Lindqvist")
    a = await stakeholder(site, f"Diaspora Council {tag}", "Amal Haddad")
    b = await stakeholder(
        site, f"Workers Union {tag}", "Boris Petrov", stakeholder_category="trade_unions"
    )
    title = "Regional review of the GCM in the UNECE region: follow-up"
    review_id = await review_inviting(site, runs, [first], title)

    await page.goto(path_of(await site.link(runs, f"/reviews/{review_id}")))
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("link", name="Invite stakeholders").click()
    await page.locator("#q").focus()
    await page.keyboard.type(tag)
    await page.keyboard.press("Enter")
    await expect(page.locator('input[name="stakeholders"]')).to_have_count(2)
    await assert_accessible(page)
    await screenshot(page, "invitations")

    invite = page.get_by_role("button", name="Invite the selected stakeholders")
    await invite.focus()
    await page.keyboard.press("Enter")
    summary = page.locator(".error-summary")
    await expect(summary).to_contain_text("Select at least one stakeholder")
    await assert_accessible(page)
    await summary.get_by_role("link").click()
    await expect(page.locator("#stakeholders")).to_be_focused()
    await page.keyboard.press("Space")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Space")
    await page.keyboard.press("Tab")
    await expect(invite).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator(".notice")).to_contain_text(
        "2 stakeholders invited; each gets an invitation by email."
    )
    await expect(page.locator("#invited")).to_contain_text("Boris Petrov")
    await assert_accessible(page)
    invited = await site.pool.fetchval("SELECT stakeholders FROM reviews WHERE id = $1", review_id)
    assert set(invited) == {first.actor.id, a.actor.id, b.actor.id}
