"""Fan-out: opening a consultation for 10,000 stakeholders, every task-assigned mail accepted.

Timed: from the secretariat's `POST /v1/reviews/{id}/advance` that opens the consultation until
the local SMTP server (aiosmtpd, in its own process) has accepted a `consultation.opened`
message for every one of the stakeholders; every task must be stored, open and due at the
consultation deadline. Mail goes out over SMTP without rate limit (REVIEWFLOW_NOTIFY_RATE=0).

Before each timed run the review is advanced to its call for inputs, which would mail the same
stakeholders their invitation and `call.opened`; their email addresses are set only once those
events have been expanded (recipients are chosen then), so nothing but the consultation's mail
is in flight while the consultation is timed.

Each run times the consultation twice, each time for a new review: once alone, and once with
HOOKS webhook subscriptions to the review's events whose receiver (an aiohttp server in this
process) answers every delivery only after SLOW_RECEIVER_S. The goal holds for the second: a
slow receiver must not slow the mail down. It also tells how many webhook deliveries the
receiver had answered when the last mail was accepted, of all those the review's events made.

Bare primitive, same run: a plain script that COPYs as many task-like rows into a scratch
table and sends as many messages to the same SMTP server over 4 pooled aiosmtplib connections.

    python -m bench.fanout [--quick] [--stakeholders 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib
from aiohttp import web

from bench.harness import (
    Account,
    Option,
    Report,
    Services,
    at_most,
    bare_then_service,
    bulk_stakeholders,
    cpu_now,
    cpu_used,
    create_account,
    email_of,
    free_port,
    median_per_metric,
    post,
    run_main,
    services,
    wait_until,
)
from bench.smtp_sink import Sink, start_sink
from tests.reviews import review_body
from workflows.review import workflow_id

GOAL_RATIO = 1.2
MAX_EVENTS = 10_240
BARE_CONNECTIONS = 4
FANOUT_DEADLINE_S = 1200.0
# The webhook subscriptions of the timed consultation, to a receiver this slow to answer.
HOOKS = 8
SLOW_RECEIVER_S = 2.0

# This scenario's options, after those every scenario takes (harness.parser).
OPTIONS: list[Option] = [
    ("--stakeholders", {"type": int, "default": None, "help": "default 10000 (quick: 1000)"}),
]

SCRATCH = """CREATE TABLE IF NOT EXISTS bench_scratch_tasks (
    id uuid PRIMARY KEY, review_id text NOT NULL, invitee uuid NOT NULL, assignee uuid NOT NULL,
    organisation text, stakeholder_category text, due_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'open', created_at timestamptz NOT NULL DEFAULT now())"""


FOOTER = (
    "You receive this message because your organisation was invited to the regional review of "
    "the Global Compact for Safe, Orderly and Regular Migration. Reminders go only to those "
    "who have not yet answered.\n"
)


def bare_message(account: Account, n: int, review_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "reviewflow <no-reply@reviewflow.localhost>"
    message["To"] = f"Contact {n:05d} <contact{n:05d}@example.org>"
    message["Subject"] = "A consultation task is assigned to you"
    message["Message-ID"] = f"<{uuid.uuid4()}@bench>"
    message["Date"] = format_datetime(datetime.now(UTC))
    message["X-Reviewflow-Event"] = "bench.bare"
    text = (
        f"Dear Contact {n:05d},\n\nThe stakeholder consultation of review {review_id} is open. "
        f"A task is assigned to {account.organisation}: read the synthesis of the inputs "
        "received and answer before the deadline.\n\nhttp://127.0.0.1/v1/tasks\n"
    )
    # About the size of the service's own message (text and HTML with its layout).
    text += "\n" + FOOTER * 3
    message.set_content(text)
    paragraphs = "".join(f"<p style='margin:0 0 12px'>{p}</p>" for p in text.split("\n") if p)
    message.add_alternative(
        f"<!doctype html><html><body style='font-family:sans-serif'>{paragraphs * 2}</body></html>",
        subtype="html",
    )
    return message


async def bare_run(svc: Services, sink: Sink, accounts: list[Account]) -> dict[str, float]:
    review_id = f"bare-{secrets.token_hex(3)}"
    due = datetime.now(UTC)
    await svc.api_pool.execute(SCRATCH)
    await svc.api_pool.execute("TRUNCATE bench_scratch_tasks")
    before = sink.count("bench.bare")
    started, cpu = time.perf_counter(), cpu_now()
    async with svc.api_pool.acquire() as conn:
        await conn.copy_records_to_table(
            "bench_scratch_tasks",
            columns=[
                "id",
                "review_id",
                "invitee",
                "assignee",
                "organisation",
                "stakeholder_category",
                "due_at",
            ],
            records=[
                (uuid.uuid4(), review_id, a.id, a.id, a.organisation, a.category, due)
                for a in accounts
            ],
        )
    copied = time.perf_counter() - started

    async def lane(indexes: range) -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=sink.port, start_tls=False)
        await smtp.connect()
        try:
            for n in indexes:
                await smtp.send_message(bare_message(accounts[n], n, review_id))
        finally:
            await smtp.quit()

    async with asyncio.timeout(FANOUT_DEADLINE_S):
        await asyncio.gather(
            *(lane(range(i, len(accounts), BARE_CONNECTIONS)) for i in range(BARE_CONNECTIONS))
        )
    elapsed = time.perf_counter() - started
    sent = sink.count("bench.bare") - before
    if sent != len(accounts):
        raise RuntimeError(f"bare: the SMTP server accepted {sent} of {len(accounts)}")
    return {
        "seconds": elapsed,
        "copy_s": copied,
        "mail_s": elapsed - copied,
        **cpu_used(cpu, elapsed),
    }


@dataclass
class SlowReceiver:
    """A webhook receiver that answers each delivery 200, but only after SLOW_RECEIVER_S."""

    url: str = ""
    answered: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(SLOW_RECEIVER_S)
        self.answered += 1
        return web.Response()


@contextlib.asynccontextmanager
async def slow_receiver() -> AsyncIterator[SlowReceiver]:
    receiver = SlowReceiver()
    app = web.Application()
    app.router.add_post("/{hook}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    receiver.url = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        await runner.cleanup()


async def subscribe_slow_hooks(svc: Services, review_id: str, receiver: SlowReceiver) -> None:
    """HOOKS subscriptions to every event of the review, by a secretariat of its own (a
    secretariat has at most 20 live subscriptions)."""
    owner = await create_account(svc.api_pool, "secretariat", regions=("ECE",))
    for hook in range(HOOKS):
        body = {
            "url": f"{receiver.url}/hook{hook}",
            "events": ["*"],
            "secret": secrets.token_hex(16),
            "review_id": review_id,
        }
        await post(svc.http, "/v1/webhooks", owner, body, 201)


async def service_run(
    svc: Services,
    sink: Sink,
    secretariat: Account,
    accounts: list[Account],
    receiver: SlowReceiver | None,
) -> dict[str, float]:
    """One consultation timed; with `receiver`, its review's events go to its slow webhooks."""
    n = len(accounts)
    body = review_body(
        id=f"ece-bench-fanout-{secrets.token_hex(4)}", stakeholders=[str(a.id) for a in accounts]
    )
    review_id = body["id"]
    url = f"/v1/reviews/{review_id}"
    # The review's invitations are counted as "other" by the sink.
    called_before = sink.count("call.opened") + sink.count("other")
    # The review's invitation and its call for inputs would mail the same people: give them
    # their addresses only once those events are expanded (recipients are chosen then), so
    # that their fan-out sends nothing. (Taken away before the review is created: its
    # invitations are expanded within a fraction of a second.)
    ids = [a.id for a in accounts]
    await svc.api_pool.execute("UPDATE actors SET email = NULL WHERE id = ANY($1::uuid[])", ids)
    await post(svc.http, "/v1/reviews", secretariat, body, 201)
    await post(svc.http, f"{url}/advance", secretariat, {})

    async def expanded() -> bool:
        waiting = await svc.api_pool.fetchval(
            "SELECT count(*) FROM review_events WHERE review_id = $1 AND expanded_at IS NULL",
            review_id,
        )
        return waiting == 0

    if not await wait_until(expanded, deadline_s=120):
        raise RuntimeError("the call for inputs' events were not expanded in time")
    await svc.api_pool.execute(
        """UPDATE actors a SET email = v.email
           FROM unnest($1::uuid[], $2::text[]) AS v (id, email) WHERE a.id = v.id""",
        ids,
        [email_of(n, a) for n, a in enumerate(accounts)],
    )
    called = sink.count("call.opened") + sink.count("other") - called_before
    if receiver is not None:
        await subscribe_slow_hooks(svc, review_id, receiver)
    answered_before = receiver.answered if receiver is not None else 0

    opened_before = sink.count("consultation.opened")
    started, cpu = time.perf_counter(), cpu_now()
    status = await post(svc.http, f"{url}/advance", secretariat, {})
    answered = time.perf_counter() - started

    async def all_told() -> bool:
        return sink.count("consultation.opened") - opened_before >= n

    if not await wait_until(all_told, deadline_s=FANOUT_DEADLINE_S, poll_s=0.01):
        told = sink.count("consultation.opened") - opened_before
        raise RuntimeError(f"only {told} of {n} consultation.opened mails accepted in time")
    elapsed = time.perf_counter() - started
    used = cpu_used(cpu, elapsed)
    hooks_answered = receiver.answered - answered_before if receiver is not None else 0

    due = datetime.fromisoformat(body["timeline"]["consultation_due_at"])
    stored = await svc.api_pool.fetchval(
        "SELECT count(*) FROM tasks WHERE review_id = $1 AND status = 'open' AND due_at = $2",
        review_id,
        due,
    )
    history = await svc.client.get_workflow_handle(workflow_id(review_id)).fetch_history()
    extra = sink.count("consultation.opened") - opened_before - n
    made = await svc.api_pool.fetchrow(
        """SELECT count(*) FILTER (WHERE d.channel = 'webhook') AS webhooks,
                  count(*) FILTER (WHERE d.channel = 'email' AND d.attempts > 1) AS retried
           FROM deliveries d JOIN review_events e ON e.id = d.event_id
           WHERE e.review_id = $1""",
        review_id,
    )
    assert made is not None  # an aggregate's one row
    return {
        "seconds": elapsed,
        "advance_s": answered,
        "call_mails": float(called),
        "tasks_due": float(stored),
        "tasks_reported_open": float(status["progress"]["tasks"]["open"]),
        "history_events": float(len(history.events)),
        "duplicates": float(extra),
        "webhooks_answered": float(hooks_answered),
        "webhooks_made": float(made["webhooks"]),
        "mails_retried": float(made["retried"]),
        **used,
    }


async def main(args: argparse.Namespace) -> Report:
    n = args.stakeholders or (1_000 if args.quick else 10_000)
    report = Report(
        "fanout",
        f"{n:,} invited stakeholders with an email address; median of {args.runs} runs "
        "(a new review each run, the same stakeholders); SMTP over loopback, no STARTTLS",
    )
    sink = start_sink()
    try:
        env = {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(sink.port),
            "SMTP_STARTTLS": "0",
            "REVIEWFLOW_NOTIFY_RATE": "0",
            "REVIEWFLOW_WEBHOOK_ALLOW": "127.0.0.0/8",
        }
        async with services("fanout", env=env) as svc, slow_receiver() as receiver:
            report.machine = svc.machine()
            secretariat = await create_account(svc.api_pool, "secretariat", regions=("ECE",))
            accounts = await bulk_stakeholders(
                svc.api_pool, n, f"Fanout {secrets.token_hex(3)}", with_email=True
            )

            async def alone_then_hooked() -> dict[str, float]:
                alone = await service_run(svc, sink, secretariat, accounts, None)
                hooked = await service_run(svc, sink, secretariat, accounts, receiver)
                return {**hooked, **{f"alone_{k}": v for k, v in alone.items()}}

            bare_runs, service_runs = await bare_then_service(
                args.runs,
                lambda: bare_run(svc, sink, accounts),
                alone_then_hooked,
                "run {run}: bare {b[seconds]:.2f} s; service {s[alone_seconds]:.2f} s alone, "
                "{s[seconds]:.2f} s with slow webhooks ({s[webhooks_answered]:.0f} of "
                "{s[webhooks_made]:.0f} answered by then; advance answered in "
                "{s[advance_s]:.2f} s; tasks due {s[tasks_due]:.0f}; history "
                "{s[history_events]:.0f} events; mails retried {s[mails_retried]:.0f})",
            )
    finally:
        sink.stop()
    bare, svc_m = median_per_metric(bare_runs), median_per_metric(service_runs)
    ratio = svc_m["seconds"] / bare["seconds"]
    tasks_ok = all(
        r[f"{variant}tasks_due"] == n and r[f"{variant}tasks_reported_open"] == n
        for r in service_runs
        for variant in ("", "alone_")
    )
    max_history = int(max(r["history_events"] for r in service_runs))
    report.compare(
        f"wall time until all {n:,} mails accepted, {HOOKS} webhooks answering after "
        f"{SLOW_RECEIVER_S:.0f} s (s)",
        "seconds",
        svc_m,
        bare,
        at_most(ratio, GOAL_RATIO, "x bare"),
    )
    report.add(
        "  the same without webhook subscriptions (s)",
        svc_m["alone_seconds"],
        bare["seconds"],
        ratio=True,
    )
    report.add("mails per second", n / svc_m["seconds"], n / bare["seconds"], ratio=True)
    report.add(
        "webhook deliveries answered when the last mail was accepted / made in all",
        f"{svc_m['webhooks_answered']:.0f} / {svc_m['webhooks_made']:.0f}",
    )
    report.add(
        "tasks stored (advance answered, s) / COPY (s)",
        svc_m["advance_s"],
        bare["copy_s"],
        ratio=True,
    )
    report.add_cpu(svc_m, bare, "Temporal, PostgreSQL and the SMTP server")
    report.add(
        f"tasks open and due at the deadline (every run = {n:,})",
        int(min(r["tasks_due"] for r in service_runs)),
        goal=f"{n:,}",
        met=tasks_ok,
    )
    report.add(
        "review history (events, max over runs)",
        max_history,
        goal=f"< {MAX_EVENTS:,}",
        met=max_history < MAX_EVENTS,
    )
    report.add(
        "mails sent twice",
        int(sum(r["duplicates"] + r["alone_duplicates"] for r in service_runs)),
        goal="0",
        met=all(r["duplicates"] == r["alone_duplicates"] == 0 for r in service_runs),
    )
    report.add(
        "(check) invitations and call.opened mails sent before the timed advance",
        int(sum(r["call_mails"] + r["alone_call_mails"] for r in service_runs)),
        goal="0",
        met=all(r["call_mails"] == r["alone_call_mails"] == 0 for r in service_runs),
    )
    report.notes.append(
        "Per run (service with slow webhooks / alone / bare, s): "
        + "; ".join(
            f"{s['seconds']:.2f} / {s['alone_seconds']:.2f} / {b['seconds']:.2f}"
            for s, b in zip(service_runs, bare_runs, strict=True)
        )
    )
    report.notes.append(
        f"Mean message size: consultation.opened {sink.mean_size('consultation.opened'):,.0f} "
        f"bytes, bare {sink.mean_size('bench.bare'):,.0f} bytes. The SMTP server runs in its "
        "own process; the API, both workers, the slow webhook receiver and the bare script "
        "share one Python process. Mails tried more than once (a failed attempt), per run: "
        + ", ".join(f"{r['mails_retried']:.0f}" for r in service_runs)
        + "."
    )
    return report


if __name__ == "__main__":
    run_main(main, __doc__, OPTIONS)
