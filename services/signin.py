"""Signing in to the web pages by a link sent by email, and the sessions that follow.

A link is a random token (256 bits) stored only as its hash; it works once, for 15 minutes (a
sign-in link) or 7 days (an invitation). Asking for a link answers the same whatever the
address: the account is looked up, and its mail sent, after the answer (`send_sign_in_links`).
Used and expired links and ended sessions are deleted later, by the retention rules
(services/retention.py).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from config.settings import Settings
from db import web as store
from db.actors import active_actors_by_email
from db.pool import Executor
from domain.access import Actor
from i18n import N_, gettext
from notifications.mail import Outgoing, SendFailure, build_message, mailer_for
from notifications.render import render
from services.refusals import not_found, too_many

log = logging.getLogger(__name__)

SIGN_IN = "sign_in"
INVITATION = "invitation"
LIFETIMES = {SIGN_IN: timedelta(minutes=15), INVITATION: timedelta(days=7)}

# Requests for a link admitted per window: per address asked for (so nobody floods someone's
# inbox) and per client address (so nobody tries addresses by the thousand).
REQUEST_WINDOW = timedelta(minutes=15)
REQUESTS_PER_EMAIL = 5
REQUESTS_PER_CLIENT = 20
TOO_MANY_MESSAGE = N_("You have asked for too many sign-in links. Wait 15 minutes, then try again.")

LINK_REFUSED = N_(
    "This sign-in link cannot be used. It may have expired, been used already, or been"
    " copied incompletely."
)

# The longest page address a sign-in returns to.
MAX_NEXT_LENGTH = 2000
SERVICE_NAME = "reviewflow"
MAIL_KIND = "sign_in.link"
INVITATION_KIND = "account.invited"
# Where a new account's invitation leads: the person's tasks.
INVITED_TO = "/tasks"


def local_path(value: str | None) -> str | None:
    """`value` if it is a path on this site, so a redirect to it cannot leave it; else None.
    Browsers read a backslash as a slash and drop tabs and line breaks, so `/\\evil.example`
    and `/\\t/evil.example` would lead away: anything but printable characters is refused."""
    if not value or len(value) > MAX_NEXT_LENGTH or not value.startswith("/"):
        return None
    if value.startswith("//") or "\\" in value:
        return None
    if not value.isprintable() or any(c.isspace() for c in value):
        return None
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


def _request_key(kind: str, value: str) -> str:
    # Hashed: the table of requests holds no address, only what tells them apart.
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


async def admit_sign_in_request(pool: asyncpg.Pool, email: str, client: str | None) -> None:
    """Count a request for a link to `email` from `client`; refused (429) past the limits.
    Known and unknown addresses are counted alike, so the answer tells nothing of them."""
    limits = {_request_key("email", email.lower()): REQUESTS_PER_EMAIL}
    if client:
        limits[_request_key("client", client)] = REQUESTS_PER_CLIENT
    async with pool.acquire() as conn, conn.transaction():
        admitted = await store.admit_request(conn, limits, REQUEST_WINDOW)
    if not admitted:
        raise too_many(gettext(TOO_MANY_MESSAGE), int(REQUEST_WINDOW.total_seconds()))


async def _new_link(
    pool: asyncpg.Pool, settings: Settings, actor_id: uuid.UUID, purpose: str, next_path: str | None
) -> str:
    token = secrets.token_urlsafe(32)
    await store.insert_link(
        pool, token, actor_id, purpose, LIFETIMES[purpose], local_path(next_path)
    )
    return f"{settings.api_url}/sign-in/{token}"


async def sign_in_link(
    pool: asyncpg.Pool, settings: Settings, actor_id: uuid.UUID, next_path: str | None = None
) -> str:
    """A new link (a full URL under the public URL) that signs the account in once, within
    15 minutes, then opens `next_path` (a path on this site) or the person's tasks."""
    return await _new_link(pool, settings, actor_id, SIGN_IN, next_path)


async def invitation_link(
    pool: asyncpg.Pool, settings: Settings, actor_id: uuid.UUID, next_path: str | None = None
) -> str:
    """As `sign_in_link`, valid 7 days: for an invitation mailed to someone new."""
    return await _new_link(pool, settings, actor_id, INVITATION, next_path)


async def send_sign_in_links(
    pool: asyncpg.Pool, settings: Settings, email: str, next_path: str | None = None
) -> int:
    """Mail a sign-in link to each active account with the address `email`; how many were
    sent. Nothing is sent for an unknown or deactivated address. Run after answering the
    person who asked, so how long this takes tells them nothing."""
    sent = 0
    for actor in await active_actors_by_email(pool, email):
        link = await sign_in_link(pool, settings, actor.id, next_path)
        sent += await _mail_link(settings, actor, link)
    return sent


async def _mail_link(settings: Settings, actor: Actor, link: str) -> int:
    minutes = int(LIFETIMES[SIGN_IN].total_seconds() // 60)
    return await _mail(settings, actor, MAIL_KIND, {"link": link, "minutes": minutes})


async def send_invitation(pool: asyncpg.Pool, settings: Settings, actor: Actor) -> int:
    """Mail a new account an invitation: a link that signs it in, within 7 days, on its tasks;
    1 if the mail was accepted, else 0 (an account without an address is sent nothing)."""
    if not actor.email:
        return 0
    link = await invitation_link(pool, settings, actor.id, INVITED_TO)
    days = LIFETIMES[INVITATION].days
    data = {"link": link, "days": days, "sign_in": f"{settings.api_url}/sign-in"}
    return await _mail(settings, actor, INVITATION_KIND, data)


async def _mail(settings: Settings, actor: Actor, kind: str, data: dict[str, Any]) -> int:
    """Send `actor` the account message `kind`; 1 if the mail was accepted, else 0 and the
    reason logged (the person can ask for a link again, so it is not retried)."""
    rendered = render(
        kind,
        actor.language or "en",
        {"recipient": {"name": actor.name}, "service": {"name": SERVICE_NAME}, **data},
    )
    outgoing = Outgoing(
        str(uuid.uuid4()), kind, actor.name, actor.email or "", rendered, datetime.now(UTC)
    )
    try:
        message = build_message(outgoing, settings.mail_from)
    except ValueError as error:
        log.warning("%s for account %s not sent: %s", kind, actor.id, error)
        return 0
    failures: list[SendFailure] = []

    async def on_result(_: int, failure: SendFailure | None) -> None:
        if failure is not None:
            failures.append(failure)

    async def may_send(_: int) -> bool:
        return True

    mailer = mailer_for(settings.smtp, settings.mail_dir)
    try:
        await mailer.send([message], on_result, may_send)
    finally:
        await mailer.close()
    for failure in failures:
        log.warning("%s for account %s not sent: %s", kind, actor.id, failure.reason)
    return 0 if failures else 1


async def check_link(pool: asyncpg.Pool, token: str) -> None:
    """Refuse a link that cannot sign in (unknown, used, expired, or its account deactivated),
    without using it."""
    if not await store.link_is_usable(pool, token):
        raise not_found(gettext(LINK_REFUSED))


@dataclass(frozen=True)
class Started:
    """A new session: the token its cookie holds, and the page to open first (if any)."""

    token: str
    next_path: str | None


def _durations(settings: Settings) -> tuple[timedelta, timedelta]:
    return timedelta(minutes=settings.session_idle_minutes), timedelta(hours=settings.session_hours)


async def _insert_session(conn: Executor, settings: Settings, actor_id: uuid.UUID) -> str:
    """A new session for `actor_id`, its token returned."""
    session_token = secrets.token_urlsafe(32)
    await store.insert_session(conn, session_token, actor_id, secrets.token_urlsafe(32))
    return session_token


async def redeem_link(pool: asyncpg.Pool, settings: Settings, token: str) -> Started:
    """Use the link (once: a second use, even at the same moment, is refused) and start a
    session for its account."""
    async with pool.acquire() as conn, conn.transaction():
        used = await store.use_link(conn, token)
        if used is None:
            raise not_found(gettext(LINK_REFUSED))
        session_token = await _insert_session(conn, settings, used.actor_id)
    return Started(session_token, used.next_path)


async def start_session(
    pool: asyncpg.Pool, settings: Settings, actor_id: uuid.UUID, next_path: str | None
) -> Started:
    """A session for an account whose person proved who they are otherwise than by a link
    (single sign-on, services.sso): the same session a link starts."""
    async with pool.acquire() as conn, conn.transaction():
        session_token = await _insert_session(conn, settings, actor_id)
    return Started(session_token, local_path(next_path))


async def live_session(
    pool: asyncpg.Pool, settings: Settings, token: str
) -> store.LiveSession | None:
    """The person signed in with the session `token` and the session's CSRF token, the
    session's last use set to now; None if it ended (idle too long, too old, signed out, or
    its account deactivated)."""
    return await store.touch_session(pool, token, *_durations(settings))


async def end_session(pool: asyncpg.Pool, token: str) -> None:
    await store.delete_session(pool, token)
