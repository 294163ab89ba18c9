"""The roll-up of a cycle for the International Migration Review Forum (`services.rollups`),
and its engine on Temporal: one `RollupWorkflow` per cycle."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from api.auth import current_actor
from api.bodies import read_json
from api.idempotency import idempotency_key
from api.keys import POOL, SETTINGS, TEMPORAL
from api.operations import (
    NOT_FOUND,
    VERSION,
    answer,
    array_of,
    component,
    header,
    operation,
    path_parameter,
    query_parameter,
    shared_response,
)
from api.problems import invalid
from api.reports import FORMATS, frozen_answer
from api.reviews import query_int
from api.updates import refusal
from services import rollups as use_cases
from services.refusals import not_found, unavailable
from workflows.models import RollupApproval, RollupInput
from workflows.rollup import RollupWorkflow, rollup_workflow_id

routes = web.RouteTableDef()

ROLLUP_ANSWER = answer("The roll-up, as it is now.", component("Rollup"))
ADMIN_ONLY = shared_response("Forbidden", "Only an admin.")
CYCLE = path_parameter("id", use_cases.CYCLE_SCHEMA, "The roll-up's id: its cycle, e.g. 2020-2021.")
ROLLUP_BODIES = {
    "json": {"type": "object", "description": "The roll-up document (canonical JSON)."},
    "html": {"type": "string", "description": "A standalone printable page, no script."},
    "md": {"type": "string", "description": "The roll-up as Markdown."},
    "pdf": {"type": "string", "format": "binary", "description": "The roll-up as an A4 PDF."},
}


class TemporalRollups:
    """`services.rollups.RollupEngine` on Temporal."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self.client, self.task_queue = client, task_queue

    async def start(self, cycle: str, title: str, started_by: str) -> None:
        try:
            await self.client.start_workflow(
                RollupWorkflow.run,
                RollupInput(cycle, title, started_by),
                id=rollup_workflow_id(cycle),
                task_queue=self.task_queue,
                # A cycle has one roll-up, for ever: never a second run of its id; a start
                # retried while the first runs finds it.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
        except RPCError as error:
            raise unavailable(f"The workflow service is unavailable: {error.message}") from None

    async def approve(self, cycle: str, actor_id: str, version: int, *, update_id: str) -> None:
        handle = self.client.get_workflow_handle(rollup_workflow_id(cycle))
        try:
            await handle.execute_update(
                RollupWorkflow.approve, RollupApproval(actor_id, version), id=update_id
            )
        except WorkflowUpdateFailedError as error:
            raise refusal(error) from error
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise not_found("The roll-up's workflow is gone.") from None
            raise unavailable(f"The workflow service is unavailable: {error.message}") from None


def rollup_engine(request: web.Request) -> TemporalRollups:
    return TemporalRollups(request.app[TEMPORAL], request.app[SETTINGS].task_queue)


@routes.post("/v1/rollups")
@operation(
    "Roll-up",
    "startRollup",
    "Start the roll-up of a cycle's published regional reports",
    {
        "201": ROLLUP_ANSWER,
        "403": ADMIN_ONLY,
        "409": shared_response("Conflict", "The cycle has a roll-up already."),
    },
    description="Gathers the regional reports of the cycle published now into version 1, then"
    " a new version with each regional report published after. Each version awaits the"
    " admin's approval.",
    parameters=("IdempotencyKey",),
    body="NewRollup",
)
async def start_rollup(request: web.Request) -> web.Response:
    actor = current_actor(request)
    body = await read_json(request, use_cases.NEW_ROLLUP_SCHEMA)
    created = await use_cases.start_rollup(
        request.app[POOL], rollup_engine(request), actor, body, idempotency_key(request)
    )
    return web.json_response(created.body, status=created.status)


@routes.get("/v1/rollups")
@operation(
    "Roll-up",
    "listRollups",
    "The roll-ups: every one for an admin, the published ones for anyone else",
    {"200": answer("The roll-ups, newest cycle first.", array_of(component("Rollup")))},
)
async def list_rollups(request: web.Request) -> web.Response:
    actor = current_actor(request)
    return web.json_response(await use_cases.listed_rollups(request.app[POOL], actor))


@routes.get("/v1/rollups/{id}")
@operation(
    "Roll-up",
    "getRollup",
    "A roll-up: its status, versions and the regions published or missing",
    {"200": ROLLUP_ANSWER, "404": NOT_FOUND},
    description="An admin sees every version; anyone else the published one only, and a"
    " roll-up without one as none.",
    parameters=(CYCLE,),
)
async def get_rollup(request: web.Request) -> web.Response:
    actor = current_actor(request)
    document = await use_cases.rollup_document(request.app[POOL], actor, request.match_info["id"])
    return web.json_response(document)


@routes.get("/v1/rollups/{id}/report")
@operation(
    "Roll-up",
    "getRollupReport",
    "A version of the roll-up, as JSON, a printable HTML page, Markdown or PDF",
    {
        "200": {
            "description": "The version, in the format asked for.",
            "headers": {
                "ETag": header("The version's content_hash and the format.", {"type": "string"}),
                "X-Report-Version": header("The version served.", VERSION),
                "X-Report-Status": header(
                    "The version's status.", {"enum": ["draft", "published", "superseded"]}
                ),
                "Content-Security-Policy": header("Nothing loaded, no script.", {"type": "string"}),
            },
            "content": {
                media_type: {"schema": ROLLUP_BODIES[name]}
                for name, (_, media_type) in FORMATS.items()
            },
        },
        "304": {"description": "Not modified."},
        "404": NOT_FOUND,
        "422": shared_response("Unprocessable", "`format` or `version` is not valid."),
    },
    description="Drafts are the admin's only; anyone else reads the published version."
    " Without `version`: the published one, else (for the admin) the latest.",
    parameters=(
        CYCLE,
        query_parameter(
            "format", {"enum": list(FORMATS), "default": "json"}, "json, html, md or pdf."
        ),
        query_parameter(
            "version", {"type": "integer", "minimum": 1, "maximum": 1_000_000}, "This version."
        ),
    ),
)
async def read_rollup(request: web.Request) -> web.Response:
    actor = current_actor(request)
    chosen = request.query.get("format", "json")
    if chosen not in FORMATS:
        raise invalid([("/format", "must be one of: " + ", ".join(FORMATS))])
    wanted = query_int(request, "version", 0, 1, 1_000_000) if "version" in request.query else None
    return await rollup_answer(request, actor, request.match_info["id"], chosen, wanted)


async def rollup_answer(
    request: web.Request, actor: Any, cycle: str, chosen: str, version: int | None
) -> web.Response:
    """A version of the roll-up in the format `chosen`, as `actor` (None: anyone) may read it."""
    pool = request.app[POOL]
    files = await use_cases.rollup_files(pool, actor, cycle, version)

    async def content() -> str | bytes:
        if chosen == "pdf":
            return await use_cases.rollup_pdf(pool, cycle, files)
        text: str = files[{"json": "json", "html": "html", "md": "markdown"}[chosen]]
        return text

    headers = {"X-Report-Version": str(files["version"]), "X-Report-Status": files["status"]}
    return await frozen_answer(request, files["content_hash"], chosen, content, headers)


@routes.post("/v1/rollups/{id}/approve")
@operation(
    "Roll-up",
    "approveRollup",
    "Approve the version awaiting approval: it becomes the published one",
    {
        "200": ROLLUP_ANSWER,
        "403": ADMIN_ONLY,
        "404": NOT_FOUND,
        "409": shared_response(
            "Conflict", "No version awaits approval, or another than `version` does."
        ),
    },
    description="The version published before stays public until this one is approved.",
    parameters=(CYCLE, "IdempotencyKey"),
    body="RollupApproval",
)
async def approve_rollup(request: web.Request) -> web.Response:
    actor = current_actor(request)
    body = await read_json(request, use_cases.APPROVAL_SCHEMA)
    document = await use_cases.approve_rollup(
        request.app[POOL],
        rollup_engine(request),
        actor,
        request.match_info["id"],
        body,
        idempotency_key(request),
    )
    return web.json_response(document)
