"""Annexes of a submission subject (review, kind, subject), and the versions sent with them.

Changes to one subject's annexes, and the binding of a version to them, take the subject's
lock first, so that the count of annexes holds and a version never binds one being removed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

from db.pool import Connection, Executor

# The columns an annex is read with.
ANNEX = (
    "a.id, a.review_id, a.kind, a.subject, a.file_name, a.media_type, a.size, a.sha256,"
    " a.uploaded_by, a.uploaded_at"
)


async def lock_subject(conn: Connection, review_id: str, kind: str, subject: str) -> None:
    """Hold the subject's annexes still until the transaction ends."""
    await conn.execute(
        "SELECT lock_annex_subject($1, $2, $3)",
        review_id,
        kind,
        subject,
    )


async def attached(conn: Executor, review_id: str, kind: str, subject: str) -> list[asyncpg.Record]:
    """The subject's annexes as the draft has them, oldest first."""
    return await conn.fetch(
        f"""SELECT {ANNEX} FROM annexes a
            WHERE a.review_id = $1 AND a.kind = $2 AND a.subject = $3 AND a.removed_at IS NULL
            ORDER BY a.uploaded_at, a.id""",
        review_id,
        kind,
        subject,
    )


async def insert_annex(
    conn: Connection,
    *,
    review_id: str,
    kind: str,
    subject: str,
    file_name: str,
    media_type: str,
    size: int,
    sha256: str,
    uploaded_by: uuid.UUID,
    most: int,
) -> asyncpg.Record | None:
    """Attach a file to the subject, unless it has `most` annexes already (None then). Run
    inside a transaction."""
    await lock_subject(conn, review_id, kind, subject)
    if len(await attached(conn, review_id, kind, subject)) >= most:
        return None
    return await conn.fetchrow(
        f"""INSERT INTO annexes AS a (id, review_id, kind, subject, file_name, media_type, size,
                sha256, uploaded_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {ANNEX}""",
        uuid.uuid4(),
        review_id,
        kind,
        subject,
        file_name,
        media_type,
        size,
        sha256,
        uploaded_by,
    )


async def remove_annex(
    conn: Connection, annex_id: uuid.UUID, review_id: str, kind: str, subject: str
) -> asyncpg.Record | None:
    """Take the annex off the subject's draft: deleted when no version was sent with it,
    else kept for those versions. The annex as it was, or None when the draft has no such
    annex. Run inside a transaction."""
    await lock_subject(conn, review_id, kind, subject)
    mine = "id = $1 AND review_id = $2 AND kind = $3 AND subject = $4 AND removed_at IS NULL"
    deleted = await conn.fetchrow(
        f"""DELETE FROM annexes a WHERE {mine}
              AND NOT EXISTS (SELECT 1 FROM submission_version_annexes b WHERE b.annex_id = a.id)
            RETURNING {ANNEX}""",
        annex_id,
        review_id,
        kind,
        subject,
    )
    if deleted is not None:
        return deleted
    return await conn.fetchrow(
        f"UPDATE annexes a SET removed_at = now() WHERE {mine} RETURNING {ANNEX}",
        annex_id,
        review_id,
        kind,
        subject,
    )


async def annex(conn: Executor, annex_id: uuid.UUID) -> asyncpg.Record | None:
    """The annex, removed from its draft or not, with its review's region and whether an
    accepted version was sent with it."""
    return await conn.fetchrow(
        f"""SELECT {ANNEX}, a.removed_at, r.region, EXISTS (
                SELECT 1 FROM submission_version_annexes b
                JOIN submission_versions v ON v.request_id = b.request_id
                WHERE b.annex_id = a.id AND v.status = 'accepted') AS sent
            FROM annexes a JOIN reviews r ON r.id = a.review_id WHERE a.id = $1""",
        annex_id,
    )


async def version_annexes(
    conn: Executor, submission_id: uuid.UUID, versions: Sequence[int]
) -> list[asyncpg.Record]:
    """The annexes each of these accepted versions was sent with (`version` beside each)."""
    return await conn.fetch(
        f"""SELECT v.version, {ANNEX} FROM submission_versions v
            JOIN submission_version_annexes b ON b.request_id = v.request_id
            JOIN annexes a ON a.id = b.annex_id
            WHERE v.submission_id = $1 AND v.version = ANY($2::int[])
            ORDER BY v.version, a.uploaded_at, a.id""",
        submission_id,
        list(versions),
    )


# The annexes of every submission's latest accepted version of a review, with what the report
# needs to say whom they come from: the State, or the organisation and whether it may be named.
REPORT_ANNEXES = """
    SELECT s.kind, s.subject, s.id AS submission_id, v.version, o.name AS organisation,
           o.category, v.content ->> 'publication' AS publication,
           v.content -> 'consent_to_publish' AS consent_to_publish,
           a.file_name, a.media_type, a.size, a.sha256
    FROM submissions s
    JOIN submission_versions v ON v.submission_id = s.id AND v.version = s.latest_version
    JOIN submission_version_annexes b ON b.request_id = v.request_id
    JOIN annexes a ON a.id = b.annex_id
    LEFT JOIN organisations o ON s.kind = 'stakeholder_input' AND o.id::text = s.subject
    WHERE s.review_id = $1 AND s.latest_version > 0
    ORDER BY s.kind, coalesce(o.name, s.subject), s.subject, a.uploaded_at, a.id"""


async def report_annexes(conn: Connection, review_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(REPORT_ANNEXES, review_id)
