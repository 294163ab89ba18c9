"""Consultation tasks: mine, one, answer it, hand it to a colleague; and the synthesis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
from aiohttp import web

from api import requests
from api.auth import current_actor
from api.bodies import body_problems, query_uuid, raise_if_invalid, read_json
from api.keys import SERVICES
from api.operations import (
    NOT_FOUND,
    REVIEW_ID,
    TEXT,
    UUID,
    Handler,
    answer,
    component,
    limit_parameter,
    operation,
    query_parameter,
    shared_response,
)
from api.reviews import TASK_STATUSES, query_int
from domain.access import Actor
from services import synthesis
from services import tasks as use_cases
from services.engine import Deps
from services.tasks import task_document

routes = web.RouteTableDef()


def _deps_actor_id(request: web.Request) -> tuple[Deps, Actor, str]:
    """What the handlers of one task or one review start from: the use cases' deps, the
    actor, and the id in the path."""
    return request.app[SERVICES], current_actor(request), request.match_info["id"]


async def _assigned(request: web.Request, doing: str) -> tuple[Deps, Actor, asyncpg.Record]:
    """The task in the path, if the actor holds it: checked before its body is read."""
    deps, actor, task_id = _deps_actor_id(request)
    return deps, actor, await use_cases.assigned_task(deps, actor, task_id, doing)


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
        limit_parameter(100, 500, "tasks"),
    ),
)
async def tasks(request: web.Request) -> web.Response:
    after = query_uuid(request, "after", "a task id")
    limit = query_int(request, "limit", 100, 1, 500)
    page = await use_cases.task_page(
        request.app[SERVICES],
        current_actor(request),
        status=request.query.get("status"),
        review_id=request.query.get("review"),
        after=after,
        limit=limit,
    )
    return web.json_response(page)


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
    deps, actor, task_id = _deps_actor_id(request)
    return web.json_response(task_document(await use_cases.readable_task(deps, actor, task_id)))


def _task_command(
    operation_id: str,
    summary: str,
    doing: str,
    responses: dict[str, Any],
    body: str,
    description: str | None = None,
) -> Callable[[Handler], Handler]:
    """The declaration of a command to a task: only its assignee, who `doing`, sends it."""
    return operation(
        "Consultation",
        operation_id,
        summary,
        {
            "403": shared_response("Forbidden", f"Only the task's assignee {doing}."),
            "404": NOT_FOUND,
            **responses,
        },
        description=description,
        parameters=("TaskId",),
        body=body,
    )


# What only a task's assignee does, as its refusal and its declaration say.
ANSWERS = "answers it"
HANDS_OVER = "hands it over"


@routes.post("/v1/tasks/{id}/complete")
@_task_command(
    "completeTask",
    "Answer a task",
    ANSWERS,
    {
        "200": answer(
            "The completed task; the same response sent again answers the same.",
            component("Task"),
        ),
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
    "TaskCompletion",
    description="`response` is checked against the consultation_response schema"
    " (GET /v1/schemas/consultation_response). Open tasks take an answer until"
    " `due_at`.",
)
async def complete_task(request: web.Request) -> web.Response:
    deps, actor, found = await _assigned(request, ANSWERS)
    body = await read_json(request)
    raise_if_invalid(
        await asyncio.to_thread(
            body_problems, body, requests.TASK_COMPLETION, "response", "consultation_response"
        )
    )
    return web.json_response(await use_cases.answer(deps, actor, found, body["response"]))


@routes.post("/v1/tasks/{id}/delegate")
@_task_command(
    "delegateTask",
    "Hand a task to a colleague",
    HANDS_OVER,
    {
        "200": answer("The task, now assigned to the colleague.", component("Task")),
        "409": shared_response("Conflict", "The task is no longer open."),
        "422": shared_response(
            "Unprocessable",
            "The body is not valid, or `to` is not another active account of the"
            " actor's organisation (same organisation id; for a focal point, the same"
            " country and a region of the review), or it holds a task of the review.",
        ),
    },
    "TaskDelegation",
)
async def delegate_task(request: web.Request) -> web.Response:
    deps, actor, found = await _assigned(request, HANDS_OVER)
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
            "limit", {"type": "integer", "minimum": 1, "maximum": synthesis.PAGE}, "Parts per page."
        ),
    ),
)
async def read_synthesis(request: web.Request) -> web.Response:
    deps, actor, review_id = _deps_actor_id(request)
    # Who may read it, and whether there is one yet, is answered before the query is checked.
    found = await synthesis.readable_synthesis(deps, actor, review_id)
    start = query_int(request, "cursor", 0, 0, 2**31 - 1)
    limit = query_int(request, "limit", synthesis.PAGE, 1, synthesis.PAGE)
    return web.json_response(
        await synthesis.synthesis_document(deps, review_id, found, start, limit)
    )


@routes.get("/v1/reviews/{id}/synthesis/addendum")
@operation(
    "Consultation",
    "getSynthesisAddendum",
    "What was added to the synthesis after the consultation opened",
    {
        "200": answer(
            "The addendum; empty when nothing was added.", component("SynthesisAddendum")
        ),
        "403": shared_response("Forbidden", "Not for observers."),
        "404": shared_response(
            "NotFound",
            "No such review the actor may see, or the consultation has not opened yet.",
        ),
    },
    description="The submissions accepted after the synthesis was made (national reports"
    " of member States whose deadline was extended, inputs accepted late, new versions):"
    " their latest versions, and what they say in the shape of the synthesis, built from"
    " them alone. The consultees are told by mail when inputs are added.",
    parameters=("ReviewId",),
)
async def read_synthesis_addendum(request: web.Request) -> web.Response:
    deps, actor, review_id = _deps_actor_id(request)
    await synthesis.readable_synthesis(deps, actor, review_id)
    return web.json_response(await synthesis.addendum_document(deps, review_id))
