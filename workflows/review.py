"""RegionalReviewWorkflow: one per review, the source of truth for its process state.

The main loop sleeps until the next instant that matters (a reminder or the current phase's
deadline) or until a handler changes the plan, the way samples-python's `updatable_timer`
does. Submissions, extensions, `advance` and `cancel` are Updates whose validators refuse at
once what the current state does not allow, so nothing refused reaches the history.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

# Pure data, passed through so its datetimes are the real ones the converter recognises.
with workflow.unsafe.imports_passed_through():
    from domain import approval, deadlines, intake, phases, reminders, sessions
    from domain.events import EventType, ReviewEvent
    from domain.refusal import Refusal, RefusalKind
    from domain.review import (
        NEXT_PHASE,
        Deadline,
        Extension,
        PendingReminder,
        Phase,
        Purpose,
        ReviewState,
        SubmissionAccepted,
        SubmissionKind,
        SubmissionRef,
    )
    from workflows import activity_stubs as stubs
    from workflows.models import (
        PRECONDITION_FAILED,
        AcceptSubmission,
        AcceptSubmissions,
        ApproversChange,
        CloseTasks,
        CommandResult,
        CompileReport,
        ConsultationCheck,
        MoreStates,
        MoveTaskDeadline,
        OpenConsultation,
        PhaseCommand,
        PublishReport,
        RecordChange,
        RemindedNow,
        Reminder,
        ReminderNow,
        RemindNowCommand,
        ReportDecision,
        ReportVersion,
        ReviewInput,
        ReviewSnapshot,
        SessionTimes,
        SubmissionBatch,
        SubmissionOutcome,
    )

ArgType = TypeVar("ArgType")
ResultType = TypeVar("ResultType")

REVIEW_REGION = SearchAttributeKey.for_keyword("ReviewRegion")
REVIEW_PHASE = SearchAttributeKey.for_keyword("ReviewPhase")
# Every search attribute the workflows upsert: a server must know them before a review starts.
SEARCH_ATTRIBUTES: tuple[SearchAttributeKey[str], ...] = (REVIEW_REGION, REVIEW_PHASE)

# The error type of an Update to send again shortly; a rule's refusal has its kind as its type.
RETRY_LATER = "RetryLater"

# Continue as new well before Temporal's per-run limits (about 2,000 Updates; warnings from
# 10,240 events), and soon enough that a worker taking a review over has a short run to replay
# (docs/benchmarks.md, long: the replay of the longest run beside a bare workflow's).
MAX_UPDATES_PER_RUN = 150
MAX_EVENTS_PER_RUN = 1_200
# The limits of runs started before SHORTER_RUNS, which keep them to their end.
EARLIER_MAX_UPDATES_PER_RUN = 500
EARLIER_MAX_EVENTS_PER_RUN = 6_000
# Command ids remembered across runs; commands are few, a review's life sees dozens.
REMEMBERED_COMMANDS = 200

ACTIVITY_OPTIONS: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=30),
    # A database outage must delay the review, never fail it: retry until it is back, so no
    # schedule_to_close. What no retry can mend (a precondition) fails at once instead.
    "retry_policy": RetryPolicy(
        maximum_interval=timedelta(minutes=1), non_retryable_error_types=[PRECONDITION_FAILED]
    ),
}

# Opening a consultation for 10,000 stakeholders is one bulk insert, but give it room.
OPEN_CONSULTATION_TIMEOUT = timedelta(minutes=5)
# The long activities heartbeat: a worker killed inside one is replaced within this.
HEARTBEAT_TIMEOUT = timedelta(seconds=30)

# Compiling 50,000 submissions takes longer than an ordinary activity.
COMPILE_TIMEOUT = timedelta(minutes=15)


# Reviews started since the workflow writes its own row first.
STORES_ITS_ROW = "review-stores-its-row"
# Runs roll over at MAX_UPDATES_PER_RUN and MAX_EVENTS_PER_RUN, not at the earlier limits.
SHORTER_RUNS = "review-shorter-runs"
# Submissions accepted by a local activity: in the worker that runs the Update's workflow task,
# without the round trips of an activity task through the server (a deadline-day rush is
# hundreds of batches).
ACCEPTS_LOCALLY = "review-accepts-submissions-locally"


REVIEW_WORKFLOW_PREFIX = "review-"


def workflow_id(review_id: str) -> str:
    return f"{REVIEW_WORKFLOW_PREFIX}{review_id}"


def review_of_workflow(workflow: str) -> str | None:
    """The review whose workflow this is; None for another workflow."""
    return (
        workflow.removeprefix(REVIEW_WORKFLOW_PREFIX)
        if workflow.startswith(REVIEW_WORKFLOW_PREFIX)
        else None
    )


def refused(refusal: Refusal) -> ApplicationError:
    """A rule's refusal as the Update's error; the field at fault, if any, is its detail, and
    the seconds to wait before asking again, if any, the next."""
    details: tuple[str | int | None, ...] = () if refusal.field is None else (refusal.field,)
    if refusal.retry_after_s is not None:
        details = (refusal.field, refusal.retry_after_s)
    return ApplicationError(refusal.message, *details, type=refusal.kind.value, non_retryable=True)


def raise_if_refused(refusal: Refusal | None) -> None:
    if refusal is not None:
        raise refused(refusal)


@workflow.defn
class RegionalReviewWorkflow:
    @workflow.init
    def __init__(self, input: ReviewInput) -> None:
        self.config = input.config
        self.state = input.state or ReviewState(
            phase=Phase.SCHEDULED, deadlines=input.config.timeline
        )
        # Serialises state changes made by the main loop and by handlers.
        self.lock = asyncio.Lock()
        # Set by a handler that moved a deadline or the phase: the main loop re-plans.
        self.replan = False
        self.updates_this_run = 0
        # Whether this run rolls over at the current limits (set as the run starts).
        self.short_runs = True
        # While the run drains its handlers before continuing as new, new Updates are refused
        # with RETRY_LATER; the next run takes them.
        self.rolling_over = False
        # Handlers wait for the review's creation to be on record, so the audit trail always
        # begins with it (an Update may arrive in the very first workflow task).
        self.created = input.state is not None
        # Batches being accepted right now, and whether inputs are closing: compilation waits
        # for the former, and refuses new ones meanwhile, so an accepted input is in the report.
        self.submissions_in_flight = 0
        self.inputs_closing = False
        # The change request the next compilation includes (set by request_changes).
        self.change_request_id: str | None = None
        # The long activity running under the lock, which `cancel` interrupts rather than
        # wait behind (it may be retrying for as long as the database is down).
        self.interruptible: workflow.ActivityHandle[Any] | None = None
        self.cancelling = False

    # ---- main loop ----------------------------------------------------------------------

    @workflow.run
    async def run(self, input: ReviewInput) -> str:
        # Decided once, as the run starts: a run started by an earlier version keeps its limits.
        self.short_runs = workflow.patched(SHORTER_RUNS)
        if input.state is None:
            workflow.upsert_search_attributes(
                [
                    REVIEW_REGION.value_set(self.config.region),
                    REVIEW_PHASE.value_set(self.state.phase.value),
                ]
            )
            if workflow.patched(STORES_ITS_ROW):
                # The workflow owns its row, so a start whose caller died or lost the reply
                # still leaves a review the API shows, never a workflow without one.
                await workflow.execute_activity(stubs.store_review, self.config, **ACTIVITY_OPTIONS)
            await self._record(
                EventType.REVIEW_CREATED, self.config.created_by, title=self.config.title
            )
            self.created = True
        while not self.state.phase.terminal:
            await self._sleep_until_next_instant()
            if self._should_roll_over():
                await self._roll_over()
            async with self.lock:
                await self._act_on_due_instants()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state.phase.value

    async def _sleep_until_next_instant(self) -> None:
        self.replan = False
        instant = sessions.next_instant(self.state)
        timeout = None if instant is None else instant - workflow.now()
        if timeout is not None and timeout <= timedelta(0):
            return
        # A timeout is the instant arriving; the loop then acts on whatever is due.
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self.replan or self._should_roll_over(), timeout=timeout
            )

    async def _act_on_due_instants(self) -> None:
        now = workflow.now()
        # One at a time, re-read after each await: handlers may change the plan meanwhile.
        while reminder := reminders.next_due(self.state.pending_reminders, now):
            self.state.pending_reminders.remove(reminder)
            await self._remind(reminder)
        while due := sessions.next_due(self.state.session_reminders, now):
            self.state.session_reminders.remove(due)
            await self._record(
                EventType.SESSION_REMINDER_DUE,
                None,
                session_id=due.session_id,
                starts_at=due.starts_at.isoformat(),
                seconds_before=due.seconds_before,
            )
        deadline = phases.reached_deadline(self.state, now)
        if deadline is None:
            return
        if self.state.phase is Phase.APPROVAL:
            # Only the secretariat or the approvers can approve: alert the secretariat, once,
            # that the report is overdue.
            self.state.report_overdue_announced = True
            await self._record(
                EventType.ESCALATION_ALERT,
                None,
                deadline=deadline.value,
                days_before=0,
                **self._approval_missing(),
            )
            return
        await self._enter(
            NEXT_PHASE[self.state.phase], actor_id=None, reason=f"{deadline.value} reached"
        )

    # ---- phases -------------------------------------------------------------------------

    async def _enter(self, phase: Phase, actor_id: str | None, reason: str | None) -> None:
        if phase is Phase.COMPILATION and not self.inputs_closing:
            self.inputs_closing = True
            await workflow.wait_condition(lambda: self.submissions_in_flight == 0)
        previous = self.state.phase
        self.state.phase = phase
        workflow.logger.info("review phase %s -> %s", previous.value, phase.value)
        self.state.pending_reminders = reminders.planned_for_phase(
            self.state, self.config, workflow.now()
        )
        if previous is Phase.CONSULTATION:
            status = "cancelled" if phase is Phase.CANCELLED else "expired"
            event = self._event(EventType.CONSULTATION_CLOSED, actor_id, status=status)
            await workflow.execute_activity(
                stubs.close_tasks, CloseTasks(event, status), **ACTIVITY_OPTIONS
            )
        workflow.upsert_search_attributes([REVIEW_PHASE.value_set(phase.value)])
        event_type = (
            EventType.REVIEW_CANCELLED if phase is Phase.CANCELLED else EventType.PHASE_CHANGED
        )
        await self._record(
            event_type, actor_id, **{"from": previous.value, "to": phase.value, "reason": reason}
        )
        if phase is Phase.COMPILATION:
            await self._compile_for_approval(actor_id)
        if phase is Phase.CONSULTATION:
            due_at = self.state.deadlines.consultation_due_at
            event = self._event(EventType.CONSULTATION_OPENED, None, due_at=due_at.isoformat())
            await self._interruptible(
                stubs.open_consultation,
                OpenConsultation(event, due_at),
                start_to_close_timeout=OPEN_CONSULTATION_TIMEOUT,
            )

    async def _interruptible(
        self,
        activity: Callable[[ArgType], Awaitable[ResultType]],
        arg: ArgType,
        *,
        start_to_close_timeout: timedelta,
    ) -> ResultType | None:
        """Run a long, heartbeating activity that `cancel` may interrupt; None if it did."""
        handle = workflow.start_activity(
            activity,
            arg,
            **{
                **ACTIVITY_OPTIONS,
                "start_to_close_timeout": start_to_close_timeout,
                "heartbeat_timeout": HEARTBEAT_TIMEOUT,
            },
        )
        self.interruptible = handle
        try:
            return await handle
        except ActivityError as error:
            if self.cancelling and isinstance(error.cause, CancelledError):
                workflow.logger.info(
                    "%s interrupted: the review is being cancelled", error.activity_type
                )
                return None
            workflow.logger.error("%s failed: %s", error.activity_type, error.cause)
            raise
        finally:
            self.interruptible = None

    async def _compile_for_approval(self, actor_id: str | None) -> None:
        """Compile the next report version (with the pending change request's editorial text,
        if any) and put it before the secretariat."""
        version = self.state.report_version + 1
        event = self._event(EventType.REPORT_READY, None)
        compiled: ReportVersion | None = await self._interruptible(
            stubs.compile_report,
            CompileReport(event, version, self.change_request_id),
            start_to_close_timeout=COMPILE_TIMEOUT,
        )
        if compiled is None:
            return  # the review is being cancelled
        self.state.report_version = compiled.version
        self.change_request_id = None
        self.state.approvals = []
        await self._enter(Phase.APPROVAL, actor_id, f"report version {version} compiled")
        await self._announce_turn()

    # ---- reminders and escalation -------------------------------------------------------

    def _arm_reminders(
        self, deadline: Deadline, due_at: datetime, country: str | None = None
    ) -> None:
        self.state.pending_reminders = reminders.armed(
            self.state.pending_reminders, self.config, deadline, due_at, workflow.now(), country
        )

    async def _remind(self, reminder: PendingReminder) -> None:
        if reminder.purpose is Purpose.ESCALATION:
            await self._escalate_if_needed(reminder)
            return
        countries = reminders.countries_to_remind(self.config, self.state, reminder)
        if reminder.country is not None and not countries:
            return  # that State has submitted since: nobody left to remind
        event = self._event(
            EventType.REMINDER_DUE,
            None,
            deadline=reminder.deadline.value,
            due_at=reminder.due_at.isoformat(),
            days_before=reminder.days_before,
            country=reminder.country,
            # In a review that names approvers, the report's reminder is for the one whose
            # turn it is only.
            approver=self._pending_approver_id(),
        )
        await workflow.execute_activity(
            stubs.send_reminder,
            Reminder(event, reminder, countries, stakeholders=reminder.country is None),
            **ACTIVITY_OPTIONS,
        )

    async def _escalate_if_needed(self, check: PendingReminder) -> None:
        escalation = self.config.escalation
        assert escalation is not None
        facts = {"deadline": check.deadline.value, "days_before": check.days_before}
        if check.deadline is Deadline.REPORT_DUE_AT:
            await self._record(
                EventType.ESCALATION_ALERT, None, **facts, **self._approval_missing()
            )
            return
        if check.deadline is Deadline.CONSULTATION_DUE_AT:
            event = self._event(EventType.ESCALATION_ALERT, None, **facts)
            await workflow.execute_activity(
                stubs.check_consultation,
                ConsultationCheck(event, escalation.share),
                **ACTIVITY_OPTIONS,
            )
            return
        shortfall = reminders.coverage_shortfall(
            escalation, self.config.member_states, self.state.countries_submitted
        )
        if shortfall is not None:
            share, missing = shortfall
            await self._record(
                EventType.ESCALATION_ALERT,
                None,
                **facts,
                share=round(share, 4),
                required=escalation.share,
                missing=missing,
            )

    # ---- submissions --------------------------------------------------------------------

    @workflow.update
    async def submit(self, batch: SubmissionBatch) -> list[SubmissionOutcome]:
        """Accept what the review takes of a batch, in one activity; say why for the rest."""
        self.updates_this_run += 1
        await workflow.wait_condition(lambda: self.created)
        outcomes: dict[str, SubmissionOutcome] = {}
        accepting: list[AcceptSubmission] = []
        for ref in batch.refs:
            now = workflow.now()
            refusal = intake.submission_refusal(
                self.config, self.state, self.inputs_closing, ref.kind, ref.subject, now
            )
            if refusal is not None:
                outcomes[ref.request_id] = SubmissionOutcome(
                    ref.request_id, None, refusal.kind.value, refusal.message
                )
                continue
            late = intake.is_late(self.state, ref.kind, ref.subject, now)
            event = self._event(
                EventType.SUBMISSION_ACCEPTED,
                ref.actor_id,
                kind=ref.kind.value,
                subject=ref.subject,
                late=late,
            )
            accepting.append(AcceptSubmission(ref, late, event))
        if accepting:
            self.submissions_in_flight += 1
            try:
                accepted = await self._accept(AcceptSubmissions(accepting))
            finally:
                self.submissions_in_flight -= 1
            for item, result in zip(accepting, accepted, strict=True):
                outcomes[item.ref.request_id] = SubmissionOutcome(item.ref.request_id, result)
                self._note_submitted(item.ref)
        return [outcomes[ref.request_id] for ref in batch.refs]

    async def _accept(self, batch: AcceptSubmissions) -> list[SubmissionAccepted]:
        if workflow.patched(ACCEPTS_LOCALLY):
            return await workflow.execute_local_activity(
                stubs.accept_submissions, batch, **ACTIVITY_OPTIONS
            )
        return await workflow.execute_activity(stubs.accept_submissions, batch, **ACTIVITY_OPTIONS)

    @submit.validator
    def validate_submit(self, batch: SubmissionBatch) -> None:
        """Refuse the whole batch only for what concerns every submission in it."""
        self._refuse_while_rolling_over()
        raise_if_refused(intake.batch_refusal(self.state, self.inputs_closing))

    def _note_submitted(self, ref: SubmissionRef) -> None:
        if (
            ref.kind is SubmissionKind.NATIONAL_REPORT
            and ref.subject not in self.state.countries_submitted
        ):
            self.state.countries_submitted.append(ref.subject)
            # Its own reminders, if it has an extension, are no longer needed.
            self.state.pending_reminders = [
                r for r in self.state.pending_reminders if r.country != ref.subject
            ]

    # ---- deadlines ----------------------------------------------------------------------

    @workflow.update
    async def extend(self, extension: Extension) -> Extension:
        if await self._arrived():
            return extension
        async with self.lock:
            # The state may have moved while the Update waited for the lock.
            raise_if_refused(self._extension_refusal(extension))
            previous = deadlines.extend(
                self.state, extension.deadline, extension.until, extension.country
            )
            await self._rearm_after(extension)
            self.replan = True
            await self._record(
                EventType.DEADLINE_EXTENDED,
                extension.actor_id,
                deadline=extension.deadline.value,
                previous=previous.isoformat(),
                until=extension.until.isoformat(),
                reason=extension.reason,
                country=extension.country,
            )
            self._note_done()
        return extension

    async def _rearm_after(self, extension: Extension) -> None:
        """Re-plan what depended on the deadline that moved."""
        if extension.country is not None:
            self._arm_reminders(extension.deadline, extension.until, extension.country)
            return
        if reminders.REMINDED_DEADLINE.get(self.state.phase) is not extension.deadline:
            return  # armed when its phase begins
        self._arm_reminders(extension.deadline, extension.until)
        if extension.deadline is Deadline.REPORT_DUE_AT:
            self.state.report_overdue_announced = False
        if extension.deadline is Deadline.CONSULTATION_DUE_AT:
            await workflow.execute_activity(
                stubs.move_task_deadline,
                MoveTaskDeadline(self.config.review_id, extension.until),
                **ACTIVITY_OPTIONS,
            )

    @extend.validator
    def validate_extend(self, extension: Extension) -> None:
        self._validate_command(lambda: self._extension_refusal(extension))

    def _extension_refusal(self, extension: Extension) -> Refusal | None:
        return deadlines.extension_refusal(
            self.config.member_states,
            self.state,
            extension.deadline,
            extension.until,
            extension.country,
            workflow.now(),
        )

    # ---- advance and cancel -------------------------------------------------------------

    @workflow.update
    async def advance(self, command: PhaseCommand) -> CommandResult:
        if await self._arrived():
            return CommandResult(self.state.phase)
        async with self._command(lambda: phases.advance_refusal(self.state.phase)):
            await self._enter(
                NEXT_PHASE[self.state.phase], command.actor_id, command.reason or "advanced"
            )
        return CommandResult(self.state.phase)

    @advance.validator
    def validate_advance(self, command: PhaseCommand) -> None:
        self._validate_command(lambda: phases.advance_refusal(self.state.phase))

    @workflow.update
    async def cancel(self, command: PhaseCommand) -> CommandResult:
        if await self._arrived():
            return CommandResult(self.state.phase)
        self.cancelling = True
        if self.interruptible is not None:
            self.interruptible.cancel()  # its holder of the lock then gives the lock up
        async with self._command(lambda: phases.cancel_refusal(self.state.phase)):
            await self._enter(Phase.CANCELLED, command.actor_id, command.reason)
        return CommandResult(self.state.phase)

    @cancel.validator
    def validate_cancel(self, command: PhaseCommand) -> None:
        self._validate_command(lambda: phases.cancel_refusal(self.state.phase))

    # ---- reminders sent now, by the secretariat ------------------------------------------

    @workflow.update
    async def remind_now(self, command: RemindNowCommand) -> RemindedNow:
        """Remind, at once, those who have not acted in the current phase: at most once an
        hour, by this workflow's clock. Nobody left to remind: nothing is recorded, and the
        hour does not start."""
        event_id = self._command_event_id()
        if await self._arrived():
            return RemindedNow(event_id)
        async with self._command(self._remind_now_refusal):
            now = workflow.now()
            plan = reminders.to_remind_now(self.config.member_states, self.state, now)
            event = self._event(
                EventType.REMINDER_SENT_NOW,
                command.actor_id,
                deadline=plan.deadline.value,
                due_at=plan.due_at.isoformat(),
                own_deadlines={c: due.isoformat() for c, due in plan.own_deadlines.items()},
            )
            reminded = await workflow.execute_activity(
                stubs.send_reminder_now,
                ReminderNow(dataclasses.replace(event, id=event_id), plan.deadline, plan.countries),
                **ACTIVITY_OPTIONS,
            )
            if reminded:
                self.state.reminded_now_at = now
        return RemindedNow(event_id)

    @remind_now.validator
    def validate_remind_now(self, command: RemindNowCommand) -> None:
        self._validate_command(self._remind_now_refusal)

    def _remind_now_refusal(self) -> Refusal | None:
        return reminders.remind_now_refusal(self.state, workflow.now())

    def _command_event_id(self) -> str:
        """The id of the event a command records, from its Update's id: the same command sent
        again names the same event."""
        update = workflow.current_update_info()
        assert update is not None  # called from an Update handler
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.config.review_id}:{update.id}"))

    # ---- more member States --------------------------------------------------------------

    @workflow.update
    async def add_member_states(self, more: MoreStates) -> MoreStates:
        """Ask more member States for their national report: from now on they may submit, are
        reminded and counted. The config carries them across continue-as-new."""
        if await self._arrived():
            return MoreStates(self.config.member_states)
        async with self._command(lambda: phases.more_states_refusal(self.state.phase)):
            known = self.config.member_states
            added = [country for country in more.countries if country not in known]
            self.config = dataclasses.replace(self.config, member_states=[*known, *added])
        return MoreStates(self.config.member_states)

    @add_member_states.validator
    def validate_add_member_states(self, more: MoreStates) -> None:
        self._validate_command(lambda: phases.more_states_refusal(self.state.phase))

    # ---- the report's approvers -----------------------------------------------------------

    @workflow.update
    async def change_approvers(self, change: ApproversChange) -> ApproversChange:
        """Name who approves the report from now on, until its approval begins. The config
        carries them across continue-as-new."""
        if await self._arrived():
            return ApproversChange(self.config.approvers or [])
        async with self._command(self._approvers_change_refusal):
            self.config = dataclasses.replace(self.config, approvers=change.approvers or None)
        return ApproversChange(self.config.approvers or [])

    @change_approvers.validator
    def validate_change_approvers(self, change: ApproversChange) -> None:
        self._validate_command(self._approvers_change_refusal)

    def _approvers_change_refusal(self) -> Refusal | None:
        return approval.change_refusal(self.state.phase, self.state.report_version)

    # ---- consultation meetings ----------------------------------------------------------

    @workflow.update
    async def schedule_session(self, times: SessionTimes) -> SessionTimes:
        """Plan (or, for a meeting moved, re-plan) the reminders before a meeting stored by
        the service; the meeting itself lives in the database."""
        if await self._arrived():
            return times
        async with self._command(self._session_refusal):
            assert times.starts_at is not None  # the validator refuses a meeting without
            self.state.session_reminders = sessions.armed(
                self.state.session_reminders, times.session_id, times.starts_at, workflow.now()
            )
        return times

    @schedule_session.validator
    def validate_schedule_session(self, times: SessionTimes) -> None:
        self._validate_command(self._session_refusal)
        if times.starts_at is None:
            raise refused(Refusal(RefusalKind.INVALID, "A meeting to remind of needs its start."))

    @workflow.update
    async def cancel_session(self, times: SessionTimes) -> SessionTimes:
        """Drop the reminders of a meeting cancelled."""
        if await self._arrived():
            return times
        async with self._command(self._session_refusal):
            self.state.session_reminders = sessions.cancelled(
                self.state.session_reminders, times.session_id
            )
        return times

    @cancel_session.validator
    def validate_cancel_session(self, times: SessionTimes) -> None:
        self._validate_command(self._session_refusal)

    def _session_refusal(self) -> Refusal | None:
        return phases.session_refusal(self.state.phase)

    # ---- the report ---------------------------------------------------------------------

    @workflow.update
    async def approve(self, decision: ReportDecision) -> ReportVersion:
        if await self._arrived():
            return ReportVersion(self.state.report_version, "")
        async with self._command(lambda: self._report_decision_refusal(decision)):
            if self.config.approvers:
                await self._record_approval(decision)
                if approval.pending_approver(self.config.approvers, self.state.approvals):
                    await self._announce_turn()
                    return ReportVersion(self.state.report_version, "")
            event = self._event(EventType.REPORT_PUBLISHED, decision.actor_id)
            published: ReportVersion = await workflow.execute_activity(
                stubs.publish_report,
                PublishReport(event, self.state.report_version, decision.note),
                **ACTIVITY_OPTIONS,
            )
            await self._enter(Phase.PUBLISHED, decision.actor_id, decision.note or "approved")
        return published

    @approve.validator
    def validate_approve(self, decision: ReportDecision) -> None:
        self._validate_command(lambda: self._report_decision_refusal(decision))

    @workflow.update
    async def request_changes(self, decision: ReportDecision) -> ReportVersion:
        if await self._arrived():
            return ReportVersion(self.state.report_version, "")
        async with self._command(lambda: self._report_decision_refusal(decision)):
            await self._record(
                EventType.REPORT_CHANGES_REQUESTED,
                decision.actor_id,
                version=self.state.report_version,
                note=decision.note,
                change_request_id=decision.change_request_id,
                **self._step_of(decision.actor_id),
            )
            self.change_request_id = decision.change_request_id
            await self._enter(Phase.COMPILATION, decision.actor_id, "changes requested")
        return ReportVersion(self.state.report_version, "")

    @request_changes.validator
    def validate_request_changes(self, decision: ReportDecision) -> None:
        self._validate_command(lambda: self._report_decision_refusal(decision))
        if not self._done_before() and not decision.change_request_id:
            raise refused(
                Refusal(RefusalKind.INVALID, "A change request needs its stored request.")
            )

    def _report_decision_refusal(self, decision: ReportDecision) -> Refusal | None:
        return phases.report_decision_refusal(self.state.phase) or approval.decision_refusal(
            self.config.approvers, self.state.approvals, decision.actor_id
        )

    # ---- the approval chain, for a review that names approvers ----------------------------

    def _pending_approver_id(self) -> str | None:
        pending = approval.pending_approver(self.config.approvers or [], self.state.approvals)
        return None if pending is None else pending.actor_id

    def _step_of(self, actor_id: str) -> dict[str, int]:
        """The step `actor_id` takes in the chain, and of how many; nothing without a chain."""
        approvers = self.config.approvers
        if not approvers:
            return {}
        return {"step": approval.step_number(approvers, actor_id), "of": len(approvers)}

    def _approval_missing(self) -> dict[str, Any]:
        """What an overdue report awaits, naming the approver whose turn it is, if any."""
        version = self.state.report_version
        approver = self._pending_approver_id()
        if approver is None:
            return {"missing": [f"approval of report version {version}"]}
        return {
            "missing": [f"approval of report version {version} by {approver}"],
            "approver": approver,
            **self._step_of(approver),
        }

    async def _record_approval(self, decision: ReportDecision) -> None:
        self.state.approvals.append(decision.actor_id)
        await self._record(
            EventType.REPORT_APPROVAL_GIVEN,
            decision.actor_id,
            version=self.state.report_version,
            note=decision.note,
            **self._step_of(decision.actor_id),
        )

    async def _announce_turn(self) -> None:
        """Tell the approver whose turn it now is (recorded, and mailed from the record), and
        re-arm the report's reminders for it while the deadline is ahead."""
        approver = self._pending_approver_id()
        if approver is None:
            return
        await self._record(
            EventType.REPORT_APPROVAL_PENDING,
            None,
            version=self.state.report_version,
            approver=approver,
            **self._step_of(approver),
        )
        self._arm_reminders(Deadline.REPORT_DUE_AT, self.state.deadlines.report_due_at)

    @workflow.query
    def status(self) -> ReviewState:
        return self.state

    # ---- commands, and commands sent again ----------------------------------------------

    async def _arrived(self) -> bool:
        """Count the Update, wait until the review's creation is on record, and tell whether
        this command was done before (it is then answered with the current state)."""
        self.updates_this_run += 1
        await workflow.wait_condition(lambda: self.created)
        return self._done_before()

    def _validate_command(self, refusal: Callable[[], Refusal | None]) -> None:
        """A command's validator: refused while the run rolls over, else by its rule, unless
        the command was done before."""
        self._refuse_while_rolling_over()
        if not self._done_before():
            raise_if_refused(refusal())

    @contextlib.asynccontextmanager
    async def _command(self, refusal: Callable[[], Refusal | None]) -> AsyncIterator[None]:
        """Do a command under the lock, checking its rule again (the state may have moved
        while it waited), then re-plan and remember it as done."""
        async with self.lock:
            raise_if_refused(refusal())
            yield
            self.replan = True
            self._note_done()

    def _done_before(self) -> bool:
        """Whether this command's Update id was done already, in this run or an earlier one:
        it is then answered with the current state, not done again."""
        update = workflow.current_update_info()
        return update is not None and update.id in self.state.handled_commands

    def _note_done(self) -> None:
        update = workflow.current_update_info()
        if update is not None:
            done = self.state.handled_commands
            done.append(update.id)
            del done[:-REMEMBERED_COMMANDS]

    # ---- continue-as-new ----------------------------------------------------------------

    def _should_roll_over(self) -> bool:
        info = workflow.info()
        if self.short_runs:
            updates, events = MAX_UPDATES_PER_RUN, MAX_EVENTS_PER_RUN
        else:
            updates, events = EARLIER_MAX_UPDATES_PER_RUN, EARLIER_MAX_EVENTS_PER_RUN
        return (
            info.is_continue_as_new_suggested()
            or self.updates_this_run >= updates
            or info.get_current_history_length() >= events
        )

    def _refuse_while_rolling_over(self) -> None:
        if self.rolling_over:
            raise ApplicationError("The review is starting a new run; retry.", type=RETRY_LATER)

    async def _roll_over(self) -> None:
        self.rolling_over = True
        info = workflow.info()
        workflow.logger.info(
            "continuing as new after %d updates and %d events",
            self.updates_this_run,
            info.get_current_history_length(),
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(ReviewInput(self.config, self.state))

    # ---- the audit trail and the read model ---------------------------------------------

    def _event(self, event_type: EventType, actor_id: str | None, **data: Any) -> ReviewEvent:
        return ReviewEvent(
            id=str(workflow.uuid4()),
            review_id=self.config.review_id,
            type=event_type,
            at=workflow.now(),
            actor_id=actor_id,
            data={k: v for k, v in data.items() if v is not None},
        )

    async def _record(self, event_type: EventType, actor_id: str | None, **data: Any) -> None:
        snapshot = ReviewSnapshot(
            self.state.phase, self.state.deadlines, dict(self.state.country_extensions)
        )
        await workflow.execute_activity(
            stubs.record_change,
            RecordChange(self._event(event_type, actor_id, **data), snapshot),
            **ACTIVITY_OPTIONS,
        )
