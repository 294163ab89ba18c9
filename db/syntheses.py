"""A review's synthesis: stored once when the consultation opens, its head and its parts."""

from __future__ import annotations

from typing import Any

import asyncpg

from db.pool import Connection, Executor


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


# ---- the addendum: versions accepted after the synthesis was made ---------------------------


# A transaction-level advisory lock per review, not a lock on its row: the review's row is
# written by every change of phase, which must never wait behind a synthesis being made (a
# cancellation interrupts a stuck one only once its own change is recorded).
SYNTHESIS_LOCK = "hashtextextended('synthesis:' || $1, 0)"


async def lock_for_synthesis(conn: Connection, review_id: str) -> None:
    """Make the synthesis of `review_id` alone: acceptances wait until it is stored (and the
    versions it was made from are exactly those accepted before). In its transaction."""
    await conn.execute(f"SELECT pg_advisory_xact_lock({SYNTHESIS_LOCK})", review_id)


async def made_before_acceptance(conn: Connection, review_id: str) -> bool:
    """Whether the review's synthesis is made, so that the versions this transaction accepts
    belong to its addendum; holds off a synthesis being made until the transaction ends."""
    await conn.execute(f"SELECT pg_advisory_xact_lock_shared({SYNTHESIS_LOCK})", review_id)
    found = await conn.fetchval("SELECT true FROM syntheses WHERE review_id = $1", review_id)
    return bool(found)


# Each submission whose latest accepted version came after the synthesis; a stakeholder
# input's with its organisation, a national report's with whether its State's deadline was
# extended.
ADDENDUM = """
    SELECT s.id, s.kind, s.subject, v.version, v.content, v.late, v.decided_at,
           o.name AS organisation, o.category,
           (s.kind = 'national_report' AND r.country_extensions ? s.subject) AS under_extension
    FROM submissions s
    JOIN submission_versions v ON v.submission_id = s.id AND v.version = s.latest_version
    JOIN reviews r ON r.id = s.review_id
    LEFT JOIN organisations o ON s.kind = 'stakeholder_input' AND o.id::text = s.subject
    WHERE s.review_id = $1 AND s.latest_version > 0 AND v.after_synthesis"""


async def addendum(conn: Executor, review_id: str, limit: int) -> list[asyncpg.Record]:
    """The addendum's first `limit` submissions, in the order they were accepted."""
    return await conn.fetch(
        f"{ADDENDUM} ORDER BY v.decided_at, s.kind, s.subject LIMIT $2", review_id, limit
    )


async def addendum_size(conn: Executor, review_id: str) -> int:
    return int(await conn.fetchval(f"SELECT count(*) FROM ({ADDENDUM}) AS added", review_id))
