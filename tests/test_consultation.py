"""The stakeholder consultation: synthesis, tasks, reminders, escalation, delegation, expiry."""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.client import Client

from db.actors import hash_token
from tests import documents
from tests.reviews import (
    DAY,
    BulkStakeholder,
    at_least,
    copy_stakeholders,
    eventually,
    review_body,
)
from tests.test_api_basics import assert_problem
from workflows.review import workflow_id

MINUTE = timedelta(minutes=1)


@pytest.fixture
async def consultees(make_account: Any) -> dict[str, Any]:
    """Four invited stakeholders of four organisations, and a colleague of the first."""
    tag = secrets.token_hex(3)
    accounts = {}
    for name, category in (
        ("a1", "civil_society"),
        ("b1", "academia"),
        ("c1", "trade_unions"),
        ("d1", "private_sector"),
    ):
        organisation = f"Organisation {name[0].upper()} {tag}"
        accounts[name] = await make_account(
            "stakeholder",
            organisation=organisation,
            stakeholder_category=category,
            regions=("ECE",),
        )
    accounts["a2"] = await make_account(
        "stakeholder",
        organisation=accounts["a1"].actor.organisation,
        stakeholder_category="civil_society",
        regions=("ECE",),
    )
    return accounts


async def my_task(api: Any, account: Any, review_id: str) -> dict[str, Any]:
    listed = await (await api.get(f"/v1/tasks?review={review_id}", headers=account.headers)).json()
    assert len(listed["items"]) == 1, listed
    return listed["items"][0]


async def answer(api: Any, account: Any, task_id: str, response: dict[str, Any]) -> Any:
    return await api.post(
        f"/v1/tasks/{task_id}/complete", json={"response": response}, headers=account.headers
    )


async def test_consultation_phase_end_to_end(
    start_review: Any, consultees: dict[str, Any], focal_points: dict[str, Any]
) -> None:
    invited = [consultees[n].id for n in ("a1", "b1", "c1", "d1")]
    review = await start_review(
        stakeholders=invited, reminder_days=[7, 1], escalation={"share": 0.75, "days": 3}
    )
    api = review.api
    due = review.deadlines["consultation_due_at"]

    await review.skip_to(review.deadlines["call_opens_at"] + MINUTE)
    await review.wait_for_phase("call_for_inputs")
    assert (
        await review.submit(focal_points["DEU"], documents.national_report("DEU"))
    ).status == 201
    b_input = documents.stakeholder_input(consultees["b1"].actor.organisation, category="academia")
    b_receipt = await (await review.submit(consultees["b1"], b_input)).json()

    await review.skip_to(review.deadlines["inputs_due_at"] + MINUTE)
    await review.wait_for_phase("consultation")

    synthesis = await (
        await api.get(f"/v1/reviews/{review.id}/synthesis", headers=consultees["b1"].headers)
    ).json()
    assert synthesis["sources"] == {"national_reports": 1, "stakeholder_inputs": 1}
    first_objective = synthesis["clusters"][3]["objectives"][0]
    assert first_objective["number"] == 1 and first_objective["statuses"] == {
        "in_progress": ["DEU"]
    }
    quoted = [
        s for c in synthesis["clusters"] for o in c["objectives"] for s in o["stakeholder_inputs"]
    ]
    assert quoted and all(
        (q["submission_id"], q["version"]) == (b_receipt["id"], 1) for q in quoted
    )
    assert synthesis["next_cursor"] is None
    assert [(r["submission_id"], r["recommendations"]) for r in synthesis["recommendations"]] == [
        (b_receipt["id"], b_input["recommendations"])
    ]
    # Read five parts at a time, the pages hold the same synthesis.
    paged: list[dict[str, Any]] = []
    cursor: str | None = "0"
    while cursor is not None:
        page = await (
            await api.get(
                f"/v1/reviews/{review.id}/synthesis?limit=5&cursor={cursor}",
                headers=consultees["b1"].headers,
            )
        ).json()
        assert page["content_hash"] == synthesis["content_hash"]
        paged += [o for c in page["clusters"] for o in c["objectives"]]
        paged += page["recommendations"]
        cursor = page["next_cursor"]
    everything = [o for c in synthesis["clusters"] for o in c["objectives"]]
    assert paged == everything + synthesis["recommendations"]

    tasks = {
        name: await my_task(api, consultees[name], review.id) for name in ("a1", "b1", "c1", "d1")
    }
    assert {t["status"] for t in tasks.values()} == {"open"}
    assert all(t["due_at"] == due.isoformat() for t in tasks.values())

    done = await answer(api, consultees["b1"], tasks["b1"]["id"], documents.consultation_response())
    assert done.status == 200 and (await done.json())["status"] == "completed"
    bad = documents.consultation_response()
    bad["endorsement"] = "maybe"
    bad["comments"][0]["objective"] = 24
    problem = await assert_problem(await answer(api, consultees["c1"], tasks["c1"]["id"], bad), 422)
    assert {e["pointer"] for e in problem["errors"]} == {
        "/response/endorsement",
        "/response/comments/0/objective",
    }

    handed = await api.post(
        f"/v1/tasks/{tasks['a1']['id']}/delegate",
        json={"to": consultees["a2"].id, "note": "Over to you"},
        headers=consultees["a1"].headers,
    )
    assert handed.status == 200, await handed.text()
    assert (await handed.json())["delegations"][0]["to"] == consultees["a2"].id
    await assert_problem(
        await api.get(f"/v1/tasks/{tasks['a1']['id']}", headers=consultees["a1"].headers), 404
    )
    # The colleague reads what the consultation is about, then answers.
    for_colleague = await api.get(
        f"/v1/reviews/{review.id}/synthesis", headers=consultees["a2"].headers
    )
    assert for_colleague.status == 200
    assert (
        await answer(api, consultees["a2"], tasks["a1"]["id"], documents.consultation_response())
    ).status == 200

    # Reminder 7 days before: only the two with open tasks.
    await review.skip_to(due - 7 * DAY + MINUTE)
    reminders = await _wait_events(review, "reminder.due", 1)
    assert sorted(reminders[0]["stakeholders"]) == sorted(
        [consultees["c1"].id, consultees["d1"].id]
    )

    # 3 days before: 2 of 4 answered, below 0.75: the secretariat is alerted with who is missing.
    await review.skip_to(due - 3 * DAY + MINUTE)
    alerts = await _wait_events(review, "escalation.alert", 1)
    assert alerts[0]["share"] == 0.5
    assert sorted(m["actor_id"] for m in alerts[0]["missing"]) == sorted(
        [consultees["c1"].id, consultees["d1"].id]
    )

    assert (
        await answer(api, consultees["c1"], tasks["c1"]["id"], documents.consultation_response())
    ).status == 200
    await review.skip_to(due - DAY + MINUTE)
    reminders = await _wait_events(review, "reminder.due", 2)
    assert reminders[1]["stakeholders"] == [consultees["d1"].id]

    await review.skip_to(due + MINUTE)
    status = await review.wait_for_phase("approval")
    # Met from 2 days before: no more alerts (the call for inputs had its own: 1 of 4 States).
    alerts = [
        e for e in await review.events("escalation.alert") if e["deadline"] == "consultation_due_at"
    ]
    assert len(alerts) == 1
    tasks_progress = status["progress"]["tasks"]
    assert (tasks_progress["completed"], tasks_progress["expired"], tasks_progress["open"]) == (
        3,
        1,
        0,
    )
    assert tasks_progress["response_rate"] == 0.75
    assert tasks_progress["by_category"]["private_sector"] == {
        "total": 1,
        "completed": 0,
        "response_rate": 0.0,
    }
    late = await answer(api, consultees["d1"], tasks["d1"]["id"], documents.consultation_response())
    await assert_problem(late, 409)
    assert (await my_task(api, consultees["d1"], review.id))["status"] == "expired"


async def _wait_events(review: Any, event_type: str, count: int) -> list[dict[str, Any]]:
    """The first `count` events of the type about the consultation deadline, once there."""

    async def about_consultation() -> list[dict[str, Any]]:
        found = await review.events(event_type)
        return [e for e in found if e["deadline"] == "consultation_due_at"]

    return await eventually(lambda: at_least(about_consultation(), count))


async def test_task_permissions_and_error_paths(
    api: Any, ece_secretariat: Any, make_account: Any, consultees: dict[str, Any], worker: Any
) -> None:
    invited = [consultees[n].id for n in ("a1", "b1")]
    created = await api.post(
        "/v1/reviews", json=review_body(stakeholders=invited), headers=ece_secretariat.headers
    )
    review_id = (await created.json())["id"]
    for _ in range(2):  # scheduled -> call for inputs -> consultation
        advanced = await api.post(
            f"/v1/reviews/{review_id}/advance", json={}, headers=ece_secretariat.headers
        )
        assert advanced.status == 200, await advanced.text()
    a_task = await my_task(api, consultees["a1"], review_id)
    url = f"/v1/tasks/{a_task['id']}"

    # Another stakeholder neither reads nor answers it, and learns nothing of it.
    for response in (
        await api.get(url, headers=consultees["b1"].headers),
        await answer(api, consultees["b1"], a_task["id"], documents.consultation_response()),
    ):
        body = await assert_problem(response, 404)
        assert "response" not in body and consultees["a1"].actor.organisation not in str(body)
    await assert_problem(
        await api.get("/v1/tasks/not-a-uuid", headers=consultees["a1"].headers), 404
    )
    # The secretariat reads it but does not answer for the stakeholder.
    assert (await api.get(url, headers=ece_secretariat.headers)).status == 200
    await assert_problem(
        await answer(api, ece_secretariat, a_task["id"], documents.consultation_response()), 403
    )

    outsider = consultees["b1"].id
    await assert_problem(
        await api.post(f"{url}/delegate", json={"to": outsider}, headers=consultees["a1"].headers),
        422,
    )
    await assert_problem(
        await api.post(
            f"{url}/delegate", json={"to": consultees["a1"].id}, headers=consultees["a1"].headers
        ),
        422,
    )
    await assert_problem(
        await api.post(f"{url}/delegate", json={"to": "x"}, headers=consultees["a1"].headers), 422
    )

    # Every problem at once: of the body and of the response it carries.
    bad = {"response": {**documents.consultation_response(), "endorsement": "maybe"}, "extra": 1}
    both = await assert_problem(
        await api.post(f"{url}/complete", json=bad, headers=consultees["a1"].headers), 422
    )
    assert {e["pointer"] for e in both["errors"]} == {"/extra", "/response/endorsement"}

    response = documents.consultation_response()
    assert (await answer(api, consultees["a1"], a_task["id"], response)).status == 200
    assert (await answer(api, consultees["a1"], a_task["id"], response)).status == 200  # same again
    other = {**response, "general_comment": "Changed my mind."}
    await assert_problem(await answer(api, consultees["a1"], a_task["id"], other), 409)
    await assert_problem(
        await api.post(
            f"{url}/delegate", json={"to": consultees["a2"].id}, headers=consultees["a1"].headers
        ),
        409,
    )
    await assert_problem(
        await api.get("/v1/tasks?status=done", headers=consultees["a1"].headers), 422
    )

    observer = await make_account("observer")
    # Observers read published reviews only: one in consultation is not there for them.
    await assert_problem(
        await api.get(f"/v1/reviews/{review_id}/synthesis", headers=observer.headers), 404
    )
    events = await (
        await api.get(f"/v1/reviews/{review_id}/events", headers=ece_secretariat.headers)
    ).json()
    types = [e["type"] for e in events["items"]]
    assert "consultation.opened" in types and types.count("task.completed") == 1


async def test_consultation_for_10000_stakeholders(
    api: Any, ece_secretariat: Any, pool: asyncpg.Pool, temporal_client: Client, worker: Any
) -> None:
    organisation = f"Network {secrets.token_hex(3)}"
    ids = [uuid.uuid4() for _ in range(10_000)]
    await copy_stakeholders(
        pool,
        [
            BulkStakeholder(
                i,
                f"Member {n}",
                None,
                f"{organisation} {n}",
                "civil_society",
                hash_token(secrets.token_hex(16)),
            )
            for n, i in enumerate(ids)
        ],
    )
    body = review_body(stakeholders=[str(i) for i in ids])
    created = await api.post("/v1/reviews", json=body, headers=ece_secretariat.headers)
    assert created.status == 201, await created.text()
    assert (
        await api.post(
            f"/v1/reviews/{body['id']}/advance", json={}, headers=ece_secretariat.headers
        )
    ).status == 200

    started = time.perf_counter()
    opened = await api.post(
        f"/v1/reviews/{body['id']}/advance", json={}, headers=ece_secretariat.headers
    )
    elapsed = time.perf_counter() - started
    assert opened.status == 200, await opened.text()
    assert (await opened.json())["progress"]["tasks"]["open"] == 10_000
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM tasks WHERE review_id = $1 AND invitee = ANY($2::uuid[]) AND status = 'open'",
            body["id"],
            ids,
        )
        == 10_000
    )
    history = await temporal_client.get_workflow_handle(workflow_id(body["id"])).fetch_history()
    assert len(history.events) < 200
    print(f"consultation for 10,000 opened in {elapsed:.2f}s; history {len(history.events)} events")


def test_the_synthesis_is_stored_in_parts_of_bounded_size() -> None:
    """Whatever the number of large inputs, no stored value grows with it, and each input's
    recommendations are stored once, not under each of its objectives."""
    from domain.canonical import canonical_json
    from reports.synthesis_builder import Organisation, Source, build_synthesis

    def largest_part_and_total(inputs: int) -> tuple[int, int]:
        sources = [
            Source(str(uuid.uuid4()), 1, "national_report", "DEU", documents.national_report())
        ]
        for n in range(inputs):
            content = documents.stakeholder_input(f"Org {n:05}")
            content["objectives"] = list(range(1, 24))
            content["input"] = "x" * 4_000
            content["recommendations"] = ["r" * 3_000] * 10
            organisation = Organisation(f"Org {n:05}", "civil_society")
            sources.append(
                Source(
                    str(uuid.uuid4()),
                    1,
                    "stakeholder_input",
                    str(uuid.uuid4()),
                    content,
                    organisation,
                )
            )
        synthesis = build_synthesis("ece-2030", sources)
        sizes = [len(canonical_json(part)) for _, part in synthesis.parts]
        return max([*sizes, len(canonical_json(synthesis.head))]), sum(sizes)

    small, _ = largest_part_and_total(20)
    large, large_total = largest_part_and_total(400)
    assert large <= 200_000 and small <= 200_000
    # 400 inputs of 30 kB of recommendations each, on 23 objectives: about 12 MB once,
    # where copying them into each objective would make about 23 times as much.
    assert large_total < 400 * (30_000 + 23 * 2_000)
