"""The review's report: read a version of it; and the secretariat's decisions: approve it
(publishing it and ending the review), or send it back with a change request (a new version
is compiled)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from db.reports import (
    drop_change_request,
    insert_change_request,
    keep_pdf,
    keep_rendering_pdf,
    latest_version,
    report,
    stored_pdf,
    stored_rendering_pdf,
    versions,
)
from db.reports import rendering as stored_rendering
from domain.access import Actor
from domain.phases import report_decision_refusal
from domain.review import Phase
from i18n import gettext
from reports.pdf import render_pdf_off_loop
from services.approvals import decided_by, is_named_approver, may_decide
from services.engine import Deps
from services.once import Created
from services.refusals import Kind, Refused, not_found, refused_by_rule
from services.reviews import Command, command_once

# Change requests named by an Idempotency-Key live in their own UUID namespace.
CHANGE_REQUEST_NAMESPACE = uuid.UUID("0b6f3c1e-2a4d-4e9b-8f7a-5c3d2e1f0a9b")
# Refusals after which the change request stored for the decision is withdrawn: the review
# said no, so nothing asked for changes. (Any other failure may still be decided later.)
DECLINED = (Kind.FORBIDDEN, Kind.CONFLICT, Kind.INVALID)


async def readable_report(
    deps: Deps, actor: Actor, review: asyncpg.Record, version: int | None
) -> asyncpg.Record:
    """The version of the review's report `actor` may read: `version`, else the published
    one, else (for the secretariat) the latest draft."""
    # Drafts are the secretariat's and the approvers'; everyone else reads the published
    # report only.
    found = await report(
        deps.pool,
        review["id"],
        version=version,
        published_only=not await may_decide(deps.pool, actor, review),
    )
    if found is None:
        raise not_found(gettext("There is no report of this review that you may read yet."))
    return found


async def report_versions(deps: Deps, actor: Actor, review: asyncpg.Record) -> list[asyncpg.Record]:
    """Every version of the review's report, newest first, with the change request each was
    compiled for: drafts included, so for the review's secretariat and approvers only."""
    if not await may_decide(deps.pool, actor, review):
        raise not_found(gettext("There is no report of this review that you may read yet."))
    return await versions(deps.pool, review["id"])


@dataclass(frozen=True)
class Rendering:
    """A version of the report in one of its languages: its HTML and Markdown as stored."""

    language: str
    html: str
    markdown: str


def reader_language(found: asyncpg.Record, reader: str | None) -> str:
    """The language of the version `found` to give a reader of `reader`: that one when the
    version is written in it, else the version's first."""
    languages: list[str] = found["languages"]
    return reader if reader in languages else languages[0]


async def rendering(
    deps: Deps, review_id: str, found: asyncpg.Record, language: str | None = None
) -> Rendering | None:
    """The version `found` (a row `report` read) in `language` (by default its first); None
    when it is not written in that language."""
    if language is None or language == found["language"]:
        return Rendering(found["language"], found["html"], found["markdown"])
    row = await stored_rendering(deps.pool, review_id, found["version"], language)
    return Rendering(language, row["html"], row["markdown"]) if row else None


async def report_pdf(
    deps: Deps, review_id: str, found: asyncpg.Record, language: str | None = None
) -> bytes:
    """The PDF of the version `found` (a row `report` read) in `language` (by default its
    first, which the version must be written in): the one stored when it was compiled; for a
    version compiled before PDFs were, one rendered from its stored HTML and stored, once, so
    that every later read has the same bytes."""
    version = found["version"]
    if language is None or language == found["language"]:
        stored = await stored_pdf(deps.pool, review_id, version)
        if stored is not None:
            return stored
        rendered = await render_pdf_off_loop(found["html"], found["language"])
        return await keep_pdf(deps.pool, review_id, version, rendered)
    stored = await stored_rendering_pdf(deps.pool, review_id, version, language)
    if stored is not None:
        return stored
    written = await rendering(deps, review_id, found, language)
    assert written is not None  # the caller asks for one of the version's languages
    rendered = await render_pdf_off_loop(written.html, language)
    return await keep_rendering_pdf(deps.pool, review_id, version, language, rendered)


def _require_a_report_awaiting_decision(row: asyncpg.Record) -> None:
    if refusal := report_decision_refusal(Phase(row["phase"])):
        raise refused_by_rule(refusal)


async def _decided_once(
    deps: Deps, actor: Actor, command: Command, name: str, decide: Callable[[], Awaitable[int]]
) -> dict[str, Any]:
    """Run a decision once per key (`decide` answers the version it leaves); the version as
    it is afterwards."""

    async def run(row: asyncpg.Record) -> Created:
        _require_a_report_awaiting_decision(row)
        version = await decide()
        found = await report(deps.pool, command.review_id, version=version, published_only=False)
        assert found is not None  # the workflow compiled or published it before answering
        return Created(
            200,
            {
                "version": found["version"],
                "content_hash": found["content_hash"],
                "status": found["status"],
            },
        )

    return await command_once(deps, actor, command, f"report/{name}", run, decided_by)


async def approve(deps: Deps, actor: Actor, command: Command) -> dict[str, Any]:
    """Publish the report awaiting a decision; the review ends."""
    review_id, key = command.review_id, command.key

    async def decide() -> int:
        version = await latest_version(deps.pool, review_id)
        # Approving a version twice is one decision, whoever retries it; in a chain, one
        # decision per approver.
        update_id = f"approve:{actor.id}:{key}" if key else f"approve:{review_id}:{version}"
        if not key and await is_named_approver(deps.pool, review_id, actor):
            update_id = f"{update_id}:{actor.id}"
        return await deps.reviews.approve(
            review_id, actor_id=str(actor.id), note=command.body.get("note"), update_id=update_id
        )

    return await _decided_once(deps, actor, command, "approve", decide)


async def request_changes(
    deps: Deps, actor: Actor, command: Command, *, await_version: bool = True
) -> dict[str, Any]:
    """Store a change request and have the report compiled again with it: the new version;
    without `await_version`, the version the changes were asked to, as soon as the review has
    taken the request (the new version is compiled after)."""
    review_id, body, key = command.review_id, command.body, command.key

    async def decide() -> int:
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
            compiled = await deps.reviews.request_changes(
                review_id,
                actor_id=str(actor.id),
                note=body["note"],
                change_request_id=str(request_id),
                update_id=f"request-changes:{request_id}",
                compiled=await_version,
            )
        except Refused as refused:
            if stored_now and refused.kind in DECLINED:
                await drop_change_request(deps.pool, request_id)
            raise
        return version if compiled is None else compiled

    return await _decided_once(deps, actor, command, "request-changes", decide)
