"""The activities as the workflows see them: typed stubs, so a workflow calls an activity by
reference (its argument and result types checked) without importing the I/O code behind it.

Each stub's function name is the activity's name recorded in history; the implementations in
`activities/` register under the stub's name, and a test checks they take and return the same
types. The stubs never run.
"""

from __future__ import annotations

from temporalio import activity

from domain.review import ReviewConfig
from workflows.models import (
    AcceptSubmissions,
    CloseTasks,
    CompileReport,
    CompileRollup,
    ConsultationCheck,
    DeliveryRound,
    DeliveryStats,
    MoveTaskDeadline,
    OpenConsultation,
    PublishReport,
    PublishRollup,
    PurgeRound,
    RecordChange,
    RegionalPublication,
    Reminder,
    ReminderNow,
    ReportVersion,
    SubmissionAccepted,
)


def _runs_in_a_worker() -> NotImplementedError:
    return NotImplementedError("a stub: the worker runs the registered implementation")


@activity.defn
async def store_review(config: ReviewConfig) -> None:
    raise _runs_in_a_worker()


@activity.defn
async def record_change(change: RecordChange) -> None:
    raise _runs_in_a_worker()


@activity.defn
async def accept_submissions(batch: AcceptSubmissions) -> list[SubmissionAccepted]:
    raise _runs_in_a_worker()


@activity.defn
async def send_reminder(reminder: Reminder) -> int:
    raise _runs_in_a_worker()


@activity.defn
async def send_reminder_now(reminder: ReminderNow) -> int:
    raise _runs_in_a_worker()


@activity.defn
async def open_consultation(request: OpenConsultation) -> int:
    raise _runs_in_a_worker()


@activity.defn
async def close_tasks(request: CloseTasks) -> int:
    raise _runs_in_a_worker()


@activity.defn
async def move_task_deadline(request: MoveTaskDeadline) -> None:
    raise _runs_in_a_worker()


@activity.defn
async def check_consultation(check: ConsultationCheck) -> float:
    raise _runs_in_a_worker()


@activity.defn
async def compile_report(request: CompileReport) -> ReportVersion:
    raise _runs_in_a_worker()


@activity.defn
async def publish_report(request: PublishReport) -> ReportVersion:
    raise _runs_in_a_worker()


@activity.defn
async def deliver_notifications(round: DeliveryRound) -> DeliveryStats:
    raise _runs_in_a_worker()


@activity.defn
async def purge_expired(round: PurgeRound) -> dict[str, int]:
    raise _runs_in_a_worker()


@activity.defn
async def gather_rollup(cycle: str) -> list[RegionalPublication]:
    raise _runs_in_a_worker()


@activity.defn
async def compile_rollup(request: CompileRollup) -> ReportVersion:
    raise _runs_in_a_worker()


@activity.defn
async def publish_rollup(request: PublishRollup) -> ReportVersion:
    raise _runs_in_a_worker()
