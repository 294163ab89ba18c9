"""Consultation tasks: mine, one, answer it, hand it to a colleague; and the synthesis."""

from __future__ import annotations

import asyncio

from aiohttp import web

from activities.synthesis import synthesis_page
from api import requests
from api.auth import current_actor
from api.bodies import body_problems, query_uuid, raise_if_invalid, read_json
from api.keys import POOL, SERVICES
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
from db.syntheses import synthesis, synthesis_parts
from db.tasks import my_tasks
from domain.access import Actor
from services import tasks as use_cases
from services.engine import Deps
from services.tasks import task_document

routes = web.RouteTableDef()

# Parts of the synthesis per page: every objective and a few dozen inputs' recommendations.
SYNTHESIS_PAGE = 50


def _deps_actor_task(request: web.Request) -> tuple[Deps, Actor, str]:
    return request.app[SERVICES], current_actor(request), request.match_info["id"]


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
    deps, actor, task_id = _deps_actor_task(request)
    return web.json_response(task_document(await use_cases.readable_task(deps, actor, task_id)))


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
    deps, actor, task_id = _deps_actor_task(request)
    found = await use_cases.assigned_task(deps, actor, task_id, "answers it")
    body = await read_json(request)
    raise_if_invalid(
        await asyncio.to_thread(
            body_problems, body, requests.TASK_COMPLETION, "response", "consultation_response"
        )
    )
    return web.json_response(await use_cases.answer(deps, actor, found, body["response"]))


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
    deps, actor, task_id = _deps_actor_task(request)
    found = await use_cases.assigned_task(deps, actor, task_id, "hands it over")
    body = await read_json(request, requests.TASK_DELEGATION)
    return web.json_response(
        await use_cases.hand_over(deps, actor, found, body["to"], body.get("note"))
    )


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
