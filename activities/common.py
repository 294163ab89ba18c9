"""What the review's activities share: heartbeats for the long ones, so a worker that dies
inside one is noticed soon, and the failure no retry can mend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.models import PRECONDITION_FAILED

# Well inside the workflow's heartbeat timeout (30 s); the SDK batches them anyway.
HEARTBEAT_EVERY_S = 5.0


@asynccontextmanager
async def heartbeating(every_s: float = HEARTBEAT_EVERY_S) -> AsyncIterator[None]:
    """Heartbeat from a background ticker while the block runs (long SQL included).

    A heartbeat is also how a cancelled activity learns it was cancelled: the SDK then
    cancels the block, and its transaction rolls back.
    """

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(every_s)

    ticker = asyncio.create_task(beat())
    try:
        yield
    finally:
        ticker.cancel()


def precondition_failed(message: str) -> ApplicationError:
    """A state no retry can mend (a row that must exist does not): fail at once instead of
    retrying for ever while the review waits."""
    activity.logger.error("precondition failed, not retried: %s", message)
    return ApplicationError(message, type=PRECONDITION_FAILED, non_retryable=True)
