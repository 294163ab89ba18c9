"""Pages: the server time of My tasks and of the national report form, in reviews with 10,000
invited stakeholders, and of a published report's public page.

Stored first (untimed), through the API and the real workflow: review A with `--stakeholders`
invited stakeholders (accounts stored by one COPY, without email addresses so that nothing is
mailed), advanced to its call for inputs and then to its consultation, which opens a task for
each of them; review B with the same stakeholders, its call for inputs open. A focal point of
Germany (a member State of B) has a draft of its national report for B holding a complete
report (23 objectives). A stakeholder in the middle of the list and the focal point each sign
in through a sign-in link (the continue page's form posted with its CSRF token) and keep their
session cookie. Review C, of all ECE member States, receives `--published-submissions`
accepted submissions stored by COPY (bench/dashboard.py's store_submissions: versions of inputs
from 9 in 10 of the same stakeholders, national reports from all but three States); the
secretariat then advances it through its consultation to its compiled report (PDF included),
and approves it: published.

Timed, sequentially over loopback HTTP after a warm-up: `GET /tasks` as the stakeholder (its
task in A, B's call listed as asked of it), `GET /reviews/{B}/submit` as the focal point (the
form filled from the draft) and `GET /reports/{C}` by anyone, not signed in (the published
report's page). Client latency per request (to the last byte read) and the server's own time
per request: the duration the API's access log records (api.accesslog, as a deployed API
writes it), from the request read to the response written.

Bare primitives, same run, same process: a trivial aiohttp handler answering a fixed page of the
same size over the same loopback HTTP (its own server, logging the same access log); for My
tasks, the SQL query that reads the person's tasks (db.tasks.inbox) timed alone; for the form,
a static Jinja2 template of the page's size rendered alone; for the published report, the query
that reads what the page shows of it (db.publications.published_head) timed alone.

The review dashboard (10,000 stakeholders, 50,000 submissions) is a scenario of its own,
bench/dashboard.py, which builds on this one.

    python -m bench.pages [--quick] [--stakeholders 10000] [--published-submissions 50000]
                          [--requests 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import secrets
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import aiohttp
import jinja2
from aiohttp import web
from aiohttp.web import BaseRequest, StreamResponse

from api.accesslog import ACCESS_LOG_OPTIONS, ACCESS_LOGGER, JsonAccessLogger
from bench.harness import (
    Account,
    Option,
    Report,
    Services,
    at_most,
    bulk_stakeholders,
    compile_for_approval,
    create_account,
    free_port,
    median_per_metric,
    percentile,
    post,
    run_main,
    services,
    wait_until,
)
from config.logs import JsonLineFormatter
from db.drafts import save_draft
from db.publications import published_head, published_report
from db.tasks import Mine, inbox
from services.signin import sign_in_link
from services.tasks import INBOX_PAGE
from tests import documents
from tests.reviews import review_body

GOAL_P95_MS = 50.0
COUNTRY = "DEU"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
SETUP_DEADLINE_S = 600.0
TASKS, FORM, PUBLISHED = "tasks", "form", "published"

OPTIONS: list[Option] = [
    ("--stakeholders", {"type": int, "default": None, "help": "default 10000 (quick: 1000)"}),
    (
        "--published-submissions",
        {"type": int, "default": None, "help": "default 50000 (quick: 2000)"},
    ),
    ("--requests", {"type": int, "default": None, "help": "GETs per page per run (quick: 200)"}),
]


# ---- the server's own time per request ------------------------------------------------------


class ServerTimes(JsonAccessLogger):
    """The API's access log; the exact duration of each request (ms) also kept, by path."""

    by_path: ClassVar[dict[str, list[float]]] = defaultdict(list)

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        super().log(request, response, time)
        self.by_path[request.path].append(time * 1000)

    @classmethod
    def take(cls, path: str) -> list[float]:
        return cls.by_path.pop(path, [])


@contextlib.contextmanager
def access_log_written() -> Iterator[None]:
    """The access log written as a deployed API writes it (JSON lines), to nowhere."""
    with open(os.devnull, "w", encoding="utf-8") as nowhere:
        handler = logging.StreamHandler(nowhere)
        handler.setFormatter(JsonLineFormatter())
        level, propagate = ACCESS_LOGGER.level, ACCESS_LOGGER.propagate
        ACCESS_LOGGER.addHandler(handler)
        ACCESS_LOGGER.setLevel(logging.INFO)
        ACCESS_LOGGER.propagate = False
        try:
            yield
        finally:
            ACCESS_LOGGER.removeHandler(handler)
            ACCESS_LOGGER.setLevel(level)
            ACCESS_LOGGER.propagate = propagate


@contextlib.asynccontextmanager
async def fixed_pages(pages: dict[str, bytes]) -> AsyncIterator[str]:
    """A trivial aiohttp server answering each path with its fixed HTML; yields its base URL."""

    def answer(body: bytes) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(body=body, content_type="text/html", charset="utf-8")

        return handler

    app = web.Application()
    for path, body in pages.items():
        app.router.add_get(path, answer(body))
    runner = web.AppRunner(app, **{**ACCESS_LOG_OPTIONS, "access_log_class": ServerTimes})
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


# ---- the reviews and the people -------------------------------------------------------------


@dataclass(frozen=True)
class Scene:
    consultation: str  # review A: a task for each stakeholder
    call: str  # review B: its call for inputs open
    published: str  # review C: its report published
    stakeholder: Account
    focal_point: Account


async def advance(svc: Services, secretariat: Account, review_id: str) -> str:
    status = await post(svc.http, f"/v1/reviews/{review_id}/advance", secretariat, {})
    return str(status["phase"])


async def create_review(svc: Services, secretariat: Account, accounts: list[Account]) -> str:
    body = review_body(
        id=f"ece-bench-pages-{secrets.token_hex(4)}",
        title=f"Regional review of the GCM in the UNECE region {secrets.token_hex(2)}",
        stakeholders=[str(a.id) for a in accounts],
    )
    await post(svc.http, "/v1/reviews", secretariat, body, 201)
    return str(body["id"])


async def tasks_opened(svc: Services, review_id: str, count: int) -> None:
    async def all_open() -> bool:
        stored = await svc.api_pool.fetchval(
            "SELECT count(*) FROM tasks WHERE review_id = $1 AND status = 'open'", review_id
        )
        return bool(stored == count)

    if not await wait_until(all_open, deadline_s=SETUP_DEADLINE_S, poll_s=0.2):
        raise RuntimeError(f"the consultation of {review_id} did not open {count} tasks in time")


async def publish(
    svc: Services, secretariat: Account, accounts: list[Account], submissions: int
) -> str:
    """Review C: `submissions` stored by COPY, then compiled, approved and published through
    the API and the workflow."""
    # Imported here: bench.dashboard builds on this module.
    from bench.dashboard import create_review as create_ece_review
    from bench.dashboard import store_submissions

    review_id = await create_ece_review(svc, secretariat, [], PUBLISHED)
    await store_submissions(svc, review_id, accounts, submissions)
    assert await advance(svc, secretariat, review_id) == "consultation"
    answered = await compile_for_approval(svc, secretariat, review_id, SETUP_DEADLINE_S)
    if answered != "200":
        print(f"advancing into the compilation answered {answered}; the phase was awaited")
    await post(svc.http, f"/v1/reviews/{review_id}/report/approve", secretariat, {})

    async def is_published() -> bool:
        return await published_report(svc.api_pool, review_id) is not None

    if not await wait_until(is_published, deadline_s=SETUP_DEADLINE_S, poll_s=0.2):
        raise RuntimeError(f"the report of {review_id} was not published in time")
    return review_id


async def store_scene(svc: Services, stakeholders: int, submissions: int) -> Scene:
    secretariat = await create_account(svc.api_pool, "secretariat", regions=("ECE",))
    accounts = await bulk_stakeholders(
        svc.api_pool, stakeholders, f"Pages {secrets.token_hex(3)}", with_email=False
    )
    consultation = await create_review(svc, secretariat, accounts)
    assert await advance(svc, secretariat, consultation) == "call_for_inputs"
    assert await advance(svc, secretariat, consultation) == "consultation"
    await tasks_opened(svc, consultation, stakeholders)
    call = await create_review(svc, secretariat, accounts)
    assert await advance(svc, secretariat, call) == "call_for_inputs"
    focal_point = await create_account(
        svc.api_pool, "focal_point", country=COUNTRY, regions=("ECE",)
    )
    report = documents.national_report(COUNTRY)
    await save_draft(svc.api_pool, call, "national_report", COUNTRY, report, focal_point.id)
    published = await publish(svc, secretariat, accounts, submissions)
    await svc.api_pool.execute("ANALYZE")
    return Scene(consultation, call, published, accounts[stakeholders // 2], focal_point)


async def signed_in(svc: Services, account: Account) -> aiohttp.ClientSession:
    """A browser-like client signed in as `account` through a sign-in link."""
    link = await sign_in_link(svc.api_pool, svc.settings, account.id)
    path = urlsplit(link).path
    client = aiohttp.ClientSession(svc.base_url, cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with client.get(path) as page:
        found = CSRF_FIELD.search(await page.text())
    if found is None:
        raise RuntimeError(f"the sign-in link's page has no form ({page.status})")
    async with client.post(
        path, data={"csrf_token": found.group(1)}, allow_redirects=False
    ) as answer:
        if answer.status != 303:
            raise RuntimeError(f"signing in answered {answer.status}: {await answer.text()}")
    return client


# ---- measuring ---------------------------------------------------------------------------------


async def fetch(client: aiohttp.ClientSession, url: str) -> bytes:
    async with client.get(url, allow_redirects=False) as response:
        body = await response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {url}: {response.status} {body[:300]!r}")
        return body


def summary(latencies_ms: list[float], seconds: float, server_ms: list[float]) -> dict[str, float]:
    return {
        "p50": percentile(latencies_ms, 50),
        "p95": percentile(latencies_ms, 95),
        "p99": percentile(latencies_ms, 99),
        "rps": len(latencies_ms) / seconds,
        "server_p50": percentile(server_ms, 50),
        "server_p95": percentile(server_ms, 95),
        "server_p99": percentile(server_ms, 99),
    }


async def sequential_gets(
    client: aiohttp.ClientSession, url: str, requests: int, warmup: int
) -> dict[str, float]:
    """`requests` GETs one after another, after `warmup` untimed ones."""
    for _ in range(warmup):
        await fetch(client, url)
    path = urlsplit(url).path
    ServerTimes.take(path)
    latencies = []
    started = time.perf_counter()
    for _ in range(requests):
        sent = time.perf_counter()
        await fetch(client, url)
        latencies.append((time.perf_counter() - sent) * 1000)
    seconds = time.perf_counter() - started
    return summary(latencies, seconds, ServerTimes.take(path))


async def timed_alone(
    step: Callable[[], Awaitable[Any]], requests: int, warmup: int
) -> dict[str, float]:
    for _ in range(warmup):
        await step()
    latencies = []
    for _ in range(requests):
        sent = time.perf_counter()
        await step()
        latencies.append((time.perf_counter() - sent) * 1000)
    return {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95)}


def check_pages(pages: dict[str, str], scene: Scene) -> None:
    """The pages measured are the ones asked for, not a sign-in page or an empty list."""
    if f'href="/reviews/{scene.call}"' not in pages[TASKS] or "/tasks/" not in pages[TASKS]:
        raise RuntimeError("My tasks lists neither the task nor the call for inputs")
    if "Send your national report" not in pages[FORM] or "Objective 23" not in pages[FORM]:
        raise RuntimeError("the form is not the national report's with its 23 objectives")
    if f'href="/reports/{scene.published}.pdf"' not in pages[PUBLISHED]:
        raise RuntimeError("the published report's page does not offer its PDF")


@dataclass
class Clients:
    stakeholder: aiohttp.ClientSession
    focal_point: aiohttp.ClientSession
    anyone: aiohttp.ClientSession
    bare: aiohttp.ClientSession


async def one_run(
    svc: Services,
    scene: Scene,
    clients: Clients,
    paths: dict[str, str],
    fixed: dict[str, bytes],
    sizes: tuple[int, int],
) -> dict[str, dict[str, float]]:
    requests, warmup = sizes
    mine = Mine(scene.stakeholder.id, None, None, None, INBOX_PAGE)
    static = jinja2.Environment(autoescape=True).from_string(fixed[FORM].decode())

    async def query() -> None:
        await inbox(svc.api_pool, mine)

    async def render() -> None:
        static.render()

    async def publication() -> None:
        await published_head(svc.api_pool, scene.published)

    return {
        "tasks": await sequential_gets(clients.stakeholder, paths[TASKS], requests, warmup),
        "tasks_bare": await sequential_gets(clients.bare, f"/{TASKS}", requests, warmup),
        "tasks_query": await timed_alone(query, requests, warmup),
        "form": await sequential_gets(clients.focal_point, paths[FORM], requests, warmup),
        "form_bare": await sequential_gets(clients.bare, f"/{FORM}", requests, warmup),
        "form_jinja": await timed_alone(render, requests, warmup),
        "published": await sequential_gets(clients.anyone, paths[PUBLISHED], requests, warmup),
        "published_bare": await sequential_gets(clients.bare, f"/{PUBLISHED}", requests, warmup),
        "published_query": await timed_alone(publication, requests, warmup),
    }


# ---- the report ----------------------------------------------------------------------------------


def add_page(report: Report, name: str, s: dict[str, float], bare: dict[str, float]) -> None:
    for p in ("p50", "p95", "p99"):
        goal = at_most(s[p], GOAL_P95_MS, " ms") if p == "p95" else None
        report.compare(f"{name}: client latency {p} (ms)", p, s, bare, goal)
    for p in ("p50", "p95", "p99"):
        report.compare(f"{name}: server time {p} (ms)", f"server_{p}", s, bare)
    report.compare(f"{name}: requests/s, one client", "rps", s, bare)


def median_of(runs: list[dict[str, dict[str, float]]], key: str) -> dict[str, float]:
    return median_per_metric([r[key] for r in runs])


async def main(args: argparse.Namespace) -> Report:
    n = args.stakeholders or (1_000 if args.quick else 10_000)
    submissions = args.published_submissions or (2_000 if args.quick else 50_000)
    requests = args.requests or (200 if args.quick else 1_000)
    warmup = max(10, requests // 10)
    runs = args.runs
    report = Report(
        "pages",
        f"{n:,} invited stakeholders in each of two reviews (one in its consultation, a task "
        f"each; one with its call for inputs open); a published report compiled from "
        f"{submissions:,} submissions of theirs; {requests:,} sequential GETs per page per "
        f"run after {warmup:,} untimed; median of {runs} runs",
        setup=(
            "Client latency: from sending the GET to its last byte read, one request at a time "
            "over one keep-alive connection (aiohttp client in the same process as the API and "
            "the workers). Server time: the duration the API's access log records for the "
            "request. The bare HTTP page is the same bytes from a handler that does nothing else, "
            "served by its own aiohttp server in the same process. My tasks is read by a "
            f"stakeholder holding one task among the review's {n:,} (session check, its tasks, "
            "the reviews it holds tasks of, the calls for inputs asking of it); the form is the "
            "focal point's, filled from its draft of a complete report; the published report's "
            "page is read by a client not signed in (the published version's row, its "
            "overview's figures, its files). The API's per-address "
            "rate limit is off (REVIEWFLOW_RATE_LIMIT=0): one client asking without pause would "
            "exceed it."
        ),
    )
    with access_log_written():
        # One client asks as fast as it can, far above the per-address limit meant for abuse.
        env = {"REVIEWFLOW_RATE_LIMIT": "0"}
        async with (
            services("pages", env=env, access_log=ServerTimes) as svc,
            contextlib.AsyncExitStack() as stack,
        ):
            report.machine = svc.machine()
            started = time.perf_counter()
            scene = await store_scene(svc, n, submissions)
            print(
                f"stored the reviews and {n:,} tasks, published a report of {submissions:,} "
                f"submissions in {time.perf_counter() - started:.1f} s"
            )
            stakeholder = await stack.enter_async_context(await signed_in(svc, scene.stakeholder))
            focal = await stack.enter_async_context(await signed_in(svc, scene.focal_point))
            anyone = await stack.enter_async_context(aiohttp.ClientSession(svc.base_url))
            paths = {
                TASKS: "/tasks",
                FORM: f"/reviews/{scene.call}/submit",
                PUBLISHED: f"/reports/{scene.published}",
            }
            fixed = {
                TASKS: await fetch(stakeholder, paths[TASKS]),
                FORM: await fetch(focal, paths[FORM]),
                PUBLISHED: await fetch(anyone, paths[PUBLISHED]),
            }
            check_pages({k: body.decode() for k, body in fixed.items()}, scene)
            base = await stack.enter_async_context(
                fixed_pages({f"/{k}": body for k, body in fixed.items()})
            )
            bare = await stack.enter_async_context(aiohttp.ClientSession(base))
            clients = Clients(stakeholder, focal, anyone, bare)
            measured = []
            for run in range(runs):
                measured.append(
                    await one_run(svc, scene, clients, paths, fixed, (requests, warmup))
                )
                m = measured[-1]
                print(
                    f"run {run + 1}: My tasks p95 {m['tasks']['p95']:.1f} ms "
                    f"(bare {m['tasks_bare']['p95']:.1f}); form p95 {m['form']['p95']:.1f} ms "
                    f"(bare {m['form_bare']['p95']:.1f}); published report server p95 "
                    f"{m['published']['server_p95']:.1f} ms (its query alone "
                    f"{m['published_query']['p95']:.1f})"
                )
    tasks, form = median_of(measured, "tasks"), median_of(measured, "form")
    add_page(report, "My tasks", tasks, median_of(measured, "tasks_bare"))
    report.add_server_beside(
        "My tasks", tasks, median_of(measured, "tasks_query"), "its tasks query alone", "ms"
    )
    add_page(report, "national report form", form, median_of(measured, "form_bare"))
    # In µs: rendering a static template takes a few.
    report.add_server_beside(
        "national report form",
        form,
        median_of(measured, "form_jinja"),
        "a static template of its size",
        "µs",
    )
    published = median_of(measured, "published")
    add_page(report, "published report", published, median_of(measured, "published_bare"))
    report.add_server_beside(
        "published report",
        published,
        median_of(measured, "published_query"),
        "its query alone",
        "ms",
    )
    report.add(
        "page size My tasks / form / published report (kB)",
        " / ".join(f"{len(fixed[k]) / 1000:,.1f}" for k in (TASKS, FORM, PUBLISHED)),
    )
    report.notes.append(
        "Per run, p95 client latency (ms), My tasks / form / published report: "
        + "; ".join(
            f"{m['tasks']['p95']:.1f} / {m['form']['p95']:.1f} / {m['published']['p95']:.1f}"
            for m in measured
        )
    )
    return report


if __name__ == "__main__":
    run_main(main, __doc__, OPTIONS)
