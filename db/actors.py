"""Actors (accounts) and their bearer tokens, which are stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from db.pool import Executor

ROLES = ("admin", "secretariat", "focal_point", "stakeholder", "observer")
TOKEN_PREFIX = "rf_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast unsalted hash is enough: nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Actor:
    id: uuid.UUID
    name: str
    role: str
    email: str | None = None
    regions: tuple[str, ...] = field(default_factory=tuple)
    country: str | None = None
    organisation: str | None = None
    stakeholder_category: str | None = None
    language: str = "en"
    notifications: str = "all"

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Actor:
        return cls(
            id=row["id"],
            name=row["name"],
            role=row["role"],
            email=row["email"],
            regions=tuple(row["regions"]),
            country=row["country"],
            organisation=row["organisation"],
            stakeholder_category=row["stakeholder_category"],
            language=row["language"],
            notifications=row["notifications"],
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "regions": list(self.regions),
            "country": self.country,
            "organisation": self.organisation,
            "stakeholder_category": self.stakeholder_category,
            "language": self.language,
            "notifications": self.notifications,
        }


_COLUMNS = "id, name, email, role, regions, country, organisation, stakeholder_category"
_READ = f"{_COLUMNS}, language, notifications"


async def actor_by_token(pool: asyncpg.Pool, token: str) -> Actor | None:
    row = await pool.fetchrow(
        f"SELECT {_READ} FROM actors WHERE token_hash = $1", hash_token(token)
    )
    return Actor.from_row(row) if row else None


async def actor_by_id(conn: Executor, actor_id: uuid.UUID) -> Actor | None:
    row = await conn.fetchrow(f"SELECT {_READ} FROM actors WHERE id = $1", actor_id)
    return Actor.from_row(row) if row else None


async def insert_actor(
    conn: Executor, actor: Actor, token: str, created_by: uuid.UUID | None
) -> None:
    await conn.execute(
        f"INSERT INTO actors ({_COLUMNS}, token_hash, created_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        actor.id,
        actor.name,
        actor.email,
        actor.role,
        list(actor.regions),
        actor.country,
        actor.organisation,
        actor.stakeholder_category,
        hash_token(token),
        created_by,
    )


async def replace_token(conn: Executor, actor_id: uuid.UUID, token: str) -> bool:
    """Make `token` the actor's only valid token; False if there is no such actor."""
    status = await conn.execute(
        "UPDATE actors SET token_hash = $2 WHERE id = $1", actor_id, hash_token(token)
    )
    return status.endswith(" 1")


async def created_by(conn: Executor, actor_id: uuid.UUID) -> uuid.UUID | None:
    found: uuid.UUID | None = await conn.fetchval(
        "SELECT created_by FROM actors WHERE id = $1", actor_id
    )
    return found


async def update_preferences(
    pool: asyncpg.Pool, actor_id: uuid.UUID, changes: dict[str, str]
) -> Actor:
    row = await pool.fetchrow(
        f"""UPDATE actors SET language = coalesce($2, language),
                              notifications = coalesce($3, notifications)
            WHERE id = $1 RETURNING {_READ}""",
        actor_id,
        changes.get("language"),
        changes.get("notifications"),
    )
    assert row is not None  # the actor is the one making the request
    return Actor.from_row(row)


async def ensure_admin(pool: asyncpg.Pool, configured_token: str | None) -> str | None:
    """Create the first admin if there is none. Return a token to print, or None.

    With `REVIEWFLOW_ADMIN_TOKEN` set, that token is the admin's and is never printed;
    otherwise a new one is generated and returned so it can be shown once.
    """
    async with pool.acquire() as conn, conn.transaction():
        # Serialise concurrent starts (API and worker processes) so only one admin is made.
        await conn.execute("LOCK TABLE actors IN SHARE ROW EXCLUSIVE MODE")
        if await conn.fetchval("SELECT 1 FROM actors WHERE role = 'admin' LIMIT 1"):
            return None
        token = configured_token or new_token()
        admin = Actor(id=uuid.uuid4(), name="Administrator", role="admin")
        await insert_actor(conn, admin, token, created_by=None)
    return None if configured_token else token
