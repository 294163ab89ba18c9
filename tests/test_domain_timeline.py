"""The timeline a new review is offered, and which of a review's deadlines comes next."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.review import Deadline
from domain.timeline import next_deadline, on_day, spaced_from, suggested_timeline

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_the_2020_spacing_from_the_ece_call() -> None:
    # ECE 2020: call opened 15 September, inputs due 26 October, consultation on 9 November.
    ece = spaced_from(datetime(2020, 9, 15, tzinfo=UTC))
    assert ece.inputs_due_at.date() == date(2020, 10, 26)
    assert ece.consultation_due_at.date() == date(2020, 11, 9)
    assert ece.report_due_at.date() == date(2020, 12, 14)
    assert ece.problems() == []


def test_a_new_review_opens_a_week_on() -> None:
    suggested = suggested_timeline(NOW)
    assert suggested.call_opens_at == NOW + timedelta(days=7)
    assert suggested.report_due_at - suggested.call_opens_at == timedelta(days=90)


def test_a_day_holds_the_whole_deadline() -> None:
    day = date(2026, 10, 26)
    assert on_day(Deadline.CALL_OPENS_AT, day) == datetime(2026, 10, 26, tzinfo=UTC)
    assert on_day(Deadline.INPUTS_DUE_AT, day) == datetime(2026, 10, 26, 23, 59, 59, tzinfo=UTC)


def test_the_next_deadline() -> None:
    timeline = suggested_timeline(NOW)
    assert next_deadline(timeline, NOW) == (Deadline.CALL_OPENS_AT, timeline.call_opens_at)
    after_inputs = timeline.inputs_due_at
    assert next_deadline(timeline, after_inputs) == (
        Deadline.CONSULTATION_DUE_AT,
        timeline.consultation_due_at,
    )
    assert next_deadline(timeline, timeline.report_due_at) is None
