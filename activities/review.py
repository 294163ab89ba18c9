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
from db.events import insert_event, insert_events
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


def _accepted(acceptance: submissions.Acceptance) -> SubmissionAccepted:
    return SubmissionAccepted(str(acceptance.submission_id), acceptance.version, acceptance.late)


def _acceptance_events(
    batch: AcceptSubmissions, accepted: dict[uuid.UUID, submissions.Acceptance]
) -> tuple[list[tuple[ReviewEvent, dict[str, Any]]], list[dict[str, Any]]]:
    """The `submission.accepted` event of each request accepted now (once, should a request
    come twice), and what the addendum says of each."""
    events: list[tuple[ReviewEvent, dict[str, Any]]] = []
    added: list[dict[str, Any]] = []
    told: set[uuid.UUID] = set()
    for item in batch.items:
        request_id = uuid.UUID(item.ref.request_id)
        acceptance = accepted[request_id]
        if not acceptance.accepted_now or request_id in told:
            continue
        told.add(request_id)
        extra: dict[str, Any] = {
            "submission_id": str(acceptance.submission_id),
            "version": acceptance.version,
        }
        # A stakeholder input's subject is its organisation's id; the notice names it.
        if acceptance.organisation:
            extra["organisation"] = acceptance.organisation
        events.append((item.event, extra))
        added.append(_added(item, _accepted(acceptance)))
    return events, added


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
        """Accept a batch in one transaction of a few statements whatever its size; a request
        accepted before keeps its version. Accepted once the synthesis is made, the versions
        join its addendum, and one event for the batch tells the consultees."""
        requests = [
            submissions.AcceptRequest(uuid.UUID(item.ref.request_id), item.late, item.event.at)
            for item in batch.items
        ]
        async with self.pool.acquire() as conn, conn.transaction():
            review_id = batch.items[0].event.review_id
            after_synthesis = await syntheses.made_before_acceptance(conn, review_id)
            accepted = await submissions.accept_many(
                conn, requests, after_synthesis=after_synthesis
            )
            missing = [str(r.request_id) for r in requests if r.request_id not in accepted]
            if missing:
                raise precondition_failed(f"submission requests {missing} are not stored")
            events, added = _acceptance_events(batch, accepted)
            if after_synthesis and added:
                events.append((_addendum_event(batch, added), {}))
            await insert_events(conn, events)
        return [_accepted(accepted[request.request_id]) for request in requests]

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
