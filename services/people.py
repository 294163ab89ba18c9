"""People, for those who manage accounts: an admin every account, a secretariat the accounts it
created (the accounts whose tokens it may revoke and which it may deactivate). List and search
them a page at a time, read one, edit one."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from db.actors import joinable_organisation, record_account_event
from db.people import (
    Filters,
    Person,
    managed_people,
    managed_person,
    rename_organisation,
    update_language,
)
from db.people import update_person as store_person
from db.pool import Executor
from domain.access import ROLES, RUNS_REVIEWS, Actor
from domain.reference import load_reference
from i18n import LANGUAGES, N_, gettext
from notifications.addresses import address_problem, name_problem
from schemas import COMMON_ID, problems_in
from services.refusals import at_most_characters, forbidden, invalid, named_id, not_found

DEFAULT_PAGE = 50
MAX_PAGE = 200
MAX_QUERY = 200
# The query parameters of a list of people, and what each must be.
LIST_PARAMETERS = ("q", "role", "category", "country", "active", "limit", "cursor")

EDIT_PERSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "email": {"type": "string", "format": "email", "maxLength": 320},
        "organisation": {"type": "string", "minLength": 1, "maxLength": 300},
        "stakeholder_category": {"$ref": f"{COMMON_ID}#/$defs/stakeholder_category"},
        "language": {
            "enum": [*LANGUAGES, None],
            "description": "One of the six UN languages (ISO 639-1), for the account's pages"
            " and mail; null leaves the choice to the person.",
        },
    },
}


NOT_YOUR_ORGANISATION = N_("The organisation spans regions not yours: an administrator renames it.")


def manager_scope(actor: Actor) -> uuid.UUID | None:
    """Whose accounts `actor` manages: None for every account (an admin), else its own id (the
    accounts a secretariat created). Anyone else manages none."""
    if actor.role not in RUNS_REVIEWS:
        raise forbidden(
            gettext("Only an administrator or a secretariat manages people's accounts.")
        )
    return None if actor.role == "admin" else actor.id


@dataclass(frozen=True)
class PeoplePage:
    items: list[Person]
    next_cursor: str | None


def _cursor(person: Person) -> str:
    raw = json.dumps([person.actor.name, str(person.actor.id)])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _after(cursor: str) -> tuple[str, uuid.UUID] | None:
    """The (name, id) a cursor this service gave out continues after; None for anything else."""
    try:
        name, person_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return (name, uuid.UUID(person_id)) if isinstance(name, str) else None
    except (ValueError, TypeError, binascii.Error):
        return None


def _choice(value: str | None, allowed: tuple[str, ...]) -> tuple[str | None, str | None]:
    if value is None or value in allowed:
        return value, None
    return None, gettext("must be one of: %(choices)s") % {"choices": ", ".join(allowed)}


@dataclass
class _Reading:
    """Query parameters read one by one, every problem kept to be told at once."""

    query: Mapping[str, str]
    problems: list[tuple[str, str]]

    def value(self, name: str) -> str | None:
        raw = self.query.get(name, "").strip()
        return raw or None

    def choice(self, name: str, allowed: tuple[str, ...]) -> str | None:
        chosen, problem = _choice(self.value(name), allowed)
        if problem:
            self.problems.append((f"/{name}", problem))
        return chosen


def _filters(reading: _Reading) -> Filters:
    reference = load_reference()
    text = reading.value("q")
    if text is not None and len(text) > MAX_QUERY:
        reading.problems.append(("/q", at_most_characters(MAX_QUERY)))
    country = reading.value("country")
    if country is not None and reference.country_name(country.upper()) is None:
        reading.problems.append(
            ("/country", gettext("must be the ISO 3166-1 alpha-3 code of a country"))
        )
    active = reading.choice("active", ("true", "false"))
    return Filters(
        text=text,
        role=reading.choice("role", ROLES),
        category=reading.choice("category", reference.category_ids),
        country=country.upper() if country else None,
        active=None if active is None else active == "true",
    )


def _limit(reading: _Reading) -> int:
    raw = reading.value("limit")
    if raw is None:
        return DEFAULT_PAGE
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        reading.problems.append(
            ("/limit", gettext("must be an integer from 1 to %(most)d") % {"most": MAX_PAGE})
        )
        return DEFAULT_PAGE
    return int(raw)


async def people_page(pool: asyncpg.Pool, actor: Actor, query: Mapping[str, str]) -> PeoplePage:
    """A page of the accounts `actor` manages, by name, narrowed by the query parameters
    `LIST_PARAMETERS` (text in name, email or organisation, in any case; role; stakeholder
    category; country; active); every problem with them refused at once."""
    manager = manager_scope(actor)
    reading = _Reading(query, [])
    filters, limit = _filters(reading), _limit(reading)
    cursor = reading.value("cursor")
    after = None if cursor is None else _after(cursor)
    if cursor is not None and after is None:
        reading.problems.append(("/cursor", gettext("is not a cursor this service gave out")))
    if reading.problems:
        raise invalid(reading.problems)
    async with pool.acquire() as conn:
        found = await managed_people(conn, manager, filters, after, limit + 1)
    items = found[:limit]
    return PeoplePage(items, _cursor(items[-1]) if len(found) > limit else None)


async def person(pool: asyncpg.Pool, actor: Actor, person_id: str) -> Person:
    """An account `actor` manages; the same refusal for one it does not as for none."""
    manager = manager_scope(actor)
    nothing = not_found(gettext("There is no account %(id)s you manage.") % {"id": repr(person_id)})
    async with pool.acquire() as conn:
        found = await managed_person(conn, manager, named_id(person_id, nothing))
    if found is None:
        raise nothing
    return found


def edit_problems(changes: Any) -> list[tuple[str, str]]:
    problems = [(p.pointer, p.message) for p in problems_in(EDIT_PERSON_SCHEMA, changes)]
    if problems:
        return problems
    found = [
        ("/name", name_problem(changes["name"]) if "name" in changes else None),
        ("/email", address_problem(changes["email"]) if "email" in changes else None),
    ]
    return [(pointer, problem) for pointer, problem in found if problem is not None]


async def apply_changes(
    conn: Executor, editor: Actor, current: Actor, changes: Mapping[str, str | None]
) -> list[str]:
    """Change the account's name, email, organisation, stakeholder category and language as
    `changes` says, in the caller's transaction; the fields that changed. A stakeholder's organisation
    and category are its organisation's: changing them renames the organisation for all its
    accounts, which only one who may add accounts to it does."""
    problems = edit_problems(dict(changes))
    if current.role != "stakeholder" and "stakeholder_category" in changes:
        problems.append(("/stakeholder_category", gettext("only a stakeholder has a category")))
    if problems:
        raise invalid(problems)
    wanted: dict[str, str | None] = {
        "name": changes.get("name", current.name),
        "email": changes.get("email", current.email),
        "organisation": changes.get("organisation", current.organisation),
        "stakeholder_category": changes.get("stakeholder_category", current.stakeholder_category),
        "language": changes.get("language", current.language),
    }
    changed = [name for name, value in wanted.items() if getattr(current, name) != value]
    if not changed:
        return []
    organisation_changed = {"organisation", "stakeholder_category"} & set(changed)
    if current.role == "stakeholder" and organisation_changed:
        assert current.organisation_id is not None  # every stakeholder has one
        if await joinable_organisation(conn, current.organisation_id, editor) is None:
            raise forbidden(gettext(NOT_YOUR_ORGANISATION))
        await rename_organisation(
            conn,
            current.organisation_id,
            wanted["organisation"] or "",
            wanted["stakeholder_category"] or "",
        )
    await store_person(
        conn, current.id, wanted["name"] or current.name, wanted["email"], wanted["organisation"]
    )
    if "language" in changed:
        await update_language(conn, current.id, wanted["language"])
    # Which fields changed, never their values: the audit trail outlives an erasure.
    await record_account_event(conn, current.id, "account.updated", editor.id, fields=changed)
    return changed


async def edit_person(
    pool: asyncpg.Pool, actor: Actor, person_id: str, changes: Mapping[str, str | None]
) -> Person:
    """Change an account `actor` manages (see `apply_changes`); the account as it is now."""
    found = await person(pool, actor, person_id)
    async with pool.acquire() as conn, conn.transaction():
        await apply_changes(conn, actor, found.actor, changes)
        now = await managed_person(conn, manager_scope(actor), found.actor.id)
    assert now is not None  # nothing deletes an account
    return now
