"""The account page: who the person is, the language, time zone and mail they want, and their
own API token (issued, shown once, revoked)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

import i18n
from api.keys import POOL, SETTINGS
from domain.access import Actor
from i18n import N_
from services import accounts
from services.refusals import Refused
from web.language import LANGUAGE_COOKIE, LANGUAGE_COOKIE_AGE
from web.render import page
from web.sessions import require_person, set_cookie
from web.signin import see_other

routes = web.RouteTableDef()

PATH = "/account"
NOTIFICATIONS = (
    (
        "all",
        N_("All emails"),
        N_("Receipts and news of the reviews as well as what asks you to act."),
    ),
    (
        "essential",
        N_("Only essential emails"),
        N_("Only what asks you to act: invitations, tasks, reminders and alerts."),
    ),
)
# What each field's error says, in plain words (translated where it is shown).
FIELD_ERRORS = {
    "language": N_("Choose a language from the list"),
    "time_zone": N_("Choose a time zone from the list"),
    "notifications": N_("Choose which emails you want"),
}
NOTICES = {
    "saved": N_("Your settings have been saved."),
    "revoked": N_("Your API token has been revoked. Programs that used it can no longer sign in."),
}


def _account_page(
    request: web.Request,
    person: Actor,
    *,
    values: dict[str, str] | None = None,
    errors: Sequence[str] = (),
    token: str | None = None,
    status: int = 200,
) -> web.Response:
    chosen = values or {
        "language": person.language or i18n.current().code,
        "time_zone": person.time_zone,
        "notifications": person.notifications,
    }
    notice = NOTICES.get(request.query.get("done", ""))
    context: dict[str, Any] = {
        "values": chosen,
        "field_errors": {field: i18n.gettext(FIELD_ERRORS[field]) for field in errors},
        "errors": [
            {"message": i18n.gettext(FIELD_ERRORS[field]), "field_id": field} for field in errors
        ],
        # The six languages, each named in itself, in the order the UN lists them.
        "languages": [i18n.language(code) for code in i18n.LANGUAGES],
        "time_zones": accounts.time_zones(),
        "notification_choices": NOTIFICATIONS,
        "notice": i18n.gettext(notice) if notice else None,
        "token": token,
    }
    response = page(request, "account.html", context, status=status)
    if token is not None:
        response.headers["Cache-Control"] = "no-store"  # the token is shown once, kept nowhere
    return response


@routes.get(PATH)
async def account(request: web.Request) -> web.StreamResponse:
    return _account_page(request, require_person(request))


def _choice_errors(values: dict[str, str]) -> list[str]:
    """The fields whose value is none of the page's choices (the time zone is the service's)."""
    allowed = {
        "language": set(i18n.LANGUAGES),
        "notifications": {value for value, _, _ in NOTIFICATIONS},
    }
    return [field for field, choices in allowed.items() if values[field] not in choices]


@routes.post(PATH)
async def save(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    form = await request.post()
    values = {field: str(form.get(field, "")) for field in FIELD_ERRORS}
    errors = _choice_errors(values)
    if not errors:
        try:
            await accounts.set_preferences(request.app[POOL], person, values)
        except Refused as refused:
            errors = [p.lstrip("/") for p, _ in refused.problems if p.lstrip("/") in FIELD_ERRORS]
            if not errors:
                raise
    if errors:
        ordered = [field for field in FIELD_ERRORS if field in errors]
        return _account_page(request, person, values=values, errors=ordered, status=422)
    # The next page speaks the language chosen, as does this browser once signed out.
    response = see_other(f"{PATH}?done=saved")
    set_cookie(
        response,
        request.app[SETTINGS],
        LANGUAGE_COOKIE,
        values["language"],
        LANGUAGE_COOKIE_AGE,
    )
    return response


@routes.post(f"{PATH}/token")
async def token(request: web.Request) -> web.StreamResponse:
    """Issue a new token, shown on this answer only; or revoke the one there is."""
    person = require_person(request)
    form = await request.post()
    pool = request.app[POOL]
    if form.get("action") == "revoke":
        await accounts.revoke_token(pool, person, str(person.id))
        return see_other(f"{PATH}?done=revoked")
    issued = await accounts.issue_token(pool, person, str(person.id))
    return _account_page(request, person, token=issued["token"])
