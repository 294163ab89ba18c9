"""A review's report in one or two of the six UN languages: chosen when the review is created,
changeable until a version is compiled, each version compiled (HTML, Markdown, PDF) in each,
and served in the reader's language when the report is written in it."""

from __future__ import annotations

import io
import re
import secrets
from typing import Any

import asyncpg
import pytest
from pypdf import PdfReader

from reports.pdf import render_pdf
from reports.render import render_html, render_html_body, render_markdown
from tests import documents
from tests.reviews import review_body
from tests.test_public_reports import Titled
from tests.test_report_render import sample_report
from tests.test_web_invitations import signed_in_as
from tests.web_site import Site

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}
ENGLISH = {"Accept-Language": "en"}


def pdf_text(pdf: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


# ---- rendering ---------------------------------------------------------------------------------


def test_a_report_in_french_says_its_own_words_in_french() -> None:
    report = sample_report()
    html, markdown = render_html(report, "fr"), render_markdown(report, "fr")
    assert '<html lang="fr">' in html
    for heading in (
        "Aperçu général",
        "Couverture des objectifs",
        "Lacunes",
        "Principes directeurs",
    ):
        assert f"<h2>{heading}</h2>" in html
        assert f"\n## {heading}\n" in markdown
    assert "Overview" not in html and "## Overview" not in markdown
    # States by their French names, shares and counts as French writes them.
    assert "Allemagne (DEU)" in html and "Allemagne (DEU)" in markdown
    assert "75,0\u00a0%" in html
    assert "| Taux de réponse | 75,0\u00a0% |" in markdown
    # The heatmap's legend and cells abbreviate in French; what people wrote stays as written.
    assert ">Mis en œuvre</text>" in html and ">MO</text>" in html
    assert "Légende : NC non commencé · PR prévu" in markdown
    assert "Hotline for migrants in vulnerable situations." in html


def test_an_arabic_report_is_written_right_to_left() -> None:
    report = sample_report()
    html = render_html(report, "ar")
    assert re.search(r'<html lang="ar" dir="rtl">', html)
    assert "<h2>لمحة عامة</h2>" in html
    assert "text-align: start;" in html  # the page's own rules, mirrored
    # Its PDF carries the Arabic text (the machine's fonts have the script), its page
    # numbers in Arabic.
    text = pdf_text(render_pdf(html, "ar"))
    assert "لمحة عامة" in text or "ةماع ةحمل" in text  # as the extractor orders the letters
    assert "الصفحة" in text or "ةحفصلا" in text


def test_english_stays_as_it_was() -> None:
    report = sample_report()
    html = render_html(report)
    assert html == render_html(report, "en")
    assert '<html lang="en">' in html and "dir=" not in html.split(">", 2)[1]
    assert "<h2>Overview</h2>" in html and "75.0 %" in html
    assert render_markdown(report) == render_markdown(report, "en")
    assert render_html_body(report) == render_html_body(report, language="en")


# ---- through the service -----------------------------------------------------------------------

pytestmark = pytest.mark.usefixtures("worker")


async def _created(api: Any, secretariat: Any, **fields: Any) -> Any:
    return await api.post("/v1/reviews", json=review_body(**fields), headers=secretariat.headers)


async def in_approval(
    api: Any, secretariat: Any, make_account: Any, languages: list[str]
) -> Titled:
    """A review of Germany and France whose report is in `languages`, Germany's national
    report in, version 1 compiled and awaiting approval."""
    tag = secrets.token_hex(3)
    body = review_body(
        title=f"Report in {tag} languages", member_states=["DEU", "FRA"], report_languages=languages
    )
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
async def bilingual(api: Any, ece_secretariat: Any, make_account: Any) -> Titled:
    """A review whose report is in French, then English, version 1 awaiting approval."""
    return await in_approval(api, ece_secretariat, make_account, ["fr", "en"])


async def test_each_version_is_compiled_in_each_of_the_reviews_languages(
    api: Any, bilingual: Titled, pool: asyncpg.Pool
) -> None:
    run = bilingual
    review = await (await api.get(run.url, headers=run.secretariat.headers)).json()
    assert review["report_languages"] == ["fr", "en"]

    # The first language in the version's own files; JSON the same in both.
    html = await (await run.report(format="html")).text()
    assert '<html lang="fr">' in html and "<h2>Aperçu général</h2>" in html
    markdown = await (await run.report(format="md")).text()
    assert "\n## Aperçu général\n" in markdown
    english = await run.report(format="html", language="en")
    assert english.status == 200 and english.headers["Content-Language"] == "en"
    assert "<h2>Overview</h2>" in await english.text()
    assert "\n## Overview\n" in await (await run.report(format="md", language="en")).text()
    assert (await run.report(format="md", language="fr")).headers["ETag"] == (
        await run.report(format="md")
    ).headers["ETag"]
    assert (await run.report(format="md", language="en")).headers["ETag"].endswith('-en-md"')
    json_fr = await (await run.report(format="json")).read()
    assert json_fr == await (await run.report(format="json", language="en")).read()
    assert (await run.report(format="pdf", language="ru")).status == 404
    assert (await run.report(format="pdf", language="xx")).status == 422

    # A PDF in each language, compiled with the version and stored.
    french_pdf = await pool.fetchval(
        "SELECT pdf FROM reports WHERE review_id = $1 AND version = 1", run.id
    )
    english_pdf = await pool.fetchval(
        "SELECT pdf FROM report_renderings WHERE review_id = $1 AND version = 1"
        " AND language = 'en'",
        run.id,
    )
    assert french_pdf.startswith(b"%PDF-") and english_pdf.startswith(b"%PDF-")
    assert "Aperçu général" in pdf_text(french_pdf) and "Overview" not in pdf_text(french_pdf)
    assert "Overview" in pdf_text(english_pdf)
    assert "Page 1 sur" in pdf_text(french_pdf) and "Page 1 of" in pdf_text(english_pdf)
    served = await run.report(format="pdf", language="en")
    assert await served.read() == english_pdf


async def test_the_public_page_and_files_serve_the_readers_language(
    api: Any, bilingual: Titled
) -> None:
    run = bilingual
    await run.ok("report/approve", {})

    french = await (await api.get(f"/reports/{run.id}", headers=FRENCH)).text()
    assert f'href="/reports/{run.id}.pdf"' in french  # French is the report's first language
    assert f'href="/reports/{run.id}.en.pdf"' in french  # and the other's PDF beside
    english = await (await api.get(f"/reports/{run.id}", headers=ENGLISH)).text()
    assert f'href="/reports/{run.id}.en.pdf"' in english
    assert f'href="/reports/{run.id}.en.html"' in english
    # A language the report is not written in: its first.
    russian = await (await api.get(f"/reports/{run.id}", headers={"Accept-Language": "ru"})).text()
    assert f'href="/reports/{run.id}.pdf"' in russian

    plain = await api.get(f"/reports/{run.id}.html")
    assert plain.headers["Content-Language"] == "fr"
    assert "<h2>Aperçu général</h2>" in await plain.text()
    in_english = await api.get(f"/reports/{run.id}.en.html")
    assert in_english.status == 200 and "<h2>Overview</h2>" in await in_english.text()
    assert in_english.headers["Cache-Control"].startswith("public")
    again = await api.get(
        f"/reports/{run.id}.en.html", headers={"If-None-Match": in_english.headers["ETag"]}
    )
    assert again.status == 304
    pdf = await api.get(f"/reports/{run.id}.en.pdf")
    assert pdf.status == 200 and "Overview" in pdf_text(await pdf.read())
    assert (await api.get(f"/reports/{run.id}.fr.md")).status == 200
    assert (await api.get(f"/reports/{run.id}.ru.pdf")).status == 404
    assert (await api.get(f"/reports/{run.id}.en.json")).status == 404


async def test_the_secretariats_page_shows_the_version_in_the_readers_language(
    site: Site,
) -> None:
    runs = await site.person("secretariat", regions=("ECE",))
    run = await in_approval(site.api, runs, site.make_account, ["en", "fr"])
    page = f"/reviews/{run.id}/report"
    async with await signed_in_as(site, runs) as secretariat:
        english = await (await secretariat.get(page, headers=ENGLISH)).text()
        french = await (await secretariat.get(page, headers=FRENCH)).text()
        download = f"{page}/download?format=md&version=1&language=fr"
        markdown = await (await secretariat.get(download)).text()
    assert "<h2>Overview</h2>" in english
    assert f'{page}/download?format=pdf&amp;version=1"' in english
    assert "<h2>Aperçu général</h2>" in french
    # The other language's PDF too, named in itself.
    assert f'{page}/download?format=pdf&amp;version=1&amp;language=fr" download>PDF (Français)' in (
        english
    )
    assert f'{page}/download?format=pdf&amp;version=1" download>PDF (English)' in french
    assert f"{page}/download?format=pdf&amp;version=1&amp;language=fr" in french
    assert "\n## Aperçu général\n" in markdown


# ---- choosing and changing the languages -------------------------------------------------------


async def test_the_languages_change_only_until_a_version_is_compiled(
    api: Any, ece_secretariat: Any, bilingual: Titled
) -> None:
    created = await _created(api, ece_secretariat, title=f"Languages {secrets.token_hex(3)}")
    assert created.status == 201
    review = await created.json()
    assert review["report_languages"] == ["en"]  # unless told
    url = f"/v1/reviews/{review['id']}"
    changed = await api.patch(
        url, json={"report_languages": ["ar", "en"]}, headers=ece_secretariat.headers
    )
    assert changed.status == 200 and (await changed.json())["report_languages"] == ["ar", "en"]

    # Once a version is compiled, no more; the same languages again change nothing.
    run = bilingual
    refused = await api.patch(
        run.url,
        json={"report_languages": ["en"], "title": "Not this either"},
        headers=ece_secretariat.headers,
    )
    assert refused.status == 409
    problem = await refused.json()
    assert [e["pointer"] for e in problem["errors"]] == ["/report_languages"]
    after = await (await api.get(run.url, headers=ece_secretariat.headers)).json()
    assert after["report_languages"] == ["fr", "en"] and after["title"] == run.title
    same = await api.patch(
        run.url, json={"report_languages": ["fr", "en"]}, headers=ece_secretariat.headers
    )
    assert same.status == 200


@pytest.mark.parametrize(
    ("languages", "pointers"),
    [
        (["en", "fr", "ru"], {"/report_languages"}),
        (["xx"], {"/report_languages/0"}),
        (["en", "en"], {"/report_languages"}),
        ([], {"/report_languages"}),
    ],
)
async def test_languages_that_are_not_one_or_two_of_the_six_are_refused(
    api: Any, ece_secretariat: Any, languages: list[str], pointers: set[str]
) -> None:
    created = await _created(api, ece_secretariat, report_languages=languages)
    assert created.status == 422
    assert {e["pointer"] for e in (await created.json())["errors"]} == pointers
    fine = await _created(api, ece_secretariat)
    url = f"/v1/reviews/{(await fine.json())['id']}"
    patched = await api.patch(
        url, json={"report_languages": languages}, headers=ece_secretariat.headers
    )
    assert patched.status == 422
    assert {e["pointer"] for e in (await patched.json())["errors"]} == pointers


async def test_the_new_review_page_asks_for_the_reports_languages(site: Site) -> None:
    runs = await site.person("secretariat", regions=("ECE",))
    async with await signed_in_as(site, runs) as secretariat:
        form = await (await secretariat.get("/reviews/new?region=ECE")).text()
        fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))
        days = dict(re.findall(r'type="date" id="([a-z_]+)" name="[a-z_]+" value="([^"]*)"', form))
        base = {
            **fields,
            **days,
            "title": f"Report languages {secrets.token_hex(3)}",
            "member_states": "DEU",
            "late_submissions": "accept_flagged",
            "reminder_days": "7",
        }
        too_many = await secretariat.post(
            "/reviews/new",
            data=[*base.items(), *(("report_languages", c) for c in ("ar", "fr", "es"))],
            allow_redirects=False,
        )
        refused = await too_many.text()
        created = await secretariat.post(
            "/reviews/new",
            data=[*base.items(), ("report_languages", "ar"), ("report_languages", "es")],
            allow_redirects=False,
        )
    assert "Languages of the report" in form
    assert 'name="report_languages" value="en" checked' in form
    assert '<label for="report-language-fr" lang="fr" dir="ltr">Français</label>' in form
    assert too_many.status == 422 and 'id="report_languages-error"' in refused
    assert 'name="report_languages" value="es" checked' in refused  # as the person chose
    assert created.status == 303, await created.text()
    review_id = created.headers["Location"].split("created=")[1]
    review = await site.api.get(f"/v1/reviews/{review_id}", headers=runs.headers)
    assert (await review.json())["report_languages"] == ["ar", "es"]
