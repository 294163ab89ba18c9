"""Extending a deadline of the review, or one member State's inputs deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.deadlines import (
    LATEST_DEADLINE,
    country_scope_refusals,
    extend,
    extension_refusal,
    schedule_problem,
)
from domain.refusal import RefusalKind
from domain.review import Deadline, Phase
from tests.domain_fixtures import MEMBERS, START, TIMELINE, state

NOW = START + timedelta(days=10)
DAY = timedelta(days=1)


def _refusal(phase: Phase, deadline: Deadline, until, country=None, **ext):  # type: ignore[no-untyped-def]
    return extension_refusal(MEMBERS, state(phase, **ext), deadline, until, country, NOW)


def test_the_new_deadline_must_be_in_the_future() -> None:
    refusal = _refusal(Phase.CALL_FOR_INPUTS, Deadline.INPUTS_DUE_AT, NOW)
    assert refusal is not None and (refusal.kind, refusal.field) == (RefusalKind.INVALID, "until")


def test_the_new_deadline_is_at_most_five_years_ahead() -> None:
    assert schedule_problem(NOW + LATEST_DEADLINE, NOW) is None
    assert schedule_problem(NOW + LATEST_DEADLINE + DAY, NOW) == "must be within five years"
    assert schedule_problem(NOW, NOW) == "must be in the future"
    refusal = _refusal(Phase.CALL_FOR_INPUTS, Deadline.INPUTS_DUE_AT, NOW + LATEST_DEADLINE + DAY)
    assert refusal is not None and (refusal.kind, refusal.field) == (RefusalKind.INVALID, "until")


def test_a_deadline_moves_later_while_its_phase_has_not_passed() -> None:
    assert (
        _refusal(Phase.CALL_FOR_INPUTS, Deadline.INPUTS_DUE_AT, TIMELINE.inputs_due_at + DAY)
        is None
    )
    earlier = _refusal(Phase.CALL_FOR_INPUTS, Deadline.INPUTS_DUE_AT, TIMELINE.inputs_due_at - DAY)
    assert earlier is not None and earlier.field == "until" and "later than" in earlier.message


@pytest.mark.parametrize("phase", [Phase.CONSULTATION, Phase.PUBLISHED, Phase.CANCELLED])
def test_a_passed_deadline_cannot_move(phase: Phase) -> None:
    refusal = _refusal(phase, Deadline.INPUTS_DUE_AT, TIMELINE.inputs_due_at + DAY)
    assert refusal is not None and refusal.kind is RefusalKind.WRONG_PHASE and refusal.field is None


def test_deadlines_stay_in_order() -> None:
    refusal = _refusal(Phase.CALL_FOR_INPUTS, Deadline.INPUTS_DUE_AT, TIMELINE.consultation_due_at)
    assert refusal is not None
    assert refusal.message == (
        "The deadlines would be out of order: consultation_due_at must be after inputs_due_at."
    )


def test_one_states_extension_is_of_its_inputs_deadline_and_for_a_member_only() -> None:
    refusals = country_scope_refusals(Deadline.REPORT_DUE_AT, "ESP", MEMBERS)
    assert [(r.kind, r.field, r.message) for r in refusals] == [
        (RefusalKind.INVALID, "country", "ESP is not a member State of this review."),
        (
            RefusalKind.INVALID,
            "deadline",
            "Only inputs_due_at can be extended for one member State.",
        ),
    ]
    assert country_scope_refusals(Deadline.INPUTS_DUE_AT, "DEU", MEMBERS) == []
    # The workflow gives the same sentence the API does.
    until = TIMELINE.inputs_due_at + DAY
    assert _refusal(Phase.CALL_FOR_INPUTS, Deadline.INPUTS_DUE_AT, until, "ESP") == refusals[0]


def test_one_states_deadline_moves_later_than_its_own_and_stays_before_the_consultation_ends() -> (
    None
):
    own = TIMELINE.inputs_due_at + 5 * DAY
    fine = _refusal(Phase.CONSULTATION, Deadline.INPUTS_DUE_AT, own + DAY, "DEU", DEU=own)
    assert fine is None
    not_later = _refusal(Phase.CONSULTATION, Deadline.INPUTS_DUE_AT, own - DAY, "DEU", DEU=own)
    assert not_later is not None and own.isoformat() in not_later.message
    too_late = _refusal(
        Phase.CALL_FOR_INPUTS, Deadline.INPUTS_DUE_AT, TIMELINE.consultation_due_at, "DEU"
    )
    assert too_late is not None and "before the consultation closes" in too_late.message
    closed = _refusal(Phase.COMPILATION, Deadline.INPUTS_DUE_AT, own, "DEU")
    assert closed is not None and closed.kind is RefusalKind.WRONG_PHASE


def test_extending_moves_the_deadline_and_tells_the_one_it_replaced() -> None:
    review = state(Phase.CALL_FOR_INPUTS)
    until = TIMELINE.inputs_due_at + DAY
    assert extend(review, Deadline.INPUTS_DUE_AT, until, "DEU") == TIMELINE.inputs_due_at
    assert review.country_extensions == {"DEU": until} and review.deadlines == TIMELINE
    assert extend(review, Deadline.REPORT_DUE_AT, TIMELINE.report_due_at + DAY, None) == (
        TIMELINE.report_due_at
    )
    assert review.deadlines.report_due_at == TIMELINE.report_due_at + DAY
