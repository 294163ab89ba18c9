"""Notifications against a real SMTP server (aiosmtpd) and a real HTTP receiver.

Each test runs its own database and workers, so the messages it counts are its own.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, message_from_string
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiosmtpd.controller import Controller
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

from activities.notify import WEBHOOKS_PER_HOST, NotificationActivities
from api.app import create_app
from api.webhooks import WEBHOOKS_PER_OWNER
from config.settings import Settings, SmtpSettings, load_settings
from db.events import insert_event
from db.migrate import migrate_dsn
from db.pool import create_pool
from db.webhooks import insert_webhook
from domain.events import ReviewEvent
from notifications.addresses import recipient
from notifications.mail import SendFailure, SmtpMailer, mailer_for
from notifications.webhooks import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    service_policy,
    verify,
)
from tests import documents
from tests.conftest import LOOPBACK_RECEIVERS, Account, create_account
from tests.processes import free_port
from tests.reviews import eventually, extension_halfway, review_body
from worker import running_workers
from workflows.models import DeliveryRound
from workflows.notifications import notifications_workflow_id

HOSTILE_TITLE = 'GCM review <script>alert("x")</script> & "friends"'


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # Decoded as UTF-8: an SMTPUTF8 message carries UTF-8 headers.
        content = envelope.content.decode()
        self.messages.append(message_from_string(content, policy=default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def kinds_by_recipient(self) -> dict[str, Counter[str]]:
        found: dict[str, Counter[str]] = {}
        for message in self.messages:
            address = message["To"].addresses[0].addr_spec
            found.setdefault(address, Counter())[str(message["X-Reviewflow-Event"])] += 1
        return found


@contextmanager
def smtp_server(handler: Inbox, *, smtputf8: bool = False) -> Iterator[int]:
    """A real SMTP server (aiosmtpd) on a loopback port, with or without SMTPUTF8."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    with smtp_server(handler, smtputf8=True) as port:
        yield handler, port


@dataclass
class Receiver:
    """A webhook receiver: answers each path with the statuses scripted for it, then 200."""

    script: dict[str, list[int]] = field(default_factory=dict)
    received: list[tuple[str, dict[str, str], bytes, int]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        statuses = self.script.get(request.path, [])
        status = statuses.pop(0) if statuses else 200
        self.received.append((request.path, dict(request.headers), body, status))
        return web.Response(status=status)

    def at(self, path: str) -> list[tuple[dict[str, str], bytes, int]]:
        return [(h, b, s) for p, h, b, s in self.received if p == path]


@dataclass
class Env:
    api: TestClient[Any, Any]
    pool: asyncpg.Pool
    settings: Settings
    inbox: Inbox
    client: Client

    async def account(self, role: str, **fields: Any) -> Account:
        return await create_account(self.pool, role, **fields)

    async def ece_stakeholder(
        self, organisation: str, category: str, email: str, **fields: Any
    ) -> Account:
        """A stakeholder of the ECE region, with a mail address."""
        return await self.account(
            "stakeholder",
            organisation=organisation,
            stakeholder_category=category,
            regions=("ECE",),
            email=email,
            **fields,
        )

    async def settled(self) -> None:
        """Every review's creation recorded (its workflow records it after the API has
        answered), every event expanded and every delivery decided (sent or failed for good)."""

        async def done() -> bool:
            pending = await self.pool.fetchval(
                """SELECT (SELECT count(*) FROM reviews r WHERE NOT EXISTS (
                               SELECT 1 FROM review_events e
                               WHERE e.review_id = r.id AND e.type = 'review.created'))
                        + (SELECT count(*) FROM review_events WHERE expanded_at IS NULL)
                        + (SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending'))"""
            )
            return pending == 0

        await eventually(done, deadline_s=30)


async def start_env(
    database: str, client: Client, data_dir: Path, smtp_port: int | None, **env: str
) -> tuple[asyncpg.Pool, Settings]:
    await migrate_dsn(database)
    pool = await create_pool(database)
    values = {
        "REVIEWFLOW_DATA_DIR": str(data_dir),
        "TEMPORAL_TASK_QUEUE": f"notify-{secrets.token_hex(3)}",
        "REVIEWFLOW_NOTIFY_RATE": "0",
        "REVIEWFLOW_WEBHOOK_ALLOW": LOOPBACK_RECEIVERS,
        **env,
    }
    if smtp_port is not None:
        values.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port), "SMTP_STARTTLS": "0"})
    return pool, load_settings(values)


@pytest.fixture
async def notify_env(
    fresh_database: str, temporal_client: Client, inbox: tuple[Inbox, int], tmp_path: Path
) -> AsyncIterator[Env]:
    handler, port = inbox
    pool, settings = await start_env(fresh_database, temporal_client, tmp_path, port)
    app = create_app(settings, pool=pool, temporal=temporal_client)
    try:
        async with (
            TestClient(TestServer(app)) as api,
            running_workers(temporal_client, pool, settings),
        ):
            yield Env(api, pool, settings, handler, temporal_client)
    finally:
        await stop_pipeline(temporal_client, settings)
        await pool.close()


async def stop_pipeline(client: Client, settings: Settings) -> None:
    handle = client.get_workflow_handle(notifications_workflow_id(settings.task_queue))
    await handle.terminate("test finished")


async def inject(pool: asyncpg.Pool, review_id: str, event_type: str, **data: Any) -> None:
    """An event as the review workflow records it, for rules whose trigger takes days."""
    event = ReviewEvent(str(uuid.uuid4()), review_id, event_type, datetime.now(UTC), None, data)
    await insert_event(pool, event)


async def inject_inputs_reminder(
    pool: asyncpg.Pool,
    review_id: str,
    due_at: str,
    days_before: int,
    countries: list[str],
    stakeholders: list[str],
) -> None:
    """A reminder of the inputs deadline, `days_before` it, to those named."""
    await inject(
        pool,
        review_id,
        "reminder.due",
        deadline="inputs_due_at",
        due_at=due_at,
        days_before=days_before,
        countries=countries,
        stakeholders=stakeholders,
    )


async def post(
    env: Env, path: str, account: Account, body: dict[str, Any], expected: int = 200
) -> Any:
    response = await env.api.post(path, json=body, headers=account.headers)
    answer = await response.json(content_type=None)
    assert response.status == expected, answer
    return answer


async def test_each_rule_tells_exactly_the_right_people(notify_env: Env) -> None:
    env = notify_env
    secretariat = await env.account(
        "secretariat", regions=("ECE",), email="secretariat@unece.example"
    )
    germany = await env.account("focal_point", country="DEU", email="deu@example.org")
    await env.account("focal_point", country="FRA", email="fra@example.org")
    await env.account("focal_point", country="KAZ", email="kaz@example.org")  # not in this review
    ngo_a = await env.ece_stakeholder("A", "civil_society", "a@example.org")
    ngo_b = await env.ece_stakeholder("B", "academia", "b@example.org", notifications="essential")
    await env.ece_stakeholder("C", "media", "c@example.org")  # not invited
    await env.account("observer", email="observer@example.org")

    body = review_body(
        title=HOSTILE_TITLE, member_states=["DEU", "FRA"], stakeholders=[ngo_a.id, ngo_b.id]
    )
    review = await post(env, "/v1/reviews", secretariat, body, 201)
    url = f"/v1/reviews/{review['id']}"
    await post(env, f"{url}/advance", secretariat, {})  # the call for inputs opens
    submission = {"kind": "national_report", "content": documents.national_report("DEU")}
    receipt = await post(env, f"{url}/submissions", germany, submission, 201)
    b_input = {
        "kind": "stakeholder_input",
        "content": documents.stakeholder_input("B", category="academia"),
    }
    await post(env, f"{url}/submissions", ngo_b, b_input, 201)
    await post(env, f"{url}/extensions", secretariat, extension_halfway(review["deadlines"], "FRA"))
    await inject_inputs_reminder(
        env.pool, review["id"], review["deadlines"]["inputs_due_at"], 7, ["FRA"], [ngo_a.id]
    )
    await post(env, f"{url}/advance", secretariat, {})  # the consultation opens: tasks for A and B
    await inject(
        env.pool,
        review["id"],
        "escalation.alert",
        deadline="consultation_due_at",
        days_before=3,
        share=0.0,
        required=0.5,
        missing=[{"actor_id": ngo_a.id, "name": "A person", "organisation": "A"}],
    )
    await post(env, f"{url}/cancel", secretariat, {"reason": "Postponed <b>indefinitely</b>"})
    await env.settled()

    assert env.inbox.kinds_by_recipient() == {
        "deu@example.org": Counter(
            {
                "review.invited": 1,
                "call.opened": 1,
                "submission.accepted": 1,
                "review.cancelled": 1,
            }
        ),
        "fra@example.org": Counter(
            {
                "review.invited": 1,
                "call.opened": 1,
                "deadline.extended": 1,
                "reminder.due": 1,
                "review.cancelled": 1,
            }
        ),
        "a@example.org": Counter(
            {
                "review.invited": 1,
                "call.opened": 1,
                "reminder.due": 1,
                "consultation.opened": 1,
                "review.cancelled": 1,
            }
        ),
        # B asked for essential mail only: no receipt for its input.
        "b@example.org": Counter(
            {
                "review.invited": 1,
                "call.opened": 1,
                "consultation.opened": 1,
                "review.cancelled": 1,
            }
        ),
        "secretariat@unece.example": Counter({"escalation.alert": 1}),
    }
    ids = [str(m["Message-ID"]) for m in env.inbox.messages]
    assert len(ids) == len(set(ids))

    receipt_mail = next(
        m for m in env.inbox.messages if m["X-Reviewflow-Event"] == "submission.accepted"
    )
    text = receipt_mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = receipt_mail.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert receipt["id"] in text and HOSTILE_TITLE in text
    assert "<script>" not in html and "&lt;script&gt;" in html
    cancelled = next(m for m in env.inbox.messages if m["X-Reviewflow-Event"] == "review.cancelled")
    assert "<b>indefinitely</b>" not in cancelled.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]


async def test_a_message_resent_after_a_crash_keeps_its_message_id(notify_env: Env) -> None:
    env = notify_env
    secretariat = await env.account("secretariat", regions=("ECE",))
    await env.account("focal_point", country="DEU", email="deu@example.org")
    review = await post(env, "/v1/reviews", secretariat, review_body(member_states=["DEU"]), 201)
    await post(env, f"/v1/reviews/{review['id']}/advance", secretariat, {})
    await env.settled()
    assert len(env.inbox.messages) == 2  # the invitation and the call
    [first] = [m for m in env.inbox.messages if m["X-Reviewflow-Event"] == "call.opened"]

    # As if a sender had claimed it, handed it to the server and died before recording that.
    await env.pool.execute(
        "UPDATE deliveries SET status = 'sending', sent_at = NULL, lease_until = now() - interval '1 s'"
        " WHERE template = 'call.opened'"
    )
    await eventually(lambda: _count(env.inbox, 3))
    await env.settled()
    second = env.inbox.messages[2]
    assert second["Message-ID"] == first["Message-ID"]
    attempts = "SELECT attempts FROM deliveries WHERE template = 'call.opened'"
    assert await env.pool.fetchval(attempts) == 2


async def _count(inbox: Inbox, count: int) -> bool:
    return len(inbox.messages) >= count


# Restarts workers mid-batch: with the suites that take long (make test-slow).
@pytest.mark.slow
async def test_restarting_the_workers_mid_batch_sends_each_message_once(
    fresh_database: str, temporal_client: Client, inbox: tuple[Inbox, int], tmp_path: Path
) -> None:
    handler, port = inbox
    # 100 messages a second: 300 take three seconds, time enough to stop in the middle.
    pool, settings = await start_env(
        fresh_database, temporal_client, tmp_path, port, REVIEWFLOW_NOTIFY_RATE="100"
    )
    env = Env(None, pool, settings, handler, temporal_client)  # type: ignore[arg-type]
    try:
        secretariat = await env.account("secretariat", regions=("ECE",))
        invited = [
            await env.ece_stakeholder(f"Org {i}", "academia", f"org{i}@example.org")
            for i in range(300)
        ]
        app = create_app(settings, pool=pool, temporal=temporal_client)
        async with TestClient(TestServer(app)) as api:
            env.api = api
            async with running_workers(temporal_client, pool, settings):
                body = review_body(member_states=["DEU"], stakeholders=[a.id for a in invited])
                review = await post(env, "/v1/reviews", secretariat, body, 201)
                await post(env, f"/v1/reviews/{review['id']}/advance", secretariat, {})
                await eventually(lambda: _count(handler, 50))
            stopped_at = len(handler.messages)
            # Each is sent an invitation, then the call: 600 messages.
            assert stopped_at < 600, "the workers should have stopped mid-batch"
            async with running_workers(temporal_client, pool, settings):
                await env.settled()
        sent = Counter(
            (m["To"].addresses[0].addr_spec, m["X-Reviewflow-Event"]) for m in handler.messages
        )
        assert len(sent) == 600
        assert set(sent.values()) == {1}
    finally:
        await stop_pipeline(temporal_client, settings)
        await pool.close()


async def test_one_unaddressable_recipient_never_holds_up_the_others(notify_env: Env) -> None:
    """Accounts stored before names and addresses were checked: each fails alone, for good."""
    env = notify_env
    admin = await env.account("admin")
    secretariat = await env.account("secretariat", regions=("ECE",))

    async def stakeholder(name: str, email: str) -> Account:
        return await env.ece_stakeholder(f"Org {email}", "academia", email, name=name)

    normal = [await stakeholder(f"Person {i}", f"org{i}@example.org") for i in range(50)]
    broken_name = await stakeholder("Jane\nDoe", "jane@example.org")
    broken_address = await stakeholder("A B", "a..b@example.org")
    international = await stakeholder("Ü", "ü@exämple.org")
    invited = [*normal, broken_name, broken_address, international]
    body = review_body(member_states=["DEU"], stakeholders=[a.id for a in invited])
    review = await post(env, "/v1/reviews", secretariat, body, 201)
    await post(env, f"/v1/reviews/{review['id']}/advance", secretariat, {})
    await env.settled()

    received = Counter(m["To"].addresses[0].addr_spec for m in env.inbox.messages)
    expected = {f"org{i}@example.org" for i in range(50)} | {"ü@xn--exmple-cua.org"}
    assert set(received) == expected
    assert set(received.values()) == {2}  # the invitation and the call
    failed = await env.pool.fetch(
        "SELECT recipient, status, attempts, last_error FROM deliveries WHERE status <> 'sent'"
    )
    assert {r["recipient"] for r in failed} == {broken_name.actor.id, broken_address.actor.id}
    for row in failed:
        assert (row["status"], row["attempts"]) == ("failed", 1)
        assert row["last_error"].startswith("the message cannot be built: the ")

    for account, pointer in (
        ({"name": "Jane\nDoe", "email": "jane@example.org"}, "/name"),
        ({"name": "X\r\nBcc: all@example.org"}, "/name"),
        ({"name": "A B", "email": "a..b@example.org"}, "/email"),
        ({"name": "A B", "email": ".a@example.org"}, "/email"),
        ({"name": "A B", "email": "a\u200b@example.org"}, "/email"),
    ):
        response = await env.api.post(
            "/v1/actors", json={**account, "role": "observer"}, headers=admin.headers
        )
        problem = await response.json(content_type=None)
        assert response.status == 422, (account, problem)
        assert [e["pointer"] for e in problem["errors"]] == [pointer]
    accepted = await env.api.post(
        "/v1/actors",
        json={"name": "Ü", "email": "ü@exämple.org", "role": "observer"},
        headers=admin.headers,
    )
    assert accepted.status == 201, await accepted.text()


def plain_messages(*addresses: str) -> list[EmailMessage]:
    messages = []
    for address in addresses:
        message = EmailMessage()
        message["From"] = "reviewflow <no-reply@example.org>"
        message["To"] = recipient("", address)
        message["Subject"] = "Test"
        message.set_content("Hello")
        messages.append(message)
    return messages


class Refusing(Inbox):
    """Refuses some recipients, as a real mail server does."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        if address.startswith("later@"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


async def test_smtp_failures_are_permanent_or_transient_as_the_server_says() -> None:
    handler = Refusing()
    with smtp_server(handler, smtputf8=False) as port:
        mailer = SmtpMailer(SmtpSettings("127.0.0.1", port, None, None, False), connections=1)
        messages = plain_messages(
            "nobody@example.org", "later@example.org", "ü@example.org", "ok@example.org"
        )
        results: dict[int, SendFailure | None] = {}

        async def record(index: int, failure: SendFailure | None) -> None:
            results[index] = failure

        async def always(index: int) -> bool:
            return True

        await mailer.send(messages, record, always)
        await mailer.close()
    nobody, later, international, ok = (results[i] for i in range(4))
    assert nobody is not None and nobody.permanent and nobody.reason.startswith("550")
    assert later is not None and not later.permanent and later.reason.startswith("451")
    assert international is not None and international.permanent
    assert "SMTPUTF8" in international.reason
    assert ok is None
    assert [m["To"].addresses[0].addr_spec for m in handler.messages] == ["ok@example.org"]


async def test_webhooks_are_signed_retried_on_5xx_and_not_on_4xx(notify_env: Env) -> None:
    env = notify_env
    receiver = Receiver(script={"/flaky": [500], "/bad": [400, 400]})
    app = web.Application()
    app.router.add_post("/{path}", receiver.handle)
    secret = "s3cret-for-the-tests-only"
    async with TestServer(app, host="127.0.0.1") as server:
        secretariat = await env.account("secretariat", regions=("ECE",))
        hooks = {}
        for path in ("ok", "flaky", "bad"):
            hook = {
                "url": str(server.make_url(f"/{path}")),
                "events": ["phase.changed"],
                "secret": secret,
            }
            hooks[path] = await post(env, "/v1/webhooks", secretariat, hook, 201)
        review = await post(
            env, "/v1/reviews", secretariat, review_body(member_states=["DEU"]), 201
        )
        await post(env, f"/v1/reviews/{review['id']}/advance", secretariat, {})
        await env.settled()

        ((headers, body, status),) = receiver.at("/ok")
        assert status == 200
        assert verify(secret, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        assert not verify(
            "another secret", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER]
        )
        payload = json.loads(body)
        assert payload["id"] == headers[DELIVERY_HEADER]
        assert (payload["event"]["type"], payload["event"]["data"]["to"]) == (
            "phase.changed",
            "call_for_inputs",
        )

        flaky = receiver.at("/flaky")
        assert [s for _, _, s in flaky] == [500, 200]
        assert flaky[0][0][DELIVERY_HEADER] == flaky[1][0][DELIVERY_HEADER]
        assert [s for _, _, s in receiver.at("/bad")] == [400]

        log = await (
            await env.api.get(
                f"/v1/webhooks/{hooks['flaky']['id']}/deliveries", headers=secretariat.headers
            )
        ).json()
        (delivery,) = log["items"]
        assert delivery["status"] == "sent"
        assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 200]
        assert [a["error"] for a in delivery["attempt_log"]] == ["http_5xx", None]
        bad = await (
            await env.api.get(
                f"/v1/webhooks/{hooks['bad']['id']}/deliveries", headers=secretariat.headers
            )
        ).json()
        assert bad["items"][0]["status"] == "failed"


async def test_the_delivery_log_shows_only_a_class_of_error(notify_env: Env) -> None:
    """Neither host, port, error text nor timing: the log must not map the sender's network."""
    env = notify_env
    secretariat = await env.account("secretariat", regions=("ECE",))
    closed_port = free_port()
    hook = await post(
        env,
        "/v1/webhooks",
        secretariat,
        {"url": f"http://127.0.0.1:{closed_port}/", "events": ["*"], "secret": "x" * 16},
        201,
    )
    # A subscription the policy refuses now (stored before the policy was what it is).
    private = await post(
        env,
        "/v1/webhooks",
        secretariat,
        {"url": "http://127.0.0.1:9/", "events": ["*"], "secret": "x" * 16},
        201,
    )
    await env.pool.execute(
        "UPDATE webhooks SET url = 'http://10.0.0.1/' WHERE id = $1", uuid.UUID(private["id"])
    )
    await post(env, "/v1/reviews", secretariat, review_body(member_states=["DEU"]), 201)

    async def logged(hook_id: str) -> list[dict[str, Any]]:
        response = await env.api.get(
            f"/v1/webhooks/{hook_id}/deliveries", headers=secretariat.headers
        )
        return list((await response.json())["items"])

    async def attempted() -> bool:
        logs = [await logged(h["id"]) for h in (hook, private)]
        return all(log and log[0]["attempt_log"] for log in logs)

    await eventually(attempted, deadline_s=30)
    (refused,) = await logged(private["id"])
    assert refused["status"] == "failed"
    assert refused["last_error"] == "refused_by_policy"
    assert [a["error"] for a in refused["attempt_log"]] == ["refused_by_policy"]
    (unreachable,) = await logged(hook["id"])
    assert unreachable["attempt_log"][0]["error"] == "connection_refused"
    shown = json.dumps([refused, unreachable])
    assert str(closed_port) not in shown and "127.0.0.1" not in shown and "10.0.0.1" not in shown
    assert all(
        set(a) == {"attempt", "at", "status_code", "error"}
        for d in (refused, unreachable)
        for a in d["attempt_log"]
    )


async def test_webhook_urls_refused_by_the_policy(notify_env: Env) -> None:
    env = notify_env
    secretariat = await env.account("secretariat", regions=("ECE",))
    for url in (
        "ftp://example.org/x",
        "http://169.254.169.254/latest/meta-data",
        f"http://127.0.0.1:{env.settings.port}/v1/actors",
        "http://127.0.0.1:5432/",
    ):
        response = await env.api.post(
            "/v1/webhooks",
            json={"url": url, "events": ["*"], "secret": "x" * 16},
            headers=secretariat.headers,
        )
        problem = await response.json(content_type=None)
        assert response.status == 422, (url, problem)
        assert {e["pointer"] for e in problem["errors"]} == {"/url"}
    stakeholder = await env.account("stakeholder", organisation="O", stakeholder_category="other")
    response = await env.api.post(
        "/v1/webhooks",
        json={"url": "http://example.org/", "events": ["*"], "secret": "x" * 16},
        headers=stakeholder.headers,
    )
    assert response.status == 403


async def open_a_call_to_germany(env: Env, **focal_point: Any) -> dict[str, Any]:
    """A review of Germany alone whose call opens, its notices all decided; the review."""
    secretariat = await env.account("secretariat", regions=("ECE",))
    await env.account("focal_point", country="DEU", email="deu@example.org", **focal_point)
    app = create_app(env.settings, pool=env.pool, temporal=env.client)
    async with TestClient(TestServer(app)) as api:
        env.api = api
        async with running_workers(env.client, env.pool, env.settings):
            body = review_body(member_states=["DEU"])
            review: dict[str, Any] = await post(env, "/v1/reviews", secretariat, body, 201)
            await post(env, f"/v1/reviews/{review['id']}/advance", secretariat, {})
            await env.settled()
    return review


async def test_without_smtp_mail_is_written_as_eml_files(
    fresh_database: str, temporal_client: Client, tmp_path: Path
) -> None:
    pool, settings = await start_env(fresh_database, temporal_client, tmp_path, None)
    env = Env(None, pool, settings, Inbox(), temporal_client)  # type: ignore[arg-type]
    try:
        await open_a_call_to_germany(env, name="Ms Müller")
        delivery_id = await pool.fetchval(
            "SELECT id FROM deliveries WHERE template = 'call.opened'"
        )
        written = settings.mail_dir / f"{delivery_id}.eml"
        message = message_from_bytes(written.read_bytes(), policy=default)
        assert message["To"].addresses[0].addr_spec == "deu@example.org"
        assert message["Message-ID"] == f"<{delivery_id}@reviewflow>"
        assert message["X-Reviewflow-Event"] == "call.opened"
        # The call, and the invitation sent before it.
        assert written in list(settings.mail_dir.iterdir())
        assert len(list(settings.mail_dir.iterdir())) == 2
    finally:
        await stop_pipeline(temporal_client, settings)
        await pool.close()


async def test_preferences_can_be_changed_and_are_checked(api: Any, make_account: Any) -> None:
    person = await make_account("focal_point", country="FRA")
    response = await api.patch(
        "/v1/actors/me",
        json={"language": "fr", "notifications": "essential"},
        headers=person.headers,
    )
    assert (await response.json())["notifications"] == "essential"
    me = await (await api.get("/v1/actors/me", headers=person.headers)).json()
    assert (me["language"], me["notifications"]) == ("fr", "essential")
    bad = await api.patch(
        "/v1/actors/me", json={"notifications": "none", "role": "admin"}, headers=person.headers
    )
    assert bad.status == 422
    assert {e["pointer"] for e in (await bad.json(content_type=None))["errors"]} == {
        "/notifications",
        "/role",
    }


class Tarpit:
    """A webhook receiver that accepts connections and never answers until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.held = 0
        self.most_held = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.held += 1
        self.most_held = max(self.most_held, self.held)
        try:
            await self.release.wait()
        finally:
            self.held -= 1
        return web.Response(status=200)


async def test_a_webhook_receiver_that_never_answers_does_not_delay_mail(notify_env: Env) -> None:
    env = notify_env
    tarpit = Tarpit()
    app = web.Application()
    app.router.add_post("/{path}", tarpit.handle)
    async with TestServer(app, host="127.0.0.1") as server:
        try:
            secretariat = await env.account("secretariat", regions=("ECE",))
            await env.account("focal_point", country="DEU", email="deu@example.org")
            hook = {"url": str(server.make_url("/hook")), "events": ["*"], "secret": "x" * 16}
            await post(env, "/v1/webhooks", secretariat, hook, 201)
            body = review_body(member_states=["DEU"])
            review = await post(env, "/v1/reviews", secretariat, body, 201)

            async def holding() -> bool:
                return tarpit.held >= 1

            await eventually(holding, deadline_s=30)
            reminders = 10
            for days in range(reminders):
                await inject_inputs_reminder(
                    env.pool,
                    review["id"],
                    review["deadlines"]["inputs_due_at"],
                    days + 1,
                    ["DEU"],
                    [],
                )
            await eventually(lambda: _count(env.inbox, reminders), deadline_s=30)
            # Every reminder was mailed while the receiver still held the webhook attempts:
            # none has ended (each would have, by its timeout, were mail waiting behind it).
            assert tarpit.held >= 1
            assert await env.pool.fetchval("SELECT count(*) FROM delivery_attempts") == 0
            assert tarpit.most_held <= WEBHOOKS_PER_HOST
        finally:
            tarpit.release.set()


async def remind_focal_points(pool: asyncpg.Pool, count: int) -> dict[str, Any]:
    """A review in its call for inputs, stored as is, and a reminder to its member State's
    `count` focal points (deu0@example.org, ...), not yet expanded; with its secretariat."""
    secretariat = await create_account(pool, "secretariat", regions=("ECE",))
    for i in range(count):
        await create_account(pool, "focal_point", country="DEU", email=f"deu{i}@example.org")
    review = review_body(member_states=["DEU"])
    await pool.execute(
        """INSERT INTO reviews (id, region, title, member_states, timeline, reminder_days,
                                late_submissions, phase, deadlines, created_by)
           VALUES ($1, 'ECE', 'Title', '{DEU}', $2, '{7}', 'reject', 'call_for_inputs', $2, $3)""",
        review["id"],
        review["timeline"],
        secretariat.actor.id,
    )
    await inject_inputs_reminder(
        pool, review["id"], review["timeline"]["inputs_due_at"], 7, ["DEU"], []
    )
    return {**review, "secretariat": secretariat}


async def test_a_sender_that_outlived_its_lease_sends_nothing_twice(
    fresh_database: str, temporal_client: Client, inbox: tuple[Inbox, int], tmp_path: Path
) -> None:
    """A sender paused past its heartbeat timeout: its successor claimed its deliveries again.
    Resumed, it checks each delivery is still its own before sending, and sends nothing."""
    handler, port = inbox
    pool, settings = await start_env(fresh_database, temporal_client, tmp_path, port)
    try:
        await remind_focal_points(pool, 20)

        def sender() -> NotificationActivities:
            policy = service_policy(settings, "127.0.0.1:7233")
            return NotificationActivities(
                pool, mailer_for(settings.smtp, tmp_path), settings, policy
            )

        stale, successor = sender(), sender()
        activity_env = ActivityEnvironment()
        await activity_env.run(stale.expand_events)
        paused = await activity_env.run(stale._claim, 50, "email")
        assert len(paused) == 20
        # The stale sender stops heartbeating; its leases run out; the next attempt claims.
        await pool.execute("UPDATE deliveries SET lease_until = now() - interval '1 s'")
        claimed = await activity_env.run(successor._claim, 50, "email")
        assert len(claimed) == 20
        # Its late write of a result is refused: the delivery is the successor's now.
        assert await stale._record(paused[0], "a late error", retry=True) == "stale"
        assert (
            await pool.fetchval("SELECT status FROM deliveries WHERE id = $1", paused[0].row["id"])
            == "sending"
        )
        assert Counter(await activity_env.run(successor._send_emails, claimed)) == {"sent": 20}
        resumed = await activity_env.run(stale._send_emails, paused)
        assert Counter(resumed) == {"stale": 20}

        message_ids = Counter(str(m["Message-ID"]) for m in handler.messages)
        assert len(message_ids) == 20
        assert set(message_ids.values()) == {1}
        rows = await pool.fetch("SELECT status, attempts FROM deliveries")
        assert {(r["status"], r["attempts"]) for r in rows} == {("sent", 2)}
    finally:
        await pool.close()


async def test_subscriptions_per_owner_are_capped(notify_env: Env) -> None:
    env = notify_env
    secretariat = await env.account("secretariat", regions=("ECE",))
    other = await env.account("secretariat", regions=("ECE",))

    def hook(n: int) -> dict[str, Any]:
        return {"url": f"http://127.0.0.1:9/{n}", "events": ["*"], "secret": "x" * 16}

    created = [
        await post(env, "/v1/webhooks", secretariat, hook(n), 201)
        for n in range(WEBHOOKS_PER_OWNER)
    ]
    refused = await post(env, "/v1/webhooks", secretariat, hook(99), 409)
    assert str(WEBHOOKS_PER_OWNER) in refused["detail"]
    await post(env, "/v1/webhooks", other, hook(99), 201)  # the cap is per owner
    deleted = await env.api.delete(f"/v1/webhooks/{created[0]['id']}", headers=secretariat.headers)
    assert deleted.status == 204
    await post(env, "/v1/webhooks", secretariat, hook(99), 201)


class CountingInbox(Inbox):
    """Also counts the SMTP connections (each says EHLO once) and the QUITs."""

    def __init__(self) -> None:
        super().__init__()
        self.connections = 0
        self.quits = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.connections += 1
        return responses

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.quits += 1
        return "221 Bye"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if any(to.startswith("drop@") for to in envelope.rcpt_tos):
            server.transport.close()  # as a server that goes away mid-message
        return await super().handle_DATA(server, session, envelope)


async def test_smtp_connections_last_from_batch_to_batch_until_idle_or_dropped() -> None:
    handler = CountingInbox()
    with smtp_server(handler) as port:
        mailer = SmtpMailer(
            SmtpSettings("127.0.0.1", port, None, None, False), connections=2, idle_life_s=0.3
        )
        results: dict[str, SendFailure | None] = {}

        async def send(*addresses: str) -> None:
            messages = plain_messages(*addresses)

            async def record(index: int, failure: SendFailure | None) -> None:
                results[addresses[index]] = failure

            async def always(index: int) -> bool:
                return True

            await mailer.send(messages, record, always)

        try:
            for batch in range(5):
                await send(*(f"b{batch}m{m}@example.org" for m in range(4)))
            assert len(handler.messages) == 20
            assert handler.connections == 2  # five batches over the same two connections

            # The server drops a connection mid-message: that message may be tried again;
            # the others go, the dropped connection replaced by a new one.
            await send("drop@example.org", "after1@example.org", "after2@example.org")
            await send("next1@example.org", "next2@example.org")
            dropped = results["drop@example.org"]
            assert dropped is not None and not dropped.permanent
            assert [
                results[f"{a}@example.org"] for a in ("after1", "after2", "next1", "next2")
            ] == [None] * 4
            assert handler.connections == 3

            # Idle past their life, the connections are closed, and the next batch opens anew.
            async def both_quit() -> bool:
                return handler.quits == 2

            await eventually(both_quit, deadline_s=5)
            await send("late@example.org")
            assert results["late@example.org"] is None
            assert handler.connections == 4
        finally:
            await mailer.close()
        assert handler.quits == 3


async def test_mail_rounds_keep_their_connections_and_never_wait_for_a_slow_webhook(
    fresh_database: str, temporal_client: Client, tmp_path: Path
) -> None:
    """Ten rounds of two messages each go over the same two SMTP connections, and all are
    accepted while the webhook receiver has not yet answered its delivery of the same event."""
    handler = CountingInbox()
    tarpit = Tarpit()
    app = web.Application()
    app.router.add_post("/{path}", tarpit.handle)
    with smtp_server(handler) as port:
        async with TestServer(app, host="127.0.0.1") as server:
            pool, settings = await start_env(fresh_database, temporal_client, tmp_path, port)
            try:
                review = await remind_focal_points(pool, 20)
                owner = review["secretariat"].actor.id
                async with pool.acquire() as conn:
                    hook = {
                        "id": uuid.uuid4(),
                        "owner": owner,
                        "url": str(server.make_url("/hook")),
                        "events": ["*"],
                        "secret": "x" * 16,
                        "review_id": review["id"],
                        "regions": [],
                    }
                    await insert_webhook(conn, hook)
                policy = service_policy(settings, "127.0.0.1:7233")
                sender = NotificationActivities(
                    pool, mailer_for(settings.smtp, tmp_path), settings, policy
                )
                activity_env = ActivityEnvironment()
                held_when_mailed: list[int] = []

                async def stop_once_mailed() -> None:
                    await eventually(lambda: _count(handler, 20), deadline_s=10)
                    held_when_mailed.append(tarpit.held)
                    tarpit.release.set()
                    activity_env.worker_shutdown()

                stopping = asyncio.create_task(stop_once_mailed())
                stats = await activity_env.run(
                    sender.deliver_notifications, DeliveryRound(max_seconds=30, batch=2)
                )
                await stopping
                await sender.mailer.close()
            finally:
                tarpit.release.set()
                await pool.close()
    assert held_when_mailed == [1]  # the webhook's attempt was under way, unanswered
    assert (stats.sent, stats.retried, stats.failed) == (21, 0, 0)
    assert len(handler.messages) == 20
    assert handler.connections == 2
