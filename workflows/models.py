"""The wire payloads between the API, the review workflow and its activities: Update and
activity inputs and results.

Standard library and `domain/` only, so the workflow sandbox can import it and every value
serialises with Temporal's default JSON converter. Histories carry these small facts, never
documents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.events import ReviewEvent, RollupEvent
from domain.review import (
    Approver,
    Deadline,
    PendingReminder,
    Phase,
    ReviewConfig,
    ReviewState,
    SubmissionAccepted,
    SubmissionRef,
    Timeline,
)


@dataclass(frozen=True)
class ReviewInput:
    config: ReviewConfig
    # Set when a run continues as new; absent on the first run.
    state: ReviewState | None = None


# ---- Updates -----------------------------------------------------------------------------


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
class RemindNowCommand:
    """The secretariat reminds, at once, those who have not acted in the current phase."""

    actor_id: str


@dataclass(frozen=True)
class RemindedNow:
    """The audit event of a reminder sent now (its id comes from the Update's, so a command
    sent again names the same one); no such event was recorded when nobody was left to
    remind."""

    event_id: str


@dataclass(frozen=True)
class ReportVersion:
    version: int
    content_hash: str


# ---- Activities --------------------------------------------------------------------------


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
class ReminderNow:
    """Record a reminder sent now: to the States named, and to the stakeholders who have not
    acted by `deadline` (without an input, or with an open task)."""

    event: ReviewEvent
    deadline: Deadline
    countries: list[str]


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


@dataclass(frozen=True)
class PurgeRound:
    """Delete expired records, `batch` rows at a time, at most `max_batches` of each kind."""

    batch: int
    max_batches: int


# The error type of an activity failure that no retry can mend (a row that must exist does
# not): retrying it would only hold the review's lock for ever.
PRECONDITION_FAILED = "PreconditionFailed"


@dataclass(frozen=True)
class ApproversChange:
    """Who approves the report from now on, in order (empty: the secretariat, once); the
    answer: the review's approvers afterwards."""

    approvers: list[Approver]


@dataclass(frozen=True)
class MoreStates:
    """Member States the secretariat adds to the review (ISO3 codes); the answer: its member
    States afterwards."""

    countries: list[str]


# ---- the roll-up of a cycle ------------------------------------------------------------------


@dataclass(frozen=True)
class RegionalPublication:
    """A regional review's report published at `version`: the signal a roll-up waits on."""

    review_id: str
    version: int


@dataclass
class RollupState:
    """What a roll-up's workflow knows, carried across continue-as-new: ids and numbers only
    (the documents are in PostgreSQL)."""

    gathered: bool = False
    # The regional report version each review is in the roll-up at (review id → version).
    included: dict[str, int] = field(default_factory=dict)
    # Publications signalled and not yet compiled into a version.
    arrived: list[RegionalPublication] = field(default_factory=list)
    # The latest version compiled, and the one published (0: none yet).
    version: int = 0
    published: int = 0


@dataclass(frozen=True)
class RollupInput:
    cycle: str
    title: str
    started_by: str
    state: RollupState | None = None


@dataclass(frozen=True)
class CompileRollup:
    event: RollupEvent
    version: int
    # The regional reports it gathers, in order of review id.
    sources: list[RegionalPublication]


@dataclass(frozen=True)
class PublishRollup:
    event: RollupEvent
    version: int


@dataclass(frozen=True)
class RollupApproval:
    actor_id: str
    # The version approved: the one awaiting approval when the admin read it.
    version: int


@dataclass(frozen=True)
class SessionTimes:
    """A consultation meeting the review reminds its registrants of: its id and start; no
    start (None) for one cancelled."""

    session_id: str
    starts_at: datetime | None = None
