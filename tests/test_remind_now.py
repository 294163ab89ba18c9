"""Reminding by hand on the time-skipping server: the review's workflow names who has not
acted, refuses a second reminder within the hour (by its own clock), and records each one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests import documents
from tests.reviews import DAY
from tests.test_api_basics import assert_problem


async def _remind(review: Any, key: str) -> Any:
    headers = {**review.secretariat.headers, "Idempotency-Key": key}
    return await review.api.post(f"/v1/reviews/{review.id}/reminders", json={}, headers=headers)


async def test_reminding_now_names_who_has_not_acted_once_an_hour(
    start_review: Any, focal_points: dict[str, Any]
) -> None:
    review = await start_review(stakeholders=[])
    scheduled = await _remind(review, "too-early")
    assert "scheduled" in (await assert_problem(scheduled, 409))["detail"]

    await review.skip_to(review.deadlines["call_opens_at"] + timedelta(minutes=1))
    await review.wait_for_phase("call_for_inputs")
    germany = await review.submit(focal_points["DEU"], documents.national_report("DEU"))
    assert germany.status == 201, await germany.text()
    own = review.deadlines["inputs_due_at"] + 5 * DAY
    await review.extend_inputs(own, "Elections", country="KAZ")

    first = await _remind(review, "first")
    assert first.status == 200, await first.text()
    sent = await first.json()
    assert sent["member_states"] == ["FRA", "KAZ", "USA"]
    assert sent["stakeholders"] == []
    at = datetime.fromisoformat(sent["at"])
    assert datetime.fromisoformat(sent["next_at"]) == at + timedelta(hours=1)

    # The same request sent again is answered as the first time, even within the hour.
    again = await _remind(review, "first")
    assert again.status == 200
    assert await again.json() == sent

    await review.skip_to(at + timedelta(minutes=20))
    refused = await _remind(review, "second")
    problem = await assert_problem(refused, 429)
    assert f"{at + timedelta(hours=1):%Y-%m-%d %H:%M} UTC" in problem["detail"]
    assert 0 < int(refused.headers["Retry-After"]) <= 40 * 60

    events = await review.pool.fetch(
        "SELECT actor_id, data FROM review_events WHERE review_id = $1 AND type = $2",
        review.id,
        "reminder.sent_now",
    )
    assert len(events) == 1  # the refused one left no trace
    assert str(events[0]["actor_id"]) == review.secretariat.id
    data = events[0]["data"]
    assert data["countries"] == ["FRA", "KAZ", "USA"]
    assert data["reminded"] == {"member_states": 3, "stakeholders": 0}
    assert data["own_deadlines"] == {"KAZ": own.isoformat()}

    await review.skip_to(at + timedelta(hours=1, minutes=1))
    later = await _remind(review, "second")
    assert later.status == 200, await later.text()
    assert (await later.json())["member_states"] == ["FRA", "KAZ", "USA"]

    # In the consultation only Kazakhstan, whose own deadline is still ahead, is reminded.
    await review.skip_to(review.deadlines["inputs_due_at"] + timedelta(minutes=1))
    await review.wait_for_phase("consultation")
    consultation = await _remind(review, "third")
    assert consultation.status == 200, await consultation.text()
    assert (await consultation.json())["member_states"] == ["KAZ"]
    data = (await review.events("reminder.sent_now"))[-1]
    assert (data["deadline"], data["countries"]) == ("consultation_due_at", ["KAZ"])

    cancelled = await review.api.post(
        f"/v1/reviews/{review.id}/cancel",
        json={"reason": "End of test"},
        headers=review.secretariat.headers,
    )
    assert (await cancelled.json())["phase"] == "cancelled"
    await review.record_history("ece_remind_now")
