"""The report's decisions, the secretariat's: approve it (publishing it and ending the review),
or send it back with a change request (a new version is compiled)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from db.reports import drop_change_request, insert_change_request, latest_version, report
from domain.access import Actor
from domain.phases import report_decision_refusal
from domain.review import Phase
from services import once
from services.engine import Deps
from services.once import Created
from services.refusals import Kind, Refused, refused_by_rule
from services.reviews import run_by

# Change requests named by an Idempotency-Key live in their own UUID namespace.
CHANGE_REQUEST_NAMESPACE = uuid.UUID("0b6f3c1e-2a4d-4e9b-8f7a-5c3d2e1f0a9b")
# Refusals after which the change request stored for the decision is withdrawn: the review
# said no, so nothing asked for changes. (Any other failure may still be decided later.)
DECLINED = (Kind.FORBIDDEN, Kind.CONFLICT, Kind.INVALID)


def _require_a_report_awaiting_decision(row: asyncpg.Record) -> None:
    if refusal := report_decision_refusal(Phase(row["phase"])):
        raise refused_by_rule(refusal)


async def _version_document(deps: Deps, review_id: str, version: int) -> Created:
    found = await report(deps.pool, review_id, version=version, published_only=False)
    assert found is not None  # the workflow compiled or published it before answering
    return Created(
        200,
        {
            "version": found["version"],
            "content_hash": found["content_hash"],
            "status": found["status"],
        },
    )


async def _decided_once(
    deps: Deps,
    actor: Actor,
    review_id: str,
    command: str,
    body: dict[str, Any],
    key: str | None,
    decide: Callable[[asyncpg.Record], Awaitable[int]],
) -> dict[str, Any]:
    """Run a decision once per key (`decide` gets the review's row and answers the version
    it leaves); the version as it is afterwards."""
    row = await run_by(deps, actor, review_id)

    async def run() -> Created:
        _require_a_report_awaiting_decision(row)
        return await _version_document(deps, review_id, await decide(row))

    request = once.fingerprint("POST", f"/v1/reviews/{review_id}/report/{command}", body)
    return (await once.answered_once(deps.pool, actor, key, request, run)).body


async def approve(
    deps: Deps, actor: Actor, review_id: str, body: dict[str, Any], key: str | None
) -> dict[str, Any]:
    """Publish the report awaiting a decision; the review ends."""

    async def decide(_: asyncpg.Record) -> int:
        version = await latest_version(deps.pool, review_id)
        # Approving a version twice is one decision, whoever retries it.
        update_id = f"approve:{actor.id}:{key}" if key else f"approve:{review_id}:{version}"
        return await deps.reviews.approve(
            review_id, actor_id=str(actor.id), note=body.get("note"), update_id=update_id
        )

    return await _decided_once(deps, actor, review_id, "approve", body, key, decide)


async def request_changes(
    deps: Deps, actor: Actor, review_id: str, body: dict[str, Any], key: str | None
) -> dict[str, Any]:
    """Store a change request and have the report compiled again with it."""

    async def decide(_: asyncpg.Record) -> int:
        request_id = (
            uuid.uuid5(CHANGE_REQUEST_NAMESPACE, f"{actor.id}:{review_id}:{key}")
            if key
            else uuid.uuid4()
        )
        version = await latest_version(deps.pool, review_id)
        stored_now = await insert_change_request(
            deps.pool, request_id, review_id, version, body, actor.id
        )
        try:
            return await deps.reviews.request_changes(
                review_id,
                actor_id=str(actor.id),
                note=body["note"],
                change_request_id=str(request_id),
                update_id=f"request-changes:{request_id}",
            )
        except Refused as refused:
            if stored_now and refused.kind in DECLINED:
                await drop_change_request(deps.pool, request_id)
            raise

    return await _decided_once(deps, actor, review_id, "request-changes", body, key, decide)
