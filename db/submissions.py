"""Submissions and their versions, the whole lifecycle in one place: a request is stored as
pending by the API, then accepted by the review's workflow (through its activity) or rejected
by the API when the review refused it (or before it reached the review)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from db.annexes import bind_annexes
from db.pool import Connection

# Each submission's latest accepted version, `latest` to the query that starts `WITH` it.
LATEST_ACCEPTED = """
    latest AS (
        SELECT s.id, s.kind, s.subject, s.latest_version, v.version, v.late, v.content,
               v.decided_at
        FROM submissions s
        JOIN submission_versions v ON v.submission_id = s.id AND v.version = s.latest_version
        WHERE s.review_id = $1 AND s.latest_version > 0)"""

# ---- pending -------------------------------------------------------------------------------


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
    schema_version: int,
    rejection: dict[str, Any] | None = None,
) -> tuple[asyncpg.Record, bool]:
    """Store the request (once per request id): pending with its content (checked against
    `schema_version` of its kind's schema), or, refused before it reached the review
    (`rejection`), rejected without it, and a pending one with the subject's annexes as they
    are. Returns its row as it now stands, and whether this call stored it."""
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
                   fingerprint, submitted_by, organisation, rejection, decided_at,
                   schema_version)
               VALUES ($1, $2, CASE WHEN $7::jsonb IS NULL THEN 'pending' ELSE 'rejected' END,
                       $3, $4, $5, $6, $7, CASE WHEN $7::jsonb IS NULL THEN NULL ELSE now() END,
                       $8)
               ON CONFLICT (request_id) DO NOTHING RETURNING true""",
            request_id,
            submission_id,
            content,
            fingerprint,
            submitted_by,
            organisation,
            rejection,
            schema_version,
        )
        if inserted and content is not None:
            await bind_annexes(conn, request_id, review_id, kind, subject)
        stored = await conn.fetchrow(
            """SELECT v.*, s.review_id, s.kind, s.subject FROM submission_versions v
               JOIN submissions s ON s.id = v.submission_id WHERE v.request_id = $1""",
            request_id,
        )
        assert stored is not None  # inserted above, or there before
        return stored, bool(inserted)


# ---- accepted ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acceptance:
    submission_id: uuid.UUID
    version: int
    late: bool
    organisation: str | None
    accepted_now: bool  # False: accepted by an earlier attempt, which numbered it then


async def accept(
    conn: Connection,
    request_id: uuid.UUID,
    *,
    late: bool,
    decided_at: datetime,
    after_synthesis: bool = False,
) -> Acceptance | None:
    """Accept a pending request as its submission's next version; a request accepted before
    keeps its version. None when the request is not stored. `after_synthesis`: the version
    joins the addendum to the review's synthesis. Run inside a transaction."""
    row = await conn.fetchrow(
        "SELECT submission_id, version, status, late, organisation FROM submission_versions"
        " WHERE request_id = $1 FOR UPDATE",
        request_id,
    )
    if row is None:
        return None
    if row["status"] == "accepted":
        return Acceptance(
            row["submission_id"], row["version"], row["late"], row["organisation"], False
        )
    # Lock the submission so concurrent versions of it are numbered one after another.
    version = await conn.fetchval(
        "UPDATE submissions SET latest_version = latest_version + 1 WHERE id = $1"
        " RETURNING latest_version",
        row["submission_id"],
    )
    await conn.execute(
        "UPDATE submission_versions SET status = 'accepted', version = $2, late = $3,"
        " decided_at = $4, after_synthesis = $5 WHERE request_id = $1",
        request_id,
        version,
        late,
        decided_at,
        after_synthesis,
    )
    return Acceptance(row["submission_id"], version, late, row["organisation"], True)


async def latest_accepted_with_organisation(
    conn: Connection, review_id: str
) -> AsyncIterator[asyncpg.Record]:
    """Every submission's latest accepted version, streamed; a stakeholder input (whose
    subject is its organisation's id) with its organisation's name and category."""
    query = f"""
        WITH {LATEST_ACCEPTED}
        SELECT latest.id, latest.kind, latest.subject, latest.version, latest.content,
               o.name AS organisation, o.category
        FROM latest
        LEFT JOIN organisations o ON latest.kind = 'stakeholder_input' AND o.id::text = latest.subject
        ORDER BY latest.kind, latest.subject"""
    async for row in conn.cursor(query, review_id):
        yield row


async def stakeholders_without_input(conn: Connection, review_id: str) -> list[uuid.UUID]:
    """The review's invited stakeholders whose organisation has no accepted input yet."""
    rows = await conn.fetch(
        """
        SELECT c.actor_id FROM review_consultees c
        WHERE c.review_id = $1 AND c.role = 'stakeholder'
          AND NOT EXISTS (
              SELECT 1 FROM submissions s
              WHERE s.review_id = c.review_id AND s.kind = 'stakeholder_input'
                AND s.subject = c.organisation_id::text AND s.latest_version > 0)
        ORDER BY c.actor_id
        """,
        review_id,
    )
    return [row["actor_id"] for row in rows]


# ---- rejected ------------------------------------------------------------------------------


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


async def refused_after_compilation(conn: Connection, review_id: str) -> list[asyncpg.Record]:
    """Submissions refused because compilation had started: the report lists them."""
    return await conn.fetch(
        """
        SELECT s.kind, s.subject, v.received_at FROM submission_versions v
        JOIN submissions s ON s.id = v.submission_id
        WHERE s.review_id = $1 AND v.status = 'rejected'
          AND v.received_at >= (SELECT min(at) FROM review_events
                                WHERE review_id = $1 AND type = 'phase.changed' AND data ->> 'to' = 'compilation')
        ORDER BY v.received_at, s.kind, s.subject""",
        review_id,
    )


# ---- reads ---------------------------------------------------------------------------------


async def review_submissions(
    pool: asyncpg.Pool, review_id: str, *, kind: str | None, subject: str | None
) -> list[asyncpg.Record]:
    """Submissions with an accepted version, optionally only one submitter's."""
    return await pool.fetch(
        f"""WITH {LATEST_ACCEPTED}
            SELECT id, kind, subject, latest_version, late, decided_at AS updated_at FROM latest
            WHERE ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR subject = $3)
            ORDER BY kind, subject""",
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
        """SELECT version, schema_version, late, received_at, decided_at, submitted_by, content
           FROM submission_versions
           WHERE submission_id = $1 AND status = 'accepted' ORDER BY version""",
        submission_id,
    )


async def accepted_version_list(
    pool: asyncpg.Pool, submission_ids: list[uuid.UUID]
) -> list[asyncpg.Record]:
    """The accepted versions of these submissions, without their content, oldest first."""
    return await pool.fetch(
        """SELECT submission_id, version, schema_version, late, received_at FROM submission_versions
           WHERE submission_id = ANY($1::uuid[]) AND status = 'accepted'
           ORDER BY submission_id, version""",
        submission_ids,
    )
