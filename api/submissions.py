"""Submissions: a focal point's national report or a stakeholder's input, and reading them back.

A submission is checked here against its JSON Schema (422 with every problem), stored as
pending, then offered to the review's workflow as an Update, which accepts it (201, with its
version) or refuses it (409/403). The request id, and so the Update id, comes from the
`Idempotency-Key`, so a retried request finds its first answer and creates nothing twice.
"""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

import asyncpg
from aiohttp import web

from api import requests
from api.auth import current_actor
from api.bodies import body_problems, off_loop, path_uuid, raise_if_invalid, read_json
from api.idempotency import idempotency_key
from api.keys import POOL, SUBMISSIONS
from api.operations import (
    NOT_FOUND,
    UNAVAILABLE,
    VERSION,
    answer,
    component,
    operation,
    query_parameter,
    shared_response,
)
from api.problems import Problem
from api.reviews import review_for
from api.updates import STATUS_OF_REFUSAL, refusal_problem
from db.events import insert_event
from db.reviews import visible_review
from db.submissions import (
    accepted_versions,
    record_rejection,
    review_submissions,
    store_pending,
    submission,
)
from domain.access import (
    KIND_OF_ROLE,
    Actor,
    may_read_submission,
    own_subject,
    runs_review,
    submission_subject,
)
from domain.canonical import json_hash
from domain.events import EventType, ReviewEvent
from domain.intake import closed_for_good
from domain.refusal import Refusal, RefusalKind
from domain.review import Phase, SubmissionKind
from workflows.models import SubmissionAccepted, SubmissionRef

routes = web.RouteTableDef()

# Request ids derived from idempotency keys live in their own UUID namespace.
REQUEST_NAMESPACE = uuid.UUID("1f0c7a52-7d0e-4b8e-9a51-2c3f7f6b9e10")


def _receipt(row: asyncpg.Record, accepted: SubmissionAccepted) -> dict[str, Any]:
    return {
        "id": accepted.submission_id,
        "review_id": row["review_id"],
        "kind": row["kind"],
        "subject": row["subject"],
        "version": accepted.version,
        "late": accepted.late,
        "status": "accepted",
    }


async def _decide(request: web.Request, actor: Actor, stored: asyncpg.Record) -> web.Response:
    """Offer a pending request to the workflow (with whatever arrives with it) and record what
    it decided."""
    ref = SubmissionRef(
        str(stored["request_id"]), SubmissionKind(stored["kind"]), stored["subject"], str(actor.id)
    )
    try:
        outcome = await request.app[SUBMISSIONS].submit(stored["review_id"], ref)
        if outcome.accepted is None:
            raise Problem(
                STATUS_OF_REFUSAL[outcome.refusal_type or RefusalKind.WRONG_PHASE], outcome.refusal
            )
    except Problem as problem:
        if problem.status in (403, 409):
            await _record_refusal(request.app[POOL], actor, stored, problem)
        raise
    return web.json_response(_receipt(stored, outcome.accepted), status=201)


async def _record_refusal(
    pool: asyncpg.Pool, actor: Actor, stored: asyncpg.Record, problem: Problem
) -> None:
    """A refused submission stays on record, flagged, with the answer its submitter got (and
    without its content). Nothing is recorded for a request accepted meanwhile (another
    request with the same key may have carried it into the review first)."""
    if await record_rejection(pool, stored["request_id"], problem.status, problem.detail or ""):
        await _announce_refusal(pool, actor, stored, problem)


async def _announce_refusal(
    pool: asyncpg.Pool, actor: Actor, stored: asyncpg.Record, problem: Problem
) -> None:
    """The `submission.rejected` event (and so its mail and webhook deliveries): one per
    submitter, review and day, however many requests were refused; each stays on record as a
    rejected request."""
    day = stored["received_at"].astimezone(UTC).date().isoformat()
    await insert_event(
        pool,
        ReviewEvent(
            id=str(
                uuid.uuid5(REQUEST_NAMESPACE, f"rejected:{stored['review_id']}:{actor.id}:{day}")
            ),
            review_id=stored["review_id"],
            type=EventType.SUBMISSION_REJECTED,
            at=stored["received_at"],
            actor_id=str(actor.id),
            data={
                "kind": stored["kind"],
                "subject": stored["subject"],
                "reason": problem.detail,
                # A stakeholder's subject is its organisation's id; the notice names it.
                **({"organisation": actor.organisation} if actor.organisation else {}),
            },
        ),
    )


def _certain_refusal(row: asyncpg.Record) -> Problem | None:
    """The refusal the review would answer, when its phase alone decides it.

    The reviews row may lag the workflow's phase but is never ahead of it, and a review past
    the consultation never takes submissions again. Earlier phases depend on more (a phase
    change on its way, a member State's extension, the late policy), so the workflow decides
    those.
    """
    refusal = closed_for_good(Phase(row["phase"]))
    return None if refusal is None else refusal_problem(refusal)


def _replay(stored: asyncpg.Record) -> web.Response:
    """The first answer to a request sent again."""
    if stored["status"] == "accepted":
        accepted = SubmissionAccepted(
            str(stored["submission_id"]), stored["version"], stored["late"]
        )
        return web.json_response(_receipt(stored, accepted), status=201)
    rejection = stored["rejection"]
    raise Problem(rejection["status"], rejection["detail"])


@routes.post("/v1/reviews/{id}/submissions")
@operation(
    "Submissions",
    "submit",
    "Submit a national report or a stakeholder input",
    {
        "201": answer("Accepted; a resubmission is a new version.", component("SubmissionReceipt")),
        "403": shared_response(
            "Forbidden",
            "Only focal points (national_report) and stakeholders"
            " (stakeholder_input) submit, each for its own country or organisation,"
            " to reviews it takes part in.",
        ),
        "404": NOT_FOUND,
        "409": shared_response(
            "Conflict", "The review's phase does not take this submission (now)."
        ),
        "422": shared_response(
            "Unprocessable",
            "The body or the document is not valid: `errors` lists every problem,"
            " each with a JSON Pointer into the request body.",
        ),
        "503": UNAVAILABLE,
    },
    description="`content` is checked against the schema named by `kind`"
    " (GET /v1/schemas/{name}). A focal point submits for its own country, a"
    " stakeholder for its own organisation.",
    parameters=("ReviewId", "IdempotencyKey"),
    body="NewSubmission",
)
async def submit(request: web.Request) -> web.Response:
    actor = current_actor(request)
    kind = KIND_OF_ROLE.get(actor.role)
    if kind is None:
        raise Problem(403, "Only focal points and stakeholders submit.")
    row = await review_for(request, actor)
    key = idempotency_key(request)
    body = await read_json(request)
    if isinstance(body, dict) and body.get("kind") in {k.value for k in SubmissionKind} - {kind}:
        raise Problem(403, f"A {actor.role} submits a {kind.value} only.")
    # Off the loop: a large document must not hold up every other request while it is checked.
    raise_if_invalid(
        await off_loop(body_problems, body, requests.SUBMISSION, "content", kind.value)
    )
    subject = submission_subject(actor, body["content"], row["region"], row["member_states"])
    if isinstance(subject, Refusal):
        raise refusal_problem(subject)
    fingerprint = await off_loop(json_hash, body)
    request_id = (
        uuid.uuid5(REQUEST_NAMESPACE, f"{actor.id}:{row['id']}:{key}") if key else uuid.uuid4()
    )
    # A request certainly refused is recorded as refused without its content, never offered.
    refusal = _certain_refusal(row)
    stored, inserted = await store_pending(
        request.app[POOL],
        request_id=request_id,
        review_id=row["id"],
        kind=kind.value,
        subject=subject,
        content=body["content"] if refusal is None else None,
        fingerprint=fingerprint,
        submitted_by=actor.id,
        organisation=actor.organisation,
        rejection=None if refusal is None else {"status": refusal.status, "detail": refusal.detail},
    )
    if stored["fingerprint"] != fingerprint:
        raise Problem(
            422,
            "This Idempotency-Key was already used for a different submission.",
            errors=[{"pointer": "", "message": "Idempotency-Key reused with another body"}],
        )
    if refusal is not None and inserted:
        await _announce_refusal(request.app[POOL], actor, stored, refusal)
        raise refusal
    if stored["status"] != "pending":
        return _replay(stored)
    return await _decide(request, actor, stored)


@routes.get("/v1/reviews/{id}/submissions")
@operation(
    "Submissions",
    "listSubmissions",
    "The review's submissions the actor may see",
    {
        "200": answer(
            "The secretariat sees all; a submitter sees its own.",
            component("SubmissionList"),
        ),
        "403": shared_response("Forbidden", "Only the secretariat and the submitters."),
        "404": NOT_FOUND,
    },
    parameters=("ReviewId",),
)
async def list_submissions(request: web.Request) -> web.Response:
    actor = current_actor(request)
    row = await review_for(request, actor)
    kind: str | None
    subject: str | None
    if runs_review(actor, row["region"]):
        kind, subject = None, None
    elif (own := own_subject(actor)) is not None:
        kind, subject = own
    else:
        raise Problem(403, "Only the secretariat and the submitters read submissions.")
    rows = await review_submissions(request.app[POOL], row["id"], kind=kind, subject=subject)
    items = [
        {
            "id": str(r["id"]),
            "kind": r["kind"],
            "subject": r["subject"],
            "latest_version": r["latest_version"],
            "late": r["late"],
            "updated_at": r["updated_at"].isoformat(),
        }
        for r in rows
    ]
    return web.json_response({"items": items})


async def _readable_submission(request: web.Request, actor: Actor) -> asyncpg.Record:
    not_found = Problem(404, f"There is no submission {request.match_info['id']!r} you may read.")
    submission_id = path_uuid(request, not_found)
    found = await submission(request.app[POOL], submission_id)
    if found is None or found["latest_version"] == 0:
        raise not_found
    review_row = await visible_review(request.app[POOL], actor, found["review_id"])
    allowed = review_row is not None and may_read_submission(
        actor, review_row["region"], found["kind"], found["subject"]
    )
    if not allowed:
        raise not_found
    return found


@routes.get("/v1/submissions/{id}")
@operation(
    "Submissions",
    "getSubmission",
    "A submission: the latest version or the one asked for",
    {"200": answer("The submission.", component("Submission")), "404": NOT_FOUND},
    parameters=(
        "SubmissionId",
        query_parameter("version", VERSION, "An earlier version; the latest when absent."),
    ),
)
async def read_submission(request: web.Request) -> web.Response:
    actor = current_actor(request)
    found = await _readable_submission(request, actor)
    versions = await accepted_versions(request.app[POOL], found["id"])
    wanted = request.query.get("version")
    chosen = (
        versions[-1]
        if wanted is None
        else next((v for v in versions if str(v["version"]) == wanted), None)
    )
    if chosen is None:
        raise Problem(404, f"This submission has no version {wanted!r}.")
    return web.json_response(
        {
            "id": str(found["id"]),
            "review_id": found["review_id"],
            "kind": found["kind"],
            "subject": found["subject"],
            "version": chosen["version"],
            "late": chosen["late"],
            "received_at": chosen["received_at"].isoformat(),
            "submitted_by": str(chosen["submitted_by"]),
            "content": chosen["content"],
            "versions": [
                {
                    "version": v["version"],
                    "late": v["late"],
                    "received_at": v["received_at"].isoformat(),
                }
                for v in versions
            ],
        }
    )
