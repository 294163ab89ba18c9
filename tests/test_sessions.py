"""Consultation meetings: reminders before each one as the review's workflow timers (on the
time-skipping server, with the ECE 2020 and ESCAP 2021 meetings' spacing), places and the
waiting list under concurrent registrations, bad input, and summaries with provenance."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from db import deliveries
from db.events import insert_event, lock_for_expansion
from domain import sessions as rules
from domain.events import EventType, ReviewEvent
from domain.sessions import Placement, Seat
from notifications.rules import emails_by_rule, rule_for
from reports.compile import compile_report
from reports.render import render_html, render_markdown
from tests.reviews import DAY
from tests.test_api_basics import assert_problem
from tests.test_web_tasks import consultation  # noqa: F401 (a fixture: a review in consultation)

HOUR = timedelta(hours=1)


async def stakeholder(make_account: Any, organisation: str) -> Any:
    return await make_account(
        "stakeholder",
        regions=["ECE"],
        stakeholder_category="civil_society",
        organisation=organisation,
        email=f"{uuid.uuid4().hex[:12]}@example.org",
    )


def meeting(starts_at: datetime, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "stakeholder_consultation",
        "title": "Multi-stakeholder consultation",
        "mode": "online",
        "link": "https://meet.example.org/gcm",
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + 3 * HOUR).isoformat(),
        "audience": "stakeholders",
        "agenda": [{"title": "Opening"}, {"title": "Objectives 1-3", "cluster": 1}],
    }
    body.update(overrides)
    return body


async def schedule(review: Any, body: dict[str, Any]) -> dict[str, Any]:
    created = await review.api.post(
        f"/v1/reviews/{review.id}/sessions", json=body, headers=review.secretariat.headers
    )
    assert created.status == 201, await created.text()
    return dict(await created.json())


async def register(api: Any, account: Any, session_id: str, **body: Any) -> Any:
    return await api.post(
        f"/v1/sessions/{session_id}/registrations", json=body, headers=account.headers
    )


async def reminded(review: Any, pool: Any) -> dict[str, Counter[str]]:
    """For each meeting, who its reminders mail (each reminder's deliveries expanded as the
    notification pipeline does, in a transaction rolled back)."""
    ids = await pool.fetch(
        "SELECT id FROM review_events WHERE review_id = $1 AND type = 'session.reminder_due'",
        review.id,
    )
    mailed: dict[str, Counter[str]] = {}
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            # Locked first, as the pipeline's expander (which may be at them too) holds them.
            for event in await lock_for_expansion(conn, [r["id"] for r in ids]):
                assert rule_for(event["type"], event["data"]) is not None
                for _ in range(2):  # expanded twice: each recipient once all the same
                    await deliveries.expand_emails(conn, emails_by_rule([event]))
                rows = await conn.fetch(
                    "SELECT recipient FROM deliveries WHERE event_id = $1", event["id"]
                )
                counted = mailed.setdefault(event["data"]["session_id"], Counter())
                counted.update(str(r["recipient"]) for r in rows)
        finally:
            await tx.rollback()
    return mailed


async def reminder_events(review: Any) -> Counter[tuple[str, int]]:
    return Counter(
        (e["session_id"], e["seconds_before"]) for e in await review.events("session.reminder_due")
    )


async def test_ece_2020_meetings_remind_those_with_a_place_once_before_each(
    start_review: Any, make_account: Any, pool: Any
) -> None:
    review = await start_review()
    now = await review.env.get_current_time()
    # 9 Nov 2020 the stakeholder consultation; 12-13 Nov the review meeting, four round tables.
    consultation_at = now + 2 * DAY
    meeting_at = consultation_at + 3 * DAY
    stakeholders_meeting = await schedule(review, meeting(consultation_at, capacity=1))
    review_meeting = await schedule(
        review,
        meeting(
            meeting_at,
            kind="review_meeting",
            title="Regional Review of the GCM",
            mode="hybrid",
            place="Palais des Nations, Geneva",
            ends_at=(meeting_at + DAY + 8 * HOUR).isoformat(),
            audience="both",
        ),
    )
    round_tables = [
        await schedule(
            review,
            meeting(
                meeting_at + (cluster - 1) // 2 * DAY + (cluster % 2 == 0) * 4 * HOUR,
                kind="round_table",
                title=f"Round table {cluster}",
                cluster=cluster,
                meeting_id=review_meeting["id"],
                audience="both",
            ),
        )
        for cluster in range(1, 5)
    ]
    ngo = await stakeholder(make_account, "Caritas Europa")
    union = await stakeholder(make_account, "ETUC")
    france = await make_account(
        "focal_point", country="FRA", email=f"fra-{uuid.uuid4().hex[:8]}@example.org"
    )
    first = await register(review.api, ngo, stakeholders_meeting["id"])
    assert (first.status, (await first.json())["status"]) == (201, "registered")
    second = await register(review.api, union, stakeholders_meeting["id"])
    assert (second.status, (await second.json())["status"]) == (201, "waitlisted")
    delegation = [{"name": "Head of delegation"}, {"name": "Adviser", "email": "a@example.org"}]
    for target in (review_meeting, round_tables[0]):
        registered = await register(review.api, france, target["id"], people=delegation)
        assert registered.status == 201, await registered.text()

    # Round table 4 moves a day later: its reminders move with it.
    moved_to = meeting_at + 2 * DAY
    moved = await review.api.patch(
        f"/v1/sessions/{round_tables[3]['id']}",
        json={"starts_at": moved_to.isoformat(), "ends_at": (moved_to + 2 * HOUR).isoformat()},
        headers=review.secretariat.headers,
    )
    assert moved.status == 200, await moved.text()
    await review.skip_to(meeting_at + DAY - 30 * 60 * timedelta(seconds=1))
    expected_before_move = {(round_tables[3]["id"], 86400)}
    assert not expected_before_move & set(await reminder_events(review))
    await review.skip_to(moved_to + HOUR)

    async def every_reminder() -> Counter[tuple[str, int]] | None:
        found = await reminder_events(review)
        return found if len(found) == 2 * 6 else None

    sent = await _eventually(every_reminder)
    assert set(sent.values()) == {1}  # each once
    assert {s for s, _ in sent} == {stakeholders_meeting["id"], review_meeting["id"]} | {
        t["id"] for t in round_tables
    }
    starts = {e["session_id"]: e["starts_at"] for e in await review.events("session.reminder_due")}
    assert starts[round_tables[3]["id"]] == moved_to.isoformat()

    mailed = await reminded(review, pool)
    assert mailed[stakeholders_meeting["id"]] == Counter({ngo.id: 2})  # not the waiting list
    assert mailed[review_meeting["id"]] == Counter({france.id: 2})
    assert mailed[round_tables[0]["id"]] == Counter({france.id: 2})
    assert round_tables[1]["id"] not in mailed or not mailed[round_tables[1]["id"]]

    # A follow-up meeting is scheduled, then cancelled: its timer goes; the review ends.
    follow_up = await schedule(review, meeting(moved_to + 7 * DAY))
    cancelled = await review.api.patch(
        f"/v1/sessions/{follow_up['id']}",
        json={"status": "cancelled", "reason": "Merged with the review meeting"},
        headers=review.secretariat.headers,
    )
    assert (await cancelled.json())["status"] == "cancelled"
    ended = await review.api.post(
        f"/v1/reviews/{review.id}/cancel",
        json={"reason": "End of test"},
        headers=review.secretariat.headers,
    )
    assert (await ended.json())["phase"] == "cancelled"
    await review.record_history("ece_2020_meetings")


async def _eventually(check: Any) -> Any:
    from tests.reviews import eventually

    return await eventually(check)


async def test_escap_2021_three_consultations_are_each_reminded(
    start_review: Any, make_account: Any, pool: Any
) -> None:
    review = await start_review()
    now = await review.env.get_current_time()
    # 28 Oct, 19 Nov and 9 Dec 2020: three weeks apart, give or take a day.
    starts = [now + 2 * DAY, now + 24 * DAY, now + 44 * DAY]
    ids = [(await schedule(review, meeting(at)))["id"] for at in starts]
    ngo = await stakeholder(make_account, "Migrant Forum in Asia")
    for session_id in ids:
        assert (await register(review.api, ngo, session_id)).status == 201
    cancelled_too = (await schedule(review, meeting(now + 30 * DAY)))["id"]
    assert (await register(review.api, ngo, cancelled_too)).status == 201
    cancel = await review.api.patch(
        f"/v1/sessions/{cancelled_too}",
        json={"status": "cancelled", "reason": "Merged with the next one"},
        headers=review.secretariat.headers,
    )
    assert cancel.status == 200 and (await cancel.json())["status"] == "cancelled"
    await review.skip_to(starts[-1] + HOUR)

    async def all_six() -> Counter[tuple[str, int]] | None:
        found = await reminder_events(review)
        return found if len(found) == 6 else None

    sent = await _eventually(all_six)
    assert set(sent) == {(s, before) for s in ids for before in (86400, 3600)}
    mailed = await reminded(review, pool)
    assert all(mailed[s] == Counter({ngo.id: 2}) for s in ids)


async def _expand_in_order(conn: Any, event_ids: list[uuid.UUID]) -> int:
    """Expand the events' mail in `event_ids`'s order, their locks taken first, in the
    connection's transaction: how many deliveries the events then have."""
    events = {e["id"]: e for e in await lock_for_expansion(conn, event_ids)}
    for event_id in event_ids:
        event = events[event_id]
        assert rule_for(event["type"], event["data"]) is not None
        await deliveries.expand_emails(conn, emails_by_rule([event]))
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE event_id = ANY($1::uuid[])", event_ids
        )
    )


async def _rolled_back(conn: Any, event_ids: list[uuid.UUID]) -> int:
    tx = conn.transaction()
    await tx.start()
    try:
        return await _expand_in_order(conn, event_ids)
    finally:
        await tx.rollback()


async def _waiting_for_a_lock(pool: Any, pid: int) -> bool:
    return bool(
        await pool.fetchval(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid
        )
    )


async def test_two_reminders_due_at_once_expanded_concurrently_do_not_deadlock(
    start_review: Any, make_account: Any, pool: Any
) -> None:
    """Two reminders due at the same moment, expanded by two transactions at once, each
    taking them in the other's order: the second waits for the first at the events' locks,
    before writing any delivery, rather than each waiting for a delivery the other wrote."""
    review = await start_review()
    now = await review.env.get_current_time()
    ngo = await stakeholder(make_account, "Asia Pacific Refugee Rights Network")
    reminders = []
    for _ in range(2):
        session = await schedule(review, meeting(now + 2 * DAY))
        assert (await register(review.api, ngo, session["id"])).status == 201
        reminder = ReviewEvent(
            id=str(uuid.uuid4()),
            review_id=review.id,
            type=EventType.SESSION_REMINDER_DUE,
            at=now,
            data={"session_id": session["id"], "starts_at": (now + 2 * DAY).isoformat()}
            | {"seconds_before": 86400},
        )
        await insert_event(pool, reminder)
        reminders.append(uuid.UUID(reminder.id))
    async with pool.acquire() as first, pool.acquire() as second:
        tx = first.transaction()
        await tx.start()
        try:
            await lock_for_expansion(first, reminders)  # as the pipeline's claim holds them
            later = asyncio.create_task(_rolled_back(second, reminders[::-1]))
            await _eventually(lambda: _waiting_for_a_lock(pool, second.get_server_pid()))
            assert await _expand_in_order(first, reminders) == 2  # one registrant, twice
        finally:
            await tx.rollback()
        assert await asyncio.wait_for(later, timeout=30) == 2


async def test_the_waiting_list_moves_up_in_order_and_places_are_never_given_twice(
    start_review: Any, make_account: Any, pool: Any
) -> None:
    review = await start_review()
    now = await review.env.get_current_time()
    session = await schedule(review, meeting(now + 5 * DAY, capacity=3, audience="both"))
    stakeholders = [await stakeholder(make_account, f"Organisation {n}") for n in range(8)]
    answers = await asyncio.gather(*(register(review.api, s, session["id"]) for s in stakeholders))
    placements = Counter([(await a.json())["status"] for a in answers])
    assert placements == Counter({"registered": 3, "waitlisted": 5})
    listed = await review.api.get(
        f"/v1/sessions/{session['id']}/registrations", headers=review.secretariat.headers
    )
    lists = await listed.json()
    assert sum(r["headcount"] for r in lists["registered"]) == 3
    waiting = [r["registered_by"] for r in lists["waiting_list"]]

    # Registering again updates the one registration; a place held does not grow past capacity.
    holder = next(s for s in stakeholders if s.id == lists["registered"][0]["registered_by"])
    grow = await register(review.api, holder, session["id"], people=[{"name": "A"}, {"name": "B"}])
    await assert_problem(grow, 409)

    gone = await review.api.delete(
        f"/v1/sessions/{session['id']}/registrations/mine", headers=holder.headers
    )
    assert gone.status == 204
    after = await (
        await review.api.get(
            f"/v1/sessions/{session['id']}/registrations", headers=review.secretariat.headers
        )
    ).json()
    assert waiting[0] in [r["registered_by"] for r in after["registered"]]
    assert [r["registered_by"] for r in after["waiting_list"]] == waiting[1:]
    last = next(s for s in stakeholders if s.id == waiting[-1])
    assert await waiting_place(review, last) == 4  # fifth in line, one ahead moved up
    promoted = await review.events("session.registered")
    assert [e["registrant"] for e in promoted if e.get("promoted")] == [waiting[0]]


async def waiting_place(review: Any, account: Any) -> int | None:
    """`account`'s place in the waiting list of the review's one meeting, as it sees it."""
    listed = await review.api.get(f"/v1/reviews/{review.id}/sessions", headers=account.headers)
    [session] = (await listed.json())["items"]
    place: int | None = session["mine"]["waiting_place"]
    return place


def test_the_first_on_the_waiting_list_who_fits_moves_up() -> None:
    seats = [
        Seat("a", 2, Placement.REGISTERED),
        Seat("big", 4, Placement.WAITLISTED),
        Seat("small", 1, Placement.WAITLISTED),
        Seat("pair", 2, Placement.WAITLISTED),
    ]
    assert rules.promoted(4, seats) == ["small"]
    assert rules.promoted(None, seats) == ["big", "small", "pair"]
    assert rules.placement_for(4, seats, 2) is Placement.REGISTERED
    assert rules.placement_for(4, seats, 3) is Placement.WAITLISTED


async def test_bad_meetings_are_refused_with_every_problem_named(
    start_review: Any, make_account: Any
) -> None:
    review = await start_review()
    now = await review.env.get_current_time()
    bad = meeting(
        now + DAY,
        kind="round_table",
        mode="hybrid",
        link="http://insecure.example.org",
        ends_at=(now + DAY - HOUR).isoformat(),
    )
    refused = await review.api.post(
        f"/v1/reviews/{review.id}/sessions", json=bad, headers=review.secretariat.headers
    )
    problem = await assert_problem(refused, 422)
    pointers = {p["pointer"] for p in problem["errors"]}
    assert pointers >= {"/ends_at", "/link", "/place", "/cluster", "/meeting_id"}, problem
    schema = await review.api.post(
        f"/v1/reviews/{review.id}/sessions",
        json={**meeting(now + DAY), "capacity": 0, "agenda": [{}], "audience": "everyone"},
        headers=review.secretariat.headers,
    )
    pointers = {p["pointer"] for p in (await assert_problem(schema, 422))["errors"]}
    assert pointers >= {"/capacity", "/agenda/0/title", "/audience"}
    ngo = await stakeholder(make_account, "Not the secretariat")
    forbidden = await review.api.post(
        f"/v1/reviews/{review.id}/sessions", json=meeting(now + DAY), headers=ngo.headers
    )
    await assert_problem(forbidden, 403)
    states_only = await schedule(review, meeting(now + DAY, audience="member_states"))
    await assert_problem(await register(review.api, ngo, states_only["id"]), 404)
    not_yet = await review.api.put(
        f"/v1/sessions/{states_only['id']}/summary",
        json={"kind": "chair_summary", "text": "Too early"},
        headers=review.secretariat.headers,
    )
    await assert_problem(not_yet, 409)


@pytest.mark.slow
async def test_summaries_of_meetings_held_carry_their_provenance(
    start_review: Any, make_account: Any, pool: Any
) -> None:
    from db.sessions import summaries_of
    from services.sessions import text_hash

    review = await start_review()
    now = await review.env.get_current_time()
    session = await schedule(review, meeting(now + 2 * DAY, audience="both"))
    france = await make_account(
        "focal_point", country="FRA", email=f"fra-{uuid.uuid4().hex[:8]}@example.org"
    )
    people = [{"name": "Ambassador"}, {"name": "Counsellor"}, {"name": "Expert"}]
    registration = await (await register(review.api, france, session["id"], people=people)).json()
    # Started by the wall clock the API checks against: moved back into the past by hand.
    await pool.execute(
        "UPDATE review_sessions SET starts_at = now() - interval '2 hours',"
        " ends_at = now() - interval '1 hour' WHERE id = $1::uuid",
        session["id"],
    )
    attended = await review.api.post(
        f"/v1/sessions/{session['id']}/attendance",
        json={
            "attendance": [
                {"registration_id": registration["id"], "attended": True, "people": [0, 2]}
            ]
        },
        headers=review.secretariat.headers,
    )
    assert attended.status == 200, await attended.text()
    text = "The participants called for regular pathways for migrant workers."
    written = await review.api.put(
        f"/v1/sessions/{session['id']}/summary",
        json={"kind": "rapporteur_summary", "text": text},
        headers=review.secretariat.headers,
    )
    assert written.status == 200, await written.text()
    assert (await written.json())["text_sha256"] == text_hash(text)
    [summary] = await summaries_of(pool, review.id)
    assert (summary["registered"], summary["attended"]) == (3, 2)
    assert summary["text_sha256"] == text_hash(text)
    assert summary["written_by_role"] == "secretariat"
    review_row = await pool.fetchrow("SELECT * FROM reviews WHERE id = $1", review.id)
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        first = await compile_report(conn, review_row, 1, {})
        again = await compile_report(conn, review_row, 1, {})
    assert first == again
    [held] = first["consultation_meetings"]
    assert held["summary"]["text_sha256"] == text_hash(text)
    assert (held["session_id"], held["clusters"]) == (session["id"], [1])
    assert text in render_markdown(first)


def test_the_report_shows_meetings_held_with_their_provenance() -> None:
    """Rendered from a report that has them; a report without them (compiled before meetings
    existed) renders as it did."""
    from tests.test_report_render import sample_report

    text = "Participants <asked> for regular pathways."
    report = sample_report()
    before = render_markdown(report)
    report["consultation_meetings"] = [
        {
            "session_id": "6f1c1d2e-0000-4000-8000-000000000001",
            "title": "Multi-stakeholder consultation",
            "session_kind": "stakeholder_consultation",
            "mode": "hybrid",
            "starts_at": "2020-11-12T09:00:00+00:00",
            "ends_at": "2020-11-12T12:00:00+00:00",
            "clusters": [1, 3],
            "registered": 40,
            "attended": 31,
            "summary": {
                "kind": "rapporteur_summary",
                "text": text,
                "written_by_role": "secretariat",
                "written_at": "2020-11-13T10:00:00+00:00",
                "text_sha256": "ab" * 32,
            },
        }
    ]
    markdown, html = render_markdown(report), render_html(report)
    assert "Consultation meetings" not in before
    for shown in (markdown, html):
        assert "Consultation meetings" in shown and "ab" * 32 in shown
        assert "Rapporteur's summary" in shown.replace("&#39;", "'")
    assert "&lt;asked&gt;" in html and "<asked>" not in html
    arabic = render_html(report, "ar")
    assert "Consultation meetings" not in arabic and "ab" * 32 in arabic


@pytest.mark.slow  # the review in consultation takes seconds to build
async def test_the_synthesis_answers_with_the_summaries_and_their_provenance(
    site: Any,
    consultation: dict[str, Any],  # noqa: F811 (the fixture imported above)
    ece_secretariat: Any,
    pool: Any,
) -> None:
    from services.sessions import text_hash

    review_id = consultation["review"]["id"]
    starts_at = datetime.now(UTC) + DAY
    created = await site.api.post(
        f"/v1/reviews/{review_id}/sessions",
        json=meeting(starts_at),
        headers=ece_secretariat.headers,
    )
    assert created.status == 201, await created.text()
    session_id = (await created.json())["id"]
    await pool.execute(  # held: moved back into the past by hand, as above
        "UPDATE review_sessions SET starts_at = now() - interval '2 hours',"
        " ends_at = now() - interval '1 hour' WHERE id = $1::uuid",
        session_id,
    )
    text = "Stakeholders asked for firewalls between services and immigration enforcement."
    written = await site.api.put(
        f"/v1/sessions/{session_id}/summary",
        json={"kind": "chair_summary", "text": text},
        headers=ece_secretariat.headers,
    )
    assert written.status == 200, await written.text()
    answer = await site.api.get(
        f"/v1/reviews/{review_id}/synthesis", headers=ece_secretariat.headers
    )
    assert answer.status == 200, await answer.text()
    [held] = (await answer.json())["consultation_meetings"]
    assert held["session_id"] == session_id
    assert held["summary"] == {
        "kind": "chair_summary",
        "text": text,
        "written_by_role": "secretariat",
        "written_at": held["summary"]["written_at"],
        "text_sha256": text_hash(text),
    }
