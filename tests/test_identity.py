"""Who an account acts for: focal points in their regions, organisations as entities, accounts
that can be deactivated, audited, exported and erased."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from db.deliveries import WEBHOOK_EXPANSION_SQL, email_expansion_sql
from db.events import insert_event
from db.migrate import load_migrations, migrate
from db.tasks import delegate
from domain.events import ReviewEvent
from notifications.rules import rule_for
from reports.compile import compile_report
from tests import documents
from tests.reviews import eventually, review_body

pytestmark = pytest.mark.usefixtures("worker")

# The migration that gave focal points regions and stakeholders organisations.
IDENTITY_MIGRATION = 8


async def call(
    api: Any, method: str, path: str, account: Any, body: Any = None, expected: int = 200
) -> Any:
    response = await api.request(method, path, json=body, headers=account.headers)
    text = await response.text()
    assert response.status == expected, f"{method} {path}: {response.status} {text}"
    return json.loads(text) if text else None


class Created:
    """An account made through the API, with the token shown once."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.id = body["id"]
        self.headers = {"Authorization": f"Bearer {body['token']}"}


async def create(api: Any, creator: Any, expected: int = 201, **body: Any) -> Any:
    answer = await call(
        api,
        "POST",
        "/v1/actors",
        creator,
        {"name": f"Account {secrets.token_hex(3)}", **body},
        expected,
    )
    return Created(answer) if expected == 201 else answer


async def open_review(api: Any, secretariat: Any, **overrides: Any) -> str:
    """A review of the secretariat's region, taking submissions."""
    body = review_body(id=f"ece-id-{secrets.token_hex(4)}", **overrides)
    await call(api, "POST", "/v1/reviews", secretariat, body, 201)
    await call(api, "POST", f"/v1/reviews/{body['id']}/advance", secretariat, {})
    return str(body["id"])


async def submit(api: Any, review_id: str, account: Any, kind: str, content: Any) -> Any:
    response = await api.post(
        f"/v1/reviews/{review_id}/submissions",
        json={"kind": kind, "content": content},
        headers=account.headers,
    )
    return response.status, await response.json()


# ---- focal points act in their regions --------------------------------------------------------


async def test_a_focal_point_made_by_another_commission_does_not_act_in_ece(
    api: Any, make_account: Any, ece_secretariat: Any
) -> None:
    eclac = await make_account("secretariat", regions=("ECLAC",))
    # FRA is a non-regional member of ECLAC: its secretariat may make a focal point for it...
    made_by_eclac = await create(api, eclac, role="focal_point", country="FRA")
    assert made_by_eclac.body["regions"] == ["ECLAC"]
    # ...which acts for France in ECLAC's reviews, not in ECE's.
    france = await make_account("focal_point", country="FRA")
    assert france.actor.regions == ("ECE",)
    review_id = await open_review(api, ece_secretariat, member_states=["DEU", "FRA"])

    status, receipt = await submit(
        api, review_id, france, "national_report", documents.national_report("FRA")
    )
    assert status == 201, receipt
    for path in (
        f"/v1/reviews/{review_id}",
        f"/v1/reviews/{review_id}/submissions",
        f"/v1/submissions/{receipt['id']}",
    ):
        assert (await api.get(path, headers=made_by_eclac.headers)).status == 404, path
    listed = await call(api, "GET", "/v1/reviews?limit=100", made_by_eclac)
    assert review_id not in {item["id"] for item in listed["items"]}
    status, refused = await submit(
        api, review_id, made_by_eclac, "national_report", documents.national_report("FRA")
    )
    assert status == 404, refused
    read = await call(api, "GET", f"/v1/submissions/{receipt['id']}", france)
    assert read["version"] == 1 and read["submitted_by"] == france.id


async def test_a_secretariat_makes_focal_points_for_its_own_regions_only(
    api: Any, make_account: Any, admin: Any
) -> None:
    eclac = await make_account("secretariat", regions=("ECLAC",))
    refused = await api.post(
        "/v1/actors",
        json={"name": "X", "role": "focal_point", "country": "KEN"},
        headers=eclac.headers,
    )
    assert refused.status == 403
    # A State of two commissions: by default the admin's focal point acts in both...
    kazakhstan = await create(api, admin, role="focal_point", country="KAZ")
    assert kazakhstan.body["regions"] == ["ECE", "ESCAP"]
    # ...or in the regions named, each of which must count the State.
    ece_only = await create(api, admin, role="focal_point", country="KAZ", regions=["ECE"])
    assert ece_only.body["regions"] == ["ECE"]
    wrong = await api.post(
        "/v1/actors",
        json={"name": "X", "role": "focal_point", "country": "KAZ", "regions": ["ECA"]},
        headers=admin.headers,
    )
    assert wrong.status == 422
    assert [e["pointer"] for e in (await wrong.json())["errors"]] == ["/regions"]


async def _review_row(pool: asyncpg.Pool, creator: Any, region: str, states: list[str]) -> str:
    review_id = f"id-{secrets.token_hex(4)}"
    await pool.execute(
        """INSERT INTO reviews (id, region, title, member_states, timeline, reminder_days,
                                late_submissions, phase, deadlines, created_by)
           VALUES ($1, $2, 'T', $3, $5, '{14}', 'accept_flagged', 'call_for_inputs', $5, $4)""",
        review_id,
        region,
        states,
        creator.actor.id,
        # A full timeline, as every review has: other tests list this row through the API.
        review_body()["timeline"],
    )
    return review_id


async def _recipients(pool: asyncpg.Pool, review_id: str, event_type: str, **data: Any) -> set[Any]:
    """Who the rule for this event would email, expanded as the notification pipeline does, in a
    transaction rolled back after: nothing is left for the pipeline's sender."""
    event = ReviewEvent(str(uuid.uuid4()), review_id, event_type, datetime.now(UTC), None, data)
    rule = rule_for(event_type, data)
    assert rule is not None
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            await insert_event(conn, event)
            await conn.execute(
                email_expansion_sql(rule.recipients, rule.essential),
                review_id,
                data,
                None,
                uuid.UUID(event.id),
                rule.template,
            )
            rows = await conn.fetch(
                "SELECT recipient FROM deliveries WHERE event_id = $1", uuid.UUID(event.id)
            )
        finally:
            await transaction.rollback()
    return {row["recipient"] for row in rows}


async def test_notices_reach_focal_points_of_the_review_region_only(
    pool: asyncpg.Pool, make_account: Any, ece_secretariat: Any
) -> None:
    eclac_made = await make_account(
        "focal_point", country="FRA", regions=("ECLAC",), email="fra-eclac@example.org"
    )
    ece_made = await make_account("focal_point", country="FRA", email="fra-ece@example.org")
    review_id = await _review_row(pool, ece_secretariat, "ECE", ["FRA"])
    for event_type, data in (
        ("phase.changed", {"to": "call_for_inputs"}),
        ("reminder.due", {"countries": ["FRA"], "deadline": "inputs_due_at"}),
        ("deadline.extended", {"country": "FRA", "deadline": "inputs_due_at"}),
    ):
        recipients = await _recipients(pool, review_id, event_type, **data)
        assert ece_made.actor.id in recipients, event_type
        assert eclac_made.actor.id not in recipients, event_type


# ---- organisations are entities ---------------------------------------------------------------


async def test_same_named_organisations_of_two_secretariats_stay_apart(
    api: Any, make_account: Any, ece_secretariat: Any
) -> None:
    other_officer = await make_account("secretariat", regions=("ECE",))
    name = f"Migrant Rights Network {secrets.token_hex(3)}"
    first, second = [
        await create(
            api,
            creator,
            role="stakeholder",
            organisation=name,
            stakeholder_category="civil_society",
        )
        for creator in (ece_secretariat, other_officer)
    ]
    assert first.body["organisation_id"] != second.body["organisation_id"]
    colleague = await create(
        api, ece_secretariat, role="stakeholder", organisation_id=first.body["organisation_id"]
    )
    assert (colleague.body["organisation"], colleague.body["stakeholder_category"]) == (
        name,
        "civil_society",
    )
    invited = [first.id, second.id, colleague.id]
    review_id = await open_review(api, ece_secretariat, stakeholders=invited)

    receipts = {}
    for account in (first, second):
        status, receipts[account.id] = await submit(
            api, review_id, account, "stakeholder_input", documents.stakeholder_input(name)
        )
        assert status == 201, receipts[account.id]
        assert receipts[account.id]["version"] == 1  # neither replaced the other's
    assert receipts[first.id]["id"] != receipts[second.id]["id"]
    for me, other in ((first, second), (second, first)):
        mine = await call(api, "GET", f"/v1/reviews/{review_id}/submissions", me)
        assert [item["id"] for item in mine["items"]] == [receipts[me.id]["id"]]
        theirs = await api.get(f"/v1/submissions/{receipts[other.id]['id']}", headers=me.headers)
        assert theirs.status == 404
    # The colleague of one reads that organisation's input, not the namesake's.
    read = await call(api, "GET", f"/v1/submissions/{receipts[first.id]['id']}", colleague)
    assert read["submitted_by"] == first.id

    await call(api, "POST", f"/v1/reviews/{review_id}/advance", ece_secretariat, {})
    (task,) = (await call(api, "GET", f"/v1/tasks?review={review_id}", first))["items"]
    refused = await api.post(
        f"/v1/tasks/{task['id']}/delegate", json={"to": second.id}, headers=first.headers
    )
    assert refused.status == 422
    assert [e["pointer"] for e in (await refused.json())["errors"]] == ["/to"]


async def test_a_refused_input_is_announced_under_its_organisations_name(
    api: Any, pool: asyncpg.Pool, ece_secretariat: Any
) -> None:
    name = f"Diaspora Forum {secrets.token_hex(3)}"
    account = await create(
        api, ece_secretariat, role="stakeholder", organisation=name, stakeholder_category="academia"
    )
    review_id = await open_review(api, ece_secretariat, stakeholders=[account.id])
    await call(
        api, "POST", f"/v1/reviews/{review_id}/cancel", ece_secretariat, {"reason": "Postponed"}
    )
    status, _ = await submit(
        api, review_id, account, "stakeholder_input", documents.stakeholder_input(name)
    )
    assert status == 409
    data = await pool.fetchval(
        "SELECT data FROM review_events WHERE review_id = $1 AND type = 'submission.rejected'",
        review_id,
    )
    assert data["subject"] == account.body["organisation_id"]
    assert data["organisation"] == name


async def test_only_organisations_of_ones_regions_can_be_joined(
    api: Any, make_account: Any, ece_secretariat: Any
) -> None:
    eca = await make_account("secretariat", regions=("ECA",))
    ece_organisation = await create(
        api,
        ece_secretariat,
        role="stakeholder",
        organisation="Ours",
        stakeholder_category="academia",
    )
    answers = []
    for organisation_id in (ece_organisation.body["organisation_id"], str(uuid.uuid4())):
        response = await api.post(
            "/v1/actors",
            json={"name": "Joiner", "role": "stakeholder", "organisation_id": organisation_id},
            headers=eca.headers,
        )
        assert response.status == 422
        answers.append((await response.text()).replace(organisation_id, "<id>"))
    assert answers[0] == answers[1]  # a foreign organisation looks like a missing one
    other_category = await api.post(
        "/v1/actors",
        json={
            "name": "Joiner",
            "role": "stakeholder",
            "organisation_id": ece_organisation.body["organisation_id"],
            "stakeholder_category": "trade_unions",
        },
        headers=ece_secretariat.headers,
    )
    assert other_category.status == 422
    not_a_stakeholder = await api.post(
        "/v1/actors",
        json={
            "name": "Joiner",
            "role": "observer",
            "organisation_id": ece_organisation.body["organisation_id"],
        },
        headers=ece_secretariat.headers,
    )
    assert not_a_stakeholder.status == 422


async def test_an_input_is_counted_under_its_organisations_category(
    api: Any, pool: asyncpg.Pool, ece_secretariat: Any
) -> None:
    account = await create(
        api,
        ece_secretariat,
        role="stakeholder",
        organisation="Union",
        stakeholder_category="trade_unions",
    )
    review_id = await open_review(api, ece_secretariat, stakeholders=[account.id])
    claimed = documents.stakeholder_input("Union", "nhri")
    status, receipt = await submit(api, review_id, account, "stakeholder_input", claimed)
    assert status == 201, receipt
    async with pool.acquire() as conn:
        review = await conn.fetchrow("SELECT * FROM reviews WHERE id = $1", review_id)
        report = await compile_report(conn, review, 1, {})
    views = [o["stakeholder_views"] for c in report["clusters"] for o in c["objectives"]]
    categories = {entry["category"] for v in views for entry in v["by_category"]}
    assert categories == {"trade_unions"}
    quoted = [q for v in views for q in v["quotes"]]
    assert quoted and {(q["organisation"], q["category"]) for q in quoted} == {
        ("Union", "trade_unions")
    }

    # The consultation's synthesis quotes it under the organisation's name and category too.
    await call(api, "POST", f"/v1/reviews/{review_id}/advance", ece_secretariat, {})

    async def synthesis() -> Any:
        answer = await api.get(
            f"/v1/reviews/{review_id}/synthesis", headers=ece_secretariat.headers
        )
        return await answer.json() if answer.status == 200 else None

    page = await eventually(synthesis)
    objectives = [o for c in page["clusters"] for o in c["objectives"]]
    inputs = [i for o in objectives for i in o["stakeholder_inputs"]]
    assert inputs and {(i["organisation"], i["category"]) for i in inputs} == {
        ("Union", "trade_unions")
    }


# ---- deactivation and the accounts' audit trail -----------------------------------------------


async def _audit(pool: asyncpg.Pool, account_id: str) -> list[tuple[str, Any]]:
    rows = await pool.fetch(
        "SELECT type, actor_id, data FROM account_events WHERE account_id = $1 ORDER BY seq",
        uuid.UUID(account_id),
    )
    return [(row["type"], row["actor_id"]) for row in rows]


async def test_a_deactivated_account_signs_in_no_more_and_is_told_nothing(
    api: Any, pool: asyncpg.Pool, ece_secretariat: Any, admin: Any
) -> None:
    made = await create(
        api, ece_secretariat, role="focal_point", country="DEU", email="leaving@example.org"
    )
    assert (await api.get("/v1/actors/me", headers=made.headers)).status == 200
    review_id = await _review_row(pool, ece_secretariat, "ECE", ["DEU"])
    assert uuid.UUID(made.id) in await _recipients(
        pool, review_id, "phase.changed", to="call_for_inputs"
    )

    for _ in range(2):  # a second deactivation changes nothing
        response = await api.post(
            f"/v1/actors/{made.id}/deactivate", headers=ece_secretariat.headers
        )
        assert response.status == 204
    refused = await api.get("/v1/actors/me", headers=made.headers)
    assert refused.status == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert uuid.UUID(made.id) not in await _recipients(
        pool, review_id, "phase.changed", to="call_for_inputs"
    )
    # Even a token an admin issues afterwards does not bring it back.
    reissued = await call(api, "POST", f"/v1/actors/{made.id}/tokens", admin, {}, 201)
    headers = {"Authorization": f"Bearer {reissued['token']}"}
    assert (await api.get("/v1/actors/me", headers=headers)).status == 401
    assert await _audit(pool, made.id) == [
        ("account.created", ece_secretariat.actor.id),
        ("account.deactivated", ece_secretariat.actor.id),
        ("token.issued", admin.actor.id),
    ]


async def test_subscribing_and_deleting_webhooks_is_audited(
    api: Any, pool: asyncpg.Pool, make_account: Any, admin: Any
) -> None:
    owner = await make_account("secretariat", regions=("ECE",))
    url = "http://127.0.0.1:9/hooks/reviewflow?token=receivers-own-secret"
    body = {"url": url, "events": ["*"], "secret": secrets.token_hex(16), "regions": ["ECE"]}
    created = await call(api, "POST", "/v1/webhooks", owner, body, 201)
    await call(api, "DELETE", f"/v1/webhooks/{created['id']}", admin, None, 204)
    assert await _audit(pool, owner.id) == [
        ("webhook.subscribed", owner.actor.id),
        ("webhook.deleted", admin.actor.id),
    ]
    rows = await pool.fetch("SELECT data FROM account_events WHERE account_id = $1", owner.actor.id)
    for row in rows:
        assert row["data"]["webhook_id"] == created["id"]
        assert row["data"]["origin"] == "http://127.0.0.1:9"
        assert "receivers-own-secret" not in json.dumps(row["data"])
        assert body["secret"] not in json.dumps(row["data"])


async def test_a_deactivated_owners_webhooks_stop(
    api: Any, pool: asyncpg.Pool, make_account: Any, admin: Any
) -> None:
    owner = await make_account("secretariat", regions=("ECE",))
    review_id = await _review_row(pool, owner, "ECE", ["DEU"])
    # Stored as the API stores it (the URL policy is not what this test is about).
    hook = {"id": str(uuid.uuid4())}
    await pool.execute(
        """INSERT INTO webhooks (id, owner, url, events, secret, review_id)
           VALUES ($1, $2, 'https://hooks.example.org/reviewflow', '{*}', $3, $4)""",
        uuid.UUID(hook["id"]),
        owner.actor.id,
        secrets.token_hex(16),
        review_id,
    )

    async def deliveries() -> set[Any]:
        event_id = uuid.uuid4()
        async with pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                await insert_event(
                    conn,
                    ReviewEvent(
                        str(event_id), review_id, "phase.changed", datetime.now(UTC), None, {}
                    ),
                )
                await conn.execute(WEBHOOK_EXPANSION_SQL, review_id, event_id, "phase.changed")
                rows = await conn.fetch(
                    "SELECT recipient FROM deliveries WHERE event_id = $1", event_id
                )
            finally:
                await transaction.rollback()
        return {str(row["recipient"]) for row in rows}

    assert hook["id"] in await deliveries()
    await call(api, "POST", f"/v1/actors/{owner.id}/deactivate", admin, None, 204)
    assert hook["id"] not in await deliveries()


async def test_a_secretariat_revokes_but_does_not_mint_tokens_of_its_accounts(
    api: Any, pool: asyncpg.Pool, ece_secretariat: Any, admin: Any
) -> None:
    made = await create(api, ece_secretariat, role="observer")
    minted = await api.post(
        f"/v1/actors/{made.id}/tokens", json={}, headers=ece_secretariat.headers
    )
    assert minted.status == 403
    assert (await api.get("/v1/actors/me", headers=made.headers)).status == 200  # unchanged
    revoked = await api.delete(f"/v1/actors/{made.id}/tokens", headers=ece_secretariat.headers)
    assert revoked.status == 204
    assert (await api.get("/v1/actors/me", headers=made.headers)).status == 401
    issued = await call(api, "POST", f"/v1/actors/{made.id}/tokens", admin, {}, 201)
    own = await call(
        api,
        "PATCH",
        "/v1/actors/me",
        Created({"id": made.id, "token": issued["token"]}),
        {"notifications": "essential"},
    )
    assert own["notifications"] == "essential"
    assert await _audit(pool, made.id) == [
        ("account.created", ece_secretariat.actor.id),
        ("token.revoked", ece_secretariat.actor.id),
        ("token.issued", admin.actor.id),
        ("preferences.updated", uuid.UUID(made.id)),
    ]
    stored = await pool.fetch(
        "SELECT data::text AS data FROM account_events WHERE account_id = $1", uuid.UUID(made.id)
    )
    assert all(issued["token"] not in row["data"] for row in stored)


# ---- one task per colleague and review --------------------------------------------------------


async def _task_row(pool: asyncpg.Pool, review_id: str, invitee: Any) -> uuid.UUID:
    task_id = uuid.uuid4()
    await pool.execute(
        """INSERT INTO tasks (id, review_id, kind, invitee, assignee, organisation,
                              stakeholder_category, due_at)
           VALUES ($1, $2, 'consultation', $3, $3, $4, $5, now() + interval '1 day')""",
        task_id,
        review_id,
        invitee.actor.id,
        invitee.actor.organisation,
        invitee.actor.stakeholder_category,
    )
    return task_id


async def test_two_hand_overs_to_one_colleague_at_once_give_it_one_task(
    pool: asyncpg.Pool, make_account: Any, ece_secretariat: Any
) -> None:
    organisation = {
        "organisation": f"Network {secrets.token_hex(3)}",
        "stakeholder_category": "civil_society",
        "regions": ("ECE",),
    }
    first, second, colleague = [await make_account("stakeholder", **organisation) for _ in "abc"]
    assert first.actor.organisation_id == colleague.actor.organisation_id
    review_id = await _review_row(pool, ece_secretariat, "ECE", ["DEU"])
    tasks = [await _task_row(pool, review_id, invitee) for invitee in (first, second)]

    async with pool.acquire() as one, pool.acquire() as other:
        first_move = one.transaction()
        await first_move.start()
        assert await delegate(one, tasks[0], first.actor.id, colleague.actor.id, None)
        backend = await other.fetchval("SELECT pg_backend_pid()")

        async def second_move() -> Any:
            async with other.transaction():
                return await delegate(other, tasks[1], second.actor.id, colleague.actor.id, None)

        racing = asyncio.ensure_future(second_move())

        async def waits_or_done() -> bool:
            waiting = await pool.fetchval(
                "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", backend
            )
            return racing.done() or bool(waiting)

        await eventually(waits_or_done)
        await first_move.commit()
        assert await racing is None
    held = await pool.fetch(
        "SELECT id FROM tasks WHERE review_id = $1 AND assignee = $2", review_id, colleague.actor.id
    )
    assert [row["id"] for row in held] == [tasks[0]]


# ---- no existence oracles ---------------------------------------------------------------------


async def test_inviting_a_foreign_stakeholder_is_answered_like_an_unknown_id(
    api: Any, make_account: Any, ece_secretariat: Any
) -> None:
    foreign = await make_account(
        "stakeholder", organisation="Far", stakeholder_category="media", regions=("ECA",)
    )
    focal_point = await make_account("focal_point", country="DEU")
    answers = set()
    for invited in (foreign.id, focal_point.id, str(uuid.uuid4())):
        body = review_body(id=f"ece-id-{secrets.token_hex(4)}", stakeholders=[invited])
        response = await api.post("/v1/reviews", json=body, headers=ece_secretariat.headers)
        assert response.status == 422
        answers.add((await response.text()).replace(invited, "<id>"))
    assert len(answers) == 1, answers


async def test_handing_a_task_over_tells_nothing_of_accounts_not_ones_colleagues(
    pool: asyncpg.Pool, api: Any, make_account: Any, ece_secretariat: Any
) -> None:
    organisation = {
        "organisation": f"Group {secrets.token_hex(3)}",
        "stakeholder_category": "academia",
        "regions": ("ECE",),
    }
    holder, gone = [await make_account("stakeholder", **organisation) for _ in "ab"]
    await pool.execute("UPDATE actors SET disabled_at = now() WHERE id = $1", gone.actor.id)
    stranger = await make_account("observer")
    review_id = await _review_row(pool, ece_secretariat, "ECE", ["DEU"])
    task_id = await _task_row(pool, review_id, holder)
    answers = set()
    for to in (stranger.id, gone.id, str(uuid.uuid4())):
        response = await api.post(
            f"/v1/tasks/{task_id}/delegate", json={"to": to}, headers=holder.headers
        )
        assert response.status == 422
        answers.add((await response.text()).replace(to, "<id>"))
    assert len(answers) == 1, answers


# ---- consent and personal data ----------------------------------------------------------------


async def test_consultation_comments_without_consent_are_counted_never_quoted(
    pool: asyncpg.Pool, make_account: Any, ece_secretariat: Any
) -> None:
    review_id = await _review_row(pool, ece_secretariat, "ECE", ["DEU"])
    shy_name, open_name = f"Shy {secrets.token_hex(3)}", f"Open {secrets.token_hex(3)}"
    for name, consent in ((shy_name, None), (open_name, True)):
        account = await make_account(
            "stakeholder", organisation=name, stakeholder_category="academia", regions=("ECE",)
        )
        task_id = await _task_row(pool, review_id, account)
        response = documents.consultation_response()
        response["comments"][0]["comment"] = f"Words of {name}"
        response["general_comment"] = f"All in all, {name}"
        del response["consent_to_publish"]
        if consent is not None:
            response["consent_to_publish"] = consent
        await pool.execute(
            "UPDATE tasks SET status = 'completed', response = $2, completed_at = now()"
            " WHERE id = $1",
            task_id,
            response,
        )
    async with pool.acquire() as conn:
        review = await conn.fetchrow("SELECT * FROM reviews WHERE id = $1", review_id)
        report = await compile_report(conn, review, 1, {})
    objective_6 = next(o for c in report["clusters"] for o in c["objectives"] if o["number"] == 6)
    assert objective_6["consultation_comments"]["count"] == 2
    assert [q["organisation"] for q in objective_6["consultation_comments"]["quotes"]] == [
        open_name
    ]
    assert [g["organisation"] for g in report["consultation"]["general_comments"]] == [open_name]
    assert report["consultation"]["endorsements"]["endorse_with_reservations"] == 2
    assert shy_name not in json.dumps(report)


async def test_a_person_exports_their_data_and_an_admin_erases_it(
    api: Any, pool: asyncpg.Pool, ece_secretariat: Any, admin: Any
) -> None:
    name, email = f"Ana Person {secrets.token_hex(3)}", f"ana-{secrets.token_hex(3)}@example.org"
    response = await api.post(
        "/v1/actors",
        json={
            "name": name,
            "email": email,
            "role": "stakeholder",
            "organisation": "Ana's Network",
            "stakeholder_category": "migrants",
        },
        headers={**ece_secretariat.headers, "Idempotency-Key": f"ana-{secrets.token_hex(3)}"},
    )
    assert response.status == 201
    person = Created(await response.json())
    review_id = await open_review(api, ece_secretariat, stakeholders=[person.id])
    content = documents.stakeholder_input("Ana's Network", "migrants")
    content["contact"] = {"name": name, "email": email}
    status, receipt = await submit(api, review_id, person, "stakeholder_input", content)
    assert status == 201, receipt
    await call(api, "PATCH", "/v1/actors/me", person, {"language": "fr"})
    await insert_event(
        pool,
        ReviewEvent(
            str(uuid.uuid4()),
            review_id,
            "escalation.alert",
            datetime.now(UTC),
            None,
            {
                "share": 0.0,
                "required": 0.75,
                "missing": [{"actor_id": person.id, "name": name, "organisation": "Ana's Network"}],
            },
        ),
    )

    exported = await call(api, "GET", "/v1/actors/me/export", person)
    assert (exported["account"]["id"], exported["account"]["email"]) == (person.id, email)
    (version,) = exported["submissions"]
    assert (version["submission_id"], version["content"]) == (receipt["id"], content)
    assert [e["type"] for e in exported["account_events"]] == [
        "account.created",
        "preferences.updated",
    ]
    assert exported["tasks"] == [] and exported["webhooks"] == []

    refused = await api.post(f"/v1/actors/{person.id}/erase", headers=ece_secretariat.headers)
    assert refused.status == 403
    await call(api, "POST", f"/v1/actors/{person.id}/erase", admin, None, 204)

    assert (await api.get("/v1/actors/me", headers=person.headers)).status == 401
    stored = await pool.fetchrow(
        "SELECT name, email, disabled_at FROM actors WHERE id = $1", uuid.UUID(person.id)
    )
    assert stored["name"].startswith("Erased account") and stored["email"] is None
    assert stored["disabled_at"] is not None
    everywhere = await pool.fetchval(
        """SELECT string_agg(t, ' ') FROM (
               SELECT data::text AS t FROM review_events WHERE review_id = $1
               UNION ALL SELECT content::text FROM submission_versions WHERE submitted_by = $2
               UNION ALL SELECT response::text FROM idempotent_requests
                         WHERE response ->> 'id' = $2::text
               UNION ALL SELECT address FROM deliveries WHERE recipient = $2) texts""",
        review_id,
        uuid.UUID(person.id),
    )
    assert name not in everywhere and email not in everywhere
    assert stored["name"] in everywhere  # the rows stay, the person is pseudonymised
    assert "Ana's Network" in everywhere  # an organisation is not a person
    audit = await _audit(pool, person.id)
    assert [event for event, _ in audit] == [
        "account.created",
        "preferences.updated",
        "account.erased",
    ]


# ---- existing accounts when this release's migration runs ------------------------------------


async def test_existing_accounts_get_regions_and_organisations_without_merging(
    fresh_database: str,
) -> None:
    """Data as it stood before focal points had regions and organisations ids."""
    conn = await asyncpg.connect(fresh_database)
    try:
        await conn.execute(
            """CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
                   checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        earlier = [m for m in load_migrations() if m.version < IDENTITY_MIGRATION]
        for migration in earlier:
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                migration.checksum,
            )
        ids: dict[str, uuid.UUID] = {}

        async def actor(key: str, role: str, by: str | None = None, **fields: Any) -> None:
            ids[key] = uuid.uuid4()
            columns = ["id", "name", "role", "token_hash", "created_by", *fields]
            values = [ids[key], key, role, secrets.token_hex(8), ids[by] if by else None]
            await conn.execute(
                f"INSERT INTO actors ({', '.join(columns)})"
                f" VALUES ({', '.join(f'${i + 1}' for i in range(len(columns)))})",
                *values,
                *fields.values(),
            )

        await actor("ece", "secretariat", regions=["ECE"])
        await actor("eclac", "secretariat", regions=["ECLAC"])
        await actor("fra_by_eclac", "focal_point", "eclac", country="FRA")
        await actor("fra_by_ece", "focal_point", "ece", country="FRA")
        await actor("kaz_by_admin", "focal_point", country="KAZ")
        same = {"organisation": "Same Name", "stakeholder_category": "civil_society"}
        await actor("same_ece_1", "stakeholder", "ece", regions=["ECE"], **same)
        await actor("same_ece_2", "stakeholder", "ece", regions=["ECE"], **same)
        await actor("same_eclac", "stakeholder", "eclac", regions=["ECLAC"], **same)
        await conn.execute(
            """INSERT INTO reviews (id, region, title, member_states, timeline, reminder_days,
                                    late_submissions, phase, deadlines, created_by)
               VALUES ('r', 'ECE', 'T', '{FRA}', '{}', '{14}', 'reject', 'call_for_inputs',
                       '{}', $1)""",
            ids["ece"],
        )
        submission_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO submissions (id, review_id, kind, subject, latest_version)"
            " VALUES ($1, 'r', 'stakeholder_input', 'Same Name', 1)",
            submission_id,
        )
        await conn.execute(
            """INSERT INTO submission_versions (request_id, submission_id, version, status,
                                                content, fingerprint, submitted_by)
               VALUES ($1, $2, 1, 'accepted', '{}', 'x', $3)""",
            uuid.uuid4(),
            submission_id,
            ids["same_ece_2"],
        )

        await migrate(conn)

        rows = {
            row["name"]: row
            for row in await conn.fetch("SELECT name, regions, organisation_id FROM actors")
        }
        assert rows["fra_by_eclac"]["regions"] == ["ECLAC"]
        assert rows["fra_by_ece"]["regions"] == ["ECE"]
        assert rows["kaz_by_admin"]["regions"] == ["ECE", "ESCAP"]
        ece_organisation = rows["same_ece_1"]["organisation_id"]
        assert ece_organisation == rows["same_ece_2"]["organisation_id"]  # colleagues stay so
        assert rows["same_eclac"]["organisation_id"] not in (None, ece_organisation)
        subject = await conn.fetchval(
            "SELECT subject FROM submissions WHERE id = $1", submission_id
        )
        assert subject == str(ece_organisation)
    finally:
        await conn.close()
