"""Reminders and escalation checks: which instants are planned before a deadline, which comes
next, who is reminded, and whether too few have acted."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.intake import inputs_due_at
from domain.phases import watched_deadline
from domain.refusal import Refusal, RefusalKind
from domain.review import (
    Deadline,
    Escalation,
    PendingReminder,
    Phase,
    Purpose,
    ReviewConfig,
    ReviewState,
    SubmissionKind,
)
from domain.text import N_

# The deadlines whose laggards are reminded: nobody has to act before the call opens.
REMINDED_DEADLINE: dict[Phase, Deadline] = {
    Phase.CALL_FOR_INPUTS: Deadline.INPUTS_DUE_AT,
    Phase.CONSULTATION: Deadline.CONSULTATION_DUE_AT,
    Phase.APPROVAL: Deadline.REPORT_DUE_AT,
}

# The phases in which the secretariat may remind at once those who have not acted, and the
# deadline they are reminded of; a reminder by hand goes out at most once per REMIND_NOW_EVERY.
REMINDED_NOW: dict[Phase, Deadline] = {
    Phase.CALL_FOR_INPUTS: Deadline.INPUTS_DUE_AT,
    Phase.CONSULTATION: Deadline.CONSULTATION_DUE_AT,
}
REMIND_NOW_EVERY = timedelta(hours=1)


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


# ---- reminders sent at once, by the secretariat ----------------------------------------------


@dataclass(frozen=True)
class RemindNow:
    """Who a reminder sent now names, as far as the review itself knows: the member States
    without a national report (with each one's own later deadline, if it has one). The
    stakeholders it names are those without an input (`deadline` is the inputs') or with an
    open task (the consultation's), which the database knows."""

    deadline: Deadline
    due_at: datetime
    countries: list[str]
    own_deadlines: dict[str, datetime]


def _utc(instant: datetime) -> str:
    return f"{instant:%Y-%m-%d %H:%M} UTC"


def remind_now_refusal(state: ReviewState, now: datetime) -> Refusal | None:
    """Why those who have not acted cannot be reminded now, if so: nobody has anything to
    send in this phase, or the last reminder by hand was less than an hour ago."""
    if state.phase not in REMINDED_NOW:
        return Refusal(
            RefusalKind.WRONG_PHASE,
            N_(
                "The review is in {phase}: nobody has anything to send now, so there is nobody"
                " to remind."
            ).format(phase=state.phase.value),
        )
    last = state.reminded_now_at
    if last is None or now >= last + REMIND_NOW_EVERY:
        return None
    possible = last + REMIND_NOW_EVERY
    return Refusal(
        RefusalKind.TOO_SOON,
        N_(
            "Reminders were sent at {sent}. They can be sent at most once an hour: again from"
            " {possible}."
        ).format(sent=_utc(last), possible=_utc(possible)),
        retry_after_s=math.ceil((possible - now).total_seconds()),
    )


def to_remind_now(member_states: list[str], state: ReviewState, now: datetime) -> RemindNow:
    """Who a reminder sent now names (`state.phase` is one of REMINDED_NOW): in the call for
    inputs, every member State without a national report; in the consultation, those of them
    whose own deadline, extended, is still ahead."""
    deadline = REMINDED_NOW[state.phase]
    submitted = set(state.countries_submitted)

    def own(country: str) -> datetime:
        return inputs_due_at(state, SubmissionKind.NATIONAL_REPORT, country)

    countries = [
        c
        for c in member_states
        if c not in submitted and (state.phase is Phase.CALL_FOR_INPUTS or own(c) > now)
    ]
    general = state.deadlines.inputs_due_at
    own_deadlines = {c: own(c) for c in countries if own(c) > general}
    return RemindNow(deadline, state.deadlines.get(deadline), countries, own_deadlines)
