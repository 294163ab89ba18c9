"""Who is signed in to the pages, and forms that only this site's pages can post.

A session is a row in PostgreSQL (services.signin) and a cookie holding its token. Every form
that changes something carries a CSRF token: the session's for a person signed in; for a
visitor, the value of a cookie of its own ("double submit": another site can make a browser
post a form here, but can neither read that cookie nor set it).
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlencode

from aiohttp import web

from api.keys import POOL, SETTINGS
from api.problems import Handler
from config.settings import Settings
from domain.access import Actor
from i18n import N_
from services.refusals import forbidden
from services.signin import live_session, local_path
from web.keys import CSRF_TOKEN, PERSON
from web.paths import is_page, is_published_file

SESSION_COOKIE = "reviewflow_session"
VISITOR_COOKIE = "reviewflow_csrf"
CSRF_FIELD = "csrf_token"
# Methods that may change something: each must carry the CSRF token.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Static files need no session: no database query for them.
STATIC_PREFIX = "/static/"
# Longer than any token made here; a longer cookie is not one of ours.
MAX_TOKEN_LENGTH = 64

# Translated on the error page that shows it.
FORM_REFUSED = N_(
    "This form could not be accepted, because it did not come from a page of this service or"
    " your session has changed. Go back, reload the page and try again."
)


def set_cookie(
    response: web.StreamResponse,
    settings: Settings,
    name: str,
    value: str,
    max_age: int | None = None,
) -> None:
    """A cookie scripts cannot read, sent on this site's links from elsewhere (an email) but
    not with other sites' forms, and only over https when the site is served over https; it
    ends with the browser's session unless `max_age` (seconds) keeps it longer."""
    response.set_cookie(
        name,
        value,
        path="/",
        max_age=max_age,
        httponly=True,
        samesite="Lax",
        secure=settings.api_url.startswith("https://"),
    )


def _token(value: str | None) -> str | None:
    if value and len(value) <= MAX_TOKEN_LENGTH and value.isascii() and value.isprintable():
        return value
    return None


def session_token(request: web.Request) -> str | None:
    return _token(request.cookies.get(SESSION_COOKIE))


# Routes (by name) whose handler reads its own body as it arrives, a file larger than pages'
# body limit, and checks the CSRF token itself (`check_csrf_token`), as the form's first field.
ANNEX_UPLOAD = "annex-upload"
STREAMED_FORMS = frozenset({ANNEX_UPLOAD})


async def _check_csrf(request: web.Request) -> None:
    form = await request.post()
    check_csrf_token(request, form.get(CSRF_FIELD))


def check_csrf_token(request: web.Request, sent: object) -> None:
    """Refuse (403) a form whose CSRF token is not the page's."""
    expected = request[CSRF_TOKEN]
    if not isinstance(sent, str) or not hmac.compare_digest(
        sent.encode("utf-8", "replace"), expected.encode()
    ):
        raise forbidden(FORM_REFUSED)


async def _know_who(request: web.Request, settings: Settings) -> tuple[bool, str | None]:
    """Set the person (if a session is live) and the CSRF token on `request`; whether a
    session is live, and the visitor's new CSRF token if the request came without one."""
    token = session_token(request)
    session = None if token is None else await live_session(request.app[POOL], settings, token)
    if session is not None:
        request[PERSON] = session.person
        request[CSRF_TOKEN] = session.csrf_token
        return True, None
    visitor_token = _token(request.cookies.get(VISITOR_COOKIE))
    request[CSRF_TOKEN] = visitor_token or secrets.token_urlsafe(32)
    return False, None if visitor_token else request[CSRF_TOKEN]


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """On pages: the person of a live session (its last use set to now) and the CSRF token
    the page's forms carry; every form that changes something refused (403) without it."""
    if (
        not is_page(request.path)
        or request.path.startswith(STATIC_PREFIX)
        or is_published_file(request.path)
    ):
        return await handler(request)
    settings = request.app[SETTINGS]
    live, new_visitor_token = await _know_who(request, settings)
    if request.method in UNSAFE_METHODS and request.match_info.route.name not in STREAMED_FORMS:
        await _check_csrf(request)
    try:
        response = await handler(request)
    except web.HTTPException as raised:  # a redirect, say: its cookies are sent too
        _settle_cookies(request, raised, settings, live, new_visitor_token)
        raise
    _settle_cookies(request, response, settings, live, new_visitor_token)
    return response


def _settle_cookies(
    request: web.Request,
    response: web.StreamResponse,
    settings: Settings,
    live: bool,
    new_visitor_token: str | None,
) -> None:
    if new_visitor_token is not None:
        set_cookie(response, settings, VISITOR_COOKIE, new_visitor_token)
    # The cookie of a session that ended is dropped, unless this answer starts a new one.
    if SESSION_COOKIE in request.cookies and not live and SESSION_COOKIE not in response.cookies:
        response.del_cookie(SESSION_COOKIE, path="/")


def sign_in_path(next_path: str | None) -> str:
    """The sign-in page, returning to `next_path` afterwards if it is a path on this site."""
    safe = local_path(next_path)
    return f"/sign-in?{urlencode({'next': safe})}" if safe else "/sign-in"


def require_person(request: web.Request) -> Actor:
    """The person signed in; a visitor is sent to sign in, and brought back here after."""
    person = request.get(PERSON)
    if person is None:
        raise web.HTTPSeeOther(sign_in_path(request.path_qs))
    return person


def start_session(response: web.StreamResponse, settings: Settings, token: str) -> None:
    set_cookie(response, settings, SESSION_COOKIE, token)


def forget_session(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")
