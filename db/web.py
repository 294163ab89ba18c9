"""Signing in to the web pages: one-time links, sessions, and the count of sign-in requests.

Link and session tokens are stored only as SHA-256 hashes (`hash_token`), like bearer tokens.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from db.actors import READ_COLUMNS, hash_token
from db.pool import Connection, Executor
from domain.access import Actor


@dataclass(frozen=True)
class UsedLink:
    actor_id: uuid.UUID
    next_path: str | None


@dataclass(frozen=True)
class LiveSession:
    person: Actor
    csrf_token: str


async def insert_link(
    conn: Executor,
    token: str,
    actor_id: uuid.UUID,
    purpose: str,
    lifetime: timedelta,
    next_path: str | None,
) -> None:
    await conn.execute(
        """INSERT INTO sign_in_links (token_hash, actor_id, purpose, next_path, expires_at)
           VALUES ($1, $2, $3, $4, now() + $5::interval)""",
        hash_token(token),
        actor_id,
        purpose,
        next_path,
        lifetime,
    )


# A link opens a session while unused, in time, and its account active.
_USABLE = """l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > now()
             AND a.id = l.actor_id AND a.disabled_at IS NULL"""


async def link_is_usable(conn: Executor, token: str) -> bool:
    found = await conn.fetchval(
        f"SELECT true FROM sign_in_links l, actors a WHERE {_USABLE}", hash_token(token)
    )
    return bool(found)


async def use_link(conn: Executor, token: str) -> UsedLink | None:
    """Mark the link used if it still is usable, in one statement, so that of two requests
    with it only one gets an answer; None for a link that is not (or no longer) usable."""
    row = await conn.fetchrow(
        f"""UPDATE sign_in_links l SET used_at = now() FROM actors a WHERE {_USABLE}
            RETURNING l.actor_id, l.next_path""",
        hash_token(token),
    )
    return UsedLink(row["actor_id"], row["next_path"]) if row else None


async def insert_session(conn: Executor, token: str, actor_id: uuid.UUID, csrf_token: str) -> None:
    await conn.execute(
        "INSERT INTO web_sessions (token_hash, actor_id, csrf_token) VALUES ($1, $2, $3)",
        hash_token(token),
        actor_id,
        csrf_token,
    )


async def touch_session(
    conn: Executor, token: str, idle: timedelta, lifetime: timedelta
) -> LiveSession | None:
    """The session's person and CSRF token, its last use set to now, if it is live: used
    within `idle`, started within `lifetime`, and its account active."""
    row = await conn.fetchrow(
        f"""WITH live AS (
                UPDATE web_sessions s SET last_seen_at = now() FROM actors a
                WHERE s.token_hash = $1 AND a.id = s.actor_id AND a.disabled_at IS NULL
                  AND s.last_seen_at > now() - $2::interval
                  AND s.created_at > now() - $3::interval
                RETURNING s.actor_id, s.csrf_token)
            SELECT {READ_COLUMNS}, live.csrf_token FROM live JOIN actors ON actors.id = live.actor_id""",
        hash_token(token),
        idle,
        lifetime,
    )
    return LiveSession(Actor.from_row(row), row["csrf_token"]) if row else None


async def delete_session(conn: Executor, token: str) -> None:
    await conn.execute("DELETE FROM web_sessions WHERE token_hash = $1", hash_token(token))


async def admit_request(conn: Connection, limits: Mapping[str, int], window: timedelta) -> bool:
    """Count a request under each key of `limits` if every key has had fewer than its limit
    within `window`; whether it was counted. Runs in the caller's transaction, which holds a
    lock on each key until it ends, so requests under one key (from any process) are counted
    one at a time and none slips past the limit. Forgets what is older than `window`."""
    keys = sorted(limits)
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(key, 0)) FROM unnest($1::text[]) key",
        keys,
    )
    await conn.execute("DELETE FROM sign_in_requests WHERE at <= now() - $1::interval", window)
    rows = await conn.fetch(
        """SELECT key, count(*) AS n FROM sign_in_requests
           WHERE key = ANY ($1::text[]) GROUP BY key""",
        keys,
    )
    counted = {row["key"]: row["n"] for row in rows}
    if any(counted.get(key, 0) >= limit for key, limit in limits.items()):
        return False
    await conn.execute("INSERT INTO sign_in_requests (key) SELECT unnest($1::text[])", keys)
    return True
