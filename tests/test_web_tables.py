"""The secretariat's tables of a review: its submissions and its consultation's answers,
filtered and paged, each row opening the full submission or answer; the downloads from the
pages; who may see them; and the tables in a real browser."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from html import unescape
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page

from tests import documents
from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.test_exports import RECEIVED, store_answer, store_review, store_submission
from tests.web_site import Site, browser_like, path_of, post_form

ROWS = re.compile(r"<tbody>(.*?)</tbody>", re.S)


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def table_rows(html: str) -> list[str]:
    found = ROWS.search(html)
    return (
        [text(row) for row in re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)] if found else []
    )


def link(html: str, label: str) -> str:
    found = re.search(rf'<a href="([^"]+)">{label}</a>', html)
    assert found is not None, label
    return unescape(found.group(1))


async def signed_in_as(site: Site, account: Any) -> aiohttp.ClientSession:
    client = browser_like(site.api)
    assert (await post_form(client, path_of(await site.link(account)))).status == 303
    return client


async def get(client: aiohttp.ClientSession, path: str, status: int = 200) -> str:
    response = await client.get(path, allow_redirects=False)
    html = await response.text()
    assert response.status == status, html
    return html


@pytest.fixture(scope="module")
async def review(pool: Any, make_account: Any) -> dict[str, Any]:
    """An ECE review: DEU's report (day 0), FRA's report late (day 1), Alpha's input (day 2);
    Alpha and Beta each answered the consultation."""
    tag = secrets.token_hex(3)
    runs = await make_account("secretariat", regions=("ECE",), email=f"sec-{tag}@example.org")
    deu = await make_account("focal_point", country="DEU", name=f"Anna {tag}")
    fra = await make_account("focal_point", country="FRA", name=f"Bruno {tag}")
    alpha, beta = [
        await make_account(
            "stakeholder", regions=("ECE",), organisation=f"{name} {tag}",
            stakeholder_category="civil_society", name=f"{name} person",
        )
        for name in ("Alpha", "Beta")
    ]  # fmt: skip
    review_id = await store_review(pool, runs, [alpha, beta])
    ids = {
        "DEU": await store_submission(
            pool, review_id, "national_report", "DEU", documents.national_report("DEU"), deu
        ),
        "FRA": await store_submission(
            pool, review_id, "national_report", "FRA", documents.national_report("FRA"), fra,
            late=True, received=RECEIVED + timedelta(days=1),
        ),
        "Alpha": await store_submission(
            pool, review_id, "stakeholder_input", str(alpha.actor.organisation_id),
            documents.stakeholder_input(f"Alpha {tag}"), alpha,
            received=RECEIVED + timedelta(days=2),
        ),
    }  # fmt: skip
    endorsing = {**documents.consultation_response(), "endorsement": "endorse"}
    tasks = {
        "Alpha": await store_answer(pool, review_id, alpha, documents.consultation_response()),
        "Beta": await store_answer(pool, review_id, beta, endorsing),
    }
    return {"id": review_id, "runs": runs, "deu": deu, "tag": tag, "ids": ids, "tasks": tasks}


async def test_submissions_table_newest_first_each_linking_to_the_submission(
    site: Site, review: dict[str, Any]
) -> None:
    client = await signed_in_as(site, review["runs"])
    async with client:
        html = await get(client, f"/reviews/{review['id']}/submissions")
        rows = table_rows(html)
        tag = review["tag"]
        assert [row.split(" Stakeholder")[0].split(" National")[0] for row in rows] == [
            f"Alpha {tag}", "France", "Germany",
        ]  # fmt: skip
        assert "Late" in rows[1] and "Late" not in rows[2] and f"Anna {tag}" in rows[2]
        opened = link(html, "Germany")
        assert opened == f"/reviews/{review['id']}/submissions/{review['ids']['DEU']}"
        germany = text(await get(client, opened))
        assert "Ministry of the Interior" in germany
        # The secretariat reads it as Germany's, not as its own.
        assert "National report from Germany, version 1" in germany
        assert "Your national report" not in germany
        # The review's page leads here; the downloads are on this page.
        assert f'href="/reviews/{review["id"]}/submissions"' in await get(
            client, f"/reviews/{review['id']}"
        )
        for dataset in ("submissions", "participants"):
            for fmt in ("csv", "xlsx"):
                assert f'href="/reviews/{review["id"]}/exports/{dataset}.{fmt}"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=national_report", ["France", "Germany"]),
        ("kind=stakeholder_input", ["Alpha"]),
        ("q=germ", ["Germany"]),
        ("q=FRA", ["France"]),
        ("q=alpha", ["Alpha"]),
        ("late=yes", ["France"]),
        ("late=no", ["Alpha", "Germany"]),
        ("received_from=2026-03-03", ["Alpha", "France"]),
        ("received_to=2026-03-02", ["Germany"]),
        ("received_from=2026-03-03&received_to=2026-03-03&kind=national_report", ["France"]),
        ("q=nobody-at-all", []),
    ],
)
async def test_submissions_filters(
    site: Site, review: dict[str, Any], query: str, expected: list[str]
) -> None:
    client = await signed_in_as(site, review["runs"])
    async with client:
        html = await get(client, f"/reviews/{review['id']}/submissions?{query}")
    shown = [row.split()[0] for row in table_rows(html)]
    assert shown == expected
    if not expected:
        assert "No submission matches these filters." in text(html)


async def test_tables_page_with_keyset_links(
    site: Site, review: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("web.tables.PAGE", 2)
    client = await signed_in_as(site, review["runs"])
    async with client:
        path = f"/reviews/{review['id']}/submissions?kind=&late="
        first = await get(client, path)
        assert [row.split()[0] for row in table_rows(first)] == ["Alpha", "France"]
        second = await get(client, link(first, "Show more submissions"))
        assert [row.split()[0] for row in table_rows(second)] == ["Germany"]
        assert "Show more submissions" not in second
        assert link(second, "Back to the first submissions").endswith("/submissions")
        answers = await get(client, f"/reviews/{review['id']}/answers")
        assert len(table_rows(answers)) == 2 and "Show more answers" not in answers


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=letter", "kind"),
        ("late=maybe", "late"),
        ("received_from=2 March", "received_from"),
        ("received_to=2026-02-30", "received_to"),
        ("after=bm90IGEgcGxhY2U=", "more"),
    ],
)
async def test_a_filter_that_is_not_valid_is_named_beside_its_field(
    site: Site, review: dict[str, Any], query: str, field: str
) -> None:
    client = await signed_in_as(site, review["runs"])
    async with client:
        html = await get(client, f"/reviews/{review['id']}/submissions?{query}", 422)
    assert f'<a href="#{field}">' in html and table_rows(html) == []


async def test_answers_table_filters_and_the_answer_page(
    site: Site, review: dict[str, Any]
) -> None:
    client = await signed_in_as(site, review["runs"])
    tag = review["tag"]
    async with client:
        base = f"/reviews/{review['id']}/answers"
        html = await get(client, base)
        assert sorted(row.split()[0] for row in table_rows(html)) == ["Alpha", "Beta"]
        endorsing = await get(client, f"{base}?endorsement=endorse")
        assert [row.split()[0] for row in table_rows(endorsing)] == ["Beta"]
        assert [r.split()[0] for r in table_rows(await get(client, f"{base}?q=ALPHA"))] == ["Alpha"]
        assert (await get(client, f"{base}?endorsement=maybe", 422)).count('href="#endorsement"')
        opened = link(html, f"Alpha {tag}")
        assert opened == f"{base}/{review['tasks']['Alpha']}"
        answer = text(await get(client, opened))
        assert "Detention of children deserves a paragraph of its own." in answer
        await get(client, f"{base}/{review['ids']['DEU']}", 404)  # not a task of the review


async def test_downloads_from_the_pages(site: Site, review: dict[str, Any]) -> None:
    client = await signed_in_as(site, review["runs"])
    async with client:
        response = await client.get(f"/reviews/{review['id']}/exports/participants.csv")
        body = await response.read()
        assert response.status == 200, body
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert body.startswith(b"\xef\xbb\xbfkind,") and b"KAZ" in body
        await get(client, f"/reviews/{review['id']}/exports/grants.csv", 404)


async def test_only_those_who_run_the_review_see_its_tables(
    site: Site, review: dict[str, Any]
) -> None:
    eca = await site.person("secretariat", regions=("ECA",))
    paths = [
        f"/reviews/{review['id']}/submissions",
        f"/reviews/{review['id']}/answers",
        f"/reviews/{review['id']}/answers/{review['tasks']['Alpha']}",
        f"/reviews/{review['id']}/exports/submissions.csv",
    ]
    for account, status in ((review["deu"], 403), (eca, 404)):
        client = await signed_in_as(site, account)
        async with client:
            for path in paths:
                html = await get(client, path, status)
                assert f"Alpha {review['tag']}" not in html
    response = await site.client.get(paths[0], allow_redirects=False)
    assert response.status in (302, 303) and "/sign-in" in response.headers["Location"]


@needs_chromium
async def test_tables_in_the_browser(site: Site, review: dict[str, Any], page: Page) -> None:
    await page.goto(path_of(await site.link(review["runs"], f"/reviews/{review['id']}")))
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("link", name="Submissions", exact=True).click()
    await page.get_by_label("Late or on time").select_option("yes")
    await page.get_by_role("button", name="Filter").click()
    assert await page.locator("#submissions tbody tr").count() == 1
    await assert_accessible(page)
    await page.get_by_role("link", name="Clear the filters").click()
    assert await page.locator("#submissions tbody tr").count() == 3
    await screenshot(page, "submissions-table")
    await page.goto(f"/reviews/{review['id']}/answers")
    await assert_accessible(page)
    await page.get_by_role("link", name=f"Beta {review['tag']}").click()
    await assert_accessible(page)
    assert all("127.0.0.1" in url or "localhost" in url for url in page.requests_made)  # type: ignore[attr-defined]
