"""Activities of the regional review: the read model, the audit trail and submissions.

Each is idempotent: events carry ids chosen by the workflow and are inserted once, and a
submission request that was already accepted answers with the version it got then.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
from temporalio import activity

from activities.common import precondition_failed
from db import approvals, reviews, submissions, syntheses, tasks
from db.events import insert_event
from db.pool import Connection
from domain.events import EventType, ReviewEvent
from domain.review import Deadline, Phase, ReviewConfig
from workflows import activity_stubs as stubs
from workflows.models import (
    AcceptSubmission,
    AcceptSubmissions,
    RecordChange,
    Reminder,
    ReminderNow,
    SubmissionAccepted,
)


async def _stakeholders_behind(
    conn: Connection, review_id: str, deadline: Deadline, at: datetime
) -> list[uuid.UUID]:
    """The stakeholders who have not acted by `deadline`: for the consultation, the open
    tasks' assignees (each task counts a reminder sent at `at`); else the invited
    stakeholders without an input."""
    if deadline is Deadline.CONSULTATION_DUE_AT:
        return await tasks.remind_open(conn, review_id, at)
    return await submissions.stakeholders_without_input(conn, review_id)


def _added(item: AcceptSubmission, accepted: SubmissionAccepted) -> dict[str, Any]:
    """What the addendum's event says of one submission that joined it."""
    return {
        "submission_id": accepted.submission_id,
        "version": accepted.version,
        "kind": item.ref.kind.value,
        "subject": item.ref.subject,
        "late": accepted.late,
    }


def _addendum_event(batch: AcceptSubmissions, added: list[dict[str, Any]]) -> ReviewEvent:
    """The event of a batch's additions to the addendum: its id follows from the batch's
    first acceptance event, chosen by the workflow, so it is the same on every attempt."""
    first = batch.items[0].event
    return ReviewEvent(
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"synthesis-addendum:{first.id}")),
        review_id=first.review_id,
        type=EventType.SYNTHESIS_ADDENDUM,
        at=first.at,
        data={"submissions": added, "count": len(added)},
    )


class ReviewActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @activity.defn(name=stubs.store_review.__name__)
    async def store_review(self, config: ReviewConfig) -> None:
        """Write the review's row as it is created; a row written before stays as it is."""
        invited = (
            None if config.stakeholders is None else [uuid.UUID(s) for s in config.stakeholders]
        )
        async with self.pool.acquire() as conn, conn.transaction():
            inserted = await reviews.insert_review(
                conn,
                config,
                invited,
                Phase.SCHEDULED.value,
                reminders_optional=config.reminders_optional,
            )
            if inserted and config.approvers:
                await approvals.replace_approvers(conn, config.review_id, config.approvers)

    @activity.defn(name=stubs.record_change.__name__)
    async def record_change(self, change: RecordChange) -> None:
        snapshot = change.snapshot
        async with self.pool.acquire() as conn, conn.transaction():
            # The row exists: the workflow's first activity wrote it. (For a review started by
            # an earlier version, the API wrote it; an attempt that comes before that commit
            # fails on the event's foreign key and is retried.)
            await insert_event(conn, change.event)
            await reviews.record_snapshot(
                conn,
                change.event.review_id,
                snapshot.phase.value,
                snapshot.deadlines,
                snapshot.country_extensions,
            )

    @activity.defn(name=stubs.accept_submissions.__name__)
    async def accept_submissions(self, batch: AcceptSubmissions) -> list[SubmissionAccepted]:
        """Accept a batch in one transaction; a request accepted before keeps its version.
        Accepted once the synthesis is made, the versions join its addendum, and one event
        for the batch tells the consultees."""
        results: dict[str, SubmissionAccepted] = {}
        added: list[dict[str, Any]] = []
        async with self.pool.acquire() as conn, conn.transaction():
            review_id = batch.items[0].event.review_id
            after_synthesis = await syntheses.made_before_acceptance(conn, review_id)
            # Always lock in the same order, so concurrent batches never deadlock.
            for item in sorted(batch.items, key=lambda i: i.ref.request_id):
                result, accepted_now = await self._accept(conn, item, after_synthesis)
                results[item.ref.request_id] = result
                if after_synthesis and accepted_now:
                    added.append(_added(item, result))
            if added:
                await insert_event(conn, _addendum_event(batch, added))
        return [results[item.ref.request_id] for item in batch.items]

    async def _accept(
        self, conn: Connection, request: AcceptSubmission, after_synthesis: bool
    ) -> tuple[SubmissionAccepted, bool]:
        """The request's acceptance, and whether it was accepted now (not by an earlier try)."""
        request_id = uuid.UUID(request.ref.request_id)
        accepted = await submissions.accept(
            conn,
            request_id,
            late=request.late,
            decided_at=request.event.at,
            after_synthesis=after_synthesis,
        )
        if accepted is None:
            raise precondition_failed(f"submission request {request_id} is not stored")
        submission_id = str(accepted.submission_id)
        if accepted.accepted_now:
            # A stakeholder input's subject is its organisation's id; the notice names it.
            named = {"organisation": accepted.organisation} if accepted.organisation else {}
            await insert_event(
                conn, request.event, submission_id=submission_id, version=accepted.version, **named
            )
        result = SubmissionAccepted(submission_id, accepted.version, accepted.late)
        return result, accepted.accepted_now

    @activity.defn(name=stubs.send_reminder.__name__)
    async def send_reminder(self, reminder: Reminder) -> int:
        """Record who is reminded: for the call for inputs, the States the workflow names and
        the invited stakeholders without an input; for the consultation, open tasks'
        assignees; for the report, the approver whose turn it is, else the secretariat that has
        yet to decide."""
        review_id = reminder.event.review_id
        deadline = reminder.reminder.deadline
        async with self.pool.acquire() as conn, conn.transaction():
            stakeholders: list[uuid.UUID] = []
            approvers: list[uuid.UUID] = []
            if deadline is Deadline.REPORT_DUE_AT and "approver" in reminder.event.data:
                # Only the approver whose turn it is.
                approvers = [uuid.UUID(reminder.event.data["approver"])]
            elif deadline is Deadline.REPORT_DUE_AT:
                approvers = await reviews.secretariat(conn, review_id)
            elif deadline is Deadline.CONSULTATION_DUE_AT or reminder.stakeholders:
                stakeholders = await _stakeholders_behind(
                    conn, review_id, deadline, reminder.event.at
                )
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

    @activity.defn(name=stubs.send_reminder_now.__name__)
    async def send_reminder_now(self, reminder: ReminderNow) -> int:
        """Record a reminder the secretariat sends now, to the States the workflow names and
        the stakeholders who have not acted; how many are reminded (none: nothing recorded)."""
        event = reminder.event
        async with self.pool.acquire() as conn, conn.transaction():
            stakeholders = await _stakeholders_behind(
                conn, event.review_id, reminder.deadline, event.at
            )
            if not (reminder.countries or stakeholders):
                return 0
            await insert_event(
                conn,
                event,
                countries=reminder.countries,
                stakeholders=[str(s) for s in stakeholders],
                reminded={
                    "member_states": len(reminder.countries),
                    "stakeholders": len(stakeholders),
                },
            )
        return len(reminder.countries) + len(stakeholders)

    def all(self) -> list[Any]:
        return [
            self.store_review,
            self.record_change,
            self.accept_submissions,
            self.send_reminder,
            self.send_reminder_now,
        ]
