"""The review's own vocabulary: phases, deadlines, its configuration and what it knows.

Standard library only, so the workflow sandbox imports it and Temporal's JSON converter
serialises every value by its fields. The rules that read these types live beside them in
`domain/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import pairwise

from domain.text import N_


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


@dataclass(frozen=True)
class Extension:
    """A deadline moved later, for the whole review or for one member State (`country`)."""

    deadline: Deadline
    until: datetime
    reason: str
    actor_id: str
    country: str | None = None


class LatePolicy(StrEnum):
    REJECT = "reject"
    ACCEPT_FLAGGED = "accept_flagged"


class SubmissionKind(StrEnum):
    NATIONAL_REPORT = "national_report"
    STAKEHOLDER_INPUT = "stakeholder_input"


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
    """A submission the review took: the version it became, and whether it came late."""

    submission_id: str
    version: int
    late: bool


@dataclass(frozen=True)
class Timeline:
    call_opens_at: datetime
    inputs_due_at: datetime
    consultation_due_at: datetime
    report_due_at: datetime

    def get(self, deadline: Deadline) -> datetime:
        value: datetime = getattr(self, deadline.value)
        return value

    def problems(self) -> list[tuple[Deadline, str]]:
        """Each deadline must come after the one before it: (the deadline out of order, why)."""
        return [
            (later, N_("must be after {deadline}").format(deadline=earlier.value))
            for earlier, later in pairwise(Deadline)
            if self.get(later) <= self.get(earlier)
        ]


@dataclass(frozen=True)
class Escalation:
    """Alert the secretariat when, `days` before a deadline, less than `share` have acted."""

    share: float
    days: int


@dataclass(frozen=True)
class Approver:
    """One step of the report's approval: the account that approves, and the title it
    approves under (e.g. "Executive Secretary, UNECE")."""

    actor_id: str
    title: str


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
    # Who approves the report, in order; None: the secretariat approves it once.
    approvers: list[Approver] | None = None


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


@dataclass(frozen=True)
class SessionReminder:
    """An instant before a consultation meeting at which its registrants are reminded: the
    meeting's id and start (small facts; the meeting itself lives in the database)."""

    session_id: str
    starts_at: datetime
    seconds_before: int
    at: datetime


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
    # When the secretariat last reminded, by hand, those who have not acted.
    reminded_now_at: datetime | None = None
    # The approvers (actor ids, in order) who approved the current report version.
    approvals: list[str] = field(default_factory=list)
    # The reminders planned before the review's consultation meetings (domain.sessions).
    session_reminders: list[SessionReminder] = field(default_factory=list)
