"""Consultation meetings of a review ("sessions"): what a meeting must say, who may register
for it, who gets a place and who waits, and the reminders planned before it.

Pure functions over plain values, so the workflow (reminders) and the services (the rest)
share them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from domain import reminders
from domain.review import ReviewState, SessionReminder
from domain.text import N_


class SessionKind(StrEnum):
    STAKEHOLDER_CONSULTATION = "stakeholder_consultation"
    # The intergovernmental review meeting; its round tables are sessions of their own.
    REVIEW_MEETING = "review_meeting"
    ROUND_TABLE = "round_table"


class Mode(StrEnum):
    ONLINE = "online"
    IN_PERSON = "in_person"
    HYBRID = "hybrid"


class Audience(StrEnum):
    STAKEHOLDERS = "stakeholders"
    MEMBER_STATES = "member_states"
    BOTH = "both"


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Placement(StrEnum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"


class SummaryKind(StrEnum):
    RAPPORTEUR = "rapporteur_summary"
    CHAIR = "chair_summary"


# Bounds on what one meeting holds, so every request is bounded work.
MAX_LENGTH = timedelta(days=3)
MAX_AGENDA_ITEMS = 40
MAX_CAPACITY = 5_000
MAX_DELEGATES = 50
MAX_TITLE = 300
MAX_PLACE = 500
MAX_LINK = 2_000
MAX_REASON = 1_000
MAX_SUMMARY = 20_000
CLUSTERS = range(1, 5)
# When registrants are reminded before a meeting starts.
REMIND_BEFORE: tuple[timedelta, ...] = (timedelta(days=1), timedelta(hours=1))

Problem = tuple[str, str]


@dataclass(frozen=True)
class Times:
    starts_at: datetime
    ends_at: datetime


def time_problems(times: Times, now: datetime, *, moving: bool) -> list[Problem]:
    """What is wrong with a meeting's times: it ends after it starts, lasts at most
    MAX_LENGTH, and (when scheduled or moved) starts in the future."""
    problems: list[Problem] = []
    if times.ends_at <= times.starts_at:
        problems.append(("/ends_at", N_("must be after the start")))
    elif times.ends_at - times.starts_at > MAX_LENGTH:
        problems.append(("/ends_at", N_("a meeting lasts at most 3 days")))
    if moving and times.starts_at <= now:
        problems.append(("/starts_at", N_("must be in the future")))
    return problems


def is_https_url(link: str) -> bool:
    parts = urlsplit(link)
    return parts.scheme == "https" and bool(parts.hostname)


def venue_problems(mode: Mode, link: str | None, place: str | None) -> list[Problem]:
    """An online meeting needs a link, one in person a place, a hybrid one both; a link is
    an https URL."""
    problems: list[Problem] = []
    if link is not None and not is_https_url(link):
        problems.append(("/link", N_("must be an https:// address")))
    if mode in (Mode.ONLINE, Mode.HYBRID) and not link:
        problems.append(("/link", N_("an online or hybrid meeting needs its link")))
    if mode in (Mode.IN_PERSON, Mode.HYBRID) and not place:
        problems.append(("/place", N_("a meeting in person or hybrid needs its place")))
    return problems


def round_table_problems(
    kind: SessionKind, cluster: int | None, meeting_kind: str | None, has_meeting: bool
) -> list[Problem]:
    """A round table is for one cluster and names its review meeting (`meeting_kind`: the
    kind of the session it names, None when it names none of the review's); other kinds
    name neither."""
    if kind is not SessionKind.ROUND_TABLE:
        problems = []
        if cluster is not None:
            problems.append(("/cluster", N_("only a round table is for one cluster")))
        if has_meeting:
            problems.append(("/meeting_id", N_("only a round table names its review meeting")))
        return problems
    problems = []
    if cluster is None:
        problems.append(("/cluster", N_("a round table is for one cluster, 1 to 4")))
    if not has_meeting:
        problems.append(("/meeting_id", N_("a round table names its review meeting")))
    elif meeting_kind != SessionKind.REVIEW_MEETING:
        problems.append(("/meeting_id", N_("must be a review meeting of this review")))
    return problems


# ---- who registers --------------------------------------------------------------------------


def party_of(role: str, country: str | None, organisation_id: str | None) -> str | None:
    """What registers: an organisation (for its people) or a country (its delegation)."""
    if role == "focal_point" and country:
        return f"country:{country}"
    if role == "stakeholder" and organisation_id:
        return f"organisation:{organisation_id}"
    return None


def audience_admits(audience: Audience, role: str) -> bool:
    wanted = {
        Audience.STAKEHOLDERS: {"stakeholder"},
        Audience.MEMBER_STATES: {"focal_point"},
        Audience.BOTH: {"stakeholder", "focal_point"},
    }[audience]
    return role in wanted


# ---- places and the waiting list ------------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    """A registration as the rules see it: how many people it brings, and where it stands."""

    id: str
    people: int
    placement: Placement


def taken(seats: Iterable[Seat]) -> int:
    return sum(s.people for s in seats if s.placement is Placement.REGISTERED)


def placement_for(capacity: int | None, others: Iterable[Seat], people: int) -> Placement:
    """Where a registration of `people` goes, given the other registrations: a place if they
    all fit, else the waiting list."""
    if capacity is None or taken(others) + people <= capacity:
        return Placement.REGISTERED
    return Placement.WAITLISTED


def promoted(capacity: int | None, seats: list[Seat]) -> list[str]:
    """The waiting registrations (in `seats`' order: the waiting list's) that now fit, each
    the first who fits in the room left by those before it."""
    room = None if capacity is None else capacity - taken(seats)
    chosen: list[str] = []
    for seat in seats:
        if seat.placement is not Placement.WAITLISTED:
            continue
        if room is None or seat.people <= room:
            chosen.append(seat.id)
            if room is not None:
                room -= seat.people
    return chosen


# ---- reminders before meetings (the workflow's timers) ---------------------------------------


def armed(
    pending: list[SessionReminder], session_id: str, starts_at: datetime, now: datetime
) -> list[SessionReminder]:
    """The plan with the meeting's reminders at its (new) start, those still ahead; those
    planned for its earlier start are dropped."""
    kept = cancelled(pending, session_id)
    for before in REMIND_BEFORE:
        at = starts_at - before
        if at > now:
            kept.append(SessionReminder(session_id, starts_at, int(before.total_seconds()), at))
    return kept


def cancelled(pending: list[SessionReminder], session_id: str) -> list[SessionReminder]:
    return [r for r in pending if r.session_id != session_id]


def next_due(pending: list[SessionReminder], now: datetime) -> SessionReminder | None:
    return min((r for r in pending if r.at <= now), key=lambda r: r.at, default=None)


def next_instant(state: ReviewState) -> datetime | None:
    """The next instant the review's main loop wakes at: a deadline or its reminders
    (`domain.reminders.next_instant`), or a meeting's reminder. Without meetings, the same."""
    instants = [r.at for r in state.session_reminders]
    deadline_instant = reminders.next_instant(state)
    if deadline_instant is not None:
        instants.append(deadline_instant)
    return min(instants, default=None)
