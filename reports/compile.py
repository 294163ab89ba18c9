"""Compiling a review's report from what came in, aggregated in SQL.

National reports are few (one per member State) and read whole; stakeholder inputs and
consultation answers may be tens of thousands, so PostgreSQL counts them and picks a bounded,
stable selection of quotes per objective. Every list is ordered, nothing depends on the clock:
the same inputs give the same report, byte for byte.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import asyncpg

from db.pool import Connection
from domain.canonical import json_hash
from domain.reference import load_reference

# Quotes per objective (and general comments) the report prints; the rest are counted.
QUOTES_PER_OBJECTIVE = 20
GENERAL_COMMENTS = 50
QUOTE_CHARS = 600

LATEST = """
    latest AS (
        SELECT s.id, s.kind, s.subject, v.version, v.late, v.content
        FROM submissions s
        JOIN submission_versions v ON v.submission_id = s.id AND v.version = s.latest_version
        WHERE s.review_id = $1 AND s.latest_version > 0)"""

NATIONAL_REPORTS = f"""
    WITH {LATEST}
    SELECT id, subject AS country, version, late, content FROM latest
    WHERE kind = 'national_report' ORDER BY subject"""

# A stakeholder input's subject is its organisation's id: the name and category are the
# organisation's, whatever the input itself claims.
INPUTS = f"""
    {LATEST},
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
        WHERE (content ->> 'consent_to_publish')::boolean)
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

ENDORSEMENTS = """
    SELECT response ->> 'endorsement' AS endorsement, count(*) AS n FROM tasks
    WHERE review_id = $1 AND status = 'completed' GROUP BY 1"""

GENERAL_COMMENTS_SQL = f"""
    SELECT coalesce(stakeholder_category, 'focal_point') AS category,
           coalesce(organisation, country) AS organisation,
           left(response ->> 'general_comment', $3) AS text, id
    FROM tasks t WHERE review_id = $1 AND status = 'completed' AND response ? 'general_comment'
      AND {CONSENTED}
    ORDER BY organisation, id LIMIT $2"""

STAKEHOLDER_INPUTS = f"WITH {LATEST} SELECT count(*) FROM latest WHERE kind = 'stakeholder_input'"

# Submissions refused because compilation had started: recorded, flagged, listed in the annex.
AFTER_COMPILATION = """
    SELECT s.kind, s.subject, v.received_at FROM submission_versions v
    JOIN submissions s ON s.id = v.submission_id
    WHERE s.review_id = $1 AND v.status = 'rejected'
      AND v.received_at >= (SELECT min(at) FROM review_events
                            WHERE review_id = $1 AND type = 'phase.changed' AND data ->> 'to' = 'compilation')
    ORDER BY v.received_at, s.kind, s.subject"""


def with_hash(report: dict[str, Any]) -> dict[str, Any]:
    """The report with `content_hash`: SHA-256 of its canonical JSON without that key."""
    return {**report, "content_hash": json_hash(report)}


def _source(row: asyncpg.Record) -> dict[str, Any]:
    return {"submission_id": str(row["id"]), "version": row["version"]}


class _Objective:
    def __init__(self, number: int, title: str) -> None:
        self.number, self.title = number, title
        self.statuses: list[dict[str, Any]] = []
        self.items: dict[str, list[dict[str, Any]]] = {
            "measures": [],
            "challenges": [],
            "good_practices": [],
        }
        self.view_counts: dict[str, int] = {}
        self.view_quotes: list[dict[str, Any]] = []
        self.comment_count = 0
        self.comment_quotes: list[dict[str, Any]] = []

    def document(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "statuses": self.statuses,
            **self.items,
            "stakeholder_views": {
                "count": sum(self.view_counts.values()),
                "by_category": [
                    {"category": c, "count": n} for c, n in sorted(self.view_counts.items())
                ],
                "quotes": self.view_quotes,
            },
            "consultation_comments": {"count": self.comment_count, "quotes": self.comment_quotes},
        }


async def compile_report(
    conn: Connection, review: asyncpg.Record, version: int, editorial: dict[str, str]
) -> dict[str, Any]:
    """The report of `review` as it stands, with its content hash."""
    reference = load_reference()
    review_id = review["id"]
    names = {c: reference.country_name(c) or c for c in review["member_states"]}
    objectives = {o.number: _Objective(o.number, o.title) for o in reference.objectives}
    principles: dict[str, list[dict[str, Any]]] = defaultdict(list)
    coverage: dict[str, dict[int, str]] = {}

    reports = await conn.fetch(NATIONAL_REPORTS, review_id)
    for row in reports:
        country = row["country"]
        coverage[country] = {}
        # One entry per objective: the schema cannot forbid a repeated number; the first counts.
        entries = {e["number"]: e for e in reversed(row["content"]["objectives"])}
        for entry in (entries[n] for n in sorted(entries)):
            objective = objectives[entry["number"]]
            coverage[country][entry["number"]] = entry["status"]
            objective.statuses.append(
                {"country": country, "status": entry["status"], **_source(row)}
            )
            for field, items in objective.items.items():
                items.extend(
                    {"text": t, "country": country, **_source(row)} for t in entry.get(field, [])
                )
        for applied in row["content"].get("guiding_principles", []):
            principles[applied["principle"]].append(
                {"country": country, "text": applied["how_applied"], **_source(row)}
            )

    for row in await conn.fetch(INPUT_COUNTS, review_id):
        objectives[row["objective"]].view_counts[row["category"]] = row["n"]
    for row in await conn.fetch(INPUT_QUOTES, review_id, QUOTES_PER_OBJECTIVE, QUOTE_CHARS):
        objectives[row["objective"]].view_quotes.append(
            {
                "organisation": row["organisation"],
                "category": row["category"],
                "text": row["text"],
                **_source(row),
            }
        )
    for row in await conn.fetch(COMMENT_COUNTS, review_id):
        objectives[row["objective"]].comment_count = row["n"]
    for row in await conn.fetch(COMMENT_QUOTES, review_id, QUOTES_PER_OBJECTIVE, QUOTE_CHARS):
        objectives[row["objective"]].comment_quotes.append(
            {
                "category": row["category"],
                "organisation": row["organisation"],
                "text": row["text"],
                "task_id": str(row["id"]),
            }
        )

    consultation = await conn.fetch(CONSULTATION, review_id)
    tasks = sum(r["consulted"] for r in consultation)
    completed = sum(r["responded"] for r in consultation)
    titles = {c.id: c.title for c in reference.stakeholder_categories} | {
        "focal_point": "Member State focal points"
    }
    endorsements = {r["endorsement"]: r["n"] for r in await conn.fetch(ENDORSEMENTS, review_id)}
    states = review["member_states"]
    report = {
        "review": {
            "id": review_id,
            "title": review["title"],
            "region": review["region"],
            "commission": _commission(review["region"]),
            "member_states": [{"iso3": c, "name": names[c]} for c in states],
        },
        "version": version,
        "overview": {
            "member_states": len(states),
            "reports_received": sum(1 for c in states if c in coverage),
            "late_reports": sum(1 for r in reports if r["late"]),
            "stakeholder_inputs": await conn.fetchval(STAKEHOLDER_INPUTS, review_id),
            "consultation": {
                "tasks": tasks,
                "completed": completed,
                "response_rate": round(completed / tasks, 4) if tasks else None,
                "by_category": [
                    {
                        "category": r["category"],
                        "title": titles.get(r["category"], r["category"]),
                        "consulted": r["consulted"],
                        "responded": r["responded"],
                    }
                    for r in consultation
                ],
            },
        },
        "clusters": [
            {
                "number": c.number,
                "title": c.title,
                "objectives": [objectives[n].document() for n in c.objectives],
            }
            for c in reference.clusters
        ],
        "guiding_principles": [
            {"id": p.id, "title": p.title, "reported_by": principles.get(p.id, [])}
            for p in reference.guiding_principles
        ],
        "gaps": {
            "objectives_without_reports": [
                n for n, o in sorted(objectives.items()) if not o.statuses
            ],
            "states_without_report": [
                {"iso3": c, "name": names[c]} for c in states if c not in coverage
            ],
        },
        "coverage": {
            "objectives": list(objectives),
            "statuses": list(reference.status_ids),
            "rows": [
                {
                    "iso3": c,
                    "name": names[c],
                    "cells": [coverage.get(c, {}).get(n) for n in objectives],
                }
                for c in states
            ],
        },
        "consultation": {
            "endorsements": {
                e: endorsements.get(e, 0)
                for e in ("endorse", "endorse_with_reservations", "do_not_endorse")
            },
            "general_comments": [
                {
                    "category": r["category"],
                    "organisation": r["organisation"],
                    "text": r["text"],
                    "task_id": str(r["id"]),
                }
                for r in await conn.fetch(
                    GENERAL_COMMENTS_SQL, review_id, GENERAL_COMMENTS, QUOTE_CHARS
                )
            ],
        },
        "editorial": [{"section": s, "text": t} for s, t in sorted(editorial.items())],
        "annex": {
            "after_compilation": [
                {
                    "kind": r["kind"],
                    "subject": r["subject"],
                    "received_at": r["received_at"].isoformat(),
                }
                for r in await conn.fetch(AFTER_COMPILATION, review_id)
            ]
        },
    }
    return with_hash(report)


def _commission(region: str) -> str:
    found = load_reference().region(region)
    return found.commission if found else region
