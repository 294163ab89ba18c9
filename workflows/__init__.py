"""Workflow types. Each module holds one workflow and imports only pure code."""

from __future__ import annotations

from workflows.notifications import NotificationsWorkflow
from workflows.retention import RetentionWorkflow
from workflows.review import RegionalReviewWorkflow
from workflows.rollup import RollupWorkflow

WORKFLOWS: list[type] = [
    RegionalReviewWorkflow,
    NotificationsWorkflow,
    RetentionWorkflow,
    RollupWorkflow,
]
