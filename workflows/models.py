"""Pure data passed between the API, the review workflow and its activities.

Standard library only, so the workflow sandbox can import it and every value serialises with
Temporal's default JSON converter. Histories carry these small facts, never documents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import pairwise
from typing import Any


class Phase(StrEnum):
    SCHEDULED = "scheduled"
    CALL_FOR_INPUTS = "call_for_inputs"
    CONSULTATION = "consultation"
    COMPILATION = "compilation"
    APPROVAL = "approval"
    PUBLISHED = "published"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in (Phase.PUBLISHED, Phase.CANCELLED)


class Deadline(StrEnum):
    CALL_OPENS_AT = "call_opens_at"
    INPUTS_DUE_AT = "inputs_due_at"
    CONSULTATION_DUE_AT = "consultation_due_at"
    REPORT_DUE_AT = "report_due_at"


# The phase each deadline ends, and the one it starts.
DEADLINE_ENDS: dict[Deadline, Phase] = {
    Deadline.CALL_OPENS_AT: Phase.SCHEDULED,
    Deadline.INPUTS_DUE_AT: Phase.CALL_FOR_INPUTS,
    Deadline.CONSULTATION_DUE_AT: Phase.CONSULTATION,
    Deadline.REPORT_DUE_AT: Phase.APPROVAL,
}
NEXT_PHASE: dict[Phase, Phase] = {
    Phase.SCHEDULED: Phase.CALL_FOR_INPUTS,
    Phase.CALL_FOR_INPUTS: Phase.CONSULTATION,
    Phase.CONSULTATION: Phase.COMPILATION,
}
PHASE_ORDER = list(Phase)


class LatePolicy(StrEnum):
    REJECT = "reject"
    ACCEPT_FLAGGED = "accept_flagged"


class SubmissionKind(StrEnum):
    NATIONAL_REPORT = "national_report"
    STAKEHOLDER_INPUT = "stakeholder_input"


@dataclass(frozen=True)
class Timeline:
    call_opens_at: datetime
    inputs_due_at: datetime
    consultation_due_at: datetime
    report_due_at: datetime

    def get(self, deadline: Deadline) -> datetime:
        value: datetime = getattr(self, deadline.value)
        return value

    def problems(self) -> list[tuple[str, str]]:
        """Each deadline must come after the one before it."""
        found = []
        order = list(Deadline)
        for earlier, later in pairwise(order):
            if self.get(later) <= self.get(earlier):
                found.append((f"/timeline/{later.value}", f"must be after {earlier.value}"))
        return found


@dataclass(frozen=True)
class Escalation:
    """Alert the secretariat when, `days` before a deadline, less than `share` have acted."""

    share: float
    days: int


@dataclass(frozen=True)
class ReviewConfig:
    review_id: str
    region: str
    title: str
    member_states: list[str]
    timeline: Timeline
    reminder_days: list[int]
    late_submissions: LatePolicy
    created_by: str
    # Who is invited lives in the database (it may be thousands); the workflow needs no list.
    consult_focal_points: bool = False
    escalation: Escalation | None = None
    # The invited stakeholders' actor ids (None: open to the region) and whether reminders
    # are optional: the workflow writes the review's row from its config.
    stakeholders: list[str] | None = None
    reminders_optional: bool = False


class Purpose(StrEnum):
    REMINDER = "reminder"
    ESCALATION = "escalation"


@dataclass(frozen=True)
class PendingReminder:
    """An instant before a deadline at which those who have not acted are reminded, or at which
    the secretariat is alerted if too few have."""

    deadline: Deadline
    due_at: datetime
    days_before: int
    at: datetime
    # Set for a reminder of one member State's own (extended) deadline.
    country: str | None = None
    purpose: Purpose = Purpose.REMINDER


@dataclass
class ReviewState:
    """What the workflow knows and carries across continue-as-new."""

    phase: Phase
    deadlines: Timeline
    country_extensions: dict[str, datetime] = field(default_factory=dict)
    countries_submitted: list[str] = field(default_factory=list)
    pending_reminders: list[PendingReminder] = field(default_factory=list)
    # The latest compiled report version, and whether the overdue approval was announced.
    report_version: int = 0
    report_overdue_announced: bool = False
    # The ids of the latest commands (advance, extend, cancel, approve, request changes) done,
    # so one sent again after a continue-as-new (where Temporal forgets them) is not redone.
    handled_commands: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReviewInput:
    config: ReviewConfig
    # Set when a run continues as new; absent on the first run.
    state: ReviewState | None = None


# ---- Updates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionRef:
    """A submission already stored as pending; the workflow decides whether it is accepted."""

    request_id: str
    kind: SubmissionKind
    # The ISO3 country of a national report, or the stakeholder's organisation key.
    subject: str
    actor_id: str


@dataclass(frozen=True)
class SubmissionAccepted:
    submission_id: str
    version: int
    late: bool


@dataclass(frozen=True)
class SubmissionBatch:
    """Submissions that arrived together: one Update, one activity, however many there are."""

    refs: list[SubmissionRef]


@dataclass(frozen=True)
class SubmissionOutcome:
    """What became of one submission of a batch: accepted, or refused and why."""

    request_id: str
    accepted: SubmissionAccepted | None = None
    refusal_type: str | None = None
    refusal: str | None = None


@dataclass(frozen=True)
class Extension:
    deadline: Deadline
    until: datetime
    reason: str
    actor_id: str
    country: str | None = None


@dataclass(frozen=True)
class PhaseCommand:
    """`advance` or `cancel`, by whom and why."""

    actor_id: str
    reason: str | None = None


@dataclass(frozen=True)
class CommandResult:
    phase: Phase


@dataclass(frozen=True)
class ReportDecision:
    """The secretariat approves the report, or asks for changes (stored as a change request)."""

    actor_id: str
    note: str | None = None
    change_request_id: str | None = None


@dataclass(frozen=True)
class ReportVersion:
    version: int
    content_hash: str


# ---- Activities --------------------------------------------------------------------------


# Every type of domain event in a review's audit trail (webhooks subscribe to these).
EVENT_TYPES = (
    "review.created",
    "phase.changed",
    "review.cancelled",
    "deadline.extended",
    "reminder.due",
    "escalation.alert",
    "submission.accepted",
    "submission.rejected",
    "consultation.opened",
    "consultation.closed",
    "task.completed",
    "task.delegated",
    "report.ready",
    "report.changes_requested",
    "report.published",
)


@dataclass(frozen=True)
class ReviewEvent:
    """A domain event for the audit trail. `id` is deterministic, so a retried write is a no-op."""

    id: str
    review_id: str
    type: str
    at: datetime
    actor_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReviewSnapshot:
    """The read model's process state, written with each event that changes it. Progress
    counts come from the submissions themselves, so they are not repeated here."""

    phase: Phase
    deadlines: Timeline
    country_extensions: dict[str, datetime]


@dataclass(frozen=True)
class RecordChange:
    event: ReviewEvent
    snapshot: ReviewSnapshot


@dataclass(frozen=True)
class AcceptSubmission:
    ref: SubmissionRef
    late: bool
    event: ReviewEvent


@dataclass(frozen=True)
class AcceptSubmissions:
    items: list[AcceptSubmission]


@dataclass(frozen=True)
class Reminder:
    event: ReviewEvent
    reminder: PendingReminder
    countries: list[str]
    # Whether stakeholders without an input are reminded too (not for one State's extension).
    stakeholders: bool


@dataclass(frozen=True)
class OpenConsultation:
    """Compile the synthesis and give every consultee a task due at `due_at`."""

    event: ReviewEvent
    due_at: datetime


@dataclass(frozen=True)
class CloseTasks:
    """Set every open task of the review to `status` (expired or cancelled)."""

    event: ReviewEvent
    status: str


@dataclass(frozen=True)
class MoveTaskDeadline:
    review_id: str
    due_at: datetime


@dataclass(frozen=True)
class ConsultationCheck:
    """Alert the secretariat if the response rate is below the review's escalation share."""

    event: ReviewEvent
    share: float


@dataclass(frozen=True)
class CompileReport:
    event: ReviewEvent
    version: int
    change_request_id: str | None = None


@dataclass(frozen=True)
class PublishReport:
    event: ReviewEvent
    version: int
    note: str | None = None


@dataclass(frozen=True)
class DeliveryRound:
    """Turn new events into deliveries and send what is due, for up to `max_seconds`."""

    max_seconds: float
    batch: int


@dataclass(frozen=True)
class DeliveryStats:
    expanded: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0


# The error type of an activity failure that no retry can mend (a row that must exist does
# not): retrying it would only hold the review's lock for ever.
PRECONDITION_FAILED = "PreconditionFailed"

# Activity names: the workflow calls them by name so it never imports I/O code.
STORE_REVIEW = "store_review"
RECORD_CHANGE = "record_change"
ACCEPT_SUBMISSIONS = "accept_submissions"
SEND_REMINDER = "send_reminder"
OPEN_CONSULTATION = "open_consultation"
CLOSE_TASKS = "close_tasks"
MOVE_TASK_DEADLINE = "move_task_deadline"
CHECK_CONSULTATION = "check_consultation"
DELIVER_NOTIFICATIONS = "deliver_notifications"
COMPILE_REPORT = "compile_report"
PUBLISH_REPORT = "publish_report"
