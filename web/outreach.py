"""The secretariat writes to a review's people: a confirmation page that lists who a reminder
sent now would name before it is sent, and a form for its own message to the participants or
to those still missing.

Both run the JSON API's use cases (services.reminders, services.announcements) under an
idempotency key made for each rendering of the form, so a double click sends once.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

import i18n
from api.keys import SERVICES
from api.requests import ANNOUNCEMENT
from domain.access import Actor
from i18n import country_name
from schemas import problems_in
from services import announcements, reminders
from services.announcements import Audience
from services.refusals import STATUS_OF_KIND, Kind, Refused
from services.reviews import Command
from web.format import local_time
from web.render import page
from web.reviews import form_key, new_form_key, shown_count
from web.sessions import require_person
from web.signin import see_other

routes = web.RouteTableDef()

# The words below are translated where they are shown (i18n.gettext).
AUDIENCES = {
    Audience.PARTICIPANTS: (
        i18n.N_("Everyone taking part"),
        i18n.N_(
            "The member States' focal points, the invited stakeholders and anyone with a"
            " consultation task."
        ),
    ),
    Audience.MEMBER_STATES_MISSING: (
        i18n.N_("Member States still missing"),
        i18n.N_(
            "The focal points of the member States that still have to send their national report."
        ),
    ),
    Audience.STAKEHOLDERS_MISSING: (
        i18n.N_("Stakeholders still missing"),
        i18n.N_(
            "The stakeholders that still have to send their input or answer their consultation"
            " task."
        ),
    ),
}
FIELDS = ("audience", "subject", "body")
# Each field's problems in plain words, by what is wrong.
EMPTY = {
    "audience": i18n.N_("Select who to send the message to"),
    "subject": i18n.N_("Enter a subject"),
    "body": i18n.N_("Enter a message"),
}
TOO_LONG = {
    "subject": i18n.N_("The subject must be 200 characters or fewer"),
    "body": i18n.N_("The message must be 10,000 characters or fewer"),
}
KEY_REUSED = i18n.N_(
    "This page was already used to send another message. Check it and send it again."
)


# ---- remind now --------------------------------------------------------------------------


def _remind_path(review_id: str) -> str:
    return f"/reviews/{review_id}/remind"


def _reminded_notice(query: Mapping[str, str]) -> str | None:
    """What the button did (303 to this page with `states` and `stakeholders`: counts)."""
    states, stakeholders = (shown_count(query, name) for name in ("states", "stakeholders"))
    if states is None or stakeholders is None:
        return None
    if not states and not stakeholders:
        return i18n.gettext("Nobody was reminded: everyone had acted by then.")
    named = {
        # As the object of "Reminders sent to": the languages with cases decline them.
        "states": i18n.npgettext(
            "reminded", "%(count)s member State", "%(count)s member States", states
        )
        % {"count": states},
        "stakeholders": i18n.npgettext(
            "reminded", "%(count)s stakeholder", "%(count)s stakeholders", stakeholders
        )
        % {"count": stakeholders},
    }
    return (
        i18n.gettext("Reminders sent to %(states)s and %(stakeholders)s. Each gets an email.")
        % named
    )


async def _remind_page(
    request: web.Request, person: Actor, error: str | None = None, status: int = 200
) -> web.Response:
    preview = await reminders.preview(request.app[SERVICES], person, request.match_info["id"])
    review_id = preview.review["id"]
    refused = preview.refused
    context = {
        "review": preview.review,
        "countries": [country_name(c) for c in preview.behind.countries],
        "stakeholders": [
            {"name": name, "organisation": organisation}
            for _, name, organisation in preview.behind.stakeholders
        ],
        "not_now": i18n.rule_text(refused.message)
        if refused and not preview.possible_from
        else None,
        "possible_from": preview.possible_from
        and local_time(preview.possible_from, person.time_zone),
        "notice": _reminded_notice(request.query),
        "errors": [{"field_id": "", "message": error}] if error else [],
        "hidden": new_form_key(),
        "action": _remind_path(review_id),
        "back": f"/reviews/{review_id}",
    }
    return page(request, "reviews/remind.html", context, status=status)


@routes.get("/reviews/{id}/remind")
async def remind_page(request: web.Request) -> web.StreamResponse:
    return await _remind_page(request, require_person(request))


@routes.post("/reviews/{id}/remind")
async def remind(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    posted = await request.post()
    command = Command(request.match_info["id"], {}, form_key(posted))
    try:
        sent = await reminders.remind_now(request.app[SERVICES], person, command)
    except Refused as refused:
        if refused.kind not in (Kind.TOO_MANY, Kind.CONFLICT):
            raise
        error = i18n.gettext("No reminder was sent. %(why)s") % {
            "why": i18n.rule_text(refused.message)
        }
        return await _remind_page(request, person, error, STATUS_OF_KIND[refused.kind])
    counts = f"states={len(sent['member_states'])}&stakeholders={len(sent['stakeholders'])}"
    return see_other(f"{_remind_path(command.review_id)}?{counts}")


# ---- announcements ------------------------------------------------------------------------


def _announce_path(review_id: str) -> str:
    return f"/reviews/{review_id}/announce"


def _announced_notice(query: Mapping[str, str]) -> str | None:
    """What the form did (303 to this page with `sent`: a count, and `audience`)."""
    count = shown_count(query, "sent")
    audience = query.get("audience", "")
    if count is None or audience not in AUDIENCES:
        return None
    label = i18n.gettext(AUDIENCES[Audience(audience)][0])
    label = label[:1].lower() + label[1:]
    people = i18n.ngettext("%(count)s person", "%(count)s people", count) % {"count": count}
    return i18n.gettext("Your message was sent by email to %(people)s (%(audience)s).") % {
        "people": people,
        "audience": label,
    }


def _field_errors(form: dict[str, str]) -> list[dict[str, str]]:
    """Each field's problem in plain words, in the form's order."""
    problems = {p.pointer.lstrip("/") for p in problems_in(ANNOUNCEMENT, form)}
    # Spaces alone are no subject or message either.
    empty = {name for name in FIELDS if not form.get(name, "").strip()}
    return [
        {
            "field_id": name,
            "message": i18n.gettext(
                EMPTY[name] if name in empty else TOO_LONG.get(name, EMPTY[name])
            ),
        }
        for name in FIELDS
        if name in problems | empty
    ]


async def _announce_page(
    request: web.Request,
    person: Actor,
    form: Mapping[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    status: int = 200,
) -> web.Response:
    review_id = request.match_info["id"]
    review, sizes = await announcements.audience_sizes(request.app[SERVICES], person, review_id)
    errors = errors or []
    choices = [
        {
            "value": a.value,
            "label": i18n.gettext(label),
            "hint": i18n.gettext(hint),
            "count": sizes[a],
        }
        for a, (label, hint) in AUDIENCES.items()
    ]
    context = {
        "review": review,
        "choices": choices,
        "values": {name: (form or {}).get(name, "") for name in FIELDS},
        "notice": _announced_notice(request.query),
        "errors": errors,
        "error_of": {e["field_id"]: e["message"] for e in errors},
        "hidden": new_form_key(),
        "action": _announce_path(review_id),
        "back": f"/reviews/{review_id}",
        "subject_max": announcements.SUBJECT_MAX,
        "body_max": i18n.format_number(announcements.BODY_MAX),
    }
    return page(request, "reviews/announce.html", context, status=status)


@routes.get("/reviews/{id}/announce")
async def announce_page(request: web.Request) -> web.StreamResponse:
    return await _announce_page(request, require_person(request))


def _refusal_error(refused: Refused) -> dict[str, str]:
    if refused.kind is Kind.CONFLICT:  # nobody in the audience
        return {"field_id": "audience", "message": i18n.rule_text(refused.message)}
    return {"field_id": "", "message": i18n.gettext(KEY_REUSED)}


@routes.post("/reviews/{id}/announce")
async def announce(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    posted = await request.post()
    form = {name: value for name in FIELDS if isinstance(value := posted.get(name, ""), str)}
    form["subject"] = form.get("subject", "").strip()
    if errors := _field_errors(form):
        return await _announce_page(request, person, form, errors, 422)
    command = Command(request.match_info["id"], form, form_key(posted))
    try:
        sent = await announcements.announce(request.app[SERVICES], person, command)
    except Refused as refused:
        if refused.kind not in (Kind.CONFLICT, Kind.INVALID):
            raise
        status = STATUS_OF_KIND[refused.kind]
        return await _announce_page(request, person, form, [_refusal_error(refused)], status)
    location = (
        f"{_announce_path(command.review_id)}?sent={sent['count']}&audience={sent['audience']}"
    )
    return see_other(location)
