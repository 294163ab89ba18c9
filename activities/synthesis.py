"""The synthesis of a review's inputs that its consultation is about.

Built from the latest accepted version of every submission, per objective and per cluster,
each item carrying its provenance (submission id and version). Pure functions over rows, so
the same inputs give the same synthesis, byte for byte.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reviewflow.reference import load_reference

# How much of a stakeholder's input text the synthesis quotes; the rest is one click away.
EXCERPT_CHARS = 600


@dataclass(frozen=True)
class Source:
    """One latest accepted submission."""

    submission_id: str
    version: int
    kind: str
    subject: str
    content: dict[str, Any]

    @property
    def provenance(self) -> dict[str, Any]:
        return {"submission_id": self.submission_id, "version": self.version}


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1].rstrip() + "…"


class _Objective:
    def __init__(self) -> None:
        self.statuses: dict[str, list[str]] = defaultdict(list)
        self.items: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.stakeholder_inputs: list[dict[str, Any]] = []
        self.unpublished_inputs = 0

    def add_report(self, source: Source, entry: dict[str, Any]) -> None:
        country = source.subject
        self.statuses[entry["status"]].append(country)
        for field in ("measures", "challenges", "good_practices"):
            for text in entry.get(field, []):
                self.items[field].append({"text": text, "country": country, **source.provenance})

    def add_input(self, source: Source) -> None:
        content = source.content
        if not content.get("consent_to_publish"):
            # Counted, never quoted: the organisation did not agree to its words being shown.
            self.unpublished_inputs += 1
            return
        self.stakeholder_inputs.append(
            {
                "organisation": content["organisation"]["name"],
                "category": content["organisation"]["category"],
                "excerpt": _excerpt(content["input"]),
                "recommendations": content.get("recommendations", []),
                **source.provenance,
            }
        )

    def document(self, number: int, title: str, cluster: int) -> dict[str, Any]:
        return {
            "number": number,
            "title": title,
            "cluster": cluster,
            "statuses": {
                status: sorted(countries) for status, countries in sorted(self.statuses.items())
            },
            "measures": self.items["measures"],
            "challenges": self.items["challenges"],
            "good_practices": self.items["good_practices"],
            "stakeholder_inputs": self.stakeholder_inputs,
            "unpublished_stakeholder_inputs": self.unpublished_inputs,
        }


def build_synthesis(review_id: str, sources: Iterable[Source]) -> dict[str, Any]:
    """The synthesis document. `sources` must come in a stable order (kind, subject)."""
    reference = load_reference()
    objectives = {o.number: _Objective() for o in reference.objectives}
    principles: dict[str, list[dict[str, Any]]] = defaultdict(list)
    counts = {"national_reports": 0, "stakeholder_inputs": 0}
    for source in sources:
        if source.kind == "national_report":
            counts["national_reports"] += 1
            for entry in source.content["objectives"]:
                objectives[entry["number"]].add_report(source, entry)
            for applied in source.content.get("guiding_principles", []):
                principles[applied["principle"]].append(
                    {"country": source.subject, **source.provenance}
                )
        else:
            counts["stakeholder_inputs"] += 1
            for number in source.content["objectives"]:
                objectives[number].add_input(source)
    by_number = {
        o.number: objectives[o.number].document(o.number, o.title, o.cluster)
        for o in reference.objectives
    }
    return {
        "review_id": review_id,
        "sources": counts,
        "clusters": [
            {
                "number": cluster.number,
                "title": cluster.title,
                "objectives": [by_number[n] for n in cluster.objectives],
            }
            for cluster in reference.clusters
        ],
        "guiding_principles": [
            {"id": p.id, "title": p.title, "applied_by": principles.get(p.id, [])}
            for p in reference.guiding_principles
        ],
    }
