"""The admin's roll-ups on the pages (`services.rollups`): the list with the form that starts
the roll-up of a cycle, and a roll-up's page (its versions, the regions in the latest and
those missing, the approval of the version awaiting it, after a confirmation).

Starting and approving run the API's use cases under an idempotency key made for each
rendering of the form, so a double click starts or approves once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

import i18n
from api.keys import POOL
from api.rollups import rollup_answer, rollup_engine
from domain.access import Actor
from domain.cycles import cycle_problem
from schemas import problems_in
from services import rollups
from services.refusals import Kind, Refused
from web.format import local_time
from web.public import region_name
from web.render import page
from web.reviews import form_key, new_form_key
from web.sessions import require_person
from web.signin import see_other

routes = web.RouteTableDef()

PATH = "/rollups"
ROLLUP = PATH + "/{id}"
START_FIELDS = ("cycle", "title")
FIELD_ERRORS = {
    "cycle": i18n.N_(
        "Enter a cycle of regional reviews as its two years, such as 2024-2025 (2020-2021 and"
        " every four years on)"
    ),
    "title": i18n.N_("Enter a title of at most 300 characters"),
}
STATUS_WORDS = {
    "compiling": i18n.N_("Compiling its first version"),
    "awaiting_approval": i18n.N_("Awaiting your approval"),
    "published": i18n.N_("Published"),
}
VERSION_WORDS = {
    "draft": i18n.N_("Draft"),
    "published": i18n.N_("Published"),
    "superseded": i18n.N_("Superseded"),
}
VERSION_TAGS = {"draft": "", "published": "tag--done", "superseded": ""}
NOTICES = {
    "started": i18n.N_(
        "The roll-up started. Its first version gathers the regional reports published so far."
    ),
    "approved": i18n.N_("The version is approved: it is the public global synthesis now."),
}
NO_LONGER_AWAITING = i18n.N_("This version no longer awaits approval. Read the roll-up again.")


def _admin(request: web.Request) -> Actor:
    person = require_person(request)
    rollups.require_admin(person)
    return person


def _when(text: str | None, zone: str) -> str | None:
    return local_time(datetime.fromisoformat(text), zone) if text else None


def _listed(rollup: dict[str, Any]) -> dict[str, Any]:
    return {**rollup, "status_words": i18n.gettext(STATUS_WORDS[rollup["status"]])}


def _start_errors(problems: list[tuple[str, str]]) -> list[dict[str, str]]:
    """The form's problems, each beside its field; one it has no field for at the top."""
    named = {pointer.lstrip("/").split("/")[0] for pointer, _ in problems}
    errors = [
        {"field_id": field, "message": i18n.gettext(FIELD_ERRORS[field])}
        for field in START_FIELDS
        if field in named
    ]
    return errors or [{"field_id": "", "message": message} for _, message in problems]


async def _list_page(
    request: web.Request,
    person: Actor,
    values: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
    status: int = 200,
) -> web.Response:
    errors = errors or []
    found = await rollups.listed_rollups(request.app[POOL], person)
    context = {
        "rollups": [_listed(r) for r in found],
        "values": values or dict.fromkeys(START_FIELDS, ""),
        "errors": errors,
        "error_of": {e["field_id"]: e["message"] for e in errors},
        "hidden": new_form_key(),
    }
    return page(request, "rollups/list.html", context, status=status)


@routes.get(PATH)
async def rollups_page(request: web.Request) -> web.StreamResponse:
    return await _list_page(request, _admin(request))


@routes.post(PATH)
async def start_rollup(request: web.Request) -> web.StreamResponse:
    person = _admin(request)
    form = await request.post()
    values = {name: str(form.get(name, "")).strip() for name in START_FIELDS}
    problems = [(p.pointer, p.message) for p in problems_in(rollups.NEW_ROLLUP_SCHEMA, values)]
    if (problem := cycle_problem(values["cycle"])) is not None:  # all told at once
        problems.append(("/cycle", problem))
    if problems:
        return await _list_page(request, person, values, _start_errors(problems), 422)
    try:
        await rollups.start_rollup(
            request.app[POOL], rollup_engine(request), person, values, form_key(form)
        )
    except Refused as refused:
        if refused.kind is Kind.INVALID:
            return await _list_page(request, person, values, _start_errors(refused.problems), 422)
        if refused.kind is Kind.CONFLICT:
            error = {"field_id": "cycle", "message": refused.message}
            return await _list_page(request, person, values, [error], 409)
        raise
    return see_other(f"{PATH}/{values['cycle']}?done=started")


def _version(version: dict[str, Any], cycle: str, zone: str) -> dict[str, Any]:
    return {
        **version,
        "words": i18n.gettext(VERSION_WORDS[version["status"]]),
        "tag": VERSION_TAGS[version["status"]],
        "compiled": _when(version["compiled_at"], zone),
        "published": _when(version["published_at"], zone),
        "href": f"{PATH}/{cycle}/versions/{version['version']}.html",
    }


async def _rollup(request: web.Request, person: Actor) -> dict[str, Any]:
    """The roll-up of the page's cycle, its words and links ready for the templates."""
    cycle = request.match_info["id"]
    document = await rollups.rollup_document(request.app[POOL], person, cycle)
    latest = document["versions"][-1] if document["versions"] else None
    return {
        **_listed(document),
        "versions": [_version(v, cycle, person.time_zone) for v in document["versions"]],
        "reports": [
            {**report, "name": region_name(report["region"])}
            for report in (latest["regional_reports"] if latest else [])
        ],
        "missing": [region_name(code) for code in document["regions"]["missing"]],
        "awaiting": document["version"] if document["status"] == "awaiting_approval" else None,
    }


@routes.get(ROLLUP)
async def rollup_page(request: web.Request) -> web.StreamResponse:
    person = _admin(request)
    notice = NOTICES.get(request.query.get("done", ""))
    context = {
        "rollup": await _rollup(request, person),
        "notice": i18n.gettext(notice) if notice else None,
    }
    return page(request, "rollups/rollup.html", context)


@routes.get(ROLLUP + "/versions/{version:[0-9]{1,7}}.html")
async def version_html(request: web.Request) -> web.StreamResponse:
    """A version's standalone page, the draft too: what the admin reads before approving."""
    person = _admin(request)
    version = int(request.match_info["version"])
    return await rollup_answer(request, person, request.match_info["id"], "html", version)


async def _approve_page(
    request: web.Request, person: Actor, errors: list[dict[str, str]], status: int = 200
) -> web.Response:
    context = {"rollup": await _rollup(request, person), "errors": errors, "hidden": new_form_key()}
    return page(request, "rollups/approve.html", context, status=status)


@routes.get(ROLLUP + "/approve")
async def approve_page(request: web.Request) -> web.StreamResponse:
    return await _approve_page(request, _admin(request), [])


@routes.post(ROLLUP + "/approve")
async def approve(request: web.Request) -> web.StreamResponse:
    person = _admin(request)
    form = await request.post()
    version = str(form.get("version", ""))
    cycle = request.match_info["id"]
    if not version.isdigit() or not 0 < int(version) <= 1_000_000:
        error = {"field_id": "", "message": i18n.gettext(NO_LONGER_AWAITING)}
        return await _approve_page(request, person, [error], 422)
    try:
        await rollups.approve_rollup(
            request.app[POOL],
            rollup_engine(request),
            person,
            cycle,
            {"version": int(version)},
            form_key(form),
        )
    except Refused as refused:
        if refused.kind is not Kind.CONFLICT:
            raise
        error = {"field_id": "", "message": i18n.gettext(NO_LONGER_AWAITING)}
        return await _approve_page(request, person, [error], 409)
    return see_other(f"{PATH}/{cycle}?done=approved")
