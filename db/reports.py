"""Stored report versions and the secretariat's change requests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from db.pool import Connection

# A version's languages, as a column of a query of `reports r`: its own row's first, then
# those of its other renderings.
LANGUAGES = """r.language, ARRAY[r.language] || ARRAY(
                  SELECT g.language FROM report_renderings g
                  WHERE g.review_id = r.review_id AND g.version = r.version
                  ORDER BY g.language) AS languages"""


async def report(
    pool: asyncpg.Pool, review_id: str, *, version: int | None, published_only: bool
) -> asyncpg.Record | None:
    """A version of the review's report: the one asked for, else the published one, else
    (for those who may see drafts) the latest."""
    return await pool.fetchrow(
        f"""SELECT version, content_hash, json, html, markdown, status, compiled_at, published_at,
                   {LANGUAGES}
            FROM reports r
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


async def review_to_compile(conn: Connection, review_id: str) -> asyncpg.Record | None:
    """The review's row to compile a version from, held (FOR SHARE) until the version is
    stored: its report's languages cannot change meanwhile (`db.reviews.set_report_languages`),
    and a change made since this transaction began fails it, to be compiled again."""
    return await conn.fetchrow("SELECT * FROM reviews WHERE id = $1 FOR SHARE", review_id)


async def stored_hash(conn: Connection, review_id: str, version: int) -> str | None:
    """The content hash of a stored version, None when it is not stored yet."""
    stored: str | None = await conn.fetchval(
        "SELECT content_hash FROM reports WHERE review_id = $1 AND version = $2",
        review_id,
        version,
    )
    return stored


async def insert_report(
    conn: Connection,
    review_id: str,
    version: int,
    content_hash: str,
    rendered: tuple[str, str, str],
    change_request: uuid.UUID | None,
    language: str = "en",
) -> None:
    """Store a compiled version in its final bytes: (json, html, markdown), the HTML and
    Markdown in `language` (the review's first); its PDF, rendered from that HTML, is stored
    after (`keep_pdf`)."""
    json_text, html, markdown = rendered
    await conn.execute(
        """INSERT INTO reports (review_id, version, content_hash, json, html, markdown,
                                change_request_id, language)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        review_id,
        version,
        content_hash,
        json_text,
        html,
        markdown,
        change_request,
        language,
    )


async def insert_rendering(
    conn: Connection, review_id: str, version: int, language: str, html: str, markdown: str
) -> None:
    """Store the version (stored just before, in the same transaction) in another language."""
    await conn.execute(
        """INSERT INTO report_renderings (review_id, version, language, html, markdown)
           VALUES ($1, $2, $3, $4, $5)""",
        review_id,
        version,
        language,
        html,
        markdown,
    )


async def rendering(
    pool: asyncpg.Pool, review_id: str, version: int, language: str
) -> asyncpg.Record | None:
    """The version's HTML and Markdown in `language`, one of its languages but the first."""
    return await pool.fetchrow(
        """SELECT language, html, markdown FROM report_renderings
           WHERE review_id = $1 AND version = $2 AND language = $3""",
        review_id,
        version,
        language,
    )


async def stored_rendering_pdf(
    pool: asyncpg.Pool, review_id: str, version: int, language: str
) -> bytes | None:
    pdf: bytes | None = await pool.fetchval(
        """SELECT pdf FROM report_renderings
           WHERE review_id = $1 AND version = $2 AND language = $3""",
        review_id,
        version,
        language,
    )
    return pdf


async def keep_rendering_pdf(
    pool: asyncpg.Pool, review_id: str, version: int, language: str, pdf: bytes
) -> bytes:
    """Store `pdf` as the PDF of the version in `language` unless it has one: the one stored."""
    kept: bytes | None = await pool.fetchval(
        """UPDATE report_renderings SET pdf = $4
           WHERE review_id = $1 AND version = $2 AND language = $3 AND pdf IS NULL
           RETURNING pdf""",
        review_id,
        version,
        language,
        pdf,
    )
    if kept is not None:
        return kept
    stored = await stored_rendering_pdf(pool, review_id, version, language)
    assert stored is not None  # another request stored it first
    return stored


async def stored_pdf(pool: asyncpg.Pool, review_id: str, version: int) -> bytes | None:
    """The version's PDF; None for a version compiled before PDFs were (migration 0017)."""
    pdf: bytes | None = await pool.fetchval(
        "SELECT pdf FROM reports WHERE review_id = $1 AND version = $2", review_id, version
    )
    return pdf


async def keep_pdf(pool: asyncpg.Pool, review_id: str, version: int, pdf: bytes) -> bytes:
    """Store `pdf` as the version's PDF unless it has one already: the PDF stored, which
    never changes once it is."""
    kept: bytes | None = await pool.fetchval(
        """UPDATE reports SET pdf = $3 WHERE review_id = $1 AND version = $2 AND pdf IS NULL
           RETURNING pdf""",
        review_id,
        version,
        pdf,
    )
    if kept is not None:
        return kept
    stored = await stored_pdf(pool, review_id, version)
    assert stored is not None  # another request stored it first
    return stored


async def publish(
    conn: Connection,
    review_id: str,
    version: int,
    *,
    at: datetime,
    by: uuid.UUID | None,
    note: str | None,
) -> str:
    """Mark the version published (the workflow publishes a version it compiled); its
    content hash."""
    published: str = await conn.fetchval(
        """UPDATE reports SET status = 'published', published_at = $3, published_by = $4, note = $5
           WHERE review_id = $1 AND version = $2 RETURNING content_hash""",
        review_id,
        version,
        at,
        by,
        note,
    )
    return published


async def accept_change_request(conn: Connection, change_request: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE report_change_requests SET accepted = true WHERE id = $1", change_request
    )


async def accepted_editorials(conn: Connection, change_request: uuid.UUID) -> list[dict[str, str]]:
    """The editorial text of every accepted change request of the review up to
    `change_request`, oldest first."""
    rows = await conn.fetch(
        """SELECT editorial FROM report_change_requests
           WHERE review_id = (SELECT review_id FROM report_change_requests WHERE id = $1)
             AND accepted
             AND (requested_at, id) <= (SELECT requested_at, id FROM report_change_requests WHERE id = $1)
           ORDER BY requested_at, id""",
        change_request,
    )
    return [row["editorial"] for row in rows]


async def versions(pool: asyncpg.Pool, review_id: str) -> list[asyncpg.Record]:
    """Every version of the review's report, newest first, each with the change request it
    was compiled for (if any) and who asked for it."""
    return await pool.fetch(
        """SELECT r.version, r.status, r.compiled_at, r.published_at, r.note AS published_note,
                  c.version AS changed_version, c.note AS change_note, c.editorial,
                  c.requested_at, a.name AS requested_by
           FROM reports r
           LEFT JOIN report_change_requests c ON c.id = r.change_request_id
           LEFT JOIN actors a ON a.id = c.requested_by
           WHERE r.review_id = $1 ORDER BY r.version DESC""",
        review_id,
    )
