"""The roll-up of a cycle: the published regional reports of the cycle read together for the
International Migration Review Forum, per objective and per round-table cluster.

Pure: it reads only the published regional reports' JSON it is given (consent was applied
when each was published, so nothing unpublished reaches it), and orders every list, so the
same reports give the same document, byte for byte.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import i18n
from domain.cycles import imrf_year
from domain.reference import load_reference
from i18n import DEFAULT_LANGUAGE
from reports.compile import with_hash
from reports.render import html_template, markdown_template


def _objectives_of(report: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {o["number"]: o for cluster in report["clusters"] for o in cluster["objectives"]}


def _source(report: dict[str, Any]) -> dict[str, Any]:
    """Where a regional report is: its region, review, version and content hash."""
    return {
        "region": report["review"]["region"],
        "review_id": report["review"]["id"],
        "report_version": report["version"],
        "content_hash": report["content_hash"],
    }


def _quote(item: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """A regional report's quote of a State's national report, with both provenances."""
    return {
        "text": item["text"],
        "country": item["country"],
        **source,
        "submission_id": item["submission_id"],
        "submission_version": item["version"],
    }


def _objective(number: int, title: str, reports: list[dict[str, Any]]) -> dict[str, Any]:
    coverage: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    challenges: list[dict[str, Any]] = []
    practices: list[dict[str, Any]] = []
    for report in reports:
        source = _source(report)
        found = _objectives_of(report).get(number)
        statuses = found["statuses"] if found else []
        coverage.append(
            {
                **{k: source[k] for k in ("region", "review_id")},
                "reporting": len(statuses) + (found["unpublished_reports"] if found else 0),
                "member_states": report["overview"]["member_states"],
            }
        )
        states.extend(
            {"iso3": s["country"], "status": s["status"], "region": source["region"]}
            for s in statuses
        )
        if found:
            challenges.extend(_quote(item, source) for item in found["challenges"])
            practices.extend(_quote(item, source) for item in found["good_practices"])
    return {
        "number": number,
        "title": title,
        "coverage": coverage,
        "states_reporting": states,
        "challenges": challenges,
        "good_practices": practices,
    }


def _cluster(cluster: Any, reports: list[dict[str, Any]]) -> dict[str, Any]:
    """A round-table cluster: per regional report, the national reports addressing it (counted
    as the regional report counts them, published or not) of its member States, and the
    States named as reporting on one of its objectives."""
    coverage: list[dict[str, Any]] = []
    states: set[tuple[str, str]] = set()
    for report in reports:
        addressed = {c["number"]: c for c in report["addressed"]["clusters"]}
        coverage.append(
            {
                "region": report["review"]["region"],
                "review_id": report["review"]["id"],
                "reporting": addressed[cluster.number]["national_reports"],
                "member_states": report["overview"]["member_states"],
            }
        )
        objectives = _objectives_of(report)
        for number in cluster.objectives:
            states.update(
                (report["review"]["region"], s["country"]) for s in objectives[number]["statuses"]
            )
    return {
        "number": cluster.number,
        "title": cluster.title,
        "objectives": list(cluster.objectives),
        "coverage": coverage,
        "states_reporting": [{"region": r, "iso3": c} for r, c in sorted(states)],
    }


def latest_per_region(published: list[tuple[datetime, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Of the regional reports published in a cycle (each with its publication instant), the
    one of each region published last: a region reviews once a cycle, so an earlier one is a
    review it set aside (a rehearsal, or one it ran again)."""
    latest: dict[str, tuple[datetime, dict[str, Any]]] = {}
    for published_at, report in published:
        region = report["review"]["region"]
        if region not in latest or published_at > latest[region][0]:
            latest[region] = (published_at, report)
    return [report for _, report in latest.values()]


def compile_rollup(
    cycle: str, title: str, version: int, regional: list[dict[str, Any]]
) -> dict[str, Any]:
    """Version `version` of the roll-up of `cycle` over the published regional `reports`
    (their JSON documents), with its content hash."""
    reference = load_reference()
    reports = sorted(regional, key=lambda r: (r["review"]["region"], r["review"]["id"]))
    published = {r["review"]["region"] for r in reports}
    rollup = {
        "cycle": cycle,
        "imrf_year": imrf_year(cycle),
        "title": title,
        "version": version,
        "regions": [
            {
                "code": region.code,
                "commission": region.commission,
                "status": "published" if region.code in published else "missing",
            }
            for region in reference.regions
        ],
        "missing": [r.code for r in reference.regions if r.code not in published],
        "reports": [
            {
                **_source(report),
                "title": report["review"]["title"],
                "member_states": report["overview"]["member_states"],
                "reports_received": report["overview"]["reports_received"],
            }
            for report in reports
        ],
        "clusters": [_cluster(cluster, reports) for cluster in reference.clusters],
        "objectives": [_objective(o.number, o.title, reports) for o in reference.objectives],
    }
    return with_hash(rollup)


def quotes_of(rollup: dict[str, Any]) -> list[dict[str, Any]]:
    """Every quote of the roll-up (challenges and good practices of every objective)."""
    return [
        quote
        for objective in rollup["objectives"]
        for quote in (*objective["challenges"], *objective["good_practices"])
    ]


def _view(rollup: dict[str, Any]) -> dict[str, Any]:
    return {"rollup": rollup, "language": i18n.current()}


def render_rollup_html(rollup: dict[str, Any], language: str = DEFAULT_LANGUAGE) -> str:
    """The roll-up as one standalone, printable HTML page, every value escaped."""
    with i18n.using(language):
        return html_template("rollup.html.j2").render(_view(rollup))


def render_rollup_markdown(rollup: dict[str, Any], language: str = DEFAULT_LANGUAGE) -> str:
    """The roll-up as Markdown, every value escaped."""
    with i18n.using(language):
        text = markdown_template("rollup.md.j2").render(_view(rollup))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"
