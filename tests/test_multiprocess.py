"""The multi-process proof: two API and two worker processes on one Temporal server and one
PostgreSQL, one of each SIGKILLed while 64 clients submit and mail goes out.

The stack is the production topology on loopback: a Temporal dev server (the `temporal`
binary), a database of the test's own migrated by `reviewflow migrate`, an aiosmtpd server
recording every message, `reviewflow api` on two ports and `reviewflow worker` twice, all on
one task queue. A compressed review of 12 member States and 52 stakeholders runs its whole
course: 64 clients, half of them on each API, submit six versions each; one API is killed a
fifth of the way through the rush, and the worker running the notification loop a third of
the way, while it sends the receipts. Nothing is started again: the survivors carry on. The
clients retry a request that got no answer on the other API, with the same Idempotency-Key.

The worker is killed while the SMTP server holds its answer to the message being sent, after
every message it accepted before was recorded as sent: the kill then lands outside the one
window in which a message may be sent twice (docs/notifications.md), so every message must
arrive exactly once. Its claimed deliveries are sent by the survivor once their lease expires.

Afterwards: every 201 the clients got is in the database and the report exactly once; every
message the rules call for arrived exactly once and every delivery is sent; no delivery was
claimed again but those the killed worker held, and those only after their lease; one
notification loop ran throughout. Every wait polls with a deadline; run with `-s` to read
what happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from activities.notify import LEASE
from db.pool import create_pool
from domain.reference import load_reference
from reviewflow.embedded import EmbeddedTemporal
from tests import documents
from tests.conftest import Account, create_account
from tests.processes import (
    UNANSWERED,
    Child,
    Inbox,
    api_child,
    child_env,
    free_port,
    kill_temporal,
    poll_until,
    run_migrate,
    started_smtp,
    worker_child,
)
from tests.reviews import (
    Receipt,
    assert_accepted_in_database,
    assert_report_holds,
    national,
    stakeholder_input,
)
from workflows.notifications import notifications_workflow_id

pytestmark = pytest.mark.slow

# The report's PDF, printed before the review awaits approval, grows with the national
# reports: a dozen keep it to seconds.
STATES = 12
STAKEHOLDERS = 52
VERSIONS = 6
ANSWERING = 10
# The review's deadlines, in seconds after its creation. The acceptances the killed worker was
# running are retried when their 30-second start-to-close timeout expires: the rush must be
# over before the inputs deadline.
TIMELINE_S = {
    "call_opens_at": 4,
    "inputs_due_at": 90,
    "consultation_due_at": 105,
    "report_due_at": 900,
}
REQUEST_TIMEOUT_S = 120.0
SUBMISSION_DEADLINE_S = 150.0
# The killed worker's claimed deliveries wait for their lease; then the survivor sends them.
MAIL_DEADLINE_S = LEASE.total_seconds() + 90.0
UNAVAILABLE = frozenset({502, 503, 504})
STUCK = ("pending", "sending")


@dataclass
class Stack:
    root: Path
    temporal: EmbeddedTemporal
    inbox: Inbox
    apis: list[Child]
    workers: list[Child]
    task_queue: str
    db: asyncpg.Pool
    http: aiohttp.ClientSession
    temporal_client: Client
    started: float = field(default_factory=time.monotonic)

    def note(self, what: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {what}", flush=True)

    def url(self, api: int) -> str:
        return f"http://127.0.0.1:{self.apis[api].env['REVIEWFLOW_PORT']}"

    @property
    def survivor(self) -> int:
        """The index of an API still running."""
        return next(i for i, api in enumerate(self.apis) if api.running)

    def logs(self) -> str:
        temporal = self.root / "temporal.log"
        tail = temporal.read_text(errors="replace")[-2000:] if temporal.exists() else ""
        children = [child.tail() for child in [*self.apis, *self.workers]]
        return "\n".join([*children, f"--- temporal (last 2000 chars):\n{tail}"])

    async def call(
        self,
        api: int,
        method: str,
        path: str,
        account: Account,
        body: Any = None,
        key: str | None = None,
    ) -> tuple[int, Any]:
        """One request to API number `api`; raises one of UNANSWERED when nothing answers."""
        headers = {"Accept": "application/json", **account.headers}
        if key is not None:
            headers["Idempotency-Key"] = key
        async with self.http.request(
            method,
            self.url(api) + path,
            json=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        ) as response:
            return response.status, json.loads(await response.read())

    async def ok(
        self, method: str, path: str, account: Account, body: Any = None, expected: int = 200
    ) -> Any:
        status, answer = await self.call(self.survivor, method, path, account, body)
        assert status == expected, (method, path, status, answer)
        return answer

    async def wait_for(
        self,
        what: str,
        check: Callable[[], Awaitable[Any]],
        deadline_s: float,
        poll_s: float = 0.1,
    ) -> Any:
        return await poll_until(what, check, deadline_s, poll_s, self.logs)

    async def wait_for_phase(self, review_id: str, phase: str, deadline_s: float) -> None:
        async def reached() -> bool:
            found = await self.db.fetchval("SELECT phase FROM reviews WHERE id = $1", review_id)
            return bool(found == phase)

        await self.wait_for(f"phase {phase}", reached, deadline_s)
        self.note(f"review in {phase}")


@contextlib.asynccontextmanager
async def two_of_each(dsn: str, root: Path) -> AsyncIterator[Stack]:
    """Temporal, migrations, the inbox, two workers and two APIs; all killed at the end."""
    temporal = EmbeddedTemporal(
        root / "temporal.sqlite", port=free_port(), ui_port=None, log_file=root / "temporal.log"
    )
    inbox = Inbox()
    controller, smtp_port = started_smtp(inbox)
    env = child_env(root, dsn, temporal.address, smtp_port=smtp_port)
    apis = [
        api_child({**env, "REVIEWFLOW_PORT": str(free_port())}, root / f"api{n}.log")
        for n in range(2)
    ]
    workers = [worker_child(env, root / f"worker{n}.log") for n in range(2)]
    children = [*workers, *apis]
    try:
        await asyncio.to_thread(temporal.start)
        print(await asyncio.to_thread(run_migrate, env))
        for child in children:
            child.start()
        for child in children:
            await child.ready()
        db = await create_pool(dsn, max_size=4)
        try:
            async with aiohttp.ClientSession(trust_env=False) as http:
                stack = Stack(
                    root,
                    temporal,
                    inbox,
                    apis,
                    workers,
                    env["TEMPORAL_TASK_QUEUE"],
                    db,
                    http,
                    await Client.connect(temporal.address),
                )
                stack.note("two APIs and two workers ready")
                try:
                    yield stack
                except BaseException:
                    print(stack.logs())
                    raise
        finally:
            await db.close()
    finally:
        for child in children:
            child.kill()
        kill_temporal(temporal)
        controller.stop()


# ---- the participants and their clients ---------------------------------------------------


@dataclass(frozen=True)
class Participant:
    account: Account
    # What it submits, version by version.
    bodies: list[dict[str, Any]]


async def participants(db: asyncpg.Pool, tag: str) -> tuple[list[Participant], list[Participant]]:
    """Focal points of STATES member States of ECE, and STAKEHOLDERS stakeholders of
    organisations of their own; everyone with an address."""
    ece = load_reference().region("ECE")
    assert ece is not None
    countries = [c.iso3 for c in ece.members][:STATES]
    states = []
    for country in countries:
        account = await create_account(
            db, "focal_point", country=country, email=f"{country.lower()}-{tag}@gov.example"
        )
        bodies = [national(country, v) for v in range(1, VERSIONS + 1)]
        states.append(Participant(account, bodies))
    categories = load_reference().category_ids
    organisations = []
    for n in range(STAKEHOLDERS):
        name, category = f"Org {tag} {n:02d}", categories[n % len(categories)]
        account = await create_account(
            db,
            "stakeholder",
            organisation=name,
            stakeholder_category=category,
            regions=("ECE",),
            email=f"org{n:02d}-{tag}@org.example",
        )
        bodies = [stakeholder_input(name, category, v) for v in range(1, VERSIONS + 1)]
        organisations.append(Participant(account, bodies))
    return states, organisations


@dataclass
class Rush:
    """What the clients were told: every 201, and every try of every request."""

    total: int
    receipts: list[Receipt] = field(default_factory=list)
    tries: Counter[str] = field(default_factory=Counter)
    moved: int = 0

    @property
    def answered(self) -> int:
        return len(self.receipts)


async def client(
    stack: Stack, review_id: str, who: Participant, home: int, tag: str, rush: Rush
) -> None:
    """Submit each version in turn, each until answered; a request that gets no answer, or
    an unavailable answer, is sent again with its key to the other API."""
    api = home
    for version, body in enumerate(who.bodies, start=1):
        key = f"mp-{tag}-{who.account.id}-{version}"
        end = time.monotonic() + SUBMISSION_DEADLINE_S
        while True:
            rush.tries[key] += 1
            try:
                status, answer = await stack.call(
                    api, "POST", f"/v1/reviews/{review_id}/submissions", who.account, body, key
                )
            except UNANSWERED:
                status, answer = None, None
            if status is not None and status not in UNAVAILABLE:
                break
            assert time.monotonic() < end, f"{key} unanswered for {SUBMISSION_DEADLINE_S}s"
            api, rush.moved = 1 - api, rush.moved + 1
            await asyncio.sleep(0.2)
        assert status == 201, (key, status, answer)
        rush.receipts.append(
            Receipt(
                answer["id"],
                answer["kind"],
                answer["subject"],
                answer["version"],
                answer["late"],
                who.account.id,
            )
        )


# ---- the kills ----------------------------------------------------------------------------


@dataclass
class KilledSender:
    worker: Child
    # The deliveries it had claimed and not marked, each with the end of its lease.
    held: dict[str, datetime]


async def kill_api_during(stack: Stack, rush: Rush) -> None:
    await stack.wait_for("a fifth of the rush answered", lambda: _part(rush, 0.2), 120, 0.02)
    stack.apis[0].kill()
    stack.note(f"API 0 SIGKILLed, {rush.answered} of {rush.total} submissions answered")


async def kill_sender_during(stack: Stack, rush: Rush) -> KilledSender:
    """Kill the worker running the notification loop a third of the way through the rush (or
    a little later: once it sends), while the SMTP server holds its answer to a message and
    after every message accepted before was marked sent."""
    await stack.wait_for("a third of the rush answered", lambda: _part(rush, 0.35), 120, 0.02)
    stack.inbox.hold()
    try:
        await stack.wait_for("a message held", _held(stack.inbox), 60, 0.01)
        await stack.wait_for("every accepted message marked sent", _all_marked(stack), 30, 0.02)
        worker = await _running_the_loop(stack)
        worker.kill()
        held = await stack.db.fetch(
            "SELECT id::text, lease_until FROM deliveries WHERE status = 'sending'"
        )
    finally:
        stack.inbox.release()
    stack.note(
        f"worker {stack.workers.index(worker)} SIGKILLed in the notification loop, holding "
        f"{len(held)} deliveries; {rush.answered} of {rush.total} submissions answered, "
        f"{len(stack.inbox.received)} messages received"
    )
    assert rush.answered < rush.total, "the worker should have died during the rush"
    return KilledSender(worker, {r["id"]: r["lease_until"] for r in held})


async def _part(rush: Rush, share: float) -> bool:
    return rush.answered >= share * rush.total


def _held(inbox: Inbox) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return inbox.held > 0

    return check


def _all_marked(stack: Stack) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        ids = [m.message_id.strip("<>").split("@")[0] for m in stack.inbox.received]
        unmarked = await stack.db.fetchval(
            "SELECT count(*) FROM deliveries WHERE id = ANY($1::uuid[]) AND status <> 'sent'",
            ids,
        )
        return unmarked == 0

    return check


async def _running_the_loop(stack: Stack) -> Child:
    """The worker whose process runs the notification loop's activity now."""
    handle = stack.temporal_client.get_workflow_handle(notifications_workflow_id(stack.task_queue))
    described = (await handle.describe()).raw_description
    (activity,) = described.pending_activities
    pid = int(activity.last_worker_identity.split("@")[0])
    (worker,) = [w for w in stack.workers if w.pid == pid]
    return worker


# ---- the checks ---------------------------------------------------------------------------


async def settled(stack: Stack) -> None:
    """Every event expanded and no delivery pending or claimed."""

    async def done() -> bool:
        left = await stack.db.fetchval(
            """SELECT (SELECT count(*) FROM review_events WHERE expanded_at IS NULL)
                    + (SELECT count(*) FROM deliveries WHERE status = ANY($1::text[]))""",
            list(STUCK),
        )
        return left == 0

    await stack.wait_for("settled notifications", done, MAIL_DEADLINE_S, 0.5)
    stack.note("notifications settled")


async def expected_mail(
    stack: Stack,
    review_id: str,
    secretariat: Account,
    everyone: list[Participant],
    organisations: list[Participant],
    answering: list[Participant],
) -> Counter[tuple[str, str]]:
    """Per (address, kind), what the rules (docs/notifications.md) call for: the invitation,
    the call for inputs and the publication to every participant, a receipt per accepted
    version (per event in the audit trail), a task to every stakeholder, a confirmation to
    each who answered, the report's readiness to the secretariat."""
    address = {p.account.id: str(p.account.actor.email) for p in everyone}
    expected: Counter[tuple[str, str]] = Counter()
    for kind in ("review.invited", "call.opened", "report.published"):
        expected.update((address[p.account.id], kind) for p in everyone)
    expected.update((address[p.account.id], "consultation.opened") for p in organisations)
    expected.update((address[p.account.id], "task.completed") for p in answering)
    expected[(str(secretariat.actor.email), "report.ready")] += 1
    submitters = await stack.db.fetch(
        """SELECT actor_id FROM review_events
           WHERE review_id = $1 AND type = 'submission.accepted'""",
        review_id,
    )
    expected.update((address[str(r["actor_id"])], "submission.accepted") for r in submitters)
    return expected


async def assert_mail_once(stack: Stack, expected: Counter[tuple[str, str]]) -> None:
    """Every message called for arrived, each exactly once; each is a delivery, sent."""
    received = list(stack.inbox.received)
    copies = Counter(m.message_id for m in received)
    assert [mid for mid, n in copies.items() if n > 1] == [], "messages received twice"
    got = Counter((m.to, m.kind) for m in received)
    assert got == expected, f"unexpected: {got - expected}, missing: {expected - got}"
    deliveries = await stack.db.fetch("SELECT id, status FROM deliveries WHERE channel = 'email'")
    assert {d["status"] for d in deliveries} == {"sent"}, Counter(d["status"] for d in deliveries)
    assert {f"<{d['id']}@reviewflow>" for d in deliveries} == set(copies)


async def assert_no_send_twice(stack: Stack, killed: KilledSender) -> None:
    """No delivery was claimed by a second sender but those the killed worker held, each once
    more and only after its lease had expired: no two loops sent side by side. One
    notification workflow ran throughout, on one chain of runs, never restarted."""
    rows = await stack.db.fetch(
        "SELECT id::text, attempts, sent_at FROM deliveries WHERE channel = 'email'"
    )
    again = {r["id"]: r for r in rows if r["attempts"] != 1}
    assert set(again) <= set(killed.held), sorted(set(again) - set(killed.held))
    assert {r["attempts"] for r in again.values()} <= {2}, again
    early = [r for r in again.values() if r["sent_at"] < killed.held[r["id"]]]
    assert early == [], f"sent again before the lease expired: {early}"
    runs = [
        (execution.id, execution.status)
        async for execution in stack.temporal_client.list_workflows(
            'WorkflowType = "NotificationsWorkflow"'
        )
    ]
    wanted = notifications_workflow_id(stack.task_queue)
    assert {workflow for workflow, _ in runs} == {wanted}, runs
    statuses = Counter(status for _, status in runs)
    assert statuses[WorkflowExecutionStatus.RUNNING] == 1, runs
    assert set(statuses) <= {
        WorkflowExecutionStatus.RUNNING,
        WorkflowExecutionStatus.CONTINUED_AS_NEW,
    }, runs
    stack.note(
        f"{len(again)} of the {len(killed.held)} deliveries the killed worker held were sent "
        f"again by the survivor; notification workflow runs: {dict(statuses)}"
    )


# ---- the proof ----------------------------------------------------------------------------


@pytest.mark.timeout(420)
async def test_two_apis_and_two_workers_one_of_each_killed(
    fresh_database: str, tmp_path: Path
) -> None:
    async with two_of_each(fresh_database, tmp_path) as stack:
        tag = secrets.token_hex(3)
        secretariat = await create_account(
            stack.db, "secretariat", regions=("ECE",), email=f"secretariat-{tag}@unece.example"
        )
        states, organisations = await participants(stack.db, tag)
        everyone = [*states, *organisations]
        now = datetime.now(UTC)
        timeline = {k: (now + timedelta(seconds=s)).isoformat() for k, s in TIMELINE_S.items()}
        body = {
            "id": f"ece-multiprocess-{tag}",
            "region": "ECE",
            "title": "Regional review of the GCM in the UNECE region (two of each)",
            "member_states": [p.account.actor.country for p in states],
            "stakeholders": [p.account.id for p in organisations],
            "timeline": timeline,
        }
        review = await stack.ok("POST", "/v1/reviews", secretariat, body, 201)
        review_id = review["id"]
        await stack.wait_for_phase(review_id, "call_for_inputs", 60)

        rush = Rush(total=len(everyone) * VERSIONS)
        clients = [
            asyncio.ensure_future(client(stack, review_id, who, i % 2, tag, rush))
            for i, who in enumerate(everyone)
        ]
        try:
            await kill_api_during(stack, rush)
            killed = await kill_sender_during(stack, rush)
            await asyncio.wait_for(asyncio.gather(*clients), SUBMISSION_DEADLINE_S * VERSIONS)
        finally:
            for task in clients:
                task.cancel()
        retried = {key: n for key, n in rush.tries.items() if n > 1}
        stack.note(
            f"rush over: {rush.answered} answered 201; {len(retried)} requests sent more than "
            f"once, {rush.moved} times to the other API"
        )
        assert rush.answered == rush.total
        assert retried, "the kills should have cut some requests short"
        inputs_due = datetime.fromisoformat(review["deadlines"]["inputs_due_at"])
        assert datetime.now(UTC) < inputs_due, "the rush outlasted the call for inputs"
        await assert_accepted_in_database(stack.db, review_id, rush.receipts)

        await stack.wait_for_phase(review_id, "consultation", TIMELINE_S["inputs_due_at"] + 30)
        answering = organisations[:ANSWERING]
        await asyncio.gather(*(answer_task(stack, review_id, p) for p in answering))
        await stack.wait_for_phase(review_id, "approval", 240)
        approved = await stack.ok(
            "POST", f"/v1/reviews/{review_id}/report/approve", secretariat, {"note": "Approved."}
        )
        assert approved["status"] == "published", approved
        report = await stack.ok("GET", f"/v1/reviews/{review_id}/report?format=json", secretariat)
        assert_report_holds(report, rush.receipts)

        await settled(stack)
        expected = await expected_mail(
            stack, review_id, secretariat, everyone, organisations, answering
        )
        await assert_mail_once(stack, expected)
        await assert_no_send_twice(stack, killed)
        stack.note(f"{len(stack.inbox.received)} messages, each received once")
        assert [api.running for api in stack.apis] == [False, True]
        assert sum(worker.running for worker in stack.workers) == 1


async def answer_task(stack: Stack, review_id: str, who: Participant) -> None:
    async def own_task() -> list[dict[str, Any]]:
        found = await stack.ok("GET", f"/v1/tasks?review={review_id}", who.account)
        return list(found["items"])

    (task,) = await stack.wait_for("the stakeholder's task", own_task, 30)
    await stack.ok(
        "POST",
        f"/v1/tasks/{task['id']}/complete",
        who.account,
        {"response": documents.consultation_response()},
    )
