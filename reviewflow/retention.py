"""The retention Schedule: a RetentionWorkflow once an hour, on the reviews' task queue.

Every worker ensures it as it starts: the first creates it; the others find it and leave it,
or bring its timing and action up to date when a new release changed them (an operator's
pause stays). Workers starting at the same moment may all try to create it: those that lose
the race find it there.
"""

from __future__ import annotations

import dataclasses
import logging

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from config.settings import Settings
from workflows.retention import RETENTION_EVERY, RetentionWorkflow, retention_workflow_id

log = logging.getLogger("reviewflow.retention")


def retention_schedule(settings: Settings) -> Schedule:
    """Start a purge every RETENTION_EVERY; none while the last one still runs."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RetentionWorkflow.run,
            id=retention_workflow_id(settings.task_queue),
            task_queue=settings.task_queue,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=RETENTION_EVERY)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def _action(schedule: Schedule) -> tuple[object, ...]:
    action = schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    return action.workflow, action.id, action.task_queue


def _same(current: Schedule, wanted: Schedule) -> bool:
    return (
        current.spec == wanted.spec
        and current.policy.overlap == wanted.policy.overlap
        and _action(current) == _action(wanted)
    )


async def ensure_retention_schedule(client: Client, settings: Settings) -> ScheduleHandle:
    """The retention Schedule of `settings.task_queue`, created or brought up to date."""
    wanted = retention_schedule(settings)
    schedule_id = retention_workflow_id(settings.task_queue)
    try:
        return await client.create_schedule(schedule_id, wanted)
    except ScheduleAlreadyRunningError:
        pass  # another worker made it, now or before

    def update(given: ScheduleUpdateInput) -> ScheduleUpdate | None:
        current = given.description.schedule
        if _same(current, wanted):
            return None
        log.info("retention schedule %s brought up to date", schedule_id)
        return ScheduleUpdate(
            dataclasses.replace(
                current, action=wanted.action, spec=wanted.spec, policy=wanted.policy
            )
        )

    handle = client.get_schedule_handle(schedule_id)
    await handle.update(update)
    return handle
