"""What the secretariat's reminders and announcements need to know of a review: who has sent
what, who has not acted, when it last reminded by hand, and which accounts a message reaches."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from db.pool import Connection, Executor
from db.submissions import stakeholders_without_input
from db.tasks import open_assignees
from domain.events import EventType


async def countries_submitted(conn: Executor, review_id: str) -> list[str]:
    """The member States whose national report the review has accepted."""
    rows = await conn.fetch(
        """SELECT subject FROM submissions
           WHERE review_id = $1 AND kind = 'national_report' AND latest_version > 0""",
        review_id,
    )
    return [row["subject"] for row in rows]


async def last_reminded_now(conn: Executor, review_id: str) -> datetime | None:
    """When the secretariat last reminded those who had not acted, by hand."""
    at: datetime | None = await conn.fetchval(
        "SELECT max(at) FROM review_events WHERE review_id = $1 AND type = $2",
        review_id,
        EventType.REMINDER_SENT_NOW,
    )
    return at


async def stakeholders_behind(
    conn: Connection, review_id: str, consultation: bool
) -> list[tuple[uuid.UUID, str, str | None]]:
    """The stakeholders who have not acted (id, name, organisation), by name: in the
    consultation, those holding an open task; else the invited ones without an input."""
    if consultation:
        return [
            (r["assignee"], r["name"], r["organisation"])
            for r in await open_assignees(conn, review_id)
        ]
    rows = await conn.fetch(
        "SELECT id, name, organisation FROM actors WHERE id = ANY($1::uuid[]) ORDER BY name, id",
        await stakeholders_without_input(conn, review_id),
    )
    return [(r["id"], r["name"], r["organisation"]) for r in rows]


async def reachable(
    conn: Executor, review_id: str, recipients: str, data: dict[str, Any]
) -> list[uuid.UUID]:
    """The accounts a message reaches by email (active, with an address): those `recipients`
    (a selection of `db.recipients`) names for an event of the review holding `data`."""
    rows = await conn.fetch(
        f"""WITH p AS (SELECT $1::text AS review_id, $2::jsonb AS data, NULL::uuid AS actor_id)
            SELECT a.id FROM actors a
            WHERE a.id IN ({recipients}) AND a.email IS NOT NULL AND a.disabled_at IS NULL
            ORDER BY a.id""",
        review_id,
        data,
    )
    return [row["id"] for row in rows]


async def event_of(conn: Executor, event_id: uuid.UUID) -> asyncpg.Record | None:
    """An event of the audit trail (at, data), by its id."""
    return await conn.fetchrow("SELECT at, data FROM review_events WHERE id = $1", event_id)
