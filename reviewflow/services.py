"""Running the API and the worker in this process until asked to stop."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from aiohttp import web

import worker as worker_module
from api.accesslog import ACCESS_LOG_OPTIONS
from api.app import create_app
from config.settings import Settings
from db.actors import actor_by_token, ensure_admin
from db.pool import create_pool
from services.signin import invitation_link

log = logging.getLogger("reviewflow")

API_SHUTDOWN_TIMEOUT_S = 10.0


async def start_api(settings: Settings, dsn: str, temporal_address: str) -> web.AppRunner:
    app = create_app(settings, database_url=dsn, temporal_address=temporal_address)
    runner = web.AppRunner(app, shutdown_timeout=API_SHUTDOWN_TIMEOUT_S, **ACCESS_LOG_OPTIONS)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    return runner


# Where a generated admin token, and the admin's first sign-in link for the pages, are left
# when nobody is at a terminal to read them.
ADMIN_TOKEN_FILE = "admin-token"
ADMIN_LINK_FILE = "admin-sign-in-link"


async def bootstrap_admin(
    settings: Settings,
    dsn: str,
    announce: Callable[[str], None],
    terminal: TextIO = sys.stderr,
) -> None:
    """The first admin: REVIEWFLOW_ADMIN_TOKEN's, or one generated and handed over once with
    a sign-in link for the pages (valid 7 days, used once), as every invited person gets."""
    # Fail before the admin exists, not after, if there is nowhere to leave its token.
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        token = await ensure_admin(pool, settings.admin_token)
        admin = await actor_by_token(pool, token) if token is not None else None
        link = await invitation_link(pool, settings, admin.id) if admin is not None else None
    finally:
        await pool.close()
    if token is not None and link is not None:
        hand_over(
            Secret("Admin token", ADMIN_TOKEN_FILE, token), settings.data_dir, announce, terminal
        )
        hand_over(
            Secret("Admin sign-in link for the pages", ADMIN_LINK_FILE, link),
            settings.data_dir,
            announce,
            terminal,
        )


@dataclass(frozen=True)
class Secret:
    what: str
    file_name: str
    value: str


def hand_over(
    secret: Secret, data_dir: Path, announce: Callable[[str], None], terminal: TextIO
) -> None:
    """Show a secret to whoever starts the service, never to a log: on their terminal when
    there is one; otherwise (a container, a service manager, whose output ends up in logs) in
    a file only this user may read, whose path is announced instead."""
    if terminal.isatty():
        print(f"{secret.what} (shown once, keep it): {secret.value}", file=terminal, flush=True)
        return
    path = data_dir / secret.file_name
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "w") as file:
        os.fchmod(descriptor, 0o600)  # a file left from before keeps its mode otherwise
        file.write(secret.value + "\n")
    announce(
        f"{secret.what} written to {path} (readable by this user only): keep it elsewhere,"
        " then delete the file."
    )


async def serve(
    settings: Settings,
    dsn: str,
    temporal_address: str,
    stop: asyncio.Event,
    *,
    api: bool = True,
    worker: bool = True,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve until `stop` is set; then stop taking requests, then let activities finish."""
    runner = await start_api(settings, dsn, temporal_address) if api else None
    try:
        if worker:
            client = await worker_module.connect_worker_client(settings, temporal_address)
            await worker_module.ensure_search_attributes(client)
            pool = await create_pool(dsn)
            try:
                async with worker_module.running_workers(client, pool, settings):
                    if on_ready:
                        on_ready()
                    await stop.wait()
            finally:
                await pool.close()
        else:
            if on_ready:
                on_ready()
            await stop.wait()
    finally:
        if runner is not None:
            await runner.cleanup()
