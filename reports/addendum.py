"""The report's account of the addendum to the synthesis: the inputs accepted after the
consultation opened, which the consultees read apart from the synthesis. The report lists them
in a section of their own and marks what it quotes of them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import asyncpg

from db import syntheses
from db.pool import Connection
from domain.publication import may_be_quoted, quoted_with_name

# The addendum's submissions a report lists at most (inputs after the opening are few).
LISTED = 1000


def may_be_listed(row: asyncpg.Record) -> bool:
    """Whether an added submission is listed by itself: a national report always (that its
    State sent one is no secret); a stakeholder input unless its organisation asked that it
    not be published: that one is only counted, like everywhere else."""
    return row["kind"] == "national_report" or may_be_quoted(row["content"])


def listed(row: asyncpg.Record) -> dict[str, Any]:
    """An added submission as the addendum lists it: its State, or its organisation only if
    that agreed to be named."""
    named = row["kind"] == "national_report" or quoted_with_name(row["content"])
    return {
        "submission_id": str(row["id"]),
        "version": row["version"],
        "kind": row["kind"],
        "subject": row["subject"] if row["kind"] == "national_report" else None,
        "organisation": row["organisation"] if named and row["organisation"] else None,
        "accepted_at": row["decided_at"].isoformat(),
        "late": row["late"],
        "under_extension": row["under_extension"],
    }


async def addendum_section(conn: Connection, review_id: str) -> dict[str, Any] | None:
    """The report's `synthesis_addendum`, or None when nothing was added (the report then
    stays as it was before addenda existed)."""
    rows = await syntheses.addendum(conn, review_id, LISTED)
    if not rows:
        return None
    return {"submissions": [listed(row) for row in rows if may_be_listed(row)]}


def added_ids(report: dict[str, Any]) -> frozenset[str]:
    """The submissions of the report's addendum."""
    listed: Iterable[dict[str, Any]] = report.get("synthesis_addendum", {}).get("submissions", [])
    return frozenset(item["submission_id"] for item in listed)


S = TypeVar("S")


def marking(
    source: Callable[[dict[str, Any]], S | None],
    added: frozenset[str],
    marked: Callable[[S], S],
) -> Callable[[dict[str, Any]], S | None]:
    """`source`, but what it names of a submission in `added` is `marked`."""

    def mark(item: dict[str, Any]) -> S | None:
        found = source(item)
        if found is not None and item.get("submission_id") in added:
            return marked(found)
        return found

    return mark
