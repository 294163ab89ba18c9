"""How the worker is put together."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import asyncpg
from temporalio.client import Client

from config.settings import Settings
from db.pool import create_pool
from reviewflow.embedded import EmbeddedTemporal
from worker import build_worker
from workflows.review import REVIEW_PHASE, REVIEW_REGION, SEARCH_ATTRIBUTES


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


def test_the_dev_server_knows_every_search_attribute_the_workflows_upsert(
    tmp_path: Path,
) -> None:
    command = EmbeddedTemporal(db_file=tmp_path / "temporal.db").command()
    declared = [command[i + 1] for i, arg in enumerate(command) if arg == "--search-attribute"]
    assert declared == ["ReviewRegion=Keyword", "ReviewPhase=Keyword"]
    assert [key.name for key in SEARCH_ATTRIBUTES] == ["ReviewRegion", "ReviewPhase"]
    assert {REVIEW_REGION, REVIEW_PHASE} == set(SEARCH_ATTRIBUTES)
