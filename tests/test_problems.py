"""How the API answers the failures of the services behind it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from api.problems import connection_lost, problem_middleware


def _app(pool: asyncpg.Pool, fail: Any) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        await fail(pool)
        return web.json_response({})

    app = web.Application(middlewares=[problem_middleware])
    app.router.add_get("/", handler)
    return app


async def _lose_the_connection_inside_a_transaction(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        await pool.execute("SELECT pg_terminate_backend($1)", pid)
        await conn.execute("SELECT 1")


async def _lose_the_connection_during_a_query(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        sleeping = asyncio.ensure_future(conn.execute("SELECT pg_sleep(30)"))
        deadline = time.monotonic() + 10
        while not await pool.fetchval(
            "SELECT wait_event = 'PgSleep' FROM pg_stat_activity WHERE pid = $1", pid
        ):
            assert time.monotonic() < deadline, "the query never started"
        await pool.execute("SELECT pg_terminate_backend($1)", pid)
        await sleeping


async def _misuse_the_driver(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("SELECT 1", object())  # a bug: an argument the query has no place for


async def _get(app: web.Application) -> tuple[int, dict[str, Any], str | None]:
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/")
        return response.status, await response.json(), response.headers.get("Retry-After")


async def test_a_connection_lost_inside_a_transaction_is_503_with_retry_after(
    pool: asyncpg.Pool,
) -> None:
    status, body, retry_after = await _get(_app(pool, _lose_the_connection_inside_a_transaction))
    assert (status, body["status"], retry_after) == (503, 503, "5")


async def test_a_driver_misuse_is_500_not_an_outage(pool: asyncpg.Pool) -> None:
    status, body, retry_after = await _get(_app(pool, _misuse_the_driver))
    assert (status, body["status"], retry_after) == (500, 500, None)


async def test_a_connection_lost_during_a_query_is_503(pool: asyncpg.Pool) -> None:
    status, body, retry_after = await _get(_app(pool, _lose_the_connection_during_a_query))
    assert (status, body["status"], retry_after) == (503, 503, "5")


def test_a_lost_connection_is_told_by_the_error_that_broke_it_not_by_its_wording() -> None:
    lost = asyncpg.InterfaceError("cannot call Transaction.__aexit__()")
    lost.__context__ = asyncpg.exceptions.ConnectionDoesNotExistError("gone")
    assert connection_lost(lost)
    assert not connection_lost(asyncpg.InterfaceError("cannot call Transaction.__aexit__()"))


async def test_a_connection_lost_while_idle_is_replaced_by_the_pool(database_url: str) -> None:
    """So an outage never surfaces as a bare "connection is closed" error, which would be
    answered as a bug."""
    async with asyncpg.create_pool(database_url, min_size=1, max_size=1) as pool:
        async with pool.acquire() as conn:
            pid = await conn.fetchval("SELECT pg_backend_pid()")
        killer = await asyncpg.connect(database_url)
        try:
            await killer.execute("SELECT pg_terminate_backend($1)", pid)
            deadline = time.monotonic() + 10
            while await killer.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid
            ):
                assert time.monotonic() < deadline, "the backend did not end"
        finally:
            await killer.close()
        status, _, _ = await _get(_app(pool, lambda p: p.fetchval("SELECT 1")))
        assert status == 200
        assert await pool.fetchval("SELECT pg_backend_pid()") != pid


def test_a_connection_the_pool_took_back_is_told_by_the_bare_error_asyncpg_raises() -> None:
    """The one case asyncpg gives no type: its exact class and wording are pinned here."""
    taken_back = asyncpg.InterfaceError(
        "cannot call Transaction.__aexit__(): the underlying connection is closed"
    )
    assert connection_lost(taken_back)
    assert not connection_lost(asyncpg.exceptions.DataError("the connection is closed? no"))
