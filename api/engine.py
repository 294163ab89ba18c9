"""The review engine of the use cases (`services.engine.ReviewEngine`) on Temporal."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.updates import TRANSIENT_RPC, SubmissionBatcher, UpdateGate, execute_update
from db.reviews import review_exists
from domain.refusal import Refusal, RefusalKind
from domain.review import (
    Approver,
    Extension,
    Phase,
    ReviewConfig,
    SubmissionAccepted,
    SubmissionRef,
)
from services.refusals import refused_by_rule, unavailable
from workflows.models import (
    ApproversChange,
    MoreStates,
    PhaseCommand,
    RemindedNow,
    RemindNowCommand,
    ReportDecision,
    ReportVersion,
    ReviewInput,
    SessionTimes,
)
from workflows.review import REVIEW_PHASE, REVIEW_REGION, RegionalReviewWorkflow, workflow_id

# The memo naming the request that created a review (a hash of its actor and fingerprint);
# a worker starting up keeps a running review workflow that has it (reviewflow.orphans).
CREATION_MEMO = "creation"


class TemporalReviews:
    def __init__(
        self, client: Client, gate: UpdateGate, pool: asyncpg.Pool, task_queue: str
    ) -> None:
        self.client = client
        self.gate = gate
        self.pool = pool
        self.task_queue = task_queue
        self.submissions = SubmissionBatcher(client, gate)

    async def start(self, config: ReviewConfig, creation: str) -> str | None:
        try:
            return await self._creation_mark(config, creation)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return None  # its row outlived its workflow's retention: that id ran
            if error.status not in TRANSIENT_RPC:
                raise
            raise unavailable(f"The workflow service is unavailable: {error.message}") from None

    async def _creation_mark(self, config: ReviewConfig, creation: str) -> str | None:
        handle = self.client.get_workflow_handle(workflow_id(config.review_id))
        # Only a workflow writes a review's row: with a row, its workflow was started before.
        if not await review_exists(self.pool, config.review_id):
            with contextlib.suppress(WorkflowAlreadyStartedError):  # it ran and closed
                await self.client.start_workflow(
                    RegionalReviewWorkflow.run,
                    ReviewInput(config),
                    id=workflow_id(config.review_id),
                    task_queue=self.task_queue,
                    # A review id runs once: a closed review is never started again.
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    memo={CREATION_MEMO: creation},
                    search_attributes=TypedSearchAttributes(
                        [
                            SearchAttributePair(REVIEW_REGION, config.region),
                            SearchAttributePair(REVIEW_PHASE, Phase.SCHEDULED.value),
                        ]
                    ),
                )
        mark: str | None = await (await handle.describe()).memo_value(CREATION_MEMO, None)
        return mark

    async def _update(
        self,
        review_id: str,
        update: Any,
        arg: Any,
        update_id: str,
        result_type: type | None = None,
    ) -> Any:
        return await execute_update(
            self.client,
            self.gate,
            review_id,
            update,
            arg,
            update_id=update_id,
            result_type=result_type,
        )

    async def submit(self, review_id: str, ref: SubmissionRef) -> SubmissionAccepted:
        outcome = await self.submissions.submit(review_id, ref)
        if outcome.accepted is None:
            kind = RefusalKind(outcome.refusal_type or RefusalKind.WRONG_PHASE)
            raise refused_by_rule(Refusal(kind, outcome.refusal or ""))
        return outcome.accepted

    async def extend(self, review_id: str, extension: Extension, *, update_id: str) -> None:
        await self._update(review_id, RegionalReviewWorkflow.extend, extension, update_id)

    async def advance(
        self, review_id: str, *, actor_id: str, reason: str | None, update_id: str
    ) -> None:
        command = PhaseCommand(actor_id, reason)
        await self._update(review_id, RegionalReviewWorkflow.advance, command, update_id)

    async def cancel(
        self, review_id: str, *, actor_id: str, reason: str | None, update_id: str
    ) -> None:
        command = PhaseCommand(actor_id, reason)
        await self._update(review_id, RegionalReviewWorkflow.cancel, command, update_id)

    async def remind_now(self, review_id: str, *, actor_id: str, update_id: str) -> str:
        command = RemindNowCommand(actor_id)
        result: RemindedNow = await self._update(
            review_id, RegionalReviewWorkflow.remind_now, command, update_id, RemindedNow
        )
        return result.event_id

    async def add_member_states(
        self, review_id: str, countries: list[str], *, update_id: str
    ) -> list[str]:
        result: MoreStates = await self._update(
            review_id,
            RegionalReviewWorkflow.add_member_states,
            MoreStates(countries),
            update_id,
            MoreStates,
        )
        return result.countries

    async def change_approvers(
        self, review_id: str, approvers: list[Approver], *, update_id: str
    ) -> list[Approver]:
        result: ApproversChange = await self._update(
            review_id,
            RegionalReviewWorkflow.change_approvers,
            ApproversChange(approvers),
            update_id,
            ApproversChange,
        )
        return result.approvers

    async def approve(
        self, review_id: str, *, actor_id: str, note: str | None, update_id: str
    ) -> int:
        decision = ReportDecision(actor_id, note)
        result: ReportVersion = await self._update(
            review_id, RegionalReviewWorkflow.approve, decision, update_id, ReportVersion
        )
        return result.version

    async def request_changes(
        self,
        review_id: str,
        *,
        actor_id: str,
        note: str,
        change_request_id: str,
        update_id: str,
        compiled: bool = True,
    ) -> int | None:
        decision = ReportDecision(actor_id, note, change_request_id)
        result: ReportVersion | None = await execute_update(
            self.client,
            self.gate,
            review_id,
            RegionalReviewWorkflow.request_changes,
            decision,
            update_id=update_id,
            result_type=ReportVersion,
            accepted_only=not compiled,
        )
        return None if result is None else result.version

    async def schedule_session(
        self, review_id: str, session_id: str, starts_at: datetime, *, update_id: str
    ) -> None:
        times = SessionTimes(session_id, starts_at)
        await self._update(review_id, RegionalReviewWorkflow.schedule_session, times, update_id)

    async def cancel_session(self, review_id: str, session_id: str, *, update_id: str) -> None:
        times = SessionTimes(session_id)
        await self._update(review_id, RegionalReviewWorkflow.cancel_session, times, update_id)
