"""Migrations and the bootstrap admin against a real PostgreSQL."""

from __future__ import annotations

import asyncio

import asyncpg

from db.actors import actor_by_token, ensure_admin
from db.migrate import load_migrations, migrate_dsn
from db.pool import create_pool


async def test_migrations_are_numbered_and_unique() -> None:
    versions = [m.version for m in load_migrations()]
    assert versions == sorted(set(versions))
    assert versions[0] == 1


async def test_concurrent_migrations_apply_each_file_once(fresh_database: str) -> None:
    results = await asyncio.gather(*(migrate_dsn(fresh_database) for _ in range(4)))
    applied = [name for result in results for name in result]
    assert sorted(applied) == sorted(m.name for m in load_migrations())
    assert await migrate_dsn(fresh_database) == []
    connection = await asyncpg.connect(fresh_database)
    try:
        recorded = await connection.fetchval("SELECT count(*) FROM schema_migrations")
    finally:
        await connection.close()
    assert recorded == len(load_migrations())


async def test_jsonb_round_trips_as_python_values(pool: asyncpg.Pool) -> None:
    value = {"objectives": [1, 2], "text": "Ünïcode ✓", "nested": {"ok": True}}
    assert await pool.fetchval("SELECT $1::jsonb", value) == value


async def test_bootstrap_admin_is_created_once(fresh_database: str) -> None:
    await migrate_dsn(fresh_database)
    pool = await create_pool(fresh_database)
    try:
        tokens = await asyncio.gather(*(ensure_admin(pool, None) for _ in range(3)))
        printed = [t for t in tokens if t]
        assert len(printed) == 1
        assert await pool.fetchval("SELECT count(*) FROM actors WHERE role = 'admin'") == 1
        admin = await actor_by_token(pool, printed[0])
        assert admin is not None and admin.role == "admin"
        assert await ensure_admin(pool, None) is None
    finally:
        await pool.close()


async def test_configured_admin_token_is_used_and_not_printed(fresh_database: str) -> None:
    await migrate_dsn(fresh_database)
    pool = await create_pool(fresh_database)
    try:
        assert await ensure_admin(pool, "rf_configured-admin-token") is None
        admin = await actor_by_token(pool, "rf_configured-admin-token")
        assert admin is not None and admin.role == "admin"
    finally:
        await pool.close()
