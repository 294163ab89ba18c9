"""Activities: every piece of I/O a workflow needs, as methods of classes holding their dependencies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from temporalio.client import Client

from activities.consultation import ConsultationActivities
from activities.report import ReportActivities
from activities.review import ReviewActivities
from activities.rollup import RollupActivities


def build_activities(pool: asyncpg.Pool, client: Client) -> list[Callable[..., Any]]:
    """Every activity of the reviews and roll-ups; `client` is the worker's own, with which a
    published regional report tells its cycle's roll-up."""
    return [
        *ReviewActivities(pool).all(),
        *ConsultationActivities(pool).all(),
        *ReportActivities(pool, client).all(),
        *RollupActivities(pool).all(),
    ]
