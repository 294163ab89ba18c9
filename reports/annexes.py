"""The report's list of annexes: every file sent with the submissions the report is compiled
from, with its type, size and SHA-256, so that a reader holding a copy can tell it is the one.

A member State is named, as everywhere in the report. An organisation is named, and its file's
name shown (a file's name often names its author), only when its input may be published with
its name; otherwise the annex is listed by the organisation's category.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from db.annexes import report_annexes
from db.pool import Connection
from domain.publication import quoted_with_name


def _named(row: asyncpg.Record) -> bool:
    """A State always; an organisation only when its input may be published with its name."""
    return row["kind"] == "national_report" or quoted_with_name(
        {"publication": row["publication"], "consent_to_publish": row["consent_to_publish"]}
    )


def _entry(row: asyncpg.Record) -> dict[str, Any]:
    national, named = row["kind"] == "national_report", _named(row)
    return {
        "kind": row["kind"],
        "country": row["subject"] if national else None,
        "organisation": row["organisation"] if named and not national else None,
        "category": None if national else row["category"],
        "file_name": row["file_name"] if named else None,
        "media_type": row["media_type"],
        "size": row["size"],
        "sha256": row["sha256"],
        "submission_id": str(row["submission_id"]),
        "version": row["version"],
    }


async def annex_listing(conn: Connection, review_id: str) -> list[dict[str, Any]]:
    """The annexes of the latest accepted version of each of the review's submissions."""
    return [_entry(row) for row in await report_annexes(conn, review_id)]
