"""Retention: what expires, after how long, and its purge in bounded batches.

- `idempotent_requests`: answers to Idempotency-Keys stored more than
  `REVIEWFLOW_IDEMPOTENCY_DAYS` ago;
- `delivery_attempts`: attempts made more than `REVIEWFLOW_DELIVERY_DAYS` ago of deliveries
  sent or failed for good (never those of a delivery still pending);
- `web_sessions` and `sign_in_links`: sessions ended, and links used or expired, more than
  `REVIEWFLOW_SESSION_DAYS` ago;
- `mail_files`: `.eml` files written more than `REVIEWFLOW_RETENTION_DAYS` ago;
- `unnamed_files`: the bytes of files no annex names (taken off a draft before any version was
  sent with them), a day after they were stored.

Each kind is deleted a batch at a time until a batch comes back short or `max_batches`
batches were deleted; the rest waits for the next run, so a large backlog never holds a long
lock nor makes one run last for ever. Everything else is kept for ever (db/retention.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial

import asyncpg

from config.settings import Settings
from db import retention as store
from notifications.retention import remove_old_mail

# Deletes up to the given number of rows of one kind; how many it deleted.
DeleteBatch = Callable[[int], Awaitable[int]]


def _rules(pool: asyncpg.Pool, settings: Settings) -> dict[str, DeleteBatch]:
    idle = timedelta(minutes=settings.session_idle_minutes)
    return {
        "idempotent_requests": partial(
            store.delete_idempotent_requests, pool, settings.idempotency_days
        ),
        "delivery_attempts": partial(store.delete_delivery_attempts, pool, settings.delivery_days),
        "web_sessions": partial(store.delete_web_sessions, pool, settings.session_days, idle),
        "sign_in_links": partial(store.delete_sign_in_links, pool, settings.session_days),
        "unnamed_files": partial(store.delete_unnamed_files, pool),
    }


async def _purge(
    delete: DeleteBatch, batch: int, max_batches: int, progress: Callable[[], None]
) -> int:
    deleted = 0
    for _ in range(max_batches):
        count = await delete(batch)
        deleted += count
        progress()
        if count < batch:
            break
    return deleted


async def purge_expired(
    pool: asyncpg.Pool,
    settings: Settings,
    *,
    batch: int,
    max_batches: int,
    progress: Callable[[], None] = lambda: None,
) -> dict[str, int]:
    """Delete what has expired, at most `batch` × `max_batches` of each kind, calling
    `progress` after each batch; how many of each kind were deleted."""
    deleted = {
        kind: await _purge(delete, batch, max_batches, progress)
        for kind, delete in _rules(pool, settings).items()
    }
    deleted["mail_files"] = await asyncio.to_thread(
        remove_old_mail, settings.mail_dir, settings.retention_days, batch * max_batches
    )
    return deleted
