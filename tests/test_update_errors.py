"""What the Temporal server answers when it refuses an Update, as the API tells the cases apart:
by the status code, never by the wording of the message."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio import workflow
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import UpdateWorkflowExecutionLifecycleStage
from temporalio.api.update.v1 import Input, Meta, Request, WaitPolicy
from temporalio.api.workflowservice.v1 import UpdateWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from api.updates import _is_transient, execute_update
from services.refusals import Kind, Refused
from workflows.review import workflow_id

SERVER_LIMIT = 10  # Updates in flight per workflow, the server's default


@workflow.defn(sandboxed=False)
class HeldUpdates:
    """Its Updates wait until released, so they stay in flight."""

    def __init__(self) -> None:
        self.released = False
        self.finished = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.finished)

    @workflow.update
    async def held(self) -> None:
        await workflow.wait_condition(lambda: self.released)

    @workflow.signal
    def release(self) -> None:
        self.released = True

    @workflow.signal
    def finish(self) -> None:
        self.finished = True


async def _start_update(client: Client, workflow: str, update_id: str) -> RPCError | None:
    """Start an Update without the SDK's retries; the server's refusal, if any."""
    request = UpdateWorkflowExecutionRequest(
        namespace=client.namespace,
        workflow_execution=WorkflowExecution(workflow_id=workflow),
        wait_policy=WaitPolicy(
            lifecycle_stage=UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED
        ),
        request=Request(meta=Meta(update_id=update_id, identity="test"), input=Input(name="held")),
    )
    try:
        await client.workflow_service.update_workflow_execution(request, retry=False)
    except RPCError as error:
        return error
    return None


@pytest.fixture
async def held_review(temporal_env: WorkflowEnvironment) -> AsyncIterator[tuple[Client, str]]:
    """A running `HeldUpdates` under the workflow id of a review, with a worker."""
    client = temporal_env.client
    queue = f"held-{uuid.uuid4()}"
    review_id = f"ECE-held-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[HeldUpdates],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        handle = await client.start_workflow(
            HeldUpdates.run, id=workflow_id(review_id), task_queue=queue
        )
        yield client, review_id
        if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            await handle.signal(HeldUpdates.release)
            await handle.signal(HeldUpdates.finish)
        await handle.result()


async def test_updates_past_the_in_flight_limit_are_refused_as_an_overload(
    held_review: tuple[Client, str],
) -> None:
    client, review_id = held_review
    refusals = await asyncio.gather(
        *(_start_update(client, workflow_id(review_id), f"u{i}") for i in range(2 * SERVER_LIMIT))
    )
    refused = [r for r in refusals if r is not None]
    # How many get in before the limit depends on timing; past it, each refusal is an overload.
    assert refused, refusals
    assert {r.status for r in refused} == {RPCStatusCode.RESOURCE_EXHAUSTED}
    assert all(_is_transient(r) for r in refused)


async def test_an_update_to_a_review_whose_workflow_ended_is_a_conflict(
    held_review: tuple[Client, str],
) -> None:
    client, review_id = held_review
    handle = client.get_workflow_handle(workflow_id(review_id))
    await handle.signal(HeldUpdates.finish)
    await handle.result()
    with pytest.raises(Refused) as refused:
        await execute_update(client, None, review_id, HeldUpdates.held, None, update_id="late")
    assert refused.value.kind is Kind.CONFLICT
    assert refused.value.message == "The review has ended; it takes no more requests."
