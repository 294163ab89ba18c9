"""What the workflows and activities tell an operator in the log: phase changes and failures,
never a person's data or a document's content."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.common import precondition_failed


async def test_a_phase_change_is_logged_by_the_workflow(
    start_review: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="temporalio.workflow")
    review = await start_review()
    await review.skip_to(review.deadlines["call_opens_at"] + timedelta(minutes=1))
    await review.wait_for_phase("call_for_inputs")
    logged = [r.getMessage() for r in caplog.records if r.name == "temporalio.workflow"]
    assert any("review phase scheduled -> call_for_inputs" in m for m in logged), logged


async def test_a_failure_no_retry_can_mend_is_logged_by_the_activity(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def store() -> None:
        raise precondition_failed("review 42 has no row")

    with pytest.raises(ApplicationError):
        await ActivityEnvironment().run(store)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert any(
        "precondition failed, not retried: review 42 has no row" in r.getMessage() for r in errors
    )
