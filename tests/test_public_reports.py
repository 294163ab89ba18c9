"""Every report version is also a PDF, frozen with it; published reports are public pages,
files and a feed, read without signing in, and a draft is never among them."""

from __future__ import annotations

import io
import secrets
import xml.etree.ElementTree as ET
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Page
from pypdf import PdfReader

from tests import documents
from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.reviews import review_body
from tests.test_report import Run

pytestmark = pytest.mark.usefixtures("worker")

ATOM = "{http://www.w3.org/2005/Atom}"


def pdf_text(pdf: bytes) -> str:
    """The PDF's text, whitespace runs as one space (a title may wrap)."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


async def stored_pdf(pool: asyncpg.Pool, review_id: str, version: int) -> bytes | None:
    found: bytes | None = await pool.fetchval(
        "SELECT pdf FROM reports WHERE review_id = $1 AND version = $2", review_id, version
    )
    return found


class Titled(Run):
    """A review driven through the API, with its title."""

    def __init__(self, api: Any, secretariat: Any, review_id: str, title: str) -> None:
        super().__init__(api, secretariat, review_id)
        self.title = title


async def in_approval(api: Any, secretariat: Any, make_account: Any) -> Titled:
    """A review of Germany and France, Germany's national report in, its report version 1
    compiled and awaiting approval; its title is unique."""
    tag = secrets.token_hex(3)
    body = review_body(title=f"Public report {tag} of the ECE region", member_states=["DEU", "FRA"])
    created = await api.post("/v1/reviews", json=body, headers=secretariat.headers)
    assert created.status == 201, await created.text()
    run = Titled(api, secretariat, body["id"], body["title"])
    await run.ok("advance")  # the call for inputs
    germany = await make_account("focal_point", country="DEU")
    sent = await api.post(
        f"{run.url}/submissions",
        json={"kind": "national_report", "content": documents.national_report("DEU")},
        headers=germany.headers,
    )
    assert sent.status == 201, await sent.text()
    await run.ok("advance")  # consultation
    assert (await run.ok("advance"))["phase"] == "approval"
    return run


@pytest.fixture
async def draft(api: Any, ece_secretariat: Any, make_account: Any) -> Titled:
    return await in_approval(api, ece_secretariat, make_account)


async def test_a_pdf_is_compiled_with_every_version_and_frozen(
    draft: Titled, pool: asyncpg.Pool
) -> None:
    run = draft
    first = await stored_pdf(pool, run.id, 1)
    assert first is not None and first.startswith(b"%PDF-")
    assert run.title in pdf_text(first)
    served = await run.report(format="pdf")
    assert served.status == 200 and served.content_type == "application/pdf"
    assert await served.read() == first
    etag = served.headers["ETag"]
    assert etag.endswith('-pdf"')
    assert (await run.report(format="pdf", headers={"If-None-Match": etag})).status == 304

    # A new draft is compiled with its own PDF; the first keeps its bytes.
    await run.ok("report/request-changes", {"note": "Add a line", "editorial": {"gaps": "Line"}})
    second = await stored_pdf(pool, run.id, 2)
    assert second is not None and second != first
    assert await (await run.report(format="pdf", version=1)).read() == first

    # Approved, the version is published with the PDF compiled for it, byte for byte.
    await run.ok("report/approve", {})
    assert await (await run.api.get(f"/reports/{run.id}.pdf")).read() == second
    assert await (await run.report(format="pdf")).read() == second
    assert await stored_pdf(pool, run.id, 2) == second


async def test_a_version_compiled_before_pdfs_gets_one_once(
    draft: Titled, pool: asyncpg.Pool
) -> None:
    run = draft
    await run.ok("report/approve", {})
    # As a version compiled before migration 0017 is stored: without a PDF.
    await pool.execute("UPDATE reports SET pdf = NULL WHERE review_id = $1", run.id)
    html = await (await run.api.get(f"/reports/{run.id}.html")).text()
    answered = await run.api.get(f"/reports/{run.id}.pdf")
    assert answered.status == 200 and answered.content_type == "application/pdf"
    pdf = await answered.read()
    assert pdf.startswith(b"%PDF-") and run.title in pdf_text(pdf)
    assert await stored_pdf(pool, run.id, 1) == pdf
    assert await (await run.api.get(f"/reports/{run.id}.pdf")).read() == pdf
    # The stored formats are untouched.
    assert await (await run.api.get(f"/reports/{run.id}.html")).text() == html


async def test_published_reports_are_public_and_drafts_are_not(
    api: Any, ece_secretariat: Any, make_account: Any, draft: Titled
) -> None:
    published = await in_approval(api, ece_secretariat, make_account)
    await published.ok("report/approve", {})
    title = published.title

    listed = await api.get("/reports")  # no token, no session
    assert listed.status == 200
    text = await listed.text()
    assert title in text and f'href="/reports/{published.id}.pdf"' in text
    assert draft.title not in text
    for path in ("/reports?region=ECE", "/reports/regions/ECE"):
        assert title in await (await api.get(path)).text()
    assert title not in await (await api.get("/reports/regions/ECA")).text()
    assert (await api.get("/reports/regions/XYZ")).status == 404

    page = await api.get(f"/reports/{published.id}")
    assert page.status == 200 and title in await page.text()
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    # A page shows the person signed in, if any: no shared cache may keep it.
    assert "public" not in page.headers.get("Cache-Control", "")

    # The files are the published bytes, each with its type, ETag and cache headers.
    for fmt, media_type in (
        ("json", "application/json"),
        ("md", "text/markdown"),
        ("html", "text/html"),
        ("pdf", "application/pdf"),
    ):
        answered = await api.get(f"/reports/{published.id}.{fmt}")
        assert answered.status == 200 and answered.content_type == media_type
        from_api = await published.report(format=fmt)
        assert await answered.read() == await from_api.read()
        assert answered.headers["ETag"] == from_api.headers["ETag"]
        assert answered.headers["Cache-Control"].startswith("public")
        assert "Set-Cookie" not in answered.headers
        again = await api.get(
            f"/reports/{published.id}.{fmt}", headers={"If-None-Match": answered.headers["ETag"]}
        )
        assert again.status == 304 and not await again.read()
    html = await api.get(f"/reports/{published.id}.html")
    policy = html.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script" not in policy

    # A draft is answered exactly as a review that does not exist.
    for suffix in ("", ".pdf", ".json", ".md", ".html"):
        answered = await api.get(f"/reports/{draft.id}{suffix}")
        missing = await api.get(f"/reports/no-such-review{suffix}")
        assert missing.status == 404
        # The same page but for the address its language switch returns to.
        expected = (await missing.text()).replace("/reports/no-such-review", f"/reports/{draft.id}")
        assert answered.status == 404 and await answered.text() == expected, suffix

    feed = await api.get("/reports/feed.atom")
    assert feed.status == 200 and feed.content_type == "application/atom+xml"
    assert feed.headers["Cache-Control"].startswith("public") and "Set-Cookie" not in feed.headers
    root = ET.fromstring(await feed.read())
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}id") and root.findtext(f"{ATOM}updated")
    entries = {e.findtext(f"{ATOM}title"): e for e in root.iter(f"{ATOM}entry")}
    assert draft.title not in entries
    entry = entries[title]
    assert entry.findtext(f"{ATOM}id") and entry.findtext(f"{ATOM}updated")
    links = {link.get("type"): link.get("href") for link in entry.iter(f"{ATOM}link")}
    assert links["text/html"].endswith(f"/reports/{published.id}")
    assert links["application/pdf"].endswith(f"/reports/{published.id}.pdf")


@needs_chromium
async def test_the_public_pages_in_a_browser(
    api: Any, ece_secretariat: Any, make_account: Any, page: Page
) -> None:
    published = await in_approval(api, ece_secretariat, make_account)
    await published.ok("report/approve", {})
    title = published.title

    await page.goto("/")
    await page.get_by_role("link", name="Published reports").click()
    await page.wait_for_url("**/reports")
    await assert_accessible(page)
    await page.get_by_role("link", name=title, exact=True).click()
    await page.wait_for_url(f"**/reports/{published.id}")
    await assert_accessible(page)
    await screenshot(page, "public-report")
    href = await page.get_by_role("link", name="PDF of the report").get_attribute("href")
    assert href == f"/reports/{published.id}.pdf"
    pdf = await page.request.get(href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert (await pdf.body()).startswith(b"%PDF-")
    assert all(url.startswith(str(api.make_url(""))) for url in page.requests_made)
