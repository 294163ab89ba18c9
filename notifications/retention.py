"""The `.eml` files written when no SMTP server is configured expire after
`REVIEWFLOW_RETENTION_DAYS` (services/retention.py removes them with the other expired
records). Several purges may run at once: a file another one removed first is passed over.
"""

from __future__ import annotations

import time
from pathlib import Path

DAY_S = 86400


def remove_old_mail(folder: Path, days: int, at_most: int) -> int:
    """Remove up to `at_most` of the `.eml` files in `folder` last written more than `days`
    ago; how many. Other files there are left alone."""
    older_than = time.time() - days * DAY_S
    removed = 0
    for path in folder.glob("*.eml"):
        if removed >= at_most:
            break
        try:
            if path.stat().st_mtime < older_than:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # another purge removed it first
    return removed
