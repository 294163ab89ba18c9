"""The secretariat's pages in the language of the person reading them: the dashboard, the
people and reviews lists, the new review's form, the report and the audit trail in French (and
in Arabic, written right to left), with member States named and dates written as that
language does; and a person's language, set when they are added, edited or imported."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
from babel.dates import format_date

import i18n
from tests.test_web_dashboard import STATES, review_under_way, rows, secretariat_in
from tests.test_web_invitations import get, text
from tests.web_site import Site, form_token

pytestmark = pytest.mark.usefixtures("worker")

HEADER = "name,email,organisation,category,country,role,language\n"
HTML_TAG = re.compile(r"<html[^>]*>")
HEADING = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)


async def reading(site: Site, time_zone: str, language: str) -> Any:
    """An ECE secretariat reading the pages in `language` (its own choice), signed in."""
    runs = await secretariat_in(site, time_zone)
    await site.pool.execute(
        "UPDATE actors SET language = $2 WHERE id = $1", runs.actor.id, language
    )
    return runs


def heading(html: str) -> str:
    found = HEADING.search(html)
    assert found is not None, html
    return text(found.group(1))


def day_in(language: str, instant: datetime) -> str:
    """The calendar day of `instant` (in UTC) as `language` writes it: "3 mars 2027"."""
    return format_date(instant, "long", locale=language)


async def test_a_french_secretariat_reads_its_pages_in_french(site: Site) -> None:
    runs = await reading(site, "UTC", "fr")
    review_id, due = await review_under_way(site, runs)
    await site.sign_in(runs)

    dashboard = await get(site.client, f"/reviews/{review_id}/dashboard")
    html_tag = HTML_TAG.search(dashboard)
    assert html_tag is not None and 'lang="fr"' in html_tag.group(0)
    assert heading(dashboard) == "Tableau de bord"
    words = text(dashboard)
    assert "Appel à contributions : collecte des rapports nationaux" in words
    assert "Prochaine date limite Date limite des rapports nationaux" in words
    assert day_in("fr", due) in words
    states = rows(STATES, dashboard)
    assert states[0].startswith("Allemagne (DEU) Envoyé ")
    assert states[1].startswith("France (FRA) Envoyé en retard ")
    assert states[2].startswith("Kazakhstan (KAZ) Prolongé — — Jusqu'au ")
    assert states[3].startswith("États-Unis (USA) Manquant — —")
    # The heatmap names States in French too, and its legend is in French.
    assert '<th scope="row">Allemagne (DEU)</th>' in dashboard
    assert "Aucun rapport" in words and "No report" not in words
    # A response rate as French writes a percentage.
    with i18n.using("fr"):
        assert text(i18n.format_percent(1.0)) in words
    assert "Submitted" not in words and "Missing" not in words

    people = await get(site.client, "/people")
    assert heading(people) == "Personnes"
    assert "Ajouter une personne" in text(people)

    reviews = await get(site.client, "/reviews")
    assert heading(reviews) == "Examens"
    listed = text(reviews)
    assert "Appel à contributions" in listed and "Prochaine date limite" in listed
    assert "Créer un examen" in listed

    new = await get(site.client, "/reviews/new")
    assert heading(new) == "Créer un examen"
    assert ">Allemagne</label>" in new and ">Germany</label>" not in new
    assert "Date d'ouverture de l'appel à contributions" in text(new)

    report = await get(site.client, f"/reviews/{review_id}/report")
    assert heading(report) == "Le rapport régional"
    assert "Il n'y a pas encore de rapport." in text(report)

    audit = await get(site.client, f"/reviews/{review_id}/audit")
    assert heading(audit) == "Journal d'audit"
    trail = text(audit)
    assert "Examen créé" in trail and "Date limite prolongée" in trail
    # Kazakhstan's extension, its State and dates in French.
    assert f"pour Kazakhstan : désormais {day_in('fr', due + timedelta(days=3))}" in trail


async def test_an_arabic_secretariat_reads_its_dashboard_right_to_left(site: Site) -> None:
    runs = await reading(site, "Asia/Dubai", "ar")
    review_id, _ = await review_under_way(site, runs)
    await site.sign_in(runs)

    dashboard = await get(site.client, f"/reviews/{review_id}/dashboard")
    html_tag = HTML_TAG.search(dashboard)
    assert html_tag is not None and 'lang="ar"' in html_tag.group(0)
    assert 'dir="rtl"' in html_tag.group(0)
    assert heading(dashboard) == "لوحة المتابعة"
    states = rows(STATES, dashboard)
    assert states[0].startswith("ألمانيا (DEU)")
    assert "لا يوجد تقرير" in text(dashboard)

    people = await get(site.client, "/people")
    assert heading(people) == "الأشخاص"
    reviews = await get(site.client, "/reviews")
    assert heading(reviews) == "الاستعراضات"


async def post(
    client: aiohttp.ClientSession, path: str, data: dict[str, str]
) -> aiohttp.ClientResponse:
    token = await form_token(client, path)
    return await client.post(path, data={"csrf_token": token, **data}, allow_redirects=False)


async def stored_language(site: Site, email: str) -> str | None:
    language: str | None = await site.pool.fetchval(
        "SELECT language FROM actors WHERE email = $1", email
    )
    return language


async def test_a_person_is_added_and_edited_with_their_language(site: Site) -> None:
    tag = secrets.token_hex(4)
    runs = await site.person("secretariat", regions=("ECE",))
    await site.sign_in(runs)
    form_page = await get(site.client, "/people/new")
    assert '<option value="es" lang="es">Español</option>' in form_page
    assert '<option value="ar" lang="ar">العربية</option>' in form_page

    refused = await post(
        site.client,
        "/people/new",
        {"name": f"Eva {tag}", "email": f"eva-{tag}@example.org", "role": "observer",
         "language": "de"},
    )  # fmt: skip
    assert refused.status == 422
    assert "Choose a language from the list" in text(await refused.text())

    address = f"eva-{tag}@example.org"
    added = await post(
        site.client,
        "/people/new",
        {"name": f"Eva {tag}", "email": address, "role": "observer", "language": "es"},
    )
    assert added.status == 303, await added.text()
    assert await stored_language(site, address) == "es"
    person_path = added.headers["Location"].partition("?")[0]
    shown = await get(site.client, person_path)
    assert re.search(r'<dd id="language-chosen">Español</dd>', shown)
    assert '<option value="es" lang="es" selected>' in shown

    # "Not chosen" gives the choice back to the person.
    saved = await post(
        site.client, person_path, {"name": f"Eva {tag}", "email": address, "language": ""}
    )
    assert saved.status == 303, await saved.text()
    assert await stored_language(site, address) is None
    changed = await post(
        site.client, person_path, {"name": f"Eva {tag}", "email": address, "language": "ru"}
    )
    assert changed.status == 303
    assert await stored_language(site, address) == "ru"


async def upload(client: aiohttp.ClientSession, csv: str) -> aiohttp.ClientResponse:
    token = await form_token(client, "/people/import")
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    form.add_field("file", csv.encode(), filename="people.csv", content_type="text/csv")
    return await client.post("/people/import", data=form, allow_redirects=False)


async def test_an_import_sets_each_persons_language(site: Site) -> None:
    tag = secrets.token_hex(4)
    runs = await site.person("secretariat", regions=("ECE",))
    await site.sign_in(runs)
    assert "<code>language</code>" in await get(site.client, "/people/import")

    ann, bob, cy = (f"{name}-{tag}@example.org" for name in ("ann", "bob", "cy"))
    csv = (
        HEADER
        + f"Ann {tag},{ann},,,,observer,fr\n"
        + f"Bob {tag},{bob},,,,observer,\n"
        + f"Cy {tag},{cy},,,,observer,klingon\n"
    )
    uploaded = await upload(site.client, csv)
    assert uploaded.status == 303, await uploaded.text()
    preview = text(await get(site.client, uploaded.headers["Location"]))
    assert "2 to add, 0 to update, 0 unchanged, 1 with errors" in preview
    assert "Row 4, language:" in preview
    applied = await post(site.client, uploaded.headers["Location"], {})
    assert applied.status == 303
    assert await stored_language(site, ann) == "fr"
    assert await stored_language(site, bob) is None

    # Imported again with Bob's language: Bob is updated, Ann unchanged.
    again = await upload(site.client, HEADER + f"Ann {tag},{ann},,,,observer,fr\n"
                         f"Bob {tag},{bob},,,,observer,ZH\n")  # fmt: skip
    preview = text(await get(site.client, again.headers["Location"]))
    assert "0 to add, 1 to update, 1 unchanged, 0 with errors" in preview
    assert "Updated: language" in preview
    assert (await post(site.client, again.headers["Location"], {})).status == 303
    assert await stored_language(site, bob) == "zh"


async def test_the_api_creates_and_changes_an_account_with_its_language(site: Site) -> None:
    runs = await site.person("secretariat", regions=("ECE",))
    body = {"name": f"Lin {secrets.token_hex(4)}", "role": "observer", "language": "zh"}
    created = await site.api.post("/v1/actors", json=body, headers=runs.headers)
    assert created.status == 201, await created.text()
    account = await created.json()
    assert account["language"] == "zh"

    refused = await site.api.post(
        "/v1/actors", json={**body, "language": "de"}, headers=runs.headers
    )
    assert refused.status == 422
    assert "/language" in await refused.text()

    path = f"/v1/actors/{account['id']}"
    changed = await site.api.patch(path, json={"language": None}, headers=runs.headers)
    assert changed.status == 200, await changed.text()
    assert (await changed.json())["language"] is None
