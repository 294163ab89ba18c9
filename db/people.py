"""People: the accounts an admin or a secretariat manages, listed, searched and edited, and the
CSV imports kept between their preview and their confirmation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg

from db.actors import READ_COLUMNS, _contains_pattern
from db.pool import Executor
from domain.access import Actor


@dataclass(frozen=True)
class Person:
    """An account as its manager sees it: the account, and whether it is still active."""

    actor: Actor
    active: bool

    def as_json(self) -> dict[str, Any]:
        return {**self.actor.as_json(), "active": self.active}


@dataclass(frozen=True)
class Filters:
    """What a list of people is narrowed to; None: no narrowing by that field."""

    text: str | None = None
    role: str | None = None
    category: str | None = None
    country: str | None = None
    active: bool | None = None


_PERSON = f"{READ_COLUMNS}, disabled_at IS NULL AS active"


def _person(row: asyncpg.Record) -> Person:
    return Person(Actor.from_row(row), row["active"])


def _managed(manager: uuid.UUID | None) -> str:
    """The accounts `$1` manages: every one when it is null (an admin), else those it created.
    Two texts, so that each query's plan walks the index of its own order."""
    return "$1::uuid IS NULL" if manager is None else "created_by = $1"


async def managed_people(
    conn: Executor,
    manager: uuid.UUID | None,
    filters: Filters,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
) -> list[Person]:
    """The accounts `manager` manages (None: every account) matching `filters`, by name then
    id, from after the account (name, id) `after`."""
    rows = await conn.fetch(
        f"""SELECT {_PERSON} FROM actors
            WHERE {_managed(manager)}
              AND ($2::text IS NULL OR name ILIKE $2 OR email ILIKE $2 OR organisation ILIKE $2)
              AND ($3::text IS NULL OR role = $3)
              AND ($4::text IS NULL OR stakeholder_category = $4)
              AND ($5::text IS NULL OR country = $5)
              AND ($6::boolean IS NULL OR (disabled_at IS NULL) = $6)
              AND ($7::text IS NULL OR (name, id) > ($7, $8::uuid))
            ORDER BY name, id LIMIT $9""",
        manager,
        None if filters.text is None else _contains_pattern(filters.text),
        filters.role,
        filters.category,
        filters.country,
        filters.active,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_person(row) for row in rows]


async def managed_person(
    conn: Executor, manager: uuid.UUID | None, person_id: uuid.UUID
) -> Person | None:
    row = await conn.fetchrow(
        f"SELECT {_PERSON} FROM actors WHERE {_managed(manager)} AND id = $2",
        manager,
        person_id,
    )
    return _person(row) if row else None


async def managed_by_email(
    conn: Executor, manager: uuid.UUID | None, emails: list[str]
) -> list[Person]:
    """The accounts `manager` manages whose address is one of `emails`, whatever its case."""
    rows = await conn.fetch(
        f"""SELECT {_PERSON} FROM actors
            WHERE {_managed(manager)}
              AND lower(email) = ANY (SELECT lower(e) FROM unnest($2::text[]) e)
            ORDER BY created_at, id""",
        manager,
        emails,
    )
    return [_person(row) for row in rows]


async def update_person(
    conn: Executor, person_id: uuid.UUID, name: str, email: str | None, organisation: str | None
) -> None:
    await conn.execute(
        "UPDATE actors SET name = $2, email = $3, organisation = $4 WHERE id = $1",
        person_id,
        name,
        email,
        organisation,
    )


async def update_language(conn: Executor, person_id: uuid.UUID, language: str | None) -> None:
    """The language the account's pages and mail are in; None leaves it to the person."""
    await conn.execute("UPDATE actors SET language = $2 WHERE id = $1", person_id, language)


async def rename_organisation(
    conn: Executor, organisation_id: uuid.UUID, name: str, category: str
) -> None:
    """The organisation's name and category, and the copies its accounts carry."""
    await conn.execute(
        "UPDATE organisations SET name = $2, category = $3 WHERE id = $1",
        organisation_id,
        name,
        category,
    )
    await conn.execute(
        """UPDATE actors SET organisation = $2, stakeholder_category = $3
           WHERE organisation_id = $1""",
        organisation_id,
        name,
        category,
    )


async def end_sessions(conn: Executor, actor_id: uuid.UUID) -> None:
    """Sign the account out of the pages everywhere."""
    await conn.execute("DELETE FROM web_sessions WHERE actor_id = $1", actor_id)


async def keep_import(
    conn: Executor, import_id: uuid.UUID, actor_id: uuid.UUID, content: str, lifetime: timedelta
) -> None:
    """Keep an uploaded CSV for its uploader, forgetting the uploads older than `lifetime`."""
    await conn.execute(
        "DELETE FROM account_imports WHERE created_at <= now() - $1::interval", lifetime
    )
    await conn.execute(
        "INSERT INTO account_imports (id, actor_id, content) VALUES ($1, $2, $3)",
        import_id,
        actor_id,
        content,
    )


async def kept_import(
    conn: Executor, import_id: uuid.UUID, actor_id: uuid.UUID, lifetime: timedelta
) -> str | None:
    """The CSV `actor_id` uploaded as `import_id` within `lifetime`; None for anyone else's."""
    found: str | None = await conn.fetchval(
        """SELECT content FROM account_imports
           WHERE id = $1 AND actor_id = $2 AND created_at > now() - $3::interval""",
        import_id,
        actor_id,
        lifetime,
    )
    return found


async def forget_import(conn: Executor, import_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM account_imports WHERE id = $1", import_id)


async def lock_imports_of(conn: Executor, actor_id: uuid.UUID) -> None:
    """Hold the importer's imports to one at a time until the transaction ends, so a file
    confirmed twice at once creates its accounts once."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('account-import:' || $1, 0))",
        str(actor_id),
    )
