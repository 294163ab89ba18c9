"""A review's dashboard, for those who run it, and its commands: extend a deadline (for the
whole review or one member State), advance the review to its next phase, cancel it.

Each command asks for a reason and is confirmed on a page of its own; sending it runs the
JSON API's use case (services.reviews) under an idempotency key made for each rendering of the
form, so a double click sends it once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

import asyncpg
from aiohttp import web
from multidict import MultiDictProxy

import i18n
from api.keys import SERVICES
from api.requests import EXTENSION, REASON
from domain.access import Actor
from domain.review import DEADLINE_ENDS, NEXT_PHASE, PHASE_ORDER, Phase
from domain.schema_pins import MOVABLE, behind
from i18n import country_name
from reports.render import heatmap
from schemas import current_versions, problems_in
from services import dashboard, reviews, schema_versions
from services.refusals import STATUS_OF_KIND, Kind, Refused
from services.reviews import Command
from web.format import deadline, local_time, zone
from web.render import page
from web.reviews import DEADLINES, PHASES, form_key, new_form_key
from web.sessions import require_person
from web.signin import see_other

routes = web.RouteTableDef()

# The phases a review goes through, in order, with the deadline that ends each.
TIMELINE = [phase for phase in PHASE_ORDER if phase is not Phase.CANCELLED]
ENDED_BY = {phase: d for d, phase in DEADLINE_ENDS.items()}
# The words below are translated where they are shown (i18n.gettext).
DONE = {
    "extended": i18n.N_("The deadline was extended."),
    "advanced": i18n.N_("The review moved to its next phase."),
    "cancelled": i18n.N_("The review was cancelled."),
    "forms": i18n.N_("The review now collects the current version of the forms."),
    "forms_kept": i18n.N_("The call for inputs has closed; the forms stay as they are."),
}
ALL_STATES = ""
MAX_REASON = REASON["maxLength"]
ENTER_REASON = i18n.N_("Enter the reason")
LONG_REASON = i18n.N_("Enter a reason of at most %(count)s characters")
# What the extension form's problems say, by the field's JSON Pointer: (field id, words).
EXTENSION_FIELDS = {
    "/deadline": ("deadline", i18n.N_("Select the deadline to extend")),
    "/until": ("until-date", i18n.N_("Enter the new date and time")),
    "/reason": ("reason", ENTER_REASON),
    "/country": ("country", i18n.N_("Select a member State of this review, or all of them")),
}
# Problems the use case names in its own words, in plainer ones.
PLAIN_UNTIL = {
    "must be in the future": i18n.N_("The new date must be in the future"),
    "must be within five years": i18n.N_("The new date must be within five years"),
}
# The heatmap's legend: the objectives' statuses are the reference's words.
NO_REPORT = i18n.N_("No report")


def _long_reason() -> str:
    return i18n.gettext(LONG_REASON) % {"count": i18n.format_number(MAX_REASON)}


def _dashboard_path(review_id: str) -> str:
    return f"/reviews/{review_id}/dashboard"


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ---- the dashboard --------------------------------------------------------------------------


def _timeline(review: asyncpg.Record, person: Actor) -> list[dict[str, Any]]:
    current = Phase(review["phase"])
    at = PHASE_ORDER.index(current)
    rows = []
    for phase in TIMELINE:
        ends = ENDED_BY.get(phase)
        rows.append(
            {
                "label": i18n.gettext(PHASES[phase]),
                "current": phase is current,
                "done": not current.terminal and PHASE_ORDER.index(phase) < at,
                "ends": ends
                and {
                    "label": i18n.gettext(DEADLINES[ends]),
                    "when": deadline(_instant(review["deadlines"][ends.value]), person.time_zone),
                },
            }
        )
    return rows


def _tag(state: dashboard.StateReport, *, extended: bool) -> str:
    """How the State's status is marked: on time, late or missing, or waiting (extended)."""
    if state.version is not None:
        return "overdue" if state.late else "done"
    return "" if extended else "overdue"


def _state_rows(board: dashboard.Dashboard, person: Actor) -> list[dict[str, Any]]:
    rows = []
    for state in board.states:
        extended = state.extended_until and deadline(state.extended_until, person.time_zone)
        if state.version is not None and state.received_at is not None:
            status = i18n.gettext("Submitted late") if state.late else i18n.gettext("Submitted")
            when = local_time(state.received_at, person.time_zone)
        else:
            status = i18n.gettext("Extended") if extended else i18n.gettext("Missing")
            when = None
        rows.append(
            {
                "name": f"{country_name(state.country)} ({state.country})",
                "status": status,
                "tag": _tag(state, extended=bool(extended)),
                "received": when,
                "version": state.version,
                "extended": extended,
            }
        )
    return rows


def _rates(board: dashboard.Dashboard) -> list[dict[str, Any]]:
    return [
        {
            "title": i18n.gettext(rate.title),
            "invited": i18n.format_number(rate.invited),
            "sent": i18n.format_number(rate.sent),
            "rate": "—" if rate.rate is None else _percent(rate.rate),
        }
        for rate in board.rates
    ]


def _percent(ratio: float) -> str:
    """A response rate as a whole percentage, as the language in use writes one; English as
    the UN's style writes it, with a space before the sign."""
    if i18n.current().code == i18n.DEFAULT_LANGUAGE:
        return f"{ratio * 100:.0f} %"
    return i18n.format_percent(ratio)


def _coverage(board: dashboard.Dashboard) -> dict[str, Any]:
    """The coverage heatmap with each State named in the language in use, and its legend's
    words translated."""
    coverage = {
        **board.coverage,
        "rows": [{**row, "name": country_name(row["iso3"])} for row in board.coverage["rows"]],
    }
    drawn = heatmap(coverage, coverage["objectives"])
    for item in drawn["legend"]:
        label = item["style"].label
        item["label"] = i18n.gettext(NO_REPORT if item["empty"] else label.capitalize())
    return drawn


def _links(review_id: str) -> list[dict[str, str]]:
    base = f"/reviews/{review_id}"
    return [
        {"href": f"{base}/submissions", "label": i18n.gettext("Submissions")},
        {"href": f"{base}/synthesis", "label": i18n.gettext("Synthesis of the inputs")},
        {"href": f"{base}/answers", "label": i18n.gettext("Consultation answers")},
        {"href": f"{base}/meetings", "label": i18n.gettext("Meetings")},
        {"href": f"{base}/report", "label": i18n.gettext("The regional report")},
        {"href": f"{base}/audit", "label": i18n.gettext("Audit trail")},
        {"href": f"{base}/deliveries", "label": i18n.gettext("Messages that failed")},
        {"href": f"{base}/remind", "label": i18n.gettext("Remind now")},
        {"href": f"{base}/announce", "label": i18n.gettext("Send an announcement")},
        {"href": f"{base}/invitations", "label": i18n.gettext("Invite stakeholders")},
    ]


@routes.get("/reviews/{id}/dashboard")
async def dashboard_page(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    board = await dashboard.dashboard(request.app[SERVICES], person, request.match_info["id"])
    review = board.review
    coming = board.next_deadline
    phase = Phase(review["phase"])
    context = {
        "review": review,
        "phase": i18n.gettext(PHASES[phase]),
        "ended": phase.terminal,
        "timeline": _timeline(review, person),
        "next_deadline": coming
        and {
            "label": i18n.gettext(DEADLINES[coming[0]]),
            "when": deadline(coming[1], person.time_zone),
        },
        "states": _state_rows(board, person),
        "rates": _rates(board),
        "heatmap": _coverage(board),
        "links": _links(review["id"]),
        "notice": _done(request.query.get("done", "")),
        "forms_behind": phase in MOVABLE and behind(review["schema_versions"], current_versions()),
    }
    return page(request, "reviews/dashboard.html", context)


@routes.post("/reviews/{id}/schema-versions")
async def move_schema_versions(request: web.Request) -> web.StreamResponse:
    """Move the review to the current version of the forms."""
    person = await _runner(request)
    review_id = request.match_info["id"]
    try:
        await schema_versions.move_to_current(request.app[SERVICES], person, review_id)
    except Refused as refused:
        if refused.kind is not Kind.CONFLICT:
            raise
        return see_other(f"{_dashboard_path(review_id)}?done=forms_kept")
    return see_other(f"{_dashboard_path(review_id)}?done=forms")


async def _runner(request: web.Request) -> Actor:
    """The person sending a command, once known to run the review: anyone else is told, as on
    every page of the dashboard, that there is no such review (the API says 403)."""
    person = require_person(request)
    await dashboard.run_review(request.app[SERVICES], person, request.match_info["id"])
    return person


# ---- the commands' forms --------------------------------------------------------------------


def _command_page(
    request: web.Request,
    template: str,
    review: asyncpg.Record,
    values: Mapping[str, str],
    errors: list[dict[str, str]] | None = None,
    *,
    status: int = 200,
    **context: Any,
) -> web.Response:
    errors = errors or []
    return page(
        request,
        template,
        {
            "review": review,
            "values": values,
            "errors": errors,
            "error_of": {e["field_id"]: e["message"] for e in errors},
            "hidden": new_form_key(),
            "back": _dashboard_path(review["id"]),
            **context,
        },
        status=status,
    )


def _done(done: str) -> str | None:
    return i18n.gettext(DONE[done]) if done in DONE else None


def _reason_errors(posted: Mapping[str, str]) -> list[dict[str, str]]:
    reason = posted.get("reason", "").strip()
    if not reason:
        return [{"field_id": "reason", "message": i18n.gettext(ENTER_REASON)}]
    if len(reason) > MAX_REASON:
        return [{"field_id": "reason", "message": _long_reason()}]
    return []


def _texts(posted: MultiDictProxy[Any], names: tuple[str, ...]) -> dict[str, str]:
    """The form's text fields among `names` (anything else sent under those names ignored)."""
    return {name: v if isinstance(v := posted.get(name, ""), str) else "" for name in names}


def _refusal_errors(
    refused: Refused, fields: Mapping[str, tuple[str, str]], field_id: str
) -> list[dict[str, str]]:
    """The use case's refusal beside the fields it names; a refusal of the whole command (the
    review's phase) beside `field_id`."""
    if refused.kind is Kind.INVALID and refused.problems:
        return [
            {
                "field_id": fields.get(pointer, (field_id, ""))[0],
                "message": i18n.gettext(PLAIN_UNTIL[message])
                if message in PLAIN_UNTIL
                else message,
            }
            for pointer, message in refused.problems
        ]
    return [{"field_id": field_id, "message": i18n.rule_text(refused.message)}]


# ---- extend ---------------------------------------------------------------------------------

EXTEND_FIELDS = ("deadline", "country", "until_date", "until_time", "reason")


def _extension_choices(review: asyncpg.Record, person: Actor) -> dict[str, Any]:
    return {
        "deadlines": [
            {
                "value": d.value,
                "label": i18n.gettext(label),
                "when": deadline(_instant(review["deadlines"][d.value]), person.time_zone),
            }
            for d, label in DEADLINES.items()
        ],
        "states": [
            {"value": c, "label": f"{country_name(c)} ({c})"} for c in review["member_states"]
        ],
        "zone": zone(person.time_zone).key,
    }


def _until(values: Mapping[str, str], person: Actor) -> str | None:
    """The new date and time, read in the person's time zone, as an instant with its offset."""
    try:
        day = date.fromisoformat(values["until_date"].strip())
        at = time.fromisoformat(values["until_time"].strip() or "23:59")
    except ValueError:
        return None
    return datetime.combine(day, at, zone(person.time_zone)).isoformat()


def _extension_body(values: Mapping[str, str], person: Actor) -> dict[str, Any]:
    body: dict[str, Any] = {
        "deadline": values["deadline"],
        "until": _until(values, person) or "",
        "reason": values["reason"].strip(),
    }
    if values["country"] != ALL_STATES:
        body["country"] = values["country"]
    return body


def _extension_errors(body: dict[str, Any]) -> list[dict[str, str]]:
    errors = []
    for problem in problems_in(EXTENSION, body):
        if problem.pointer in EXTENSION_FIELDS:
            field_id, words = EXTENSION_FIELDS[problem.pointer]
            message = i18n.gettext(words)
        else:
            field_id, message = "deadline", problem.message
        if problem.pointer == "/reason" and body["reason"]:
            message = _long_reason()
        errors.append({"field_id": field_id, "message": message})
    return errors


async def _extend_page(
    request: web.Request,
    person: Actor,
    values: Mapping[str, str],
    errors: list[dict[str, str]] | None = None,
    status: int = 200,
) -> web.Response:
    review = await dashboard.run_review(request.app[SERVICES], person, request.match_info["id"])
    return _command_page(
        request,
        "reviews/extend.html",
        review,
        values,
        errors,
        status=status,
        **_extension_choices(review, person),
    )


@routes.get("/reviews/{id}/extend")
async def extend_form(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    values = {name: "" for name in EXTEND_FIELDS} | {"until_time": "23:59"}
    values["deadline"] = request.query.get("deadline", "")
    values["country"] = request.query.get("country", ALL_STATES)
    return await _extend_page(request, person, values)


@routes.post("/reviews/{id}/extend")
async def extend(request: web.Request) -> web.StreamResponse:
    person = await _runner(request)
    posted = await request.post()
    values = _texts(posted, EXTEND_FIELDS)
    body = _extension_body(values, person)
    errors = _extension_errors(body)
    if errors:
        return await _extend_page(request, person, values, errors, 422)
    command = Command(request.match_info["id"], body, form_key(posted))
    try:
        await reviews.extend(request.app[SERVICES], person, command)
    except Refused as refused:
        if refused.kind not in (Kind.INVALID, Kind.CONFLICT):
            raise
        errors = _refusal_errors(refused, EXTENSION_FIELDS, "deadline")
        return await _extend_page(request, person, values, errors, STATUS_OF_KIND[refused.kind])
    return see_other(f"{_dashboard_path(command.review_id)}?done=extended")


# ---- advance and cancel -----------------------------------------------------------------------


def _next(review: asyncpg.Record) -> str | None:
    """What the review moves to when advanced, if it can be."""
    following = NEXT_PHASE.get(Phase(review["phase"]))
    return i18n.gettext(PHASES[following]) if following else None


async def _reason_page(
    request: web.Request,
    person: Actor,
    template: str,
    values: Mapping[str, str],
    errors: list[dict[str, str]] | None = None,
    status: int = 200,
) -> web.Response:
    review = await dashboard.run_review(request.app[SERVICES], person, request.match_info["id"])
    phase = Phase(review["phase"])
    return _command_page(
        request,
        template,
        review,
        values,
        errors,
        status=status,
        phase=i18n.gettext(PHASES[phase]),
        following=_next(review),
        ended=phase.terminal,
    )


async def _reasoned_command(
    request: web.Request,
    template: str,
    use_case: Any,
    done: str,
) -> web.StreamResponse:
    """Send the command of the page `template` with its reason, confirmed on that page."""
    person = await _runner(request)
    posted = await request.post()
    values = _texts(posted, ("reason",))
    errors = _reason_errors(values)
    if errors:
        return await _reason_page(request, person, template, values, errors, 422)
    command = Command(
        request.match_info["id"], {"reason": values["reason"].strip()}, form_key(posted)
    )
    try:
        await use_case(request.app[SERVICES], person, command)
    except Refused as refused:
        if refused.kind not in (Kind.INVALID, Kind.CONFLICT):
            raise
        errors = [{"field_id": "reason", "message": i18n.rule_text(refused.message)}]
        return await _reason_page(
            request, person, template, values, errors, STATUS_OF_KIND[refused.kind]
        )
    return see_other(f"{_dashboard_path(command.review_id)}?done={done}")


@routes.get("/reviews/{id}/advance")
async def advance_form(request: web.Request) -> web.StreamResponse:
    return await _reason_page(request, require_person(request), "reviews/advance.html", {})


@routes.post("/reviews/{id}/advance")
async def advance(request: web.Request) -> web.StreamResponse:
    return await _reasoned_command(request, "reviews/advance.html", reviews.advance, "advanced")


@routes.get("/reviews/{id}/cancel")
async def cancel_form(request: web.Request) -> web.StreamResponse:
    return await _reason_page(request, require_person(request), "reviews/cancel.html", {})


@routes.post("/reviews/{id}/cancel")
async def cancel(request: web.Request) -> web.StreamResponse:
    return await _reasoned_command(request, "reviews/cancel.html", reviews.cancel, "cancelled")
