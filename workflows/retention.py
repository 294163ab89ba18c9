"""RetentionWorkflow: one purge of expired records, started by the retention Schedule.

The Schedule (reviewflow/retention.py) starts it once an hour and skips a start while one
still runs. Its result says how many records of each kind were deleted.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows import activity_stubs as stubs
    from workflows.models import PurgeRound

# How often the Schedule starts a purge.
RETENTION_EVERY = timedelta(hours=1)
# A thousand rows per statement keeps each transaction short; a hundred batches per kind
# bound one run, the rest waiting for the next.
PURGE = PurgeRound(batch=1000, max_batches=100)


def retention_workflow_id(task_queue: str) -> str:
    """The Schedule's id, and the prefix of the workflows it starts."""
    return f"retention-{task_queue}"


@workflow.defn
class RetentionWorkflow:
    @workflow.run
    async def run(self) -> dict[str, int]:
        return await workflow.execute_activity(
            stubs.purge_expired,
            PURGE,
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
