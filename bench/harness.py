"""What every benchmark shares: its own services, accounts, statistics and the report.

`services()` starts what the service runs on, the way the tests do: a PostgreSQL (the one
`DATABASE_URL` names, else an embedded cluster in a temporary folder), a database of its own
there, the migrations, a Temporal dev server (in memory, with the search attributes), the real
workers and the real API on a free loopback port, and an HTTP client session for it. Everything
is stopped, and the database dropped, when the block ends.

`Report` holds one run's table; `Report.publish()` prints it and appends it, with the machine
and the date, to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import logging
import math
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import aiohttp
import asyncpg
import psutil
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.accesslog import ACCESS_LOG_OPTIONS
from api.app import create_app
from config.settings import Settings, load_settings
from db.actors import hash_token, insert_actor, new_token
from db.migrate import migrate_dsn
from db.pool import create_pool
from domain.access import Actor
from reviewflow.embedded import EmbeddedPostgres, find_binary
from tests.reviews import BulkStakeholder, copy_stakeholders, with_database
from workflows.review import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"

INTRO = """# Benchmarks

How fast reviewflow does its job, measured by the scripts in `bench/` (`make bench` runs them
all; `python -m bench.<scenario> --quick` runs one at a small size). Each script starts its own
services (an embedded PostgreSQL in a temporary folder, or `DATABASE_URL`; a Temporal dev server
in memory), the real workers and the real API over loopback HTTP, and in the same run measures
a **bare primitive**: the least the machine must do for the same job (Temporal Updates into one
workflow without HTTP, validation or database; a plain COPY and plain SMTP sends; one SQL query
reading the same documents). The ratio reviewflow / bare is what to compare across machines: it
says how much the service adds on top of what the machine itself can do, and it moves much less
than the raw numbers when the machine changes.

Only measured numbers appear here. Where noise matters the figure is the median of several runs
(the median is taken per metric). Each run of a script appends one section below; the newest is
at the end. Each section names the machine, the code measured, and the share of the CPUs that
other processes took during the run: a script first waits (up to `--quiet-wait` seconds) for a
quiet machine, then measures anyway and says how busy the rest of the machine was.
"""


# ---- command line -----------------------------------------------------------------------------


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="small sizes, for a quick look")
    p.add_argument("--runs", type=int, default=3, help="runs to take the median of")
    p.add_argument(
        "--no-write", action="store_true", help="print the table only; leave docs/ alone"
    )
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=120.0,
        help="wait up to this many seconds for other processes to leave the CPUs (0: no wait)",
    )
    return p


def command_line() -> str:
    module = sys.argv[0]
    name = Path(module).stem
    return " ".join(["python -m bench." + name, *sys.argv[1:]])


# A scenario's own command-line option: its flag and `add_argument`'s settings.
Option = tuple[str, dict[str, Any]]


def run_main(
    main: Callable[[argparse.Namespace], Coroutine[Any, Any, Report]],
    doc: str | None,
    options: Sequence[Option] = (),
) -> None:
    """Run a scenario: `doc`'s first line describes it, `options` come after the common ones."""
    p = parser((doc or "").partition("\n")[0])
    for flag, settings in options:
        p.add_argument(flag, **settings)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bench").setLevel(logging.INFO)
    wait_for_quiet(args.quiet_wait)
    with LoadMonitor() as load:
        report = asyncio.run(main(args))
    report.machine["other load during the run"] = load.summary()
    report.publish(write=not args.no_write)


# ---- the machine's other load -------------------------------------------------------------------

# PostgreSQL postmasters this benchmark started: they are not children of this process, but
# their CPU is the benchmark's, not other load.
OUR_POSTMASTERS: set[int] = set()


def our_processes() -> list[psutil.Process]:
    me = psutil.Process()
    found = [me, *me.children(recursive=True)]
    for pid in OUR_POSTMASTERS:
        with contextlib.suppress(psutil.Error):
            postmaster = psutil.Process(pid)
            found += [postmaster, *postmaster.children(recursive=True)]
    return found


def cpu_seconds(processes: Iterable[psutil.Process]) -> dict[int, float]:
    seconds = {}
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            seconds[process.pid] = times.user + times.system
    return seconds


def cpu_now() -> tuple[float, float]:
    """CPU seconds so far of this process (API, workers, clients) and of all of ours
    (with the Temporal dev server and PostgreSQL)."""
    me = psutil.Process().cpu_times()
    ours = sum(cpu_seconds(our_processes()).values())
    return me.user + me.system, ours


def cpu_used(before: tuple[float, float], seconds: float) -> dict[str, float]:
    after = cpu_now()
    return {
        "cpu_process": (after[0] - before[0]) / seconds,
        "cpu_all": (after[1] - before[1]) / seconds,
    }


class LoadMonitor:
    """Samples, every few seconds, how much CPU the rest of the machine takes meanwhile.

    Other processes (another developer's test suite, say) slow the service and the bare
    primitive alike, but not always equally; the share they took is printed with the results.
    Busy CPU of the whole machine minus this benchmark's process tree (and its PostgreSQL).
    """

    INTERVAL_S = 5.0

    def __init__(self) -> None:
        import threading

        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-load", daemon=True)
        self.foreign: list[float] = []
        self.loadavg: list[float] = []

    def __enter__(self) -> LoadMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _busy(self) -> float:
        times = psutil.cpu_times()
        return times.user + times.system + getattr(times, "nice", 0.0) + getattr(times, "irq", 0.0)

    def _run(self) -> None:
        cores = psutil.cpu_count() or 1
        busy, ours = self._busy(), cpu_seconds(our_processes())
        started = time.monotonic()
        while not self._stop.wait(self.INTERVAL_S):
            now = time.monotonic()
            busy_now, ours_now = self._busy(), cpu_seconds(our_processes())
            used_by_us = sum(max(0.0, t - ours.get(pid, t)) for pid, t in ours_now.items())
            foreign = max(0.0, (busy_now - busy) - used_by_us) / ((now - started) * cores)
            self.foreign.append(min(1.0, foreign))
            self.loadavg.append(os.getloadavg()[0])
            busy, ours, started = busy_now, ours_now, now

    def summary(self) -> str:
        if not self.foreign:
            return "not measured"
        return (
            f"{100 * statistics.mean(self.foreign):.0f}% of all CPUs on average "
            f"(max {100 * max(self.foreign):.0f}%); 1-min load average "
            f"{median(self.loadavg):.1f} median, {max(self.loadavg):.1f} max"
        )


def other_load(seconds: float = 3.0) -> float:
    """The share of the machine's CPUs that processes other than ours took over `seconds`."""
    monitor = LoadMonitor()
    monitor.INTERVAL_S = seconds
    with monitor:
        time.sleep(seconds * 1.2)
    return monitor.foreign[0] if monitor.foreign else 0.0


def wait_for_quiet(limit_s: float, threshold: float = 0.15) -> None:
    """Wait, at most `limit_s`, until other processes take less than `threshold` of the CPUs."""
    if limit_s <= 0:
        return
    deadline = time.monotonic() + limit_s
    while True:
        share = other_load()
        if share < threshold:
            return
        if time.monotonic() > deadline:
            print(f"other processes still take {share:.0%} of the CPUs; measuring anyway")
            return
        print(f"other processes take {share:.0%} of the CPUs; waiting for a quieter machine ...")
        time.sleep(5)


# ---- statistics ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of the values; nan when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


Measures = TypeVar("Measures")


async def bare_then_service(
    runs: int,
    bare: Callable[[], Awaitable[Measures]],
    service: Callable[[], Awaitable[Measures]],
    progress: str,
) -> tuple[list[Measures], list[Measures]]:
    """`runs` runs of the bare primitive, each followed by one of the service, so that both
    meet the same changes of the machine's load; after each, `progress` is printed, formatted
    with `run` (its number), `b` and `s` (the bare's and the service's measures). The measures
    of every run: the bare's, the service's."""
    bare_runs: list[Measures] = []
    service_runs: list[Measures] = []
    for run in range(1, runs + 1):
        bare_runs.append(await bare())
        service_runs.append(await service())
        print(progress.format(run=run, b=bare_runs[-1], s=service_runs[-1]))
    return bare_runs, service_runs


def median(values: Iterable[float]) -> float:
    found = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(found) if found else math.nan


def median_per_metric(runs: Sequence[dict[str, float]]) -> dict[str, float]:
    """The median of each metric over the runs (each run a dict of metric -> value)."""
    keys = runs[0].keys() if runs else []
    return {k: median(r[k] for r in runs) for k in keys}


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:,.{digits}f}"
    return str(value)


# ---- the report ---------------------------------------------------------------------------------


class Goal(NamedTuple):
    """What a row's value was to be, and whether it was."""

    text: str
    met: bool


def at_most(value: float, limit: float, unit: str) -> Goal:
    return Goal(f"≤ {limit:g}{unit}", value <= limit)


def at_least(value: float, limit: float, unit: str) -> Goal:
    return Goal(f"≥ {limit:g}{unit}", value >= limit)


@dataclass
class Row:
    metric: str
    service: Any
    bare: Any = None
    goal: str = ""
    met: bool | None = None
    # reviewflow / bare, where both are numbers and the row asks for it.
    ratio: float | None = None


@dataclass
class Report:
    scenario: str
    sizes: str
    # How the scenario runs, the same whatever the results: the last of the notes.
    setup: str = ""
    command: str = field(default_factory=command_line)
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    machine: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        metric: str,
        service: Any,
        bare: Any = None,
        *,
        goal: str = "",
        met: bool | None = None,
        ratio: bool = False,
    ) -> None:
        value = None
        if ratio and isinstance(service, int | float) and isinstance(bare, int | float) and bare:
            value = service / bare
        self.rows.append(Row(metric, service, bare, goal, met, value))

    def compare(
        self,
        metric: str,
        key: str,
        service: dict[str, float],
        bare: dict[str, float],
        goal: Goal | None = None,
    ) -> None:
        """A row of the service's and the bare primitive's measure `key`, and their ratio."""
        text, met = goal or ("", None)
        self.add(metric, service[key], bare[key], goal=text, met=met, ratio=True)

    def add_server_beside(
        self, page: str, server: dict[str, float], alone: dict[str, float], what: str, unit: str
    ) -> None:
        """Rows of a page's server time (p50, p95) beside `what` timed alone, in `unit` (ms
        as measured, or µs)."""
        scale = 1000.0 if unit == "µs" else 1.0
        for p in ("p50", "p95"):
            self.add(
                f"{page}: server time {p} vs {what} ({unit})",
                server[f"server_{p}"] * scale,
                alone[p] * scale,
                ratio=True,
            )

    def add_cpu(self, service: dict[str, float], bare: dict[str, float], around: str) -> None:
        """The cores busy (`cpu_used`) in the benchmark's process, and with `around` too."""
        self.compare("CPU busy, benchmark process (cores)", "cpu_process", service, bare)
        self.compare(f"CPU busy, with {around} (cores)", "cpu_all", service, bare)

    def table(self) -> str:
        lines = [
            "| metric | reviewflow | bare primitive | ratio | goal | met |",
            "|---|---:|---:|---:|---|---|",
        ]
        for r in self.rows:
            met = "" if r.met is None else ("yes" if r.met else "**no**")
            ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "—"
            lines.append(
                f"| {r.metric} | {fmt(r.service)} | {fmt(r.bare)} | {ratio} | {r.goal} | {met} |"
            )
        return "\n".join(lines)

    def section(self) -> str:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        machine = "; ".join(f"{k}: {v}" for k, v in self.machine.items())
        parts = [
            f"## {self.scenario} — {now}",
            "",
            f"- Command: `{self.command}`",
            f"- Sizes: {self.sizes}",
            f"- Machine: {machine}",
            "",
            self.table(),
        ]
        notes = [*self.notes, self.setup] if self.setup else self.notes
        if notes:
            parts += ["", *[f"- {n}" for n in notes]]
        return "\n".join(parts) + "\n"

    def publish(self, write: bool = True) -> None:
        if not self.machine:
            self.machine = machine_info(None)
        text = self.section()
        print()
        print(text)
        if write:
            DOCS.parent.mkdir(parents=True, exist_ok=True)
            if not DOCS.exists():
                DOCS.write_text(INTRO)
            with DOCS.open("a", encoding="utf-8") as out:
                out.write("\n" + text)
            print(f"(appended to {DOCS.relative_to(ROOT)})")


def temporal_version() -> str:
    try:
        out = subprocess.run(
            [find_binary("temporal"), "--version"], capture_output=True, text=True, timeout=30
        )
        return out.stdout.strip() or out.stderr.strip()
    except (OSError, subprocess.SubprocessError, RuntimeError) as error:
        return f"unknown ({error})"


def machine_info(postgres: str | None) -> dict[str, str]:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cores = f"{os.cpu_count()} logical cores" + (
        f" ({affinity} usable)" if affinity and affinity != os.cpu_count() else ""
    )
    info = {
        "cores": cores,
        "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "CPU": _cpu_model(),
        "Python": platform.python_version(),
        "Temporal": temporal_version(),
    }
    if postgres:
        info["PostgreSQL"] = postgres
    info["code"] = code_version()
    return info


def _git(*args: str, timeout: float = 10) -> bytes:
    """What a git command in the checkout prints."""
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, timeout=timeout).stdout


def code_version() -> str:
    """The commit measured, and whether the working tree differed from it (read-only git)."""
    try:
        head = _git("rev-parse", "--short", "HEAD").decode().strip()
        changed = _git("status", "--porcelain", "--untracked-files=no").decode().strip()
        diff = _git("diff", "HEAD", timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not head:
        return "unknown"
    if not changed:
        return head
    files = len(changed.splitlines())
    digest = hashlib.sha256(diff).hexdigest()[:10]
    return f"{head} + uncommitted changes in {files} tracked files (diff sha256 {digest})"


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


# ---- services -----------------------------------------------------------------------------------


@dataclass
class Services:
    dsn: str
    api_pool: asyncpg.Pool
    worker_pool: asyncpg.Pool
    client: Client
    settings: Settings
    base_url: str
    http: aiohttp.ClientSession
    postgres_version: str
    data_dir: Path

    def machine(self) -> dict[str, str]:
        embedded = "DATABASE_URL" not in os.environ
        where = "embedded, temporary folder" if embedded else "DATABASE_URL"
        return machine_info(f"{self.postgres_version} ({where})")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def postgres_database(name: str) -> AsyncIterator[tuple[str, str]]:
    """A fresh, migrated database of its own; yields (dsn, server version)."""
    with tempfile.TemporaryDirectory(prefix=f"rf-bench-{name}-pg-") as folder:
        external = os.environ.get("DATABASE_URL")
        embedded = None
        if external:
            server_dsn = external
        else:
            embedded = EmbeddedPostgres(Path(folder) / "pgdata")
            server_dsn = embedded.start()
            if embedded.pid is not None:
                OUR_POSTMASTERS.add(embedded.pid)
        try:
            database = f"reviewflow_bench_{name}_{secrets.token_hex(4)}"
            admin = await asyncpg.connect(server_dsn)
            try:
                await admin.execute(f'CREATE DATABASE "{database}"')
                version = await admin.fetchval("SHOW server_version")
                dsn = with_database(server_dsn, database)
                try:
                    await migrate_dsn(dsn)
                    yield dsn, str(version)
                finally:
                    await admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
            finally:
                await admin.close()
        finally:
            if embedded is not None:
                embedded.stop()


@contextlib.asynccontextmanager
async def temporal_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        search_attributes=list(SEARCH_ATTRIBUTES),
    )
    try:
        yield env
    finally:
        await env.shutdown()


@contextlib.asynccontextmanager
async def services(
    name: str,
    *,
    env: dict[str, str] | None = None,
    pool_size: int = 20,
    http_connections: int = 128,
    extra_workers: Callable[[Client], contextlib.AbstractAsyncContextManager[Any]] | None = None,
    access_log: type[AbstractAccessLogger] | None = None,
) -> AsyncIterator[Services]:
    """Everything reviewflow runs on, its workers and its API, for one benchmark; with
    `access_log` (api.accesslog's class or one derived from it), the API writes the access log
    a deployed API writes, whose durations are the server's own time per request."""
    from worker import running_workers

    with tempfile.TemporaryDirectory(prefix=f"rf-bench-{name}-") as folder:
        data_dir = Path(folder)
        values = {
            "REVIEWFLOW_DATA_DIR": str(data_dir),
            "TEMPORAL_TASK_QUEUE": f"bench-{name}",
            "REVIEWFLOW_HOST": "127.0.0.1",
        }
        values.update(env or {})
        async with postgres_database(name) as (dsn, version), temporal_server() as temporal:
            client = temporal.client
            port = free_port()
            values["REVIEWFLOW_PORT"] = str(port)
            settings = load_settings(values)
            # Two pools, as an API process and a worker process would each have their own.
            api_pool = await create_pool(dsn, max_size=pool_size)
            worker_pool = await create_pool(dsn, max_size=pool_size)
            logging_options: dict[str, Any] = {"access_log": None}
            if access_log is not None:
                logging_options = {**ACCESS_LOG_OPTIONS, "access_log_class": access_log}
            runner = web.AppRunner(
                create_app(settings, pool=api_pool, temporal=client), **logging_options
            )
            try:
                async with contextlib.AsyncExitStack() as stack:
                    await stack.enter_async_context(running_workers(client, worker_pool, settings))
                    if extra_workers is not None:
                        await stack.enter_async_context(extra_workers(client))
                    await runner.setup()
                    await web.TCPSite(runner, "127.0.0.1", port).start()
                    base_url = f"http://127.0.0.1:{port}"
                    http = await stack.enter_async_context(
                        aiohttp.ClientSession(
                            base_url,
                            connector=aiohttp.TCPConnector(limit=http_connections),
                            timeout=aiohttp.ClientTimeout(total=120),
                        )
                    )
                    yield Services(
                        dsn,
                        api_pool,
                        worker_pool,
                        client,
                        settings,
                        base_url,
                        http,
                        version,
                        data_dir,
                    )
            finally:
                await runner.cleanup()
                await api_pool.close()
                await worker_pool.close()


# ---- accounts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    token: str
    organisation: str | None = None
    category: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def create_account(pool: asyncpg.Pool, role: str, **fields: Any) -> Account:
    name = fields.pop("name", f"{role} {secrets.token_hex(3)}")
    if "regions" in fields:
        fields["regions"] = tuple(fields["regions"])
    actor = Actor(id=uuid.uuid4(), name=name, role=role, **fields)
    token = new_token()
    await insert_actor(pool, actor, token, created_by=None)
    return Account(actor.id, token, actor.organisation, actor.stakeholder_category)


def email_of(n: int, account: Account) -> str:
    """The address `bulk_stakeholders` gives its n-th account."""
    return f"contact{n:05d}.{account.id.hex[:8]}@example.org"


def categories() -> tuple[str, ...]:
    """The stakeholder categories of the reference data (the schema's enum)."""
    from domain.reference import load_reference

    return load_reference().category_ids


async def bulk_stakeholders(
    pool: asyncpg.Pool, count: int, prefix: str, *, with_email: bool
) -> list[Account]:
    """`count` stakeholder accounts of ECE, each its own organisation, in one COPY."""
    kinds = categories()
    accounts = [
        Account(uuid.uuid4(), new_token(), f"{prefix} {n:05d}", kinds[n % len(kinds)])
        for n in range(count)
    ]
    await copy_stakeholders(
        pool,
        [
            BulkStakeholder(
                a.id,
                f"Contact {n:05d}",
                email_of(n, a) if with_email else None,
                a.organisation,
                a.category,
                hash_token(a.token),
            )
            for n, a in enumerate(accounts)
        ],
    )
    return accounts


# ---- HTTP -----------------------------------------------------------------------------------------


async def expect(response: aiohttp.ClientResponse, status: int) -> Any:
    body = await response.json(content_type=None)
    if response.status != status:
        raise RuntimeError(f"{response.method} {response.url}: {response.status} {body}")
    return body


async def post(
    http: aiohttp.ClientSession, path: str, account: Account, body: Any, status: int = 200
) -> Any:
    async with http.post(path, json=body, headers=account.headers) as response:
        return await expect(response, status)


async def get(http: aiohttp.ClientSession, path: str, account: Account) -> Any:
    async with http.get(path, headers=account.headers) as response:
        return await expect(response, 200)


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, deadline_s: float, poll_s: float = 0.05
) -> bool:
    """Poll `check` until it is true (True) or `deadline_s` passes (False)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    while loop.time() < end:
        if await check():
            return True
        await asyncio.sleep(poll_s)
    return await check()


async def compile_for_approval(
    svc: Services, secretariat: Account, review_id: str, deadline_s: float
) -> str:
    """Advance the review from its consultation to its compiled report, awaiting approval;
    what the API answered: "200", another status, or "timeout".

    The API answers once the report, its PDF included, is compiled; past its own wait for an
    Update (a PDF takes minutes at full size on a busy machine) it answers an error while the
    compilation goes on: the review's phase is then awaited, up to `deadline_s`."""
    answered = "timeout"
    try:
        async with svc.http.post(
            f"/v1/reviews/{review_id}/advance", json={}, headers=secretariat.headers
        ) as response:
            await response.read()
            answered = str(response.status)
    except TimeoutError:
        pass

    async def in_approval() -> bool:
        phase = await svc.api_pool.fetchval("SELECT phase FROM reviews WHERE id = $1", review_id)
        return bool(phase == "approval")

    if not await wait_until(in_approval, deadline_s=deadline_s, poll_s=0.5):
        raise RuntimeError(f"the report of {review_id} was not compiled in time")
    return answered
