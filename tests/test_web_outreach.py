"""Reminding and writing to a review's people from the browser, for those who run it: the
confirmation page lists who would be reminded, sends once an hour and says when it can again;
the message form names every problem beside its field, then says what was sent."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests import documents
from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.test_reviews_api import create_review, open_call
from tests.test_web_invitations import get, secretariat, signed_in_as, stakeholder, text
from tests.web_site import Site, form_token, path_of

pytestmark = pytest.mark.usefixtures("worker")

KEY = re.compile(r'name="_key" value="([^"]+)"')


async def _call_missing_france(site: Site, runs: Any, invited: list[Any]) -> str:
    """A review of DEU and FRA inviting `invited`, in its call for inputs, DEU's report sent."""
    created = await create_review(
        site.api, runs, member_states=["DEU", "FRA"], stakeholders=[s.id for s in invited]
    )
    review_id = str(created["id"])
    await open_call(site.api, runs, review_id)
    germany = await site.person("focal_point", country="DEU")
    sent = await site.api.post(
        f"/v1/reviews/{review_id}/submissions",
        json={"kind": "national_report", "content": documents.national_report("DEU")},
        headers=germany.headers,
    )
    assert sent.status == 201, await sent.text()
    return review_id


async def _post(site: Site, path: str, **fields: str) -> Any:
    """The form at `path` sent with `fields`, its CSRF token and a key of its own."""
    html = await get(site.client, path)
    key = KEY.search(html)
    assert key is not None
    token = await form_token(site.client, path)
    data = {"csrf_token": token, "_key": key.group(1), **fields}
    return await site.client.post(path, data=data, allow_redirects=False)


async def test_the_page_lists_who_is_reminded_sends_once_and_says_when_again(
    site: Site,
) -> None:
    tag = secrets.token_hex(4)
    runs = await secretariat(site)
    a = await stakeholder(site, f"{tag} Alpha", "Ann")
    review_id = await _call_missing_france(site, runs, [a])
    path = f"/reviews/{review_id}/remind"
    await site.sign_in(runs)

    shown = text(await get(site.client, path))
    assert "1 member State has not sent its national report: France" in shown
    assert f"1 stakeholder has not acted yet: {tag} Alpha: Ann" in shown
    assert "Germany" not in shown

    sent = await _post(site, path)
    assert sent.status == 303
    done = text(await get(site.client, sent.headers["Location"]))
    assert "Reminders sent to 1 member State and 1 stakeholder." in done
    assert "You can send them again from" in done
    assert "Send reminders now" not in done

    refused = await site.client.post(
        path,
        data={"csrf_token": await form_token(site.client, "/account"), "_key": "another"},
        allow_redirects=False,
    )
    assert refused.status == 429
    words = text(await refused.text())
    assert "No reminder was sent. Reminders were sent at" in words
    assert "again from" in words
    recorded = await site.pool.fetch(
        "SELECT actor_id FROM review_events WHERE review_id = $1 AND type = 'reminder.sent_now'",
        review_id,
    )
    assert [r["actor_id"] for r in recorded] == [runs.actor.id]


async def test_before_the_call_nobody_is_reminded(site: Site) -> None:
    runs = await secretariat(site)
    created = await create_review(site.api, runs, stakeholders=[])
    await site.sign_in(runs)
    html = await get(site.client, f"/reviews/{created['id']}/remind")
    assert "nobody has anything to send now" in text(html)
    assert "Send reminders now" not in html


async def test_only_those_who_run_the_review_may_remind_or_write(site: Site) -> None:
    runs = await secretariat(site)
    a = await stakeholder(site, f"{secrets.token_hex(4)} A", "Ann")
    review_id = await _call_missing_france(site, runs, [a])
    for person, status in (
        (await site.person("focal_point", country="FRA"), 403),
        (a, 403),
        (await secretariat(site, "ECA"), 404),
    ):
        async with await signed_in_as(site, person) as client:
            for page in ("remind", "announce"):
                path = f"/reviews/{review_id}/{page}"
                await get(client, path, status)
                token = await form_token(client, "/account")
                fields = {"audience": "participants", "subject": "S", "body": "B"}
                posted = await client.post(
                    path, data={"csrf_token": token, **fields}, allow_redirects=False
                )
                assert posted.status == status, await posted.text()
    events = await site.pool.fetchval(
        """SELECT count(*) FROM review_events WHERE review_id = $1
           AND type IN ('reminder.sent_now', 'announcement.sent')""",
        review_id,
    )
    assert events == 0


async def test_the_message_form_names_each_problem_then_says_what_was_sent(site: Site) -> None:
    runs = await secretariat(site)
    a = await stakeholder(site, f"{secrets.token_hex(4)} A", "Ann")
    review_id = await _call_missing_france(site, runs, [a])
    path = f"/reviews/{review_id}/announce"
    await site.sign_in(runs)
    form = text(await get(site.client, path))
    assert "Stakeholders still missing (1 person)" in form

    empty = await _post(site, path, subject="  ", body=" \n ")
    assert empty.status == 422
    words = text(await empty.text())
    for message in ("Select who to send the message to", "Enter a subject", "Enter a message"):
        assert words.count(message) == 2  # in the summary and beside its field

    long = await _post(site, path, audience="participants", subject="x" * 201, body="kept")
    html = await long.text()
    assert long.status == 422
    assert text(html).count("The subject must be 200 characters or fewer") == 2
    assert ">kept</textarea>" in html and 'value="participants" checked' in html

    sent = await _post(
        site, path, audience="stakeholders_missing", subject="Meeting", body="See you <b>"
    )
    assert sent.status == 303
    done = text(await get(site.client, sent.headers["Location"]))
    assert "Your message was sent by email to 1 person (stakeholders still missing)." in done
    recorded = await site.pool.fetchrow(
        "SELECT data FROM review_events WHERE review_id = $1 AND type = 'announcement.sent'",
        review_id,
    )
    assert recorded["data"]["body"] == "See you <b>"
    assert recorded["data"]["recipients"] == [a.id]


@needs_chromium
async def test_reminding_and_writing_with_the_keyboard(page: Page, site: Site) -> None:
    tag = secrets.token_hex(4)
    runs = await secretariat(site)
    a = await stakeholder(site, f"Diaspora Council {tag}", "Amal Haddad")
    review_id = await _call_missing_france(site, runs, [a])

    await page.goto(path_of(await site.link(runs, f"/reviews/{review_id}/remind")))
    await page.get_by_role("button", name="Continue").click()
    await expect(page.locator("#states")).to_contain_text("France")
    await assert_accessible(page)
    await screenshot(page, "remind")
    await page.get_by_role("button", name="Send reminders now").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#reminded")).to_contain_text(
        "Reminders sent to 1 member State and 1 stakeholder."
    )
    await expect(page.locator("#possible-from")).to_contain_text("send them again from")
    await assert_accessible(page)

    await page.goto(f"/reviews/{review_id}/announce")
    send = page.get_by_role("button", name="Send the message")
    await send.focus()
    await page.keyboard.press("Enter")
    summary = page.locator(".error-summary")
    await expect(summary).to_contain_text("Enter a subject")
    await assert_accessible(page)
    await screenshot(page, "announce")
    await summary.get_by_role("link", name="Select who to send the message to").click()
    await expect(page.locator("#audience")).to_be_focused()
    await page.keyboard.press("Space")
    await page.locator("#subject").fill("Regional meeting")
    await page.locator("#body").fill("The regional meeting is on 12 November.")
    await send.click()
    await expect(page.locator("#announced")).to_contain_text("Your message was sent by email to")
    await assert_accessible(page)
