"""Signing in by a link sent by email, and signing out."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

import i18n
from api.clients import client_address
from api.keys import POOL, SETTINGS
from api.refusals import STATUS_OF_KIND
from i18n import N_
from notifications.addresses import address_problem
from services import signin
from services.refusals import Refused
from web.background import BACKGROUND
from web.keys import PERSON
from web.render import page
from web.sessions import forget_session, session_token, start_session

routes = web.RouteTableDef()

HOME = "/tasks"
SSO_PATH = "/sign-in/sso"
EMPTY_EMAIL = N_("Enter your email address")
MALFORMED_EMAIL = N_("Enter an email address in the correct format, like name@example.org")
# Longer than any address an account may hold (services.accounts); its check then says why.
MAX_EMAIL_LENGTH = 320


def see_other(location: str) -> web.Response:
    """The answer to a form that worked: open `location` (POST, redirect, GET)."""
    return web.Response(status=303, headers={"Location": location})


def _email_problem(email: str) -> str | None:
    if not email:
        return EMPTY_EMAIL
    if len(email) > MAX_EMAIL_LENGTH or address_problem(email) is not None:
        return MALFORMED_EMAIL
    return None


def _sign_in_form(
    request: web.Request, email: str, next_path: str | None, error: str | None
) -> web.Response:
    shown = i18n.gettext(error) if error else None
    errors = [{"message": shown, "field_id": "email"}] if shown else []
    oidc = request.app[SETTINGS].oidc
    # Offered only where an OpenID provider is configured (docs/sso.md).
    sso = None if oidc is None else {"label": oidc.label, "href": sso_path(next_path)}
    return page(
        request,
        "sign_in.html",
        {"email": email, "next": next_path, "email_error": shown, "errors": errors, "sso": sso},
        status=422 if error else 200,
    )


def sso_path(next_path: str | None) -> str:
    """Where single sign-on starts, returning to `next_path` afterwards."""
    return f"{SSO_PATH}?{urlencode({'next': next_path})}" if next_path else SSO_PATH


@routes.get("/sign-in")
async def sign_in_form(request: web.Request) -> web.StreamResponse:
    next_path = signin.local_path(request.query.get("next"))
    if PERSON in request:
        return see_other(next_path or HOME)
    return _sign_in_form(request, "", next_path, None)


@routes.post("/sign-in")
async def ask_for_link(request: web.Request) -> web.StreamResponse:
    """Answer the same for any well-formed address: the account is looked up, and the link
    mailed, after answering."""
    form = await request.post()
    email = str(form.get("email", "")).strip()
    next_path = signin.local_path(str(form.get("next", "")))
    problem = _email_problem(email)
    if problem is not None:
        return _sign_in_form(request, email, next_path, problem)
    pool, settings = request.app[POOL], request.app[SETTINGS]
    await signin.admit_sign_in_request(pool, email, client_address(request))
    request.app[BACKGROUND].spawn(
        signin.send_sign_in_links(pool, settings, email, next_path), "sending a sign-in link"
    )
    return see_other("/sign-in/check-email")


# Before /sign-in/{token}, which would take it for a link.
@routes.get("/sign-in/check-email")
async def check_email(request: web.Request) -> web.StreamResponse:
    return page(request, "check_email.html")


def _link_refused(request: web.Request, refused: Refused) -> web.Response:
    return page(
        request,
        "sign_in_link_refused.html",
        {"message": i18n.rule_text(refused.message)},
        status=STATUS_OF_KIND[refused.kind],
    )


@routes.get("/sign-in/{token}")
async def continue_page(request: web.Request) -> web.StreamResponse:
    """Only a page with a button: a mail scanner that opens the link does not use it up."""
    try:
        await signin.check_link(request.app[POOL], request.match_info["token"])
    except Refused as refused:
        return _link_refused(request, refused)
    return page(request, "sign_in_continue.html")


@routes.post("/sign-in/{token}")
async def use_link(request: web.Request) -> web.StreamResponse:
    pool, settings = request.app[POOL], request.app[SETTINGS]
    try:
        started = await signin.redeem_link(pool, settings, request.match_info["token"])
    except Refused as refused:
        return _link_refused(request, refused)
    return await signed_in(request, started)


async def signed_in(request: web.Request, started: signin.Started) -> web.Response:
    """The answer that opens the new session `started`: on to its first page, signed in.
    Whoever was signed in on this browser before is signed out."""
    previous = session_token(request)
    if previous is not None:
        await signin.end_session(request.app[POOL], previous)
    response = see_other(started.next_path or HOME)
    start_session(response, request.app[SETTINGS], started.token)
    return response


@routes.post("/sign-out")
async def sign_out(request: web.Request) -> web.StreamResponse:
    token = session_token(request)
    if token is not None:
        await signin.end_session(request.app[POOL], token)
    response = see_other("/signed-out")
    forget_session(response)
    return response


@routes.get("/signed-out")
async def signed_out(request: web.Request) -> web.StreamResponse:
    return page(request, "signed_out.html")
