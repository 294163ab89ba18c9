"""Activities of the stakeholder consultation: open it, remind, check coverage, close it.

Everything here is bulk SQL over the review's tasks, so 10,000 consultees cost one statement
per step, not one activity (or timer, or workflow) each.
"""

from __future__ import annotations

import asyncpg
from temporalio import activity

from activities.common import heartbeating
from activities.synthesis import Organisation, Source, Synthesis, build_synthesis
from db.events import insert_event
from db.pool import Connection
from domain.canonical import json_hash
from workflows.models import (
    CHECK_CONSULTATION,
    CLOSE_TASKS,
    MOVE_TASK_DEADLINE,
    OPEN_CONSULTATION,
    CloseTasks,
    ConsultationCheck,
    MoveTaskDeadline,
    OpenConsultation,
)

# A stakeholder input's subject is its organisation's id.
LATEST_ACCEPTED = """
    SELECT s.id, s.kind, s.subject, v.version, v.content,
           o.name AS organisation, o.category
    FROM submissions s
    JOIN submission_versions v ON v.submission_id = s.id AND v.version = s.latest_version
    LEFT JOIN organisations o ON s.kind = 'stakeholder_input' AND o.id::text = s.subject
    WHERE s.review_id = $1 AND s.latest_version > 0
    ORDER BY s.kind, s.subject
"""


def _source(row: asyncpg.Record) -> Source:
    organisation = (
        Organisation(row["organisation"], row["category"]) if row["organisation"] else None
    )
    return Source(
        str(row["id"]), row["version"], row["kind"], row["subject"], row["content"], organisation
    )


async def _consultation_closed(conn: Connection, review_id: str) -> bool:
    closed = await conn.fetchval(
        "SELECT 1 FROM review_events WHERE review_id = $1 AND type = 'consultation.closed'",
        review_id,
    )
    return closed is not None


async def _store_synthesis(conn: Connection, synthesis: Synthesis) -> str:
    """Store the synthesis once, its head and its parts; its hash covers them all."""
    review_id = synthesis.head["review_id"]
    synthesis_hash = json_hash([synthesis.head, synthesis.parts])
    stored_now = await conn.fetchval(
        """INSERT INTO syntheses (review_id, content, content_hash) VALUES ($1, $2, $3)
           ON CONFLICT (review_id) DO NOTHING RETURNING true""",
        review_id,
        synthesis.head,
        synthesis_hash,
    )
    if stored_now:
        await conn.executemany(
            "INSERT INTO synthesis_parts (review_id, position, kind, content) VALUES ($1, $2, $3, $4)",
            [(review_id, n, kind, part) for n, (kind, part) in enumerate(synthesis.parts)],
        )
    return synthesis_hash


class ConsultationActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @activity.defn(name=OPEN_CONSULTATION)
    async def open_consultation(self, request: OpenConsultation) -> int:
        """Store the synthesis and create a task for every consultee; idempotent."""
        review_id = request.event.review_id
        async with heartbeating(), self.pool.acquire() as conn, conn.transaction():
            if await _consultation_closed(conn, review_id):
                return 0  # cancelled while this attempt waited: open nothing
            sources = [_source(r) async for r in conn.cursor(LATEST_ACCEPTED, review_id)]
            synthesis_hash = await _store_synthesis(conn, build_synthesis(review_id, sources))
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
                request.due_at,
            )
            tasks = await conn.fetchval(
                "SELECT count(*) FROM tasks WHERE review_id = $1", review_id
            )
            await insert_event(conn, request.event, tasks=tasks, synthesis_hash=synthesis_hash)
        return int(tasks)

    @activity.defn(name=CLOSE_TASKS)
    async def close_tasks(self, request: CloseTasks) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            status = await conn.execute(
                "UPDATE tasks SET status = $2 WHERE review_id = $1 AND status = 'open'",
                request.event.review_id,
                request.status,
            )
            closed = int(status.split()[-1])
            await insert_event(conn, request.event, tasks=closed)
        return closed

    @activity.defn(name=MOVE_TASK_DEADLINE)
    async def move_task_deadline(self, request: MoveTaskDeadline) -> None:
        await self.pool.execute(
            "UPDATE tasks SET due_at = $2 WHERE review_id = $1 AND status = 'open'",
            request.review_id,
            request.due_at,
        )

    @activity.defn(name=CHECK_CONSULTATION)
    async def check_consultation(self, check: ConsultationCheck) -> float:
        """Record an alert for the secretariat if too few consultees have answered."""
        review_id = check.event.review_id
        async with self.pool.acquire() as conn, conn.transaction():
            counts = await conn.fetchrow(
                """SELECT count(*), count(*) FILTER (WHERE status = 'completed') AS answered
                   FROM tasks WHERE review_id = $1""",
                review_id,
            )
            assert counts is not None  # an aggregate always has a row
            total, answered = counts["count"], counts["answered"]
            rate = answered / total if total else 1.0
            if rate < check.share:
                missing = await conn.fetch(
                    """SELECT t.assignee, a.name, t.organisation FROM tasks t
                       JOIN actors a ON a.id = t.assignee
                       WHERE t.review_id = $1 AND t.status = 'open' ORDER BY a.name, t.assignee""",
                    review_id,
                )
                await insert_event(
                    conn,
                    check.event,
                    share=round(rate, 4),
                    required=check.share,
                    missing=[
                        {
                            "actor_id": str(m["assignee"]),
                            "name": m["name"],
                            "organisation": m["organisation"],
                        }
                        for m in missing
                    ],
                )
        return rate

    def all(self) -> list[object]:
        return [
            self.open_consultation,
            self.close_tasks,
            self.move_task_deadline,
            self.check_consultation,
        ]
