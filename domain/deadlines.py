"""Extensions: moving one of the review's deadlines, or one member State's inputs deadline."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from domain.intake import inputs_due_at, not_a_member
from domain.refusal import Refusal, RefusalKind
from domain.review import (
    DEADLINE_ENDS,
    PHASE_ORDER,
    Deadline,
    Phase,
    ReviewState,
    SubmissionKind,
)
from domain.text import N_

# Deadlines further out than this are typing mistakes, not plans.
LATEST_DEADLINE = timedelta(days=5 * 366)

# The phases in which a member State's inputs deadline may still move.
INPUTS_OPEN = frozenset({Phase.SCHEDULED, Phase.CALL_FOR_INPUTS, Phase.CONSULTATION})


def schedule_problem(instant: datetime, now: datetime) -> str | None:
    """What is wrong with `instant` as a deadline set at `now`, if anything."""
    if instant <= now:
        return N_("must be in the future")
    if instant > now + LATEST_DEADLINE:
        return N_("must be within five years")
    return None


def country_scope_refusals(
    deadline: Deadline, country: str, member_states: list[str]
) -> list[Refusal]:
    """What is wrong with extending `deadline` for `country`, whatever the review's state."""
    refusals = []
    if refusal := not_a_member(country, member_states, RefusalKind.INVALID, "country"):
        refusals.append(refusal)
    if deadline is not Deadline.INPUTS_DUE_AT:
        refusals.append(
            Refusal(
                RefusalKind.INVALID,
                N_("Only inputs_due_at can be extended for one member State."),
                "deadline",
            )
        )
    return refusals


def extension_refusal(
    member_states: list[str],
    state: ReviewState,
    deadline: Deadline,
    until: datetime,
    country: str | None,
    now: datetime,
) -> Refusal | None:
    """Why `deadline` (for `country` alone, if given) may not move to `until` now, if so."""
    if problem := schedule_problem(until, now):
        return Refusal(RefusalKind.INVALID, problem, "until")
    if country is not None:
        return _country_refusal(member_states, state, deadline, until, country)
    phase = state.phase
    if phase.terminal or PHASE_ORDER.index(phase) > PHASE_ORDER.index(DEADLINE_ENDS[deadline]):
        return Refusal(
            RefusalKind.WRONG_PHASE,
            N_("{deadline} has passed; the review is in {phase}.").format(
                deadline=deadline.value, phase=phase.value
            ),
        )
    current = state.deadlines.get(deadline)
    if until <= current:
        return Refusal(
            RefusalKind.INVALID,
            N_("An extension must move {deadline} later than {current}.").format(
                deadline=deadline.value, current=current.isoformat()
            ),
            "until",
        )
    problems = replace(state.deadlines, **{deadline.value: until}).problems()
    if problems:
        later, why = problems[0]
        return Refusal(
            RefusalKind.INVALID,
            N_("The deadlines would be out of order: {deadline} {why}.").format(
                deadline=later.value, why=why
            ),
            "until",
        )
    return None


def _country_refusal(
    member_states: list[str],
    state: ReviewState,
    deadline: Deadline,
    until: datetime,
    country: str,
) -> Refusal | None:
    if scope := country_scope_refusals(deadline, country, member_states):
        return scope[0]
    if state.phase not in INPUTS_OPEN:
        return Refusal(
            RefusalKind.WRONG_PHASE,
            N_("The review is in {phase}; inputs are closed.").format(phase=state.phase.value),
        )
    current = inputs_due_at(state, SubmissionKind.NATIONAL_REPORT, country)
    if until <= current:
        return Refusal(
            RefusalKind.INVALID,
            N_("An extension must move {country}'s deadline later than {current}.").format(
                country=country, current=current.isoformat()
            ),
            "until",
        )
    if until >= state.deadlines.consultation_due_at:
        return Refusal(
            RefusalKind.INVALID,
            N_(
                "A member State's deadline must stay before the consultation closes ({closes})."
            ).format(closes=state.deadlines.consultation_due_at.isoformat()),
            "until",
        )
    return None


def extend(
    state: ReviewState, deadline: Deadline, until: datetime, country: str | None
) -> datetime:
    """Move the deadline in `state` (a checked extension); the value it had before."""
    if country is not None:
        previous = state.country_extensions.get(country, state.deadlines.inputs_due_at)
        state.country_extensions[country] = until
        return previous
    previous = state.deadlines.get(deadline)
    state.deadlines = replace(state.deadlines, **{deadline.value: until})
    return previous


def overdue(status: str, due_at: datetime, now: datetime) -> bool:
    """Whether a task is past its due date yet still open (the review's workflow closes it
    soon after): such tasks lead a person's list, marked."""
    return status == "open" and due_at < now
