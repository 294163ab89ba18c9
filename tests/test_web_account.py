"""The account page: settings saved as the API saves them, errors beside their fields, and the
person's own API token issued once and revoked; an account made for someone mails them an
invitation that signs them in."""

from __future__ import annotations

import re
import secrets
from email import message_from_bytes
from email.policy import default
from typing import Any

from playwright.async_api import Page

from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.web_site import (
    LINK,
    Site,
    email_address,
    form_token,
    path_of,
    post_form,
    text_of,
)

TOKEN_SHOWN = re.compile(r'<code id="api-token" class="token">([^<]+)</code>')


async def save(site: Site, **fields: str) -> Any:
    token = await form_token(site.client, "/account")
    return await site.client.post(
        "/account", data={"csrf_token": token, **fields}, allow_redirects=False
    )


async def test_the_account_page_needs_a_person_signed_in(site: Site) -> None:
    response = await site.client.get("/account", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/sign-in?next=/account"


async def test_settings_are_saved_and_the_api_sees_them(site: Site) -> None:
    person = await site.person(name="Ana <b>Pérez</b>")
    await site.sign_in(person)
    page = await (await site.client.get("/account")).text()
    assert "Ana &lt;b&gt;Pérez&lt;/b&gt;" in page and person.actor.email in page
    assert '<option value="UTC" selected>' in page

    response = await save(
        site, language="fr", time_zone="America/La_Paz", notifications="essential"
    )
    assert response.status == 303
    assert response.headers["Location"] == "/account?done=saved"
    page = await (await site.client.get("/account?done=saved")).text()
    # The language chosen is the page's at once.
    assert '<html lang="fr"' in page and "Vos paramètres ont été enregistrés." in page
    assert '<option value="America/La_Paz" selected>' in page

    me = await (await site.api.get("/v1/actors/me", headers=person.headers)).json()
    assert (me["language"], me["time_zone"], me["notifications"]) == (
        "fr",
        "America/La_Paz",
        "essential",
    )


async def test_an_unknown_time_zone_is_named_beside_its_field(site: Site) -> None:
    person = await site.person()
    await site.sign_in(person)
    response = await save(site, language="ar", time_zone="Mars/Olympus", notifications="all")
    assert response.status == 422
    page = await response.text()
    assert '<a href="#time_zone">Choose a time zone from the list</a>' in page
    assert 'id="time_zone-error"' in page and 'id="language-error"' not in page
    # What was chosen stays chosen; nothing was saved.
    assert '<option value="ar" lang="ar" selected>' in page
    me = await (await site.api.get("/v1/actors/me", headers=person.headers)).json()
    assert (me["language"], me["time_zone"]) == (None, "UTC")


async def test_choices_not_offered_are_refused_beside_their_fields(site: Site) -> None:
    await site.sign_in(await site.person())
    response = await save(site, language="xx", time_zone="UTC", notifications="sometimes")
    assert response.status == 422
    page = await response.text()
    assert '<a href="#language">Choose a language from the list</a>' in page
    assert '<a href="#notifications">Choose which emails you want</a>' in page


async def test_the_api_takes_a_time_zone_and_refuses_an_unknown_one(site: Site) -> None:
    person = await site.person()
    response = await site.api.patch(
        "/v1/actors/me", json={"time_zone": "Asia/Kolkata"}, headers=person.headers
    )
    assert response.status == 200
    assert (await response.json())["time_zone"] == "Asia/Kolkata"
    response = await site.api.patch(
        "/v1/actors/me", json={"time_zone": "Asia/Nowhere"}, headers=person.headers
    )
    assert response.status == 422
    assert "/time_zone" in await response.text()


async def test_a_token_is_shown_once_works_and_can_be_revoked(site: Site) -> None:
    person = await site.person()
    await site.sign_in(person)
    token = await form_token(site.client, "/account")
    issued = await site.client.post(
        "/account/token", data={"csrf_token": token, "action": "issue"}, allow_redirects=False
    )
    assert issued.status == 200 and issued.headers["Cache-Control"] == "no-store"
    found = TOKEN_SHOWN.search(await issued.text())
    assert found is not None
    new_token = found.group(1)
    bearer = {"Authorization": f"Bearer {new_token}"}
    me = await site.api.get("/v1/actors/me", headers=bearer)
    assert (await me.json())["id"] == person.id
    # The token made before stops working; the page never shows the new one again.
    assert (await site.api.get("/v1/actors/me", headers=person.headers)).status == 401
    assert new_token not in await (await site.client.get("/account")).text()

    token = await form_token(site.client, "/account")
    revoked = await site.client.post(
        "/account/token", data={"csrf_token": token, "action": "revoke"}, allow_redirects=False
    )
    assert revoked.headers["Location"] == "/account?done=revoked"
    assert (await site.api.get("/v1/actors/me", headers=bearer)).status == 401


async def test_token_forms_without_their_csrf_token_are_refused(site: Site) -> None:
    person = await site.person()
    await site.sign_in(person)
    response = await site.client.post("/account/token", data={"action": "revoke"})
    assert response.status == 403
    assert (await site.api.get("/v1/actors/me", headers=person.headers)).status == 200


async def test_an_account_made_for_someone_mails_them_an_invitation(
    site: Site, ece_secretariat: Any
) -> None:
    address = email_address()
    body = {"name": "Jon", "role": "focal_point", "country": "DEU", "email": address}
    headers = {**ece_secretariat.headers, "Idempotency-Key": address}
    for _ in range(2):  # a retry of the request makes nothing twice and mails nothing twice
        response = await site.api.post("/v1/actors", json=body, headers=headers)
        assert response.status == 201
    [mail] = await site.mails_to(address)
    assert mail["Subject"] == "An account was made for you at reviewflow"
    link = LINK.search(text_of(mail))
    assert link is not None and link.group(0).startswith(site.settings.api_url)
    used = await post_form(site.client, path_of(link.group(0)))
    assert used.status == 303 and used.headers["Location"] == "/tasks"


async def test_an_account_without_an_address_is_mailed_nothing(site: Site, admin: Any) -> None:
    name = f"No Mail {secrets.token_hex(4)}"
    before = set(site.settings.mail_dir.glob("*.eml"))
    response = await site.api.post(
        "/v1/actors", json={"name": name, "role": "observer"}, headers=admin.headers
    )
    assert response.status == 201
    await site.mails_to("nobody")  # waits for the mail started, if any
    # Other tests' mail may arrive meanwhile: none of what arrived is this account's.
    arrived = set(site.settings.mail_dir.glob("*.eml")) - before
    texts = [text_of(message_from_bytes(path.read_bytes(), policy=default)) for path in arrived]
    assert not [text for text in texts if name in text]


@needs_chromium
async def test_from_the_invitation_to_a_new_time_zone_in_a_browser(
    page: Page, site: Site, ece_secretariat: Any
) -> None:
    address = email_address()
    body = {"name": "Zoë Keller", "role": "focal_point", "country": "DEU", "email": address}
    response = await site.api.post("/v1/actors", json=body, headers=ece_secretariat.headers)
    assert response.status == 201
    [mail] = await site.mails_to(address)
    link = LINK.search(text_of(mail))
    assert link is not None
    await page.goto(path_of(link.group(0)))
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url("**/tasks")
    await page.get_by_role("link", name="Account").click()
    await page.wait_for_url("**/account")
    await assert_accessible(page)
    await page.get_by_label("Time zone").select_option("Europe/Zurich")
    await page.get_by_role("button", name="Save settings").click()
    await page.wait_for_url("**/account?done=saved")
    assert await page.get_by_role("status").first.inner_text() == "Your settings have been saved."
    assert await page.get_by_label("Time zone").input_value() == "Europe/Zurich"
    await assert_accessible(page)
    await screenshot(page, "account")
