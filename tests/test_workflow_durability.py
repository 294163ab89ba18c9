"""Durability of the review workflow: replay of saved histories, worker restarts, long lives."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory
from temporalio.worker import Replayer

from domain.review import LatePolicy, Phase, ReviewConfig, Timeline
from tests import documents
from tests.reviews import HISTORIES, eventually, review_body
from workflows.models import PhaseCommand, ReviewInput
from workflows.review import RegionalReviewWorkflow, workflow_id
from workflows.rollup import RollupWorkflow


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
async def test_saved_histories_replay_on_the_current_code(path: Path) -> None:
    """Histories of reviews run by earlier versions must replay without non-determinism."""
    history = WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))  # noqa: ASYNC240
    # The roll-ups' histories are named after them; every other is a review's.
    workflow = RollupWorkflow if path.stem.startswith("rollup") else RegionalReviewWorkflow
    result = await Replayer(workflows=[workflow]).replay_workflow(
        history, raise_on_replay_failure=True
    )
    assert result.replay_failure is None


async def test_search_attributes_filter_reviews_by_phase(
    api: Any, ece_secretariat: Any, temporal_client: Client, worker: Any
) -> None:
    created = await api.post("/v1/reviews", json=review_body(), headers=ece_secretariat.headers)
    review_id = (await created.json())["id"]
    await api.post(f"/v1/reviews/{review_id}/advance", json={}, headers=ece_secretariat.headers)

    async def listed() -> list[str]:
        query = f'ReviewPhase = "call_for_inputs" AND ReviewRegion = "ECE" AND WorkflowId = "{workflow_id(review_id)}"'
        return [w.id async for w in temporal_client.list_workflows(query)]

    assert await eventually(listed) == [workflow_id(review_id)]


# A minute of work: with the suites that take long (make test-slow).
@pytest.mark.slow
async def test_thousands_of_submissions_continue_as_new_within_limits(
    api: Any,
    ece_secretariat: Any,
    make_account: Any,
    temporal_client: Client,
    pool: Any,
    worker: Any,
) -> None:
    created = await api.post(
        "/v1/reviews", json=review_body(member_states=["DEU"]), headers=ece_secretariat.headers
    )
    review_id = (await created.json())["id"]
    await api.post(f"/v1/reviews/{review_id}/advance", json={}, headers=ece_secretariat.headers)
    organisation = f"Coalition {secrets.token_hex(3)}"
    ngo = await make_account(
        "stakeholder",
        organisation=organisation,
        stakeholder_category="civil_society",
        regions=("ECE",),
    )
    # One after another, so each is an Update of its own (concurrent ones are coalesced):
    # 1,010 Updates are more than two runs' worth.
    rounds = 1_010
    statuses = []
    for n in range(rounds):
        content = documents.stakeholder_input(organisation)
        content["input"] = f"Round {n}: {content['input']}"
        response = await api.post(
            f"/v1/reviews/{review_id}/submissions",
            json={"kind": "stakeholder_input", "content": content},
            headers=ngo.headers,
        )
        statuses.append(response.status)
    assert set(statuses) == {201}
    latest = await pool.fetchval(
        "SELECT latest_version FROM submissions WHERE review_id = $1", review_id
    )
    assert latest == rounds

    runs = [
        w async for w in temporal_client.list_workflows(f'WorkflowId = "{workflow_id(review_id)}"')
    ]
    assert len(runs) >= 3
    for run in runs:
        history = await temporal_client.get_workflow_handle(
            run.id, run_id=run.run_id
        ).fetch_history()
        assert len(history.events) < 10_240
    statuses = {run.status for run in runs}
    assert statuses == {WorkflowExecutionStatus.CONTINUED_AS_NEW, WorkflowExecutionStatus.RUNNING}
    # The state crossed the runs: the review is still taking inputs, in the same phase.
    status = await (
        await api.get(f"/v1/reviews/{review_id}", headers=ece_secretariat.headers)
    ).json()
    assert status["phase"] == "call_for_inputs"
    assert status["progress"]["stakeholder_inputs"] == 1


async def test_review_survives_a_worker_restart(
    temporal_client: Client, pool: Any, settings: Any, ece_secretariat: Any, make_account: Any
) -> None:
    """Stop the worker mid-review; the inputs deadline passes while it is away; a new worker
    carries on from the history, on the dev server and in real time (seconds)."""
    from aiohttp.test_utils import TestClient, TestServer

    from api.app import create_app
    from worker import build_worker

    own = replace(settings, task_queue=f"restart-{secrets.token_hex(3)}")
    germany = await make_account("focal_point", country="DEU")
    now = datetime.now(UTC)
    inputs_due = now + timedelta(seconds=6)
    timeline = {
        "call_opens_at": now + timedelta(seconds=2),
        "inputs_due_at": inputs_due,
        "consultation_due_at": now + timedelta(hours=1),
        "report_due_at": now + timedelta(hours=2),
    }
    body = review_body(timeline={k: v.isoformat() for k, v in timeline.items()})
    review_url = f"/v1/reviews/{body['id']}"
    async with TestClient(TestServer(create_app(own, pool=pool, temporal=temporal_client))) as api:

        async def phase(wanted: str) -> dict[str, Any] | None:
            status = await (await api.get(review_url, headers=ece_secretariat.headers)).json()
            return status if status["phase"] == wanted else None

        async def submit() -> Any:
            return await api.post(
                f"{review_url}/submissions",
                json={"kind": "national_report", "content": documents.national_report("DEU")},
                headers=germany.headers,
            )

        async with build_worker(temporal_client, pool, own):
            assert (
                await api.post("/v1/reviews", json=body, headers=ece_secretariat.headers)
            ).status == 201
            await eventually(lambda: phase("call_for_inputs"))
            assert (await submit()).status == 201

        # No worker while the inputs deadline passes.
        await eventually(lambda: _past(inputs_due), deadline_s=30)
        assert await phase("call_for_inputs")

        async with build_worker(temporal_client, pool, own):
            status = await eventually(lambda: phase("consultation"))
            assert status["progress"]["missing"] == ["FRA", "KAZ", "USA"]
            again = await submit()
            assert (await again.json())["version"] == 2
            cancelled = await api.post(
                f"{review_url}/cancel", json={"reason": "done"}, headers=ece_secretariat.headers
            )
            assert cancelled.status == 200


async def _past(instant: datetime) -> bool:
    return datetime.now(UTC) > instant


async def test_a_command_retried_after_a_continue_as_new_runs_once(
    temporal_client: Client,
    pool: Any,
    settings: Any,
    ece_secretariat: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`advance` answered, its reply lost, the workflow continues as new, the client retries
    with the same key: the phase moves once. The same key with another body is 422."""
    from aiohttp.test_utils import TestClient, TestServer
    from temporalio.worker import UnsandboxedWorkflowRunner, Worker

    from activities import build_activities
    from api.app import create_app
    from workflows import WORKFLOWS

    # A run rolls over after two Updates (unsandboxed, so the worker sees the patched limit).
    monkeypatch.setattr("workflows.review.MAX_UPDATES_PER_RUN", 2)
    own = replace(settings, task_queue=f"rollover-{secrets.token_hex(3)}")
    worker = Worker(
        temporal_client,
        task_queue=own.task_queue,
        workflows=WORKFLOWS,
        activities=build_activities(pool, temporal_client),
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    body = review_body()
    url = f"/v1/reviews/{body['id']}"
    headers = {**ece_secretariat.headers, "Idempotency-Key": f"advance-{secrets.token_hex(4)}"}
    app = create_app(own, pool=pool, temporal=temporal_client)
    async with worker, TestClient(TestServer(app)) as api:
        assert (
            await api.post("/v1/reviews", json=body, headers=ece_secretariat.headers)
        ).status == 201
        handle = temporal_client.get_workflow_handle(workflow_id(body["id"]))
        first_run = (await handle.describe()).run_id

        advanced = await api.post(f"{url}/advance", json={"reason": "open"}, headers=headers)
        first_answer = await advanced.json()
        assert advanced.status == 200 and first_answer["phase"] == "call_for_inputs"
        due = datetime.fromisoformat(body["timeline"]["inputs_due_at"])
        extension = {"deadline": "inputs_due_at", "until": (due + timedelta(days=1)).isoformat()}
        extended = await api.post(
            f"{url}/extensions", json={**extension, "reason": "x"}, headers=ece_secretariat.headers
        )
        assert extended.status == 200

        async def rolled_over() -> bool:
            return (await handle.describe()).run_id != first_run

        await eventually(rolled_over)
        again = await api.post(f"{url}/advance", json={"reason": "open"}, headers=headers)
        assert again.status == 200
        assert (await again.json())["phase"] == "call_for_inputs"
        status = await (await api.get(url, headers=ece_secretariat.headers)).json()
        assert status["phase"] == "call_for_inputs"
        # The create, sent again after the continue-as-new, is still recognised as the same.
        created_again = await api.post("/v1/reviews", json=body, headers=ece_secretariat.headers)
        assert created_again.status == 201

        other = await api.post(f"{url}/advance", json={"reason": "other"}, headers=headers)
        assert other.status == 422

        # The API recorded nothing (it died after the Update): the workflow itself knows the
        # command's Update id across runs, and does not do it again.
        again_in_workflow = await handle.execute_update(
            RegionalReviewWorkflow.advance,
            PhaseCommand(ece_secretariat.id, "open"),
            id=f"{url}/advance:{ece_secretariat.id}:{headers['Idempotency-Key']}",
        )
        assert again_in_workflow.phase == Phase.CALL_FOR_INPUTS
        status = await (await api.get(url, headers=ece_secretariat.headers)).json()
        assert status["phase"] == "call_for_inputs"


async def test_concurrent_creates_with_one_key_make_one_review(
    api: Any, ece_secretariat: Any, pool: Any, temporal_client: Client, worker: Any
) -> None:
    body = review_body()
    del body["id"]  # the id then comes from the Idempotency-Key
    headers = {**ece_secretariat.headers, "Idempotency-Key": f"create-{secrets.token_hex(4)}"}
    began = datetime.now(UTC).isoformat()
    responses = await asyncio.gather(
        *(api.post("/v1/reviews", json=body, headers=headers) for _ in range(2))
    )
    answers = [await r.json() for r in responses]
    assert [r.status for r in responses] == [201, 201]
    assert answers[0] == answers[1]
    review_id = answers[0]["id"]
    rows = await pool.fetchval(
        "SELECT count(*) FROM reviews WHERE created_by = $1 AND title = $2 AND timeline = $3",
        ece_secretariat.actor.id,
        body["title"],
        body["timeline"],
    )
    assert rows == 1

    async def started() -> list[str]:
        query = f'WorkflowType = "RegionalReviewWorkflow" AND StartTime >= "{began}"'
        return [w.id async for w in temporal_client.list_workflows(query)]

    # No other workflow was started for it (the loser of the race leaves no orphan).
    assert await eventually(started) == [workflow_id(review_id)]


async def test_a_started_review_whose_row_was_never_written_gets_its_row(
    api: Any, ece_secretariat: Any, pool: Any, temporal_client: Client, settings: Any, worker: Any
) -> None:
    """The API died (or lost Temporal's reply) right after starting the workflow."""
    config = _config(review_body(), ece_secretariat.id)
    await temporal_client.start_workflow(
        RegionalReviewWorkflow.run,
        ReviewInput(config),
        id=workflow_id(config.review_id),
        task_queue=settings.task_queue,
    )

    async def created_event() -> Any:
        return await pool.fetchval(
            "SELECT count(*) FROM review_events WHERE review_id = $1 AND type = 'review.created'",
            config.review_id,
        )

    assert await eventually(created_event) == 1
    shown = await api.get(f"/v1/reviews/{config.review_id}", headers=ece_secretariat.headers)
    assert shown.status == 200
    assert (await shown.json())["phase"] == "scheduled"
    advanced = await api.post(
        f"/v1/reviews/{config.review_id}/advance", json={}, headers=ece_secretariat.headers
    )
    assert advanced.status == 200


async def test_an_explicit_id_retried_after_a_lost_reply_gets_the_same_answer(
    api: Any, ece_secretariat: Any, worker: Any
) -> None:
    body = review_body()
    first = await api.post("/v1/reviews", json=body, headers=ece_secretariat.headers)
    assert first.status == 201
    again = await api.post("/v1/reviews", json=body, headers=ece_secretariat.headers)
    assert again.status == 201, await again.text()
    answers = [await first.json(), await again.json()]
    assert [(a["id"], a["created_at"], a["title"]) for a in answers] == [
        (body["id"], answers[0]["created_at"], body["title"])
    ] * 2


async def test_a_workflow_left_without_its_row_by_an_earlier_version_is_ended(
    pool: Any, temporal_client: Client, ece_secretariat: Any
) -> None:
    """Started the old way (no creation mark) and never run: its row will never come."""
    from reviewflow.orphans import ORPHAN_REASON, settle_orphans

    config = _config(review_body(), ece_secretariat.id)
    handle = await temporal_client.start_workflow(
        RegionalReviewWorkflow.run,
        ReviewInput(config),
        id=workflow_id(config.review_id),
        task_queue=f"nobody-{secrets.token_hex(3)}",
    )

    async def ended() -> list[str]:
        return await settle_orphans(temporal_client, pool)

    assert workflow_id(config.review_id) in await eventually(ended)
    described = await handle.describe()
    assert described.status == WorkflowExecutionStatus.TERMINATED
    history = await handle.fetch_history()
    assert history.events[-1].workflow_execution_terminated_event_attributes.reason == ORPHAN_REASON


def _config(body: dict[str, Any], created_by: str) -> ReviewConfig:
    """The config the API would start a review with for `body`."""
    return ReviewConfig(
        review_id=body["id"],
        region="ECE",
        title=body["title"],
        member_states=body["member_states"],
        timeline=Timeline(**{k: datetime.fromisoformat(v) for k, v in body["timeline"].items()}),
        reminder_days=[7],
        late_submissions=LatePolicy.ACCEPT_FLAGGED,
        created_by=created_by,
    )


async def test_cancel_answers_while_opening_the_consultation_is_stuck(
    api: Any, ece_secretariat: Any, pool: Any, temporal_client: Client, worker: Any
) -> None:
    """The consultation cannot open (its table is locked, as in an outage); `cancel` must not
    wait behind it, and the stuck opening leaves no task behind once it gets through."""
    created = await api.post("/v1/reviews", json=review_body(), headers=ece_secretariat.headers)
    review_id = (await created.json())["id"]
    url = f"/v1/reviews/{review_id}"
    assert (
        await api.post(f"{url}/advance", json={}, headers=ece_secretariat.headers)
    ).status == 200
    blocker = await pool.acquire()
    transaction = blocker.transaction()
    await transaction.start()
    try:
        await blocker.execute("LOCK TABLE syntheses IN ACCESS EXCLUSIVE MODE")
        advancing = asyncio.create_task(
            api.post(f"{url}/advance", json={}, headers=ece_secretariat.headers)
        )
        handle = temporal_client.get_workflow_handle(workflow_id(review_id))

        async def opening_scheduled() -> Any:
            history = await handle.fetch_history()
            return [
                e.activity_task_scheduled_event_attributes
                for e in history.events
                if e.activity_task_scheduled_event_attributes.activity_type.name
                == "open_consultation"
            ]

        [scheduled] = await eventually(opening_scheduled)
        assert scheduled.heartbeat_timeout.ToSeconds() == 30
        cancelled = await asyncio.wait_for(
            api.post(f"{url}/cancel", json={"reason": "x"}, headers=ece_secretariat.headers),
            timeout=15,
        )
        assert cancelled.status == 200, await cancelled.text()
        assert (await cancelled.json())["phase"] == "cancelled"
    finally:
        await transaction.rollback()
        await pool.release(blocker)
    assert (await advancing).status == 200
    assert await handle.result() == "cancelled"
    tasks = await pool.fetchval(
        "SELECT count(*) FROM tasks WHERE review_id = $1 AND status = 'open'", review_id
    )
    assert tasks == 0


async def test_an_activity_whose_precondition_never_holds_fails_at_once(
    api: Any, ece_secretariat: Any, temporal_client: Client, worker: Any
) -> None:
    """A submission that is not stored can never be accepted: the Update fails, instead of
    its activity retrying for ever while the review waits."""
    from temporalio.client import WorkflowUpdateFailedError

    from domain.review import SubmissionKind
    from workflows.models import SubmissionBatch, SubmissionRef

    created = await api.post("/v1/reviews", json=review_body(), headers=ece_secretariat.headers)
    review_id = (await created.json())["id"]
    advanced = await api.post(
        f"/v1/reviews/{review_id}/advance", json={}, headers=ece_secretariat.headers
    )
    assert advanced.status == 200
    ghost = SubmissionRef(
        str(uuid.uuid4()), SubmissionKind.STAKEHOLDER_INPUT, "Nobody", ece_secretariat.id
    )
    handle = temporal_client.get_workflow_handle(workflow_id(review_id))
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await asyncio.wait_for(
            handle.execute_update(RegionalReviewWorkflow.submit, SubmissionBatch([ghost])),
            timeout=15,
        )
    # The activity's failure, as the Update's cause (through an ActivityError, or directly
    # for a local activity).
    causes: list[BaseException] = []
    cause: BaseException | None = failed.value.cause
    while cause is not None:
        causes.append(cause)
        cause = cause.__cause__ or getattr(cause, "cause", None)
    assert any(f"['{ghost.request_id}'] are not stored" in str(c) for c in causes), causes


async def test_a_review_whose_workflow_is_gone_is_never_started_again(
    api: Any, ece_secretariat: Any, pool: Any, temporal_client: Client, worker: Any
) -> None:
    """A review's row outlives its workflow (closed, then removed after its retention): its
    id ran, so creating it again is a 409 and starts nothing."""
    from db.reviews import insert_review

    body = review_body()
    async with pool.acquire() as conn:
        assert await insert_review(conn, _config(body, ece_secretariat.id), None, "published")
    again = await api.post("/v1/reviews", json=body, headers=ece_secretariat.headers)
    assert again.status == 409
    runs = [
        w async for w in temporal_client.list_workflows(f'WorkflowId = "{workflow_id(body["id"])}"')
    ]
    assert runs == []
