"""Consultation tasks' use cases: list mine, read one, answer it, hand it to a colleague.

Answers go straight to PostgreSQL rather than through the review's workflow: each is a
single conditional UPDATE (open, mine, before the deadline), which serialises with the
workflow's bulk expiry on the row lock, so a task is either answered or expired, never both,
and 10,000 answers cost the workflow nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from db.actors import colleague_of, free_colleagues
from db.events import insert_event
from db.reviews import open_calls_awaiting
from db.tasks import (
    Mine,
    complete,
    delegate,
    has_task,
    inbox,
    my_tasks,
    reviews_of_tasks,
    task,
)
from domain.access import Actor, may_act_on_task, may_read_task, own_subject
from domain.canonical import Digest
from domain.events import EventType, ReviewEvent
from domain.review import SubmissionKind
from i18n import N_, country_name, gettext
from services.engine import Deps
from services.refusals import Refused, conflict, forbidden, invalid, named_id, not_found
from services.reviews import TASK_STATUSES

# Event ids for task changes live in their own namespace, derived from what happened.
EVENT_NAMESPACE = uuid.UUID("6a1d3f0e-58b2-4f5e-8c7e-0b4a9d2c7e31")
# Bounds on what one look at a person's tasks costs, however many they have: tasks per page,
# reviews offered in its filter, calls for inputs listed, colleagues offered for a hand-over.
INBOX_PAGE = 100
FILTER_REVIEWS = 200
ASKED_LIMIT = 50
COLLEAGUES_LISTED = 200


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


async def task_page(
    deps: Deps,
    actor: Actor,
    *,
    status: str | None,
    review_id: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> dict[str, Any]:
    """A page of the tasks `actor` holds, in order of id, from after the task `after` on."""
    _check_status(status)
    rows = await my_tasks(deps.pool, Mine(actor.id, status, review_id, after, limit))
    next_after = str(rows[-1]["id"]) if len(rows) == limit else None
    return {"items": [task_document(r) for r in rows], "next_after": next_after}


def _check_status(status: str | None) -> None:
    if status is not None and status not in TASK_STATUSES:
        raise invalid(
            [
                (
                    "/status",
                    gettext("must be one of: %(choices)s") % {"choices": ", ".join(TASK_STATUSES)},
                )
            ]
        )


@dataclass(frozen=True)
class Inbox:
    """A page of a person's tasks as they read them (rows with their review's title), the
    cursor of the next page, and the reviews they hold tasks of (id, title)."""

    tasks: list[asyncpg.Record]
    next_after: str | None
    reviews: list[asyncpg.Record]


async def inbox_page(
    deps: Deps,
    actor: Actor,
    *,
    status: str | None,
    review_id: str | None,
    after: str | None,
    limit: int = INBOX_PAGE,
) -> Inbox:
    """The tasks `actor` holds, open ones first by due date (those past due leading), then
    the others, latest due first; a page of `limit` from after the task `after` on."""
    _check_status(status)
    cursor = None
    if after is not None:
        cursor = named_id(after, invalid([("/after", gettext("must be the id of a task"))]))
    rows = await inbox(deps.pool, Mine(actor.id, status, review_id, cursor, limit))
    next_after = str(rows[-1]["id"]) if len(rows) == limit else None
    return Inbox(rows, next_after, await reviews_of_tasks(deps.pool, actor.id, FILTER_REVIEWS))


@dataclass(frozen=True)
class Asked:
    """A submission a review asks of a person outside the tasks: its kind, for whom (a
    country's or an organisation's name), and by when."""

    review_id: str
    title: str
    kind: SubmissionKind
    party: str
    due_at: datetime


async def asked_of(deps: Deps, actor: Actor, limit: int = ASKED_LIMIT) -> list[Asked]:
    """What the reviews whose call for inputs is open still ask `actor` to send: its country's
    national report (a focal point) or its organisation's input (a stakeholder), until one is
    accepted; soonest due first."""
    own = own_subject(actor)
    if own is None or own[1] is None:
        return []
    kind, subject = SubmissionKind(own[0]), own[1]
    if kind is SubmissionKind.NATIONAL_REPORT:
        party = country_name(subject)
    else:
        party = actor.organisation or ""
    rows = await open_calls_awaiting(deps.pool, actor, kind.value, subject, limit)
    return [Asked(r["id"], r["title"], kind, party, r["due_at"]) for r in rows]


async def readable_task(deps: Deps, actor: Actor, task_id: str) -> asyncpg.Record:
    """The task, if `actor` is its assignee or runs its review; the same refusal for one that
    does not exist (or an id that names nothing)."""
    nothing = not_found(gettext("There is no task %(id)s you may read.") % {"id": repr(task_id)})
    found = await task(deps.pool, named_id(task_id, nothing))
    if found is None or not may_read_task(actor, found["assignee"], found["region"]):
        raise nothing
    return found


# What only a task's assignee does, as the pages and the API name it, said whole.
_ONLY_THE_ASSIGNEE = {
    "answers it": N_("Only the task's assignee answers it."),
    "hands it over": N_("Only the task's assignee hands it over."),
}


def _only_the_assignee(doing: str) -> str:
    sentence = _ONLY_THE_ASSIGNEE.get(doing)
    return gettext(sentence) if sentence else f"Only the task's assignee {doing}."


async def assigned_task(deps: Deps, actor: Actor, task_id: str, doing: str) -> asyncpg.Record:
    """The task `actor` holds; refused to the secretariat, who may read it but not act."""
    found = await readable_task(deps, actor, task_id)
    if not may_act_on_task(actor, found["assignee"]):
        raise forbidden(_only_the_assignee(doing))
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


def _refusal(row: asyncpg.Record, actor: Actor, response_hash: str | None = None) -> Refused:
    """Why a change to a task that was open and the actor's a moment ago did not happen."""
    if row["status"] == "completed" and response_hash not in (None, row["response_hash"]):
        return conflict(gettext("This task was already completed with a different response."))
    if row["status"] != "open":
        return conflict(gettext("This task is %(status)s.") % {"status": row["status"]})
    if row["assignee"] != actor.id:
        return conflict(gettext("This task was handed to someone else meanwhile."))
    return conflict(
        gettext("This task was due at %(due)s; it takes no answer now.")
        % {"due": row["due_at"].isoformat()}
    )


async def answer(
    deps: Deps, actor: Actor, found: asyncpg.Record, response: dict[str, Any]
) -> dict[str, Any]:
    """Complete the task `actor` holds (`found`) with `response` (valid by its schema); the
    same response again answers the same."""
    digest = Digest(response)
    async with deps.pool.acquire() as conn, conn.transaction():
        done = await complete(conn, found["id"], actor.id, response, digest.value)
        if done is not None:
            completed = _event(
                done,
                EventType.TASK_COMPLETED,
                actor,
                digest.value,
                endorsement=response["endorsement"],
            )
            await insert_event(conn, completed)
    if done is not None:
        return task_document(done)
    current = await task(deps.pool, found["id"])
    assert current is not None
    # The same answer again, even one stored before hashes were RFC 8785: done already.
    response_hash = digest.as_stored(current["response_hash"])
    if current["status"] == "completed" and current["response_hash"] == response_hash:
        return task_document(current)
    raise _refusal(current, actor, response_hash)


def _holds_a_task() -> Refused:
    return invalid([("/to", gettext("already has a task in this review"))])


async def _colleague(deps: Deps, actor: Actor, found: asyncpg.Record, to: str) -> Actor:
    """The colleague a task is handed to. Whether `to` is an account at all, or one of another
    party, gets one answer, so ids cannot be probed."""
    not_a_colleague = invalid([("/to", gettext("must be another account of your organisation"))])
    colleague = await colleague_of(deps.pool, actor, found["region"], named_id(to, not_a_colleague))
    if colleague is None:
        raise not_a_colleague
    if await has_task(deps.pool, found["review_id"], colleague.id):
        raise _holds_a_task()
    return colleague


async def colleagues(deps: Deps, actor: Actor, found: asyncpg.Record) -> list[Actor]:
    """Whom `actor` may hand its task `found` to: colleagues of its party (by name) who hold
    no task of the review."""
    return await free_colleagues(
        deps.pool, actor, found["region"], found["review_id"], COLLEAGUES_LISTED
    )


async def hand_over(
    deps: Deps, actor: Actor, found: asyncpg.Record, to: str, note: str | None
) -> dict[str, Any]:
    """Hand the task `actor` holds (`found`) to the colleague `to`."""
    colleague = await _colleague(deps, actor, found, to)
    async with deps.pool.acquire() as conn, conn.transaction():
        moved = await delegate(conn, found["id"], actor.id, colleague.id, note)
        if moved is not None:
            key = str(len(moved["delegations"]))
            event = _event(
                moved, EventType.TASK_DELEGATED, actor, key, to=str(colleague.id), note=note
            )
            await insert_event(conn, event)
    if moved is None:
        if await has_task(deps.pool, found["review_id"], colleague.id):
            raise _holds_a_task()  # another task of this review reached the colleague meanwhile
        current = await task(deps.pool, found["id"])
        assert current is not None
        raise _refusal(current, actor)
    return task_document(moved)
