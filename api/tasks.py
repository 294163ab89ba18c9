"""Consultation tasks: mine, one, answer it, hand it to a colleague; and the synthesis.

Answers go straight to PostgreSQL rather than through the review's workflow: each is a
single conditional UPDATE (open, mine, before the deadline), which serialises with the
workflow's bulk expiry on the row lock, so a task is either answered or expired, never both,
and 10,000 answers cost the workflow nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp import web

from activities.synthesis import synthesis_page
from api import requests
from api.auth import current_actor
from api.bodies import body_problems, path_uuid, query_uuid, raise_if_invalid, read_json
from api.keys import POOL
from api.operations import (
    NOT_FOUND,
    REVIEW_ID,
    TEXT,
    UUID,
    answer,
    component,
    operation,
    query_parameter,
    shared_response,
)
from api.problems import Problem, invalid
from api.reviews import TASK_STATUSES, query_int, review_for
from db.actors import colleague_of
from db.events import insert_event
from db.syntheses import synthesis, synthesis_parts
from db.tasks import complete, delegate, has_task, my_tasks, task
from domain.access import Actor, may_act_on_task, may_read_task
from domain.canonical import json_hash
from domain.events import EventType, ReviewEvent

routes = web.RouteTableDef()

# Parts of the synthesis per page: every objective and a few dozen inputs' recommendations.
SYNTHESIS_PAGE = 50

# Event ids for task changes live in their own namespace, derived from what happened.
EVENT_NAMESPACE = uuid.UUID("6a1d3f0e-58b2-4f5e-8c7e-0b4a9d2c7e31")


def task_document(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "review_id": row["review_id"],
        "kind": row["kind"],
        "assignee": str(row["assignee"]),
        "invitee": str(row["invitee"]),
        "organisation": row["organisation"],
        "stakeholder_category": row["stakeholder_category"],
        "country": row["country"],
        "due_at": row["due_at"].isoformat(),
        "status": row["status"],
        "response": row["response"],
        "completed_at": row["completed_at"].isoformat() if row["completed_at"] else None,
        "reminders_sent": row["reminders_sent"],
        "delegations": row["delegations"],
        "created_at": row["created_at"].isoformat(),
    }


async def _readable_task(request: web.Request, actor: Actor) -> asyncpg.Record:
    """The task, if `actor` is its assignee or runs its review; 404 otherwise, saying nothing."""
    not_found = Problem(404, f"There is no task {request.match_info['id']!r} you may read.")
    task_id = path_uuid(request, not_found)
    found = await task(request.app[POOL], task_id)
    if found is None:
        raise not_found
    if not may_read_task(actor, found["assignee"], found["region"]):
        raise not_found
    return found


def _event(
    row: asyncpg.Record, event_type: EventType, actor: Actor, key: str, **data: Any
) -> ReviewEvent:
    """The audit event of a change to a task; its id is derived from the change itself."""
    return ReviewEvent(
        id=str(uuid.uuid5(EVENT_NAMESPACE, f"{event_type}:{row['id']}:{key}")),
        review_id=row["review_id"],
        type=event_type,
        at=datetime.now(UTC),
        actor_id=str(actor.id),
        data={"task_id": str(row["id"]), **data},
    )


async def _assigned_task(request: web.Request, doing: str) -> tuple[Actor, asyncpg.Record]:
    """The actor and the task it holds; 403 for the secretariat, who may read but not act."""
    actor = current_actor(request)
    found = await _readable_task(request, actor)
    if not may_act_on_task(actor, found["assignee"]):
        raise Problem(403, f"Only the task's assignee {doing}.")
    return actor, found


@routes.get("/v1/tasks")
@operation(
    "Consultation",
    "listTasks",
    "The tasks assigned to the actor",
    {
        "200": answer("A page of tasks, in order of id.", component("TaskList")),
        "422": shared_response("Unprocessable", "A query parameter is not valid."),
    },
    parameters=(
        query_parameter("status", {"enum": list(TASK_STATUSES)}, "Only tasks in this status."),
        query_parameter("review", REVIEW_ID, "Only tasks of this review."),
        query_parameter("after", UUID, "Only tasks after this id (`next_after`)."),
        query_parameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
            "At most this many tasks.",
        ),
    ),
)
async def tasks(request: web.Request) -> web.Response:
    actor = current_actor(request)
    status = request.query.get("status")
    if status is not None and status not in TASK_STATUSES:
        raise invalid([("/status", f"must be one of: {', '.join(TASK_STATUSES)}")])
    after_id = query_uuid(request, "after", "a task id")
    limit = query_int(request, "limit", 100, 1, 500)
    rows = await my_tasks(
        request.app[POOL],
        actor.id,
        status=status,
        review_id=request.query.get("review"),
        after=after_id,
        limit=limit,
    )
    next_after = str(rows[-1]["id"]) if len(rows) == limit else None
    return web.json_response({"items": [task_document(r) for r in rows], "next_after": next_after})


@routes.get("/v1/tasks/{id}")
@operation(
    "Consultation",
    "getTask",
    "A task",
    {"200": answer("The task.", component("Task")), "404": NOT_FOUND},
    description="For its assignee and for the review's secretariat.",
    parameters=("TaskId",),
)
async def read_task(request: web.Request) -> web.Response:
    return web.json_response(task_document(await _readable_task(request, current_actor(request))))


def _refusal(row: asyncpg.Record, actor: Actor, response_hash: str | None = None) -> Problem:
    """Why a change to a task that was open and the actor's a moment ago did not happen."""
    if row["status"] == "completed" and response_hash not in (None, row["response_hash"]):
        return Problem(409, "This task was already completed with a different response.")
    if row["status"] != "open":
        return Problem(409, f"This task is {row['status']}.")
    if row["assignee"] != actor.id:
        return Problem(409, "This task was handed to someone else meanwhile.")
    return Problem(
        409, f"This task was due at {row['due_at'].isoformat()}; it takes no answer now."
    )


@routes.post("/v1/tasks/{id}/complete")
@operation(
    "Consultation",
    "completeTask",
    "Answer a task",
    {
        "200": answer(
            "The completed task; the same response sent again answers the same.",
            component("Task"),
        ),
        "403": shared_response("Forbidden", "Only the task's assignee answers it."),
        "404": NOT_FOUND,
        "409": shared_response(
            "Conflict",
            "The task takes no answer: it is past its due date, expired or"
            " cancelled, or was already completed with a different response.",
        ),
        "422": shared_response(
            "Unprocessable",
            "The body or the response is not valid: `errors` lists the problems,"
            " each with a JSON Pointer into the request body (/response/... for"
            " the response).",
        ),
    },
    description="`response` is checked against the consultation_response schema"
    " (GET /v1/schemas/consultation_response). Open tasks take an answer until"
    " `due_at`.",
    parameters=("TaskId",),
    body="TaskCompletion",
)
async def complete_task(request: web.Request) -> web.Response:
    actor, found = await _assigned_task(request, "answers it")
    body = await read_json(request)
    raise_if_invalid(
        await asyncio.to_thread(
            body_problems, body, requests.TASK_COMPLETION, "response", "consultation_response"
        )
    )
    response = body["response"]
    response_hash = json_hash(response)
    pool = request.app[POOL]
    async with pool.acquire() as conn, conn.transaction():
        done = await complete(conn, found["id"], actor.id, response, response_hash)
        if done is not None:
            await insert_event(conn, _event(done, EventType.TASK_COMPLETED, actor, response_hash))
    if done is not None:
        return web.json_response(task_document(done))
    current = await task(pool, found["id"])
    assert current is not None
    if current["status"] == "completed" and current["response_hash"] == response_hash:
        return web.json_response(task_document(current))  # the same answer again: done already
    raise _refusal(current, actor, response_hash)


def _holds_a_task() -> Problem:
    return invalid([("/to", "already has a task in this review")])


async def _colleague(request: web.Request, actor: Actor, found: asyncpg.Record, to: str) -> Actor:
    """The colleague a task is handed to. Whether `to` is an account at all, or one of another
    party, gets one answer, so ids cannot be probed."""
    pool = request.app[POOL]
    colleague = await colleague_of(pool, actor, found["region"], uuid.UUID(to))
    if colleague is None:
        raise invalid([("/to", "must be another account of your organisation")])
    if await has_task(pool, found["review_id"], colleague.id):
        raise _holds_a_task()
    return colleague


@routes.post("/v1/tasks/{id}/delegate")
@operation(
    "Consultation",
    "delegateTask",
    "Hand a task to a colleague",
    {
        "200": answer("The task, now assigned to the colleague.", component("Task")),
        "403": shared_response("Forbidden", "Only the task's assignee hands it over."),
        "404": NOT_FOUND,
        "409": shared_response("Conflict", "The task is no longer open."),
        "422": shared_response(
            "Unprocessable",
            "The body is not valid, or `to` is not another active account of the"
            " actor's organisation (same organisation id; for a focal point, the same"
            " country and a region of the review), or it holds a task of the review.",
        ),
    },
    parameters=("TaskId",),
    body="TaskDelegation",
)
async def delegate_task(request: web.Request) -> web.Response:
    actor, found = await _assigned_task(request, "hands it over")
    body = await read_json(request, requests.TASK_DELEGATION)
    colleague = await _colleague(request, actor, found, body["to"])
    async with request.app[POOL].acquire() as conn, conn.transaction():
        moved = await delegate(conn, found["id"], actor.id, colleague.id, body.get("note"))
        if moved is not None:
            key = str(len(moved["delegations"]))
            await insert_event(
                conn,
                _event(
                    moved,
                    EventType.TASK_DELEGATED,
                    actor,
                    key,
                    to=str(colleague.id),
                    note=body.get("note"),
                ),
            )
    if moved is None:
        if await has_task(request.app[POOL], found["review_id"], colleague.id):
            raise _holds_a_task()  # another task of this review reached the colleague meanwhile
        current = await task(request.app[POOL], found["id"])
        assert current is not None
        raise _refusal(current, actor)
    return web.json_response(task_document(moved))


@routes.get("/v1/reviews/{id}/synthesis")
@operation(
    "Consultation",
    "getSynthesis",
    "The synthesis of the review's inputs that the consultation is about",
    {
        "200": answer("The synthesis.", component("Synthesis")),
        "403": shared_response("Forbidden", "Not for observers."),
        "404": shared_response(
            "NotFound",
            "No such review the actor may see, or the consultation has not opened yet.",
        ),
    },
    description="Compiled once, when the consultation opens, from the latest"
    " accepted version of every submission; every item names the submission and"
    " version it comes from. Inputs whose organisation did not consent to"
    " publication are counted, not quoted. Read in pages of at most 50 parts"
    " (an objective, or up to 100 of its quoted inputs, or one input's"
    " recommendations): each page has the counts, the guiding principles and"
    " the four clusters with the objective parts on it; the first page of a"
    " synthesis with fewer parts is all of it.",
    parameters=(
        "ReviewId",
        query_parameter("cursor", TEXT, "`next_cursor` of the previous page."),
        query_parameter(
            "limit", {"type": "integer", "minimum": 1, "maximum": 50}, "Parts per page."
        ),
    ),
)
async def read_synthesis(request: web.Request) -> web.Response:
    actor = current_actor(request)
    row = await review_for(request, actor)
    if actor.role == "observer":
        raise Problem(403, "The synthesis is for the review's participants.")
    found = await synthesis(request.app[POOL], row["id"])
    if found is None:
        raise Problem(404, "The synthesis is compiled when the consultation opens.")
    start = query_int(request, "cursor", 0, 0, 2**31 - 1)
    limit = query_int(request, "limit", SYNTHESIS_PAGE, 1, SYNTHESIS_PAGE)
    parts = await synthesis_parts(request.app[POOL], row["id"], start, limit + 1)
    page = synthesis_page(found["content"], [(p["kind"], p["content"]) for p in parts[:limit]])
    return web.json_response(
        {
            **page,
            "content_hash": found["content_hash"],
            "created_at": found["created_at"].isoformat(),
            "next_cursor": str(parts[limit]["position"]) if len(parts) > limit else None,
        }
    )
