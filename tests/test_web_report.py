"""The report in the browser, for those who run the review: the version awaiting a decision
shown in the page with its versions and formats; sending it back with editorial text per
section (the next version has it); approving it (published, the review ends); and the same
404 as for a missing review for everyone else."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from reports.evidence import verify_pack
from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.reviews import eventually
from tests.test_report import review_in_approval
from tests.test_web_invitations import KEY, get, signed_in_as, text
from tests.web_site import CSRF_FIELD, Site, path_of

pytestmark = pytest.mark.usefixtures("worker")

SUMMARY = re.compile(r'<div class="error-summary".*?</div>', re.S)


async def in_approval(site: Site) -> tuple[Any, str]:
    """A secretariat of ECE, and its review whose report version 1 awaits a decision."""
    runs = await site.person("secretariat", regions=("ECE",))
    reviewed = await review_in_approval(site.api, runs, site.make_account)
    return runs, reviewed["run"].id


async def post(
    client: aiohttp.ClientSession, path: str, fields: dict[str, str]
) -> aiohttp.ClientResponse:
    """The form at `path` sent with its own hidden fields and `fields`."""
    html = await get(client, path)
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', html))
    return await client.post(path, data={**hidden, **fields}, allow_redirects=False)


async def shows_version(client: aiohttp.ClientSession, review_id: str, version: int) -> str | None:
    """The report's page once `version` is there and awaits a decision."""
    html = await get(client, f"/reviews/{review_id}/report")
    return html if f"Version {version} awaits your decision." in html else None


async def test_only_those_who_run_the_review_see_its_report(site: Site) -> None:
    runs, review_id = await in_approval(site)
    async with await signed_in_as(site, runs) as secretariat:
        html = await get(secretariat, f"/reviews/{review_id}/report")
    words = text(html)
    assert "Version shown Version 1" in words and "Status Draft" in words
    assert "Version 1 awaits your decision." in words
    # The report's own content, from the renderer of its HTML format, inside the page.
    assert 'id="coverage"' in html and 'class="heatmap"' in html and " style=" not in html
    assert f"/reviews/{review_id}/report/download?format=md&amp;version=1" in html
    # Quotes link to the submissions' pages, not to the API (which wants a token).
    sources = re.findall(r'<a class="src" href="([^"]+)"', html)
    assert sources and all(s.startswith(f"/reviews/{review_id}/submissions/") for s in sources)
    async with await signed_in_as(site, runs) as secretariat:
        assert "National report from Germany, version 1" in text(
            await get(secretariat, unescape(sources[0]))
        )

    others = (
        await site.person("secretariat", regions=("ESCAP",)),
        await site.person("focal_point", country="DEU", regions=("ECE",)),
    )
    for other in others:
        async with await signed_in_as(site, other) as client:
            for path in ("report", "report/approve", "report/request-changes", "audit"):
                refused = await get(client, f"/reviews/{review_id}/{path}", 404)
                gone = await get(client, f"/reviews/no-such-{review_id}/{path}", 404)
                assert text(refused) == text(gone).replace(f"no-such-{review_id}", review_id)


async def test_downloads_are_the_stored_formats(site: Site) -> None:
    runs, review_id = await in_approval(site)
    async with await signed_in_as(site, runs) as client:
        response = await client.get(f"/reviews/{review_id}/report/download?format=json")
        assert response.status == 200
        assert json.loads(await response.text())["version"] == 1
        assert "attachment" in response.headers["Content-Disposition"]
        pdf = await client.get(f"/reviews/{review_id}/report/download?format=pdf")
        assert pdf.status == 200 and pdf.content_type == "application/pdf"
        assert (await pdf.read()).startswith(b"%PDF-")
        assert (await client.get(f"/reviews/{review_id}/report/download?format=docx")).status == 404


async def test_changes_with_editorial_text_reach_the_next_version(site: Site) -> None:
    runs, review_id = await in_approval(site)
    path = f"/reviews/{review_id}/report/request-changes"
    async with await signed_in_as(site, runs) as client:
        form = await get(client, path)
        assert 'name="editorial-objective-7"' in form and 'name="editorial-overview"' in form

        refused = await post(client, path, {"note": " ", "editorial-gaps": "x" * 20_001})
        html = await refused.text()
        assert refused.status == 422
        summary = text(SUMMARY.search(html).group(0))  # type: ignore[union-attr]
        assert "Enter what should change" in summary
        assert "The editorial text for Gaps must be 20,000 characters or fewer" in summary
        assert 'id="note-error"' in html and 'id="editorial-gaps-error"' in html
        assert '<details class="editorial-section editorial-section--level-1" open>' in html

        sent = await post(
            client,
            path,
            {
                "note": "Say more on data <b>",
                "editorial-objective-7": "Objective seven <i>note</i>",
                "editorial-overview": "An overview note",
            },
        )
        assert sent.status == 303
        assert sent.headers["Location"] == f"/reviews/{review_id}/report?requested=1"
        notice = text(await get(client, sent.headers["Location"]))
        assert "Version 2 is being compiled" in notice

        html = await eventually(lambda: shows_version(client, review_id, 2), deadline_s=60)
        body = html[html.index('class="report-body"') :]
        objective_7 = body[body.index('id="objective-7"') : body.index('id="objective-17"')]
        assert "Objective seven &lt;i&gt;note&lt;/i&gt;" in objective_7
        versions = text(html[html.index('id="versions"') : html.index("</table>")])
        assert (
            "Changes to version 1 asked for by" in versions
            and "Say more on data <b>" in versions
            and "Editorial text for: Overview; Objective 7:" in versions
        )
        # Asked again, the form shows the text each section has now.
        again = await get(client, path)
        assert "An overview note" in again and "(has editorial text)" in again


async def test_approving_publishes_the_latest_version(site: Site) -> None:
    runs, review_id = await in_approval(site)
    path = f"/reviews/{review_id}/report/approve"
    async with await signed_in_as(site, runs) as client:
        confirm = text(await get(client, path))
        assert "Approve version 1 and publish it?" in confirm

        html = await get(client, path)
        token = CSRF_FIELD.search(html).group(1)  # type: ignore[union-attr]
        key = KEY.search(html).group(1)  # type: ignore[union-attr]
        stale = await client.post(
            path,
            data={"csrf_token": token, "_key": key, "version": "7"},
            allow_redirects=False,
        )
        assert stale.status == 422 and "Read it before you decide" in await stale.text()

        approved = await post(client, path, {"note": "Approved by the Bureau"})
        assert approved.status == 303
        assert approved.headers["Location"] == f"/reviews/{review_id}/report?approved=1"
        words = text(await get(client, approved.headers["Location"]))
        assert "Version 1 was approved and published." in words
        assert "Status Published on" in words
        assert "The report was approved and published: it can no longer change." in words
        assert "Approve and publish" not in words
        # No decision is left to make: the forms send back to the report's page.
        assert (await client.get(path, allow_redirects=False)).status == 303
        # Published: its evidence pack is a button away, and verifies.
        assert "Download the evidence pack" in words
        pack = await client.get(f"/reviews/{review_id}/evidence")
        assert pack.status == 200 and pack.content_type == "application/zip"
        assert verify_pack(await pack.read()) == []


# A journey of many pages, tens of seconds: with the slow tests.
@pytest.mark.slow
@needs_chromium
async def test_request_changes_then_approve_in_a_browser(page: Page, site: Site) -> None:
    runs, review_id = await in_approval(site)
    await page.goto(path_of(await site.link(runs, f"/reviews/{review_id}/report")))
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", name="The regional report")).to_be_visible()
    await assert_accessible(page)
    await screenshot(page, "report-draft", full_page=False)

    await page.get_by_role("button", name="Request changes").click()
    await page.get_by_role("button", name="Send the report back for changes").click()
    summary = page.locator(".error-summary")
    await expect(summary).to_contain_text("Enter what should change")
    await assert_accessible(page)
    await summary.get_by_role("link", name="Enter what should change").click()
    await expect(page.locator("#note")).to_be_focused()
    await page.keyboard.type("Add a paragraph on return and readmission")
    await page.get_by_text("Objective 21:", exact=False).first.click()
    await page.get_by_label(re.compile("Editorial text for Objective 21")).fill(
        "Three States asked for a regional meeting on readmission."
    )
    await assert_accessible(page)
    await page.get_by_role("button", name="Send the report back for changes").click()
    await expect(page.get_by_role("status")).to_contain_text("Version 2 is being compiled")

    async def compiled() -> bool:
        await page.reload()
        return await page.get_by_text("Version 2 awaits your decision.").count() == 1

    await eventually(compiled, deadline_s=60)
    await expect(page.locator("#objective-21")).to_contain_text("regional meeting on readmission")
    await page.get_by_role("button", name="Approve and publish").click()
    await assert_accessible(page)
    await page.get_by_label("Note (optional)").fill("Approved by the regional Bureau")
    await page.get_by_role("button", name="Approve and publish").click()
    await expect(page.get_by_role("status")).to_contain_text("Version 2 was approved and published")
    await expect(page.locator("#no-decision")).to_contain_text("can no longer change")
    await expect(page.get_by_role("button", name="Download the evidence pack")).to_be_visible()
    await assert_accessible(page)
