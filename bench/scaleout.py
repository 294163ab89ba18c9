"""Ingest through API processes: the same 64 clients through one, then two, `reviewflow api`.

The service runs as deployed: `reviewflow api` twice (two ports) and `reviewflow worker` twice,
each a process of its own, on one Temporal dev server and one PostgreSQL. Timed as in
bench/ingest.py: each client (a stakeholder of its own organisation, invited to the review)
submits `--per-client` valid inputs one after another over loopback HTTP. In a "one API" round
every client sends to the first API; in a "two APIs" round the n-th client sends to API
n mod 2. Both workers serve every round.

Bare primitive, same run: Temporal Updates into one trivial workflow (bench/primitives.py)
with 8 concurrent callers, from this process, no HTTP, no validation, no database; as many
Updates as there were submissions.

Each round runs the bare primitive, then the one-API and two-API rounds (their order swapped
every other round); each metric is the median over the rounds.

    python -m bench.scaleout [--quick] [--clients 64] [--per-client 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import asyncpg

from bench.harness import (
    Account,
    Option,
    Report,
    at_least,
    create_account,
    machine_info,
    median_per_metric,
    postgres_database,
    run_main,
    temporal_server,
)
from bench.ingest import GOAL_RATIO, MAX_BARE_UPDATES, bare_round, bare_worker, service_round
from db.pool import create_pool
from tests.processes import Child, api_child, child_env, free_port, worker_child

OPTIONS: list[Option] = [
    ("--clients", {"type": int, "default": 64}),
    ("--per-client", {"type": int, "default": None, "help": "default 20 (quick: 5)"}),
    ("--callers", {"type": int, "default": 8, "help": "bare primitive's concurrent callers"}),
]
APIS = 2
WORKERS = 2
SHAPES = {"one API": 1, "two APIs": 2}


@contextlib.asynccontextmanager
async def processes(dsn: str, temporal_address: str, root: Path) -> AsyncIterator[list[str]]:
    """Two API and two worker processes on one task queue; yields the APIs' addresses."""
    env = child_env(
        root, dsn, temporal_address, task_queue=f"bench-scaleout-{secrets.token_hex(3)}"
    )
    apis = [
        api_child({**env, "REVIEWFLOW_PORT": str(port)}, root / f"api{n}.log")
        for n, port in enumerate(free_port() for _ in range(APIS))
    ]
    children: list[Child] = [
        *(worker_child(env, root / f"worker{n}.log") for n in range(WORKERS)),
        *apis,
    ]
    try:
        for child in children:
            child.start()
        for child in children:
            await child.ready()
        yield [f"http://127.0.0.1:{api.env['REVIEWFLOW_PORT']}" for api in apis]
    finally:
        for child in children:
            child.kill()


@contextlib.asynccontextmanager
async def sessions(urls: list[str]) -> AsyncIterator[list[aiohttp.ClientSession]]:
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                aiohttp.ClientSession(
                    url,
                    connector=aiohttp.TCPConnector(limit=256),
                    timeout=aiohttp.ClientTimeout(total=120),
                )
            )
            for url in urls
        ]


async def main(args: argparse.Namespace) -> Report:
    per_client = args.per_client or (5 if args.quick else 20)
    total = args.clients * per_client
    bare_total = min(total, MAX_BARE_UPDATES)
    report = Report(
        "scaleout",
        f"{args.clients} HTTP clients x {per_client} stakeholder inputs = {total:,} submissions "
        f"to one review per round, through one API process and through two, with {WORKERS} "
        f"worker processes; bare: {bare_total:,} Updates, {args.callers} callers; median of "
        f"{args.runs} rounds each (plus one warm-up round each)",
        setup=(
            f"`reviewflow api` x{APIS} and `reviewflow worker` x{WORKERS} run as processes of "
            "their own, as deployed; the clients, the bare workflow's worker and its callers "
            "run in the benchmark's process; the Temporal dev server (in memory) and "
            "PostgreSQL in theirs. The stakeholders have no email address, so no receipts are "
            "mailed during the rounds. All of it shares the machine's cores."
        ),
    )
    runs: dict[str, list[dict[str, float]]] = {"bare": [], **{shape: [] for shape in SHAPES}}
    with tempfile.TemporaryDirectory(prefix="rf-bench-scaleout-") as folder:
        async with (
            postgres_database("scaleout") as (dsn, version),
            temporal_server() as temporal,
            bare_worker(temporal.client),
            processes(dsn, temporal.client.service_client.config.target_host, Path(folder)) as urls,
            sessions(urls) as apis,
        ):
            where = "DATABASE_URL" if "DATABASE_URL" in os.environ else "embedded, temporary folder"
            report.machine = machine_info(f"{version} ({where})")
            pool = await create_pool(dsn, max_size=4)
            try:
                secretariat, clients = await accounts(pool, args.clients)
                print("warm-up ...")
                await bare_round(temporal.client, min(200, bare_total), args.callers)
                for count in SHAPES.values():
                    await service_round(apis[:count], pool, secretariat, clients, 1)
                for run in range(1, args.runs + 1):
                    runs["bare"].append(await bare_round(temporal.client, bare_total, args.callers))
                    order = list(SHAPES.items())
                    for shape, count in order if run % 2 else order[::-1]:
                        runs[shape].append(
                            await service_round(
                                apis[:count], pool, secretariat, clients, per_client
                            )
                        )
                    print(
                        f"round {run}: bare {runs['bare'][-1]['throughput']:.0f}/s; "
                        + "; ".join(
                            f"{shape} {runs[shape][-1]['throughput']:.0f}/s "
                            f"p99 {runs[shape][-1]['p99']:.0f} ms "
                            f"errors {runs[shape][-1]['errors']:.0f}"
                            for shape in SHAPES
                        )
                    )
            finally:
                await pool.close()
    fill(report, runs, args.runs)
    return report


async def accounts(pool: asyncpg.Pool, count: int) -> tuple[Account, list[Account]]:
    secretariat = await create_account(pool, "secretariat", regions=("ECE",), email=None)
    tag = secrets.token_hex(3)
    kinds = ("civil_society", "academia", "trade_unions", "private_sector")
    clients = [
        await create_account(
            pool,
            "stakeholder",
            organisation=f"Scale-out organisation {tag} {n:02d}",
            stakeholder_category=kinds[n % len(kinds)],
            regions=("ECE",),
        )
        for n in range(count)
    ]
    return secretariat, clients


def fill(report: Report, runs: dict[str, list[dict[str, float]]], rounds: int) -> None:
    bare = median_per_metric(runs["bare"])
    measured = {shape: median_per_metric(runs[shape]) for shape in SHAPES}
    for shape, m in measured.items():
        ratio = m["throughput"] / bare["throughput"]
        report.compare(
            f"throughput, {shape} (requests/s)",
            "throughput",
            m,
            bare,
            at_least(ratio, GOAL_RATIO, "x bare"),
        )
    one, two = measured["one API"], measured["two APIs"]
    report.add("(info) throughput, two APIs / one API", two["throughput"] / one["throughput"])
    for shape, m in measured.items():
        report.compare(f"latency p50, {shape} (ms)", "p50", m, bare)
        report.compare(f"latency p99, {shape} (ms)", "p99", m, bare)
    for shape in SHAPES:
        errors = int(sum(r["errors"] for r in runs[shape]))
        report.add(f"errors, {shape} (all {rounds} rounds)", errors, goal="0", met=errors == 0)
    for shape, m in measured.items():
        report.compare(
            f"CPU busy, {shape}, all processes with Temporal and PostgreSQL (cores)",
            "cpu_all",
            m,
            bare,
        )
    for shape, m in measured.items():
        report.add(
            f"submissions accepted per accepting transaction, {shape} (mean)",
            m["per_transaction"],
        )
    report.notes.append(
        "Per round (requests/s): "
        + "; ".join(
            f"bare {b['throughput']:.0f}, one API {o['throughput']:.0f}, "
            f"two APIs {t['throughput']:.0f}"
            for b, o, t in zip(runs["bare"], runs["one API"], runs["two APIs"], strict=True)
        )
    )


if __name__ == "__main__":
    run_main(main, __doc__, OPTIONS)
