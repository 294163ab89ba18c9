"""A review's timeline on the time-skipping server: months pass in seconds, timers fire on time.

Modelled on the ECE 2020 review: the call for inputs opened in September, inputs were due on
26 October and the multi-stakeholder consultation took place on 9 November.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from tests import documents
from tests.reviews import eventually, review_body
from tests.test_api_basics import assert_problem
from tests.test_workflow_durability import HISTORIES
from workflows.review import workflow_id

DAY = timedelta(days=1)


def ece_2020_timeline(start: datetime) -> dict[str, datetime]:
    """ECE 2020's deadlines, moved to start a week after `start`, with their spacing kept."""
    opens = start + 7 * DAY  # stands for 15 Sep 2020
    return {
        "call_opens_at": opens,
        "inputs_due_at": opens + 41 * DAY,  # 26 Oct
        "consultation_due_at": opens + 55 * DAY,  # 9 Nov
        "report_due_at": opens + 90 * DAY,
    }


class Review:
    """One review driven through the API on the time-skipping server."""

    def __init__(
        self,
        api: Any,
        env: WorkflowEnvironment,
        pool: asyncpg.Pool,
        secretariat: Any,
        body: dict[str, Any],
    ) -> None:
        self.api, self.env, self.pool, self.secretariat = api, env, pool, secretariat
        self.id = body["id"]
        self.deadlines = {k: datetime.fromisoformat(v) for k, v in body["timeline"].items()}

    async def status(self) -> dict[str, Any]:
        response = await self.api.get(f"/v1/reviews/{self.id}", headers=self.secretariat.headers)
        return await response.json()

    async def wait_for_phase(self, phase: str) -> dict[str, Any]:
        async def reached() -> dict[str, Any] | None:
            status = await self.status()
            return status if status["phase"] == phase else None

        return await eventually(reached)

    async def skip_to(self, instant: datetime) -> None:
        """Let the server's clock run up to `instant`."""
        now = await self.env.get_current_time()
        if instant > now:
            await self.env.sleep(instant - now)

    async def events(self, event_type: str) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT data FROM review_events WHERE review_id = $1 AND type = $2 ORDER BY seq",
            self.id,
            event_type,
        )
        return [row["data"] for row in rows]

    async def submit(self, account: Any, content: dict[str, Any]) -> Any:
        kind = "national_report" if account.actor.role == "focal_point" else "stakeholder_input"
        return await self.api.post(
            f"/v1/reviews/{self.id}/submissions",
            json={"kind": kind, "content": content},
            headers=account.headers,
        )

    async def record_history(self, name: str) -> None:
        """With REVIEWFLOW_RECORD_HISTORIES=1, save this run's history for the replay tests."""
        if os.environ.get("REVIEWFLOW_RECORD_HISTORIES") != "1":
            return
        handle = self.env.client.get_workflow_handle(workflow_id(self.id))
        await handle.result()
        history = await handle.fetch_history()
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(history.to_json())

    async def extend(self, **body: Any) -> Any:
        return await self.api.post(
            f"/v1/reviews/{self.id}/extensions", json=body, headers=self.secretariat.headers
        )


@pytest.fixture
async def start_review(
    skipping_api: Any,
    time_skipping_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    ece_secretariat: Any,
) -> Any:
    async def start(**overrides: Any) -> Review:
        now = await time_skipping_env.get_current_time()
        # The API checks deadlines against the wall clock, the workflow against the server's.
        start_at = max(now, datetime.now(UTC))
        timeline = {k: v.isoformat() for k, v in ece_2020_timeline(start_at).items()}
        body = review_body(id=f"ece-2020-{secrets.token_hex(4)}", timeline=timeline, **overrides)
        response = await skipping_api.post(
            "/v1/reviews", json=body, headers=ece_secretariat.headers
        )
        assert response.status == 201, await response.text()
        return Review(skipping_api, time_skipping_env, pool, ece_secretariat, body)

    return start


@pytest.fixture
async def focal_points(make_account: Any) -> dict[str, Any]:
    return {c: await make_account("focal_point", country=c) for c in ("DEU", "FRA", "KAZ", "USA")}


async def test_ece_2020_timeline_with_reminders_and_a_country_extension(
    start_review: Any, focal_points: dict[str, Any]
) -> None:
    review = await start_review()
    due = review.deadlines["inputs_due_at"]

    await review.skip_to(review.deadlines["call_opens_at"] + timedelta(minutes=1))
    await review.wait_for_phase("call_for_inputs")

    germany = await review.submit(focal_points["DEU"], documents.national_report("DEU"))
    assert germany.status == 201, await germany.text()

    # Reminders 14 and 7 days before go to the three States that have not submitted.
    await review.skip_to(due - 7 * DAY + timedelta(minutes=1))
    reminders = await eventually(lambda: _with_len(review.events("reminder.due"), 2))
    assert [r["days_before"] for r in reminders] == [14, 7]
    assert all(r["countries"] == ["FRA", "KAZ", "USA"] for r in reminders)

    france = await review.submit(focal_points["FRA"], documents.national_report("FRA"))
    assert france.status == 201
    extended = await review.extend(
        deadline="inputs_due_at",
        until=(due + 5 * DAY).isoformat(),
        reason="Elections",
        country="KAZ",
    )
    assert extended.status == 200, await extended.text()

    # Kazakhstan's own 7-day reminder (its 14-day one was already past when it was granted),
    # then the global 1-day reminder: only the USA now.
    await review.skip_to(due - DAY + timedelta(minutes=1))
    reminders = await eventually(lambda: _with_len(review.events("reminder.due"), 4))
    assert (reminders[2]["country"], reminders[2]["days_before"], reminders[2]["countries"]) == (
        "KAZ",
        7,
        ["KAZ"],
    )
    assert (reminders[3].get("country"), reminders[3]["countries"]) == (None, ["USA"])

    await review.skip_to(due + timedelta(minutes=1))
    status = await review.wait_for_phase("consultation")
    assert status["progress"]["missing"] == ["KAZ", "USA"]

    kazakhstan = await review.submit(focal_points["KAZ"], documents.national_report("KAZ"))
    assert (await kazakhstan.json())["late"] is False
    usa = await review.submit(focal_points["USA"], documents.national_report("USA"))
    assert (await usa.json())["late"] is True  # accept_flagged: counted, and flagged

    await review.skip_to(review.deadlines["consultation_due_at"] + timedelta(minutes=1))
    status = await review.wait_for_phase("compilation")
    # Kazakhstan submitted before its 1-day reminder was due: none went out.
    assert len(await review.events("reminder.due")) == 4
    assert status["progress"]["missing"] == []
    assert status["progress"]["late"] == 1
    phases = [e["to"] for e in await review.events("phase.changed")]
    assert phases == ["call_for_inputs", "consultation", "compilation"]

    cancelled = await review.api.post(
        f"/v1/reviews/{review.id}/cancel",
        json={"reason": "End of test"},
        headers=review.secretariat.headers,
    )
    assert (await cancelled.json())["phase"] == "cancelled"
    await review.record_history("ece_2020_timeline")


async def _with_len(events: Any, count: int) -> list[dict[str, Any]] | None:
    found = await events
    return found if len(found) >= count else None


async def test_reject_policy_refuses_late_inputs_but_honours_a_country_extension(
    start_review: Any, focal_points: dict[str, Any]
) -> None:
    review = await start_review(late_submissions="reject")
    due = review.deadlines["inputs_due_at"]
    await review.skip_to(review.deadlines["call_opens_at"] + timedelta(minutes=1))
    await review.wait_for_phase("call_for_inputs")
    await review.skip_to(due + timedelta(hours=1))
    await review.wait_for_phase("consultation")

    late = await review.submit(focal_points["FRA"], documents.national_report("FRA"))
    await assert_problem(late, 409)

    extended = await review.extend(
        deadline="inputs_due_at",
        until=(due + 3 * DAY).isoformat(),
        reason="Translation",
        country="FRA",
    )
    assert extended.status == 200, await extended.text()
    on_time = await review.submit(focal_points["FRA"], documents.national_report("FRA"))
    assert on_time.status == 201, await on_time.text()
    assert (await on_time.json())["late"] is False
    others = await review.submit(focal_points["DEU"], documents.national_report("DEU"))
    await assert_problem(others, 409)
    rejected = await review.events("submission.rejected")
    assert [r["subject"] for r in rejected] == ["FRA", "DEU"]


async def test_global_extension_moves_the_deadline_and_rearms_reminders(
    start_review: Any, focal_points: dict[str, Any]
) -> None:
    review = await start_review(reminder_days=[2])
    due = review.deadlines["inputs_due_at"]
    await review.skip_to(review.deadlines["call_opens_at"] + timedelta(minutes=1))
    await review.wait_for_phase("call_for_inputs")
    await review.skip_to(due - 2 * DAY + timedelta(minutes=1))
    await eventually(lambda: _with_len(review.events("reminder.due"), 1))

    new_due = due + 7 * DAY
    extended = await review.extend(
        deadline="inputs_due_at", until=new_due.isoformat(), reason="Pandemic"
    )
    assert extended.status == 200, await extended.text()
    await review.skip_to(due + DAY)
    assert (await review.status())["phase"] == "call_for_inputs"

    await review.skip_to(new_due - 2 * DAY + timedelta(minutes=1))
    reminders = await eventually(lambda: _with_len(review.events("reminder.due"), 2))
    assert datetime.fromisoformat(reminders[1]["due_at"]) == new_due
    await review.skip_to(new_due + timedelta(minutes=1))
    await review.wait_for_phase("consultation")
    extension = (await review.events("deadline.extended"))[0]
    assert (
        extension["reason"] == "Pandemic" and datetime.fromisoformat(extension["previous"]) == due
    )
