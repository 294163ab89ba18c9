"""Reminders sent now and announcements reach, by a real SMTP server, exactly the people they
name, and are recorded in the review's audit trail."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import i18n
from db.actors import update_preferences
from notifications.render import format_instant
from tests import documents
from tests.conftest import Account
from tests.reviews import review_body
from tests.test_api_basics import assert_problem
from tests.test_notifications import Env, inbox, notify_env, post  # noqa: F401


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    return str(body).replace("\r\n", "\n")


def _sent(env: Env, event_type: str) -> dict[str, EmailMessage]:
    """The messages of `event_type`, by address (one each)."""
    found: dict[str, EmailMessage] = {}
    for message in env.inbox.messages:
        if message["X-Reviewflow-Event"] == event_type:
            address = message["To"].addresses[0].addr_spec
            assert address not in found, f"{address} got {event_type} twice"
            found[address] = message
    return found


async def _stakeholder(env: Env, name: str, **fields: Any) -> Account:
    return await env.ece_stakeholder(name, "civil_society", f"{name.lower()}@example.org", **fields)


async def _call_with_some_missing(env: Env) -> tuple[Account, str]:
    """A review of DEU and FRA inviting A and B, in its call for inputs: DEU and B have sent
    theirs. Its secretariat and its API path."""
    secretariat = await env.account("secretariat", regions=("ECE",), email="sec@example.org")
    germany = await env.account("focal_point", country="DEU", email="deu@example.org")
    france = await env.account("focal_point", country="FRA", email="fra@example.org")
    await update_preferences(env.pool, france.actor.id, {"language": "fr"})
    await env.account("focal_point", country="KAZ", email="kaz@example.org")  # not a member
    a = await _stakeholder(env, "A")
    b = await _stakeholder(env, "B")
    await _stakeholder(env, "C")  # not invited
    body = review_body(member_states=["DEU", "FRA"], stakeholders=[a.id, b.id])
    review = await post(env, "/v1/reviews", secretariat, body, 201)
    url = f"/v1/reviews/{review['id']}"
    await post(env, f"{url}/advance", secretariat, {})
    report = {"kind": "national_report", "content": documents.national_report("DEU")}
    await post(env, f"{url}/submissions", germany, report, 201)
    written = {"kind": "stakeholder_input", "content": documents.stakeholder_input("B")}
    await post(env, f"{url}/submissions", b, written, 201)
    return secretariat, url


async def test_a_reminder_sent_now_mails_exactly_those_missing(
    notify_env: Env,  # noqa: F811
) -> None:
    env = notify_env
    secretariat, url = await _call_with_some_missing(env)
    sent = await post(env, f"{url}/reminders", secretariat, {})
    assert sent["member_states"] == ["FRA"]
    assert len(sent["stakeholders"]) == 1
    refused = await env.api.post(f"{url}/reminders", json={}, headers=secretariat.headers)
    await assert_problem(refused, 429)
    await env.settled()

    reminded = _sent(env, "reminder.sent_now")
    assert set(reminded) == {"fra@example.org", "a@example.org"}
    # France's focal point asked for French and reads it.
    assert "le rapport national de votre pays n'a pas encore été reçu" in _text(
        reminded["fra@example.org"]
    ).replace("\n", " ")
    assert str(reminded["fra@example.org"]["Subject"]).startswith("Rappel du secrétariat")
    assert "organisation's written input" in _text(reminded["a@example.org"])
    assert "Reminder from the secretariat" in str(reminded["a@example.org"]["Subject"])


async def test_announcements_reach_their_audience_with_the_text_as_written(
    notify_env: Env,  # noqa: F811
) -> None:
    env = notify_env
    secretariat, url = await _call_with_some_missing(env)
    text = "Dear colleagues,\n\nThe regional meeting is on 12 November <in Geneva>."
    counts = {}
    for audience in ("member_states_missing", "stakeholders_missing", "participants"):
        body = {"audience": audience, "subject": f"To {audience}", "body": text}
        answer = await post(env, f"{url}/announcements", secretariat, body)
        assert (answer["audience"], answer["subject"]) == (audience, f"To {audience}")
        counts[audience] = answer["count"]
    assert counts == {"member_states_missing": 1, "stakeholders_missing": 1, "participants": 4}
    await env.settled()

    by_subject: dict[str, set[str]] = {}
    for message in env.inbox.messages:
        if message["X-Reviewflow-Event"] == "announcement.sent":
            subject = " ".join(str(message["Subject"]).split()).split(" - ")[0]
            by_subject.setdefault(subject, set()).add(message["To"].addresses[0].addr_spec)
            assert text in _text(message)
    assert by_subject == {
        "To member_states_missing": {"fra@example.org"},
        "To stakeholders_missing": {"a@example.org"},
        "To participants": {
            "deu@example.org",
            "fra@example.org",
            "a@example.org",
            "b@example.org",
        },
    }
    recorded = await env.pool.fetch(
        "SELECT actor_id, data FROM review_events WHERE type = 'announcement.sent' ORDER BY seq"
    )
    assert [(str(r["actor_id"]), r["data"]["audience"], r["data"]["count"]) for r in recorded] == [
        (secretariat.id, "member_states_missing", 1),
        (secretariat.id, "stakeholders_missing", 1),
        (secretariat.id, "participants", 4),
    ]


async def test_an_announcement_is_bounded_and_checked(notify_env: Env) -> None:  # noqa: F811
    env = notify_env
    secretariat, url = await _call_with_some_missing(env)
    long = {"audience": "everyone", "subject": "x" * 201, "body": "y" * 10_001}
    problem = await assert_problem(
        await env.api.post(f"{url}/announcements", json=long, headers=secretariat.headers), 422
    )
    assert {e["pointer"] for e in problem["errors"]} == {"/audience", "/subject", "/body"}
    headers = {**secretariat.headers, "Idempotency-Key": "once"}
    body = {"audience": "participants", "subject": "Once", "body": "Only once."}
    first = await env.api.post(f"{url}/announcements", json=body, headers=headers)
    second = await env.api.post(f"{url}/announcements", json=body, headers=headers)
    assert await first.json() == await second.json()
    recorded = await env.pool.fetchval(
        "SELECT count(*) FROM review_events WHERE type = 'announcement.sent'"
    )
    assert recorded == 1


async def test_in_the_consultation_a_state_with_time_left_is_reminded_of_its_own_deadline(
    notify_env: Env,  # noqa: F811
) -> None:
    env = notify_env
    secretariat, url = await _call_with_some_missing(env)
    review = await (await env.api.get(url, headers=secretariat.headers)).json()
    inputs_due = datetime.fromisoformat(review["deadlines"]["inputs_due_at"])
    own = inputs_due + timedelta(days=3)
    extension = {
        "deadline": "inputs_due_at",
        "until": own.isoformat(),
        "reason": "Elections",
        "country": "FRA",
    }
    await post(env, f"{url}/extensions", secretariat, extension)
    await post(env, f"{url}/advance", secretariat, {})  # the consultation: tasks for A and B
    sent = await post(env, f"{url}/reminders", secretariat, {})
    assert sent["member_states"] == ["FRA"]
    assert len(sent["stakeholders"]) == 2
    await env.settled()

    reminded = _sent(env, "reminder.sent_now")
    assert set(reminded) == {"fra@example.org", "a@example.org", "b@example.org"}
    france = _text(reminded["fra@example.org"])
    with i18n.using("fr"):
        assert format_instant(own.isoformat()) in france
    assert "rapport national" in france and f"/reviews/{review['id']}" in france
    assert "consultation task is still open" in _text(reminded["b@example.org"])
    assert "/tasks" in _text(reminded["b@example.org"])
