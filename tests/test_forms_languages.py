"""The forms generated from the schemas, and the problems found in documents, in the six
languages: labels, hints, buttons and cluster headings in the page's language, a French
focal point's mistakes explained in French beside the field and in the summary, Arabic right
to left (and accessible, in a browser), the API's problems and the services' refusals in the
language of Accept-Language (English by default, exactly as before)."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from playwright.async_api import Page, expect

import i18n
import schemas
from i18n.catalogues import extract
from services.imports import COLUMNS, read_rows
from services.refusals import Refused
from tests import documents
from tests.browser import assert_accessible, needs_chromium
from tests.test_reviews_api import submit
from tests.test_web_reviews import SUMMARY_LINK, focal_point, open_form, post_document
from tests.test_web_reviews import review as review  # the fixture
from tests.web_site import Site, path_of
from web.forms import Group, Node, Repeat, form_for
from web.language import LANGUAGE_COOKIE


def _text(html: str) -> str:
    """What the page says, tags left out and spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _missing_methodology() -> dict[str, Any]:
    report = documents.national_report("DEU")
    del report["preparation"]["methodology"]
    return report


# ---- the forms themselves ---------------------------------------------------------------------


def test_the_national_report_form_speaks_french() -> None:
    with i18n.using("fr"):
        html = _text(str(form_for("national_report").render(documents.national_report("DEU"))))
        empty = _text(str(form_for("national_report").render({})))
    # An objective not reported on yet offers its button under its cluster.
    assert "Ajouter les progrès accomplis au regard de cet objectif (objectif 7)" in empty
    for french in (
        "Pays",
        "Période considérée",
        "Début",
        "Approche mobilisant l’ensemble des pouvoirs publics",
        "Oui",
        "Non",
        "Méthodologie",
        "Parties prenantes consultées",
        "Ajouter un groupe consulté",
        "Supprimer",
        "Groupe 1 :",
        "Groupe 4 :",
        "Objectif 1 :",
        "Période couverte par le rapport, du premier au dernier jour.",
        "caractères au plus.",
        "Choisir",
    ):
        assert french in html, french
    for english in ("Reporting period", "Add a group consulted", "Remove", "Cluster 1:", "Choose"):
        assert english not in html, english


def test_the_same_form_still_speaks_english_by_default() -> None:
    html = _text(str(form_for("national_report").render(documents.national_report("DEU"))))
    for english in ("Reporting period", "Add a group consulted", "Remove", "Cluster 1:"):
        assert english in html, english
    assert "Up to 20,000 characters." in html


def test_the_form_in_arabic_and_chinese() -> None:
    with i18n.using("ar"):
        arabic = _text(str(form_for("stakeholder_input").render({})))
        earlier = _text(str(form_for("stakeholder_input", 1).render({})))
    assert "المنظمة" in arabic and "النشر" in arabic and "تُنشر باسمنا" in arabic
    assert "الموافقة على النشر" in earlier and "نعم" in earlier
    with i18n.using("zh"):
        chinese = _text(str(form_for("consultation_response").render({})))
    assert "总体评论" in chinese and "有保留地认可" in chinese


def test_problems_are_said_in_the_language_in_use_and_keep_their_english() -> None:
    report = _missing_methodology()
    report["preparation"]["consulted"] = [{"category": "other", "description": "x" * 400}]
    english = schemas.validate_document("national_report", report)
    with i18n.using("es"):
        spanish = schemas.validate_document("national_report", report)
    assert [p.message for p in english] == [
        "must be at most 300 characters",
        "is required",
    ]
    assert [p.message for p in spanish] == [
        "debe tener como máximo 300 caracteres",
        "es obligatorio",
    ]
    # The same problems, whatever their language; each still knows its English.
    assert [p.pointer for p in spanish] == [p.pointer for p in english]
    assert [p.english for p in spanish] == [p.message for p in english]
    with i18n.using("ru"):
        assert [p.translated() for p in english] == [
            "должно содержать не более 300 знаков",
            "обязательно для заполнения",
        ]


def test_a_french_form_explains_its_problems_in_french() -> None:
    report = _missing_methodology()
    form = form_for("national_report")
    # Found in English (as in a thread without the request's language), shown in French.
    problems = form.problems(report)
    with i18n.using("fr"):
        view = form.view(report, problems)
        html = str(view.render())
    assert [e.message for e in view.errors] == [
        "Élaboration : Renseignez le champ « méthodologie »"
    ]
    assert "Renseignez le champ « méthodologie »" in unescape(html)
    assert "Erreur : Renseignez le champ « méthodologie »" in _text(html)


# ---- pages ------------------------------------------------------------------------------------


def _speak(site: Site, code: str) -> None:
    site.client.cookie_jar.update_cookies(
        {LANGUAGE_COOKIE: code}, response_url=site.api.make_url("/")
    )


@pytest.mark.usefixtures("worker")
async def test_the_national_report_page_in_french(site: Site, review: dict[str, Any]) -> None:
    await site.sign_in(await focal_point(site))
    _speak(site, "fr")
    html, _ = await open_form(site.client, f"/reviews/{review['id']}/submit")
    assert '<html lang="fr"' in html
    said = _text(html)
    for french in (
        "Période considérée",
        "Méthodologie",
        "Groupe 1 :",
        "Ajouter un groupe consulté",
        "Objectifs",
    ):
        assert french in said, french
    assert "Reporting period" not in said and "Add a group consulted" not in said


@pytest.mark.usefixtures("worker")
async def test_a_french_submission_missing_a_field_is_explained_in_french(
    site: Site, review: dict[str, Any]
) -> None:
    await site.sign_in(await focal_point(site))
    _speak(site, "fr")
    response = await post_document(site, review["id"], _missing_methodology())
    html = await response.text()
    assert response.status == 422
    beside = re.search(r'id="f-preparation-methodology-error">(.*?)</p>', html, re.S)
    assert beside is not None
    assert _text(beside.group(1)).strip() == "Erreur : Renseignez le champ « méthodologie »"
    [summary] = SUMMARY_LINK.findall(html)
    assert "Élaboration : Renseignez le champ « méthodologie »" in _text(summary)
    assert 'href="#f-preparation-methodology"' in summary
    assert "Enter methodology" not in html


@pytest.mark.usefixtures("worker")
async def test_the_national_report_page_in_arabic_is_right_to_left(
    site: Site, review: dict[str, Any]
) -> None:
    await site.sign_in(await focal_point(site))
    _speak(site, "ar")
    html, _ = await open_form(site.client, f"/reviews/{review['id']}/submit")
    assert re.search(r'<html[^>]* dir="rtl"', html)
    said = _text(html)
    for arabic in ("البلد", "فترة الإبلاغ", "المنهجية", "أصحاب المصلحة الذين جرت استشارتهم"):
        assert arabic in said, arabic
    assert "Reporting period" not in said


@pytest.mark.usefixtures("worker")
async def test_the_api_says_problems_in_the_language_asked_and_english_by_default(
    api: Any, review: dict[str, Any], make_account: Any
) -> None:
    germany = await make_account("focal_point", country="DEU")
    report = _missing_methodology()
    report["contact"]["email"] = "not an address"
    expected = [
        {"pointer": f"/content{p.pointer}", "message": p.message}
        for p in schemas.validate_document("national_report", report)
    ]
    assert [e["message"] for e in expected] == [
        "must be a valid email address",
        "is required",
    ]

    by_default = await submit(api, germany, review["id"], report)
    assert by_default.status == 422
    assert (await by_default.json())["errors"] == expected

    kind = {"kind": "national_report", "content": report}
    spanish = await api.post(
        f"/v1/reviews/{review['id']}/submissions",
        json=kind,
        headers={**germany.headers, "Accept-Language": "es-ES, en;q=0.5"},
    )
    assert spanish.status == 422
    assert [e["message"] for e in (await spanish.json())["errors"]] == [
        "debe ser una dirección de correo electrónico válida",
        "es obligatorio",
    ]


# ---- the services' refusals -------------------------------------------------------------------


def test_a_refusal_is_said_in_the_language_in_use_and_in_english_by_default() -> None:
    with pytest.raises(Refused) as english:
        read_rows(b"")
    assert (
        english.value.message
        == "The first row must name the columns: " + ", ".join(COLUMNS) + " (in any order)."
    )
    with i18n.using("fr"), pytest.raises(Refused) as french:
        read_rows(b"")
    assert french.value.message.startswith("La première ligne doit indiquer les noms des colonnes")
    assert french.value.problems == [("", french.value.message)]


async def test_the_api_refuses_in_the_language_asked(api: Any, make_account: Any) -> None:
    germany = await make_account("focal_point", country="DEU")
    by_default = await api.get("/v1/tasks?status=nope", headers=germany.headers)
    assert by_default.status == 422
    [english] = (await by_default.json())["errors"]
    assert english["pointer"] == "/status"
    assert english["message"].startswith("must be one of: ")
    russian = await api.get(
        "/v1/tasks?status=nope", headers={**germany.headers, "Accept-Language": "ru"}
    )
    [said] = (await russian.json())["errors"]
    assert said["message"] == english["message"].replace(
        "must be one of: ", "должно быть одним из следующих значений: "
    )


def test_every_label_and_choice_of_the_forms_is_in_the_catalogue() -> None:
    """A property or choice the schemas give no title is labelled from its name: that label
    must be in the catalogue too, or the form would show it in English."""
    known = {m.id for m in extract("schemas") if isinstance(m.id, str)}
    shown: set[str] = set()

    def walk(node: Node) -> None:
        shown.add(node.label)
        if isinstance(node, Group):
            for child in node.properties.values():
                walk(child)
        elif isinstance(node, Repeat):
            walk(node.item)
        elif not node.definition:
            shown.update(option.label for option in node.options)

    for name in schemas.DOCUMENT_SCHEMAS:
        for version in schemas.schema_versions(name):
            walk(form_for(name, version).root)
    assert shown - known == set()


@needs_chromium
@pytest.mark.usefixtures("worker")
async def test_the_arabic_form_in_a_browser_reads_right_to_left_and_passes_axe(
    page: Page, site: Site, review: dict[str, Any]
) -> None:
    germany = await focal_point(site)
    base = str(site.api.make_url("")).rstrip("/")
    await page.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": "ar", "url": base}])
    await page.goto(path_of(await site.link(germany)))
    await page.locator("main form button[type=submit]").first.click()
    await expect(page).to_have_url(re.compile(r"/(tasks|reviews)"))
    await page.goto(f"/reviews/{review['id']}/submit")
    direction = "getComputedStyle(document.documentElement).direction"
    assert await page.evaluate(direction) == "rtl"
    await expect(page.locator("main legend").first).to_have_text(re.compile(r"[\u0600-\u06ff]"))
    await assert_accessible(page)

    # Sent empty: the problems are explained in Arabic, and each link leads to its field.
    await page.locator("main .button-group button").first.click()
    summary = page.locator(".error-summary")
    await expect(summary).to_contain_text("يرجى ملء حقل «المنهجية»")
    await expect(page.locator("#f-preparation-methodology-error")).to_contain_text(
        "يرجى ملء حقل «المنهجية»"
    )
    await assert_accessible(page)
    await summary.get_by_role("link", name=re.compile("المنهجية")).click()
    await expect(page.locator("#f-preparation-methodology")).to_be_focused()
