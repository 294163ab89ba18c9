"""Reviews and submissions through the HTTP API, on the dev server with the real worker."""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests import documents
from tests.reviews import review_body
from tests.test_api_basics import assert_problem

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
async def germany(make_account: Any) -> Any:
    return await make_account("focal_point", country="DEU", email="gcm@auswaertiges-amt.example")


async def create_review(api: Any, secretariat: Any, **overrides: Any) -> dict[str, Any]:
    response = await api.post(
        "/v1/reviews", json=review_body(**overrides), headers=secretariat.headers
    )
    body = await response.json(content_type=None)
    assert response.status == 201, body
    return body


async def open_call(api: Any, secretariat: Any, review_id: str) -> None:
    response = await api.post(
        f"/v1/reviews/{review_id}/advance", json={"reason": "open now"}, headers=secretariat.headers
    )
    body = await response.json(content_type=None)
    assert response.status == 200, body
    assert body["phase"] == "call_for_inputs"


async def submit(
    api: Any, account: Any, review_id: str, content: dict[str, Any], key: str | None = None
) -> Any:
    headers = {**account.headers, **({"Idempotency-Key": key} if key else {})}
    kind = "national_report" if account.actor.role == "focal_point" else "stakeholder_input"
    return await api.post(
        f"/v1/reviews/{review_id}/submissions",
        json={"kind": kind, "content": content},
        headers=headers,
    )


async def test_create_review_defaults_to_the_regions_members(
    api: Any, ece_secretariat: Any
) -> None:
    body = review_body()
    del body["member_states"]
    response = await api.post("/v1/reviews", json=body, headers=ece_secretariat.headers)
    created = await response.json()
    assert response.status == 201, created
    assert created["phase"] == "scheduled"
    assert len(created["member_states"]) == 56
    assert created["progress"]["member_states_total"] == 56
    assert created["late_submissions"] == "accept_flagged"
    assert created["reminder_days"] == [14, 7, 1]


async def test_create_review_names_every_problem(api: Any, ece_secretariat: Any) -> None:
    now = datetime.now(UTC)
    body = review_body(
        timeline={
            "call_opens_at": (now - timedelta(days=1)).isoformat(),
            "inputs_due_at": "2030-01-01T00:00:00",
            "consultation_due_at": "not a date",
            "report_due_at": (now + timedelta(days=9)).isoformat(),
        },
        member_states=["DEU", "ZZZ"],
    )
    problem = await assert_problem(
        await api.post("/v1/reviews", json=body, headers=ece_secretariat.headers), 422
    )
    pointers = {e["pointer"] for e in problem["errors"]}
    assert pointers == {
        "/timeline/call_opens_at",
        "/timeline/inputs_due_at",
        "/timeline/consultation_due_at",
        "/member_states/1",
    }


async def test_deadlines_out_of_order_are_422(api: Any, ece_secretariat: Any) -> None:
    now = datetime.now(UTC)
    instants = [now + timedelta(days=d) for d in (1, 30, 20, 40)]
    names = ["call_opens_at", "inputs_due_at", "consultation_due_at", "report_due_at"]
    body = review_body(timeline={n: i.isoformat() for n, i in zip(names, instants, strict=True)})
    problem = await assert_problem(
        await api.post("/v1/reviews", json=body, headers=ece_secretariat.headers), 422
    )
    assert [e["pointer"] for e in problem["errors"]] == ["/timeline/consultation_due_at"]


async def test_secretariat_creates_only_in_its_region(api: Any, ece_secretariat: Any) -> None:
    body = review_body(region="ECA", member_states=["KEN"])
    await assert_problem(
        await api.post("/v1/reviews", json=body, headers=ece_secretariat.headers), 403
    )


async def test_review_id_is_never_run_twice(api: Any, ece_secretariat: Any) -> None:
    created = await create_review(api, ece_secretariat)
    again = await api.post(
        "/v1/reviews", json=review_body(id=created["id"]), headers=ece_secretariat.headers
    )
    await assert_problem(again, 409)


async def test_review_ids_belong_to_their_region(
    api: Any, ece_secretariat: Any, make_account: Any
) -> None:
    """Another region's secretariat can neither take an ECE id nor learn whether one exists:
    ids begin with their region's code, and generated ones are too many to guess."""
    escap = await make_account("secretariat", regions=("ESCAP",))
    existing = await create_review(api, ece_secretariat)
    for wanted in (existing["id"], "ece-2030"):
        body = review_body(id=wanted, region="ESCAP", member_states=["JPN"])
        problem = await assert_problem(
            await api.post("/v1/reviews", json=body, headers=escap.headers), 422
        )
        assert [e["pointer"] for e in problem["errors"]] == ["/id"], problem
    generated = review_body(region="ESCAP", member_states=["JPN"])
    del generated["id"]
    created = await api.post("/v1/reviews", json=generated, headers=escap.headers)
    assert created.status == 201, await created.text()
    assert re.fullmatch(r"escap-[0-9a-f]{16}", (await created.json())["id"])


async def test_call_for_inputs_end_to_end(
    api: Any, ece_secretariat: Any, germany: Any, make_account: Any, pool: Any
) -> None:
    review = await create_review(api, ece_secretariat)
    review_id = review["id"]

    early = await submit(api, germany, review_id, documents.national_report("DEU"))
    await assert_problem(early, 409)

    await open_call(api, ece_secretariat, review_id)
    key = f"deu-{secrets.token_hex(4)}"
    first = await submit(api, germany, review_id, documents.national_report("DEU"), key=key)
    receipt = await first.json()
    assert first.status == 201, receipt
    assert (receipt["version"], receipt["late"], receipt["status"]) == (1, False, "accepted")

    retried = await submit(api, germany, review_id, documents.national_report("DEU"), key=key)
    assert retried.status == 201
    assert (await retried.json())["id"] == receipt["id"]
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM submission_versions WHERE submission_id = $1::uuid AND status = 'accepted'",
            receipt["id"],
        )
        == 1
    )

    reused = await submit(
        api, germany, review_id, documents.national_report("DEU", next_steps="Other text."), key=key
    )
    await assert_problem(reused, 422)

    second = await submit(
        api, germany, review_id, documents.national_report("DEU", next_steps="Revised.")
    )
    assert (await second.json())["version"] == 2

    read = await (
        await api.get(f"/v1/submissions/{receipt['id']}?version=1", headers=germany.headers)
    ).json()
    assert read["version"] == 1 and [v["version"] for v in read["versions"]] == [1, 2]
    latest = await (
        await api.get(f"/v1/submissions/{receipt['id']}", headers=germany.headers)
    ).json()
    assert latest["content"]["next_steps"] == "Revised."

    status = await (
        await api.get(f"/v1/reviews/{review_id}", headers=ece_secretariat.headers)
    ).json()
    assert status["progress"]["national_reports"] == 1
    assert status["progress"]["missing"] == ["FRA", "KAZ", "USA"]

    france = await make_account("focal_point", country="FRA")
    other_reader = await api.get(f"/v1/submissions/{receipt['id']}", headers=france.headers)
    await assert_problem(other_reader, 404)


async def test_three_mistakes_give_three_pointers(
    api: Any, ece_secretariat: Any, germany: Any
) -> None:
    review = await create_review(api, ece_secretariat)
    await open_call(api, ece_secretariat, review["id"])
    report = documents.national_report("DEU")
    report["contact"]["email"] = "not an email"
    report["objectives"][0]["status"] = "finished"
    report["favourite_colour"] = "blue"
    problem = await assert_problem(await submit(api, germany, review["id"], report), 422)
    assert {e["pointer"] for e in problem["errors"]} == {
        "/content/contact/email",
        "/content/objectives/0/status",
        "/content/favourite_colour",
    }


async def test_wrong_country_and_out_of_scope_are_403(
    api: Any, ece_secretariat: Any, germany: Any, make_account: Any
) -> None:
    review = await create_review(api, ece_secretariat)
    await open_call(api, ece_secretariat, review["id"])
    await assert_problem(
        await submit(api, germany, review["id"], documents.national_report("FRA")), 403
    )
    spain = await make_account("focal_point", country="ESP")
    await assert_problem(
        await submit(api, spain, review["id"], documents.national_report("ESP")), 404
    )


async def test_stakeholder_submits_for_its_own_organisation(
    api: Any, ece_secretariat: Any, make_account: Any
) -> None:
    ngo = await make_account(
        "stakeholder",
        organisation="Migrant Rights Europe",
        stakeholder_category="civil_society",
        regions=("ECE",),
    )
    review = await create_review(api, ece_secretariat)
    await open_call(api, ece_secretariat, review["id"])
    own = await submit(api, ngo, review["id"], documents.stakeholder_input("Migrant Rights Europe"))
    assert own.status == 201, await own.text()
    other = await submit(api, ngo, review["id"], documents.stakeholder_input("Somebody Else"))
    await assert_problem(other, 403)


async def test_who_is_invited_is_read_by_those_who_run_the_review_only(
    api: Any, ece_secretariat: Any, admin: Any, germany: Any, make_account: Any
) -> None:
    ngo = await make_account(
        "stakeholder",
        organisation=f"Invited {secrets.token_hex(3)}",
        stakeholder_category="civil_society",
        regions=("ECE",),
    )
    invited = await create_review(api, ece_secretariat, stakeholders=[str(ngo.actor.id)])
    open_to_all = await create_review(api, ece_secretariat)
    seen = {}
    for name, viewer in (("secretariat", ece_secretariat), ("admin", admin), ("ngo", ngo)):
        for review in (invited, open_to_all):
            response = await api.get(f"/v1/reviews/{review['id']}", headers=viewer.headers)
            assert response.status == 200, await response.text()
            seen[name, review["id"]] = (await response.json())["stakeholders"]
    response = await api.get(f"/v1/reviews/{invited['id']}", headers=germany.headers)
    assert (await response.json())["stakeholders"] == "invited"
    for runner in ("secretariat", "admin"):
        assert seen[runner, invited["id"]] == [str(ngo.actor.id)]
        assert seen[runner, open_to_all["id"]] == "open"
    assert seen["ngo", invited["id"]] == "invited"
    assert seen["ngo", open_to_all["id"]] == "open"


async def test_extensions_advance_cancel_and_the_audit_trail(
    api: Any, ece_secretariat: Any, germany: Any
) -> None:
    review = await create_review(api, ece_secretariat)
    review_id = review["id"]
    url = f"/v1/reviews/{review_id}"
    due = datetime.fromisoformat(review["deadlines"]["inputs_due_at"])

    past = {"deadline": "inputs_due_at", "until": "2001-01-01T00:00:00Z", "reason": "x"}
    await assert_problem(
        await api.post(f"{url}/extensions", json=past, headers=ece_secretariat.headers), 422
    )
    earlier = {
        "deadline": "inputs_due_at",
        "until": (due - timedelta(days=1)).isoformat(),
        "reason": "x",
    }
    await assert_problem(
        await api.post(f"{url}/extensions", json=earlier, headers=ece_secretariat.headers), 422
    )
    forbidden = await api.post(
        f"{url}/extensions",
        json={**earlier, "until": (due + timedelta(days=2)).isoformat()},
        headers=germany.headers,
    )
    await assert_problem(forbidden, 403)  # DEU sees the review but does not run it
    extension = {
        "deadline": "inputs_due_at",
        "until": (due + timedelta(days=3)).isoformat(),
        "reason": "Translation",
        "country": "KAZ",
    }
    response = await api.post(f"{url}/extensions", json=extension, headers=ece_secretariat.headers)
    body = await response.json()
    assert response.status == 200, body
    assert datetime.fromisoformat(body["country_extensions"]["KAZ"]) == due + timedelta(days=3)

    await open_call(api, ece_secretariat, review_id)
    advanced = await (
        await api.post(f"{url}/advance", json={}, headers=ece_secretariat.headers)
    ).json()
    assert advanced["phase"] == "consultation"
    cancelled = await api.post(
        f"{url}/cancel", json={"reason": "Postponed"}, headers=ece_secretariat.headers
    )
    assert (await cancelled.json())["phase"] == "cancelled"
    again = await api.post(
        f"{url}/cancel", json={"reason": "Again"}, headers=ece_secretariat.headers
    )
    await assert_problem(again, 409)

    events = await (await api.get(f"{url}/events", headers=ece_secretariat.headers)).json()
    types = [e["type"] for e in events["items"]]
    assert types[0] == "review.created"
    assert "deadline.extended" in types and types[-1] == "review.cancelled"
    assert [e["seq"] for e in events["items"]] == sorted(e["seq"] for e in events["items"])
    page = await (
        await api.get(
            f"{url}/events?after={events['items'][0]['seq']}&limit=1",
            headers=ece_secretariat.headers,
        )
    ).json()
    assert page["items"][0]["seq"] == events["items"][1]["seq"]
    await assert_problem(await api.get(f"{url}/events", headers=germany.headers), 403)


async def test_listing_filters_and_paginates(api: Any, make_account: Any) -> None:
    secretariat = await make_account("secretariat", regions=("ESCWA",))
    ids = [
        (
            await create_review(
                api,
                secretariat,
                region="ESCWA",
                member_states=["JOR"],
                id=f"escwa-{secrets.token_hex(4)}",
            )
        )["id"]
        for _ in range(3)
    ]
    seen: list[str] = []
    cursor = None
    while True:
        query = "/v1/reviews?region=ESCWA&phase=scheduled&limit=2" + (
            f"&cursor={cursor}" if cursor else ""
        )
        page = await (await api.get(query, headers=secretariat.headers)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    await assert_problem(await api.get("/v1/reviews?phase=done", headers=secretariat.headers), 422)


async def test_deadline_day_rush_64_clients(
    api: Any, ece_secretariat: Any, make_account: Any, pool: Any
) -> None:
    review = await create_review(api, ece_secretariat, member_states=["DEU"])
    await open_call(api, ece_secretariat, review["id"])
    ngos = [
        await make_account(
            "stakeholder",
            organisation=f"Org {i}",
            stakeholder_category="academia",
            regions=("ECE",),
        )
        for i in range(64)
    ]
    responses = await asyncio.gather(
        *(
            submit(api, ngo, review["id"], documents.stakeholder_input(f"Org {i}"), key=f"rush-{i}")
            for i, ngo in enumerate(ngos)
        )
    )
    statuses = [r.status for r in responses]
    assert statuses == [201] * 64, [await r.text() for r in responses if r.status != 201][:3]
    stored = await pool.fetchval(
        "SELECT count(*) FROM submissions WHERE review_id = $1 AND latest_version = 1", review["id"]
    )
    assert stored == 64


async def test_one_organisations_versions_sent_at_once_are_numbered_without_gaps(
    api: Any, ece_secretariat: Any, make_account: Any, pool: Any
) -> None:
    review = await create_review(api, ece_secretariat, member_states=["DEU"])
    await open_call(api, ece_secretariat, review["id"])
    ngo = await make_account(
        "stakeholder", organisation="Org", stakeholder_category="academia", regions=("ECE",)
    )
    # Six versions at once, two of them sent twice under the same key: coalesced into one or
    # several batches, each request is one version, and the one sent twice gets one answer.
    keys = [f"at-once-{i}" for i in range(6)] + ["at-once-0", "at-once-1"]
    responses = await asyncio.gather(
        *(submit(api, ngo, review["id"], documents.stakeholder_input("Org"), key=k) for k in keys)
    )
    assert [r.status for r in responses] == [201] * 8
    receipts = [await r.json() for r in responses]
    assert sorted(r["version"] for r in receipts[:6]) == [1, 2, 3, 4, 5, 6]
    assert receipts[6]["version"] == receipts[0]["version"]
    assert receipts[7]["version"] == receipts[1]["version"]
    told = await pool.fetch(
        "SELECT (data ->> 'version')::int AS version FROM review_events"
        " WHERE review_id = $1 AND type = 'submission.accepted' ORDER BY 1",
        review["id"],
    )
    assert [row["version"] for row in told] == [1, 2, 3, 4, 5, 6]


async def test_a_malformed_review_id_is_answered_with_examples_of_the_expected_form(
    api: Any, ece_secretariat: Any
) -> None:
    body = review_body(id="ECE Review 2030!")
    problem = await assert_problem(
        await api.post("/v1/reviews", json=body, headers=ece_secretariat.headers), 422
    )
    assert problem["errors"] == [
        {"pointer": "/id", "message": "must be written like ece-2020 or escap-2021-consultation"}
    ]
