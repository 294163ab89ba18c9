"""Submissions and their versions, the whole lifecycle in one place: a request is stored as
pending by the API, then accepted by the review's workflow (through its activity) or rejected
by the API when the review refused it (or before it reached the review)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from db.pool import Connection

# Each submission's latest accepted version, `latest` to the query that starts `WITH` it.
LATEST_ACCEPTED = """
    latest AS NOT MATERIALIZED (
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
    are. Returns its row as it now stands, and whether this call stored it. One round trip
    (a function of the database's, migration 0033): a deadline-day rush stores thousands."""
    stored = await pool.fetchrow(
        "SELECT * FROM store_submission_request($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        request_id,
        uuid.uuid4(),
        review_id,
        kind,
        subject,
        content,
        fingerprint,
        submitted_by,
        organisation,
        rejection,
        schema_version,
    )
    assert stored is not None  # stored now, or there before
    return stored, bool(stored["inserted"])


# ---- accepted ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acceptance:
    submission_id: uuid.UUID
    version: int
    late: bool
    organisation: str | None
    accepted_now: bool  # False: accepted by an earlier attempt, which numbered it then


@dataclass(frozen=True)
class AcceptRequest:
    """A pending request to accept, and how: late or not, decided when."""

    request_id: uuid.UUID
    late: bool
    decided_at: datetime


async def accept_many(
    conn: Connection, requests: Sequence[AcceptRequest], *, after_synthesis: bool = False
) -> dict[uuid.UUID, Acceptance]:
    """Accept pending requests, each as its submission's next version (several of one
    submission numbered in the order of their request ids); a request accepted before keeps
    its version. Requests not stored are left out. `after_synthesis`: the versions join the
    addendum to the review's synthesis. Run inside a transaction: three statements whatever
    the number of requests."""
    rows = await conn.fetch(
        # The requests and their submissions locked together, in submission order, so that
        # concurrent batches numbering versions of the same submissions never deadlock.
        """SELECT v.request_id, v.submission_id, v.version, v.status, v.late, v.organisation
           FROM submission_versions v JOIN submissions s ON s.id = v.submission_id
           WHERE v.request_id = ANY($1::uuid[])
           ORDER BY v.submission_id, v.request_id
           FOR UPDATE""",
        [r.request_id for r in requests],
    )
    asked = {r.request_id: r for r in requests}
    done = {
        row["request_id"]: Acceptance(
            row["submission_id"], row["version"], row["late"], row["organisation"], False
        )
        for row in rows
        if row["status"] == "accepted"
    }
    pending = [row for row in rows if row["status"] != "accepted"]
    if not pending:
        return done
    # Each pending request's place among its submission's new versions (rows are in
    # submission order, then request order).
    places: list[int] = []
    for i, row in enumerate(pending):
        same = i > 0 and pending[i - 1]["submission_id"] == row["submission_id"]
        places.append(places[-1] + 1 if same else 1)
    numbered = await conn.fetch(
        """WITH added AS (
               SELECT submission_id, max(place) AS count
               FROM unnest($2::uuid[], $3::int[]) AS a (submission_id, place)
               GROUP BY submission_id),
           bumped AS (
               UPDATE submissions s SET latest_version = s.latest_version + added.count
               FROM added WHERE s.id = added.submission_id
               RETURNING s.id, s.latest_version - added.count AS before)
           UPDATE submission_versions v
              SET status = 'accepted', version = bumped.before + n.place, late = n.late,
                  decided_at = n.decided_at, after_synthesis = $6
           FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::bool[], $5::timestamptz[])
                    AS n (request_id, submission_id, place, late, decided_at)
           JOIN bumped ON bumped.id = n.submission_id
           WHERE v.request_id = n.request_id
           RETURNING v.request_id, v.version""",
        [row["request_id"] for row in pending],
        [row["submission_id"] for row in pending],
        places,
        [asked[row["request_id"]].late for row in pending],
        [asked[row["request_id"]].decided_at for row in pending],
        after_synthesis,
    )
    version_of = {row["request_id"]: row["version"] for row in numbered}
    for row in pending:
        request = asked[row["request_id"]]
        done[request.request_id] = Acceptance(
            row["submission_id"],
            version_of[request.request_id],
            request.late,
            row["organisation"],
            True,
        )
    return done


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
