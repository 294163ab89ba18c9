"""The rows of a review's exports (its submissions, its consultation's answers, who takes part),
read in batches from a server-side cursor so that an export of any size holds one batch in
memory at a time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime
from typing import Any

import asyncpg

from db.pool import Connection, Executor
from db.submissions import LATEST_ACCEPTED

# Rows fetched from the cursor at a time: large enough that round trips do not dominate, small
# enough that a batch of national reports (23 objectives of long text each) stays a few MB.
BATCH = 500

SUBMISSIONS = f"""
    WITH {LATEST_ACCEPTED}
    SELECT latest.id, latest.kind, latest.subject, latest.version, latest.late, latest.content,
           v.received_at, o.name AS organisation, o.category, a.name AS submitter,
           a.email AS submitter_email,
           -- The annexes this version was sent with: how many, and their hashes in the order
           -- they were attached.
           (SELECT count(*) FROM submission_version_annexes b
            WHERE b.request_id = v.request_id) AS annex_count,
           (SELECT string_agg(x.sha256, ';' ORDER BY x.uploaded_at, x.id)
            FROM submission_version_annexes b JOIN annexes x ON x.id = b.annex_id
            WHERE b.request_id = v.request_id) AS annex_sha256
    FROM latest
    JOIN submission_versions v ON v.submission_id = latest.id AND v.version = latest.version
    JOIN actors a ON a.id = v.submitted_by
    LEFT JOIN organisations o
        ON latest.kind = 'stakeholder_input' AND o.id::text = latest.subject
    ORDER BY latest.kind, latest.subject, latest.id"""

ANSWERS = """
    SELECT t.id, t.organisation, t.stakeholder_category AS category, t.country,
           t.completed_at, t.response, a.name AS answered_by, a.email AS answered_by_email
    FROM tasks t
    LEFT JOIN actors a ON a.id = t.completed_by
    WHERE t.review_id = $1 AND t.status = 'completed'
    ORDER BY t.completed_at, t.id"""

# Each member State (with its focal points' names and addresses), then each stakeholder the
# review calls on; with where its submission stands.
PARTICIPANTS = """
    WITH r AS (SELECT id, region, member_states FROM reviews WHERE id = $1),
    sent AS (SELECT kind, subject, late FROM submissions s
             JOIN submission_versions v ON v.submission_id = s.id AND v.version = s.latest_version
             WHERE s.review_id = $1 AND s.latest_version > 0)
    SELECT 'member_state' AS kind, m.country, NULL::text AS organisation,
           NULL::text AS category,
           (SELECT string_agg(a.name, '; ' ORDER BY a.name) FROM actors a
            WHERE a.role = 'focal_point' AND a.country = m.country AND a.disabled_at IS NULL
              AND r.region = ANY (a.regions)) AS name,
           (SELECT string_agg(a.email, '; ' ORDER BY a.email) FROM actors a
            WHERE a.role = 'focal_point' AND a.country = m.country AND a.disabled_at IS NULL
              AND r.region = ANY (a.regions)) AS email,
           sent.late, sent.subject IS NOT NULL AS submitted, 0 AS part, m.country AS sort_key
    FROM r CROSS JOIN unnest(r.member_states) AS m(country)
    LEFT JOIN sent ON sent.kind = 'national_report' AND sent.subject = m.country
    UNION ALL
    SELECT 'stakeholder', NULL, c.organisation, c.stakeholder_category, a.name, a.email,
           sent.late, sent.subject IS NOT NULL, 1, lower(c.organisation) || a.id::text
    FROM review_consultees c
    JOIN actors a ON a.id = c.actor_id
    LEFT JOIN sent
        ON sent.kind = 'stakeholder_input' AND sent.subject = c.organisation_id::text
    WHERE c.review_id = $1 AND c.role = 'stakeholder'
    ORDER BY part, sort_key"""


async def batches(
    conn: Connection, query: str, review_id: str, size: int = BATCH
) -> AsyncIterator[list[asyncpg.Record]]:
    """The rows of `query` for the review, `size` at a time, from a server-side cursor (in a
    transaction of its own, as a cursor needs)."""
    async with conn.transaction(readonly=True):
        cursor = await conn.cursor(query, review_id)
        while rows := await cursor.fetch(size):
            yield rows


async def copy_submissions_csv(
    conn: Connection, review_id: str, sink: Callable[[bytes], Coroutine[Any, Any, None]]
) -> None:
    """The same rows as the submissions export, by a bare `COPY … TO STDOUT` as CSV: what
    PostgreSQL alone takes to hand them out (the benchmark's yardstick)."""
    await conn.copy_from_query(SUBMISSIONS, review_id, output=sink, format="csv", header=True)


# ---- the tables on the secretariat's pages ----------------------------------------------------


async def submission_table(
    conn: Executor,
    review_id: str,
    *,
    kind: str | None,
    search: str | None,
    countries: list[str],
    late: bool | None,
    received_from: datetime | None,
    received_before: datetime | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """At most `limit` submissions (their latest version), newest first, after `after` (the
    received_at and id of the last row of the page before); `search` in the organisation's
    name, or the country one of `countries`."""
    return await conn.fetch(
        f"""WITH {LATEST_ACCEPTED}
            SELECT latest.id, latest.kind, latest.subject, latest.version, latest.late,
                   v.received_at, o.name AS organisation, a.name AS submitter
            FROM latest
            JOIN submission_versions v
                ON v.submission_id = latest.id AND v.version = latest.version
            JOIN actors a ON a.id = v.submitted_by
            LEFT JOIN organisations o
                ON latest.kind = 'stakeholder_input' AND o.id::text = latest.subject
            WHERE ($2::text IS NULL OR latest.kind = $2)
              AND ($3::text IS NULL OR strpos(lower(o.name), lower($3)) > 0
                   OR latest.subject = ANY ($4::text[]))
              AND ($5::boolean IS NULL OR latest.late = $5)
              AND ($6::timestamptz IS NULL OR v.received_at >= $6)
              AND ($7::timestamptz IS NULL OR v.received_at < $7)
              AND ($8::timestamptz IS NULL OR (v.received_at, latest.id) < ($8, $9::uuid))
            ORDER BY v.received_at DESC, latest.id DESC
            LIMIT $10""",
        review_id,
        kind,
        search,
        countries,
        late,
        received_from,
        received_before,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )


async def answer_table(
    conn: Executor,
    review_id: str,
    *,
    search: str | None,
    countries: list[str],
    endorsement: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """At most `limit` answered consultation tasks, newest answer first, after `after`."""
    return await conn.fetch(
        """SELECT t.id, t.organisation, t.country, t.completed_at,
                  t.response ->> 'endorsement' AS endorsement, a.name AS answered_by
           FROM tasks t
           LEFT JOIN actors a ON a.id = t.completed_by
           WHERE t.review_id = $1 AND t.status = 'completed'
             AND ($2::text IS NULL OR strpos(lower(t.organisation), lower($2)) > 0
                  OR t.country = ANY ($3::text[]))
             AND ($4::text IS NULL OR t.response ->> 'endorsement' = $4)
             AND ($5::timestamptz IS NULL OR (t.completed_at, t.id) < ($5, $6::uuid))
           ORDER BY t.completed_at DESC, t.id DESC
           LIMIT $7""",
        review_id,
        search,
        countries,
        endorsement,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
