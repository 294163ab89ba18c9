"""How the worker is put together."""

from __future__ import annotations

import dataclasses

import asyncpg
from temporalio.client import Client

from config.settings import Settings
from db.pool import create_pool
from worker import build_worker


async def test_review_activities_never_outnumber_the_database_connections(
    database_url: str, temporal_client: Client, settings: Settings
) -> None:
    small: asyncpg.Pool = await create_pool(database_url, max_size=3)
    # A queue of its own: the session's worker already polls the tests' queue.
    own = dataclasses.replace(settings, task_queue="pool-sized-worker")
    try:
        config = build_worker(temporal_client, small, own).config()
        assert config.get("max_concurrent_activities") == 3
    finally:
        await small.close()
