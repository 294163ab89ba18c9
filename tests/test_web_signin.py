"""Signing in to the pages by a link sent by email: once, in time, for active accounts only;
the same answer for any address; limited; sessions that end; forms only this site can post."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Page
from temporalio.client import Client

from api.app import create_app
from config.settings import load_settings
from notifications.render import render
from services.signin import (
    REQUESTS_PER_CLIENT,
    REQUESTS_PER_EMAIL,
    TOO_MANY_MESSAGE,
    invitation_link,
    local_path,
    send_sign_in_links,
    sign_in_link,
)
from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.web_site import (
    Site,
    ask_for_link,
    cookie_flags,
    email_address,
    form_token,
    path_of,
    post_form,
    returns_to,
    signed_in,
    text_of,
)
from web.sessions import SESSION_COOKIE, VISITOR_COOKIE


@pytest.fixture(autouse=True)
async def no_earlier_requests(pool: asyncpg.Pool) -> None:
    """Each test starts with no sign-in requests counted against this client's address."""
    await pool.execute("DELETE FROM sign_in_requests")


async def test_a_mailed_link_signs_in_once(site: Site) -> None:
    account = await site.person(name="Ana Ruiz")
    email = account.actor.email
    asked = await ask_for_link(site.client, email)
    assert (asked.status, asked.headers["Location"]) == (303, "/sign-in/check-email")
    link = await site.mailed_link(email)
    [message] = await site.mails_to(email)
    text = text_of(message)
    assert link.startswith(f"{site.settings.api_url}/sign-in/")
    assert "15 minutes" in text and "If you did not ask for this, ignore this email" in text
    stored = await site.pool.fetchval(
        "SELECT token_hash FROM sign_in_links WHERE actor_id = $1", account.actor.id
    )
    assert stored == hashlib.sha256(link.rsplit("/", 1)[1].encode()).hexdigest()

    # Opening the link (as a mail scanner would) uses nothing up.
    for _ in range(2):
        opened = await site.client.get(path_of(link))
        assert opened.status == 200 and "Continue" in await opened.text()
    used = await post_form(site.client, path_of(link))
    assert (used.status, used.headers["Location"]) == (303, "/tasks")
    tasks = await site.client.get("/tasks", allow_redirects=False)
    assert tasks.status == 200
    assert "Signed in as Ana Ruiz" in await tasks.text()

    async with site.other_client() as other:
        again = await other.get(path_of(link))
        assert again.status == 404
        assert "This link cannot be used" in await again.text()
        reused = await post_form(other, path_of(link), token_from="/sign-in")
        assert reused.status == 404 and SESSION_COOKIE not in reused.cookies
        assert not await signed_in(other)


async def test_an_expired_link_is_refused(site: Site) -> None:
    account = await site.person()
    link = await site.link(account)
    await site.set_back("sign_in_links", "expires_at", timedelta(seconds=1), account)
    shown = await site.client.get(path_of(link))
    assert shown.status == 404
    assert '<a class="button" href="/sign-in">Ask for a new sign-in link</a>' in await shown.text()
    used = await post_form(site.client, path_of(link), token_from="/sign-in")
    assert used.status == 404
    assert not await signed_in(site.client)


async def test_links_are_valid_15_minutes_and_invitations_7_days(site: Site) -> None:
    account = await site.person()
    for make, minutes in ((sign_in_link, 15), (invitation_link, 7 * 24 * 60)):
        link = await make(site.pool, site.settings, account.actor.id)
        lasts = await site.pool.fetchval(
            "SELECT extract(epoch FROM expires_at - created_at) / 60 FROM sign_in_links"
            " WHERE token_hash = $1",
            hashlib.sha256(link.rsplit("/", 1)[1].encode()).hexdigest(),
        )
        assert round(lasts) == minutes


async def test_any_address_gets_the_same_answer_and_only_an_account_a_mail(site: Site) -> None:
    known, gone = await site.person(), await site.person()
    admin = await site.make_account("admin")
    off = await site.api.post(f"/v1/actors/{gone.id}/deactivate", headers=admin.headers)
    assert off.status == 204
    addresses = (known.actor.email, email_address(), gone.actor.email)
    answers = []
    for email in addresses:
        asked = await ask_for_link(site.client, email)
        shown = await site.client.get(asked.headers["Location"])
        answers.append((asked.status, asked.headers["Location"], await shown.text()))
    assert answers[0] == answers[1] == answers[2]
    assert "Check your email" in answers[0][2]
    assert [len(await site.mails_to(email)) for email in addresses] == [1, 0, 0]


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("", "Enter your email address"),
        ("   ", "Enter your email address"),
        ("name.example.org", "Enter an email address in the correct format"),
        ("a..b@example.org", "Enter an email address in the correct format"),
    ],
)
async def test_an_empty_or_malformed_address_is_named_beside_its_field(
    site: Site, email: str, error: str
) -> None:
    asked = await ask_for_link(site.client, email)
    assert asked.status == 422
    html = await asked.text()
    assert f'<a href="#email">{error}' in html  # the summary links to the field
    assert re.search(rf'id="email-error">.*{error}', html)
    assert 'aria-describedby="email-hint email-error"' in html


async def test_too_many_requests_are_refused_with_a_clear_message(site: Site) -> None:
    email = (await site.person()).actor.email
    for _ in range(REQUESTS_PER_EMAIL):
        assert (await ask_for_link(site.client, email)).status == 303
    refused = await ask_for_link(site.client, email)
    assert refused.status == 429
    assert TOO_MANY_MESSAGE in await refused.text()
    assert int(refused.headers["Retry-After"]) == 900
    assert len(await site.mails_to(email)) == REQUESTS_PER_EMAIL

    # From one client address, whatever the addresses asked for.
    for _ in range(REQUESTS_PER_CLIENT - REQUESTS_PER_EMAIL):
        assert (await ask_for_link(site.client, email_address())).status == 303
    refused = await ask_for_link(site.client, email_address())
    assert refused.status == 429
    assert TOO_MANY_MESSAGE in await refused.text()


async def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(site: Site) -> None:
    account = await site.person()
    email = account.actor.email
    await form_token(site.client, "/sign-in")  # the visitor's cookie is set
    for form in ({"email": email}, {"email": email, "csrf_token": "forged"}):
        refused = await site.client.post("/sign-in", data=form, allow_redirects=False)
        assert refused.status == 403
        assert "did not come from a page of this service" in await refused.text()
    link = await site.link(account)
    refused = await site.client.post(path_of(link), data={}, allow_redirects=False)
    assert refused.status == 403 and SESSION_COOKIE not in refused.cookies
    assert await site.mails_to(email) == []

    # The link was not used: it still signs in; then signing out needs the session's token.
    assert (await post_form(site.client, path_of(link))).status == 303
    for form in ({}, {"csrf_token": site.cookie(VISITOR_COOKIE)}):
        refused = await site.client.post("/sign-out", data=form, allow_redirects=False)
        assert refused.status == 403
    assert await signed_in(site.client)


async def test_an_idle_or_old_session_ends(site: Site) -> None:
    account = await site.person()
    await site.sign_in(account)
    await site.set_back("web_sessions", "last_seen_at", timedelta(minutes=29), account)
    assert await signed_in(site.client)  # and seen now again
    await site.set_back("web_sessions", "last_seen_at", timedelta(minutes=31), account)
    ended = await site.client.get("/tasks", allow_redirects=False)
    assert (ended.status, returns_to(ended)) == (303, "/tasks")
    assert ended.cookies[SESSION_COOKIE]["max-age"] == "0"

    await site.sign_in(account)
    await site.set_back("web_sessions", "created_at", timedelta(hours=12, minutes=1), account)
    assert not await signed_in(site.client)


async def test_signing_out_ends_the_session(site: Site) -> None:
    account = await site.person()
    await site.sign_in(account)
    session = site.cookie(SESSION_COOKIE)
    out = await post_form(site.client, "/sign-out", token_from="/tasks")
    assert (out.status, out.headers["Location"]) == (303, "/signed-out")
    shown = await site.client.get("/signed-out")
    assert "You have signed out" in await shown.text()
    assert not await signed_in(site.client)
    left = await site.pool.fetchval(
        "SELECT count(*) FROM web_sessions WHERE actor_id = $1", account.actor.id
    )
    assert left == 0
    # The old cookie, kept by someone, opens nothing.
    async with site.other_client() as other:
        other.cookie_jar.update_cookies({SESSION_COOKIE: session})
        assert not await signed_in(other)


async def test_cookies_are_http_only_same_site_lax_and_secure_over_https(
    site: Site, temporal_client: Client, tmp_path: Path
) -> None:
    account = await site.person()
    link = await site.link(account)
    shown = await site.client.get(path_of(link))
    flags = cookie_flags(shown, VISITOR_COOKIE)
    assert {"httponly", "samesite=lax", "path=/"} <= flags and "secure" not in flags
    used = await post_form(site.client, path_of(link))
    flags = cookie_flags(used, SESSION_COOKIE)
    assert {"httponly", "samesite=lax", "path=/"} <= flags and "secure" not in flags

    public = load_settings(
        {
            "REVIEWFLOW_DATA_DIR": str(tmp_path),
            "REVIEWFLOW_PUBLIC_URL": "https://reviews.example.org",
        }
    )
    link = await sign_in_link(site.pool, public, account.actor.id)
    assert link.startswith("https://reviews.example.org/sign-in/")
    app = create_app(public, pool=site.pool, temporal=temporal_client)
    async with TestClient(TestServer(app)) as https_site:
        # Served over http here, so the client would not send a Secure cookie back itself.
        shown = await https_site.get(path_of(link))
        assert {"httponly", "samesite=lax", "secure"} <= cookie_flags(shown, VISITOR_COOKIE)
        token = shown.cookies[VISITOR_COOKIE].value
        used = await https_site.post(
            path_of(link),
            data={"csrf_token": token},
            headers={"Cookie": f"{VISITOR_COOKIE}={token}"},
            allow_redirects=False,
        )
        assert used.status == 303
        assert {"httponly", "samesite=lax", "secure"} <= cookie_flags(used, SESSION_COOKIE)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "tasks",
        "",
    ],
)
def test_only_a_path_on_this_site_is_a_place_to_return_to(target: str) -> None:
    assert local_path(target) is None


async def test_sign_in_returns_to_the_page_asked_for_and_never_off_site(site: Site) -> None:
    account = await site.person()
    sent_away = await site.client.get("/tasks?status=open", allow_redirects=False)
    assert returns_to(sent_away) == "/tasks?status=open"
    form = await site.client.get(sent_away.headers["Location"])
    assert '<input type="hidden" name="next" value="/tasks?status=open">' in await form.text()
    assert (
        await ask_for_link(site.client, account.actor.email, "/tasks?status=open")
    ).status == 303
    used = await post_form(site.client, path_of(await site.mailed_link(account.actor.email)))
    assert used.headers["Location"] == "/tasks?status=open"

    off_site = await site.client.get("/sign-in?next=//evil.example/")
    assert 'name="next"' not in await off_site.text()
    for target in ("//evil.example/", "https://evil.example/"):
        link = await site.link(account, target)
        assert (await post_form(site.client, path_of(link))).headers["Location"] == "/tasks"


async def test_a_deactivated_account_cannot_sign_in_and_its_sessions_stop(site: Site) -> None:
    account = await site.person()
    admin = await site.make_account("admin")
    await site.sign_in(account)
    unused = await site.link(account)
    off = await site.api.post(f"/v1/actors/{account.id}/deactivate", headers=admin.headers)
    assert off.status == 204
    assert not await signed_in(site.client)
    assert (await site.client.get(path_of(unused))).status == 404
    used = await post_form(site.client, path_of(unused), token_from="/sign-in")
    assert used.status == 404 and not await signed_in(site.client)
    assert await send_sign_in_links(site.pool, site.settings, account.actor.email) == 0


async def test_a_mail_that_cannot_be_sent_is_logged_without_its_link(
    site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    account = await site.person()
    # Nothing listens on port 1: the connection is refused.
    unreachable = load_settings(
        {"REVIEWFLOW_DATA_DIR": str(tmp_path), "SMTP_HOST": "127.0.0.1", "SMTP_PORT": "1"}
    )
    with caplog.at_level(logging.WARNING, logger="services.signin"):
        assert await send_sign_in_links(site.pool, unreachable, account.actor.email) == 0
    [record] = [r for r in caplog.records if r.name == "services.signin"]
    assert str(account.actor.id) in record.getMessage()
    assert "/sign-in/" not in record.getMessage()
    assert account.actor.email not in record.getMessage()


def test_a_hostile_name_in_the_sign_in_mail_shows_as_text() -> None:
    hostile = '<script>alert(1)</script> "Ana"'
    context = {
        "recipient": {"name": hostile},
        "link": "https://reviews.example.org/sign-in/abc",
        "minutes": 15,
        "service": {"name": "reviewflow"},
    }
    rendered = render("sign_in.link", "en", context)
    assert "<script" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert 'href="https://reviews.example.org/sign-in/abc"' in rendered.html
    assert rendered.subject == "Your link to sign in to reviewflow"


@needs_chromium
async def test_signing_in_from_the_mail_in_a_browser(page: Page, site: Site) -> None:
    account = await site.person(
        "stakeholder",
        organisation="Migrant Aid",
        stakeholder_category="civil_society",
        regions=("ECE",),
    )
    await page.goto("/sign-in")
    await assert_accessible(page)
    await page.get_by_role("button", name="Send me a sign-in link").click()
    await page.wait_for_url("**/sign-in")
    assert await page.locator("#email-error").text_content() == "Error: Enter your email address"
    await assert_accessible(page)
    await screenshot(page, "sign-in-error")
    await page.get_by_label("Email address").fill(account.actor.email)
    await page.get_by_role("button", name="Send me a sign-in link").click()
    await page.wait_for_url("**/sign-in/check-email")
    assert await page.get_by_role("heading", level=1).inner_text() == "Check your email"
    await assert_accessible(page)

    # The mail's link names the public URL; the test server listens elsewhere.
    await page.goto(path_of(await site.mailed_link(account.actor.email)))
    await assert_accessible(page)
    await screenshot(page, "sign-in-continue")
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url("**/tasks")
    assert await page.get_by_role("heading", level=1).inner_text() == "My tasks"
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/signed-out")
    assert await page.get_by_role("heading", level=1).inner_text() == "You have signed out"
    await assert_accessible(page)


@needs_chromium
async def test_in_a_browser_a_used_or_expired_link_is_refused_and_an_idle_session_ends(
    page: Page, site: Site
) -> None:
    account = await site.person()
    link = path_of(await site.link(account))
    await page.goto(link)
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url("**/tasks")

    # The same link again, in another browser: refused, with a way to ask for a new one.
    async with site.other_page(page) as other:
        await other.goto(link)
        assert await other.get_by_role("heading", level=1).inner_text() == (
            "This link cannot be used"
        )
        await assert_accessible(other)
        expired = path_of(await site.link(account))
        await site.set_back("sign_in_links", "expires_at", timedelta(seconds=1), account)
        await other.goto(expired)
        assert await other.get_by_role("heading", level=1).inner_text() == (
            "This link cannot be used"
        )
        await other.get_by_role("link", name="Ask for a new sign-in link").click()
        await other.wait_for_url("**/sign-in")

    # Idle past the timeout: the next page asks to sign in again, and returns there after.
    await site.set_back("web_sessions", "last_seen_at", timedelta(minutes=31), account)
    await page.goto("/account")
    await page.wait_for_url(lambda url: urlsplit(url).path == "/sign-in")
    assert parse_qs(urlsplit(page.url).query)["next"] == ["/account"]
    assert await page.get_by_role("heading", level=1).inner_text() == "Sign in"


@needs_chromium
async def test_in_a_browser_any_address_gets_the_same_answer_and_a_forged_form_is_refused(
    page: Page, site: Site
) -> None:
    known = (await site.person()).actor.email
    answers = []
    for address in (known, email_address()):
        await page.goto("/sign-in")
        await page.get_by_label("Email address").fill(address)
        await page.get_by_role("button", name="Send me a sign-in link").click()
        await page.wait_for_url("**/sign-in/check-email")
        answers.append(await page.locator("main").inner_text())
    assert answers[0] == answers[1]
    assert len(await site.mails_to(known)) == 1

    # The form without its token (as another site would post it): refused, nothing sent.
    await page.goto("/sign-in")
    await page.locator('main input[name="csrf_token"]').evaluate("field => field.remove()")
    await page.get_by_label("Email address").fill(known)
    await page.get_by_role("button", name="Send me a sign-in link").click()
    assert "did not come from a page of this service" in await page.locator("main").inner_text()
    await assert_accessible(page)
    assert len(await site.mails_to(known)) == 1
