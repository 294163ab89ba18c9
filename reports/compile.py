"""Compiling a review's report from what came in, aggregated in SQL (`db.report_inputs`).

Every list is ordered, nothing depends on the clock: the same inputs give the same report,
byte for byte.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import asyncpg

from db import report_inputs
from db.pool import Connection
from domain.canonical import json_hash
from domain.reference import load_reference
from reports.annexes import annex_listing

# Quotes per objective (and general comments) the report prints; the rest are counted.
QUOTES_PER_OBJECTIVE = 20
GENERAL_COMMENTS = 50
QUOTE_CHARS = 600


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

    inputs = await report_inputs.read(
        conn,
        review_id,
        quotes=QUOTES_PER_OBJECTIVE,
        general_comments=GENERAL_COMMENTS,
        chars=QUOTE_CHARS,
    )
    reports = inputs.national_reports
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

    for row in inputs.input_counts:
        objectives[row["objective"]].view_counts[row["category"]] = row["n"]
    for row in inputs.input_quotes:
        objectives[row["objective"]].view_quotes.append(
            {
                "organisation": row["organisation"],
                "category": row["category"],
                "text": row["text"],
                **_source(row),
            }
        )
    for row in inputs.comment_counts:
        objectives[row["objective"]].comment_count = row["n"]
    for row in inputs.comment_quotes:
        objectives[row["objective"]].comment_quotes.append(
            {
                "category": row["category"],
                "organisation": row["organisation"],
                "text": row["text"],
                "task_id": str(row["id"]),
            }
        )

    consultation = inputs.consultation
    tasks = sum(r["consulted"] for r in consultation)
    completed = sum(r["responded"] for r in consultation)
    titles = {c.id: c.title for c in reference.stakeholder_categories} | {
        "focal_point": "Member State focal points"
    }
    endorsements = inputs.endorsements
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
            "stakeholder_inputs": inputs.stakeholder_inputs,
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
                for r in inputs.general_comments
            ],
        },
        "editorial": [{"section": s, "text": t} for s, t in sorted(editorial.items())],
        "annexes": await annex_listing(conn, review_id),
        "annex": {
            "after_compilation": [
                {
                    "kind": r["kind"],
                    "subject": r["subject"],
                    "received_at": r["received_at"].isoformat(),
                }
                for r in inputs.after_compilation
            ]
        },
    }
    return with_hash(report)


def _commission(region: str) -> str:
    found = load_reference().region(region)
    return found.commission if found else region
