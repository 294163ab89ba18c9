"""A review's timeline on the time-skipping server: months pass in seconds, timers fire on time.

Modelled on the ECE 2020 review: the call for inputs opened in September, inputs were due on
26 October and the multi-stakeholder consultation took place on 9 November.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests import documents
from tests.reviews import DAY, at_least, eventually
from tests.test_api_basics import assert_problem


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
    reminders = await eventually(lambda: at_least(review.events("reminder.due"), 2))
    assert [r["days_before"] for r in reminders] == [14, 7]
    assert all(r["countries"] == ["FRA", "KAZ", "USA"] for r in reminders)

    france = await review.submit(focal_points["FRA"], documents.national_report("FRA"))
    assert france.status == 201
    await review.extend_inputs(due + 5 * DAY, "Elections", country="KAZ")

    # Kazakhstan's own 7-day reminder (its 14-day one was already past when it was granted),
    # then the global 1-day reminder: only the USA now.
    await review.skip_to(due - DAY + timedelta(minutes=1))
    reminders = await eventually(lambda: at_least(review.events("reminder.due"), 4))
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
    status = await review.wait_for_phase("approval")
    # Kazakhstan submitted before its 1-day reminder was due: none went out.
    reminders = await review.events("reminder.due")
    assert len([r for r in reminders if r["deadline"] == "inputs_due_at"]) == 4
    assert status["progress"]["missing"] == []
    assert status["progress"]["late"] == 1
    phases = [e["to"] for e in await review.events("phase.changed")]
    assert phases == ["call_for_inputs", "consultation", "compilation", "approval"]

    cancelled = await review.api.post(
        f"/v1/reviews/{review.id}/cancel",
        json={"reason": "End of test"},
        headers=review.secretariat.headers,
    )
    assert (await cancelled.json())["phase"] == "cancelled"
    await review.record_history("ece_2020_timeline")


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

    await review.extend_inputs(due + 3 * DAY, "Translation", country="FRA")
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
    await eventually(lambda: at_least(review.events("reminder.due"), 1))

    new_due = due + 7 * DAY
    await review.extend_inputs(new_due, "Pandemic")
    await review.skip_to(due + DAY)
    assert (await review.status())["phase"] == "call_for_inputs"

    await review.skip_to(new_due - 2 * DAY + timedelta(minutes=1))
    reminders = await eventually(lambda: at_least(review.events("reminder.due"), 2))
    assert datetime.fromisoformat(reminders[1]["due_at"]) == new_due
    await review.skip_to(new_due + timedelta(minutes=1))
    await review.wait_for_phase("consultation")
    extension = (await review.events("deadline.extended"))[0]
    assert (
        extension["reason"] == "Pandemic" and datetime.fromisoformat(extension["previous"]) == due
    )
