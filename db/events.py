"""The audit trail: domain events appended per review, read back in order."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from db.pool import Connection, Executor
from domain.events import ReviewEvent

INSERT_EVENT = (
    "INSERT INTO review_events (id, review_id, type, actor_id, at, data)"
    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING"
)


def _event_row(event: ReviewEvent, extra: dict[str, Any]) -> tuple[Any, ...]:
    return (
        uuid.UUID(event.id),
        event.review_id,
        event.type,
        uuid.UUID(event.actor_id) if event.actor_id else None,
        event.at,
        stored_data(event.data, extra),
    )


async def insert_event(conn: Executor, event: ReviewEvent, **extra: Any) -> None:
    """Append `event` once: its id is chosen by the caller, so a retried write is a no-op."""
    await conn.execute(INSERT_EVENT, *_event_row(event, extra))


async def insert_events(
    conn: Executor, events: Sequence[tuple[ReviewEvent, dict[str, Any]]]
) -> None:
    """Append each event once (with its extra data), in one round trip."""
    if events:
        await conn.executemany(INSERT_EVENT, [_event_row(e, extra) for e, extra in events])


def stored_data(data: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """An event's data as stored: round-tripped through JSON, so values such as datetimes are
    stored as text."""
    stored: dict[str, Any] = json.loads(json.dumps({**data, **extra}, default=str))
    return stored


@dataclass(frozen=True)
class EventFilter:
    """Which events of a trail to list: of one type, by one actor, at or after `since` and
    before `until`; None is any."""

    type: str | None = None
    actor_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


def _values(only: EventFilter) -> tuple[Any, ...]:
    return (only.type, only.actor_id, only.since, only.until)


async def events_after(
    pool: asyncpg.Pool,
    review_id: str,
    after: int,
    limit: int,
    only: EventFilter | None = None,
) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        """SELECT seq, id, type, actor_id, at, data FROM review_events
           WHERE review_id = $1 AND seq > $2
             AND ($4::text IS NULL OR type = $4)
             AND ($5::uuid IS NULL OR actor_id = $5)
             AND ($6::timestamptz IS NULL OR at >= $6)
             AND ($7::timestamptz IS NULL OR at < $7)
           ORDER BY seq LIMIT $3""",
        review_id,
        after,
        limit,
        *_values(only or EventFilter()),
    )
    return [{"seq": row["seq"], **event_document(row)} for row in rows]


def event_document(row: asyncpg.Record) -> dict[str, Any]:
    """An event as the audit trail gives it."""
    return {
        "id": str(row["id"]),
        "type": row["type"],
        "actor_id": str(row["actor_id"]) if row["actor_id"] else None,
        "at": row["at"].isoformat(),
        "data": row["data"],
    }


async def consultation_closed(conn: Executor, review_id: str) -> bool:
    closed = await conn.fetchval(
        "SELECT 1 FROM review_events WHERE review_id = $1 AND type = 'consultation.closed'",
        review_id,
    )
    return closed is not None


async def claim_unexpanded(conn: Connection, limit: int) -> list[asyncpg.Record]:
    """Up to `limit` events not yet expanded into deliveries, oldest first, locked for the
    caller's transaction (another expander skips them)."""
    return await conn.fetch(
        """SELECT id, review_id, type, actor_id, data FROM review_events
           WHERE expanded_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
    )


async def lock_for_expansion(conn: Connection, event_ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    """The events `event_ids` locked for the caller's transaction in the order
    `claim_unexpanded` takes them, waiting for any expander that holds one.

    Whoever expands an event holds its lock first: a delivery's foreign key is checked against
    its event only after the delivery's row is written, so two transactions writing the same
    event's deliveries without it could each hold a row the other waits for."""
    return await conn.fetch(
        """SELECT id, review_id, type, actor_id, data FROM review_events
           WHERE id = ANY($1::uuid[]) ORDER BY seq FOR UPDATE""",
        event_ids,
    )


async def mark_expanded(conn: Connection, event_ids: list[uuid.UUID]) -> None:
    await conn.execute(
        "UPDATE review_events SET expanded_at = now() WHERE id = ANY($1::uuid[])", event_ids
    )


async def trail_actors(pool: asyncpg.Pool, review_id: str) -> list[asyncpg.Record]:
    """The accounts that acted in the review's trail (id, name), by name."""
    return await pool.fetch(
        """SELECT a.id, a.name FROM actors a
           WHERE a.id IN (SELECT actor_id FROM review_events WHERE review_id = $1)
           ORDER BY a.name, a.id""",
        review_id,
    )
