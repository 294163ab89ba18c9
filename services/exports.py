"""A review's data for those who run it: exported as a spreadsheet (reports.exports), and its
submissions and consultation answers as tables, filtered and a page at a time."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import asyncpg

from db import exports as queries
from domain.access import Actor
from domain.reference import load_reference
from domain.review import SubmissionKind
from i18n import gettext
from reports import exports
from services.engine import Deps
from services.refusals import invalid, not_found
from services.reviews import run_by, search_text
from services.tasks import readable_task


@dataclass(frozen=True)
class Export:
    filename: str
    media_type: str
    # The file's bytes, a chunk at a time, read on a connection of its own while they are sent.
    chunks: Callable[[], AsyncIterator[bytes]]


async def export(
    deps: Deps, actor: Actor, review_id: str, dataset: str, file_format: str
) -> Export:
    """The review's `dataset` (submissions, answers, participants) as `file_format` (csv,
    xlsx), for its secretariat."""
    review = await run_by(deps, actor, review_id, "exports its data")
    if dataset not in exports.DATASETS or file_format not in exports.MEDIA_TYPES:
        raise not_found(
            gettext("There is no export %(export)s: choose one of %(datasets)s, as %(formats)s.")
            % {
                "export": f"{dataset}.{file_format}",
                "datasets": ", ".join(exports.DATASETS),
                "formats": _or(exports.MEDIA_TYPES),
            }
        )

    async def chunks() -> AsyncIterator[bytes]:
        async with deps.pool.acquire() as conn:
            async for chunk in exports.chunks(conn, dataset, file_format, review["id"]):
                yield chunk

    return Export(
        f"{review['id']}-{dataset}.{file_format}", exports.MEDIA_TYPES[file_format], chunks
    )


def _or(words: Iterable[str]) -> str:
    """Alternatives as a sentence says them: "csv or xlsx"."""
    said = ""
    for word in words:
        pair = {"first": said, "second": word}
        said = gettext("%(first)s or %(second)s") % pair if said else word
    return said


# ---- the tables on the secretariat's pages ----------------------------------------------------

KINDS = tuple(kind.value for kind in SubmissionKind)
ENDORSEMENTS = ("endorse", "endorse_with_reservations", "do_not_endorse")


@dataclass(frozen=True)
class Table:
    """A page of a review's table: its rows, and the place after them (None at the end)."""

    review: asyncpg.Record
    rows: list[asyncpg.Record]
    next_after: str | None


def _place(instant: datetime, row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{instant.isoformat()}|{row_id}".encode()).decode()


def _after(text: str | None, problems: list[tuple[str, str]]) -> tuple[datetime, uuid.UUID] | None:
    if not text:
        return None
    try:
        instant, _, row_id = base64.urlsafe_b64decode(text.encode()).decode().partition("|")
        return datetime.fromisoformat(instant).astimezone(UTC), uuid.UUID(row_id)
    except (ValueError, OverflowError):
        problems.append(("/after", gettext("is not a place in the list this service gave out")))
        return None


def _countries_named(search: str | None) -> list[str]:
    """The ISO3 codes of the countries whose code is `search` or whose name holds it."""
    if search is None:
        return []
    wanted = search.casefold()
    return sorted(
        {
            country.iso3
            for region in load_reference().regions
            for country in (*region.members, *region.associate_members)
            if wanted == country.iso3.casefold() or wanted in country.name.casefold()
        }
    )


def _choice(
    text: str | None, name: str, allowed: tuple[str, ...], problems: list[Any]
) -> str | None:
    if not text:
        return None
    if text not in allowed:
        problems.append(
            (f"/{name}", gettext("must be one of: %(choices)s") % {"choices": ", ".join(allowed)})
        )
        return None
    return text


def _day(
    text: str | None, name: str, zone: tzinfo, problems: list[Any], *, end: bool
) -> datetime | None:
    """The start of the day `text` (YYYY-MM-DD) in `zone`; of the day after, for an `end`."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        problems.append((f"/{name}", gettext("must be a date such as 2026-03-02")))
        return None
    start = datetime.combine(day, time(), zone)
    return start + timedelta(days=1) if end else start


def _page(rows: list[asyncpg.Record], limit: int, instant: str, review: asyncpg.Record) -> Table:
    shown = rows[:limit]
    last = shown[-1] if len(rows) > limit else None
    return Table(review, shown, _place(last[instant], last["id"]) if last else None)


@dataclass(frozen=True)
class SubmissionFilters:
    """A submission table's filters as typed: each empty or absent for none."""

    kind: str | None = None
    q: str | None = None
    late: str | None = None
    received_from: str | None = None
    received_to: str | None = None


async def submission_table(
    deps: Deps,
    actor: Actor,
    review_id: str,
    filters: SubmissionFilters,
    *,
    after: str | None,
    zone: tzinfo,
    limit: int,
) -> Table:
    """For the review's secretariat: a page of its submissions (their latest version),
    newest first, as the filters (days in `zone`) pick them."""
    review = await run_by(deps, actor, review_id, "reads its submissions' table")
    problems: list[tuple[str, str]] = []
    kind = _choice(filters.kind, "kind", KINDS, problems)
    search = search_text(filters.q, problems)
    late = _choice(filters.late, "late", ("yes", "no"), problems)
    start = _day(filters.received_from, "received_from", zone, problems, end=False)
    end = _day(filters.received_to, "received_to", zone, problems, end=True)
    place = _after(after, problems)
    if problems:
        raise invalid(problems)
    rows = await queries.submission_table(
        deps.pool, review["id"], kind=kind, search=search, countries=_countries_named(search),
        late=None if late is None else late == "yes", received_from=start,
        received_before=end, after=place, limit=limit + 1,
    )  # fmt: skip
    return _page(rows, limit, "received_at", review)


async def answer_table(
    deps: Deps,
    actor: Actor,
    review_id: str,
    *,
    q: str | None,
    endorsement: str | None,
    after: str | None,
    limit: int,
) -> Table:
    """For the review's secretariat: a page of its consultation's answers, newest first."""
    review = await run_by(deps, actor, review_id, "reads its consultation's answers")
    problems: list[tuple[str, str]] = []
    search = search_text(q, problems)
    chosen = _choice(endorsement, "endorsement", ENDORSEMENTS, problems)
    place = _after(after, problems)
    if problems:
        raise invalid(problems)
    rows = await queries.answer_table(
        deps.pool, review["id"], search=search, countries=_countries_named(search),
        endorsement=chosen, after=place, limit=limit + 1,
    )  # fmt: skip
    return _page(rows, limit, "completed_at", review)


async def answer(
    deps: Deps, actor: Actor, review_id: str, task_id: str
) -> tuple[asyncpg.Record, asyncpg.Record]:
    """For the review's secretariat: the review and one answered task of its consultation."""
    review = await run_by(deps, actor, review_id, "reads its consultation's answers")
    found = await readable_task(deps, actor, task_id)
    if found["review_id"] != review["id"] or found["status"] != "completed":
        raise not_found(
            gettext("There is no answer %(id)s in this review.") % {"id": repr(task_id)}
        )
    return review, found
