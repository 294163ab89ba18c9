"""`Idempotency-Key`: a retried POST returns the first answer and creates nothing twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiohttp import web

from api.problems import Problem
from db import idempotency
from db.pool import Connection, Executor
from domain.access import Actor
from domain.canonical import json_hash

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Created:
    status: int
    body: dict[str, Any]
    # What a replay answers; differs from `body` only where the first answer held a secret.
    replay_body: dict[str, Any] | None = None


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
    return json_hash([request.method, request.path, body])


def _replayed(created: Created) -> Any:
    """What a retry with the same key is answered with."""
    return created.replay_body if created.replay_body is not None else created.body


def mismatch() -> Problem:
    return Problem(
        422,
        f"This {HEADER} was already used for a different request.",
        errors=[{"pointer": "", "message": f"{HEADER} reused with another body"}],
    )


async def replay(conn: Executor, actor: Actor, key: str, fingerprint: str) -> web.Response | None:
    """The stored answer for this key, or None if the key is new."""
    row = await idempotency.stored(conn, actor.id, key)
    if row is None:
        return None
    if row["request_hash"] != fingerprint:
        raise mismatch()
    return web.json_response(row["response"], status=row["status"])


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
                    conn, actor.id, key, fingerprint, created.status, _replayed(created)
                )
    except asyncpg.UniqueViolationError as error:
        if key is None or error.constraint_name != "idempotent_requests_pkey":
            raise
        stored = await replay(pool, actor, key, fingerprint)
        assert stored is not None
        return stored
    return web.json_response(created.body, status=created.status)


async def record_answer(
    pool: asyncpg.Pool, actor: Actor, key: str, fingerprint: str, created: Created
) -> web.Response:
    """Store the answer to a request whose effect is already done elsewhere (in a workflow);
    when a concurrent request with the same key stored one first, answer with that one, so
    both get the same answer."""
    stored_now = await idempotency.store_if_new(
        pool, actor.id, key, fingerprint, created.status, _replayed(created)
    )
    if stored_now:
        return web.json_response(created.body, status=created.status)
    stored = await replay(pool, actor, key, fingerprint)
    assert stored is not None
    return stored


async def answer_once(
    pool: asyncpg.Pool,
    actor: Actor,
    key: str | None,
    fingerprint: str,
    act: Callable[[], Awaitable[Created]],
) -> web.Response:
    """Run a command made idempotent elsewhere (a workflow Update with a stable id), and keep
    its first answer under the key: a retry, even one the workflow can no longer recognise
    (after it continued as new, or ended), gets that answer; another body gets 422."""
    if key is not None and (stored := await replay(pool, actor, key, fingerprint)):
        return stored
    created = await act()
    if key is None:
        return web.json_response(created.body, status=created.status)
    return await record_answer(pool, actor, key, fingerprint, created)
