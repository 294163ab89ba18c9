"""Reviews: create (starting the workflow), list, read, and the secretariat's commands."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import secrets
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp import web
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api import requests
from api.auth import current_actor, require_role
from api.bodies import read_json
from api.idempotency import (
    Created,
    answer_once,
    idempotency_key,
    mismatch,
    record_answer,
    replay,
    request_fingerprint,
)
from api.keys import POOL, SETTINGS, TEMPORAL, UPDATE_GATE
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
from api.updates import TRANSIENT_RPC, execute_update, pointer
from db.actors import active_stakeholders
from db.events import events_after
from db.reviews import list_reviews, review_exists, submission_progress, visible_review
from db.tasks import task_progress
from domain.access import Actor, runs_review
from domain.canonical import json_hash
from domain.deadlines import country_scope_refusals, schedule_problem
from domain.reference import load_reference
from domain.review import Deadline, Escalation, LatePolicy, Phase, ReviewConfig, Timeline
from workflows.models import Extension, PhaseCommand, ReviewInput
from workflows.review import REVIEW_PHASE, REVIEW_REGION, RegionalReviewWorkflow, workflow_id

# The memo naming the request that created a review (a hash of its actor and fingerprint);
# a worker starting up keeps a running review workflow that has it (reviewflow.orphans).
CREATION_MEMO = "creation"

routes = web.RouteTableDef()

DEFAULT_REMINDER_DAYS = [14, 7, 1]
MAX_PAGE = 100
TASK_STATUSES = ("open", "completed", "expired", "cancelled")
# How long a create waits for the workflow to write the review's row before asking for a retry.
ROW_WAIT_S = 10.0


# ---- parsing ------------------------------------------------------------------------------


def parse_instant(value: str, pointer: str, problems: list[tuple[str, str]]) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        problems.append((pointer, "must be a date and time such as 2020-10-26T23:59:59Z"))
        return None
    if parsed.tzinfo is None:
        problems.append((pointer, "must include a UTC offset, such as Z or +01:00"))
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        problems.append((pointer, "must be a date between the years 1 and 9999"))
        return None


def _future_instant(value: str, pointer: str, problems: list[tuple[str, str]]) -> datetime | None:
    instant = parse_instant(value, pointer, problems)
    if instant is not None and (problem := schedule_problem(instant, datetime.now(UTC))):
        problems.append((pointer, problem))
    return instant


def _timeline(body: dict[str, Any], problems: list[tuple[str, str]]) -> Timeline | None:
    values = {
        name: _future_instant(body["timeline"][name], f"/timeline/{name}", problems)
        for name in requests.DEADLINES
    }
    if any(value is None for value in values.values()):
        return None
    timeline = Timeline(**values)  # type: ignore[arg-type]
    problems.extend((f"/timeline/{deadline.value}", why) for deadline, why in timeline.problems())
    return timeline


async def _invited_stakeholders(
    pool: asyncpg.Pool, body: dict[str, Any], problems: list[tuple[str, str]]
) -> list[uuid.UUID] | None:
    invited = body.get("stakeholders", "open")
    if invited == "open":
        return None
    # Only active stakeholders of the review's region; any other id, an account or not, gets
    # the same answer, so the list cannot be used to find out which ids are accounts.
    found = await active_stakeholders(pool, [uuid.UUID(s) for s in invited], body["region"])
    known = {str(found_id) for found_id in found}
    problems.extend(
        (f"/stakeholders/{i}", "is not a stakeholder account of this region")
        for i, s in enumerate(invited)
        if s not in known
    )
    return [uuid.UUID(s) for s in invited]


def _member_states(body: dict[str, Any], problems: list[tuple[str, str]]) -> list[str]:
    reference = load_reference()
    region = reference.region(body["region"])
    assert region is not None  # the schema allows only known regions
    states = body.get("member_states") or list(region.default_scope)
    problems.extend(
        (f"/member_states/{i}", f"{code} is not a member of any regional commission")
        for i, code in enumerate(states)
        if reference.country_name(code) is None
    )
    return states


# ---- documents ----------------------------------------------------------------------------


def _review_document(
    row: asyncpg.Record,
    viewer: Actor,
    progress: list[asyncpg.Record] | None = None,
    tasks: list[asyncpg.Record] | None = None,
) -> dict[str, Any]:
    """The review as `viewer` may see it. Who was given more time and who was invited is the
    secretariat's business (a focal point sees its own State's extension); `progress` and
    `tasks` are passed only for the secretariat."""
    runs = runs_review(viewer, row["region"])
    extensions = row["country_extensions"]
    if not runs:
        extensions = {c: u for c, u in extensions.items() if c == viewer.country}
    invited = row["stakeholders"]
    document: dict[str, Any] = {
        "id": row["id"],
        "region": row["region"],
        "title": row["title"],
        "phase": row["phase"],
        "member_states": row["member_states"],
        "timeline": row["timeline"],
        "deadlines": row["deadlines"],
        "country_extensions": extensions,
        "reminder_days": row["reminder_days"],
        "late_submissions": row["late_submissions"],
        "consult_focal_points": row["consult_focal_points"],
        "reminders_optional": row["reminders_optional"],
        "escalation": row["escalation"],
        "stakeholders": "open"
        if invited is None
        else ([str(s) for s in invited] if runs else "invited"),
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }
    if progress is not None:
        reported = {p["subject"] for p in progress if p["kind"] == "national_report"}
        states = row["member_states"]
        document["progress"] = {
            "member_states_total": len(states),
            "national_reports": sum(1 for s in states if s in reported),
            "missing": [s for s in states if s not in reported],
            "stakeholder_inputs": sum(1 for p in progress if p["kind"] == "stakeholder_input"),
            "late": sum(1 for p in progress if p["late"]),
            "tasks": task_counts(tasks or []),
        }
    return document


def task_counts(rows: list[asyncpg.Record]) -> dict[str, Any]:
    """Tasks by status, and the response rate overall and per stakeholder category."""
    by_status: dict[str, int] = dict.fromkeys(TASK_STATUSES, 0)
    by_category: dict[str, dict[str, int]] = defaultdict(lambda: {"total": 0, "completed": 0})
    for row in rows:
        by_status[row["status"]] += row["n"]
        by_category[row["category"]]["total"] += row["n"]
        if row["status"] == "completed":
            by_category[row["category"]]["completed"] += row["n"]
    total = sum(by_status.values())
    return {
        **by_status,
        "total": total,
        "response_rate": round(by_status["completed"] / total, 4) if total else None,
        "by_category": {
            category: {**counts, "response_rate": round(counts["completed"] / counts["total"], 4)}
            for category, counts in sorted(by_category.items())
        },
    }


async def review_for(request: web.Request, actor: Actor) -> asyncpg.Record:
    row = await visible_review(request.app[POOL], actor, request.match_info["id"])
    if row is None:
        raise Problem(404, f"There is no review {request.match_info['id']!r} you may see.")
    return row


async def review_document(request: web.Request, actor: Actor, review_id: str) -> dict[str, Any]:
    pool = request.app[POOL]
    row = await visible_review(pool, actor, review_id)
    assert row is not None
    if not runs_review(actor, row["region"]):
        return _review_document(row, actor)
    progress = await submission_progress(pool, review_id)
    tasks = await task_progress(pool, review_id)
    return _review_document(row, actor, progress, tasks)


async def review_answer(request: web.Request, actor: Actor, review_id: str) -> web.Response:
    return web.json_response(await review_document(request, actor, review_id))


# ---- create ---------------------------------------------------------------------------------


async def _new_config(
    request: web.Request, actor: Actor, body: Any, key: str | None
) -> ReviewConfig:
    """The review `body` (valid by requests.NEW_REVIEW) asks for."""
    if actor.role == "secretariat" and body["region"] not in actor.regions:
        raise Problem(403, f"{body['region']} is not one of your regions.")
    problems: list[tuple[str, str]] = []
    prefix = f"{body['region'].lower()}-"
    if "id" in body and not body["id"].startswith(prefix):
        # Ids are one namespace: a region's prefix keeps others from taking, or probing for,
        # the ids of a region that is not theirs.
        problems.append(("/id", f"must begin with {prefix}, the region's code, as in {prefix}2024"))
    timeline = _timeline(body, problems)
    member_states = _member_states(body, problems)
    stakeholders = await _invited_stakeholders(request.app[POOL], body, problems)
    if problems or timeline is None:
        raise invalid(problems)
    escalation = body.get("escalation")
    return ReviewConfig(
        review_id=body.get("id") or _new_review_id(body["region"], actor, key),
        region=body["region"],
        title=body["title"],
        member_states=member_states,
        timeline=timeline,
        reminder_days=sorted(body.get("reminder_days", DEFAULT_REMINDER_DAYS), reverse=True),
        late_submissions=LatePolicy(body.get("late_submissions", LatePolicy.ACCEPT_FLAGGED)),
        created_by=str(actor.id),
        consult_focal_points=body.get("consult_focal_points", False),
        escalation=Escalation(**escalation) if escalation else None,
        stakeholders=None if stakeholders is None else [str(s) for s in stakeholders],
        reminders_optional=body.get("reminders_optional", False),
    )


def _new_review_id(region: str, actor: Actor, key: str | None) -> str:
    """An id for a review whose body names none: derived from the Idempotency-Key when there
    is one, so every retry of the request starts (or finds) the same workflow, whenever it
    comes; else 64 random bits, too many to guess."""
    suffix = (
        hashlib.sha256(f"{actor.id}:{key}".encode()).hexdigest()[:16]
        if key is not None
        else secrets.token_hex(8)
    )
    return f"{region.lower()}-{suffix}"


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
    """Start the review's workflow, which writes the review's row, then answer with the row.

    Nothing happens inside a database transaction: the workflow id is deterministic, a start
    finds the workflow a retry of the same request started (its memo holds the request's
    fingerprint), and the answer is recorded under the Idempotency-Key only afterwards.
    """
    actor = require_role(request, ("secretariat", "admin"))
    key = idempotency_key(request)
    body = await read_json(request, requests.NEW_REVIEW)
    pool = request.app[POOL]
    fingerprint = request_fingerprint(request, body)
    if key is not None and (stored := await replay(pool, actor, key, fingerprint)):
        return stored
    config = await _new_config(request, actor, body, key)
    creation = json_hash([str(actor.id), fingerprint])
    started_by = await _start_workflow(request, config, creation)
    if started_by != creation:
        if key is not None and "id" not in body:
            raise mismatch()  # the id comes from the key: the key was reused
        raise Problem(409, f"A review with id {config.review_id!r} already exists.")
    created = Created(201, await _created_review(request, actor, config.review_id))
    if key is None:
        return web.json_response(created.body, status=created.status)
    return await record_answer(pool, actor, key, fingerprint, created)


async def _start_workflow(request: web.Request, config: ReviewConfig, creation: str) -> str | None:
    """Start the review's workflow unless it exists; the creation mark of the request that
    started it (None for a review started before marks were kept, or whose workflow is gone)."""
    try:
        return await _creation_mark(request, config, creation)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None  # its row outlived its workflow's retention: that id ran
        if error.status not in TRANSIENT_RPC:
            raise
        raise Problem(
            503,
            f"The workflow service is unavailable: {error.message}",
            headers={"Retry-After": "5"},
        ) from None


async def _creation_mark(request: web.Request, config: ReviewConfig, creation: str) -> str | None:
    client = request.app[TEMPORAL]
    handle = client.get_workflow_handle(workflow_id(config.review_id))
    # Only a workflow writes a review's row: with a row, its workflow was started before.
    if not await review_exists(request.app[POOL], config.review_id):
        with contextlib.suppress(WorkflowAlreadyStartedError):  # it ran and closed
            await client.start_workflow(
                RegionalReviewWorkflow.run,
                ReviewInput(config),
                id=workflow_id(config.review_id),
                task_queue=request.app[SETTINGS].task_queue,
                # A review id runs once: a closed review is never started again.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                memo={CREATION_MEMO: creation},
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(REVIEW_REGION, config.region),
                        SearchAttributePair(REVIEW_PHASE, Phase.SCHEDULED.value),
                    ]
                ),
            )
    mark: str | None = await (await handle.describe()).memo_value(CREATION_MEMO, None)
    return mark


async def _created_review(request: web.Request, actor: Actor, review_id: str) -> dict[str, Any]:
    """The new review's document, once its workflow has written its row."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ROW_WAIT_S
    while (row := await visible_review(request.app[POOL], actor, review_id)) is None:
        if loop.time() > deadline:
            raise Problem(
                503,
                "The review is being created; send the same request again shortly.",
                headers={"Retry-After": "2"},
            )
        await asyncio.sleep(0.05)
    return _review_document(row, actor, [])


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
        {"items": [_review_document(row, actor) for row in page], "next_cursor": next_cursor}
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
    row = await review_for(request, actor)
    return await review_answer(request, actor, row["id"])


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


async def secretariat_request(
    request: web.Request, schema: dict[str, Any]
) -> tuple[Actor, asyncpg.Record, dict[str, Any], str | None]:
    """A request only the review's secretariat may make: who, on which review, with what
    (checked) body and Idempotency-Key."""
    actor = current_actor(request)
    row = await review_for(request, actor)
    if not runs_review(actor, row["region"]):
        raise Problem(403, "Only the review's secretariat may do this.")
    key = idempotency_key(request)
    body = await read_json(request, schema)
    return actor, row, body, key


async def command_once(
    request: web.Request,
    actor: Actor,
    body: dict[str, Any],
    key: str | None,
    act: Callable[[], Awaitable[Created]],
) -> web.Response:
    """Run a secretariat command once per Idempotency-Key: a retry gets the first answer
    (across the workflow's runs too), the same key with another body gets 422."""
    fingerprint = request_fingerprint(request, body)
    return await answer_once(request.app[POOL], actor, key, fingerprint, act)


def update_id_for(request: web.Request, actor: Actor, key: str | None) -> str:
    """The Update id of a command: stable across retries of one request."""
    return f"{request.path}:{actor.id}:{key}" if key else str(uuid.uuid4())


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
    actor, row, body, key = await secretariat_request(request, requests.EXTENSION)
    return await command_once(
        request, actor, body, key, lambda: _extend(request, actor, row, body, key)
    )


async def _extend(
    request: web.Request, actor: Actor, row: asyncpg.Record, body: dict[str, Any], key: str | None
) -> Created:
    problems: list[tuple[str, str]] = []
    until = _future_instant(body["until"], "/until", problems)
    country = body.get("country")
    if country is not None:
        # Checked here too, with every problem named at once; the workflow decides the rest.
        problems.extend(
            (pointer(refusal.field), refusal.message)
            for refusal in country_scope_refusals(
                Deadline(body["deadline"]), country, row["member_states"]
            )
        )
    if problems or until is None:
        raise invalid(problems)
    extension = Extension(Deadline(body["deadline"]), until, body["reason"], str(actor.id), country)
    await execute_update(
        request.app[TEMPORAL],
        request.app[UPDATE_GATE],
        row["id"],
        RegionalReviewWorkflow.extend,
        extension,
        update_id=update_id_for(request, actor, key),
    )
    return Created(200, await review_document(request, actor, row["id"]))


async def _phase_command(request: web.Request, schema: dict[str, Any], update: Any) -> web.Response:
    actor, row, body, key = await secretariat_request(request, schema)

    async def act() -> Created:
        await execute_update(
            request.app[TEMPORAL],
            request.app[UPDATE_GATE],
            row["id"],
            update,
            PhaseCommand(str(actor.id), body.get("reason")),
            update_id=update_id_for(request, actor, key),
        )
        return Created(200, await review_document(request, actor, row["id"]))

    return await command_once(request, actor, body, key, act)


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
    return await _phase_command(request, requests.ADVANCE, RegionalReviewWorkflow.advance)


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
    return await _phase_command(request, requests.CANCEL, RegionalReviewWorkflow.cancel)
