"""A review's synthesis: stored once when the consultation opens, its head and its parts."""

from __future__ import annotations

from typing import Any

import asyncpg

from db.pool import Connection


async def store(
    conn: Connection,
    review_id: str,
    head: dict[str, Any],
    parts: list[tuple[str, Any]],
    content_hash: str,
) -> None:
    """Store the synthesis with its parts in order, unless the review has one already."""
    stored_now = await conn.fetchval(
        """INSERT INTO syntheses (review_id, content, content_hash) VALUES ($1, $2, $3)
           ON CONFLICT (review_id) DO NOTHING RETURNING true""",
        review_id,
        head,
        content_hash,
    )
    if stored_now:
        await conn.executemany(
            "INSERT INTO synthesis_parts (review_id, position, kind, content) VALUES ($1, $2, $3, $4)",
            [(review_id, n, kind, part) for n, (kind, part) in enumerate(parts)],
        )


async def synthesis(pool: asyncpg.Pool, review_id: str) -> asyncpg.Record | None:
    return await pool.fetchrow(
        "SELECT content, content_hash, created_at FROM syntheses WHERE review_id = $1", review_id
    )


async def synthesis_parts(
    pool: asyncpg.Pool, review_id: str, after: int, limit: int
) -> list[asyncpg.Record]:
    """The synthesis' parts from position `after` on, at most `limit`."""
    return await pool.fetch(
        """SELECT position, kind, content FROM synthesis_parts
           WHERE review_id = $1 AND position >= $2 ORDER BY position LIMIT $3""",
        review_id,
        after,
        limit,
    )
