"""A request never waits for ever on a review: past its deadline it is a 503 to retry."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from api import updates
from api.updates import MAX_IN_FLIGHT, UpdateGate, execute_update
from services.refusals import Kind, Refused
from tests import documents
from tests.reviews import eventually, review_body
from tests.test_api_basics import assert_problem
from workflows.models import PhaseCommand
from workflows.review import RegionalReviewWorkflow

pytestmark = pytest.mark.usefixtures("worker")


@contextlib.asynccontextmanager
async def no_event_written(database_url: str) -> AsyncIterator[None]:
    """The review's events held back (as a PostgreSQL outage would) until the block ends."""
    locker = await asyncpg.connect(database_url)
    try:
        holding = locker.transaction()
        await holding.start()
        await locker.execute("LOCK TABLE review_events IN SHARE MODE")
        yield
        await holding.rollback()
    finally:
        await locker.close()


async def test_waiting_for_a_slot_of_a_busy_review_ends_in_503(
    temporal_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(updates, "UPDATE_DEADLINE_S", 0.5)
    gate = UpdateGate()
    for _ in range(MAX_IN_FLIGHT):  # every slot of the review held by requests that hang
        await gate("ece-busy").acquire()
    with pytest.raises(Refused) as refused:
        await execute_update(
            temporal_client,
            gate,
            "ece-busy",
            RegionalReviewWorkflow.advance,
            PhaseCommand("someone"),
            update_id="advance:busy",
        )
    assert refused.value.kind is Kind.UNAVAILABLE  # answered 503
    assert refused.value.retry_after_s == 5


async def test_a_submission_the_review_cannot_decide_yet_is_503_then_stored_once(
    api: Any,
    ece_secretariat: Any,
    make_account: Any,
    pool: asyncpg.Pool,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The acceptance waits on a lock (as it would on a PostgreSQL outage): the client gets a
    503 with Retry-After instead of waiting for ever, and its retry with the same key is the
    same submission, stored once."""
    body = review_body(member_states=["DEU"])
    created = await api.post("/v1/reviews", json=body, headers=ece_secretariat.headers)
    assert created.status == 201, await created.text()
    advanced = await api.post(
        f"/v1/reviews/{body['id']}/advance", json={}, headers=ece_secretariat.headers
    )
    assert advanced.status == 200, await advanced.text()
    focal_point = await make_account("focal_point", country="DEU")
    report = {"kind": "national_report", "content": documents.national_report("DEU")}
    headers = {**focal_point.headers, "Idempotency-Key": "held"}
    url = f"/v1/reviews/{body['id']}/submissions"

    monkeypatch.setattr(updates, "UPDATE_DEADLINE_S", 2.0)
    async with no_event_written(database_url):
        waited = await api.post(url, json=report, headers=headers)
        await assert_problem(waited, 503)
        assert waited.headers["Retry-After"] == "5"

    async def retried() -> dict[str, Any] | None:
        answer = await api.post(url, json=report, headers=headers)
        return await answer.json() if answer.status == 201 else None

    receipt = await eventually(retried, deadline_s=60)
    assert receipt["version"] == 1
    versions = await pool.fetchval(
        """SELECT count(*) FROM submission_versions v JOIN submissions s ON s.id = v.submission_id
           WHERE s.review_id = $1""",
        body["id"],
    )
    assert versions == 1


async def test_a_command_the_review_has_not_carried_out_in_time_is_503(
    api: Any,
    ece_secretariat: Any,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An Update the review has taken but not finished by the deadline (its event waits on a
    lock) is a 503 with Retry-After, whatever the SDK makes of the cancelled wait."""
    body = review_body(member_states=["DEU"])
    created = await api.post("/v1/reviews", json=body, headers=ece_secretariat.headers)
    assert created.status == 201, await created.text()
    monkeypatch.setattr(updates, "UPDATE_DEADLINE_S", 2.0)
    async with no_event_written(database_url):
        advanced = await api.post(
            f"/v1/reviews/{body['id']}/advance", json={}, headers=ece_secretariat.headers
        )
        await assert_problem(advanced, 503)
        assert advanced.headers["Retry-After"] == "5"
