"""Webhook subscriptions and their delivery log."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from db.pool import Connection

_COLUMNS = "id, owner, url, events, review_id, regions, created_at"


async def insert_webhook(conn: Connection, hook: dict[str, Any]) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""INSERT INTO webhooks (id, owner, url, events, secret, review_id, regions)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_COLUMNS}""",
        hook["id"],
        hook["owner"],
        hook["url"],
        hook["events"],
        hook["secret"],
        hook["review_id"],
        hook["regions"],
    )
    assert row is not None  # RETURNING of an insert
    return row


async def count_live_webhooks(conn: Connection, owner: uuid.UUID) -> int:
    """How many live subscriptions `owner` has. Locks the owner's account row until the
    transaction ends, so concurrent subscriptions of one owner are counted one after another."""
    await conn.execute("SELECT 1 FROM actors WHERE id = $1 FOR UPDATE", owner)
    count = await conn.fetchval(
        "SELECT count(*) FROM webhooks WHERE owner = $1 AND deleted_at IS NULL", owner
    )
    return int(count)


async def webhooks_of(pool: asyncpg.Pool, owner: uuid.UUID | None) -> list[asyncpg.Record]:
    """Live subscriptions of `owner`, or of everyone when None (an admin)."""
    return await pool.fetch(
        f"""SELECT {_COLUMNS} FROM webhooks
            WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR owner = $1) ORDER BY created_at, id""",
        owner,
    )


async def webhook(pool: asyncpg.Pool, webhook_id: uuid.UUID) -> asyncpg.Record | None:
    return await pool.fetchrow(
        f"SELECT {_COLUMNS} FROM webhooks WHERE id = $1 AND deleted_at IS NULL", webhook_id
    )


async def delete_webhook(conn: Connection, webhook_id: uuid.UUID) -> None:
    """Unsubscribe; deliveries still waiting are dropped (one being sent right now finishes).
    Run inside the caller's transaction."""
    await conn.execute("UPDATE webhooks SET deleted_at = now() WHERE id = $1", webhook_id)
    await conn.execute(
        """UPDATE deliveries SET status = 'failed', last_error = 'the webhook was deleted'
           WHERE channel = 'webhook' AND recipient = $1 AND status = 'pending'""",
        webhook_id,
    )


async def deliveries(
    pool: asyncpg.Pool, webhook_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
) -> list[asyncpg.Record]:
    """The webhook's deliveries, newest first, each with its attempts."""
    return await pool.fetch(
        """SELECT d.id, d.event_id, e.type AS event_type, d.status, d.attempts, d.next_attempt_at,
                  d.sent_at, d.last_error, d.created_at,
                  coalesce((SELECT jsonb_agg(jsonb_build_object(
                                'attempt', a.attempt, 'at', a.at, 'status_code', a.status_code,
                                'error', a.error) ORDER BY a.attempt)
                            FROM delivery_attempts a WHERE a.delivery_id = d.id), '[]') AS attempt_log
           FROM deliveries d JOIN review_events e ON e.id = d.event_id
           WHERE d.channel = 'webhook' AND d.recipient = $1
             AND ($2::uuid IS NULL OR (d.created_at, d.id) < (SELECT created_at, id FROM deliveries WHERE id = $2))
           ORDER BY d.created_at DESC, d.id DESC LIMIT $3""",
        webhook_id,
        after,
        limit,
    )
