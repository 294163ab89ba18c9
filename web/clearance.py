"""A member State's team for its national report, on the pages: who drafts it with the focal
point, who clears it, where the draft stands, and its history (`services.clearance`).

Every action is a small form on the team's page that posts, then comes back to the page with
a notice (303), or shows the page again with its problems (422).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

import i18n
from api.keys import POOL, SERVICES, SETTINGS
from domain.access import Actor
from domain.clearance import ClearanceStatus
from domain.review import SubmissionKind
from services import clearance, signin
from services.refusals import Kind, Refused
from web.background import BACKGROUND
from web.format import local_time
from web.forms import form_for
from web.render import page
from web.sessions import require_person
from web.signin import see_other

routes = web.RouteTableDef()

NOTICES = {
    "added": i18n.N_("The drafter is on your team. They get an email with a link to sign in."),
    "removed": i18n.N_("The drafter is no longer on your team."),
    "officer": i18n.N_("The clearing officer is saved."),
    "requested": i18n.N_("The draft was sent for clearance."),
    "cleared": i18n.N_("You cleared the draft. A focal point can now send it."),
}
STATUS_WORDS = {
    ClearanceStatus.NOT_ASKED: i18n.N_("Not sent for clearance yet"),
    ClearanceStatus.VOIDED: i18n.N_(
        "No longer cleared: the draft changed after it was cleared. Send it for clearance again."
    ),
    ClearanceStatus.SENT: i18n.N_("Sent: this is the version of the report sent last"),
}
WAITING_FOR_OFFICER = i18n.N_("Sent for clearance: waiting for %(name)s to clear it")
WAITING_FOR_FOCAL_POINT = i18n.N_("Sent for clearance: waiting for a focal point to clear it")
CLEARED = i18n.N_("Cleared by %(name)s on %(when)s: this draft can be sent")
STATUS_TAGS = {
    ClearanceStatus.NOT_ASKED: "",
    ClearanceStatus.REQUESTED: "",
    ClearanceStatus.CLEARED: "tag--done",
    ClearanceStatus.VOIDED: "tag--overdue",
    ClearanceStatus.SENT: "tag--done",
}
# The value of the clearing officer's choice that names nobody (a focal point clears).
NO_OFFICER = "none"


def _team_path(review_id: str) -> str:
    return f"/reviews/{review_id}/team"


def _when(text: str | None, zone: str) -> str | None:
    return local_time(datetime.fromisoformat(text), zone) if text else None


def _revisions(items: list[dict[str, Any]], review_id: str, zone: str) -> list[dict[str, Any]]:
    return [
        {
            **item,
            "saved": _when(item["saved_at"], zone),
            "cleared": _when(item["cleared_at"], zone),
            "requested": _when(item["clearance_requested_at"], zone),
            "href": f"/reviews/{review_id}/draft/revisions/{item['number']}",
        }
        for item in items
    ]


def status_words(team: Mapping[str, Any], zone: str) -> str:
    """Where the draft of the team's document (`services.clearance.team_document`) stands, in
    words: who it waits for, or who cleared it when."""
    state = ClearanceStatus(team["status"])
    if state is ClearanceStatus.REQUESTED:
        officer = team["clearing_officer"]
        if officer is None:
            return i18n.gettext(WAITING_FOR_FOCAL_POINT)
        return i18n.gettext(WAITING_FOR_OFFICER) % {"name": officer["name"]}
    if state is ClearanceStatus.CLEARED:
        latest = team["latest"]
        return i18n.gettext(CLEARED) % {
            "name": latest["cleared_by"]["name"],
            "when": _when(latest["cleared_at"], zone),
        }
    return i18n.gettext(STATUS_WORDS[state])


async def form_status(request: web.Request, actor: Actor, review_id: str) -> dict[str, str] | None:
    """Where the national report's clearance stands, as its form shows it: only for a
    country whose team clears it before it is sent."""
    team = await clearance.team_document(request.app[SERVICES], actor, review_id)
    if not team["clearance_required"]:
        return None
    return {
        "words": status_words(team, actor.time_zone),
        "tag": STATUS_TAGS[ClearanceStatus(team["status"])],
    }


async def _team_page(
    request: web.Request,
    *,
    errors: list[dict[str, str]] | None = None,
    chosen: Mapping[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    person = require_person(request)
    deps = request.app[SERVICES]
    review_id = request.match_info["id"]
    team = await clearance.team_document(deps, person, review_id)
    review = (await clearance.drafting(deps, person, review_id)).review
    history = await clearance.revision_list(deps, person, review_id)
    state = ClearanceStatus(team["status"])
    errors = errors or []
    notice = NOTICES.get(request.query.get("done", ""))
    context = {
        "review": review,
        "team": team,
        "country": i18n.country_name(team["country"]),
        "status_words": status_words(team, person.time_zone),
        "status_tag": STATUS_TAGS[state],
        "may_request": team["latest"] is not None
        and state in (ClearanceStatus.NOT_ASKED, ClearanceStatus.VOIDED),
        "may_clear": team["you"]["clear"]
        and team["latest"] is not None
        and state not in (ClearanceStatus.CLEARED, ClearanceStatus.SENT),
        "history": _revisions(history, review["id"], person.time_zone),
        "no_officer": NO_OFFICER,
        "officer": (team["clearing_officer"] or {}).get("id", NO_OFFICER),
        "chosen": chosen or {"name": "", "email": ""},
        "errors": errors,
        "error_of": {e["field_id"]: e["message"] for e in errors},
        "notice": i18n.gettext(notice) if notice else None,
    }
    return page(request, "reviews/team.html", context, status=status)


@routes.get("/reviews/{id}/team")
async def team_page(request: web.Request) -> web.StreamResponse:
    return await _team_page(request)


def _refusal_errors(refused: Refused) -> list[dict[str, str]]:
    """A refusal in plain words, beside the clearing officer's choice when it is about it."""
    if any(pointer == "/officer" for pointer, _ in refused.problems):
        message = i18n.gettext("Choose a focal point of your country or a drafter on its team")
        return [{"field_id": "officer", "message": message}]
    return [{"field_id": "", "message": i18n.rule_text(refused.message)}]


async def _acted(request: web.Request, done: str, action: Any) -> web.StreamResponse:
    """Run `action`; back to the team's page with its notice, or the page with the refusal."""
    try:
        await action
    except Refused as refused:
        if refused.kind not in (Kind.INVALID, Kind.CONFLICT, Kind.FORBIDDEN):
            raise
        return await _team_page(
            request, errors=_refusal_errors(refused), status=STATUS[refused.kind]
        )
    return see_other(f"{_team_path(request.match_info['id'])}?done={done}")


STATUS = {Kind.INVALID: 422, Kind.CONFLICT: 409, Kind.FORBIDDEN: 403}


@routes.post("/reviews/{id}/team/drafters")
async def add_drafter(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    deps = request.app[SERVICES]
    posted = await request.post()
    chosen = {name: str(posted.get(name, "")).strip() for name in ("name", "email")}
    errors = _drafter_errors(chosen)
    if errors:
        await clearance.managing(deps, person, request.match_info["id"])
        return await _team_page(request, errors=errors, chosen=chosen, status=422)
    try:
        _, made = await clearance.add_drafter(deps, person, request.match_info["id"], chosen, None)
    except Refused as refused:
        if refused.kind is not Kind.INVALID:
            raise
        errors = _drafter_errors(chosen, dict(refused.problems))
        return await _team_page(request, errors=errors, chosen=chosen, status=422)
    if made is not None:
        invitation = signin.send_invitation(request.app[POOL], request.app[SETTINGS], made)
        request.app[BACKGROUND].spawn(invitation, "mailing a new drafter its invitation")
    return see_other(f"{_team_path(request.match_info['id'])}?done=added")


def _drafter_errors(
    chosen: Mapping[str, str], problems: Mapping[str, str] | None = None
) -> list[dict[str, str]]:
    """What is wrong with the new drafter's fields, in plain words: those left empty, then
    those the service refused."""
    problems = problems or {}
    errors = []
    if not chosen["name"]:
        errors.append({"field_id": "name", "message": i18n.gettext("Enter the drafter's name")})
    elif "/name" in problems:
        message = i18n.gettext("Enter the drafter's name on one line, up to 200 characters")
        errors.append({"field_id": "name", "message": message})
    if not chosen["email"]:
        message = i18n.gettext("Enter the drafter's email address")
        errors.append({"field_id": "email", "message": message})
    elif "/email" in problems:
        message = i18n.gettext("Enter an email address like name@example.org")
        errors.append({"field_id": "email", "message": message})
    return errors


@routes.post("/reviews/{id}/team/drafters/{drafter}/remove")
async def remove_drafter(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    deps = request.app[SERVICES]
    info = request.match_info
    return await _acted(
        request, "removed", clearance.remove_drafter(deps, person, info["id"], info["drafter"])
    )


@routes.post("/reviews/{id}/team/clearing-officer")
async def name_officer(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    deps = request.app[SERVICES]
    chosen = str((await request.post()).get("officer", NO_OFFICER))
    body = {"officer": None if chosen == NO_OFFICER else chosen}
    return await _acted(
        request, "officer", clearance.name_officer(deps, person, request.match_info["id"], body)
    )


@routes.post("/reviews/{id}/draft/clearance-request")
async def request_clearance(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    deps = request.app[SERVICES]
    return await _acted(
        request, "requested", clearance.request_clearance(deps, person, request.match_info["id"])
    )


@routes.post("/reviews/{id}/draft/clearance")
async def clear(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    deps = request.app[SERVICES]
    body = {"content_hash": str((await request.post()).get("content_hash", ""))}
    return await _acted(
        request, "cleared", clearance.clear(deps, person, request.match_info["id"], body)
    )


@routes.get("/reviews/{id}/draft/revisions/{number}")
async def revision_page(request: web.Request) -> web.StreamResponse:
    """One revision of the draft, read only, with who saved it when."""
    person = require_person(request)
    deps = request.app[SERVICES]
    review_id = request.match_info["id"]
    work = await clearance.drafting(deps, person, review_id)
    revision = await clearance.revision_document(
        deps, person, review_id, request.match_info["number"]
    )
    team = await clearance.team_document(deps, person, review_id)
    latest = team["latest"] or {}
    context = {
        "review": work.review,
        "revision": revision,
        "saved": _when(revision["saved_at"], person.time_zone),
        "cleared": _when(revision["cleared_at"], person.time_zone),
        "is_latest": latest.get("number") == revision["number"],
        "may_clear": team["you"]["clear"]
        and latest.get("number") == revision["number"]
        and revision["cleared_at"] is None,
        "fields": form_for(SubmissionKind.NATIONAL_REPORT.value).view(revision["content"]).fields,
    }
    return page(request, "reviews/revision.html", context)
