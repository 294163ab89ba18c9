"""Consultation tasks: opened in bulk, read, answered, handed over, reminded and closed, each
change checked in one statement."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from db.pool import Connection, Executor

_COLUMNS = """t.id, t.review_id, t.kind, t.invitee, t.assignee, t.organisation, t.stakeholder_category,
              t.country, t.due_at, t.status, t.response, t.response_hash, t.completed_at,
              t.completed_by, t.reminders_sent, t.delegations, t.created_at"""


def holds_task(review_id: str, actor_id: str) -> str:
    """SQL: whether the actor (an expression) holds a task of the review (another), as
    assignee; such an actor takes no second task of that review."""
    return f"EXISTS (SELECT 1 FROM tasks o WHERE o.review_id = {review_id} AND o.assignee = {actor_id})"


async def task(conn: Executor, task_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""SELECT {_COLUMNS}, r.region, r.title FROM tasks t JOIN reviews r ON r.id = t.review_id
            WHERE t.id = $1""",
        task_id,
    )


@dataclass(frozen=True)
class Mine:
    """Which of the tasks an assignee holds are asked for: of a status, of a review (None for
    any), a page of `limit` from after the task `after` on."""

    assignee: uuid.UUID
    status: str | None
    review_id: str | None
    after: uuid.UUID | None
    limit: int

    def args(self) -> tuple[Any, ...]:
        return self.assignee, self.status, self.review_id, self.after, self.limit


# The tasks of `Mine` ($1 to $3), before paging.
_MINE = """t.assignee = $1 AND ($2::text IS NULL OR t.status = $2)
           AND ($3::text IS NULL OR t.review_id = $3)"""


async def my_tasks(conn: Executor, mine: Mine) -> list[asyncpg.Record]:
    """In order of id."""
    return await conn.fetch(
        f"""SELECT {_COLUMNS} FROM tasks t WHERE {_MINE} AND ($4::uuid IS NULL OR t.id > $4)
            ORDER BY t.id LIMIT $5""",
        *mine.args(),
    )


async def inbox(conn: Executor, mine: Mine) -> list[asyncpg.Record]:
    """With their review's title: the open ones first, soonest due first (so those past due
    lead), then the others, latest due first; from after the task `after` on (none when
    `after` is not one of them). The work is bounded by the person's own tasks
    (tasks_by_assignee)."""
    return await conn.fetch(
        f"""WITH mine AS (
                SELECT {_COLUMNS}, r.title, t.status <> 'open' AS closed,
                       CASE WHEN t.status = 'open' THEN 1 ELSE -1 END
                       * extract(epoch FROM t.due_at) AS due_key
                FROM tasks t JOIN reviews r ON r.id = t.review_id WHERE {_MINE})
            SELECT m.* FROM mine m
            WHERE $4::uuid IS NULL
               OR (m.closed, m.due_key, m.id) > (SELECT a.closed, a.due_key, a.id FROM mine a
                                                 WHERE a.id = $4)
            ORDER BY m.closed, m.due_key, m.id LIMIT $5""",
        *mine.args(),
    )


async def reviews_of_tasks(conn: Executor, assignee: uuid.UUID, limit: int) -> list[asyncpg.Record]:
    """The reviews `assignee` holds tasks of (id, title), by title."""
    return await conn.fetch(
        """SELECT DISTINCT r.id, r.title FROM tasks t JOIN reviews r ON r.id = t.review_id
           WHERE t.assignee = $1 ORDER BY r.title, r.id LIMIT $2""",
        assignee,
        limit,
    )


async def complete(
    conn: Connection,
    task_id: uuid.UUID,
    actor_id: uuid.UUID,
    response: dict[str, Any],
    response_hash: str,
) -> asyncpg.Record | None:
    """Answer an open task before its deadline; None when it is not the actor's open task."""
    return await conn.fetchrow(
        f"""UPDATE tasks t SET status = 'completed', response = $3, response_hash = $4,
                   completed_at = now(), completed_by = $2
            WHERE t.id = $1 AND t.assignee = $2 AND t.status = 'open' AND t.due_at >= now()
            RETURNING {_COLUMNS}""",
        task_id,
        actor_id,
        response,
        response_hash,
    )


async def delegate(
    conn: Connection,
    task_id: uuid.UUID,
    actor_id: uuid.UUID,
    to: uuid.UUID,
    note: str | None,
) -> asyncpg.Record | None:
    """Hand an open task to `to`; None when it is not the actor's open task, or `to` holds a
    task of the review already. Hand-overs to one colleague take turns (a lock held to the end
    of the caller's transaction), so two of them cannot both find the colleague free."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))", str(to))
    return await conn.fetchrow(
        f"""UPDATE tasks t SET assignee = $3::uuid,
                   delegations = t.delegations || jsonb_build_array(jsonb_build_object(
                       'from', $2::uuid, 'to', $3::uuid, 'note', $4::text, 'at', now()))
            WHERE t.id = $1 AND t.assignee = $2 AND t.status = 'open'
              AND NOT {holds_task("t.review_id", "$3::uuid")}
            RETURNING {_COLUMNS}""",
        task_id,
        actor_id,
        to,
        note,
    )


async def has_task(conn: Executor, review_id: str, actor_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval(f"SELECT {holds_task('$1', '$2')}", review_id, actor_id))


async def task_progress(conn: Executor, review_id: str) -> list[asyncpg.Record]:
    """Tasks per stakeholder category (focal points under 'focal_point') and status."""
    return await conn.fetch(
        """SELECT coalesce(stakeholder_category, 'focal_point') AS category, status, count(*) AS n
           FROM tasks WHERE review_id = $1 GROUP BY 1, 2 ORDER BY 1, 2""",
        review_id,
    )


# ---- the consultation as a whole (bulk, one statement per step) ----------------------------


async def open_for_consultees(conn: Connection, review_id: str, due_at: datetime) -> int:
    """A task for every consultee of the review, once; the review's task count after."""
    await conn.execute(
        """INSERT INTO tasks (id, review_id, kind, invitee, assignee, organisation,
                              stakeholder_category, country, due_at)
           SELECT gen_random_uuid(), c.review_id, 'consultation', c.actor_id, c.actor_id,
                  c.organisation, c.stakeholder_category, c.country, $2
           FROM review_consultees c WHERE c.review_id = $1
             -- a consultation closed meanwhile (the review was cancelled) stays empty
             AND NOT EXISTS (SELECT 1 FROM review_events e
                             WHERE e.review_id = $1 AND e.type = 'consultation.closed')
           ON CONFLICT (review_id, invitee) DO NOTHING""",
        review_id,
        due_at,
    )
    return int(await conn.fetchval("SELECT count(*) FROM tasks WHERE review_id = $1", review_id))


async def close_open(conn: Connection, review_id: str, status: str) -> int:
    """Give every open task `status`; how many were open."""
    result = await conn.execute(
        "UPDATE tasks SET status = $2 WHERE review_id = $1 AND status = 'open'",
        review_id,
        status,
    )
    return int(result.split()[-1])


async def move_open_deadline(conn: Executor, review_id: str, due_at: datetime) -> None:
    await conn.execute(
        "UPDATE tasks SET due_at = $2 WHERE review_id = $1 AND status = 'open'",
        review_id,
        due_at,
    )


async def remind_open(conn: Connection, review_id: str, at: datetime) -> list[uuid.UUID]:
    """Count a reminder sent at `at` on every open task, once per instant (so a retry counts
    it once); the open tasks' assignees."""
    await conn.execute(
        """UPDATE tasks SET reminders_sent = reminders_sent + 1, last_reminded_at = $2
           WHERE review_id = $1 AND status = 'open' AND last_reminded_at IS DISTINCT FROM $2""",
        review_id,
        at,
    )
    rows = await conn.fetch(
        "SELECT assignee FROM tasks WHERE review_id = $1 AND status = 'open' ORDER BY assignee",
        review_id,
    )
    return [row["assignee"] for row in rows]


async def answered(conn: Connection, review_id: str) -> tuple[int, int]:
    """How many tasks the review has, and how many of them are answered."""
    counts = await conn.fetchrow(
        """SELECT count(*), count(*) FILTER (WHERE status = 'completed') AS answered
           FROM tasks WHERE review_id = $1""",
        review_id,
    )
    assert counts is not None  # an aggregate always has a row
    return counts["count"], counts["answered"]


async def open_assignees(conn: Connection, review_id: str) -> list[asyncpg.Record]:
    """Who still holds an open task, by name: assignee, name, organisation."""
    return await conn.fetch(
        """SELECT t.assignee, a.name, t.organisation FROM tasks t
           JOIN actors a ON a.id = t.assignee
           WHERE t.review_id = $1 AND t.status = 'open' ORDER BY a.name, t.assignee""",
        review_id,
    )
