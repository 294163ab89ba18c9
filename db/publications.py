"""Published reports, as anyone may read them: only versions whose status is published."""

from __future__ import annotations

import asyncpg

from db.reports import LANGUAGES

# The most publications a list or the feed shows: a few per region and year.
MAX_LISTED = 500


async def published_reports(pool: asyncpg.Pool, region: str | None) -> list[asyncpg.Record]:
    """Every published report (of `region`, or of all), newest publication first."""
    rows: list[asyncpg.Record] = await pool.fetch(
        """SELECT v.id AS review_id, v.title, v.region, r.version, r.content_hash,
                  r.published_at
           FROM reports r JOIN reviews v ON v.id = r.review_id
           WHERE r.status = 'published' AND ($1::text IS NULL OR v.region = $1)
           ORDER BY r.published_at DESC, v.id
           LIMIT $2""",
        region,
        MAX_LISTED,
    )
    return rows


# What a published version is, without its content.
_HEAD = """v.id AS review_id, v.title, v.region, r.version, r.content_hash, r.published_at"""


async def published_head(pool: asyncpg.Pool, review_id: str) -> asyncpg.Record | None:
    """The review's published version without its frozen bytes (megabytes for a large
    review): what its page shows of it; None as for `published_report`."""
    return await pool.fetchrow(
        f"""SELECT {_HEAD}, {LANGUAGES}
            FROM reports r JOIN reviews v ON v.id = r.review_id
            WHERE r.review_id = $1 AND r.status = 'published'""",
        review_id,
    )


async def published_json(pool: asyncpg.Pool, review_id: str, version: int) -> str | None:
    """The JSON of the review's published `version`, as frozen."""
    text: str | None = await pool.fetchval(
        "SELECT json FROM reports WHERE review_id = $1 AND version = $2 AND status = 'published'",
        review_id,
        version,
    )
    return text


async def published_report(pool: asyncpg.Pool, review_id: str) -> asyncpg.Record | None:
    """The review's published version in its frozen bytes (the PDF apart); None for a review
    that has none, or that does not exist."""
    return await pool.fetchrow(
        f"""SELECT {_HEAD}, r.json, r.html, r.markdown, {LANGUAGES}
            FROM reports r JOIN reviews v ON v.id = r.review_id
            WHERE r.review_id = $1 AND r.status = 'published'""",
        review_id,
    )
