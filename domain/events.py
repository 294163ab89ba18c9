"""The events of a review's audit trail: what happened, when, by whom.

Webhooks subscribe to the event types and notification templates are named after them; a
`StrEnum` equals its value, so templates, JSON and SQL keep the plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    """Every type of event in a review's audit trail."""

    REVIEW_CREATED = "review.created"
    # Stakeholders added to a review's invited list after it was created (data: their ids).
    STAKEHOLDERS_INVITED = "stakeholders.invited"
    # Member States added to a review after it was created (data: their ISO3 codes).
    MEMBER_STATES_INVITED = "member_states.invited"
    PHASE_CHANGED = "phase.changed"
    REVIEW_CANCELLED = "review.cancelled"
    DEADLINE_EXTENDED = "deadline.extended"
    REMINDER_DUE = "reminder.due"
    ESCALATION_ALERT = "escalation.alert"
    SUBMISSION_ACCEPTED = "submission.accepted"
    SUBMISSION_REJECTED = "submission.rejected"
    CONSULTATION_OPENED = "consultation.opened"
    CONSULTATION_CLOSED = "consultation.closed"
    # Submissions accepted after the synthesis was made joined its addendum (data: each one's
    # submission_id, version, kind, subject and whether it was late), one event per batch.
    SYNTHESIS_ADDENDUM = "synthesis.addendum"
    TASK_COMPLETED = "task.completed"
    TASK_DELEGATED = "task.delegated"
    REPORT_READY = "report.ready"
    # One approver of a chain approved the current version (data: version, step, of, note),
    # and whose turn it is now (data: version, step, of, approver).
    REPORT_APPROVAL_GIVEN = "report.approval_given"
    REPORT_APPROVAL_PENDING = "report.approval_pending"
    # The secretariat changed who approves the report, before its approval began (data: the
    # approvers' ids, in order).
    REVIEW_APPROVERS_CHANGED = "review.approvers_changed"
    REPORT_CHANGES_REQUESTED = "report.changes_requested"
    REPORT_PUBLISHED = "report.published"
    # The secretariat reminded, at once, those who have not acted in the current phase.
    REMINDER_SENT_NOW = "reminder.sent_now"
    # The secretariat's own message to the review's participants, or to those still missing.
    ANNOUNCEMENT_SENT = "announcement.sent"
    # The secretariat put a notification that failed for good back to be sent (data: the
    # delivery's id, channel and template).
    DELIVERY_RETRIED = "delivery.retried"
    # A member State's team sent its national report's draft for clearance, and the clearing
    # officer cleared it (data: the country, the revision's number and content hash).
    CLEARANCE_REQUESTED = "draft.clearance_requested"
    DRAFT_CLEARED = "draft.cleared"
    # A file was attached to a submission's draft, or taken off it (data: the submission's kind
    # and subject, the annex's id, media type, size and SHA-256; never its file name).
    ANNEX_ATTACHED = "annex.attached"
    ANNEX_REMOVED = "annex.removed"
    # The secretariat moved the review to the current versions of the document schemas (data:
    # the versions before and after).
    SCHEMA_VERSIONS_MOVED = "schema_versions.moved"
    # A consultation meeting was scheduled, moved or edited, or cancelled (data: its id, kind
    # and times); an organisation or a country registered for one, or was put on its waiting
    # list (data: the meeting's and the registration's ids, the account, how many people, and
    # whether it moved up from the waiting list); attendance and the summary were recorded.
    SESSION_SCHEDULED = "session.scheduled"
    SESSION_RESCHEDULED = "session.rescheduled"
    SESSION_CANCELLED = "session.cancelled"
    SESSION_REGISTERED = "session.registered"
    SESSION_WAITLISTED = "session.waitlisted"
    SESSION_ATTENDANCE_RECORDED = "session.attendance_recorded"
    SESSION_SUMMARY_WRITTEN = "session.summary_written"
    # A meeting starts soon: those registered for it are reminded (data: its id and start).
    SESSION_REMINDER_DUE = "session.reminder_due"


class RollupEventType(StrEnum):
    """The events of a cycle's roll-up trail (a trail of its own: a roll-up is no review)."""

    # A version was compiled (data: its version, content hash and the regional reports in it).
    ROLLUP_COMPILED = "rollup.compiled"
    # The admin approved a version, which is now the public one (data: version, content hash).
    ROLLUP_PUBLISHED = "rollup.published"


@dataclass(frozen=True)
class ReviewEvent:
    """A domain event for the audit trail. `id` is deterministic, so a retried write is a no-op."""

    id: str
    review_id: str
    type: EventType
    at: datetime
    actor_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RollupEvent:
    """An event of a roll-up's trail; `id` is deterministic, so a retried write is a no-op."""

    id: str
    cycle: str
    type: RollupEventType
    at: datetime
    actor_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
