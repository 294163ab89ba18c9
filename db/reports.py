"""Stored report versions and the secretariat's change requests."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg


async def report(
    pool: asyncpg.Pool, review_id: str, *, version: int | None, published_only: bool
) -> asyncpg.Record | None:
    """A version of the review's report: the one asked for, else the published one, else
    (for those who may see drafts) the latest."""
    return await pool.fetchrow(
        """SELECT version, content_hash, json, html, markdown, status, compiled_at, published_at
           FROM reports
           WHERE review_id = $1 AND ($2::int IS NULL OR version = $2)
             AND (NOT $3 OR status = 'published')
           ORDER BY (status = 'published') DESC, version DESC LIMIT 1""",
        review_id,
        version,
        published_only,
    )


async def insert_change_request(
    pool: asyncpg.Pool,
    request_id: uuid.UUID,
    review_id: str,
    version: int,
    body: dict[str, Any],
    actor_id: uuid.UUID,
) -> bool:
    """Store a change request once; False if this id was stored before (a retried request)."""
    status = await pool.execute(
        """INSERT INTO report_change_requests (id, review_id, version, note, editorial, requested_by)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING""",
        request_id,
        review_id,
        version,
        body["note"],
        body.get("editorial", {}),
        actor_id,
    )
    return status.endswith(" 1")


async def drop_change_request(pool: asyncpg.Pool, request_id: uuid.UUID) -> None:
    """Forget a change request the review refused, so it never reaches a later version."""
    await pool.execute("DELETE FROM report_change_requests WHERE id = $1", request_id)


async def latest_version(pool: asyncpg.Pool, review_id: str) -> int:
    return int(
        await pool.fetchval(
            "SELECT coalesce(max(version), 0) FROM reports WHERE review_id = $1", review_id
        )
    )
