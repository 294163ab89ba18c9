"""`Idempotency-Key`: a retried POST returns the first answer and creates nothing twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from aiohttp import web

from api.problems import Problem
from db import idempotency
from db.pool import Connection, Executor
from domain.access import Actor
from services import once
from services.once import Created

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


def idempotency_key(request: web.Request, *, required: bool = False) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        if required:
            raise Problem(400, f"This request needs an {HEADER} header.")
        return None
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise Problem(400, f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters.")
    return key


def request_fingerprint(request: web.Request, body: Any) -> str:
    return once.fingerprint(request.method, request.path, body)


def _answer(created: Created) -> web.Response:
    return web.json_response(created.body, status=created.status)


async def replay(conn: Executor, actor: Actor, key: str, fingerprint: str) -> web.Response | None:
    """The stored answer for this key, or None if the key is new."""
    stored = await once.replayed(conn, actor, key, fingerprint)
    return None if stored is None else _answer(stored)


async def create_once(
    pool: asyncpg.Pool,
    actor: Actor,
    key: str | None,
    fingerprint: str,
    create: Callable[[Connection], Awaitable[Created]],
) -> web.Response:
    """Run `create` in a transaction that also records its answer under the key.

    Two concurrent requests with one key serialise on the record's primary key: the second
    waits, fails to insert, rolls its own work back and answers with the first one's result.
    """
    if key is not None and (stored := await replay(pool, actor, key, fingerprint)):
        return stored
    try:
        async with pool.acquire() as conn, conn.transaction():
            created = await create(conn)
            if key is not None:
                await idempotency.store(
                    conn, actor.id, key, fingerprint, created.status, created.replayed
                )
    except asyncpg.UniqueViolationError as error:
        if key is None or error.constraint_name != "idempotent_requests_pkey":
            raise
        stored = await replay(pool, actor, key, fingerprint)
        assert stored is not None
        return stored
    return _answer(created)
