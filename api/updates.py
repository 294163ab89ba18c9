"""Calling a review's workflow Updates from the API, and turning refusals into problems.

A deadline-day rush must not trip Temporal's limit of 10 Updates in flight per workflow: each
API process lets at most `MAX_IN_FLIGHT` of its own through per review, and an Update the
server still refuses for that reason (other API processes) is retried with backoff.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from typing import Any

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import Problem
from workflows.review import INVALID, NOT_IN_SCOPE, RETRY_LATER, WRONG_PHASE, workflow_id

MAX_IN_FLIGHT = 8
RETRY_DEADLINE_S = 30.0

# The workflow service is down or overloaded: the client may retry.
TRANSIENT_RPC = frozenset(
    {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED}
)

STATUS_OF_REFUSAL = {WRONG_PHASE: 409, INVALID: 422, NOT_IN_SCOPE: 403}


class UpdateGate:
    """At most MAX_IN_FLIGHT Updates per workflow from this process."""

    def __init__(self) -> None:
        self._gates: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(MAX_IN_FLIGHT)
        )

    def __call__(self, workflow: str) -> asyncio.Semaphore:
        return self._gates[workflow]


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, RPCError):
        return error.status in TRANSIENT_RPC or "in-flight updates" in error.message
    if isinstance(error, WorkflowUpdateFailedError):
        cause = error.cause
        return isinstance(cause, ApplicationError) and cause.type == RETRY_LATER
    return False


def refusal(error: WorkflowUpdateFailedError) -> Problem:
    """The problem a client gets when the workflow refused or failed its Update."""
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type in STATUS_OF_REFUSAL:
        status = STATUS_OF_REFUSAL[cause.type]
        if status == 422:
            pointer = str(cause.details[0]) if cause.details else ""
            return Problem(
                422, cause.message, errors=[{"pointer": pointer, "message": cause.message}]
            )
        return Problem(status, cause.message)
    return Problem(500, "The review could not process this request.")


async def execute_update(
    client: Client,
    gate: UpdateGate,
    review_id: str,
    update: Any,
    arg: Any,
    *,
    update_id: str,
    result_type: type | None = None,
) -> Any:
    """Run one Update on the review's workflow, retrying only what is safe and transient.

    The Update id is stable across retries (derived from the request), so the server runs it
    at most once however often it is sent.
    """
    handle = client.get_workflow_handle(workflow_id(review_id))
    deadline = asyncio.get_running_loop().time() + RETRY_DEADLINE_S
    delay = 0.05
    while True:
        try:
            async with gate(review_id):
                return await handle.execute_update(
                    update, arg, id=update_id, result_type=result_type
                )
        except (RPCError, WorkflowUpdateFailedError) as error:
            if not _is_transient(error) or asyncio.get_running_loop().time() > deadline:
                raise _problem_for(error) from error
        await asyncio.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, 2.0)


def _problem_for(error: RPCError | WorkflowUpdateFailedError) -> Problem:
    if isinstance(error, WorkflowUpdateFailedError):
        return refusal(error)
    if error.status == RPCStatusCode.NOT_FOUND or "already completed" in error.message:
        return Problem(409, "The review has ended; it takes no more requests.")
    return Problem(
        503, "The workflow service is unavailable; retry shortly.", headers={"Retry-After": "5"}
    )
