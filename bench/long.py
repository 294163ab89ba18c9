"""A long review: 20,000 submissions and 10,000 consultation answers over its life, then compiled.

Everything goes through the API over loopback HTTP, as its users would: the secretariat
creates an ECE review inviting `--responses` stakeholders (each its own organisation) and opens
the call for inputs; the stakeholders submit `--submissions` inputs in all (each organisation
its share, later ones being new versions) from `--clients` concurrent clients; the
consultation opens (one task each) and every stakeholder answers its task through
`POST /v1/tasks/{id}/complete`; the secretariat closes the consultation, which compiles the
report; the report's JSON is read back and its totals checked against what was sent.

Goals: no request fails (the advance that compiles the report, PDF included, answered 200
rather than giving up on its wait while the compilation goes on), every input and answer is in
the report, no run of the review's workflow has a history over 10,240 events (every run is
fetched), and the workflow continued as new. No bare primitive for those: they are about staying correct and within Temporal's
limits.

Then replay, as a worker does when it picks up a review whose history it does not hold: the
longest run's history is fetched (timed alone) and replayed on the current code with
temporalio's Replayer (as tests/test_workflow_durability.py replays the saved histories), the
median of `--runs` replays; goal under 1 s. Bare primitive, same run: a run of the trivial
bench/primitives.py BareUpdatesWorkflow driven by sequential Updates to the same number of
events, its history fetched and replayed the same way.

    python -m bench.long [--quick] [--submissions 20000] [--responses 10000] [--clients 32]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time
import uuid
from collections import Counter
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowHistory
from temporalio.worker import Replayer

from bench.harness import (
    Account,
    Option,
    Report,
    Services,
    at_most,
    bulk_stakeholders,
    compile_for_approval,
    create_account,
    get,
    percentile,
    post,
    run_main,
    services,
)
from bench.ingest import MAX_BARE_UPDATES, bare_worker
from bench.primitives import BARE_TASK_QUEUE, BareUpdatesWorkflow
from tests import documents
from tests.reviews import review_body
from workflows.review import (
    MAX_EVENTS_PER_RUN,
    MAX_UPDATES_PER_RUN,
    RegionalReviewWorkflow,
    workflow_id,
)

MAX_EVENTS = 10_240
GOAL_REPLAY_S = 1.0
# The events a BareUpdatesWorkflow run adds once told to finish: the signal, a workflow task
# (scheduled, started, completed), the run's completion.
BARE_CLOSING_EVENTS = 5
# The events one sequential Update adds: a workflow task, the Update accepted and completed.
EVENTS_PER_BARE_UPDATE = 5
PHASE_DEADLINE_S = 3600.0

# This scenario's options, after those every scenario takes (harness.parser).
OPTIONS: list[Option] = [
    ("--submissions", {"type": int, "default": None, "help": "default 20000 (quick: 2000)"}),
    ("--responses", {"type": int, "default": None, "help": "default 10000 (quick: 1000)"}),
    ("--clients", {"type": int, "default": 32}),
]


async def send_all(
    svc: Services,
    what: str,
    jobs: list[tuple[str, Account, dict[str, Any]]],
    clients: int,
    expected: int,
) -> dict[str, Any]:
    """POST every (path, account, body) job from `clients` concurrent clients, in order;
    print `what` is sent, then how it went."""
    print(f"{what} ...")
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    queue = iter(jobs)

    async def client() -> None:
        for path, account, body in queue:
            started = time.perf_counter()
            try:
                async with svc.http.post(path, json=body, headers=account.headers) as response:
                    await response.read()
                    status: Any = response.status
            except Exception as error:  # counted as an error, not fatal
                status = type(error).__name__
            latencies.append((time.perf_counter() - started) * 1000)
            if status != expected:
                failures[str(status)] += 1

    started = time.perf_counter()
    async with asyncio.timeout(PHASE_DEADLINE_S):
        await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    sent = {
        "sent": len(jobs),
        "errors": sum(failures.values()),
        "failures": dict(failures),
        "seconds": elapsed,
        "throughput": len(jobs) / elapsed,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
    }
    print(f"  {sent['throughput']:.0f}/s, p99 {sent['p99']:.0f} ms, errors {sent['failures'] or 0}")
    return sent


async def histories(svc: Services, review_id: str) -> list[tuple[str, Any, int]]:
    """(run id, status, history length) of every run of the review's workflow."""
    found = []
    query = f'WorkflowId = "{workflow_id(review_id)}"'
    async for execution in svc.client.list_workflows(query, limit=10_000):
        handle = svc.client.get_workflow_handle(execution.id, run_id=execution.run_id)
        history = await handle.fetch_history()
        found.append((execution.run_id, execution.status, len(history.events)))
    return found


async def fetched(handle: WorkflowHandle[Any, Any]) -> tuple[WorkflowHistory, float]:
    """The run's history, and the seconds fetching it took."""
    started = time.perf_counter()
    history = await handle.fetch_history()
    return history, time.perf_counter() - started


async def bare_run(client: Client, events: int) -> WorkflowHandle[Any, Any]:
    """A closed run of BareUpdatesWorkflow whose history holds about `events` events:
    sequential Updates (each its own workflow task) until it nearly does, then finished."""
    handle = await client.start_workflow(
        BareUpdatesWorkflow.run, id=f"bench-bare-replay-{uuid.uuid4()}", task_queue=BARE_TASK_QUEUE
    )
    updates = 0
    while updates < MAX_BARE_UPDATES:
        missing = events - BARE_CLOSING_EVENTS - (await handle.describe()).history_length
        if missing < EVENTS_PER_BARE_UPDATE:
            break
        for _ in range(min(missing // EVENTS_PER_BARE_UPDATE, MAX_BARE_UPDATES - updates)):
            await handle.execute_update(BareUpdatesWorkflow.bump, 1)
            updates += 1
    await handle.signal(BareUpdatesWorkflow.finish)
    await handle.result()
    return handle


async def replay_seconds(history: WorkflowHistory, workflow: type, runs: int) -> float:
    """The median time of `runs` replays of `history` on `workflow`, each by a new Replayer;
    a replay that finds the code no longer deterministic fails the benchmark."""
    seconds = []
    for _ in range(runs):
        replayer = Replayer(workflows=[workflow])
        started = time.perf_counter()
        await replayer.replay_workflow(history, raise_on_replay_failure=True)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


async def replays(
    svc: Services, review_id: str, runs: list[tuple[str, Any, int]], times: int
) -> dict[str, dict[str, float]]:
    """The longest run's history and a bare one of as many events: fetched and replayed."""
    run_id, _, events = max(runs, key=lambda r: r[2])
    print(f"replaying the longest run ({events:,} events) and a bare one ...")
    longest, longest_fetch = await fetched(
        svc.client.get_workflow_handle(workflow_id(review_id), run_id=run_id)
    )
    bare, bare_fetch = await fetched(await bare_run(svc.client, events))
    return {
        "service": {
            "events": float(len(longest.events)),
            "fetch_s": longest_fetch,
            "replay_s": await replay_seconds(longest, RegionalReviewWorkflow, times),
        },
        "bare": {
            "events": float(len(bare.events)),
            "fetch_s": bare_fetch,
            "replay_s": await replay_seconds(bare, BareUpdatesWorkflow, times),
        },
    }


async def main(args: argparse.Namespace) -> Report:
    submissions = args.submissions or (2_000 if args.quick else 20_000)
    responses = args.responses or (1_000 if args.quick else 10_000)
    stakeholders = responses
    report = Report(
        "long",
        f"one review, {stakeholders:,} invited stakeholders; {submissions:,} submissions "
        f"(about {submissions / stakeholders:.1f} versions per organisation) and {responses:,} "
        f"task answers over HTTP from {args.clients} concurrent clients; then compiled",
        setup=(
            "The stakeholders have no email address: the notification pipeline expands every event "
            "but sends nothing. Task ids are read from the database rather than listed by each "
            "stakeholder (10,000 GET /v1/tasks requests saved)."
        ),
    )
    async with services(
        "long", http_connections=max(64, args.clients * 2), extra_workers=bare_worker
    ) as svc:
        report.machine = svc.machine()
        secretariat = await create_account(svc.api_pool, "secretariat", regions=("ECE",))
        accounts = await bulk_stakeholders(
            svc.api_pool, stakeholders, f"Long {secrets.token_hex(3)}", with_email=False
        )
        body = review_body(
            id=f"ece-bench-long-{secrets.token_hex(4)}",
            stakeholders=[str(a.id) for a in accounts],
        )
        review_id = body["id"]
        url = f"/v1/reviews/{review_id}"
        await post(svc.http, "/v1/reviews", secretariat, body, 201)
        await post(svc.http, f"{url}/advance", secretariat, {})  # the call for inputs

        jobs = []
        for k in range(submissions):
            account = accounts[k % stakeholders]
            content = documents.stakeholder_input(
                account.organisation or "", account.category or ""
            )
            content["input"] += f" Version {k // stakeholders + 1}."
            jobs.append(
                (
                    f"{url}/submissions",
                    account,
                    {"kind": "stakeholder_input", "content": content},
                )
            )
        submitted = await send_all(
            svc, f"submitting {submissions:,} inputs", jobs, args.clients, 201
        )

        started = time.perf_counter()
        await post(svc.http, f"{url}/advance", secretariat, {})  # the consultation
        opened_s = time.perf_counter() - started
        rows = await svc.api_pool.fetch(
            "SELECT id, assignee FROM tasks WHERE review_id = $1", review_id
        )
        by_actor = {a.id: a for a in accounts}
        answer = {"response": documents.consultation_response()}
        task_jobs = [
            (f"/v1/tasks/{row['id']}/complete", by_actor[row["assignee"]], answer)
            for row in rows[:responses]
        ]
        answered = await send_all(
            svc, f"answering {len(task_jobs):,} tasks", task_jobs, args.clients, 200
        )

        started = time.perf_counter()
        advanced = await compile_for_approval(svc, secretariat, review_id, PHASE_DEADLINE_S)
        compile_s = time.perf_counter() - started
        compiled = await get(svc.http, f"{url}/report", secretariat)
        accepted = await svc.api_pool.fetchval(
            """SELECT count(*) FROM submission_versions v JOIN submissions s
               ON s.id = v.submission_id WHERE s.review_id = $1 AND v.status = 'accepted'""",
            review_id,
        )
        await asyncio.sleep(1)  # visibility of the last run catches up
        runs = await histories(svc, review_id)
        replayed = await replays(svc, review_id, runs, args.runs)

    overview = compiled["overview"]
    objectives = [o for c in compiled["clusters"] for o in c["objectives"]]
    views = sum(o["stakeholder_views"]["count"] for o in objectives)
    comments = sum(o["consultation_comments"]["count"] for o in objectives)
    per_input = len(documents.stakeholder_input()["objectives"])
    per_answer = len(documents.consultation_response()["comments"])
    organisations = min(submissions, stakeholders)
    errors = submitted["errors"] + answered["errors"]
    longest = max(n for _, _, n in runs)
    continued = sum(1 for _, s, _ in runs if s == WorkflowExecutionStatus.CONTINUED_AS_NEW)

    report.add(
        "requests failed (submissions + answers)",
        errors,
        goal="0",
        met=errors == 0,
    )
    report.add(
        "submissions accepted (versions stored)",
        int(accepted),
        goal=f"{submissions:,}",
        met=accepted == submissions,
    )
    report.add(
        "stakeholder inputs in the report",
        overview["stakeholder_inputs"],
        goal=f"{organisations:,} (latest version each)",
        met=overview["stakeholder_inputs"] == organisations,
    )
    report.add(
        "objective mentions counted in the report",
        views,
        goal=f"{organisations * per_input:,}",
        met=views == organisations * per_input,
    )
    consultation = overview["consultation"]
    report.add(
        "consultation answers in the report (completed / tasks)",
        f"{consultation['completed']:,} / {consultation['tasks']:,}",
        goal=f"{responses:,} / {stakeholders:,}",
        met=consultation["completed"] == responses and consultation["tasks"] == stakeholders,
    )
    report.add(
        "consultation comments counted in the report",
        comments,
        goal=f"{responses * per_answer:,}",
        met=comments == responses * per_answer,
    )
    report.add(
        "workflow runs (continued as new)",
        f"{len(runs)} ({continued})",
        goal="continue-as-new happened",
        met=continued >= 1,
    )
    report.add(
        "longest run's history (events)",
        longest,
        goal=f"≤ {MAX_EVENTS:,}",
        met=longest <= MAX_EVENTS,
    )
    report.add(
        "advancing into the compilation: the API's answer",
        advanced,
        goal="200",
        met=advanced == "200",
    )
    mine, bare = replayed["service"], replayed["bare"]
    report.compare(
        "replaying the longest run's history (s)",
        "replay_s",
        mine,
        bare,
        at_most(mine["replay_s"], GOAL_REPLAY_S, " s"),
    )
    report.add(
        "replaying the longest run's history, beside fetching it alone (s)",
        mine["replay_s"],
        mine["fetch_s"],
        ratio=True,
    )
    report.compare("fetching the longest run's history (s)", "fetch_s", mine, bare)
    report.compare("events in the history replayed", "events", mine, bare)
    report.add("(info) submissions per second", submitted["throughput"])
    report.add(
        "(info) submission latency p50 / p99 (ms)",
        f"{submitted['p50']:.0f} / {submitted['p99']:.0f}",
    )
    report.add("(info) answers per second", answered["throughput"])
    report.add(
        "(info) answer latency p50 / p99 (ms)", f"{answered['p50']:.0f} / {answered['p99']:.0f}"
    )
    report.add("(info) opening the consultation (s)", opened_s)
    report.add("(info) compiling the report: in approval after (s)", compile_s)
    if not continued:
        report.notes.append(
            f"No run continued as new: the review rolls over after {MAX_UPDATES_PER_RUN} Updates "
            f"or {MAX_EVENTS_PER_RUN:,} events in a run (or when Temporal suggests it), and "
            f"coalesced submissions kept this size below both (longest run {longest:,} events). "
            "The full size reaches them."
        )
    report.notes.append(
        "History lengths per run: " + ", ".join(str(n) for _, _, n in reversed(runs))
    )
    if submitted["failures"] or answered["failures"]:
        report.notes.append(
            f"Failures by status: submissions {submitted['failures']}, "
            f"answers {answered['failures']}"
        )
    return report


if __name__ == "__main__":
    run_main(main, __doc__, OPTIONS)
