"""What a report is compiled from, aggregated in SQL.

National reports are few (one per member State) and read whole; stakeholder inputs and
consultation answers may be tens of thousands, so PostgreSQL counts them and picks a bounded,
stable selection of quotes per objective. Every list is ordered: the same inputs give the same
rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from db.pool import Connection
from db.submissions import LATEST_ACCEPTED, refused_after_compilation

NATIONAL_REPORTS = f"""
    WITH {LATEST_ACCEPTED}
    SELECT id, subject AS country, version, late, content FROM latest
    WHERE kind = 'national_report' ORDER BY subject"""

# A stakeholder input's subject is its organisation's id: the name and category are the
# organisation's, whatever the input itself claims.
INPUTS = f"""
    {LATEST_ACCEPTED},
    inputs AS (
        SELECT latest.*, o.name AS organisation, o.category
        FROM latest JOIN organisations o ON o.id::text = latest.subject
        WHERE latest.kind = 'stakeholder_input')"""

INPUT_COUNTS = f"""
    WITH {INPUTS}
    SELECT objective::int AS objective, category, count(*) AS n
    FROM inputs, jsonb_array_elements_text(content -> 'objectives') AS objective
    GROUP BY 1, 2 ORDER BY 1, 2"""

INPUT_QUOTES = f"""
    WITH {INPUTS},
    ranked AS (
        SELECT objective::int AS objective, organisation, category,
               left(content ->> 'input', $3) AS text, id, version,
               row_number() OVER (PARTITION BY objective ORDER BY organisation, id) AS rank
        FROM inputs, jsonb_array_elements_text(content -> 'objectives') AS objective
        -- domain.publication.quoted_with_name: version 2 says `publication`, version 1 said
        -- `consent_to_publish`
        WHERE coalesce(content ->> 'publication' = 'with_name',
                       (content ->> 'consent_to_publish')::boolean, false))
    SELECT objective, organisation, category, text, id, version FROM ranked
    WHERE rank <= $2 ORDER BY objective, rank"""

COMMENT_COUNTS = """
    SELECT (c ->> 'objective')::int AS objective, count(*) AS n
    FROM tasks t, jsonb_array_elements(t.response -> 'comments') AS c
    WHERE t.review_id = $1 AND t.status = 'completed' GROUP BY 1 ORDER BY 1"""

# Consultation comments are quoted, and their author named, only with its consent; every
# comment is counted.
CONSENTED = "coalesce((t.response ->> 'consent_to_publish')::boolean, false)"

COMMENT_QUOTES = f"""
    WITH ranked AS (
        SELECT (c ->> 'objective')::int AS objective, coalesce(t.stakeholder_category, 'focal_point') AS category,
               coalesce(t.organisation, t.country) AS organisation, left(c ->> 'comment', $3) AS text, t.id,
               row_number() OVER (PARTITION BY c ->> 'objective' ORDER BY t.organisation, t.id) AS rank
        FROM tasks t, jsonb_array_elements(t.response -> 'comments') AS c
        WHERE t.review_id = $1 AND t.status = 'completed' AND {CONSENTED})
    SELECT objective, category, organisation, text, id FROM ranked
    WHERE rank <= $2 ORDER BY objective, rank"""

CONSULTATION = """
    SELECT coalesce(stakeholder_category, 'focal_point') AS category, count(*) AS consulted,
           count(*) FILTER (WHERE status = 'completed') AS responded
    FROM tasks WHERE review_id = $1 GROUP BY 1 ORDER BY 1"""

ENDORSEMENT_COUNTS = """
    SELECT response ->> 'endorsement' AS endorsement, count(*) AS n FROM tasks
    WHERE review_id = $1 AND status = 'completed' GROUP BY 1"""

GENERAL_COMMENTS = f"""
    SELECT coalesce(stakeholder_category, 'focal_point') AS category,
           coalesce(organisation, country) AS organisation,
           left(response ->> 'general_comment', $3) AS text, id
    FROM tasks t WHERE review_id = $1 AND status = 'completed' AND response ? 'general_comment'
      AND {CONSENTED}
    ORDER BY organisation, id LIMIT $2"""

STAKEHOLDER_INPUTS = (
    f"WITH {LATEST_ACCEPTED} SELECT count(*) FROM latest WHERE kind = 'stakeholder_input'"
)


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report version is compiled from, read in the caller's transaction."""

    national_reports: list[asyncpg.Record]  # id, country, version, late, content
    input_counts: list[asyncpg.Record]  # objective, category, n
    input_quotes: list[asyncpg.Record]  # objective, organisation, category, text, id, version
    stakeholder_inputs: int
    comment_counts: list[asyncpg.Record]  # objective, n
    comment_quotes: list[asyncpg.Record]  # objective, category, organisation, text, id
    consultation: list[asyncpg.Record]  # category, consulted, responded
    endorsements: dict[str, int]
    general_comments: list[asyncpg.Record]  # category, organisation, text, id
    after_compilation: list[asyncpg.Record]  # kind, subject, received_at


async def read(
    conn: Connection, review_id: str, *, quotes: int, general_comments: int, chars: int
) -> ReportInputs:
    """The review's inputs: up to `quotes` consented quotes per objective and
    `general_comments` general comments, each cut to `chars`. Run it in one repeatable-read
    transaction, so every part sees the same moment."""
    endorsements = await conn.fetch(ENDORSEMENT_COUNTS, review_id)
    return ReportInputs(
        national_reports=await conn.fetch(NATIONAL_REPORTS, review_id),
        input_counts=await conn.fetch(INPUT_COUNTS, review_id),
        input_quotes=await conn.fetch(INPUT_QUOTES, review_id, quotes, chars),
        stakeholder_inputs=int(await conn.fetchval(STAKEHOLDER_INPUTS, review_id)),
        comment_counts=await conn.fetch(COMMENT_COUNTS, review_id),
        comment_quotes=await conn.fetch(COMMENT_QUOTES, review_id, quotes, chars),
        consultation=await conn.fetch(CONSULTATION, review_id),
        endorsements={r["endorsement"]: r["n"] for r in endorsements},
        general_comments=await conn.fetch(GENERAL_COMMENTS, review_id, general_comments, chars),
        after_compilation=await refused_after_compilation(conn, review_id),
    )
