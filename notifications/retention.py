"""What expires: the `.eml` files written when no SMTP server is configured, after
`REVIEWFLOW_RETENTION_DAYS`, and the stored answers to Idempotency-Keys, after
`REVIEWFLOW_IDEMPOTENCY_DAYS`.

The notification activity sweeps them now and then (`SWEEP_EVERY_S`). Several workers may
sweep at once: deleting what another already deleted changes nothing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from db import idempotency

SWEEP_EVERY_S = 3600.0
DAY_S = 86400


@dataclass(frozen=True)
class Swept:
    idempotent_requests: int
    mail_files: int


def _remove_old_mail(folder: Path, older_than: float) -> int:
    """Remove the `.eml` files in `folder` last written before `older_than` (a Unix time)."""
    removed = 0
    for path in folder.glob("*.eml"):
        try:
            if path.stat().st_mtime < older_than:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # another worker's sweep removed it first
    return removed


async def sweep_expired(
    pool: asyncpg.Pool, *, mail_dir: Path, mail_days: int, idempotency_days: int
) -> Swept:
    """Remove what has expired; say how much."""
    answers = await idempotency.delete_expired(pool, idempotency_days)
    older_than = time.time() - mail_days * DAY_S
    files = await asyncio.to_thread(_remove_old_mail, mail_dir, older_than)
    return Swept(idempotent_requests=answers, mail_files=files)
