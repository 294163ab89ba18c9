"""One asyncpg pool per process, with JSON codecs so documents come and go as Python values."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg


async def _init_connection(connection: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await connection.set_type_codec(
            kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def _keep_session(connection: asyncpg.Connection) -> None:
    """What a connection going back to the pool needs beyond asyncpg's own rollback of a
    transaction left open: nothing. No session state outlives a transaction here (settings
    are SET LOCAL, cursors live in transactions, advisory locks are the transaction's; the
    migrations' session lock is taken on a connection of their own), so asyncpg's default
    reset (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL) would only cost a round trip on
    every release (tests/test_pool.py keeps it so)."""


async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, **kwargs: Any
) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        **kwargs,
    )
    assert pool is not None
    return pool


async def answers(pool: asyncpg.Pool) -> bool:
    """Whether the database answers a query."""
    return bool(await pool.fetchval("SELECT 1") == 1)


if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    # What queries run on: a connection of the pool (as `pool.acquire()` gives it), or the pool.
    Connection: TypeAlias = asyncpg.Connection[Any] | PoolConnectionProxy[Any]
    Executor: TypeAlias = Connection | asyncpg.Pool[Any]
else:
    Connection = Executor = Any
