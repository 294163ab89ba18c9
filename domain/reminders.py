"""Reminders and escalation checks: which instants are planned before a deadline, which comes
next, who is reminded, and whether too few have acted."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.phases import watched_deadline
from domain.review import (
    Deadline,
    Escalation,
    PendingReminder,
    Phase,
    Purpose,
    ReviewConfig,
    ReviewState,
)

# The deadlines whose laggards are reminded: nobody has to act before the call opens.
REMINDED_DEADLINE: dict[Phase, Deadline] = {
    Phase.CALL_FOR_INPUTS: Deadline.INPUTS_DUE_AT,
    Phase.CONSULTATION: Deadline.CONSULTATION_DUE_AT,
    Phase.APPROVAL: Deadline.REPORT_DUE_AT,
}


def next_instant(state: ReviewState) -> datetime | None:
    """The next instant that matters: a planned reminder, or the watched deadline."""
    instants = [reminder.at for reminder in state.pending_reminders]
    deadline = watched_deadline(state)
    if deadline is not None:
        instants.append(state.deadlines.get(deadline))
    return min(instants, default=None)


def next_due(pending: list[PendingReminder], now: datetime) -> PendingReminder | None:
    """The earliest planned reminder whose instant has come."""
    return min((r for r in pending if r.at <= now), key=lambda r: r.at, default=None)


def armed(
    pending: list[PendingReminder],
    config: ReviewConfig,
    deadline: Deadline,
    due_at: datetime,
    now: datetime,
    country: str | None = None,
) -> list[PendingReminder]:
    """The plan with the reminders (and escalation checks) before `due_at` that are still
    ahead, replacing those planned for an earlier value of the same deadline."""
    kept = [r for r in pending if not (r.deadline is deadline and r.country == country)]
    planned = [(days, Purpose.REMINDER) for days in sorted(set(config.reminder_days))]
    if config.escalation is not None and country is None:
        # Daily from `days` before the deadline, so the alert repeats until the share is met.
        planned += [(days, Purpose.ESCALATION) for days in range(1, config.escalation.days + 1)]
    for days, purpose in sorted(planned, reverse=True):
        at = due_at - timedelta(days=days)
        if at > now:
            kept.append(PendingReminder(deadline, due_at, days, at, country, purpose))
    return kept


def planned_for_phase(
    state: ReviewState, config: ReviewConfig, now: datetime
) -> list[PendingReminder]:
    """The plan on entering `state.phase`: the reminders of the deadline that closes it; those
    of earlier phases are dropped. A member State's own inputs deadline may outlive the call
    for inputs, so its reminders stay through the consultation, and nothing after that."""
    kept = [r for r in state.pending_reminders if r.country and state.phase is Phase.CONSULTATION]
    deadline = REMINDED_DEADLINE.get(state.phase)
    if deadline is None:
        return kept
    return armed(kept, config, deadline, state.deadlines.get(deadline), now)


def countries_to_remind(
    config: ReviewConfig, state: ReviewState, reminder: PendingReminder
) -> list[str]:
    """The member States a reminder goes to: those that have not reported by its deadline."""
    if reminder.deadline is not Deadline.INPUTS_DUE_AT:
        return []  # consultation tasks are reminded from the task list
    submitted = set(state.countries_submitted)
    if reminder.country is not None:
        return [] if reminder.country in submitted else [reminder.country]
    # States with a later deadline of their own get their own reminders.
    return [
        c
        for c in config.member_states
        if c not in submitted
        and state.country_extensions.get(c, reminder.due_at) <= reminder.due_at
    ]


def coverage_shortfall(
    escalation: Escalation, member_states: list[str], submitted: list[str]
) -> tuple[float, list[str]] | None:
    """The share of member States that have reported and those missing, when the share is
    below the escalation's; None when enough have."""
    reported = set(submitted)
    share = sum(1 for c in member_states if c in reported) / len(member_states)
    if share >= escalation.share:
        return None
    return share, [c for c in member_states if c not in reported]
