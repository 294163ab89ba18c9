"""The rows of the review forms (new and edit) that name the report's approvers in order: a
fixed number of rows, each a choice among the region's accounts that may approve and an
optional title. The rows become the `approvers` of the API's body, and what the use case finds
wrong with any is shown beside its row."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from multidict import MultiDictProxy

import i18n

# The rows the forms show (more are named through the API).
ROWS = 5
# The most accounts a row lists to choose from.
PICKABLE = 500
# The title of an approver named without one, by role. (Translated where it is used.)
DEFAULT_TITLES = {
    "secretariat": i18n.N_("Secretariat"),
    "approver": i18n.N_("UN Network on Migration"),
}
APPROVER_POINTER = re.compile(r"^/approvers/(\d+)(?:/|$)")


@dataclass(frozen=True)
class ApproverRow:
    """One row as typed: its number on the form (from 1), who is chosen and under what title."""

    number: int
    actor_id: str = ""
    title: str = ""

    @property
    def field_id(self) -> str:
        return f"approver-{self.number}"


def typed_rows(posted: MultiDictProxy[Any]) -> list[ApproverRow]:
    """The rows as the form sent them."""

    def value(name: str) -> str:
        typed = posted.get(name, "")
        return typed.strip() if isinstance(typed, str) else ""

    return [
        ApproverRow(n, value(f"approver-{n}"), value(f"approver-{n}-title"))
        for n in range(1, ROWS + 1)
    ]


def named_rows(named: list[Mapping[str, Any]]) -> list[ApproverRow]:
    """The rows of the approvers a review names now (`actor_id`, `title`), then empty ones."""
    rows = [ApproverRow(n, str(a["actor_id"]), a["title"]) for n, a in enumerate(named, start=1)]
    return rows + [ApproverRow(n) for n in range(len(rows) + 1, max(ROWS, len(rows)) + 1)]


def has_rows(posted: MultiDictProxy[Any]) -> bool:
    """Whether the form sent approver rows (the edit form leaves them out once the approval
    has begun)."""
    return "approver-1" in posted


@dataclass(frozen=True)
class Named:
    """The `approvers` of the API's body and, for each, the number of the row it came from."""

    approvers: list[dict[str, str]]
    rows: list[int]


def named_by(
    rows: list[ApproverRow], roles: Mapping[str, str], errors: list[dict[str, str]]
) -> Named:
    """The approvers the chosen rows name, in order; a title without anyone chosen is an error.
    An empty title is the role's (`roles`: each account's role, by id)."""
    approvers, numbers = [], []
    for row in rows:
        if not row.actor_id:
            if row.title:
                message = i18n.gettext(
                    "Approver %(number)s: select who approves, or clear the position"
                )
                errors.append(
                    {"field_id": row.field_id, "message": message % {"number": row.number}}
                )
            continue
        role = roles.get(row.actor_id, "approver")
        default = i18n.gettext(DEFAULT_TITLES.get(role, DEFAULT_TITLES["approver"]))
        approvers.append({"actor_id": row.actor_id, "title": row.title or default})
        numbers.append(row.number)
    return Named(approvers, numbers)


def approver_errors(
    problems: list[tuple[str, str]], named: Named, *, from_schema: bool
) -> tuple[list[dict[str, str]], list[tuple[str, str]]]:
    """The problems about the approvers, each beside its row (the first of each row), and the
    other problems. What the body's schema refuses is said in the form's words; the use
    case's words name what is wrong with the account chosen."""
    errors: dict[str, dict[str, str]] = {}
    others = []
    for pointer, message in problems:
        found = APPROVER_POINTER.match(pointer)
        if found is None or int(found[1]) >= len(named.rows):
            others.append((pointer, message))
            continue
        number = named.rows[int(found[1])]
        field_id = f"approver-{number}"
        why = message
        if pointer.endswith("/title"):
            why = i18n.gettext("has a position longer than 300 characters")
        elif from_schema:
            why = i18n.gettext("is not one of the accounts listed")
        text = i18n.gettext("Approver %(number)s %(problem)s") % {"number": number, "problem": why}
        errors.setdefault(field_id, {"field_id": field_id, "message": text})
    return list(errors.values()), others


def choices(
    candidates: list[asyncpg.Record], named: list[Mapping[str, Any]]
) -> list[dict[str, str]]:
    """What each row offers: the region's accounts that may approve, and any approver named
    now that no longer is one (kept so that saving the form shows why it may not stay)."""
    offered = [
        {"id": str(c["id"]), "label": _label(c["name"], c["role"]), "role": c["role"]}
        for c in candidates
    ]
    ids = {c["id"] for c in offered}
    kept = [
        {"id": str(a["actor_id"]), "label": a["name"], "role": ""}
        for a in named
        if str(a["actor_id"]) not in ids
    ]
    return offered + kept


def _label(name: str, role: str) -> str:
    return i18n.gettext("%(name)s (%(role)s)") % {
        "name": name,
        "role": i18n.gettext(DEFAULT_TITLES.get(role, DEFAULT_TITLES["approver"])),
    }


def roles_of(offered: list[dict[str, str]]) -> dict[str, str]:
    return {c["id"]: c["role"] for c in offered}
