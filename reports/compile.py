"""Compiling a review's report from what came in, aggregated in SQL (`db.report_inputs`).

Every list is ordered, nothing depends on the clock: the same inputs give the same report,
byte for byte.

Consent. The report is compiled for the secretariat and, once approved, published as it
stands, so every version is written as if for the public:

- A national report whose State did not consent to publication (`consent_to_publish` false,
  schema version 2) is counted wherever the report counts (reports received, late reports,
  the objectives covered, the principles and clusters addressed, per objective the number of
  reports not published), but nothing of it is quoted or attributed to its State: not its
  statuses (its row of the coverage matrix is withheld), measures, challenges, good
  practices or principles; its State's section gives the provenance and says the report is
  not published. A version 1 report (no such field) is quoted as it always was.
- A stakeholder input is quoted with its organisations' names when its publication is
  "with_name" (version 1: `consent_to_publish` true), quoted without any name when
  "without_name", and only counted when "do_not_publish" (`domain.publication`). A joint
  input, when named, names every organisation.
- A consultation comment (or general comment) is quoted, with its organisation, only when
  its answer has `consent_to_publish` true; every other one is counted, never quoted or
  named.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import asyncpg

from db import report_inputs
from db.pool import Connection
from domain.canonical import json_hash
from domain.publication import report_may_be_published
from domain.reference import Reference, load_reference
from reports.addendum import addendum_section
from reports.annexes import annex_listing
from reports.meetings import held_summaries

# Quotes per objective (and general comments) the report prints; the rest are counted.
QUOTES_PER_OBJECTIVE = 20
GENERAL_COMMENTS = 50
QUOTE_CHARS = 600


def with_hash(report: dict[str, Any]) -> dict[str, Any]:
    """The report with `content_hash`: SHA-256 of its canonical JSON without that key."""
    return {**report, "content_hash": json_hash(report)}


def _source(row: asyncpg.Record) -> dict[str, Any]:
    return {"submission_id": str(row["id"]), "version": row["version"]}


def _named(row: asyncpg.Record) -> dict[str, Any]:
    """Who a published input is by: its organisations when it may name them, else none."""
    return {"organisation": row["organisation"], "joint_organisations": list(row["joint"])}


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
        # National reports on this objective whose State did not consent to publication.
        self.unpublished_reports = 0

    @property
    def reported(self) -> bool:
        return bool(self.statuses) or self.unpublished_reports > 0

    def document(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "statuses": self.statuses,
            "unpublished_reports": self.unpublished_reports,
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
        clusters={o.number: o.cluster for o in reference.objectives},
    )
    reports = inputs.national_reports
    received = {row["country"] for row in reports}
    for row in reports:
        country = row["country"]
        # One entry per objective: the schema cannot forbid a repeated number; the first counts.
        entries = _entries(row["content"])
        if not report_may_be_published(row["content"]):
            for entry in entries:
                objectives[entry["number"]].unpublished_reports += 1
            continue
        coverage[country] = {}
        for entry in entries:
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
                **_named(row),
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
    by_country = {row["country"]: row for row in reports}
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
            "reports_received": sum(1 for c in states if c in received),
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
        "addressed": _addressed(reference, reports, inputs),
        "recommendations": _recommendations(reference, inputs),
        "states": [_state_section(c, names[c], by_country.get(c)) for c in states],
        "gaps": {
            "objectives_without_reports": [
                n for n, o in sorted(objectives.items()) if not o.reported
            ],
            "states_without_report": [
                {"iso3": c, "name": names[c]} for c in states if c not in received
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
                    # Received, but its State did not consent to its publication.
                    "withheld": c in received and c not in coverage,
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
    if (addendum := await addendum_section(conn, review_id)) is not None:
        report["synthesis_addendum"] = addendum
    # Only when meetings were held and summarised: a review without any compiles as before.
    if inputs.meetings:
        report["consultation_meetings"] = held_summaries(inputs.meetings)
    return with_hash(report)


def _entries(content: dict[str, Any]) -> list[dict[str, Any]]:
    """A national report's objectives in order of number, the first entry of a number kept."""
    entries = {e["number"]: e for e in reversed(content["objectives"])}
    return [entries[n] for n in sorted(entries)]


def _addressed(
    reference: Reference, reports: list[asyncpg.Record], inputs: report_inputs.ReportInputs
) -> dict[str, Any]:
    """How many national reports and stakeholder inputs address each guiding principle and
    each cluster (a report the clusters of the objectives it gives a status, an input those
    of its objectives and those it names), and the languages of the inputs. Every report and
    input counts, published or not."""
    cluster_of = {o.number: o.cluster for o in reference.objectives}
    report_principles: dict[str, int] = defaultdict(int)
    report_clusters: dict[int, int] = defaultdict(int)
    for row in reports:
        content = row["content"]
        for principle in {p["principle"] for p in content.get("guiding_principles", [])}:
            report_principles[principle] += 1
        for cluster in {cluster_of[e["number"]] for e in content["objectives"]}:
            report_clusters[cluster] += 1
    return {
        "principles": [
            {
                "id": p.id,
                "title": p.title,
                "national_reports": report_principles.get(p.id, 0),
                "stakeholder_inputs": inputs.input_principles.get(p.id, 0),
            }
            for p in reference.guiding_principles
        ],
        "clusters": [
            {
                "number": c.number,
                "title": c.title,
                "national_reports": report_clusters.get(c.number, 0),
                "stakeholder_inputs": inputs.input_clusters.get(c.number, 0),
            }
            for c in reference.clusters
        ],
        # Inputs of schema version 1 do not say their language: `language` null.
        "languages": [{"language": r["language"], "count": r["n"]} for r in inputs.input_languages],
    }


def _recommendations(
    reference: Reference, inputs: report_inputs.ReportInputs
) -> list[dict[str, Any]]:
    """The stakeholders' recommendations per objective their input addresses, in order of
    objective: how many inputs made some, how many of those are not published, and the
    published ones (up to a limit per objective) with who made them where they may be named."""
    quoted: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in inputs.recommendations:
        quoted[row["objective"]].append(
            {
                **_named(row),
                "category": row["category"],
                "recommendations": list(row["recommendations"]),
                **_source(row),
            }
        )
    titles = {o.number: o.title for o in reference.objectives}
    return [
        {
            "objective": row["objective"],
            "title": titles[row["objective"]],
            "inputs": row["n"],
            "unpublished": row["withheld"],
            "quotes": quoted.get(row["objective"], []),
        }
        for row in inputs.recommendation_counts
    ]


# The parts of a national report its State's section shows, each in one shape whatever the
# report's schema version (missing parts of version 1 are None or empty).
def _report_parts(content: dict[str, Any]) -> dict[str, Any]:
    preparation = content["preparation"]
    policy = content.get("policy_environment")
    means = content.get("means_of_implementation")
    regional = content.get("regional_cooperation")
    return {
        "reporting_period": content["reporting_period"],
        "preparation": {
            "whole_of_government": preparation["whole_of_government"],
            "whole_of_society": preparation["whole_of_society"],
            "methodology": preparation["methodology"],
            "consulted": preparation.get("consulted", []),
            "government_entities": preparation.get("government_entities", []),
        },
        "policy_environment": policy
        and {"overview": policy["overview"], "frameworks": policy.get("frameworks", [])},
        "objectives": [
            {
                "number": entry["number"],
                "status": entry["status"],
                "prioritised": entry.get("prioritised", False),
                "measures": entry.get("measures", []),
                "challenges": entry.get("challenges", []),
                "good_practices": entry.get("good_practices", []),
                "sdg_targets": entry.get("sdg_targets", []),
            }
            for entry in _entries(content)
        ],
        "means_of_implementation": means
        and {
            "overview": means["overview"],
            "partnerships": means.get("partnerships", []),
            "support_needed": means.get("support_needed"),
        },
        "regional_cooperation": regional
        and {"overview": regional["overview"], "initiatives": regional.get("initiatives", [])},
        "covid19_measures": content.get("covid19_measures"),
        "next_steps": content.get("next_steps"),
    }


def _state_section(iso3: str, name: str, row: asyncpg.Record | None) -> dict[str, Any]:
    """A member State's section: its latest accepted national report (None when it sent
    none) with its provenance; the report's parts only when it may be published."""
    if row is None:
        return {"iso3": iso3, "name": name, "report": None}
    accepted_at = row["accepted_at"]
    published = report_may_be_published(row["content"])
    report = {
        **_source(row),
        "accepted_at": accepted_at.isoformat() if accepted_at else None,
        "submitted_by": row["submitted_by"],
        "late": row["late"],
        "schema_version": row["schema_version"],
        "published": published,
    }
    if published:
        report.update(_report_parts(row["content"]))
    return {"iso3": iso3, "name": name, "report": report}


def _commission(region: str) -> str:
    found = load_reference().region(region)
    return found.commission if found else region
