"""Activities: every piece of I/O a workflow needs, as methods of classes holding their dependencies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg

from activities.consultation import ConsultationActivities
from activities.report import ReportActivities
from activities.review import ReviewActivities


def build_activities(pool: asyncpg.Pool) -> list[Callable[..., Any]]:
    return [
        *ReviewActivities(pool).all(),
        *ConsultationActivities(pool).all(),
        *ReportActivities(pool).all(),
    ]
