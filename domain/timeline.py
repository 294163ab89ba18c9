"""The timeline a new review is offered: the spacing of the first round's reviews (ECE 2020:
call opened 15 September, inputs due 26 October, consultation 9 November, report three months
after the call), moved to start a week from now; and which deadline comes next."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from domain.review import Deadline, Timeline

# A week to prepare the call, then the 2020 spacing from the day the call opens.
OPENS_AFTER = timedelta(days=7)
DAYS_FROM_OPENING = {
    Deadline.CALL_OPENS_AT: 0,
    Deadline.INPUTS_DUE_AT: 41,
    Deadline.CONSULTATION_DUE_AT: 55,
    Deadline.REPORT_DUE_AT: 90,
}
# A deadline picked as a day: the call opens as the day starts, the others end with the day
# (UTC both), so "due on 26 October" holds the whole of that day.
OPENS_AT = time(0, 0, tzinfo=UTC)
DUE_AT = time(23, 59, 59, tzinfo=UTC)


def spaced_from(opens: datetime) -> Timeline:
    """The 2020 spacing from the call opening at `opens`."""
    return Timeline(
        **{d.value: opens + timedelta(days=days) for d, days in DAYS_FROM_OPENING.items()}
    )


def suggested_timeline(now: datetime) -> Timeline:
    """What a review created at `now` is offered: the 2020 spacing, opening a week later."""
    return spaced_from(now + OPENS_AFTER)


def on_day(deadline: Deadline, day: date) -> datetime:
    """The instant a deadline set for `day` falls at."""
    return datetime.combine(day, OPENS_AT if deadline is Deadline.CALL_OPENS_AT else DUE_AT)


def next_deadline(deadlines: Timeline, now: datetime) -> tuple[Deadline, datetime] | None:
    """The first deadline after `now`, if any is left."""
    ahead = [(d, deadlines.get(d)) for d in Deadline if deadlines.get(d) > now]
    return ahead[0] if ahead else None
