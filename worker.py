"""The Temporal worker: every workflow and activity of reviewflow.

Two task queues: the reviews' (workflows and their activities) and the notifications' (the
sending activity, rate-limited), so a slow mail server never holds up a review. Run it as
`reviewflow worker` (or `python worker.py`); it stops on SIGTERM/SIGINT after the activities in
flight have had `GRACEFUL_SHUTDOWN` to finish.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from activities import build_activities
from activities.logcontext import ReviewLogContext
from activities.notify import NotificationActivities
from activities.retention import RetentionActivities
from config.logs import log_json_lines
from config.settings import Settings, load_settings
from config.temporal import connect_temporal
from db.pool import create_pool
from notifications.mail import mailer_for
from notifications.webhooks import service_policy
from reviewflow.orphans import settle_orphans
from reviewflow.retention import ensure_retention_schedule
from workflows import WORKFLOWS
from workflows.notifications import NotificationsWorkflow, notifications_workflow_id
from workflows.review import SEARCH_ATTRIBUTES

log = logging.getLogger("reviewflow.worker")

GRACEFUL_SHUTDOWN = timedelta(seconds=30)


async def ensure_search_attributes(client: Client) -> None:
    """Register the search attributes the workflows upsert, where the server lacks them.

    The embedded dev server is started with them; a cluster or the test server may not be.
    Where the worker lacks the rights to add them, an operator must (see the README).
    """
    wanted = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type) for key in SEARCH_ATTRIBUTES
    }
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=wanted)
        )
    except RPCError as error:
        if error.status != RPCStatusCode.ALREADY_EXISTS:
            log.warning(
                "could not register search attributes %s: %s", sorted(wanted), error.message
            )


def metrics_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime that serves the SDK's worker metrics (and the activities' own) for
    Prometheus at REVIEWFLOW_WORKER_METRICS_ADDRESS; None when it is unset. One per process:
    its clients all report through it."""
    if settings.worker_metrics_address is None:
        return None
    prometheus = PrometheusConfig(
        bind_address=settings.worker_metrics_address, counters_total_suffix=True
    )
    return Runtime(telemetry=TelemetryConfig(metrics=prometheus))


async def connect_worker_client(settings: Settings, address: str) -> Client:
    return await connect_temporal(settings, address, runtime=metrics_runtime(settings))


def build_worker(client: Client, pool: asyncpg.Pool, settings: Settings) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=[*build_activities(pool, client), *RetentionActivities(pool, settings).all()],
        interceptors=[ReviewLogContext()],
        # Every review activity holds a database connection: more of them at once than the
        # pool has would only queue for one, against their start-to-close timeouts.
        max_concurrent_activities=pool.get_max_size(),
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )


def build_notify_worker(client: Client, pool: asyncpg.Pool, settings: Settings) -> Worker:
    address = client.service_client.config.target_host
    sender = NotificationActivities(
        pool,
        mailer_for(settings.smtp, settings.mail_dir),
        settings,
        service_policy(settings, address),
    )
    return Worker(
        client,
        task_queue=settings.notify_task_queue,
        activities=[sender.deliver_notifications],
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )


async def ensure_notifications_running(client: Client, settings: Settings) -> None:
    """Start the notification pipeline's workflow unless it already runs."""
    await client.start_workflow(
        NotificationsWorkflow.run,
        settings.notify_task_queue,
        id=notifications_workflow_id(settings.task_queue),
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )


@asynccontextmanager
async def running_workers(
    client: Client, pool: asyncpg.Pool, settings: Settings
) -> AsyncIterator[None]:
    """Both workers running, the notification pipeline started and the retention Schedule
    set, until the block ends."""
    async with build_worker(client, pool, settings), build_notify_worker(client, pool, settings):
        await ensure_notifications_running(client, settings)
        await ensure_retention_schedule(client, settings)
        await settle_orphans(client, pool)
        yield
        log.info("worker stopping; letting running activities finish")


async def run_until_stopped(
    client: Client, pool: asyncpg.Pool, settings: Settings, stop: asyncio.Event
) -> None:
    """Run the workers until `stop` is set, then shut them down gracefully."""
    async with running_workers(client, pool, settings):
        await stop.wait()


def stop_event_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def main(settings: Settings | None = None) -> None:
    settings = settings or load_settings()
    if settings.database_url is None or settings.temporal_address is None:
        raise SystemExit("set DATABASE_URL and TEMPORAL_ADDRESS, or run `reviewflow dev`")
    stop = stop_event_on_signals()
    client = await connect_worker_client(settings, settings.temporal_address)
    await ensure_search_attributes(client)
    pool = await create_pool(settings.database_url)
    try:
        await run_until_stopped(client, pool, settings, stop)
    finally:
        await pool.close()


if __name__ == "__main__":
    log_json_lines()
    asyncio.run(main())
