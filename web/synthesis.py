"""The synthesis of a review's inputs and its addendum (what was accepted after the
consultation opened), as the pages show them: on a consultation task's page for those
consulted, and on the secretariat's console (`services.synthesis`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import asyncpg
from aiohttp import web

from api.keys import SERVICES
from domain.access import Actor
from domain.reference import load_reference
from domain.review import SubmissionKind
from i18n import N_, country_name, gettext
from reports.meetings import MODES, SESSION_KINDS, SUMMARY_KINDS
from reports.render import ROLES
from services import reviews, synthesis
from services.refusals import Kind, Refused
from web.format import deadline, local_time
from web.render import page
from web.sessions import require_person

routes = web.RouteTableDef()

# The kinds of submission, as the addendum to the synthesis lists them.
ADDED_KINDS = {
    SubmissionKind.NATIONAL_REPORT.value: N_("National report"),
    SubmissionKind.STAKEHOLDER_INPUT.value: N_("Written input"),
}

NOT_NAMED = N_("An organisation that did not agree to be named")

# What an objective of the synthesis may hold.
SYNTHESIS_CONTENT = (
    "statuses",
    "measures",
    "challenges",
    "good_practices",
    "stakeholder_inputs",
    "unpublished_stakeholder_inputs",
)


def _reported(objective: dict[str, Any]) -> bool:
    return any(objective[key] for key in SYNTHESIS_CONTENT)


def _set_apart_silent(document: dict[str, Any]) -> dict[str, Any]:
    """Objectives nobody reported on are named in one line, not one heading each."""
    for cluster in document["clusters"]:
        cluster["silent"] = [o["number"] for o in cluster["objectives"] if not _reported(o)]
        cluster["objectives"] = [o for o in cluster["objectives"] if _reported(o)]
    return document


def _start(request: web.Request) -> int:
    text = request.query.get("from", "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else 0


async def synthesis_part(
    request: web.Request, review_id: str, found: asyncpg.Record
) -> dict[str, Any]:
    """The part of the review's synthesis (`found`) the address asks for, with the links to
    the next part and back to the first."""
    start = _start(request)
    document = _set_apart_silent(
        await synthesis.synthesis_document(
            request.app[SERVICES], review_id, found, start, synthesis.PAGE
        )
    )
    cursor = document["next_cursor"]
    document["next"] = f"?from={cursor}#synthesis" if cursor else None
    document["first"] = "?#synthesis" if start else None
    return document


async def addendum(
    request: web.Request, review_id: str, link: Callable[[dict[str, Any]], str] | None = None
) -> dict[str, Any] | None:
    """What was added to the synthesis after the consultation opened, if anything, with
    each submission's kind and sender in words (and, with `link`, where to read it)."""
    document = await synthesis.addendum_document(request.app[SERVICES], review_id)
    if not document["total"]:
        return None
    reference = load_reference()
    for added in document["submissions"]:
        added["kind_label"] = gettext(ADDED_KINDS.get(added["kind"], added["kind"]))
        if added["kind"] == SubmissionKind.NATIONAL_REPORT.value:
            added["from"] = country_name(added["subject"], reference.country_name(added["subject"]))
        else:
            added["from"] = added["organisation"] or gettext(NOT_NAMED)
        added["href"] = link(added) if link else None
    # Only what the added inputs speak of: the objectives they are silent on are no news.
    for cluster in _set_apart_silent(document)["clusters"]:
        cluster["silent"] = []
    return document


def words_for(person: Actor) -> dict[str, Any]:
    """What the synthesis's templates (`_synthesis.html`) need to say it in words."""
    reference = load_reference()

    def country_names(codes: Iterable[str]) -> str:
        return ", ".join(country_name(code, reference.country_name(code)) for code in codes)

    return {
        "accepted_on": lambda at: local_time(datetime.fromisoformat(at), person.time_zone),
        "country_names": country_names,
        "objective_statuses": {s.id: s.title for s in reference.objective_statuses},
        # The consultation meetings held: their times as deadlines are written (UTC beside).
        "meeting_time": lambda at: deadline(datetime.fromisoformat(at), person.time_zone),
        "meeting_words": {**SESSION_KINDS, **MODES, **SUMMARY_KINDS, **ROLES},
    }


@routes.get("/reviews/{id}/synthesis")
async def synthesis_page(request: web.Request) -> web.StreamResponse:
    """The synthesis the consultation is about, and its addendum, for those who run the
    review: as those consulted read it, each added input linked to its submission."""
    person = require_person(request)
    deps = request.app[SERVICES]
    review = await reviews.run_by(deps, person, request.match_info["id"], "reads its synthesis")
    try:
        found = await synthesis.readable_synthesis(deps, person, review["id"])
    except Refused as refused:
        if refused.kind is not Kind.NOT_FOUND:
            raise
        found = None
    base = f"/reviews/{review['id']}/submissions"
    context = {
        "review": review,
        **words_for(person),
        "synthesis": found and await synthesis_part(request, review["id"], found),
        "addendum": found
        and await addendum(
            request,
            review["id"],
            lambda added: f"{base}/{added['submission_id']}?version={added['version']}",
        ),
    }
    return page(request, "reviews/synthesis.html", context)
