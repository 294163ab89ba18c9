"""A review's consultation meetings on the pages (`services.sessions`): the secretariat's list,
its form to add one, each meeting's page (change, cancel, registrations, attendance, summary),
and a participant's registration.

Every action is a small form that posts, then comes back to the page with a notice (303), or
shows the page again with the problems beside their fields (4xx)."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

import i18n
from api.keys import SERVICES
from domain.access import Actor
from domain.sessions import MAX_AGENDA_ITEMS, Audience, Mode, SessionKind
from reports.meetings import MODES, SESSION_KINDS, SUMMARY_KINDS
from schemas import problems_in
from services import sessions
from services.engine import Deps
from services.refusals import Kind, Refused
from web.format import deadline, zone
from web.render import page
from web.sessions import require_person
from web.signin import see_other

routes = web.RouteTableDef()

# The agenda rows the form offers: enough for a consultation's items, bounded by the rules'.
AGENDA_ROWS = min(6, MAX_AGENDA_ITEMS)
# The delegates a registration form offers.
DELEGATE_ROWS = 6
# Who a meeting is for (its kind, mode and summary kind are named as the report names them).
AUDIENCES = {
    Audience.STAKEHOLDERS.value: i18n.N_("Stakeholders"),
    Audience.MEMBER_STATES.value: i18n.N_("Member States"),
    Audience.BOTH.value: i18n.N_("Stakeholders and member States"),
}
NOTICES = {
    "added": i18n.N_("The meeting is added. Those invited see it on the review's page."),
    "changed": i18n.N_("The meeting is saved."),
    "cancelled": i18n.N_("The meeting is cancelled."),
    "attendance": i18n.N_("Attendance is saved."),
    "summary": i18n.N_("The summary is saved. It shows in the synthesis."),
    "registered": i18n.N_("You are registered."),
    "waitlisted": i18n.N_("The meeting is full: you are on the waiting list."),
    "unregistered": i18n.N_("Your registration is cancelled."),
}
# What to write beside a field the rules or the form's checks refused, in plain words.
FIELD_WORDS = {
    "kind": i18n.N_("Choose what kind of meeting it is"),
    "mode": i18n.N_("Choose how the meeting is held"),
    "audience": i18n.N_("Choose who is invited"),
    "title": i18n.N_("Enter a title, up to 300 characters"),
    "starts_at": i18n.N_("Enter when the meeting starts, in the future"),
    "ends_at": i18n.N_("Enter when the meeting ends, after it starts and within 3 days"),
    "link": i18n.N_("Enter the link to join an online meeting"),
    "place": i18n.N_("Enter the place of a meeting held in person"),
    "capacity": i18n.N_("Enter the number of places as a whole number, or leave it empty"),
    "cluster": i18n.N_("Choose the round table's cluster of objectives"),
    "reason": i18n.N_("Enter why the meeting is cancelled"),
    "text": i18n.N_("Enter the summary"),
    "people": i18n.N_("Enter each delegate's name, and an email address like name@example.org"),
}
STATUS = {Kind.INVALID: 422, Kind.CONFLICT: 409, Kind.FORBIDDEN: 403}
TEXT_FIELDS = ("kind", "title", "starts_at", "ends_at", "mode", "link", "place", "capacity")


def _base(review_id: str) -> str:
    return f"/reviews/{review_id}/meetings"


def _when(text: str, zone_name: str) -> str:
    return deadline(datetime.fromisoformat(text), zone_name)


def _local_input(text: str, zone_name: str) -> str:
    """An instant as a datetime-local field shows it, in the person's time zone."""
    return datetime.fromisoformat(text).astimezone(zone(zone_name)).strftime("%Y-%m-%dT%H:%M")


def _instant(text: str, zone_name: str) -> str | None:
    """A datetime-local field's value read in the person's time zone, with its offset."""
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        return None
    return local.replace(tzinfo=zone(zone_name)).isoformat()


def _field_id(pointer: str) -> str:
    return pointer.strip("/").split("/")[0] or "form"


def _errors(problems: list[tuple[str, str]], fallback: str = "") -> list[dict[str, str]]:
    """The problems in plain words, one beside each field named (the first problem of each)."""
    errors: dict[str, str] = {}
    for pointer, message in problems:
        field = _field_id(pointer)
        words = FIELD_WORDS.get(field)
        errors.setdefault(field, i18n.gettext(words) if words else i18n.rule_text(message))
    if not errors and fallback:
        errors["form"] = i18n.rule_text(fallback)
    return [{"field_id": f, "message": m} for f, m in errors.items()]


def _refusal(refused: Refused) -> list[dict[str, str]]:
    if refused.kind not in STATUS:
        raise refused
    return _errors(refused.problems, refused.message)


def _meeting_body(posted: Mapping[str, Any], zone_name: str) -> dict[str, Any]:
    """The meeting's JSON body from its form (the same body the API takes)."""
    chosen = {name: str(posted.get(name, "")).strip() for name in TEXT_FIELDS}
    body: dict[str, Any] = {
        "kind": chosen["kind"],
        "title": chosen["title"],
        "mode": chosen["mode"],
        # Left empty or unreadable: null, so the schema names it with the form's other problems.
        "starts_at": _instant(chosen["starts_at"], zone_name),
        "ends_at": _instant(chosen["ends_at"], zone_name),
        "audience": str(posted.get("audience", "")),
        "link": chosen["link"] or None,
        "place": chosen["place"] or None,
        "capacity": int(chosen["capacity"]) if chosen["capacity"].isdigit() else None,
        "agenda": [
            {"title": title, "cluster": _cluster(posted.get(f"agenda-{n}-cluster"))}
            for n in range(AGENDA_ROWS)
            if (title := str(posted.get(f"agenda-{n}-title", "")).strip())
        ],
    }
    if chosen["capacity"] and not chosen["capacity"].isdigit():
        body["capacity"] = chosen["capacity"]  # refused beside its field by the schema
    return body


def _cluster(value: Any) -> int | None:
    return int(value) if str(value or "") in ("1", "2", "3", "4") else None


def _checked(body: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, str]]:
    return _errors([(p.pointer, p.message) for p in problems_in(schema, body)])


def _choices(words: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"value": k, "label": i18n.gettext(v)} for k, v in words.items()]


def _shown(meeting: dict[str, Any], zone_name: str) -> dict[str, Any]:
    return {
        **meeting,
        "starts": _when(meeting["starts_at"], zone_name),
        "ends": _when(meeting["ends_at"], zone_name),
        "kind_words": i18n.gettext(SESSION_KINDS[meeting["kind"]]),
        "mode_words": i18n.gettext(MODES[meeting["mode"]]),
        "audience_words": i18n.gettext(AUDIENCES[meeting["audience"]]),
        "href": f"{_base(meeting['review_id'])}/{meeting['id']}",
    }


def _form_values(meeting: Mapping[str, Any] | None, zone_name: str) -> dict[str, Any]:
    """What the meeting's form shows: the meeting's, or a new one's defaults."""
    if meeting is None:
        return {"kind": SessionKind.STAKEHOLDER_CONSULTATION.value, "mode": Mode.ONLINE.value}
    return {
        **meeting,
        "starts_at": _local_input(meeting["starts_at"], zone_name),
        "ends_at": _local_input(meeting["ends_at"], zone_name),
        "capacity": meeting["capacity"] or "",
    }


def _shown_errors(errors: list[dict[str, str]] | None) -> dict[str, Any]:
    """The errors as the templates show them: in the summary, and each beside its field."""
    errors = errors or []
    return {"errors": errors, "error_of": {e["field_id"]: e["message"] for e in errors}}


def _common(person: Actor, notice: str | None) -> dict[str, Any]:
    return {
        "kinds": _choices(SESSION_KINDS),
        "modes": _choices(MODES),
        "audiences": _choices(AUDIENCES),
        "summary_kinds": _choices(SUMMARY_KINDS),
        "agenda_rows": range(AGENDA_ROWS),
        "zone": person.time_zone,
        "notice": i18n.gettext(NOTICES[notice]) if notice in NOTICES else None,
    }


async def _list_page(
    request: web.Request,
    *,
    errors: list[dict[str, str]] | None = None,
    chosen: Mapping[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    person = require_person(request)
    deps = request.app[SERVICES]
    review_id = request.match_info["id"]
    await sessions.scheduling(deps, person, review_id)
    meetings = await sessions.list_sessions(deps, person, review_id)
    context = {
        **_common(person, request.query.get("done")),
        **_shown_errors(errors),
        "review_id": review_id,
        "meetings": [_shown(m, person.time_zone) for m in meetings],
        "chosen": chosen or _form_values(None, person.time_zone),
    }
    return page(request, "meetings/list.html", context, status=status)


@routes.get("/reviews/{id}/meetings")
async def meetings_page(request: web.Request) -> web.StreamResponse:
    return await _list_page(request)


@routes.post("/reviews/{id}/meetings")
async def add_meeting(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    deps = request.app[SERVICES]
    review_id = request.match_info["id"]
    await sessions.scheduling(deps, person, review_id)
    posted = await request.post()
    body = _meeting_body(posted, person.time_zone)
    chosen = {**{k: str(posted.get(k, "")) for k in (*TEXT_FIELDS, "audience")}, **posted}
    errors, status = _checked(body, sessions.NEW_SESSION_SCHEMA), 422
    if not errors:
        errors, status = await _attempted(
            sessions.create_session(deps, person, review_id, body, None)
        )
    if errors:
        return await _list_page(request, errors=errors, chosen=chosen, status=status)
    return see_other(f"{_base(review_id)}?done=added")


async def _run_by_person(request: web.Request) -> tuple[Actor, Deps, str]:
    """The person, the services and the meeting's id, once the person is known to run the
    meeting's review (before any form is read)."""
    person = require_person(request)
    deps = request.app[SERVICES]
    session_id = request.match_info["session"]
    await sessions.running(deps, person, session_id)
    return person, deps, session_id


async def _attempted(action: Awaitable[Any]) -> tuple[list[dict[str, str]], int]:
    """Run `action`: no errors, or those of its refusal with the status they are shown with."""
    try:
        await action
    except Refused as refused:
        return _refusal(refused), STATUS[refused.kind]
    return [], 200


async def _meeting_page(
    request: web.Request,
    *,
    errors: list[dict[str, str]] | None = None,
    chosen: Mapping[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    person, deps, session_id = await _run_by_person(request)
    info = request.match_info
    meeting = await sessions.read_session(deps, person, session_id)
    if meeting["review_id"] != info["id"]:
        raise web.HTTPNotFound()
    lists = await sessions.registration_list(deps, person, session_id)
    context = {
        **_common(person, request.query.get("done")),
        **_shown_errors(errors),
        "review_id": info["id"],
        "meeting": _shown(meeting, person.time_zone),
        "chosen": chosen or _form_values(meeting, person.time_zone),
        "registered": lists["registered"],
        "waiting": lists["waiting_list"],
    }
    return page(request, "meetings/meeting.html", context, status=status)


@routes.get("/reviews/{id}/meetings/{session}")
async def meeting_page(request: web.Request) -> web.StreamResponse:
    return await _meeting_page(request)


async def _acted(request: web.Request, done: str, action: Awaitable[Any]) -> web.StreamResponse:
    """Run `action`; back to the meeting's page with its notice, or the page with the refusal."""
    errors, status = await _attempted(action)
    if errors:
        return await _meeting_page(request, errors=errors, status=status)
    info = request.match_info
    return see_other(f"{_base(info['id'])}/{info['session']}?done={done}")


@routes.post("/reviews/{id}/meetings/{session}")
async def change_meeting(request: web.Request) -> web.StreamResponse:
    person, deps, session_id = await _run_by_person(request)
    posted = await request.post()
    body = _meeting_body(posted, person.time_zone)
    errors = _checked(body, sessions.SESSION_CHANGES_SCHEMA)
    if errors:
        return await _meeting_page(request, errors=errors, chosen=posted, status=422)
    return await _acted(request, "changed", sessions.edit_session(deps, person, session_id, body))


@routes.get("/reviews/{id}/meetings/{session}/cancel")
async def cancel_page(request: web.Request) -> web.StreamResponse:
    return await _cancel_page(request)


async def _cancel_page(
    request: web.Request, errors: list[dict[str, str]] | None = None, status: int = 200
) -> web.Response:
    person, deps, session_id = await _run_by_person(request)
    meeting = await sessions.read_session(deps, person, session_id)
    context = {"meeting": _shown(meeting, person.time_zone), **_shown_errors(errors)}
    return page(request, "meetings/cancel.html", context, status=status)


@routes.post("/reviews/{id}/meetings/{session}/cancel")
async def cancel_meeting(request: web.Request) -> web.StreamResponse:
    person, deps, session_id = await _run_by_person(request)
    reason = str((await request.post()).get("reason", "")).strip()
    body = {"status": "cancelled", "reason": reason}
    errors, status = _checked(body, sessions.SESSION_CHANGES_SCHEMA), 422
    if not errors:
        errors, status = await _attempted(sessions.edit_session(deps, person, session_id, body))
    if errors:
        return await _cancel_page(request, errors, status)
    return see_other(f"{_base(request.match_info['id'])}/{session_id}?done=cancelled")


@routes.post("/reviews/{id}/meetings/{session}/attendance")
async def record_attendance(request: web.Request) -> web.StreamResponse:
    person, deps, session_id = await _run_by_person(request)
    posted = await request.post()
    came = set(posted.getall("attended", []))
    listed = (await sessions.registration_list(deps, person, session_id))["registered"]
    body = {
        "attendance": [
            {"registration_id": r["id"], "attended": r["id"] in came}
            for r in listed
            if r["id"] in came or r["attended"] is not None
        ]
    }
    return await _acted(
        request, "attendance", sessions.record_attendance(deps, person, session_id, body)
    )


@routes.post("/reviews/{id}/meetings/{session}/summary")
async def write_summary(request: web.Request) -> web.StreamResponse:
    person, deps, session_id = await _run_by_person(request)
    posted = await request.post()
    body = {"kind": str(posted.get("kind", "")), "text": str(posted.get("text", "")).strip()}
    errors = _checked(body, sessions.SUMMARY_SCHEMA)
    if errors:
        return await _meeting_page(request, errors=errors, status=422)
    return await _acted(request, "summary", sessions.write_summary(deps, person, session_id, body))


# ---- a participant's registration ---------------------------------------------------------------


async def invited_meetings(request: web.Request, person: Actor, review_id: str) -> list[Any]:
    """The meetings `person` is invited to, as the review's page lists them, each with their
    registration: its place, or its place in the waiting list."""
    listed = await sessions.list_sessions(request.app[SERVICES], person, review_id)
    return [_shown(m, person.time_zone) for m in listed if m["status"] != "cancelled"]


def _delegates(posted: Mapping[str, Any]) -> list[dict[str, str]]:
    people = []
    for n in range(DELEGATE_ROWS):
        fields = {k: str(posted.get(f"delegate-{n}-{k}", "")).strip() for k in ("name", "email")}
        fields["title"] = str(posted.get(f"delegate-{n}-title", "")).strip()
        if any(fields.values()):
            people.append({k: v for k, v in fields.items() if v or k == "name"})
    return people


@routes.post("/reviews/{id}/meetings/{session}/registration")
async def register(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    deps = request.app[SERVICES]
    session_id = request.match_info["session"]
    await sessions.registering(deps, person, session_id)
    people = _delegates(await request.post())
    body: dict[str, Any] = {"people": people} if people else {}
    review = f"/reviews/{request.match_info['id']}"
    errors = _checked(body, sessions.REGISTRATION_SCHEMA)
    if not errors:
        try:
            made = await sessions.register(deps, person, session_id, body, None)
        except Refused as refused:
            errors = _refusal(refused)
        else:
            return see_other(f"{review}?meeting={made.body['status']}#meetings")
    return page(
        request,
        "meetings/refused.html",
        {"errors": errors, "back": f"{review}#meetings"},
        status=422,
    )


@routes.post("/reviews/{id}/meetings/{session}/registration/cancel")
async def unregister(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    await sessions.unregister(request.app[SERVICES], person, request.match_info["session"])
    return see_other(f"/reviews/{request.match_info['id']}?meeting=unregistered#meetings")


def meeting_notice(query: Mapping[str, str]) -> str | None:
    """The notice the review's page shows after a registration's form."""
    done = query.get("meeting", "")
    return i18n.gettext(NOTICES[done]) if done in REGISTRATION_NOTICES else None


REGISTRATION_NOTICES = ("registered", "waitlisted", "unregistered")
