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
from db.sessions import summaries_of
from db.submissions import LATEST_ACCEPTED, refused_after_compilation

# With its provenance: when it was accepted, the role (never the name) of who submitted it,
# and the schema version it was checked against where the version row records one.
NATIONAL_REPORTS = f"""
    WITH {LATEST_ACCEPTED}
    SELECT latest.id, latest.subject AS country, latest.version, latest.late, latest.content,
           latest.decided_at AS accepted_at, a.role AS submitted_by,
           (to_jsonb(v) ->> 'schema_version')::int AS schema_version
    FROM latest
    JOIN submission_versions v ON v.submission_id = latest.id AND v.version = latest.version
    JOIN actors a ON a.id = v.submitted_by
    WHERE latest.kind = 'national_report' ORDER BY latest.subject"""

# How an input may be published (`domain.publication.input_publication`, in SQL): schema
# version 2 says it in `publication`, version 1 in `consent_to_publish`.
PUBLICATION = """coalesce(latest.content ->> 'publication',
    CASE WHEN (latest.content ->> 'consent_to_publish')::boolean THEN 'with_name'
         ELSE 'do_not_publish' END)"""

# A stakeholder input's subject is its organisation's id: the name and category are the
# organisation's, whatever the input itself claims. `named` is that name where the input may
# be published with it, `joint` the names of the other organisations of a joint input then.
INPUTS = f"""
    {LATEST_ACCEPTED},
    inputs AS NOT MATERIALIZED (
        SELECT latest.*, o.name AS organisation, o.category, {PUBLICATION} AS publication
        FROM latest JOIN organisations o ON o.id::text = latest.subject
        WHERE latest.kind = 'stakeholder_input'),
    published AS NOT MATERIALIZED (
        SELECT inputs.*,
               CASE WHEN publication = 'with_name' THEN organisation END AS named,
               CASE WHEN publication = 'with_name' THEN ARRAY(
                   SELECT j.value ->> 'name'
                   FROM jsonb_array_elements(coalesce(content -> 'joint_organisations', '[]'))
                        WITH ORDINALITY AS j (value, position)
                   ORDER BY j.position) ELSE '{{}}' END AS joint
        FROM inputs WHERE publication <> 'do_not_publish')"""

INPUT_COUNTS = f"""
    WITH {INPUTS}
    SELECT objective::int AS objective, category, count(*) AS n
    FROM inputs, jsonb_array_elements_text(content -> 'objectives') AS objective
    GROUP BY 1, 2 ORDER BY 1, 2"""

# The inputs quoted per objective: ranked on narrow rows first, then only those chosen read
# whole (sorting every input's text and names would cost more than all the rest).
INPUT_QUOTES = f"""
    WITH {INPUTS},
    ranked AS (
        SELECT objective::int AS objective, id,
               row_number() OVER (PARTITION BY objective ORDER BY named NULLS LAST, id) AS rank
        FROM published, jsonb_array_elements_text(content -> 'objectives') AS objective)
    SELECT r.objective, p.named AS organisation, p.joint, p.category,
           left(p.content ->> 'input', $3) AS text, p.id, p.version
    FROM ranked r JOIN published p ON p.id = r.id
    WHERE r.rank <= $2 ORDER BY r.objective, r.rank"""

# Inputs with recommendations, per objective they address, and of those the ones counted only.
RECOMMENDATION_COUNTS = f"""
    WITH {INPUTS}
    SELECT objective::int AS objective, count(*) AS n,
           count(*) FILTER (WHERE publication = 'do_not_publish') AS withheld
    FROM inputs, jsonb_array_elements_text(content -> 'objectives') AS objective
    WHERE jsonb_array_length(coalesce(content -> 'recommendations', '[]')) > 0
    GROUP BY 1 ORDER BY 1"""

RECOMMENDATIONS = f"""
    WITH {INPUTS},
    ranked AS (
        SELECT objective::int AS objective, id,
               row_number() OVER (PARTITION BY objective ORDER BY named NULLS LAST, id) AS rank
        FROM published, jsonb_array_elements_text(content -> 'objectives') AS objective
        WHERE jsonb_array_length(coalesce(content -> 'recommendations', '[]')) > 0)
    SELECT r.objective, p.named AS organisation, p.joint, p.category,
           ARRAY(SELECT left(e.text, $3)
                 FROM jsonb_array_elements_text(p.content -> 'recommendations')
                      WITH ORDINALITY AS e (text, position)
                 ORDER BY e.position) AS recommendations,
           p.id, p.version
    FROM ranked r JOIN published p ON p.id = r.id
    WHERE r.rank <= $2 ORDER BY r.objective, r.rank"""

# The principles and clusters the inputs address, and their languages. An input addresses
# the clusters of its objectives ($2: objectives, $3: their clusters) and those it names.
INPUT_PRINCIPLES = f"""
    WITH {INPUTS}
    SELECT principle, count(*) AS n
    FROM inputs, jsonb_array_elements_text(coalesce(content -> 'principles', '[]')) AS principle
    GROUP BY 1 ORDER BY 1"""

INPUT_CLUSTERS = f"""
    WITH {INPUTS}
    SELECT addressed.cluster, count(*) AS n
    FROM inputs
    CROSS JOIN LATERAL (
        SELECT c.cluster
        FROM jsonb_array_elements_text(content -> 'objectives') AS o (objective)
        JOIN unnest($2::int[], $3::int[]) AS c (objective, cluster)
          ON c.objective = o.objective::int
        UNION
        SELECT named.cluster::int
        FROM jsonb_array_elements_text(coalesce(content -> 'clusters', '[]')) AS named (cluster)
    ) AS addressed
    GROUP BY 1 ORDER BY 1"""

INPUT_LANGUAGES = f"""
    WITH {INPUTS}
    SELECT content ->> 'language' AS language, count(*) AS n FROM inputs
    GROUP BY 1 ORDER BY 1 NULLS LAST"""

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

    # id, country, version, late, content, accepted_at, submitted_by, schema_version
    national_reports: list[asyncpg.Record]
    input_counts: list[asyncpg.Record]  # objective, category, n
    # objective, organisation (None unless named), joint, category, text, id, version
    input_quotes: list[asyncpg.Record]
    recommendation_counts: list[asyncpg.Record]  # objective, n, withheld
    # objective, organisation (None unless named), joint, category, recommendations, id, version
    recommendations: list[asyncpg.Record]
    input_principles: dict[str, int]
    input_clusters: dict[int, int]
    input_languages: list[asyncpg.Record]  # language (None when not stated), n
    stakeholder_inputs: int
    comment_counts: list[asyncpg.Record]  # objective, n
    comment_quotes: list[asyncpg.Record]  # objective, category, organisation, text, id
    consultation: list[asyncpg.Record]  # category, consulted, responded
    endorsements: dict[str, int]
    general_comments: list[asyncpg.Record]  # category, organisation, text, id
    after_compilation: list[asyncpg.Record]  # kind, subject, received_at
    # The summaries of the consultation meetings held, with their meetings' facts.
    meetings: list[asyncpg.Record]


async def read(
    conn: Connection,
    review_id: str,
    *,
    quotes: int,
    general_comments: int,
    chars: int,
    clusters: dict[int, int],
) -> ReportInputs:
    """The review's inputs: up to `quotes` consented quotes (and inputs' recommendations) per
    objective and `general_comments` general comments, each cut to `chars`; `clusters` gives
    each objective's cluster. Run it in one repeatable-read transaction, so every part sees
    the same moment."""
    endorsements = await conn.fetch(ENDORSEMENT_COUNTS, review_id)
    principles = await conn.fetch(INPUT_PRINCIPLES, review_id)
    objectives = sorted(clusters)
    by_cluster = await conn.fetch(
        INPUT_CLUSTERS, review_id, objectives, [clusters[n] for n in objectives]
    )
    return ReportInputs(
        national_reports=await conn.fetch(NATIONAL_REPORTS, review_id),
        input_counts=await conn.fetch(INPUT_COUNTS, review_id),
        input_quotes=await conn.fetch(INPUT_QUOTES, review_id, quotes, chars),
        recommendation_counts=await conn.fetch(RECOMMENDATION_COUNTS, review_id),
        recommendations=await conn.fetch(RECOMMENDATIONS, review_id, quotes, chars),
        input_principles={r["principle"]: r["n"] for r in principles},
        input_clusters={r["cluster"]: r["n"] for r in by_cluster},
        input_languages=await conn.fetch(INPUT_LANGUAGES, review_id),
        stakeholder_inputs=int(await conn.fetchval(STAKEHOLDER_INPUTS, review_id)),
        comment_counts=await conn.fetch(COMMENT_COUNTS, review_id),
        comment_quotes=await conn.fetch(COMMENT_QUOTES, review_id, quotes, chars),
        consultation=await conn.fetch(CONSULTATION, review_id),
        endorsements={r["endorsement"]: r["n"] for r in endorsements},
        general_comments=await conn.fetch(GENERAL_COMMENTS, review_id, general_comments, chars),
        after_compilation=await refused_after_compilation(conn, review_id),
        meetings=await summaries_of(conn, review_id),
    )
