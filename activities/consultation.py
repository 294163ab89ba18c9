"""Activities of the stakeholder consultation: open it, remind, check coverage, close it.

Everything here is bulk SQL over the review's tasks, so 10,000 consultees cost one statement
per step, not one activity (or timer, or workflow) each.
"""

from __future__ import annotations

import asyncpg
from temporalio import activity

from activities.common import heartbeating
from db import submissions, syntheses, tasks
from db.events import consultation_closed, insert_event
from db.pool import Connection
from domain.canonical import json_hash
from reports.synthesis_builder import Synthesis, build_synthesis, source_of
from workflows import activity_stubs as stubs
from workflows.models import (
    CloseTasks,
    ConsultationCheck,
    MoveTaskDeadline,
    OpenConsultation,
)


async def _store_synthesis(conn: Connection, synthesis: Synthesis) -> str:
    """Store the synthesis once, its head and its parts; its hash covers them all."""
    synthesis_hash = json_hash([synthesis.head, synthesis.parts])
    await syntheses.store(
        conn, synthesis.head["review_id"], synthesis.head, synthesis.parts, synthesis_hash
    )
    return synthesis_hash


class ConsultationActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @activity.defn(name=stubs.open_consultation.__name__)
    async def open_consultation(self, request: OpenConsultation) -> int:
        """Store the synthesis and create a task for every consultee; idempotent."""
        review_id = request.event.review_id
        async with heartbeating(), self.pool.acquire() as conn, conn.transaction():
            if await consultation_closed(conn, review_id):
                return 0  # cancelled while this attempt waited: open nothing
            await syntheses.lock_for_synthesis(conn, review_id)
            latest = submissions.latest_accepted_with_organisation(conn, review_id)
            sources = [source_of(r) async for r in latest]
            synthesis_hash = await _store_synthesis(conn, build_synthesis(review_id, sources))
            count = await tasks.open_for_consultees(conn, review_id, request.due_at)
            await insert_event(conn, request.event, tasks=count, synthesis_hash=synthesis_hash)
        return count

    @activity.defn(name=stubs.close_tasks.__name__)
    async def close_tasks(self, request: CloseTasks) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            closed = await tasks.close_open(conn, request.event.review_id, request.status)
            await insert_event(conn, request.event, tasks=closed)
        return closed

    @activity.defn(name=stubs.move_task_deadline.__name__)
    async def move_task_deadline(self, request: MoveTaskDeadline) -> None:
        await tasks.move_open_deadline(self.pool, request.review_id, request.due_at)

    @activity.defn(name=stubs.check_consultation.__name__)
    async def check_consultation(self, check: ConsultationCheck) -> float:
        """Record an alert for the secretariat if too few consultees have answered."""
        review_id = check.event.review_id
        async with self.pool.acquire() as conn, conn.transaction():
            total, answered = await tasks.answered(conn, review_id)
            rate = answered / total if total else 1.0
            if rate < check.share:
                missing = await tasks.open_assignees(conn, review_id)
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
