"""The pages as a person's browser sees them, for tests: a client with cookies of its own,
forms with their CSRF tokens, sign-in links and the mails the pages send."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import asyncpg
from aiohttp.test_utils import TestClient
from playwright.async_api import Page

from config.settings import Settings
from services.signin import sign_in_link
from web.background import BACKGROUND

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"https?://\S+/sign-in/[A-Za-z0-9_-]+")


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

    @asynccontextmanager
    async def other_page(self, page: Page) -> AsyncIterator[Page]:
        """A page in another browser context than `page`'s: no cookies of its own yet."""
        browser = page.context.browser
        assert browser is not None
        context = await browser.new_context(base_url=str(self.api.make_url("")).rstrip("/"))
        try:
            yield await context.new_page()
        finally:
            await context.close()

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
            raw = path.read_bytes()
            # Only the mails naming the address are parsed: the session's mail folder holds
            # thousands by its end, and parsing them all would outlast any test's deadline.
            if address.encode() not in raw:
                continue
            message = message_from_bytes(raw, policy=default)
            if address in str(message["To"]):
                found.append(message)
        return found  # type: ignore[return-value]

    async def mailed_link(self, address: str) -> str:
        """The link in the one mail sent to `address`."""
        [message] = await self.mails_to(address)
        found = LINK.search(text_of(message))
        assert found is not None
        return found.group(0)

    async def invitation(self, address: str) -> str | None:
        """The sign-in link of the review invitation mailed to `address`, once it is sent."""
        for message in await self.mails_to(address):
            # A long subject is folded: its text may start after a line break.
            if str(message["Subject"]).strip().startswith("You are invited to take part"):
                found = LINK.search(text_of(message))
                return found.group(0) if found else None
        return None

    def cookie(self, name: str) -> str:
        return self.client.cookie_jar.filter_cookies(self.api.make_url("/"))[name].value

    async def set_back(self, table: str, column: str, by: timedelta, account: Any) -> None:
        """The account's rows of `table` as if `column` had been `by` earlier than now."""
        await self.pool.execute(
            f"UPDATE {table} SET {column} = now() - $1::interval WHERE actor_id = $2",
            by,
            account.actor.id,
        )
