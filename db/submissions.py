"""Submissions and their versions: stored as pending first, decided by the review's workflow."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg


async def store_pending(
    pool: asyncpg.Pool,
    *,
    request_id: uuid.UUID,
    review_id: str,
    kind: str,
    subject: str,
    content: dict[str, Any] | None,
    fingerprint: str,
    submitted_by: uuid.UUID,
    organisation: str | None,
    rejection: dict[str, Any] | None = None,
) -> tuple[asyncpg.Record, bool]:
    """Store the request (once per request id): pending with its content, or, refused before
    it reached the review (`rejection`), rejected without it. Returns its row as it now
    stands, and whether this call stored it."""
    async with pool.acquire() as conn, conn.transaction():
        submission_id = await conn.fetchval(
            """INSERT INTO submissions (id, review_id, kind, subject) VALUES ($1, $2, $3, $4)
               ON CONFLICT (review_id, kind, subject) DO UPDATE SET kind = EXCLUDED.kind
               RETURNING id""",
            uuid.uuid4(),
            review_id,
            kind,
            subject,
        )
        inserted = await conn.fetchval(
            """INSERT INTO submission_versions (request_id, submission_id, status, content,
                   fingerprint, submitted_by, organisation, rejection, decided_at)
               VALUES ($1, $2, CASE WHEN $7::jsonb IS NULL THEN 'pending' ELSE 'rejected' END,
                       $3, $4, $5, $6, $7, CASE WHEN $7::jsonb IS NULL THEN NULL ELSE now() END)
               ON CONFLICT (request_id) DO NOTHING RETURNING true""",
            request_id,
            submission_id,
            content,
            fingerprint,
            submitted_by,
            organisation,
            rejection,
        )
        stored = await conn.fetchrow(
            """SELECT v.*, s.review_id, s.kind, s.subject FROM submission_versions v
               JOIN submissions s ON s.id = v.submission_id WHERE v.request_id = $1""",
            request_id,
        )
        assert stored is not None  # inserted above, or there before
        return stored, bool(inserted)


async def record_rejection(
    pool: asyncpg.Pool, request_id: uuid.UUID, status: int, detail: str
) -> bool:
    """Mark a pending request refused, dropping its content; False if it was not pending (it
    was accepted, or its refusal recorded already)."""
    updated = await pool.fetchval(
        """UPDATE submission_versions
           SET status = 'rejected', decided_at = now(), rejection = $2, content = NULL
           WHERE request_id = $1 AND status = 'pending' RETURNING true""",
        request_id,
        {"status": status, "detail": detail},
    )
    return bool(updated)


async def review_submissions(
    pool: asyncpg.Pool, review_id: str, *, kind: str | None, subject: str | None
) -> list[asyncpg.Record]:
    """Submissions with an accepted version, optionally only one submitter's."""
    return await pool.fetch(
        """SELECT s.id, s.kind, s.subject, s.latest_version, v.late, v.decided_at AS updated_at
           FROM submissions s
           JOIN submission_versions v ON v.submission_id = s.id AND v.version = s.latest_version
           WHERE s.review_id = $1 AND s.latest_version > 0
             AND ($2::text IS NULL OR s.kind = $2) AND ($3::text IS NULL OR s.subject = $3)
           ORDER BY s.kind, s.subject""",
        review_id,
        kind,
        subject,
    )


async def submission(pool: asyncpg.Pool, submission_id: uuid.UUID) -> asyncpg.Record | None:
    return await pool.fetchrow(
        """SELECT s.*, r.region FROM submissions s JOIN reviews r ON r.id = s.review_id WHERE s.id = $1""",
        submission_id,
    )


async def accepted_versions(pool: asyncpg.Pool, submission_id: uuid.UUID) -> list[asyncpg.Record]:
    return await pool.fetch(
        """SELECT version, late, received_at, decided_at, submitted_by, content FROM submission_versions
           WHERE submission_id = $1 AND status = 'accepted' ORDER BY version""",
        submission_id,
    )
