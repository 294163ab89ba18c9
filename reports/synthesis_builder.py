"""The synthesis of a review's inputs that its consultation is about.

Built from the latest accepted version of every submission, per objective and per cluster,
each item carrying its provenance (submission id and version). Pure functions over rows, so
the same inputs give the same synthesis, byte for byte.

It is stored and read in parts of bounded size, whatever the number of inputs: a head (the
counts and the guiding principles), one part per objective and per `INPUTS_PER_PART` of its
quoted inputs, and one part per published input holding its recommendations, which are
quoted once, not under each objective the input names.

An input is quoted as its authors agreed (`domain.publication`): with its organisations named
("with_name"), with none named ("without_name": `organisation` null), or not at all
("do_not_publish": counted only).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg

from domain.publication import joint_organisation_names, may_be_quoted, quoted_with_name
from domain.reference import load_reference
from reports.synthesis import OBJECTIVE, RECOMMENDATIONS

# How much of a stakeholder's input text the synthesis quotes; the rest is one click away.
EXCERPT_CHARS = 600
# Quoted inputs per stored part of an objective: bounds the part at about 100 times 1 kB.
INPUTS_PER_PART = 100


@dataclass(frozen=True)
class Organisation:
    """A stakeholder organisation as its accounts hold it: what an input claims of itself (its
    name, its category) is not taken for it."""

    name: str
    category: str


@dataclass(frozen=True)
class Source:
    """One latest accepted submission; a stakeholder input's with its organisation."""

    submission_id: str
    version: int
    kind: str
    subject: str
    content: dict[str, Any]
    organisation: Organisation | None = None

    @property
    def submitter(self) -> Organisation:
        assert self.organisation is not None, "a stakeholder input comes with its organisation"
        return self.organisation

    @property
    def provenance(self) -> dict[str, Any]:
        return {"submission_id": self.submission_id, "version": self.version}

    @property
    def published(self) -> bool:
        return may_be_quoted(self.content)

    @property
    def named(self) -> dict[str, Any]:
        """Who the input is by, as it may be published: its organisations, or none."""
        if not quoted_with_name(self.content):
            return {"organisation": None, "joint_organisations": []}
        return {
            "organisation": self.submitter.name,
            "joint_organisations": joint_organisation_names(self.content),
        }


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
        if not source.published:
            # Counted, never quoted: the organisation did not agree to its words being shown.
            self.unpublished_inputs += 1
            return
        self.stakeholder_inputs.append(
            {
                **source.named,
                "category": source.submitter.category,
                "excerpt": _excerpt(source.content["input"]),
                **source.provenance,
            }
        )

    def parts(self, number: int, title: str, cluster: int) -> list[dict[str, Any]]:
        """The objective in parts: the first with everything the member States reported, each
        with at most INPUTS_PER_PART quoted inputs (a reader merges them by number)."""
        first = self.document(number, title, cluster)
        inputs = first["stakeholder_inputs"]
        chunks = [inputs[i : i + INPUTS_PER_PART] for i in range(0, len(inputs), INPUTS_PER_PART)]
        continued = {**first, "measures": [], "challenges": [], "good_practices": []}
        return [{**first, "stakeholder_inputs": chunks[0] if chunks else []}] + [
            {**continued, "stakeholder_inputs": chunk} for chunk in chunks[1:]
        ]

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


@dataclass(frozen=True)
class Synthesis:
    """The head and the parts, in the order they are read."""

    head: dict[str, Any]
    parts: list[tuple[str, dict[str, Any]]]


def _recommendations(source: Source) -> dict[str, Any] | None:
    content = source.content
    if not source.published or not content.get("recommendations"):
        return None
    return {
        **source.named,
        "recommendations": content["recommendations"],
        **source.provenance,
    }


def build_synthesis(review_id: str, sources: Iterable[Source]) -> Synthesis:
    """The synthesis. `sources` must come in a stable order (kind, subject)."""
    reference = load_reference()
    objectives = {o.number: _Objective() for o in reference.objectives}
    principles: dict[str, list[dict[str, Any]]] = defaultdict(list)
    counts = {"national_reports": 0, "stakeholder_inputs": 0}
    recommendations: list[dict[str, Any]] = []
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
            if (recommended := _recommendations(source)) is not None:
                recommendations.append(recommended)
    titles = {o.number: (o.title, o.cluster) for o in reference.objectives}
    parts = [
        (OBJECTIVE, part)
        for cluster in reference.clusters
        for number in cluster.objectives
        for part in objectives[number].parts(number, *titles[number])
    ]
    parts += [(RECOMMENDATIONS, item) for item in recommendations]
    head = {
        "review_id": review_id,
        "sources": counts,
        "guiding_principles": [
            {"id": p.id, "title": p.title, "applied_by": principles.get(p.id, [])}
            for p in reference.guiding_principles
        ],
    }
    return Synthesis(head, parts)


def source_of(row: asyncpg.Record) -> Source:
    """The source a row of the latest accepted versions is (with `organisation` and
    `category`, null for a national report)."""
    organisation = (
        Organisation(row["organisation"], row["category"]) if row["organisation"] else None
    )
    return Source(
        str(row["id"]), row["version"], row["kind"], row["subject"], row["content"], organisation
    )
