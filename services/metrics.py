"""The service's own metrics: what the use cases decide, and what the database holds.

Counters live in the process that counts (each API process its own; Prometheus sums them).
The gauges of stored state are read from PostgreSQL at scrape time, at most once per
`CACHE_S`, so they are the same true totals whichever process is scraped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import asyncpg
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from db.metrics import counts
from domain.review import Phase

log = logging.getLogger(__name__)

SUBMISSIONS = Counter(
    "reviewflow_submissions",
    "Submissions the reviews decided on, by kind and outcome (accepted or refused); a"
    " request sent again under its Idempotency-Key is not counted twice.",
    ["kind", "outcome"],
)

DELIVERY_STATUSES = ("pending", "sending", "sent", "failed")
# Scrapes closer together than this read the counts of the last one.
CACHE_S = 5.0


class DatabaseGauges(Collector):
    """Deliveries by status and reviews by phase, as the database has them."""

    def __init__(self, pool: asyncpg.Pool, cache_s: float = CACHE_S) -> None:
        self.pool = pool
        self.cache_s = cache_s
        self.read_at: float | None = None
        self.deliveries: dict[str, int] = {}
        self.reviews: dict[str, int] = {}
        self.up = False

    async def refresh(self) -> None:
        """Read the counts again unless the last read is recent. A failed read keeps the last
        counts and says so (`reviewflow_database_metrics_up` 0) rather than failing the
        scrape, whose process metrics still matter."""
        now = time.monotonic()
        if self.read_at is not None and now - self.read_at < self.cache_s:
            return
        self.read_at = now
        try:
            self.deliveries, self.reviews = await counts(self.pool)
            self.up = True
        except (asyncpg.PostgresError, OSError, TimeoutError) as error:
            log.warning("could not read the metrics' counts: %s", type(error).__name__)
            self.up = False

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "reviewflow_database_metrics_up",
            "1 when the last read of the database's counts succeeded.",
        )
        up.add_metric([], 1 if self.up else 0)
        yield up
        deliveries = GaugeMetricFamily(
            "reviewflow_deliveries",
            "Notification deliveries (email and webhook) by status; failed: failed for good.",
            labels=["status"],
        )
        for status in DELIVERY_STATUSES:
            deliveries.add_metric([status], self.deliveries.get(status, 0))
        yield deliveries
        reviews = GaugeMetricFamily("reviewflow_reviews", "Reviews by phase.", labels=["phase"])
        for phase in Phase:
            reviews.add_metric([phase.value], self.reviews.get(phase.value, 0))
        yield reviews
