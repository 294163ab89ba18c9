"""Ingest: 64 concurrent HTTP clients submitting stakeholder inputs to one review.

Timed: each client (a stakeholder of its own organisation, invited to the review) submits
`--per-client` valid inputs one after another over loopback HTTP (authentication, JSON Schema
validation, PostgreSQL, the review workflow's `submit` Update and its activity). Resubmissions
are new versions of the organisation's input.

Bare primitive, same run: Temporal Updates into one trivial workflow (bench/primitives.py)
with 8 concurrent callers, no HTTP, no validation, no database; as many Updates as there were
submissions (a fresh workflow each round, below the per-run Update limit).

Rounds alternate bare / service; each metric is the median over the rounds.

    python -m bench.ingest [--quick] [--clients 64] [--per-client 20] [--runs 3]
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
from collections.abc import AsyncIterator, Sequence

import aiohttp
import asyncpg
from temporalio.client import Client
from temporalio.worker import Worker

from api.updates import MAX_IN_FLIGHT
from bench.harness import (
    Account,
    Option,
    Report,
    at_least,
    at_most,
    bare_then_service,
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

GOAL_RATIO = 0.5
GOAL_P99_MS = 250.0
# Stay well below Temporal's ~2,000 Updates per workflow run for the bare workflow.
MAX_BARE_UPDATES = 1_800
ROUND_DEADLINE_S = 600.0

# This scenario's options, after those every scenario takes (harness.parser).
OPTIONS: list[Option] = [
    ("--clients", {"type": int, "default": 64}),
    ("--per-client", {"type": int, "default": None, "help": "default 20 (quick: 5)"}),
    ("--callers", {"type": int, "default": 8, "help": "bare primitive's concurrent callers"}),
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


async def new_review(
    http: aiohttp.ClientSession, secretariat: Account, invited: list[Account]
) -> str:
    body = review_body(
        id=f"ece-bench-ingest-{secrets.token_hex(4)}", stakeholders=[str(a.id) for a in invited]
    )
    await post(http, "/v1/reviews", secretariat, body, 201)
    await post(http, f"/v1/reviews/{body['id']}/advance", secretariat, {})
    return str(body["id"])


async def service_round(
    apis: Sequence[aiohttp.ClientSession],
    pool: asyncpg.Pool,
    secretariat: Account,
    clients: list[Account],
    per_client: int,
) -> dict[str, float]:
    """Each client submits through one of `apis` (sessions on each API's address), the n-th
    through the (n mod len(apis))-th; `pool` reads what was stored."""
    review_id = await new_review(apis[0], secretariat, clients)
    path = f"/v1/reviews/{review_id}/submissions"
    latencies: list[float] = []
    failures: dict[str, int] = {}
    timeline: list[tuple[uuid.UUID, int, float, float]] = []

    async def client(account: Account, http: aiohttp.ClientSession) -> None:
        for n in range(per_client):
            content = documents.stakeholder_input(account.organisation or "", account.category)
            content["input"] += f" Update {n + 1} of our assessment."
            started, sent_at = time.perf_counter(), time.time()
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
    total = len(clients) * per_client
    accepted = await pool.fetchval(
        """SELECT count(*) FROM submission_versions v JOIN submissions s ON s.id = v.submission_id
           WHERE s.review_id = $1 AND v.status = 'accepted'""",
        review_id,
    )
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


async def main(args: argparse.Namespace) -> Report:
    per_client = args.per_client or (5 if args.quick else 20)
    clients_n = args.clients
    total = clients_n * per_client
    bare_total = min(total, MAX_BARE_UPDATES)
    report = Report(
        "ingest",
        f"{clients_n} HTTP clients x {per_client} stakeholder inputs = {total:,} submissions "
        f"to one review per round; bare: {bare_total:,} Updates, {args.callers} callers; "
        f"median of {args.runs} rounds each (plus one warm-up round each)",
        setup=(
            "Everything (API, both workers, the benchmark's clients and the bare workflow's "
            "worker) runs in one Python process, as `reviewflow dev` does; the stakeholders have "
            "no email address, so no receipts are mailed during the rounds."
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
        print("warm-up ...")
        await bare_round(svc.client, min(200, bare_total), args.callers)
        await service_round([svc.http], svc.api_pool, secretariat, clients, 1)
        bare_runs, service_runs = await bare_then_service(
            args.runs,
            lambda: bare_round(svc.client, bare_total, args.callers),
            lambda: service_round([svc.http], svc.api_pool, secretariat, clients, per_client),
            "round {run}: bare {b[throughput]:.0f}/s p99 {b[p99]:.0f} ms; "
            "service {s[throughput]:.0f}/s p50 {s[p50]:.0f} ms p99 {s[p99]:.0f} ms "
            "errors {s[errors]:.0f}",
        )
    bare, svc_m = median_per_metric(bare_runs), median_per_metric(service_runs)
    ratio = svc_m["throughput"] / bare["throughput"]
    errors_total = int(sum(r["errors"] for r in service_runs))
    report.compare(
        "throughput (requests/s)", "throughput", svc_m, bare, at_least(ratio, GOAL_RATIO, "x bare")
    )
    report.compare("latency p50 (ms)", "p50", svc_m, bare)
    report.compare(
        "latency p99 (ms)", "p99", svc_m, bare, at_most(svc_m["p99"], GOAL_P99_MS, " ms")
    )
    report.add(
        f"errors (all {args.runs} rounds)",
        errors_total,
        int(sum(r["errors"] for r in bare_runs)),
        goal="0",
        met=errors_total == 0,
    )
    report.add("round wall time (s)", svc_m["seconds"], bare["seconds"])
    report.add_cpu(svc_m, bare, "Temporal and PostgreSQL")
    report.add("submissions accepted per accepting transaction (mean)", svc_m["per_transaction"])
    report.notes.append(
        "Where a submission's time goes (p50 / p99 in ms, medians over the rounds), from the "
        "clocks of the client, PostgreSQL and Temporal: sent -> stored as pending (HTTP, "
        f"authentication, validation): {_split(svc_m, 'before_store')}; -> the review "
        "workflow's `submit` handler runs (waiting in the API to be coalesced and for an "
        f"Update slot, {MAX_IN_FLIGHT} per review; the Update's admission; a workflow task): "
        f"{_split(svc_m, 'to_handler')}; -> the accepting activity's transaction begins: "
        f"{_split(svc_m, 'to_activity')}; -> the client has its answer (the transaction, the "
        "workflow task that completes the Update, the HTTP answer): "
        f"{_split(svc_m, 'to_answer')}."
    )
    report.notes.append(
        "Per round: "
        + "; ".join(
            f"{s['throughput']:.0f}/s p99 {s['p99']:.0f} ms vs bare {b['throughput']:.0f}/s"
            for s, b in zip(service_runs, bare_runs, strict=True)
        )
    )
    return report


if __name__ == "__main__":
    run_main(main, __doc__, OPTIONS)
