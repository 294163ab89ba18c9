"""Approval of the report by several parties in turn: the commission's lead, then the
regional UN Network on Migration's co-chairs."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import asyncpg

from domain.approval import StepStatus, chain, decision_refusal, pending_approver
from domain.refusal import RefusalKind
from domain.review import Approver
from tests.reviews import DAY, at_least, eventually, review_body
from tests.test_api_basics import assert_problem

LEAD, CO_CHAIR, OTHER_CO_CHAIR = (Approver(str(uuid.uuid4()), t) for t in ("A", "B", "C"))
APPROVERS = [LEAD, CO_CHAIR, OTHER_CO_CHAIR]


# ---- the rules ------------------------------------------------------------------------------


def test_the_pending_approver_is_the_first_who_has_not_approved() -> None:
    assert pending_approver(APPROVERS, []) == LEAD
    assert pending_approver(APPROVERS, [LEAD.actor_id]) == CO_CHAIR
    assert pending_approver(APPROVERS, [a.actor_id for a in APPROVERS]) is None


def test_only_the_pending_approver_decides() -> None:
    assert decision_refusal(APPROVERS, [], LEAD.actor_id) is None
    out_of_turn = decision_refusal(APPROVERS, [], CO_CHAIR.actor_id)
    assert out_of_turn is not None and out_of_turn.kind is RefusalKind.WRONG_PHASE
    again = decision_refusal(APPROVERS, [LEAD.actor_id], LEAD.actor_id)
    assert again is not None and again.kind is RefusalKind.WRONG_PHASE
    stranger = decision_refusal(APPROVERS, [], str(uuid.uuid4()))
    assert stranger is not None and stranger.kind is RefusalKind.NOT_IN_SCOPE
    # Without approvers the secretariat decides, as it always did.
    assert decision_refusal(None, [], str(uuid.uuid4())) is None


def test_the_chain_shows_each_step() -> None:
    steps = chain(APPROVERS, [LEAD.actor_id], awaiting=True)
    assert [s.status for s in steps] == [
        StepStatus.APPROVED,
        StepStatus.PENDING,
        StepStatus.WAITING,
    ]
    before = chain(APPROVERS, [], awaiting=False)
    assert {s.status for s in before} == {StepStatus.WAITING}


# ---- creation -------------------------------------------------------------------------------


async def test_creation_names_every_problem_with_the_approvers(
    api: Any, ece_secretariat: Any, make_account: Any, pool: asyncpg.Pool
) -> None:
    asia = await make_account("approver", regions=("ESCAP",))
    focal_point = await make_account("focal_point", country="DEU")
    gone = await make_account("approver", regions=("ECE",))
    await pool.execute("UPDATE actors SET disabled_at = now() WHERE id = $1", gone.actor.id)
    ok = await make_account("approver", regions=("ECE",))
    body = review_body(
        approvers=[
            {"actor_id": str(ok.actor.id), "title": "Co-chair"},
            {"actor_id": str(asia.actor.id), "title": "Co-chair"},
            {"actor_id": str(focal_point.actor.id), "title": "Lead"},
            {"actor_id": str(uuid.uuid4()), "title": "Lead"},
            {"actor_id": str(gone.actor.id), "title": "Lead"},
            {"actor_id": str(ok.actor.id), "title": "Again"},
        ]
    )
    response = await api.post("/v1/reviews", json=body, headers=ece_secretariat.headers)
    problem = await assert_problem(response, 422)
    pointers = sorted(e["pointer"] for e in problem["errors"])
    assert pointers == [f"/approvers/{i}/actor_id" for i in (1, 2, 3, 4, 5)]
    assert await pool.fetchval("SELECT count(*) FROM reviews WHERE id = $1", body["id"]) == 0
    too_many = review_body(
        approvers=[{"actor_id": str(uuid.uuid4()), "title": "T"} for _ in range(11)]
    )
    response = await api.post("/v1/reviews", json=too_many, headers=ece_secretariat.headers)
    await assert_problem(response, 422)


# ---- the chain on the time-skipping server ---------------------------------------------------


async def test_three_approvers_in_turn_with_reminders_changes_and_escalation(
    start_review: Any, make_account: Any, pool: asyncpg.Pool
) -> None:
    lead = await make_account("secretariat", regions=("ECE",), name="Commission lead")
    co_chair = await make_account("approver", regions=("ECE",), name="IOM co-chair")
    other = await make_account("approver", regions=("ECE",), name="UNDP co-chair")
    accounts = [lead, co_chair, other]
    ids = [str(a.actor.id) for a in accounts]
    chain_of_three = [
        {"actor_id": ids[0], "title": "Executive Secretary, UNECE"},
        {"actor_id": ids[1], "title": "Co-chair, UN Network on Migration"},
        {"actor_id": ids[2], "title": "Co-chair, UN Network on Migration"},
    ]
    # Created with the lead alone; the co-chairs are named before the approval begins.
    review = await start_review(approvers=chain_of_three[:1])
    api, url = review.api, f"/v1/reviews/{review.id}"

    async def change_chain(approvers: list[dict[str, str]]) -> Any:
        body = {"approvers": approvers}
        return await api.patch(url, json=body, headers=review.secretariat.headers)

    stranger = {"actor_id": str(uuid.uuid4()), "title": "Nobody"}
    problem = await assert_problem(await change_chain([*chain_of_three, stranger]), 422)
    assert [e["pointer"] for e in problem["errors"]] == ["/approvers/3/actor_id"]
    changed = await change_chain(chain_of_three)
    assert changed.status == 200, await changed.text()
    recorded = await eventually(lambda: at_least(review.events("review.approvers_changed"), 1))
    assert recorded[0]["approvers"] == ids

    async def post(path: str, account: Any, body: dict[str, Any] | None = None) -> Any:
        return await api.post(f"{url}/{path}", json=body or {}, headers=account.headers)

    async def chain_now(account: Any = review.secretariat) -> dict[str, Any]:
        response = await api.get(f"{url}/approvals", headers=account.headers)
        assert response.status == 200, await response.text()
        return dict(await response.json())

    for _ in range(3):
        assert (await post("advance", review.secretariat)).status == 200
    await review.wait_for_phase("approval")
    pending = await eventually(lambda: at_least(review.events("report.approval_pending"), 1))
    assert (pending[0]["approver"], pending[0]["step"], pending[0]["of"]) == (ids[0], 1, 3)
    # Once the approval has begun, the chain stays as it is.
    await assert_problem(await change_chain(chain_of_three[1:]), 409)

    # Out of turn: refused, and nothing changes.
    await assert_problem(await post("report/approve", co_chair), 409)
    await assert_problem(await post("report/approve", review.secretariat), 403)
    assert await review.events("report.approval_given") == []
    assert [s["status"] for s in (await chain_now(other))["approvers"]] == [
        "pending",
        "waiting",
        "waiting",
    ]

    # The lead is reminded, and only the lead.
    due = review.deadlines["report_due_at"]
    await review.skip_to(due - 7 * DAY + timedelta(minutes=1))
    reminders = await eventually(lambda: at_least(review.events("reminder.due"), 2))
    assert all(r["approvers"] == [ids[0]] for r in reminders)

    given = await post("report/approve", lead, {"note": "For the commission"})
    assert given.status == 200, await given.text()
    assert (await given.json())["status"] == "draft"
    steps = (await chain_now(co_chair))["approvers"]
    assert [s["status"] for s in steps] == ["approved", "pending", "waiting"]
    assert steps[0]["note"] == "For the commission" and steps[0]["decided_at"]

    # The next reminder goes to the co-chair whose turn it is; the overdue alert names it.
    await review.skip_to(due + timedelta(minutes=1))
    reminders = await eventually(lambda: at_least(review.events("reminder.due"), 3))
    assert reminders[2]["approvers"] == [ids[1]]
    alerts = await eventually(lambda: at_least(review.events("escalation.alert"), 1))
    assert alerts[-1]["approver"] == ids[1] and alerts[-1]["deadline"] == "report_due_at"

    changed = await post("report/request-changes", co_chair, {"note": "Add the data chapter"})
    assert changed.status == 200, await changed.text()
    assert (await changed.json())["version"] == 2
    requested = await review.events("report.changes_requested")
    assert (requested[0]["step"], requested[0]["version"]) == (2, 1)

    # Version 2 needs every approval again, from the first; published only after the last.
    for number, account in enumerate(accounts, start=1):
        if number < 3:
            await assert_problem(await post("report/approve", accounts[number]), 409)
        answer = await post("report/approve", account)
        assert answer.status == 200, await answer.text()
        expected = "published" if number == 3 else "draft"
        assert (await answer.json())["status"] == expected
        if number < 3:
            assert (await review.status())["phase"] == "approval"
    await review.wait_for_phase("published")
    given_v2 = [e for e in await review.events("report.approval_given") if e["version"] == 2]
    assert [e["step"] for e in given_v2] == [1, 2, 3]
    assert len(await review.events("report.published")) == 1
    # The lead sending its approval again is the same decision, not another.
    assert (await post("report/approve", lead)).status == 409
    await review.record_history("approval_chain")
