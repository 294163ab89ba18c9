"""A review's dashboard, for those who run it: where the review stands, each member State's
national report, stakeholder inputs against invitations by category, and the coverage of the
objectives by State (the report's heatmap, as the reports received so far draw it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from db.dashboard import input_rates, national_reports
from db.reviews import visible_review
from domain.access import Actor, runs_review
from domain.reference import load_reference
from domain.review import DEADLINE_ENDS, PHASE_ORDER, Deadline, Phase
from i18n import gettext
from services.engine import Deps
from services.refusals import not_found


@dataclass(frozen=True)
class StateReport:
    """A member State's national report as it stands: sent (`version`, `received_at`, `late`)
    or not (`version` None); `extended_until` when the State was given more time."""

    country: str
    name: str
    version: int | None
    received_at: datetime | None
    late: bool
    extended_until: datetime | None


@dataclass(frozen=True)
class CategoryRate:
    """Organisations of a stakeholder category invited to send an input, and those that did."""

    category: str
    title: str
    invited: int
    sent: int

    @property
    def rate(self) -> float | None:
        return self.sent / self.invited if self.invited else None


@dataclass(frozen=True)
class Dashboard:
    review: asyncpg.Record
    # The next deadline to come, and when, if one is still ahead.
    next_deadline: tuple[Deadline, datetime] | None
    states: list[StateReport]
    rates: list[CategoryRate]
    # As the report's `coverage`: objectives, and a row per State (iso3, name, a status or
    # None per objective).
    coverage: dict[str, list[Any]]


async def run_review(deps: Deps, actor: Actor, review_id: str) -> asyncpg.Record:
    """The review's row, for its secretariat (or an admin); anyone else, whether they may see
    the review or not, is told it does not exist."""
    row = await visible_review(deps.pool, actor, review_id, invited=False)
    if row is None or not runs_review(actor, row["region"]):
        raise not_found(gettext("There is no review %(id)s you run.") % {"id": repr(review_id)})
    return row


def next_deadline(row: asyncpg.Record, now: datetime) -> tuple[Deadline, datetime] | None:
    """The first deadline still ahead that ends the current phase or one after it (a phase
    closed early leaves its deadline behind it, even if that date is still to come)."""
    phase = Phase(row["phase"])
    if phase.terminal:
        return None
    current = PHASE_ORDER.index(phase)
    ahead = [
        (deadline, at)
        for deadline, ends in DEADLINE_ENDS.items()
        if PHASE_ORDER.index(ends) >= current
        and (at := datetime.fromisoformat(row["deadlines"][deadline.value])) > now
    ]
    return min(ahead, key=lambda pair: pair[1], default=None)


def _states(row: asyncpg.Record, reports: list[asyncpg.Record]) -> list[StateReport]:
    reference = load_reference()
    sent = {report["country"]: report for report in reports}
    extensions = row["country_extensions"]
    states = []
    for country in row["member_states"]:
        report = sent.get(country)
        extended = extensions.get(country)
        states.append(
            StateReport(
                country=country,
                name=reference.country_name(country) or country,
                version=report["version"] if report else None,
                received_at=report["received_at"] if report else None,
                late=bool(report and report["late"]),
                extended_until=datetime.fromisoformat(extended) if extended else None,
            )
        )
    return states


def _coverage(states: list[StateReport], reports: list[asyncpg.Record]) -> dict[str, list[Any]]:
    objectives = list(load_reference().objective_numbers)
    statuses = {report["country"]: report["statuses"] for report in reports}
    return {
        "objectives": objectives,
        "rows": [
            {
                "iso3": state.country,
                "name": state.name,
                "cells": [statuses.get(state.country, {}).get(str(n)) for n in objectives],
            }
            for state in states
        ],
    }


def _rates(rows: list[asyncpg.Record]) -> list[CategoryRate]:
    titles = {category.id: category.title for category in load_reference().stakeholder_categories}
    return [
        CategoryRate(
            r["category"], titles.get(r["category"], r["category"]), r["invited"], r["sent"]
        )
        for r in rows
    ]


async def dashboard(deps: Deps, actor: Actor, review_id: str) -> Dashboard:
    """The review's dashboard, for its secretariat (or an admin)."""
    row = await run_review(deps, actor, review_id)
    reports = await national_reports(deps.pool, review_id)
    states = _states(row, reports)
    return Dashboard(
        review=row,
        next_deadline=next_deadline(row, datetime.now(UTC)),
        states=states,
        rates=_rates(await input_rates(deps.pool, review_id)),
        coverage=_coverage(states, reports),
    )
