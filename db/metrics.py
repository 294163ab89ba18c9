"""Counts for the metrics gauges: a few rows each, read under a short statement timeout."""

from __future__ import annotations

import asyncpg

# A scrape must not hold a connection for long, however large the delivery log has grown.
STATEMENT_TIMEOUT = "2s"

COUNTS = """
    SELECT 'delivery' AS what, status AS key, count(*) AS n FROM deliveries GROUP BY status
    UNION ALL
    SELECT 'review', phase, count(*) FROM reviews GROUP BY phase"""


async def counts(pool: asyncpg.Pool) -> tuple[dict[str, int], dict[str, int]]:
    """Deliveries by status and reviews by phase."""
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        await conn.execute(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")
        rows = await conn.fetch(COUNTS)
    deliveries = {r["key"]: r["n"] for r in rows if r["what"] == "delivery"}
    reviews = {r["key"]: r["n"] for r in rows if r["what"] == "review"}
    return deliveries, reviews
