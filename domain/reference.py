"""GCM reference data: objectives, clusters, principles, stakeholder categories and regions.

The data lives in ``domain/data/*.json`` so it can be reviewed and corrected without touching
code; this module turns it into immutable, typed objects and into plain dicts for the API.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class Objective:
    number: int
    title: str
    cluster: int


@dataclass(frozen=True)
class Cluster:
    number: int
    title: str
    objectives: tuple[int, ...]


@dataclass(frozen=True)
class GuidingPrinciple:
    id: str
    title: str
    paragraph: str


@dataclass(frozen=True)
class Term:
    """An entry of one of the GCM's closed lists (stakeholder categories, objective statuses):
    the id documents use, and its title."""

    id: str
    title: str


@dataclass(frozen=True)
class Country:
    iso3: str
    name: str


@dataclass(frozen=True)
class Region:
    code: str
    commission: str
    region: str
    # The default member-State scope of a review; the secretariat may narrow or widen it.
    members: tuple[Country, ...]
    # ISO3 codes of member States from outside the region. ESCAP counts them in `members` (its
    # 53); ECLAC does not (its 33 regional members are the default scope).
    non_regional_members: tuple[str, ...]
    associate_members: tuple[Country, ...]

    @property
    def default_scope(self) -> tuple[str, ...]:
        """The member States a review covers unless its secretariat says otherwise: the
        regional members (regions.md), so ESCAP's non-regional members are left out."""
        outside = set(self.non_regional_members)
        return tuple(c.iso3 for c in self.members if c.iso3 not in outside)

    @property
    def iso3_codes(self) -> frozenset[str]:
        """Every State or territory the commission counts: members of all kinds and associates."""
        return frozenset(
            {c.iso3 for c in (*self.members, *self.associate_members)}
            | set(self.non_regional_members)
        )


@dataclass(frozen=True)
class Reference:
    objectives: tuple[Objective, ...]
    clusters: tuple[Cluster, ...]
    guiding_principles: tuple[GuidingPrinciple, ...]
    stakeholder_categories: tuple[Term, ...]
    objective_statuses: tuple[Term, ...]
    regions: tuple[Region, ...]

    @property
    def objective_numbers(self) -> tuple[int, ...]:
        return tuple(objective.number for objective in self.objectives)

    @property
    def principle_ids(self) -> tuple[str, ...]:
        return tuple(principle.id for principle in self.guiding_principles)

    @property
    def category_ids(self) -> tuple[str, ...]:
        return tuple(category.id for category in self.stakeholder_categories)

    @property
    def status_ids(self) -> tuple[str, ...]:
        return tuple(status.id for status in self.objective_statuses)

    def region(self, code: str) -> Region | None:
        return next((region for region in self.regions if region.code == code), None)

    def in_any_region(self, iso3: str, codes: tuple[str, ...]) -> bool:
        return any(iso3 in region.iso3_codes for region in map(self.region, codes) if region)

    def country_name(self, iso3: str) -> str | None:
        # A State may appear in several regions; the data uses one name per code throughout.
        for region in self.regions:
            for country in (*region.members, *region.associate_members):
                if country.iso3 == iso3:
                    return country.name
        return None


def _read_json(name: str) -> Any:
    # importlib.resources works whether the package is installed, editable or zipped.
    return json.loads((resources.files("domain") / "data" / name).read_text("utf-8"))


def _countries(items: list[JsonObject]) -> tuple[Country, ...]:
    return tuple(Country(iso3=item["iso3"], name=item["name"]) for item in items)


def _region(item: JsonObject) -> Region:
    return Region(
        code=item["code"],
        commission=item["commission"],
        region=item["region"],
        members=_countries(item["members"]),
        non_regional_members=tuple(item["non_regional_members"]),
        associate_members=_countries(item["associate_members"]),
    )


@cache
def load_reference() -> Reference:
    gcm = _read_json("gcm.json")
    return Reference(
        objectives=tuple(Objective(**item) for item in gcm["objectives"]),
        clusters=tuple(
            Cluster(
                number=item["number"], title=item["title"], objectives=tuple(item["objectives"])
            )
            for item in gcm["clusters"]
        ),
        guiding_principles=tuple(GuidingPrinciple(**item) for item in gcm["guiding_principles"]),
        stakeholder_categories=tuple(Term(**item) for item in gcm["stakeholder_categories"]),
        objective_statuses=tuple(Term(**item) for item in gcm["objective_statuses"]),
        regions=tuple(_region(item) for item in _read_json("regions.json")),
    )


def gcm_document() -> JsonObject:
    """Body of ``GET /v1/gcm``; built fresh each call so callers may mutate it."""
    reference = load_reference()
    return {
        "objectives": [asdict(objective) for objective in reference.objectives],
        "clusters": [
            {**asdict(cluster), "objectives": list(cluster.objectives)}
            for cluster in reference.clusters
        ],
        "guiding_principles": [asdict(principle) for principle in reference.guiding_principles],
        "stakeholder_categories": [
            asdict(category) for category in reference.stakeholder_categories
        ],
        "objective_statuses": [asdict(status) for status in reference.objective_statuses],
    }


def region_document(region: Region, with_members: bool) -> JsonObject:
    """A region for the API; member lists are optional because they dominate the payload."""
    document: JsonObject = {
        "code": region.code,
        "commission": region.commission,
        "region": region.region,
    }
    if with_members:
        document["members"] = [asdict(country) for country in region.members]
        document["default_scope"] = list(region.default_scope)
        document["non_regional_members"] = list(region.non_regional_members)
        document["associate_members"] = [asdict(country) for country in region.associate_members]
    return document
