"""Reminders and escalation: the plan before a deadline, the next instant, who is reminded."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.reminders import (
    armed,
    countries_to_remind,
    coverage_shortfall,
    next_due,
    next_instant,
    planned_for_phase,
)
from domain.review import Deadline, Escalation, PendingReminder, Phase, Purpose
from tests.domain_fixtures import MEMBERS, START, TIMELINE, config, state

DAY = timedelta(days=1)
DUE = TIMELINE.inputs_due_at


def test_the_plan_holds_the_reminders_still_ahead_latest_day_first() -> None:
    now = DUE - 10 * DAY
    plan = armed([], config(reminder_days=[1, 14, 7, 7]), Deadline.INPUTS_DUE_AT, DUE, now)
    assert [(r.days_before, r.at) for r in plan] == [(7, DUE - 7 * DAY), (1, DUE - DAY)]


def test_escalation_checks_are_daily_and_only_for_the_whole_review() -> None:
    review = config(reminder_days=[], escalation=Escalation(share=0.5, days=3))
    plan = armed([], review, Deadline.INPUTS_DUE_AT, DUE, START)
    assert [(r.days_before, r.purpose) for r in plan] == [
        (d, Purpose.ESCALATION) for d in (3, 2, 1)
    ]
    assert armed([], review, Deadline.INPUTS_DUE_AT, DUE, START, country="DEU") == []


def test_arming_again_replaces_only_the_same_deadline_and_country() -> None:
    review = config(reminder_days=[1])
    own = armed([], review, Deadline.INPUTS_DUE_AT, DUE + DAY, START, "DEU")
    plan = armed(own, review, Deadline.INPUTS_DUE_AT, DUE, START)
    moved = armed(plan, review, Deadline.INPUTS_DUE_AT, DUE + 2 * DAY, START)
    assert sorted((r.country or "", r.due_at) for r in moved) == [
        ("", DUE + 2 * DAY),
        ("DEU", DUE + DAY),
    ]


def test_entering_the_consultation_keeps_only_the_states_own_inputs_reminders() -> None:
    review = config(reminder_days=[1])
    before = state(Phase.CONSULTATION)
    before.pending_reminders = [
        *armed([], review, Deadline.INPUTS_DUE_AT, DUE + DAY, START, "DEU"),
        *armed([], review, Deadline.INPUTS_DUE_AT, DUE, START),
    ]
    plan = planned_for_phase(before, review, START)
    assert {(r.deadline, r.country) for r in plan} == {
        (Deadline.INPUTS_DUE_AT, "DEU"),
        (Deadline.CONSULTATION_DUE_AT, None),
    }
    before.phase = Phase.COMPILATION
    assert planned_for_phase(before, review, START) == []


def test_the_next_instant_is_the_earliest_reminder_or_the_phases_deadline() -> None:
    review = state(Phase.CALL_FOR_INPUTS)
    assert next_instant(review) == DUE
    review.pending_reminders = armed(
        [], config(reminder_days=[7]), Deadline.INPUTS_DUE_AT, DUE, START
    )
    assert next_instant(review) == DUE - 7 * DAY
    assert next_due(review.pending_reminders, DUE - 8 * DAY) is None
    assert next_due(review.pending_reminders, DUE) == review.pending_reminders[0]
    approval = state(Phase.APPROVAL)
    assert next_instant(approval) == TIMELINE.report_due_at
    approval.report_overdue_announced = True
    assert next_instant(approval) is None
    assert next_instant(state(Phase.COMPILATION)) is None


@given(
    submitted=st.sets(st.sampled_from(MEMBERS)),
    extended=st.dictionaries(st.sampled_from(MEMBERS), st.integers(-3, 3)),
    own=st.sampled_from([None, *MEMBERS]),
    deadline=st.sampled_from(list(Deadline)),
)
def test_reminders_go_to_exactly_the_states_due_that_have_not_reported(
    submitted: set[str], extended: dict[str, int], own: str | None, deadline: Deadline
) -> None:
    review = state(Phase.CALL_FOR_INPUTS, **{c: DUE + days * DAY for c, days in extended.items()})
    review.countries_submitted = sorted(submitted)
    due_at = review.country_extensions.get(own, DUE) if own else DUE
    reminder = PendingReminder(deadline, due_at, 1, due_at - DAY, own)
    reminded = countries_to_remind(config(), review, reminder)
    if deadline is not Deadline.INPUTS_DUE_AT:
        assert reminded == []
    elif own is not None:
        assert reminded == ([] if own in submitted else [own])
    else:
        # A State reminded by the review's reminders is due by the review's deadline.
        assert reminded == [c for c in MEMBERS if c not in submitted and extended.get(c, 0) <= 0]
    assert not set(reminded) & submitted


@given(submitted=st.sets(st.sampled_from(MEMBERS)), share=st.sampled_from([0.0, 0.5, 1.0]))
def test_an_escalation_names_the_missing_states_when_too_few_reported(
    submitted: set[str], share: float
) -> None:
    shortfall = coverage_shortfall(Escalation(share=share, days=1), MEMBERS, sorted(submitted))
    reported = len(submitted) / len(MEMBERS)
    if reported >= share:
        assert shortfall is None
    else:
        assert shortfall == (reported, [c for c in MEMBERS if c not in submitted])
