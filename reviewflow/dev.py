"""`reviewflow dev`: the whole service on embedded defaults, in one process tree.

Order matters both ways: PostgreSQL and Temporal come up before migrations, the worker and
the API; on Ctrl-C the API and worker stop first, then Temporal, then PostgreSQL.
"""

from __future__ import annotations

import asyncio
from contextlib import ExitStack

from config.settings import Settings
from db.migrate import migrate_dsn
from reviewflow.embedded import EmbeddedPostgres, EmbeddedServiceError, EmbeddedTemporal
from reviewflow.services import bootstrap_admin, serve
from worker import stop_event_on_signals


def _say(message: str) -> None:
    print(message, flush=True)


def _start_database(settings: Settings, stack: ExitStack) -> str:
    if settings.database_url is not None:
        return settings.database_url
    postgres = EmbeddedPostgres(settings.data_dir / "postgres")
    dsn = postgres.start()
    stack.callback(postgres.stop)
    _say(f"PostgreSQL (embedded) data in {postgres.pgdata}")
    return dsn


def _start_temporal(settings: Settings, stack: ExitStack) -> tuple[str, str | None]:
    if settings.temporal_address is not None:
        return settings.temporal_address, None
    temporal = EmbeddedTemporal(
        db_file=settings.data_dir / "temporal.sqlite", log_file=settings.data_dir / "temporal.log"
    )
    temporal.start()
    stack.callback(temporal.stop)
    return temporal.address, temporal.ui_url


def run_dev(settings: Settings) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        try:
            dsn = _start_database(settings, stack)
            address, ui_url = _start_temporal(settings, stack)
        except EmbeddedServiceError as error:
            # One line for the person at the terminal (such as the extra to install).
            raise SystemExit(str(error)) from None
        asyncio.run(_serve(settings, dsn, address, ui_url))
    _say("reviewflow stopped")
    return 0


async def _serve(settings: Settings, dsn: str, address: str, ui_url: str | None) -> None:
    stop = stop_event_on_signals()
    applied = await migrate_dsn(dsn)
    if applied:
        _say(f"Migrations applied: {', '.join(applied)}")
    await bootstrap_admin(settings, dsn, _say)

    def ready() -> None:
        _say(f"Pages:       {settings.api_url}/")
        _say(f"API:         {settings.api_url}/v1")
        _say(f"API docs:    {settings.api_url}/docs")
        _say(f"Temporal UI: {ui_url}" if ui_url else f"Temporal:    {address}")
        _say(f"Metrics:     {settings.api_url}/metrics")
        if settings.worker_metrics_address:
            _say(f"Worker metrics: http://{settings.worker_metrics_address}/metrics")
        if settings.smtp is None:
            _say(f"Mail:        written as .eml files to {settings.mail_dir}")
        _say("Press Ctrl-C to stop.")

    await serve(settings, dsn, address, stop, on_ready=ready)
