"""Whether a review takes a submission now: scope, phase, deadline and late policy."""

from __future__ import annotations

from datetime import datetime

from domain.refusal import Refusal, RefusalKind
from domain.review import (
    PHASE_ORDER,
    LatePolicy,
    Phase,
    ReviewConfig,
    ReviewState,
    SubmissionKind,
)
from domain.text import N_

# The phases that take submissions; the consultation does too, for late inputs and for member
# States whose own deadline outlives the call.
TAKING_SUBMISSIONS = frozenset({Phase.CALL_FOR_INPUTS, Phase.CONSULTATION})


def not_a_member(
    country: str | None,
    member_states: list[str],
    kind: RefusalKind = RefusalKind.NOT_IN_SCOPE,
    field: str | None = None,
) -> Refusal | None:
    """Refused unless `country` is one of the review's member States."""
    if country is not None and country in member_states:
        return None
    return outside_review(country, kind, field)


def outside_review(
    country: str | None, kind: RefusalKind = RefusalKind.NOT_IN_SCOPE, field: str | None = None
) -> Refusal:
    return Refusal(
        kind, N_("{country} is not a member State of this review.").format(country=country), field
    )


def inputs_due_at(state: ReviewState, kind: SubmissionKind, subject: str) -> datetime:
    """When this submission is due: a member State's own extension may come later."""
    due = state.deadlines.inputs_due_at
    if kind is SubmissionKind.NATIONAL_REPORT:
        return max(due, state.country_extensions.get(subject, due))
    return due


def is_late(state: ReviewState, kind: SubmissionKind, subject: str, now: datetime) -> bool:
    return now > inputs_due_at(state, kind, subject)


def inputs_closed(phase: Phase, closing: bool) -> bool:
    """Whether no submission is taken any more (`closing`: compilation is about to start)."""
    return closing or phase not in TAKING_SUBMISSIONS


def closed(phase: Phase) -> Refusal:
    """The refusal of a submission once inputs are closed."""
    if phase in TAKING_SUBMISSIONS:
        return Refusal(
            RefusalKind.WRONG_PHASE,
            N_("Compilation of the report is starting; it takes no more submissions."),
        )
    return Refusal(
        RefusalKind.WRONG_PHASE,
        N_("The review is in {phase}; it takes no more submissions.").format(phase=phase.value),
    )


def closed_for_good(phase: Phase) -> Refusal | None:
    """The refusal of any submission in a phase after which the review never takes one again
    (the consultation's end is final), whatever the request."""
    if PHASE_ORDER.index(phase) <= PHASE_ORDER.index(Phase.CONSULTATION):
        return None
    return closed(phase)


def batch_refusal(state: ReviewState, closing: bool) -> Refusal | None:
    """What refuses every submission alike, whoever sends it."""
    if state.phase is Phase.SCHEDULED:
        return Refusal(
            RefusalKind.WRONG_PHASE,
            N_("The call for inputs opens at {opens}.").format(
                opens=state.deadlines.call_opens_at.isoformat()
            ),
        )
    if inputs_closed(state.phase, closing):
        return closed(state.phase)
    return None


def submission_refusal(
    config: ReviewConfig,
    state: ReviewState,
    closing: bool,
    kind: SubmissionKind,
    subject: str,
    now: datetime,
) -> Refusal | None:
    """Why the review does not take this submission now, if it does not."""
    if kind is SubmissionKind.NATIONAL_REPORT and (
        refusal := not_a_member(subject, config.member_states)
    ):
        return refusal
    if inputs_closed(state.phase, closing):
        return closed(state.phase)
    if config.late_submissions is LatePolicy.REJECT and is_late(state, kind, subject, now):
        return Refusal(
            RefusalKind.WRONG_PHASE,
            N_(
                "The call for inputs closed at {closed} and this review does not accept late"
                " submissions."
            ).format(closed=state.deadlines.inputs_due_at.isoformat()),
        )
    return None
