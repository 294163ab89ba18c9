"""Inviting more stakeholders to a review, for those who run it: who is invited, and the
active stakeholders of the region not yet invited to pick from, searched and a page at a time.

Sending runs the JSON API's use case (services.reviews.invite) under an idempotency key made
for each rendering of the form, so a double click invites once.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any
from urllib.parse import urlencode

import asyncpg
from aiohttp import web

import i18n
from api.keys import SERVICES
from api.requests import INVITATIONS
from domain.access import Actor
from domain.reference import load_reference
from schemas import problems_in
from services import reviews
from services.refusals import STATUS_OF_KIND, Kind, Refused
from services.reviews import Command
from web.render import page
from web.reviews import form_key, new_form_key, shown_count
from web.sessions import require_person
from web.signin import see_other

routes = web.RouteTableDef()

PAGE = 50
FIELD = "stakeholders"
# Where the list's place is kept in the page's address: the search, and where each list resumes.
PLACE = ("q", "after", "invited_after")
# The words below are translated where they are shown (i18n.gettext).
PICK_ONE = i18n.N_("Select at least one stakeholder")
PICK_LISTED = i18n.N_("Select stakeholders from the list")
GONE = i18n.N_(
    "One or more of the stakeholders you selected can no longer be invited: their account was"
    " closed or moved to another region. Select from the list again."
)
KEY_REUSED = i18n.N_("This page was already used to invite other stakeholders. Select them again.")
# The search's problems in plain words, by the pointer the use case names, and the field.
PLACE_PROBLEMS = {
    "/q": (
        "q",
        i18n.N_("Enter at most %(count)s characters, letters, digits, spaces and punctuation only"),
    ),
    "/after": (
        "more",
        i18n.N_("The link to more stakeholders is not valid; the list starts again"),
    ),
    "/invited_after": (
        "more-invited",
        i18n.N_("The link to more invited stakeholders is not valid"),
    ),
}


def _path(review_id: str) -> str:
    return f"/reviews/{review_id}/invitations"


def _notice(query: Mapping[str, str]) -> str | None:
    """What the form did (303 to this page with `invited` and `already`: counts)."""
    invited, already = (shown_count(query, name) for name in ("invited", "already"))
    if invited is None:
        return None
    if invited == 0:
        return i18n.gettext("No stakeholder invited: those you selected were invited already.")
    done = i18n.ngettext(
        "%(count)s stakeholder invited; they get an invitation by email.",
        "%(count)s stakeholders invited; each gets an invitation by email.",
        invited,
    ) % {"count": invited}
    if already:
        done += " " + i18n.ngettext(
            "%(count)s was invited already.", "%(count)s were invited already.", already
        ) % {"count": already}
    return done


def _rows(found: list[asyncpg.Record], picked: Set[str]) -> list[dict[str, Any]]:
    categories = {
        term.id: i18n.gettext(term.title) for term in load_reference().stakeholder_categories
    }
    return [
        {
            "id": str(row["id"]),
            "name": row["name"],
            "organisation": row["organisation"],
            "category": categories.get(row["stakeholder_category"], row["stakeholder_category"]),
            "checked": str(row["id"]) in picked,
        }
        for row in found
    ]


def _link(review_id: str, place: dict[str, str], **changes: str | None) -> str:
    """This page at another place in its lists."""
    query = {k: v for k, v in {**place, **changes}.items() if v}
    return _path(review_id) + (f"?{urlencode(query)}" if query else "")


def _place_errors(problems: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [
        {
            "field_id": PLACE_PROBLEMS[pointer][0],
            "message": i18n.gettext(PLACE_PROBLEMS[pointer][1])
            % {"count": i18n.format_number(reviews.MAX_QUERY)},
        }
        for pointer, _ in problems
        if pointer in PLACE_PROBLEMS
    ]


async def _found(
    request: web.Request, person: Actor, place: dict[str, str]
) -> tuple[reviews.Invitable, list[dict[str, str]]]:
    """The lists at the place asked for; at a place that is not valid, the lists from their
    start and the problem beside its field."""
    deps, review_id = request.app[SERVICES], request.match_info["id"]
    try:
        found = await reviews.invitable_stakeholders(
            deps, person, review_id, query=place["q"], after=place["after"],
            invited_after=place["invited_after"], limit=PAGE,
        )  # fmt: skip
        return found, []
    except Refused as refused:
        if refused.kind is not Kind.INVALID:
            raise
        errors = _place_errors(refused.problems)
    found = await reviews.invitable_stakeholders(
        deps, person, review_id, query=None, after=None, invited_after=None, limit=PAGE
    )
    return found, errors


async def _page(
    request: web.Request,
    person: Actor,
    picked: Set[str] = frozenset(),
    errors: list[dict[str, str]] | None = None,
    status: int = 200,
) -> web.Response:
    place = {name: request.query.get(name, "") for name in PLACE}
    found, place_errors = await _found(request, person, place)
    if place_errors and status == 200:
        status = 422
    errors = (errors or []) + place_errors
    review_id = found.review["id"]
    invited, uninvited = found.invited, found.uninvited
    context = {
        "review": found.review,
        "closed": found.closed,
        "invited_count": len(found.review["stakeholders"] or []),
        "invited": _rows(invited.items, set()),
        "more_invited": invited.next_after
        and _link(review_id, place, invited_after=invited.next_after),
        "uninvited": _rows(uninvited.items, picked),
        "more": uninvited.next_after and _link(review_id, place, after=uninvited.next_after),
        "first": place["after"] and _link(review_id, place, after=None),
        "q": place["q"],
        "cleared": place["q"] and _link(review_id, {}),
        "action": _link(review_id, place),
        "hidden": new_form_key(),
        "notice": _notice(request.query),
        "errors": errors,
        "error_of": {e["field_id"]: e["message"] for e in errors},
        "back": f"/reviews/{review_id}",
    }
    return page(request, "reviews/invitations.html", context, status=status)


@routes.get("/reviews/{id}/invitations")
async def invitations_page(request: web.Request) -> web.StreamResponse:
    return await _page(request, require_person(request))


def _refusal_error(refused: Refused) -> dict[str, str]:
    """Why the review invited nobody, in plain words, beside the list where it is about it."""
    if refused.kind is Kind.CONFLICT:
        return {"field_id": "", "message": i18n.rule_text(refused.message)}
    if any(pointer == "" for pointer, _ in refused.problems):  # the key of a page already sent
        return {"field_id": FIELD, "message": i18n.gettext(KEY_REUSED)}
    return {"field_id": FIELD, "message": i18n.gettext(GONE)}


@routes.post("/reviews/{id}/invitations")
async def invite(request: web.Request) -> web.StreamResponse:
    person = require_person(request)
    posted = await request.post()
    picked = [value for value in posted.getall(FIELD, []) if isinstance(value, str)]
    if problems_in(INVITATIONS, {FIELD: picked}):
        message = i18n.gettext(PICK_LISTED if picked else PICK_ONE)
        return await _page(request, person, set(), [{"field_id": FIELD, "message": message}], 422)
    command = Command(request.match_info["id"], {FIELD: picked}, form_key(posted))
    try:
        answer = await reviews.invite(request.app[SERVICES], person, command)
    except Refused as refused:
        if refused.kind not in (Kind.INVALID, Kind.CONFLICT):
            raise
        status = STATUS_OF_KIND[refused.kind]
        return await _page(request, person, set(picked), [_refusal_error(refused)], status)
    counts = {
        "invited": str(len(answer["invited"])),
        "already": str(len(answer["already_invited"])),
    }
    return see_other(_link(command.review_id, {"q": request.query.get("q", ""), **counts}))
