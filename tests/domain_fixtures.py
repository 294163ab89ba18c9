"""Small builders for the domain rules' unit tests: a review config and state at a given time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.review import (
    Escalation,
    LatePolicy,
    Phase,
    ReviewConfig,
    ReviewState,
    Timeline,
)

START = datetime(2030, 1, 1, tzinfo=UTC)
TIMELINE = Timeline(
    call_opens_at=START + timedelta(days=1),
    inputs_due_at=START + timedelta(days=30),
    consultation_due_at=START + timedelta(days=60),
    report_due_at=START + timedelta(days=90),
)
MEMBERS = ["DEU", "FRA", "ITA"]


def config(
    late: LatePolicy = LatePolicy.ACCEPT_FLAGGED,
    escalation: Escalation | None = None,
    reminder_days: list[int] | None = None,
) -> ReviewConfig:
    return ReviewConfig(
        review_id="ece-2030",
        region="ECE",
        title="Regional review",
        member_states=list(MEMBERS),
        timeline=TIMELINE,
        reminder_days=[14, 7, 1] if reminder_days is None else reminder_days,
        late_submissions=late,
        created_by="00000000-0000-0000-0000-000000000001",
        escalation=escalation,
    )


def state(phase: Phase, **extensions: datetime) -> ReviewState:
    return ReviewState(phase=phase, deadlines=TIMELINE, country_extensions=dict(extensions))
