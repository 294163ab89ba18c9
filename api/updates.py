"""Calling a review's workflow Updates from the API; the workflow's refusals become the use
cases' (`services.refusals`).

A deadline-day rush must not trip Temporal's limit of 10 Updates in flight per workflow: each
API process lets at most `MAX_IN_FLIGHT` of its own through per review, and an Update the
server still refuses for that reason (other API processes) is retried with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
from collections import defaultdict
from typing import Any

from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.refusal import Refusal, RefusalKind
from services.refusals import (
    KIND_OF_RULE,
    Kind,
    Refused,
    conflict,
    refused_by_rule,
    unavailable,
)
from workflows.models import SubmissionBatch, SubmissionOutcome, SubmissionRef
from workflows.review import RETRY_LATER, RegionalReviewWorkflow, workflow_id

MAX_IN_FLIGHT = 8
ACCEPTED = WorkflowUpdateStage.ACCEPTED
# How long transient refusals (the service away, too many Updates in flight) are retried.
RETRY_DEADLINE_S = 30.0
# How long a request waits for a review's answer at most, waiting for a slot, retries and the
# Update itself included (an Update may wait for an activity while PostgreSQL is away, whose
# retries are a minute apart at most). Past it: 503 with Retry-After; the Update goes on under
# the same id, so the client's retry is answered by it rather than run again.
UPDATE_DEADLINE_S = 120.0

# The workflow service is down or overloaded: the client may retry.
TRANSIENT_RPC = frozenset(
    {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED}
)


class UpdateGate:
    """At most MAX_IN_FLIGHT Updates per workflow from this process."""

    def __init__(self) -> None:
        self._gates: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(MAX_IN_FLIGHT)
        )

    def __call__(self, workflow: str) -> asyncio.Semaphore:
        return self._gates[workflow]


def _is_transient(error: BaseException) -> bool:
    # The limit of Updates in flight per workflow is RESOURCE_EXHAUSTED, like any overload
    # (tests/test_update_errors.py pins what the server answers).
    if isinstance(error, RPCError):
        return error.status in TRANSIENT_RPC
    if isinstance(error, WorkflowUpdateFailedError):
        cause = error.cause
        return isinstance(cause, ApplicationError) and cause.type == RETRY_LATER
    return False


def refusal(error: WorkflowUpdateFailedError) -> Refused:
    """The refusal a caller gets when the workflow refused or failed its Update."""
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type in KIND_OF_RULE:
        # The workflow raises a rule's refusal with the field at fault as its detail, and the
        # seconds to wait, if any, as the next.
        details = [*cause.details, None, None]
        field = None if details[0] is None else str(details[0])
        retry_after_s = None if details[1] is None else int(details[1])
        rule = Refusal(RefusalKind(cause.type), cause.message, field, retry_after_s)
        return refused_by_rule(rule)
    return Refused(Kind.FAILED, "The review could not process this request.")


async def execute_update(
    client: Client,
    gate: UpdateGate | None,
    review_id: str,
    update: Any,
    arg: Any,
    *,
    update_id: str,
    result_type: type | None = None,
    accepted_only: bool = False,
) -> Any:
    """Run one Update on the review's workflow, retrying only what is safe and transient.

    The Update id is stable across retries (derived from the request), so the server runs it
    at most once however often it is sent. The whole call takes UPDATE_DEADLINE_S at most;
    without a gate, the caller holds one of the review's slots already. With `accepted_only`,
    it answers None once the workflow has taken the Update (its validator passed; it is in
    the workflow's history and runs to its end), without waiting for that end.
    """
    handle = client.get_workflow_handle(workflow_id(review_id))
    loop = asyncio.get_running_loop()
    retry_until = loop.time() + RETRY_DEADLINE_S
    delay = 0.05
    try:
        async with asyncio.timeout(UPDATE_DEADLINE_S):
            while True:
                try:
                    async with gate(review_id) if gate is not None else contextlib.nullcontext():
                        if accepted_only:
                            await handle.start_update(
                                update, arg, id=update_id, wait_for_stage=ACCEPTED
                            )
                            return None
                        return await handle.execute_update(
                            update, arg, id=update_id, result_type=result_type
                        )
                except (RPCError, WorkflowUpdateFailedError) as error:
                    if not _is_transient(error) or loop.time() > retry_until:
                        raise _refused_for(error) from error
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 2.0)
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
        # Cancelled at the deadline while waiting for the Update's result, the SDK raises
        # its own error rather than the cancellation asyncio.timeout would make a TimeoutError.
        raise not_answered_yet() from error


def not_answered_yet() -> Refused:
    return unavailable(
        "The review has not answered in time; retry shortly (with the same Idempotency-Key,"
        " the request is carried out once)."
    )


def _refused_for(error: RPCError | WorkflowUpdateFailedError) -> Refused:
    if isinstance(error, WorkflowUpdateFailedError):
        return refusal(error)
    # A workflow that has ended takes no Update: the server answers NOT_FOUND, as for one
    # that never existed (the API checked that the review exists).
    if error.status == RPCStatusCode.NOT_FOUND:
        return conflict("The review has ended; it takes no more requests.")
    return unavailable("The workflow service is unavailable; retry shortly.")


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class SubmissionBatcher:
    """Coalesces the submissions to one review that arrive together into one Update.

    A deadline-day rush sends many submissions at once; each would otherwise hold one of the
    review's few in-flight Update slots for an Update and an activity of its own. Here the
    first submission starts a sender; while it waits for a slot or for its Update, others queue
    and leave together in the next one (at most `MAX_BATCH`, `SENDERS_PER_REVIEW` at a time).
    """

    MAX_BATCH = 100
    # Few senders make large batches: each batch is an Update, workflow tasks and a
    # transaction, whatever its size (docs/benchmarks.md, ingest).
    SENDERS_PER_REVIEW = 2

    def __init__(self, client: Client, gate: UpdateGate) -> None:
        self.client = client
        self.gate = gate
        self.queues: defaultdict[
            str, list[tuple[SubmissionRef, asyncio.Future[SubmissionOutcome]]]
        ] = defaultdict(list)
        self.senders: defaultdict[str, int] = defaultdict(int)
        self.tasks: set[asyncio.Task[None]] = set()

    async def submit(self, review_id: str, ref: SubmissionRef) -> SubmissionOutcome:
        """The review's decision on `ref`; raises Refused when it refused the whole batch, or
        503 when it has not decided within UPDATE_DEADLINE_S (queueing included); the request
        may still be decided, and a retry gets that decision."""
        outcome: asyncio.Future[SubmissionOutcome] = asyncio.get_running_loop().create_future()
        self.queues[review_id].append((ref, outcome))
        if self.senders[review_id] < self.SENDERS_PER_REVIEW:
            self.senders[review_id] += 1
            task = asyncio.create_task(self._send(review_id))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        try:
            return await asyncio.wait_for(asyncio.shield(outcome), UPDATE_DEADLINE_S)
        except TimeoutError as error:
            outcome.add_done_callback(_retrieve)  # decided later, for nobody: not an error
            raise not_answered_yet() from error

    async def _send(self, review_id: str) -> None:
        queue = self.queues[review_id]
        try:
            while queue:
                async with self.gate(review_id):
                    batch, queue[: self.MAX_BATCH] = queue[: self.MAX_BATCH], []
                    if batch:
                        await self._send_batch(review_id, batch)
        finally:
            self.senders[review_id] -= 1

    async def _send_batch(
        self, review_id: str, batch: list[tuple[SubmissionRef, asyncio.Future[SubmissionOutcome]]]
    ) -> None:
        refs = [ref for ref, _ in batch]
        # The same requests make the same Update: a batch sent again is run once.
        digest = hashlib.sha256(",".join(sorted(r.request_id for r in refs)).encode()).hexdigest()
        try:
            outcomes = await execute_update(
                self.client,
                None,
                review_id,
                RegionalReviewWorkflow.submit,
                SubmissionBatch(refs),
                update_id=f"submit:{digest[:32]}",
                result_type=list[SubmissionOutcome],
            )
        except Exception as error:  # every waiting request gets the same answer
            for _, waiting in batch:
                if not waiting.done():
                    waiting.set_exception(error)
            return
        for (_, waiting), outcome in zip(batch, outcomes, strict=True):
            if not waiting.done():
                waiting.set_result(outcome)
