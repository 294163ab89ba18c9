"""The stored answers to requests sent with an Idempotency-Key, per actor and key."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from db.pool import Connection, Executor


async def stored(conn: Executor, actor_id: uuid.UUID, key: str) -> asyncpg.Record | None:
    """The answer stored under the key: request_hash, status, response; None if the key is new."""
    return await conn.fetchrow(
        "SELECT request_hash, status, response FROM idempotent_requests WHERE actor_id = $1 AND key = $2",
        actor_id,
        key,
    )


async def store(
    conn: Connection, actor_id: uuid.UUID, key: str, fingerprint: str, status: int, response: Any
) -> None:
    """Store the answer; a key stored meanwhile by a concurrent request violates the primary
    key (`idempotent_requests_pkey`), which rolls the caller's transaction back."""
    await conn.execute(
        "INSERT INTO idempotent_requests (actor_id, key, request_hash, status, response)"
        " VALUES ($1, $2, $3, $4, $5)",
        actor_id,
        key,
        fingerprint,
        status,
        response,
    )


async def store_if_new(
    conn: Executor, actor_id: uuid.UUID, key: str, fingerprint: str, status: int, response: Any
) -> bool:
    """Store the answer unless one is stored under the key; whether this call stored it."""
    stored_now = await conn.fetchval(
        "INSERT INTO idempotent_requests (actor_id, key, request_hash, status, response)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (actor_id, key) DO NOTHING RETURNING true",
        actor_id,
        key,
        fingerprint,
        status,
        response,
    )
    return bool(stored_now)
