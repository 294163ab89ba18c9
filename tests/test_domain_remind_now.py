"""Reminding by hand: who is named in each phase, and at most once an hour."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from domain.refusal import RefusalKind
from domain.reminders import REMIND_NOW_EVERY, remind_now_refusal, to_remind_now
from domain.review import Deadline, Phase
from tests.domain_fixtures import MEMBERS, TIMELINE, state

DAY = timedelta(days=1)
DUE = TIMELINE.inputs_due_at


def test_in_the_call_every_state_without_a_report_is_named_with_its_own_deadline() -> None:
    now = DUE - 5 * DAY
    review = replace(state(Phase.CALL_FOR_INPUTS, ITA=DUE + 3 * DAY), countries_submitted=["DEU"])
    plan = to_remind_now(MEMBERS, review, now)
    assert plan.deadline is Deadline.INPUTS_DUE_AT
    assert plan.due_at == DUE
    assert plan.countries == ["FRA", "ITA"]
    assert plan.own_deadlines == {"ITA": DUE + 3 * DAY}


def test_in_the_consultation_only_states_whose_own_deadline_is_ahead_are_named() -> None:
    now = DUE + DAY
    review = state(Phase.CONSULTATION, ITA=DUE + 3 * DAY, FRA=DUE + DAY / 2)
    plan = to_remind_now(MEMBERS, review, now)
    assert plan.deadline is Deadline.CONSULTATION_DUE_AT
    assert plan.due_at == TIMELINE.consultation_due_at
    assert plan.countries == ["ITA"]  # FRA's own deadline has passed, DEU had none
    assert plan.own_deadlines == {"ITA": DUE + 3 * DAY}
    submitted = replace(review, countries_submitted=["ITA"])
    assert to_remind_now(MEMBERS, submitted, now).countries == []


@pytest.mark.parametrize(
    "phase", [Phase.SCHEDULED, Phase.COMPILATION, Phase.APPROVAL, Phase.PUBLISHED]
)
def test_outside_the_call_and_the_consultation_nobody_is_reminded(phase: Phase) -> None:
    refusal = remind_now_refusal(state(phase), DUE)
    assert refusal is not None
    assert refusal.kind is RefusalKind.WRONG_PHASE
    assert phase.value in refusal.message


def test_at_most_once_an_hour_and_the_refusal_says_from_when() -> None:
    sent = DUE - 5 * DAY
    review = replace(state(Phase.CALL_FOR_INPUTS), reminded_now_at=sent)
    assert remind_now_refusal(replace(review, reminded_now_at=None), sent) is None
    soon = remind_now_refusal(review, sent + timedelta(minutes=20))
    assert soon is not None
    assert soon.kind is RefusalKind.TOO_SOON
    assert soon.retry_after_s == 40 * 60
    again = sent + REMIND_NOW_EVERY
    assert f"{again:%Y-%m-%d %H:%M} UTC" in soon.message
    assert remind_now_refusal(review, again) is None
