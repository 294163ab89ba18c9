"""Annexes on the pages: attached from the submission form, refused beside the field with the
error summary, removed, shown with every version sent (to its authors and the secretariat),
downloaded; and the whole path in a real browser."""

from __future__ import annotations

import hashlib
import re
from html import unescape
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from domain.annexes import MAX_ANNEX_BYTES
from tests import annex_files, documents
from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.test_reviews_api import create_review, open_call, submit
from tests.test_web_reviews import focal_point
from tests.web_site import Site, form_token, path_of

pytestmark = pytest.mark.usefixtures("worker")

ANNEX_LINK = re.compile(r'href="(/annexes/[0-9a-f-]{36})"')


@pytest.fixture
async def review(api: Any, ece_secretariat: Any) -> dict[str, Any]:
    created = await create_review(api, ece_secretariat, member_states=["DEU"], stakeholders=[])
    await open_call(api, ece_secretariat, created["id"])
    return created


async def upload(
    site: Site, review_id: str, content: bytes, name: str, token: str | None = None
) -> aiohttp.ClientResponse:
    """The annex form as a browser posts it: its CSRF token first, then the file."""
    form = aiohttp.FormData(quote_fields=False)  # a browser sends the name as it is
    form.add_field(
        "csrf_token", token or await form_token(site.client, f"/reviews/{review_id}/submit")
    )
    form.add_field("file", content, filename=name, content_type="application/octet-stream")
    return await site.client.post(f"/reviews/{review_id}/annexes", data=form, allow_redirects=False)


async def form_html(site: Site, review_id: str) -> str:
    response = await site.client.get(f"/reviews/{review_id}/submit")
    assert response.status == 200
    return unescape(await response.text())


async def test_a_file_is_attached_listed_downloaded_and_removed_from_the_form(
    site: Site, review: dict[str, Any]
) -> None:
    await site.sign_in(await focal_point(site))
    pdf = annex_files.pdf("Statistics")
    sent = await upload(site, review["id"], pdf, "Statistics 2020.pdf")
    assert sent.status == 303
    assert sent.headers["Location"] == f"/reviews/{review['id']}/submit#annexes"

    html = await form_html(site, review["id"])
    annexes = html[html.index('<section id="annexes"') :]
    assert "Statistics 2020.pdf" in annexes and "PDF" in annexes
    assert hashlib.sha256(pdf).hexdigest() in annexes
    assert "kB" in annexes  # the size, as the language writes it
    [link] = ANNEX_LINK.findall(annexes)
    download = await site.client.get(link)
    assert download.status == 200 and await download.read() == pdf
    assert download.content_type == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]

    remove = re.search(r'action="(/reviews/[^"]+/remove)"', annexes)
    assert remove is not None
    token = await form_token(site.client, f"/reviews/{review['id']}/submit")
    removed = await site.client.post(
        remove.group(1), data={"csrf_token": token}, allow_redirects=False
    )
    assert removed.status == 303
    assert "No file is attached." in await form_html(site, review["id"])
    assert (await site.client.get(link)).status == 404


async def test_a_refused_file_is_named_beside_the_field_and_in_the_error_summary(
    site: Site, review: dict[str, Any]
) -> None:
    await site.sign_in(await focal_point(site))
    refused = await upload(site, review["id"], annex_files.EXECUTABLE, "report.pdf")
    assert refused.status == 422
    html = unescape(await refused.text())
    message = "neither a PDF nor a Word document"
    start = html.index('class="error-summary"')
    summary = html[start : html.index("</div>", start)]
    assert message in summary and 'href="#annex-file"' in summary
    assert 'id="annex-file-error"' in html and 'aria-invalid="true"' in html
    # The main form is still the one that sends the report.
    assert f'action="/reviews/{review["id"]}/submit"' in html

    empty = await upload(site, review["id"], b"", "")
    assert empty.status == 422
    assert "Choose a file to attach" in unescape(await empty.text())

    too_large = await upload(site, review["id"], b"%PDF-1.4" + b"\0" * MAX_ANNEX_BYTES, "big.pdf")
    assert too_large.status == 413
    assert "larger than 20 MB" in unescape(await too_large.text())

    forged = await upload(site, review["id"], annex_files.pdf(), "x.pdf", token="forged")
    assert forged.status == 403
    assert "No file is attached." in await form_html(site, review["id"])


async def test_a_version_sent_shows_its_annexes_to_its_authors_and_the_secretariat(
    site: Site, review: dict[str, Any], api: Any, ece_secretariat: Any
) -> None:
    germany = await focal_point(site)
    await site.sign_in(germany)
    docx = annex_files.docx("Tables")
    assert (await upload(site, review["id"], docx, "Tables.docx")).status == 303
    receipt = await (await submit(api, germany, review["id"], documents.national_report())).json()
    path = f"/reviews/{review['id']}/submissions/{receipt['id']}?version=1"
    for person in (germany, ece_secretariat):
        await site.sign_in(person)
        response = await site.client.get(path)
        html = unescape(await response.text())
        assert response.status == 200
        assert "Tables.docx" in html and hashlib.sha256(docx).hexdigest() in html
        [link] = ANNEX_LINK.findall(html)
        assert await (await site.client.get(link)).read() == docx


@pytest.mark.slow
@needs_chromium
async def test_a_focal_point_attaches_a_pdf_in_a_browser_and_downloads_it(
    page: Page, site: Site, review: dict[str, Any], tmp_path: Any
) -> None:
    germany = await focal_point(site)
    await page.goto(path_of(await site.link(germany, f"/reviews/{review['id']}/submit")))
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", name="Annexes")).to_be_visible()

    wrong = tmp_path / "report.pdf"
    wrong.write_bytes(annex_files.TEXT)
    await page.get_by_label("Attach a file").set_input_files(str(wrong))
    await page.get_by_role("button", name="Attach the file").click()
    summary = page.locator(".error-summary")
    await expect(summary).to_contain_text("neither a PDF nor a Word document")
    await assert_accessible(page)
    await summary.get_by_role("link").click()
    await expect(page.locator("#annex-file")).to_be_focused()

    pdf = annex_files.pdf("Annex")
    chosen = tmp_path / "Annex I.pdf"
    chosen.write_bytes(pdf)
    await page.get_by_label("Attach a file").set_input_files(str(chosen))
    await page.get_by_role("button", name="Attach the file").click()
    listed = page.locator("#annexes table")
    await expect(listed).to_contain_text("Annex I.pdf")
    await expect(listed).to_contain_text(hashlib.sha256(pdf).hexdigest())
    await assert_accessible(page)
    await screenshot(page, "annexes", full_page=False)

    async with page.expect_download() as downloading:
        await listed.get_by_role("link", name="Annex I.pdf").click()
    download = await downloading.value
    assert download.suggested_filename == "Annex I.pdf"
    saved = tmp_path / "downloaded.pdf"
    await download.save_as(str(saved))
    assert saved.read_bytes() == pdf
