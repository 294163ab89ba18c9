"""What a review's dashboard reads: each member State's national report as it stands, the
statuses its report gives the objectives, and stakeholder inputs against invitations by
category. Counted and picked in SQL, so that a review with 10,000 stakeholders is read in a
few rows."""

from __future__ import annotations

import asyncpg

from db.pool import Executor
from db.submissions import LATEST_ACCEPTED

# Each State's latest accepted national report: its version, when that version was received,
# whether it came late, and each objective's status (the first entry for a number counts, as
# in the report).
NATIONAL_REPORTS = f"""
    WITH {LATEST_ACCEPTED}
    SELECT l.subject AS country, l.version, l.late, v.received_at,
           coalesce((SELECT jsonb_object_agg(number, status) FROM (
                        SELECT DISTINCT ON (o ->> 'number') o ->> 'number' AS number,
                               o ->> 'status' AS status
                        FROM jsonb_array_elements(l.content -> 'objectives')
                             WITH ORDINALITY AS e (o, n)
                        ORDER BY o ->> 'number', n) AS firsts),
                    '{{}}') AS statuses
    FROM latest l JOIN submission_versions v ON v.submission_id = l.id AND v.version = l.version
    WHERE l.kind = 'national_report'
    ORDER BY l.subject"""

# Organisations invited (those of the stakeholders on the review's list; every active
# stakeholder of the region when the review is open to all), and how many of them sent an
# input, by category (the organisation's, which its accounts carry).
INPUT_RATES = """
    WITH review AS (SELECT id, region, stakeholders FROM reviews WHERE id = $1),
    -- the list unnested and joined by primary key: `id = ANY (list)` on every account would
    -- cost the list's length for each of them
    invited AS (
        SELECT a.organisation_id, a.stakeholder_category AS category
        FROM review r CROSS JOIN LATERAL unnest(r.stakeholders) AS listed (id)
        JOIN actors a ON a.id = listed.id AND a.role = 'stakeholder'
        UNION
        SELECT a.organisation_id, a.stakeholder_category FROM review r
        JOIN actors a ON r.stakeholders IS NULL AND a.role = 'stakeholder'
                     AND a.disabled_at IS NULL AND r.region = ANY (a.regions)),
    sent AS (
        SELECT s.subject FROM submissions s
        WHERE s.review_id = $1 AND s.kind = 'stakeholder_input' AND s.latest_version > 0)
    SELECT i.category, count(*) AS invited, count(sent.subject) AS sent
    FROM invited i LEFT JOIN sent ON sent.subject = i.organisation_id::text
    GROUP BY i.category ORDER BY i.category"""


async def national_reports(conn: Executor, review_id: str) -> list[asyncpg.Record]:
    """country, version, late, received_at, statuses ({"<objective>": status})."""
    return await conn.fetch(NATIONAL_REPORTS, review_id)


async def input_rates(conn: Executor, review_id: str) -> list[asyncpg.Record]:
    """category, invited, sent: organisations, by stakeholder category."""
    return await conn.fetch(INPUT_RATES, review_id)
