"""Dashboard: the server time of a review's dashboard, for a review with 10,000 invited
stakeholders and 50,000 submissions (accepted versions of their inputs).

Stored first (untimed): `--stakeholders` stakeholder accounts of ECE, each its own organisation
(one COPY), invited to a review created through the API and opened by its workflow (call for
inputs). Then, straight into PostgreSQL by COPY, as the workflow would have accepted them: a
stakeholder input from every organisation but one in ten, `--submissions` accepted versions in
all (50,000 by default: 5 or 6 versions of each of 9,000 inputs; one in eight marked late), and
a complete national report (23 objectives) from every member State of the region but three. The
secretariat signs in through a sign-in link and keeps its session cookie.

Timed, sequentially over loopback HTTP after a warm-up: `GET /reviews/{id}/dashboard` (timeline,
the table of member States, response rates by category, coverage of the objectives). Client
latency per request (to the last byte read) and the server's own time per request: the duration
the API's access log records (api.accesslog), from the request read to the response written.

Bare primitives, same run, same process: the same page's bytes answered by a trivial aiohttp
handler over the same loopback HTTP (bench.pages' fixed server), and the SQL the page needs
(the review's row as its secretariat may read it, the national reports, the rates by category)
timed alone on the API's pool.

    python -m bench.dashboard [--quick] [--stakeholders 10000] [--submissions 50000]
                              [--requests 500]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.harness import (
    Account,
    Option,
    Report,
    Services,
    at_most,
    bulk_stakeholders,
    create_account,
    median_per_metric,
    post,
    run_main,
    services,
)
from bench.pages import (
    ServerTimes,
    access_log_written,
    fetch,
    fixed_pages,
    sequential_gets,
    signed_in,
    timed_alone,
)
from db.dashboard import input_rates, national_reports
from db.reviews import visible_review
from domain.access import Actor
from domain.reference import load_reference
from tests import documents
from tests.reviews import copy_submissions, review_body

GOAL_P95_MS = 200.0
PAGE = "dashboard"
# Member States of the region that send no report: the table shows them missing.
SILENT_STATES = 3

OPTIONS: list[Option] = [
    ("--stakeholders", {"type": int, "default": None, "help": "default 10000 (quick: 1000)"}),
    ("--submissions", {"type": int, "default": None, "help": "default 50000 (quick: 5000)"}),
    ("--requests", {"type": int, "default": None, "help": "GETs per run (quick: 50)"}),
]


@dataclass(frozen=True)
class Scene:
    review_id: str
    secretariat: Account
    inputs: int
    versions: int
    reports: int


async def create_review(
    svc: Services, secretariat: Account, accounts: list[Account], name: str = PAGE
) -> str:
    """A review of every ECE member State inviting `accounts`, its call for inputs open; its
    id says what it is for (`name`)."""
    body = review_body(
        id=f"ece-bench-{name}-{secrets.token_hex(4)}",
        member_states=list(load_reference().region("ECE").default_scope),  # type: ignore[union-attr]
        stakeholders=[str(a.id) for a in accounts],
    )
    await post(svc.http, "/v1/reviews", secretariat, body, 201)
    opened = await post(svc.http, f"/v1/reviews/{body['id']}/advance", secretariat, {})
    if opened["phase"] != "call_for_inputs":
        raise RuntimeError(f"the review did not open its call for inputs: {opened['phase']}")
    return str(body["id"])


async def store_submissions(
    svc: Services, review_id: str, accounts: list[Account], total: int
) -> tuple[int, int, int]:
    """The inputs and national reports, by COPY; how many inputs, versions and reports."""
    organisations = await svc.api_pool.fetch(
        "SELECT id, organisation_id FROM actors WHERE id = ANY($1::uuid[])",
        [a.id for a in accounts],
    )
    senders = [row for n, row in enumerate(organisations) if n % 10 != 0]
    submissions: list[tuple[Any, ...]] = []
    rows: list[tuple[Any, ...]] = []
    for n, row in enumerate(senders):
        # `total` versions shared out: the first (total % senders) inputs have one more.
        versions = total // len(senders) + (1 if n < total % len(senders) else 0)
        submission = uuid.uuid4()
        submissions.append(
            (submission, review_id, "stakeholder_input", str(row["organisation_id"]), versions)
        )
        content = json.dumps(documents.stakeholder_input())
        rows += [
            (uuid.uuid4(), submission, v, "accepted", content, "x", row["id"])
            for v in range(1, versions + 1)
        ]
    states = await svc.api_pool.fetchval(
        "SELECT member_states FROM reviews WHERE id = $1", review_id
    )
    reporting = states[:-SILENT_STATES]
    focal_point = await create_account(svc.api_pool, "focal_point", country="DEU", regions=("ECE",))
    for country in reporting:
        submission = uuid.uuid4()
        submissions.append((submission, review_id, "national_report", country, 1))
        report = json.dumps(documents.national_report(country))
        rows.append((uuid.uuid4(), submission, 1, "accepted", report, "x", focal_point.id))
    async with svc.api_pool.acquire() as conn:
        await copy_submissions(conn, [], submissions, rows)
        await conn.execute(
            """UPDATE submission_versions v SET late = true FROM submissions s
               WHERE v.submission_id = s.id AND s.review_id = $1
                 AND v.version = s.latest_version AND hashtext(s.subject) % 8 = 0""",
            review_id,
        )
        await conn.execute("ANALYZE")
    return len(senders), len(rows) - len(reporting), len(reporting)


async def store_scene(svc: Services, stakeholders: int, submissions: int) -> Scene:
    secretariat = await create_account(svc.api_pool, "secretariat", regions=("ECE",))
    accounts = await bulk_stakeholders(
        svc.api_pool, stakeholders, f"Dashboard {secrets.token_hex(3)}", with_email=False
    )
    review_id = await create_review(svc, secretariat, accounts)
    inputs, stored, reports = await store_submissions(svc, review_id, accounts, submissions)
    return Scene(review_id, secretariat, inputs, stored, reports)


def check_page(html: str, scene: Scene) -> None:
    """The page measured is the dashboard asked for, with what was stored on it."""
    if "<h1>Dashboard</h1>" not in html or 'id="coverage"' not in html:
        raise RuntimeError("the page is not the review's dashboard")
    if html.count(">Missing<") != SILENT_STATES:
        raise RuntimeError("the dashboard does not show the States that sent nothing")


async def one_run(
    svc: Services,
    scene: Scene,
    clients: tuple[aiohttp.ClientSession, aiohttp.ClientSession],
    path: str,
    sizes: tuple[int, int],
) -> dict[str, dict[str, float]]:
    requests, warmup = sizes
    client, bare = clients
    secretariat = Actor(id=scene.secretariat.id, name="", role="secretariat", regions=("ECE",))

    async def queries() -> None:
        async with svc.api_pool.acquire() as conn:
            await visible_review(conn, secretariat, scene.review_id, invited=False)
            await national_reports(conn, scene.review_id)
            await input_rates(conn, scene.review_id)

    return {
        "page": await sequential_gets(client, path, requests, warmup),
        "bare": await sequential_gets(bare, f"/{PAGE}", requests, warmup),
        "sql": await timed_alone(queries, requests, warmup),
    }


async def main(args: argparse.Namespace) -> Report:
    n = args.stakeholders or (1_000 if args.quick else 10_000)
    submissions = args.submissions or (5_000 if args.quick else 50_000)
    requests = args.requests or (50 if args.quick else 500)
    warmup = max(10, requests // 10)
    runs = args.runs
    report = Report(
        "dashboard",
        f"{n:,} invited stakeholders (each its own organisation); {submissions:,} submissions "
        f"(accepted versions of an input from 9 in 10 of them); national reports from all but "
        f"{SILENT_STATES} of ECE's member States; {requests:,} sequential GETs of the dashboard "
        f"per run after {warmup:,} untimed; median of {runs} runs",
        setup=(
            "Client latency: from sending the GET to its last byte read, one request at a time "
            "over one keep-alive connection (aiohttp client in the same process as the API and "
            "the workers). Server time: the duration the API's access log records for the "
            "request (session check, the review's row, the national reports with their "
            "objectives' statuses, the rates by category, rendering). The bare HTTP page is the "
            "same bytes from a handler that does nothing else, on its own aiohttp server in the "
            "same process; the bare SQL is the page's three queries, one after another on one "
            "pooled connection. Submissions are stored by COPY, as accepted versions, not "
            "through the API. The API's per-address rate limit is off (REVIEWFLOW_RATE_LIMIT=0)."
        ),
    )
    with access_log_written():
        async with (
            services(PAGE, env={"REVIEWFLOW_RATE_LIMIT": "0"}, access_log=ServerTimes) as svc,
            contextlib.AsyncExitStack() as stack,
        ):
            report.machine = svc.machine()
            started = time.perf_counter()
            scene = await store_scene(svc, n, submissions)
            print(
                f"stored {n:,} stakeholders, {scene.inputs:,} inputs in {scene.versions:,} "
                f"versions and {scene.reports} national reports in "
                f"{time.perf_counter() - started:.1f} s"
            )
            client = await stack.enter_async_context(await signed_in(svc, scene.secretariat))
            path = f"/reviews/{scene.review_id}/dashboard"
            html = await fetch(client, path)
            check_page(html.decode(), scene)
            base = await stack.enter_async_context(fixed_pages({f"/{PAGE}": html}))
            bare = await stack.enter_async_context(aiohttp.ClientSession(base))
            measured = []
            for run in range(runs):
                measured.append(await one_run(svc, scene, (client, bare), path, (requests, warmup)))
                m = measured[-1]
                print(
                    f"run {run + 1}: dashboard server p95 {m['page']['server_p95']:.1f} ms "
                    f"(SQL alone p95 {m['sql']['p95']:.1f}; bare page {m['bare']['p95']:.1f})"
                )
    page = median_per_metric([m["page"] for m in measured])
    bare_page = median_per_metric([m["bare"] for m in measured])
    sql = median_per_metric([m["sql"] for m in measured])
    for p in ("p50", "p95", "p99"):
        goal = at_most(page[f"server_{p}"], GOAL_P95_MS, " ms") if p == "p95" else None
        report.compare(f"dashboard: server time {p} (ms)", f"server_{p}", page, bare_page, goal)
    report.add_server_beside("dashboard", page, sql, "its SQL alone", "ms")
    for p in ("p50", "p95"):
        report.compare(f"dashboard: client latency {p} (ms)", p, page, bare_page)
    report.add("page size (kB)", f"{len(html) / 1000:,.1f}")
    report.notes.append(
        "Per run, server time p95 / SQL alone p95 (ms): "
        + "; ".join(f"{m['page']['server_p95']:.1f} / {m['sql']['p95']:.1f}" for m in measured)
    )
    return report


if __name__ == "__main__":
    run_main(main, __doc__, OPTIONS)
