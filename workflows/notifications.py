"""NotificationsWorkflow: keeps the notification pipeline running, one per task queue.

Reviews never wait for mail: their events are committed to the audit trail (the outbox), and
this workflow runs, round after round, an activity on its own task queue that turns new events
into deliveries and sends what is due. A crashed worker's round is retried elsewhere after its
heartbeat times out, and picks up from the delivery log.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows import activity_stubs as stubs
    from workflows.models import DeliveryRound

ROUND = DeliveryRound(max_seconds=60.0, batch=200)
ROUNDS_PER_RUN = 200


def notifications_workflow_id(task_queue: str) -> str:
    return f"notifications-{task_queue}"


@workflow.defn
class NotificationsWorkflow:
    @workflow.run
    async def run(self, notify_queue: str) -> None:
        for _ in range(ROUNDS_PER_RUN):
            await workflow.execute_activity(
                stubs.deliver_notifications,
                ROUND,
                task_queue=notify_queue,
                start_to_close_timeout=timedelta(seconds=ROUND.max_seconds * 2),
                heartbeat_timeout=timedelta(seconds=20),
                retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
            )
            if workflow.info().is_continue_as_new_suggested():
                break
        workflow.logger.info("notification rounds continuing as new")
        workflow.continue_as_new(notify_queue)
