"""Signing in to the pages by a link sent by email: once, in time, for active accounts only;
the same answer for any address; limited; sessions that end; forms only this site can post."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Page
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings, load_settings
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
from tests.browser import assert_accessible, needs_chromium
from web.background import BACKGROUND
from web.sessions import SESSION_COOKIE, VISITOR_COOKIE

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"https?://\S+/sign-in/[A-Za-z0-9_-]+")


@pytest.fixture(autouse=True)
async def no_earlier_requests(pool: asyncpg.Pool) -> None:
    """Each test starts with no sign-in requests counted against this client's address."""
    await pool.execute("DELETE FROM sign_in_requests")


def email_address() -> str:
    return f"person-{secrets.token_hex(4)}@example.org"


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def path_of(link: str) -> str:
    return urlsplit(link).path


async def form_token(client: aiohttp.ClientSession, path: str) -> str:
    """The CSRF token of the form on the page at `path` (its cookie kept by `client`)."""
    response = await client.get(path)
    assert response.status == 200, await response.text()
    found = CSRF_FIELD.search(await response.text())
    assert found is not None
    return found.group(1)


async def ask_for_link(
    client: aiohttp.ClientSession, email: str, next_path: str | None = None
) -> aiohttp.ClientResponse:
    token = await form_token(client, "/sign-in")
    form = {"csrf_token": token, "email": email, **({"next": next_path} if next_path else {})}
    return await client.post("/sign-in", data=form, allow_redirects=False)


async def post_form(
    client: aiohttp.ClientSession, path: str, token_from: str | None = None
) -> aiohttp.ClientResponse:
    """Post the form at `path` with the token of the page `token_from` (default: `path`)."""
    token = await form_token(client, token_from or path)
    return await client.post(path, data={"csrf_token": token}, allow_redirects=False)


async def signed_in(client: aiohttp.ClientSession) -> bool:
    response = await client.get("/tasks", allow_redirects=False)
    return response.status == 200


def returns_to(redirect: aiohttp.ClientResponse) -> str:
    """Where the sign-in page that `redirect` sends to returns after signing in."""
    location = urlsplit(redirect.headers["Location"])
    assert location.path == "/sign-in"
    [target] = parse_qs(location.query)["next"]
    return target


def cookie_flags(response: aiohttp.ClientResponse, name: str) -> set[str]:
    """The attributes of the cookie `name` the response sets, such as `httponly`, `path=/`."""
    [header] = [h for h in response.headers.getall("Set-Cookie") if h.startswith(f"{name}=")]
    return {part.strip().lower() for part in header.split(";")[1:]}


def browser_like(api: TestClient[Any, Any]) -> aiohttp.ClientSession:
    """A client keeping cookies of its own, as a browser does."""
    return aiohttp.ClientSession(
        base_url=str(api.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    )


@dataclass
class Site:
    """The served pages, one browser's client (the `api` client's cookies would be shared by
    every test), the database and the mail folder."""

    api: TestClient[Any, Any]
    client: aiohttp.ClientSession
    pool: asyncpg.Pool
    settings: Settings
    make_account: Any

    def other_client(self) -> aiohttp.ClientSession:
        return browser_like(self.api)

    async def person(self, role: str = "focal_point", **fields: Any) -> Any:
        """A new account with an address of its own."""
        fields.setdefault("email", email_address())
        if role == "focal_point":
            fields.setdefault("country", "DEU")
        return await self.make_account(role, **fields)

    async def link(self, account: Any, next_path: str | None = None) -> str:
        return await sign_in_link(self.pool, self.settings, account.actor.id, next_path)

    async def sign_in(self, account: Any) -> None:
        assert (await post_form(self.client, path_of(await self.link(account)))).status == 303

    async def mails_to(self, address: str) -> list[EmailMessage]:
        """The mails sent to `address`, once what the pages started sending is sent."""
        await self.api.app[BACKGROUND].drain()
        found = []
        for path in sorted(self.settings.mail_dir.glob("*.eml")):
            message = message_from_bytes(path.read_bytes(), policy=default)
            if address in str(message["To"]):
                found.append(message)
        return found  # type: ignore[return-value]

    async def mailed_link(self, address: str) -> str:
        """The link in the one mail sent to `address`."""
        [message] = await self.mails_to(address)
        found = LINK.search(text_of(message))
        assert found is not None
        return found.group(0)

    def cookie(self, name: str) -> str:
        return self.client.cookie_jar.filter_cookies(self.api.make_url("/"))[name].value

    async def set_back(self, table: str, column: str, by: timedelta, account: Any) -> None:
        """The account's rows of `table` as if `column` had been `by` earlier than now."""
        await self.pool.execute(
            f"UPDATE {table} SET {column} = now() - $1::interval WHERE actor_id = $2",
            by,
            account.actor.id,
        )


@pytest.fixture
async def site(
    api: TestClient[Any, Any], pool: asyncpg.Pool, settings: Settings, make_account: Any
) -> AsyncIterator[Site]:
    async with browser_like(api) as client:
        yield Site(api, client, pool, settings, make_account)


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
    await page.get_by_label("Email address").fill(account.actor.email)
    await page.get_by_role("button", name="Send me a sign-in link").click()
    await page.wait_for_url("**/sign-in/check-email")
    assert await page.get_by_role("heading", level=1).inner_text() == "Check your email"
    await assert_accessible(page)

    # The mail's link names the public URL; the test server listens elsewhere.
    await page.goto(path_of(await site.mailed_link(account.actor.email)))
    await assert_accessible(page)
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url("**/tasks")
    assert await page.get_by_role("heading", level=1).inner_text() == "My tasks"
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/signed-out")
    assert await page.get_by_role("heading", level=1).inner_text() == "You have signed out"
    await assert_accessible(page)
