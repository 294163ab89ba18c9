"""The page of a review's messages that failed for good, for its secretariat: listed with
to whom, what, when and why, each sent again after a confirmation; nobody else sees them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.reviews import eventually
from tests.test_reviews_api import create_review
from tests.test_web_invitations import get, signed_in_as
from tests.web_site import Site, form_token, path_of

pytestmark = pytest.mark.usefixtures("worker")

REASON = "550 5.1.1 no such mailbox"


async def failed_message(site: Site, review_id: str, recipient: Any) -> uuid.UUID:
    """A message of the review's creation to `recipient`, failed for good after one attempt,
    as the sender leaves one that a mail server refused (tests/test_failed_deliveries.py
    makes one through a real mail server). `recipient` is none the rules tell of the event,
    so the session's sender makes no delivery of its own to it meanwhile."""

    async def created() -> uuid.UUID | None:
        return await site.pool.fetchval(
            "SELECT id FROM review_events WHERE review_id = $1 AND type = 'review.created'",
            review_id,
        )

    event = await eventually(created)
    delivery = uuid.uuid4()
    await site.pool.execute(
        """INSERT INTO deliveries (id, event_id, channel, recipient, address, template, status,
                                   attempts, last_error)
           VALUES ($1, $2, 'email', $3, $4, 'review.invited', 'failed', 1, $5)""",
        delivery,
        event,
        recipient.actor.id,
        recipient.actor.email,
        REASON,
    )
    return delivery


async def review_with_a_failed_message(site: Site) -> tuple[Any, Any, str, uuid.UUID]:
    runs = await site.person("secretariat", regions=("ECE",))
    recipient = await site.person("observer", regions=("ECA",))
    review_id = (await create_review(site.api, runs))["id"]
    return runs, recipient, review_id, await failed_message(site, review_id, recipient)


async def test_only_those_who_run_the_review_see_or_resend_its_failed_messages(
    site: Site,
) -> None:
    runs, recipient, review_id, delivery = await review_with_a_failed_message(site)
    listing = f"/reviews/{review_id}/deliveries"
    confirm = f"{listing}/{delivery}/retry"
    germany = await site.person("focal_point", country="DEU")
    other_region = await site.person("secretariat", regions=("ECA",))
    for person in (germany, other_region, recipient):
        async with await signed_in_as(site, person) as client:
            await get(client, listing, status=404)
            await get(client, confirm, status=404)
            token = await form_token(client, "/tasks")
            refused = await client.post(confirm, data={"csrf_token": token}, allow_redirects=False)
            assert refused.status == 404
    async with await signed_in_as(site, runs) as client:
        await get(client, f"/reviews/{review_id}/deliveries/{uuid.uuid4()}/retry", status=404)
        assert recipient.actor.name in await get(client, listing)
    status = await site.pool.fetchval("SELECT status FROM deliveries WHERE id = $1", delivery)
    assert status == "failed"


@needs_chromium
async def test_a_failed_message_is_sent_again_from_its_page_in_a_browser(
    page: Page, site: Site
) -> None:
    runs, recipient, review_id, delivery = await review_with_a_failed_message(site)

    await page.goto(path_of(await site.link(runs, f"/reviews/{review_id}/dashboard")))
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("link", name="Messages that failed").click()
    await expect(page.get_by_role("heading", name="Messages that failed")).to_be_visible()
    row = page.locator("#failed tbody tr")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text(recipient.actor.name)
    await expect(row).to_contain_text(REASON)
    await assert_accessible(page)
    await screenshot(page, "failed-messages")

    await row.get_by_role("link", name="Send again").click()
    await expect(page.get_by_role("heading", name="Send the message again?")).to_be_visible()
    await assert_accessible(page)
    await page.get_by_role("button", name="Send it again").click()
    await expect(page.get_by_role("status")).to_contain_text("will be sent again")
    await assert_accessible(page)

    async def sent() -> bool:
        status = await site.pool.fetchval("SELECT status FROM deliveries WHERE id = $1", delivery)
        return bool(status == "sent")

    await eventually(sent, deadline_s=30)
    await page.reload()
    await expect(page.locator("#none-failed")).to_be_visible()
    retried = await site.pool.fetch(
        "SELECT actor_id FROM review_events WHERE review_id = $1 AND type = 'delivery.retried'",
        review_id,
    )
    assert [r["actor_id"] for r in retried] == [runs.actor.id]
    assert all(url.startswith(str(site.api.make_url(""))) for url in page.requests_made)  # type: ignore[attr-defined]
