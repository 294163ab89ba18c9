"""Reviews: create (starting the workflow), list, read, and the secretariat's commands."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp import web

from api import requests
from api.auth import current_actor, require_role
from api.bodies import read_json
from api.idempotency import idempotency_key
from api.keys import POOL, SERVICES
from api.operations import (
    NOT_FOUND,
    PHASE,
    REVIEW_ANSWER,
    SECRETARIAT_ONLY,
    TEXT,
    UNAVAILABLE,
    answer,
    common,
    component,
    operation,
    query_parameter,
    shared_response,
)
from api.problems import Problem, invalid
from db.events import events_after
from db.reviews import list_reviews
from domain.access import Actor, runs_review
from domain.reference import load_reference
from domain.review import Phase
from services import reviews as use_cases
from services.engine import Deps
from services.reviews import TASK_STATUSES

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


# ---- read ------------------------------------------------------------------------------------


def _cursor(row: asyncpg.Record) -> str:
    raw = f"{row['created_at'].isoformat()}|{row['id']}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _after(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        created_at, _, review_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        # In UTC, as this API gives them out: a forged instant must not reach the database.
        return datetime.fromisoformat(created_at).astimezone(UTC), review_id
    except (ValueError, OverflowError):
        raise invalid([("/cursor", "is not a cursor this API gave out")]) from None


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
        query_parameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
            "At most this many reviews.",
        ),
        query_parameter("cursor", TEXT, "`next_cursor` of the previous page."),
    ),
)
async def reviews(request: web.Request) -> web.Response:
    actor = current_actor(request)
    phase = request.query.get("phase")
    if phase is not None and phase not in {p.value for p in Phase}:
        raise invalid([("/phase", f"must be one of: {', '.join(p.value for p in Phase)}")])
    region = request.query.get("region")
    if region is not None and load_reference().region(region) is None:
        raise invalid([("/region", "must be one of: ECE, ECA, ECLAC, ESCAP, ESCWA")])
    limit = query_int(request, "limit", 50, 1, MAX_PAGE)
    rows = await list_reviews(
        request.app[POOL],
        actor,
        region=region,
        phase=phase,
        after=_after(request.query.get("cursor")),
        limit=limit + 1,
    )
    page = rows[:limit]
    next_cursor = _cursor(page[-1]) if len(rows) > limit else None
    return web.json_response(
        {"items": [use_cases.listed(row, actor) for row in page], "next_cursor": next_cursor}
    )


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
        query_parameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
            "At most this many events.",
        ),
    ),
)
async def events(request: web.Request) -> web.Response:
    actor = current_actor(request)
    row = await review_for(request, actor)
    if not runs_review(actor, row["region"]):
        raise Problem(403, "Only the review's secretariat reads its audit trail.")
    after = query_int(request, "after", 0, 0, 2**62)
    limit = query_int(request, "limit", 100, 1, 1000)
    items = await events_after(request.app[POOL], row["id"], after, limit)
    next_after = items[-1]["seq"] if len(items) == limit else None
    return web.json_response({"items": items, "next_after": next_after})


# ---- commands ----------------------------------------------------------------------------------


Command = Callable[[Deps, Actor, str, dict[str, Any], str | None], Awaitable[dict[str, Any]]]


async def secretariat_command(
    request: web.Request, schema: dict[str, Any], command: Command
) -> web.Response:
    """Who may run the command is checked before its body is read."""
    actor = current_actor(request)
    review_id = request.match_info["id"]
    deps = request.app[SERVICES]
    await use_cases.run_by(deps, actor, review_id)
    key = idempotency_key(request)
    body = await read_json(request, schema)
    return web.json_response(await command(deps, actor, review_id, body, key))


@routes.post("/v1/reviews/{id}/extensions")
@operation(
    "Reviews",
    "extendDeadline",
    "Extend a deadline, for the review or for one member State",
    {
        "200": REVIEW_ANSWER,
        "403": SECRETARIAT_ONLY,
        "404": NOT_FOUND,
        "409": shared_response(
            "Conflict", "The deadline can no longer move, or the review has ended."
        ),
        "503": UNAVAILABLE,
    },
    parameters=("ReviewId", "IdempotencyKey"),
    body="Extension",
)
async def extend(request: web.Request) -> web.Response:
    return await secretariat_command(request, requests.EXTENSION, use_cases.extend)


@routes.post("/v1/reviews/{id}/advance")
@operation(
    "Reviews",
    "advanceReview",
    "Close the current phase now",
    {
        "200": REVIEW_ANSWER,
        "403": SECRETARIAT_ONLY,
        "404": NOT_FOUND,
        "409": shared_response(
            "Conflict",
            "The current phase cannot be closed early, or the review has ended.",
        ),
        "503": UNAVAILABLE,
    },
    description="Send {} to give no reason.",
    parameters=("ReviewId", "IdempotencyKey"),
    body="Advance",
)
async def advance(request: web.Request) -> web.Response:
    return await secretariat_command(request, requests.ADVANCE, use_cases.advance)


@routes.post("/v1/reviews/{id}/cancel")
@operation(
    "Reviews",
    "cancelReview",
    "Cancel the review",
    {
        "200": REVIEW_ANSWER,
        "403": SECRETARIAT_ONLY,
        "404": NOT_FOUND,
        "409": shared_response("Conflict", "The review has already ended."),
        "503": UNAVAILABLE,
    },
    parameters=("ReviewId", "IdempotencyKey"),
    body="Cancel",
)
async def cancel(request: web.Request) -> web.Response:
    return await secretariat_command(request, requests.CANCEL, use_cases.cancel)
