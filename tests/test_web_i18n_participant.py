"""The participant's pages speak the person's language: their own choice (saved on the account
page or by the switch at the foot of every page), else the language this browser switched to,
else Accept-Language; Arabic is written right to left."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from tests.test_web_tasks import consultation  # noqa: F401 (a fixture)
from tests.web_site import Site, form_token, path_of

FRENCH = {"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.5"}
ARABIC = {"Accept-Language": "ar"}
TITLE = re.compile(r"<title>([^<]*)</title>")
HEADING = re.compile(r"<h1>([^<]*)</h1>")
DASH = "\N{EN DASH}"


async def get(site: Site, path: str, status: int = 200, **headers: str) -> str:
    response = await site.client.get(path, headers=headers, allow_redirects=False)
    body = await response.text()
    assert response.status == status, body
    return body


def heading(html: str) -> str:
    found = HEADING.search(html)
    assert found is not None, html
    return unescape(found.group(1))


def title(html: str) -> str:
    """The page's title, without the service's name after it."""
    found = TITLE.search(html)
    assert found is not None, html
    whole = unescape(found.group(1))
    assert whole.endswith(f" {DASH} reviewflow"), whole
    return whole.removesuffix(f" {DASH} reviewflow")


async def prefers(site: Site, person: Any, language: str) -> None:
    response = await site.api.patch(
        "/v1/actors/me", json={"language": language}, headers=person.headers
    )
    assert response.status == 200, await response.text()


async def preference(site: Site, person: Any) -> str | None:
    me = await (await site.api.get("/v1/actors/me", headers=person.headers)).json()
    language: str | None = me["language"]
    return language


async def test_a_french_person_reads_my_tasks_and_the_account_page_in_french(site: Site) -> None:
    person = await site.person()
    await prefers(site, person, "fr")
    await site.sign_in(person)
    # Their choice wins over what the browser asks for.
    tasks = await get(site, "/tasks", **{"Accept-Language": "es"})
    assert '<html lang="fr" dir="ltr">' in tasks
    assert heading(tasks) == "Mes tâches" and title(tasks) == "Mes tâches"
    assert "Vous n'avez aucune tâche de consultation." in unescape(tasks)
    assert '<option value="open">Ouverte</option>' in tasks
    assert ">Se déconnecter</button>" in tasks and "My tasks" not in tasks

    wrong = await get(site, "/tasks?status=done", status=422)
    assert "Sélectionnez un statut dans la liste" in wrong
    assert title(wrong) == "Erreur : Mes tâches"
    assert '<span class="visually-hidden">Erreur :</span>' in wrong
    assert "Un problème est survenu" in wrong

    account = await get(site, "/account")
    assert heading(account) == "Votre compte"
    assert "Les pages et les courriels sont dans cette langue." in account
    assert "Emails are in English" not in account
    assert '<option value="fr" lang="fr" selected>Français</option>' in account
    assert '<option value="ar" lang="ar">العربية</option>' in account
    assert '<option value="zh" lang="zh">中文</option>' in account
    assert ">Enregistrer les paramètres</button>" in account
    assert "Uniquement les courriels essentiels" in account

    token = await form_token(site.client, "/account")
    refused = await site.client.post(
        "/account",
        data={
            "csrf_token": token,
            "language": "fr",
            "time_zone": "Mars/Olympus",
            "notifications": "all",
        },
    )
    assert refused.status == 422
    body = await refused.text()
    assert '<a href="#time_zone">Choisissez un fuseau horaire dans la liste</a>' in body
    assert title(body) == "Erreur : Votre compte"


async def test_the_sign_in_pages_speak_the_browser_s_language(site: Site) -> None:
    page = await get(site, "/sign-in", **FRENCH)
    assert '<html lang="fr" dir="ltr">' in page and heading(page) == "Se connecter"
    assert ">M'envoyer un lien de connexion</button>" in unescape(page)
    token = await form_token(site.client, "/sign-in")
    empty = await site.client.post(
        "/sign-in", data={"csrf_token": token, "email": ""}, headers=FRENCH
    )
    assert empty.status == 422
    body = await empty.text()
    assert '<a href="#email">Saisissez votre adresse électronique</a>' in body
    assert title(body) == "Erreur : Se connecter"

    person = await site.person()
    link = path_of(await site.link(person))
    shown = await get(site, link, **FRENCH)
    assert heading(shown) == "Se connecter à reviewflow"
    assert '<button type="submit" class="button">Continuer</button>' in shown
    checked = await get(site, "/sign-in/check-email", **FRENCH)
    assert heading(checked) == "Consultez votre messagerie"
    refused = await get(site, "/sign-in/not-a-link", status=404, **FRENCH)
    assert heading(refused) == "Ce lien ne peut pas être utilisé"


async def test_an_arabic_visitor_reads_right_to_left_even_on_the_error_page(site: Site) -> None:
    page = await get(site, "/sign-in", **ARABIC)
    assert '<html lang="ar" dir="rtl">' in page
    assert heading(page) == "تسجيل الدخول" and title(page) == "تسجيل الدخول"
    missing = await get(site, "/no-such-page", status=404, **ARABIC)
    assert '<html lang="ar" dir="rtl">' in missing
    assert heading(missing) == "الصفحة غير موجودة"
    assert ">الانتقال إلى الصفحة الرئيسية</a>" in missing
    # A form refused before its handler ran is explained in Arabic too.
    refused = await site.client.post("/sign-in", data={"email": "x@example.org"}, headers=ARABIC)
    assert refused.status == 403
    body = await refused.text()
    assert '<html lang="ar" dir="rtl">' in body and heading(body) == "لا يمكنكم القيام بذلك"
    assert "تعذّر قبول هذا النموذج" in body
    # The English pages are as they were.
    english = await get(site, "/no-such-page", status=404)
    assert '<html lang="en" dir="ltr">' in english and heading(english) == "Page not found"


async def test_a_visitor_s_switch_is_remembered_by_cookie(site: Site) -> None:
    token = await form_token(site.client, "/reports")
    switched = await site.client.post(
        "/language",
        data={"csrf_token": token, "language": "es", "return_to": "/sign-in"},
        allow_redirects=False,
    )
    assert switched.status == 303 and switched.headers["Location"] == "/sign-in"
    assert site.cookie("reviewflow_language") == "es"
    # The cookie wins over Accept-Language.
    page = await get(site, "/sign-in", **FRENCH)
    assert '<html lang="es" dir="ltr">' in page and heading(page) == "Iniciar sesión"
    reports = await get(site, "/reports")
    assert heading(reports) == "Informes publicados" and ">Todas las regiones</a>" in reports
    start = await get(site, "/")
    assert heading(start) == "Exámenes regionales del Pacto Mundial sobre Migración"


async def test_a_signed_in_person_s_switch_is_their_preference(site: Site) -> None:
    person = await site.person()
    await site.sign_in(person)
    token = await form_token(site.client, "/tasks")
    switched = await site.client.post(
        "/language",
        data={"csrf_token": token, "language": "ru", "return_to": "/tasks?status=open"},
        allow_redirects=False,
    )
    assert switched.status == 303 and switched.headers["Location"] == "/tasks?status=open"
    assert await preference(site, person) == "ru"
    # Another browser, without the cookie, reads their pages in Russian too.
    link = path_of(await site.link(person))
    async with site.other_client() as other:
        token = await form_token(other, link)
        used = await other.post(link, data={"csrf_token": token}, allow_redirects=False)
        assert used.status == 303
        page = await (await other.get("/tasks", headers=FRENCH)).text()
    assert '<html lang="ru" dir="ltr">' in page and heading(page) == "Мои задачи"


async def test_the_account_page_s_language_is_saved_and_spoken_at_once(site: Site) -> None:
    person = await site.person()
    await site.sign_in(person)
    # Until they choose, the page's language is the one selected.
    account = await get(site, "/account", **{"Accept-Language": "ru"})
    assert '<option value="ru" lang="ru" selected>Русский</option>' in account
    english = await get(site, "/account")
    assert '<option value="en" lang="en" selected>English</option>' in english
    assert "Pages and emails are in this language." in english
    assert "Emails are in English until they are translated." not in english

    token = await form_token(site.client, "/account")
    saved = await site.client.post(
        "/account",
        data={"csrf_token": token, "language": "zh", "time_zone": "UTC", "notifications": "all"},
        allow_redirects=False,
    )
    assert saved.status == 303 and saved.headers["Location"] == "/account?done=saved"
    assert await preference(site, person) == "zh"
    page = await get(site, "/account?done=saved")
    assert '<html lang="zh" dir="ltr">' in page and heading(page) == "您的账户"
    assert '<div class="notice notice--success" role="status"><p>您的设置已保存。</p></div>' in page
    assert '<option value="zh" lang="zh" selected>中文</option>' in page
    # Signed out, this browser keeps the language chosen.
    await site.client.post("/sign-out", data={"csrf_token": token})
    signed_out = await get(site, "/signed-out")
    assert heading(signed_out) == "您已退出"


async def test_a_task_s_page_and_its_hand_over_speak_french(
    site: Site,
    consultation: dict[str, Any],  # noqa: F811 (the fixture, imported)
) -> None:
    people, task_id = consultation["people"], consultation["tasks"]["a1"]
    await prefers(site, people["a1"], "fr")
    await site.sign_in(people["a1"])
    page = unescape(await get(site, f"/tasks/{task_id}"))
    assert title(page) == f"Tâche de consultation {DASH} {consultation['review']['title']}"
    assert '<span class="caption">Tâche de consultation</span>' in page
    assert "<dt>Date limite</dt>" in page and "<dt>Statut</dt><dd>Ouverte</dd>" in page
    assert ">Confier cette tâche à un collègue</a> si une autre personne" in page
    # The synthesis: counted in French, its clusters and objectives named in French.
    assert (
        "Le secrétariat de l'examen a établi cette synthèse à partir de 1 rapport national"
        " et de 1 contribution écrite." in page
    )
    assert "Groupe 1 : " in page and "Objectif 6 : " in page
    assert "Allemagne" in page  # the State, as CLDR names it in French
    assert "Ce à quoi votre réponse engage votre organisation" in page
    organisation = people["a1"].actor.organisation
    assert f"Vous répondez au nom de {organisation}." in page
    assert ">Envoyer votre réponse</button>" in page
    listed = unescape(await get(site, "/tasks"))
    assert "Formuler des observations sur la synthèse des contributions" in listed

    path = f"/tasks/{task_id}/delegate"
    delegate = await get(site, path)
    assert heading(delegate) == "Confier cette tâche à un collègue"
    # Numbers are written as French writes them.
    assert "Envoyée avec le courriel. 2\u202f000 caractères au maximum." in delegate
    token = await form_token(site.client, path)
    refused = await site.client.post(path, data={"csrf_token": token, "to": people["a4"].id})
    assert refused.status == 422
    assert "Ce collègue a déjà une tâche dans cet examen" in await refused.text()
    given = await site.client.post(
        path, data={"csrf_token": token, "to": people["a3"].id}, allow_redirects=False
    )
    assert given.status == 303
    notice = unescape(await get(site, "/tasks"))
    review = consultation["review"]["title"]
    assert f"Vous avez confié la tâche de {review} à Chen Wei." in notice
