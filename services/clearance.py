"""Drafting and clearance within a State: the use cases behind the team of a national report
(drafters, the clearing officer), the history of its draft, and its clearance.

The rules are `domain.clearance`; this module reads and writes what they judge. A drafter is
an account of the role `drafter` that a focal point invites (by name and email) for its own
country: it signs in by the link mailed to it, drafts its country's national report in the
reviews its country takes part in, and sends nothing. Clearance events go to the review's
audit trail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg

from db import clearance as store
from db.actors import new_token
from db.events import insert_event
from db.pool import Connection, Executor
from domain import clearance as rules
from domain.access import Actor
from domain.canonical import Digest, json_hash
from domain.events import EventType, ReviewEvent
from domain.refusal import Refusal
from domain.review import SubmissionKind
from i18n import gettext
from notifications.addresses import address_problem, name_problem
from schemas import problems_in
from services import once
from services.accounts import store_account
from services.engine import Deps
from services.once import Created
from services.refusals import (
    Kind,
    Refused,
    forbidden,
    invalid,
    named_id,
    not_found,
    refused_by_rule,
)
from services.reviews import visible

NATIONAL = SubmissionKind.NATIONAL_REPORT.value
# The bodies of the team's and the clearance's requests, as the API declares and checks them.
NEW_DRAFTER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "email"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"},
        "email": {"type": "string", "format": "email", "maxLength": 320},
    },
}
CLEARING_OFFICER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["officer"],
    "properties": {
        "officer": {
            "anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}],
            "description": "A focal point of the country or a drafter on its team; null: none,"
            " so a focal point clears.",
        }
    },
}
CLEARANCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["content_hash"],
    "properties": {
        "content_hash": {
            "type": "string",
            "pattern": "^[0-9a-f]{64}$",
            "description": "The content hash of the revision read: the latest revision's.",
        }
    },
}
# Clearance events' ids are derived from the draft and revision, so each is recorded once.
EVENT_NAMESPACE = uuid.UUID("6b0e5f8a-3c0d-4d7e-9a55-0d3c1f2e7b41")


@dataclass(frozen=True)
class Drafting:
    """Who works on which country's national report of which review."""

    actor: Actor
    review: asyncpg.Record
    country: str

    @property
    def draft(self) -> tuple[str, str, str]:
        return draft_of(self.review["id"], self.country)


def draft_of(review_id: str, country: str) -> tuple[str, str, str]:
    """The review, kind and subject a country's national report's draft is kept under."""
    return review_id, NATIONAL, country


async def drafting(deps: Deps, actor: Actor, review_id: str) -> Drafting:
    """`actor`'s country's national report in the review: for its focal points and drafters,
    in reviews their country takes part in (anyone else is refused, or told there is none)."""
    country = rules.drafting_country(actor)
    if country is None:
        raise forbidden(gettext("Only a member State's focal point and drafters draft its report."))
    review = await visible(deps, actor, review_id)
    return Drafting(actor, review, country)


async def _members(
    conn: Executor, review_id: str, country: str
) -> tuple[list[Actor], uuid.UUID | None]:
    """The drafters on the country's team for the review, and the named clearing officer."""
    return await store.drafters(conn, review_id, country), await store.officer(
        conn, review_id, country
    )


async def team(conn: Executor, review_id: str, country: str) -> rules.Team:
    drafters, officer = await _members(conn, review_id, country)
    return rules.Team(country, tuple(d.id for d in drafters), officer)


def _latest(row: asyncpg.Record | None) -> rules.Latest | None:
    if row is None:
        return None
    return rules.Latest(
        number=row["number"],
        content_hash=row["content_hash"],
        requested=row["clearance_requested_at"] is not None,
        cleared=row["cleared_at"] is not None,
        earlier_cleared=row["earlier_cleared"],
        sent=row["sent"],
    )


def _revision(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "number": row["number"],
        "content_hash": row["content_hash"],
        "saved_at": row["saved_at"].isoformat(),
        "saved_by": {"id": str(row["saved_by"]), "name": row["saved_by_name"]},
        "clearance_requested_at": _iso(row["clearance_requested_at"]),
        "cleared_at": _iso(row["cleared_at"]),
        "cleared_by": {"id": str(row["cleared_by"]), "name": row["cleared_by_name"]}
        if row["cleared_by"]
        else None,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _person(actor: Actor) -> dict[str, Any]:
    return {"id": str(actor.id), "name": actor.name, "email": actor.email}


# ---- the team -------------------------------------------------------------------------------


async def team_document(deps: Deps, actor: Actor, review_id: str) -> dict[str, Any]:
    """The country's team for the review, where its draft stands, and what `actor` may do."""
    work = await drafting(deps, actor, review_id)
    async with deps.pool.acquire() as conn:
        members, officer_id = await _members(conn, work.review["id"], work.country)
        officer = await store.active_actor(conn, officer_id) if officer_id else None
        latest_row = await store.latest(conn, work.draft)
    the_team = rules.Team(work.country, tuple(m.id for m in members), officer_id)
    latest = _latest(latest_row)
    return {
        "review_id": work.review["id"],
        "country": work.country,
        "drafters": [_person(m) for m in members],
        "clearing_officer": _person(officer) if officer else None,
        "clearance_required": the_team.exists,
        "status": rules.status(latest).value,
        "latest": _revision(latest_row) if latest_row else None,
        "you": {
            "manage_team": rules.team_refusal(actor) is None,
            "clear": rules.may_clear(actor, the_team),
        },
    }


async def managing(deps: Deps, actor: Actor, review_id: str) -> Drafting:
    """The draft whose team `actor` manages: a focal point's, of a review it sees."""
    if (refusal := rules.team_refusal(actor)) is not None:
        await visible(deps, actor, review_id)  # a review not seen is not found first
        raise refused_by_rule(refusal)
    return await drafting(deps, actor, review_id)


def _checked(schema: dict[str, Any], body: Any) -> dict[str, Any]:
    """`body` if it is valid by `schema`; else every problem, each by its pointer."""
    if problems := [(p.pointer, p.message) for p in problems_in(schema, body)]:
        raise invalid(problems)
    return cast(dict[str, Any], body)


def _new_drafter(body: Any) -> tuple[str, str]:
    """The new drafter's name and email, if valid and fit to address mail to."""
    valid = _checked(NEW_DRAFTER_SCHEMA, body)
    name, email = valid["name"].strip(), valid["email"].strip()
    found = [("/name", name_problem(name)), ("/email", address_problem(email))]
    if problems := [(pointer, problem) for pointer, problem in found if problem is not None]:
        raise invalid(problems)
    return name, email


async def add_drafter(
    deps: Deps, actor: Actor, review_id: str, body: Any, key: str | None
) -> tuple[dict[str, Any], Actor | None]:
    """Put a colleague of `actor`'s country on its team for the review, once per key: a
    drafter already drafting for the country (by its email) is added as it is, anyone else gets
    a new drafter account (the focal point's regions). The drafter's description, and the
    account if this request made it (to mail it its invitation)."""
    work = await managing(deps, actor, review_id)
    name, email = _new_drafter(body)
    made: list[Actor] = []

    async def create(conn: Connection) -> Created:
        drafter = await store.drafter_by_email(conn, work.country, email)
        if drafter is None:
            drafter = Actor(
                id=uuid.uuid4(),
                name=name,
                role=rules.DRAFTER,
                email=email,
                regions=actor.regions,
                country=work.country,
                language=actor.language,
            )
            made.append(await store_account(conn, actor, drafter, new_token(), actor.id))
        await store.add_to_team(conn, work.review["id"], work.country, drafter.id, actor.id)
        return Created(201, _person(drafter))

    request = once.fingerprint("POST", f"/v1/reviews/{review_id}/team/drafters", body)
    answer = (await once.created_once(deps.pool, actor, key, request, create)).body
    return answer, made[-1] if made and answer["id"] == str(made[-1].id) else None


async def remove_drafter(deps: Deps, actor: Actor, review_id: str, drafter_id: str) -> None:
    """Take a drafter off the country's team for the review: it no longer sees the review;
    what it saved stays in the draft's history."""
    work = await managing(deps, actor, review_id)
    nothing = not_found(
        gettext("There is no drafter %(id)s on your country's team.") % {"id": repr(drafter_id)}
    )
    target = named_id(drafter_id, nothing)
    if not await store.remove_from_team(deps.pool, work.review["id"], work.country, target):
        raise nothing


async def name_officer(deps: Deps, actor: Actor, review_id: str, body: Any) -> dict[str, Any]:
    """Name the clearing officer of the country's report in the review (null: none, so the
    focal point clears)."""
    work = await managing(deps, actor, review_id)
    chosen = _checked(CLEARING_OFFICER_SCHEMA, body)["officer"]
    officer_id = None if chosen is None else uuid.UUID(chosen)
    if officer_id is not None:
        candidate = await store.active_actor(deps.pool, officer_id)
        the_team = await team(deps.pool, work.review["id"], work.country)
        if (refusal := rules.officer_refusal(actor, candidate, the_team)) is not None:
            raise refused_by_rule(refusal)
    await store.name_officer(deps.pool, work.review["id"], work.country, officer_id, actor.id)
    return await team_document(deps, actor, review_id)


# ---- the draft's history ----------------------------------------------------------------------


async def keep_revision(
    conn: Executor, draft: tuple[str, str, str], content: dict[str, Any], by: uuid.UUID
) -> None:
    """Keep a national report's saved draft as a revision (other kinds keep none)."""
    if draft[1] == NATIONAL:
        await store.keep_revision(conn, draft, content, json_hash(content), by)


async def revision_list(deps: Deps, actor: Actor, review_id: str) -> list[dict[str, Any]]:
    work = await drafting(deps, actor, review_id)
    return [_revision(row) for row in await store.revisions(deps.pool, work.draft)]


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


async def revision_document(
    deps: Deps, actor: Actor, review_id: str, number: str
) -> dict[str, Any]:
    work = await drafting(deps, actor, review_id)
    wanted = _number(number)
    row = await store.revision(deps.pool, work.draft, wanted) if wanted else None
    if row is None:
        raise not_found(
            gettext("This draft has no revision %(number)s.") % {"number": repr(number)}
        )
    return {**_revision(row), "content": row["content"]}


# ---- clearance ------------------------------------------------------------------------------


async def _event(conn: Executor, work: Drafting, kind: EventType, row: asyncpg.Record) -> None:
    key = f"{kind}:{work.review['id']}:{work.country}:{row['number']}"
    await insert_event(
        conn,
        ReviewEvent(
            id=str(uuid.uuid5(EVENT_NAMESPACE, key)),
            review_id=work.review["id"],
            type=kind,
            at=datetime.now(UTC),
            actor_id=str(work.actor.id),
            data={
                "country": work.country,
                "revision": row["number"],
                "content_hash": row["content_hash"],
            },
        ),
    )


async def request_clearance(deps: Deps, actor: Actor, review_id: str) -> dict[str, Any]:
    """Send the draft as it is now for clearance: the latest revision, marked as asked."""
    work = await drafting(deps, actor, review_id)
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await store.latest(conn, work.draft)
        if (refusal := rules.request_refusal(_latest(row))) is not None:
            raise refused_by_rule(refusal)
        assert row is not None  # request_refusal refuses a missing draft
        if await store.mark(conn, work.draft, row["number"], "requested", actor.id):
            await _event(conn, work, EventType.CLEARANCE_REQUESTED, row)
    return await team_document(deps, actor, review_id)


async def clear(deps: Deps, actor: Actor, review_id: str, body: Any) -> dict[str, Any]:
    """Clear the draft's latest revision, named by its content hash (so what is cleared is
    what the officer read)."""
    work = await drafting(deps, actor, review_id)
    named = _checked(CLEARANCE_SCHEMA, body)["content_hash"]
    async with deps.pool.acquire() as conn, conn.transaction():
        the_team = await team(conn, work.review["id"], work.country)
        row = await store.latest(conn, work.draft)
        if (refusal := rules.clear_refusal(actor, the_team, _latest(row), named)) is not None:
            raise refused_by_rule(refusal)
        assert row is not None  # clear_refusal refuses a missing draft
        if await store.mark(conn, work.draft, row["number"], "cleared", actor.id):
            await _event(conn, work, EventType.DRAFT_CLEARED, row)
    return await team_document(deps, actor, review_id)


class NotCleared(Refused):
    """A national report refused because its country's team has not cleared this content: the
    pages say so in their own words rather than as a phase's refusal."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(Kind.CONFLICT, refusal.message)


async def check_cleared(
    conn: Executor, review: asyncpg.Record, country: str, content: dict[str, Any]
) -> None:
    """Raise NotCleared when a national report may not be sent yet (`domain.clearance`)."""
    the_team = await team(conn, review["id"], country)
    if not the_team.exists:
        return
    latest = _latest(await store.latest(conn, draft_of(review["id"], country)))
    # Compared in the form the cleared revision's hash was stored with.
    submitted = Digest(content).as_stored(latest.content_hash if latest else None)
    if refusal := rules.submission_refusal(the_team, latest, submitted):
        raise NotCleared(refusal)
