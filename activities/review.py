"""Activities of the regional review: the read model, the audit trail and submissions.

Each is idempotent: events carry ids chosen by the workflow and are inserted once, and a
submission request that was already accepted answers with the version it got then.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from temporalio import activity

from activities.common import precondition_failed
from db.events import insert_event
from db.pool import Connection
from db.reviews import insert_review, timeline_json
from domain.review import Deadline, Phase, ReviewConfig
from workflows.models import (
    ACCEPT_SUBMISSIONS,
    RECORD_CHANGE,
    SEND_REMINDER,
    STORE_REVIEW,
    AcceptSubmission,
    AcceptSubmissions,
    RecordChange,
    Reminder,
    SubmissionAccepted,
)


class ReviewActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @activity.defn(name=STORE_REVIEW)
    async def store_review(self, config: ReviewConfig) -> None:
        """Write the review's row as it is created; a row written before stays as it is."""
        invited = (
            None if config.stakeholders is None else [uuid.UUID(s) for s in config.stakeholders]
        )
        async with self.pool.acquire() as conn:
            await insert_review(
                conn,
                config,
                invited,
                Phase.SCHEDULED.value,
                reminders_optional=config.reminders_optional,
            )

    @activity.defn(name=RECORD_CHANGE)
    async def record_change(self, change: RecordChange) -> None:
        snapshot = change.snapshot
        async with self.pool.acquire() as conn, conn.transaction():
            # The row exists: the workflow's first activity wrote it. (For a review started by
            # an earlier version, the API wrote it; an attempt that comes before that commit
            # fails on the event's foreign key and is retried.)
            await insert_event(conn, change.event)
            await conn.execute(
                "UPDATE reviews SET phase = $2, deadlines = $3, country_extensions = $4, updated_at = now()"
                " WHERE id = $1",
                change.event.review_id,
                snapshot.phase.value,
                timeline_json(snapshot.deadlines),
                {c: until.isoformat() for c, until in snapshot.country_extensions.items()},
            )

    @activity.defn(name=ACCEPT_SUBMISSIONS)
    async def accept_submissions(self, batch: AcceptSubmissions) -> list[SubmissionAccepted]:
        """Accept a batch in one transaction; a request accepted before keeps its version."""
        results: dict[str, SubmissionAccepted] = {}
        async with self.pool.acquire() as conn, conn.transaction():
            # Always lock in the same order, so concurrent batches never deadlock.
            for item in sorted(batch.items, key=lambda i: i.ref.request_id):
                results[item.ref.request_id] = await self._accept(conn, item)
        return [results[item.ref.request_id] for item in batch.items]

    async def _accept(self, conn: Connection, request: AcceptSubmission) -> SubmissionAccepted:
        request_id = uuid.UUID(request.ref.request_id)
        row = await conn.fetchrow(
            "SELECT submission_id, version, status, late, organisation FROM submission_versions"
            " WHERE request_id = $1 FOR UPDATE",
            request_id,
        )
        if row is None:
            raise precondition_failed(f"submission request {request_id} is not stored")
        if row["status"] == "accepted":
            return SubmissionAccepted(str(row["submission_id"]), row["version"], row["late"])
        # Lock the submission so concurrent versions of it are numbered one after another.
        version = await conn.fetchval(
            "UPDATE submissions SET latest_version = latest_version + 1 WHERE id = $1"
            " RETURNING latest_version",
            row["submission_id"],
        )
        await conn.execute(
            "UPDATE submission_versions SET status = 'accepted', version = $2, late = $3,"
            " decided_at = $4 WHERE request_id = $1",
            request_id,
            version,
            request.late,
            request.event.at,
        )
        # A stakeholder input's subject is its organisation's id; the notice names it.
        named = {"organisation": row["organisation"]} if row["organisation"] else {}
        await insert_event(
            conn, request.event, submission_id=str(row["submission_id"]), version=version, **named
        )
        return SubmissionAccepted(str(row["submission_id"]), version, request.late)

    @activity.defn(name=SEND_REMINDER)
    async def send_reminder(self, reminder: Reminder) -> int:
        """Record who is reminded: for the call for inputs, the States the workflow names and
        the invited stakeholders without an input; for the consultation, open tasks'
        assignees; for the report, the secretariat that has yet to decide."""
        review_id = reminder.event.review_id
        deadline = reminder.reminder.deadline
        async with self.pool.acquire() as conn, conn.transaction():
            stakeholders: list[uuid.UUID] = []
            approvers: list[uuid.UUID] = []
            if deadline is Deadline.CONSULTATION_DUE_AT:
                stakeholders = await self._remind_open_tasks(conn, reminder)
            elif deadline is Deadline.REPORT_DUE_AT:
                approvers = await self._approvers(conn, review_id)
            elif reminder.stakeholders:
                stakeholders = await self._stakeholders_without_input(conn, review_id)
            if not (reminder.countries or stakeholders or approvers):
                return 0  # everyone has acted: no reminder to record
            await insert_event(
                conn,
                reminder.event,
                countries=reminder.countries,
                stakeholders=[str(s) for s in stakeholders],
                approvers=[str(a) for a in approvers],
            )
        return len(reminder.countries) + len(stakeholders) + len(approvers)

    async def _approvers(self, conn: Connection, review_id: str) -> list[uuid.UUID]:
        rows = await conn.fetch(
            """SELECT a.id FROM reviews r JOIN actors a
               ON a.role = 'secretariat' AND r.region = ANY (a.regions)
               WHERE r.id = $1 ORDER BY a.id""",
            review_id,
        )
        return [row["id"] for row in rows]

    async def _remind_open_tasks(self, conn: Connection, reminder: Reminder) -> list[uuid.UUID]:
        # Keyed by the reminder's instant, so a retried activity counts each reminder once.
        await conn.execute(
            """UPDATE tasks SET reminders_sent = reminders_sent + 1, last_reminded_at = $2
               WHERE review_id = $1 AND status = 'open' AND last_reminded_at IS DISTINCT FROM $2""",
            reminder.event.review_id,
            reminder.event.at,
        )
        rows = await conn.fetch(
            "SELECT assignee FROM tasks WHERE review_id = $1 AND status = 'open' ORDER BY assignee",
            reminder.event.review_id,
        )
        return [row["assignee"] for row in rows]

    async def _stakeholders_without_input(
        self, conn: Connection, review_id: str
    ) -> list[uuid.UUID]:
        rows = await conn.fetch(
            """
            SELECT c.actor_id FROM review_consultees c
            WHERE c.review_id = $1 AND c.role = 'stakeholder'
              AND NOT EXISTS (
                  SELECT 1 FROM submissions s
                  WHERE s.review_id = c.review_id AND s.kind = 'stakeholder_input'
                    AND s.subject = c.organisation_id::text AND s.latest_version > 0)
            ORDER BY c.actor_id
            """,
            review_id,
        )
        return [row["actor_id"] for row in rows]

    def all(self) -> list[Any]:
        return [
            self.store_review,
            self.record_change,
            self.accept_submissions,
            self.send_reminder,
        ]
