"""The rows of a review's exports (its submissions, its consultation's answers, who takes part),
read in batches from a server-side cursor so that an export of any size holds one batch in
memory at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import asyncpg

from db.pool import Connection
from db.submissions import LATEST_ACCEPTED

# Rows fetched from the cursor at a time: large enough that round trips do not dominate, small
# enough that a batch of national reports (23 objectives of long text each) stays a few MB.
BATCH = 500

SUBMISSIONS = f"""
    WITH {LATEST_ACCEPTED}
    SELECT latest.id, latest.kind, latest.subject, latest.version, latest.late, latest.content,
           v.received_at, o.name AS organisation, o.category, a.name AS submitter,
           a.email AS submitter_email
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
