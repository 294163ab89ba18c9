"""Ingest: 64 concurrent HTTP clients submitting stakeholder inputs to one review.

Timed: each client (a stakeholder of its own organisation, invited to the review) submits
`--per-client` valid inputs one after another over loopback HTTP (authentication, JSON Schema
validation, PostgreSQL, the review workflow's `submit` Update and its activity). Resubmissions
are new versions of the organisation's input.

The same clients then submit the same way into a big review: `--big-invitees` invited
stakeholders (the clients among them, spread through the list; the others stored by one COPY,
as bench/harness.py's bulk_stakeholders stores them) and `--big-stored` accepted submissions
already stored by COPY before the round (bench/dashboard.py's store_submissions: inputs from
9 in 10 of the other invitees, national reports from the member States). Its throughput is to
be within 10 % of the small review's of the same round.

Bare primitive, same run: Temporal Updates into one trivial workflow (bench/primitives.py)
with 8 concurrent callers, no HTTP, no validation, no database; as many Updates as there were
submissions (a fresh workflow each round, below the per-run Update limit).

Each round runs the bare primitive, then the small review and the big one (which of them goes
first alternates from round to round), each review a fresh one; each metric is the median over
the rounds.

    python -m bench.ingest [--quick] [--clients 64] [--per-client 20] [--runs 3]
                           [--big-invitees 10000] [--big-stored 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiohttp
import asyncpg
from temporalio.client import Client
from temporalio.worker import Worker

from api.updates import MAX_IN_FLIGHT
from bench.dashboard import store_submissions
from bench.harness import (
    Account,
    Option,
    Report,
    at_least,
    at_most,
    bare_then_service,
    bulk_stakeholders,
    cpu_now,
    cpu_used,
    create_account,
    median_per_metric,
    percentile,
    post,
    run_main,
    services,
)
from bench.primitives import BARE_TASK_QUEUE, BareUpdatesWorkflow
from tests import documents
from tests.reviews import review_body

GOAL_RATIO = 1.0
GOAL_P99_MS = 150.0
# The big review's throughput against the small one's of the same round: within 10 %.
GOAL_BIG_RATIO = 0.9
# Stay well below Temporal's ~2,000 Updates per workflow run for the bare workflow.
MAX_BARE_UPDATES = 1_800
ROUND_DEADLINE_S = 600.0

# This scenario's options, after those every scenario takes (harness.parser).
OPTIONS: list[Option] = [
    ("--clients", {"type": int, "default": 64}),
    ("--per-client", {"type": int, "default": None, "help": "default 20 (quick: 5)"}),
    ("--callers", {"type": int, "default": 8, "help": "bare primitive's concurrent callers"}),
    ("--big-invitees", {"type": int, "default": None, "help": "default 10000 (quick: 1000)"}),
    ("--big-stored", {"type": int, "default": None, "help": "default 50000 (quick: 5000)"}),
]


@contextlib.asynccontextmanager
async def bare_worker(client: Client) -> AsyncIterator[None]:
    async with Worker(client, task_queue=BARE_TASK_QUEUE, workflows=[BareUpdatesWorkflow]):
        yield


# A submission's path through the service, from the clocks of the client (send, answer), of
# PostgreSQL (stored as pending: received_at; the accepting transaction began: recorded_at) and
# of Temporal (the workflow's handler ran: decided_at, its workflow.now()); one machine, one clock.
BREAKDOWN = """
    WITH sent AS (
        SELECT * FROM unnest($2::uuid[], $3::int[], $4::float8[], $5::float8[])
                 AS r (submission_id, version, t0, t1)),
    timed AS (
        SELECT (extract(epoch FROM v.received_at) - r.t0) * 1000 AS before_store,
               extract(epoch FROM v.decided_at - v.received_at) * 1000 AS to_handler,
               extract(epoch FROM e.recorded_at - v.decided_at) * 1000 AS to_activity,
               (r.t1 - extract(epoch FROM e.recorded_at)) * 1000 AS to_answer,
               e.recorded_at
        FROM sent r
        JOIN submission_versions v ON v.submission_id = r.submission_id AND v.version = r.version
        JOIN submissions s ON s.id = v.submission_id
        JOIN review_events e ON e.review_id = s.review_id AND e.type = 'submission.accepted'
             AND e.data ->> 'submission_id' = s.id::text AND (e.data ->> 'version')::int = v.version
        WHERE s.review_id = $1)
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY before_store) AS before_store_p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY before_store) AS before_store_p99,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY to_handler) AS to_handler_p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY to_handler) AS to_handler_p99,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY to_activity) AS to_activity_p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY to_activity) AS to_activity_p99,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY to_answer) AS to_answer_p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY to_answer) AS to_answer_p99,
           -- One accepting transaction per batch: its events share the transaction's now().
           count(*)::float / greatest(count(DISTINCT recorded_at), 1) AS per_transaction
    FROM timed"""


async def bare_round(client: Client, total: int, callers: int) -> dict[str, float]:
    """`total` Updates into one new workflow from `callers` concurrent callers."""
    handle = await client.start_workflow(
        BareUpdatesWorkflow.run,
        id=f"bench-bare-{uuid.uuid4()}",
        task_queue=BARE_TASK_QUEUE,
    )
    latencies: list[float] = []
    errors = 0
    remaining = total

    async def caller() -> None:
        nonlocal remaining, errors
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            try:
                await handle.execute_update(BareUpdatesWorkflow.bump, 1)
            except Exception:  # any refusal counts as an error of the primitive
                errors += 1
            latencies.append((time.perf_counter() - started) * 1000)

    started, cpu = time.perf_counter(), cpu_now()
    async with asyncio.timeout(ROUND_DEADLINE_S):
        await asyncio.gather(*(caller() for _ in range(callers)))
    elapsed = time.perf_counter() - started
    used = cpu_used(cpu, elapsed)
    await handle.signal(BareUpdatesWorkflow.finish)
    counted = await handle.result()
    return {
        "requests": float(total),
        "throughput": total / elapsed,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "errors": float(errors + (total - errors - counted)),
        "seconds": elapsed,
        **used,
    }


@dataclass(frozen=True)
class Crowd:
    """Who a round's review invites besides the clients, and what it holds before the round:
    `seed(review_id)` stores it (untimed)."""

    others: list[Account]
    seed: Callable[[str], Awaitable[object]]


def invitees(clients: list[Account], others: list[Account]) -> list[str]:
    """The clients spread evenly through the other invitees, as ids."""
    invited = [str(a.id) for a in others]
    step = len(invited) // len(clients) + 1 if clients else 1
    for n, account in enumerate(clients):
        invited.insert(n * step, str(account.id))
    return invited


async def new_review(http: aiohttp.ClientSession, secretariat: Account, invited: list[str]) -> str:
    body = review_body(id=f"ece-bench-ingest-{secrets.token_hex(4)}", stakeholders=invited)
    await post(http, "/v1/reviews", secretariat, body, 201)
    await post(http, f"/v1/reviews/{body['id']}/advance", secretariat, {})
    return str(body["id"])


ACCEPTED = """SELECT count(*) FROM submission_versions v JOIN submissions s ON s.id = v.submission_id
              WHERE s.review_id = $1 AND v.status = 'accepted'"""


async def service_round(
    apis: Sequence[aiohttp.ClientSession],
    pool: asyncpg.Pool,
    secretariat: Account,
    clients: list[Account],
    per_client: int,
    crowd: Crowd | None = None,
) -> dict[str, float]:
    """Each client submits through one of `apis` (sessions on each API's address), the n-th
    through the (n mod len(apis))-th; `pool` reads what was stored. The review invites the
    clients alone, or with `crowd` the crowd's others too, seeded before the clock starts."""
    others = crowd.others if crowd else []
    review_id = await new_review(apis[0], secretariat, invitees(clients, others))
    if crowd:
        await crowd.seed(review_id)
    stored = await pool.fetchval(ACCEPTED, review_id)
    path = f"/v1/reviews/{review_id}/submissions"
    latencies: list[float] = []
    failures: dict[str, int] = {}
    timeline: list[tuple[uuid.UUID, int, float, float]] = []

    async def client(account: Account, http: aiohttp.ClientSession) -> None:
        for n in range(per_client):
            content = documents.stakeholder_input(
                account.organisation or "", account.category or ""
            )
            content["input"] += f" Update {n + 1} of our assessment."
            started, sent_at = time.perf_counter(), time.time()
            status: int | str
            try:
                async with http.post(
                    path,
                    json={"kind": "stakeholder_input", "content": content},
                    headers=account.headers,
                ) as response:
                    body = await response.read()
                    status = response.status
            except Exception as error:  # a failed request is an error, counted, not fatal
                status = type(error).__name__
            latencies.append((time.perf_counter() - started) * 1000)
            if status == 201:
                receipt = json.loads(body)
                timeline.append(
                    (uuid.UUID(receipt["id"]), receipt["version"], sent_at, time.time())
                )
            if status != 201:
                failures[str(status)] = failures.get(str(status), 0) + 1

    started, cpu = time.perf_counter(), cpu_now()
    async with asyncio.timeout(ROUND_DEADLINE_S):
        await asyncio.gather(*(client(a, apis[n % len(apis)]) for n, a in enumerate(clients)))
    elapsed = time.perf_counter() - started
    used = cpu_used(cpu, elapsed)
    split = await pool.fetchrow(BREAKDOWN, review_id, *map(list, zip(*timeline, strict=True)))
    assert split is not None  # an aggregate always answers one row
    total = len(clients) * per_client
    accepted = await pool.fetchval(ACCEPTED, review_id) - stored
    if failures:
        print(f"  errors by status: {failures}")
    return {
        "requests": float(total),
        "throughput": total / elapsed,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "errors": float(sum(failures.values()) + abs(total - accepted - sum(failures.values()))),
        "seconds": elapsed,
        **used,
        **{k: float(v) if v is not None else math.nan for k, v in split.items()},
    }


def _split(metrics: dict[str, float], name: str) -> str:
    return f"{metrics[name + '_p50']:.0f} / {metrics[name + '_p99']:.0f}"


def breakdown(metrics: dict[str, float]) -> str:
    """Where a submission's time went, from the BREAKDOWN figures of `metrics`."""
    return (
        "sent -> stored as pending (HTTP, authentication, validation): "
        f"{_split(metrics, 'before_store')}; -> the review workflow's `submit` handler runs "
        "(waiting in the API to be coalesced and for an Update slot, "
        f"{MAX_IN_FLIGHT} per review; the Update's admission; a workflow task): "
        f"{_split(metrics, 'to_handler')}; -> the accepting activity's transaction begins: "
        f"{_split(metrics, 'to_activity')}; -> the client has its answer (the transaction, the "
        f"workflow task that completes the Update, the HTTP answer): {_split(metrics, 'to_answer')}"
    )


# The big review's measures, beside the small one's in a round's dict.
BIG = "big_"


def big_of(measured: dict[str, float]) -> dict[str, float]:
    return {k.removeprefix(BIG): v for k, v in measured.items() if k.startswith(BIG)}


async def main(args: argparse.Namespace) -> Report:
    per_client = args.per_client or (5 if args.quick else 20)
    clients_n = args.clients
    total = clients_n * per_client
    bare_total = min(total, MAX_BARE_UPDATES)
    big_invitees = args.big_invitees or (1_000 if args.quick else 10_000)
    big_stored = args.big_stored or (5_000 if args.quick else 50_000)
    report = Report(
        "ingest",
        f"{clients_n} HTTP clients x {per_client} stakeholder inputs = {total:,} submissions "
        f"to one review per round, a small one ({clients_n} invitees, nothing stored) and a big "
        f"one ({big_invitees:,} invitees, {big_stored:,} accepted submissions stored before); "
        f"bare: {bare_total:,} Updates, {args.callers} callers; median of {args.runs} rounds "
        "each (plus one warm-up round of the bare and the small review)",
        setup=(
            "Everything (API, both workers, the benchmark's clients and the bare workflow's "
            "worker) runs in one Python process, as `reviewflow dev` does; the stakeholders have "
            "no email address, so no receipts are mailed during the rounds. The big review's "
            "other invitees and its stored submissions (accepted versions of inputs from 9 in 10 "
            "of them, national reports) are stored by COPY before its round starts, untimed."
        ),
    )
    async with services("ingest", extra_workers=bare_worker, http_connections=256) as svc:
        report.machine = svc.machine()
        secretariat = await create_account(
            svc.api_pool, "secretariat", regions=("ECE",), email=None
        )
        tag = secrets.token_hex(3)
        kinds = ("civil_society", "academia", "trade_unions", "private_sector")
        clients = [
            await create_account(
                svc.api_pool,
                "stakeholder",
                organisation=f"Ingest organisation {tag} {n:02d}",
                stakeholder_category=kinds[n % len(kinds)],
                regions=("ECE",),
            )
            for n in range(clients_n)
        ]
        others = await bulk_stakeholders(
            svc.api_pool, max(0, big_invitees - clients_n), f"Ingest {tag}", with_email=False
        )
        crowd = Crowd(
            others, lambda review_id: store_submissions(svc, review_id, others, big_stored)
        )

        rounds = 0

        async def both_reviews() -> dict[str, float]:
            """The small review's round and the big one's; which goes first alternates, so
            that neither always meets the machine just after the bare primitive."""
            nonlocal rounds
            rounds += 1
            measured: dict[str, dict[str, float]] = {}
            for name in ("small", "big") if rounds % 2 else ("big", "small"):
                measured[name] = await service_round(
                    [svc.http],
                    svc.api_pool,
                    secretariat,
                    clients,
                    per_client,
                    crowd if name == "big" else None,
                )
            return {**measured["small"], **{BIG + k: v for k, v in measured["big"].items()}}

        print("warm-up ...")
        await bare_round(svc.client, min(200, bare_total), args.callers)
        await service_round([svc.http], svc.api_pool, secretariat, clients, 1)
        bare_runs, service_runs = await bare_then_service(
            args.runs,
            lambda: bare_round(svc.client, bare_total, args.callers),
            both_reviews,
            "round {run}: bare {b[throughput]:.0f}/s p99 {b[p99]:.0f} ms; "
            "small review {s[throughput]:.0f}/s p50 {s[p50]:.0f} ms p99 {s[p99]:.0f} ms "
            "errors {s[errors]:.0f}; big review {s[big_throughput]:.0f}/s "
            "p50 {s[big_p50]:.0f} ms p99 {s[big_p99]:.0f} ms errors {s[big_errors]:.0f}",
        )
    bare, small = median_per_metric(bare_runs), median_per_metric(service_runs)
    big = big_of(small)
    add_rows(report, args.runs, bare_runs, service_runs, (bare, small, big))
    report.notes.append(
        "Where a submission's time goes (p50 / p99 in ms, medians over the rounds), from the "
        f"clocks of the client, PostgreSQL and Temporal. Small review: {breakdown(small)}. "
        f"Big review: {breakdown(big)}."
    )
    report.notes.append(
        "Per round: "
        + "; ".join(
            f"small {s['throughput']:.0f}/s p99 {s['p99']:.0f} ms, big "
            f"{s[BIG + 'throughput']:.0f}/s p99 {s[BIG + 'p99']:.0f} ms vs bare "
            f"{b['throughput']:.0f}/s"
            for s, b in zip(service_runs, bare_runs, strict=True)
        )
    )
    return report


def add_rows(
    report: Report,
    runs: int,
    bare_runs: list[dict[str, float]],
    service_runs: list[dict[str, float]],
    medians: tuple[dict[str, float], dict[str, float], dict[str, float]],
) -> None:
    """The table: the small review beside the bare Updates, the big one beside the small."""
    bare, small, big = medians
    ratio = small["throughput"] / bare["throughput"]
    report.compare(
        "throughput (requests/s)", "throughput", small, bare, at_least(ratio, GOAL_RATIO, "x bare")
    )
    report.compare("latency p50 (ms)", "p50", small, bare)
    report.compare(
        "latency p99 (ms)", "p99", small, bare, at_most(small["p99"], GOAL_P99_MS, " ms")
    )
    errors = int(sum(r["errors"] + r[BIG + "errors"] for r in service_runs))
    report.add(
        f"errors, small and big reviews (all {runs} rounds)",
        errors,
        int(sum(r["errors"] for r in bare_runs)),
        goal="0",
        met=errors == 0,
    )
    report.add("round wall time (s)", small["seconds"], bare["seconds"])
    report.add_cpu(small, bare, "Temporal and PostgreSQL")
    report.add("submissions accepted per accepting transaction (mean)", small["per_transaction"])
    big_ratio = big["throughput"] / small["throughput"]
    report.compare(
        "big review: throughput, beside the small review's (requests/s)",
        "throughput",
        big,
        small,
        at_least(big_ratio, GOAL_BIG_RATIO, "x small"),
    )
    report.compare(
        "big review: throughput, beside the bare Updates (requests/s)", "throughput", big, bare
    )
    report.compare("big review: latency p50, beside the small review's (ms)", "p50", big, small)
    report.compare(
        "big review: latency p99, beside the small review's (ms)",
        "p99",
        big,
        small,
        at_most(big["p99"], GOAL_P99_MS, " ms"),
    )
    report.add(
        "big review: submissions accepted per accepting transaction (mean)", big["per_transaction"]
    )


if __name__ == "__main__":
    run_main(main, __doc__, OPTIONS)
