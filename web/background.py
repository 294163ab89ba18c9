"""Work a page starts and does not wait for, such as mailing a sign-in link after answering."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

# How long a stopping server lets unfinished work (a mail being sent) finish.
DRAIN_S = 30.0


class Background:
    """Tasks kept until they finish (a task nobody holds may be collected mid-way), each
    failure logged, and those still running awaited, for a while, when the server stops."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any], what: str) -> None:
        task = asyncio.get_running_loop().create_task(self._logged(work, what))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _logged(work: Coroutine[Any, Any, Any], what: str) -> None:
        try:
            await work
        except Exception:
            log.exception("%s failed", what)

    async def drain(self, timeout_s: float = DRAIN_S) -> None:
        """Wait until every task started so far has finished, or `timeout_s` has passed."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)


BACKGROUND = web.AppKey("background", Background)


async def drain_on_shutdown(app: web.Application) -> None:
    await app[BACKGROUND].drain()
