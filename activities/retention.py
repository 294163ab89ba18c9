"""The retention activity: delete what has expired by the rules of services/retention.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from temporalio import activity

from config.settings import Settings
from services.retention import purge_expired
from workflows import activity_stubs as stubs
from workflows.models import PurgeRound


class RetentionActivities:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings

    @activity.defn(name=stubs.purge_expired.__name__)
    async def purge_expired(self, round: PurgeRound) -> dict[str, int]:
        """How many records of each kind were deleted. Heartbeats after each batch, so a
        worker that dies in a long purge is noticed; a retry deletes only what is left."""
        deleted = await purge_expired(
            self.pool,
            self.settings,
            batch=round.batch,
            max_batches=round.max_batches,
            progress=activity.heartbeat,
        )
        activity.logger.info("expired records deleted: %s", deleted)
        return deleted

    def all(self) -> list[Callable[..., Any]]:
        return [self.purge_expired]
