"""Reviews: create (starting the workflow), list, read, and the secretariat's commands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from aiohttp import web

from api import requests
from api.auth import current_actor, require_role
from api.bodies import read_json
from api.idempotency import idempotency_key
from api.keys import SERVICES
from api.operations import (
    NOT_FOUND,
    PHASE,
    REVIEW_ANSWER,
    SECRETARIAT_ONLY,
    TEXT,
    UNAVAILABLE,
    UUID,
    Handler,
    answer,
    common,
    component,
    limit_parameter,
    operation,
    query_parameter,
    shared_response,
)
from api.problems import invalid
from domain.access import Actor
from domain.events import EventType
from services import reviews as use_cases
from services import schema_versions
from services.engine import Deps
from services.reviews import TASK_STATUSES, Command

__all__ = ["TASK_STATUSES", "query_int", "review_for", "secretariat_command"]

routes = web.RouteTableDef()

MAX_PAGE = 100


async def review_for(request: web.Request, actor: Actor) -> asyncpg.Record:
    return await use_cases.visible(request.app[SERVICES], actor, request.match_info["id"])


# ---- create ---------------------------------------------------------------------------------


@routes.post("/v1/reviews")
@operation(
    "Reviews",
    "createReview",
    "Create a review (starts its workflow)",
    {
        "201": answer("The review, as created.", component("Review")),
        "403": shared_response("Forbidden", "Only a secretariat of the review's region."),
        "409": shared_response("Conflict", "A review with this id already exists."),
        "503": UNAVAILABLE,
    },
    parameters=("IdempotencyKey",),
    body="NewReview",
)
async def create_review(request: web.Request) -> web.Response:
    actor = require_role(request, ("secretariat", "admin"))
    key = idempotency_key(request)
    body = await read_json(request, requests.NEW_REVIEW)
    created = await use_cases.create_review(request.app[SERVICES], actor, body, key)
    return web.json_response(created, status=201)


@routes.patch("/v1/reviews/{id}")
@operation(
    "Reviews",
    "describeReview",
    "Change the review's title, description, report languages or report approvers",
    {
        "200": REVIEW_ANSWER,
        "403": SECRETARIAT_ONLY,
        "404": NOT_FOUND,
        "409": shared_response(
            "Conflict",
            "report_languages differs from the review's while a version of its report is"
            " compiled already (`errors` names /report_languages), or approvers are sent once"
            " the report's approval has begun. Nothing changed.",
        ),
        "422": shared_response(
            "Unprocessable", "An approver named is not an active account of the region."
        ),
        "503": UNAVAILABLE,
    },
    description="Any of them, title and description at any phase; the pages, messages and"
    " reports use them from then on. report_languages only until a version of the report is"
    " compiled (every version is in the same languages); approvers only until the report's"
    " approval begins (the event review.approvers_changed records it). Deadlines change"
    " through extensions, never here.",
    parameters=("ReviewId", "IdempotencyKey"),
    body="ReviewText",
)
async def describe_review(request: web.Request) -> web.Response:
    actor = current_actor(request)
    key = idempotency_key(request)
    changes = await read_json(request, requests.REVIEW_TEXT)
    described = await use_cases.describe_review(
        request.app[SERVICES], actor, request.match_info["id"], changes, key
    )
    return web.json_response(described)


# ---- read ------------------------------------------------------------------------------------


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise invalid([(f"/{name}", f"must be an integer from {low} to {high}")])
    return int(raw)


@routes.get("/v1/reviews")
@operation(
    "Reviews",
    "listReviews",
    "The reviews the actor may see",
    {
        "200": answer("A page of reviews, oldest first.", component("ReviewList")),
        "422": shared_response("Unprocessable", "A query parameter is not valid."),
    },
    description="An admin sees every review; a secretariat those of its regions; a"
    " focal point those of its regions with its country as a member State; a"
    " stakeholder those it is consulted on; an observer published reviews only (of"
    " its regions, or of every region if it has none).",
    parameters=(
        query_parameter("region", common("region_code"), "Only reviews of this region."),
        query_parameter("phase", PHASE, "Only reviews in this phase."),
        limit_parameter(50, MAX_PAGE, "reviews"),
        query_parameter("cursor", TEXT, "`next_cursor` of the previous page."),
    ),
)
async def reviews(request: web.Request) -> web.Response:
    page = await use_cases.review_page(
        request.app[SERVICES],
        current_actor(request),
        region=request.query.get("region"),
        phase=request.query.get("phase"),
        cursor=request.query.get("cursor"),
        limit=query_int(request, "limit", 50, 1, MAX_PAGE),
    )
    return web.json_response(page)


@routes.get("/v1/reviews/{id}")
@operation(
    "Reviews",
    "getReview",
    "A review: phase, deadlines, progress",
    {"200": REVIEW_ANSWER, "404": NOT_FOUND},
    parameters=("ReviewId",),
)
async def review(request: web.Request) -> web.Response:
    actor = current_actor(request)
    review_id = request.match_info["id"]
    return web.json_response(
        await use_cases.review_document(request.app[SERVICES], actor, review_id)
    )


@routes.get("/v1/reviews/{id}/events")
@operation(
    "Audit",
    "listEvents",
    "The review's audit trail, in order",
    {
        "200": answer("A page of events.", component("EventList")),
        "403": shared_response("Forbidden", "Only the review's secretariat."),
        "404": NOT_FOUND,
        "422": shared_response("Unprocessable", "A query parameter is not valid."),
    },
    parameters=(
        "ReviewId",
        query_parameter(
            "after",
            {"type": "integer", "minimum": 0, "default": 0},
            "Only events after this `seq` (`next_after` of the previous page).",
        ),
        limit_parameter(100, 1000, "events"),
        query_parameter(
            "type", {"enum": [event.value for event in EventType]}, "Only events of this type."
        ),
        query_parameter("actor", UUID, "Only events of this account's acts."),
        query_parameter(
            "from",
            {"type": "string", "format": "date-time"},
            "Only events at or after this instant (RFC 3339, with its offset).",
        ),
        query_parameter(
            "to",
            {"type": "string", "format": "date-time"},
            "Only events before this instant (RFC 3339, with its offset).",
        ),
    ),
    description="Filters combine: each event listed passes every filter given. Paging"
    " with `after` keeps the filters; send them again with each page.",
)
async def events(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    # Who may read the trail is checked before the query is.
    row = await use_cases.run_by(deps, actor, request.match_info["id"], "reads its audit trail")
    after = query_int(request, "after", 0, 0, 2**62)
    limit = query_int(request, "limit", 100, 1, 1000)
    only = use_cases.event_filter(request.query)
    return web.json_response(await use_cases.event_page(deps, row, after, limit, only))


# ---- commands ----------------------------------------------------------------------------------


UseCase = Callable[[Deps, Actor, Command], Awaitable[dict[str, Any]]]


async def secretariat_command(
    request: web.Request,
    schema: dict[str, Any],
    use_case: UseCase,
    authorised: use_cases.Authorised | None = None,
) -> web.Response:
    """Who may run the command (the review's secretariat, or whom `authorised` lets) is
    checked before its body is read."""
    actor = current_actor(request)
    review_id = request.match_info["id"]
    deps = request.app[SERVICES]
    await (authorised or use_cases.run_by)(deps, actor, review_id)
    key = idempotency_key(request)
    body = await read_json(request, schema)
    return web.json_response(await use_case(deps, actor, Command(review_id, body, key)))


def _review_command(
    operation_id: str, summary: str, conflict: str, body: str, description: str | None = None
) -> Callable[[Handler], Handler]:
    """The declaration of a command to the review's workflow, the secretariat's: it answers
    the review as it is afterwards."""
    return operation(
        "Reviews",
        operation_id,
        summary,
        {
            "200": REVIEW_ANSWER,
            "403": SECRETARIAT_ONLY,
            "404": NOT_FOUND,
            "409": shared_response("Conflict", conflict),
            "503": UNAVAILABLE,
        },
        description=description,
        parameters=("ReviewId", "IdempotencyKey"),
        body=body,
    )


@routes.post("/v1/reviews/{id}/extensions")
@_review_command(
    "extendDeadline",
    "Extend a deadline, for the review or for one member State",
    "The deadline can no longer move, or the review has ended.",
    "Extension",
)
async def extend(request: web.Request) -> web.Response:
    return await secretariat_command(request, requests.EXTENSION, use_cases.extend)


@routes.post("/v1/reviews/{id}/advance")
@_review_command(
    "advanceReview",
    "Close the current phase now",
    "The current phase cannot be closed early, or the review has ended.",
    "Advance",
    description="Send {} to give no reason.",
)
async def advance(request: web.Request) -> web.Response:
    return await secretariat_command(request, requests.ADVANCE, use_cases.advance)


@routes.post("/v1/reviews/{id}/cancel")
@_review_command("cancelReview", "Cancel the review", "The review has already ended.", "Cancel")
async def cancel(request: web.Request) -> web.Response:
    return await secretariat_command(request, requests.CANCEL, use_cases.cancel)


@routes.post("/v1/reviews/{id}/invitations")
@operation(
    "Reviews",
    "inviteStakeholders",
    "Invite member States or stakeholders to the review",
    {
        "200": answer("Who was invited now, and who had been.", component("InvitationsSent")),
        "403": SECRETARIAT_ONLY,
        "404": NOT_FOUND,
        "409": shared_response(
            "Conflict",
            "Stakeholders: the review is open to every stakeholder of its region, or has ended."
            " Member States: the call for inputs has closed.",
        ),
    },
    description="Adds member States to the review (until its call for inputs closes: they may"
    " then submit, are reminded and counted, and their focal points are mailed an invitation)"
    " and stakeholder accounts of the review's region to its invited list; each stakeholder"
    " added is mailed an invitation with a link that signs them in (valid 7 days)."
    " Those already invited are left as they are and mailed nothing, so the same request"
    " may be sent again. Invited after the consultation opened, a stakeholder has no"
    " consultation task.",
    parameters=("ReviewId", "IdempotencyKey"),
    body="Invitations",
)
async def invite(request: web.Request) -> web.Response:
    return await secretariat_command(request, requests.INVITATIONS, use_cases.invite)


@routes.post("/v1/reviews/{id}/schema-versions")
@operation(
    "Reviews",
    "moveSchemaVersions",
    "Collect the current versions of the document schemas",
    {
        "200": REVIEW_ANSWER,
        "403": SECRETARIAT_ONLY,
        "404": NOT_FOUND,
        "409": shared_response("Conflict", "The review's call for inputs has closed."),
    },
    description="Moves the review to the current version of each document schema"
    " (GET /v1/schemas): submissions are checked against them from now on, and drafts written"
    " against an older version are brought up to date when their form is opened. Only until"
    " the call for inputs closes; asking again changes nothing. No body.",
    parameters=("ReviewId",),
)
async def move_schema_versions(request: web.Request) -> web.Response:
    deps, actor = request.app[SERVICES], current_actor(request)
    await schema_versions.move_to_current(deps, actor, request.match_info["id"])
    return web.json_response(await use_cases.review_document(deps, actor, request.match_info["id"]))
