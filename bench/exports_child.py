"""The child process of bench/exports.py: export one review's submissions (or copy them out
bare), print what it measured as one JSON line, exit.

It imports only what exporting needs, so its peak RSS (VmHWM) is the export's and not the
benchmark harness's. The bytes go to a sink that counts them, as a network would take them.

    python -m bench.exports_child {csv|xlsx|copy} --dsn DSN --review REVIEW_ID
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from bench.compile_child import _rss_mb


async def child(kind: str, dsn: str, review_id: str) -> dict[str, Any]:
    from db.exports import copy_submissions_csv
    from db.pool import create_pool
    from reports.exports import chunks

    pool = await create_pool(dsn, min_size=1, max_size=1)
    sent = {"bytes": 0, "chunks": 0}

    async def sink(chunk: bytes) -> None:
        sent["bytes"] += len(chunk)
        sent["chunks"] += 1

    try:
        async with pool.acquire() as conn:
            baseline = _rss_mb()
            started = time.perf_counter()
            if kind == "copy":
                await copy_submissions_csv(conn, review_id, sink)
            else:
                async for chunk in chunks(conn, "submissions", kind, review_id):
                    await sink(chunk)
            return {
                "seconds": time.perf_counter() - started,
                "baseline_mb": baseline,
                "peak_mb": _rss_mb(),
                **sent,
            }
    finally:
        await pool.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("kind", choices=("csv", "xlsx", "copy"))
    p.add_argument("--dsn", required=True)
    p.add_argument("--review", required=True)
    args = p.parse_args()
    print(json.dumps(asyncio.run(child(args.kind, args.dsn, args.review))))
