"""Retention: the purge's rules against PostgreSQL, its bound, and the Schedule that runs it on
the Temporal dev server (schedules need a real server, not the time-skipping one)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import secrets
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from temporalio.client import Client, ScheduleIntervalSpec, ScheduleOverlapPolicy, ScheduleUpdate
from temporalio.testing import ActivityEnvironment

from activities.retention import RetentionActivities
from config.settings import Settings, load_settings
from db.migrate import migrate_dsn
from db.pool import create_pool
from db.reviews import insert_review
from reviewflow.retention import ensure_retention_schedule
from tests.conftest import create_account
from tests.domain_fixtures import config
from tests.reviews import eventually
from worker import running_workers
from workflows.models import PurgeRound
from workflows.notifications import notifications_workflow_id
from workflows.retention import RETENTION_EVERY, retention_workflow_id

DAY_S = 86400
# The tables the purge deletes from; every other one is kept for ever.
PURGED = {
    "idempotent_requests",
    "delivery_attempts",
    "web_sessions",
    "sign_in_links",
    "file_blobs",
}
# What `aged` creates that the rules (days below) delete.
EXPIRED = {
    "idempotent_requests": 1,
    "delivery_attempts": 3,
    "web_sessions": 1,
    "sign_in_links": 2,
    "unnamed_files": 1,
    "mail_files": 1,
}


@dataclasses.dataclass
class Store:
    pool: asyncpg.Pool
    settings: Settings
    actor: uuid.UUID


@pytest.fixture
async def store(fresh_database: str, tmp_path: Path) -> AsyncIterator[Store]:
    await migrate_dsn(fresh_database)
    pool = await create_pool(fresh_database)
    settings = load_settings(
        {
            "REVIEWFLOW_DATA_DIR": str(tmp_path),
            "TEMPORAL_TASK_QUEUE": f"retention-{secrets.token_hex(3)}",
            "REVIEWFLOW_RETENTION_DAYS": "30",
            "REVIEWFLOW_IDEMPOTENCY_DAYS": "7",
            "REVIEWFLOW_DELIVERY_DAYS": "30",
            "REVIEWFLOW_SESSION_DAYS": "30",
        }
    )
    try:
        account = await create_account(pool, "secretariat", regions=("ECE",))
        yield Store(pool, settings, account.actor.id)
    finally:
        await pool.close()


async def _idempotent(store: Store, key: str, age: timedelta) -> None:
    await store.pool.execute(
        """INSERT INTO idempotent_requests (actor_id, key, request_hash, status, response, created_at)
           VALUES ($1, $2, 'h', 201, '{}', now() - $3::interval)""",
        store.actor,
        key,
        age,
    )


async def _delivery(
    store: Store, event: uuid.UUID, status: str, attempt_ages: list[timedelta]
) -> uuid.UUID:
    delivery = uuid.uuid4()
    await store.pool.execute(
        """INSERT INTO deliveries (id, event_id, channel, recipient, address, template, status,
                                   attempts, created_at)
           VALUES ($1, $2, 'webhook', $3, 'https://example.org/hook', 'review.cancelled', $4, $5,
                   now() - interval '400 days')""",
        delivery,
        event,
        uuid.uuid4(),
        status,
        len(attempt_ages),
    )
    for number, age in enumerate(attempt_ages, 1):
        await store.pool.execute(
            """INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, duration_ms)
               VALUES ($1, $2, now() - $3::interval, 503, 10)""",
            delivery,
            number,
            age,
        )
    return delivery


async def _session(store: Store, name: str, last_seen: timedelta) -> None:
    await store.pool.execute(
        """INSERT INTO web_sessions (token_hash, actor_id, csrf_token, created_at, last_seen_at)
           VALUES ($1, $2, 'c', now() - $3::interval - interval '1 hour', now() - $3::interval)""",
        name,
        store.actor,
        last_seen,
    )


async def _link(store: Store, name: str, expires: timedelta, used: timedelta | None) -> None:
    """A link that expired `expires` ago (negative: expires later), used `used` ago."""
    await store.pool.execute(
        """INSERT INTO sign_in_links (token_hash, actor_id, purpose, created_at, expires_at, used_at)
           VALUES ($1, $2, 'invitation', now() - $3::interval - interval '7 days',
                   now() - $3::interval, now() - $4::interval)""",
        name,
        store.actor,
        expires,
        used,
    )


def _mail_file(folder: Path, name: str, age_days: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("Subject: x\n\nx\n")
    written = time.time() - age_days * DAY_S
    os.utime(path, (written, written))


async def _file(store: Store, name: str, age: timedelta, review_id: str | None) -> None:
    """A file's bytes stored `age` ago; named by an annex of `review_id` when one is given."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    await store.pool.execute(
        """INSERT INTO file_blobs (sha256, size, content, stored_at)
           VALUES ($1, $2, $3, now() - $4::interval)""",
        digest,
        len(name),
        name.encode(),
        age,
    )
    if review_id is not None:
        await store.pool.execute(
            """INSERT INTO annexes (id, review_id, kind, subject, file_name, media_type, size,
                   sha256, uploaded_by, uploaded_at)
               VALUES ($1, $2, 'national_report', 'DEU', 'old.pdf', 'application/pdf', $3, $4,
                       $5, now() - $6::interval)""",
            uuid.uuid4(),
            review_id,
            len(name),
            digest,
            store.actor,
            age,
        )


async def aged(store: Store) -> dict[str, uuid.UUID]:
    """Records on each side of each rule, and old records of what is kept for ever; the
    deliveries by status."""
    days = timedelta(days=1)
    minutes = timedelta(minutes=1)
    review = dataclasses.replace(
        config(), review_id=f"ece-{secrets.token_hex(3)}", created_by=str(store.actor)
    )
    async with store.pool.acquire() as conn:
        await insert_review(conn, review, None, "published")
    event = uuid.uuid4()
    await store.pool.execute(
        """INSERT INTO review_events (id, review_id, type, at, recorded_at, expanded_at)
           VALUES ($1, $2, 'review.cancelled', now() - interval '400 days',
                   now() - interval '400 days', now() - interval '400 days')""",
        event,
        review.review_id,
    )
    await store.pool.execute(
        """INSERT INTO account_events (account_id, type, at)
           VALUES ($1, 'account.created', now() - interval '400 days')""",
        store.actor,
    )
    submission = uuid.uuid4()
    await store.pool.execute(
        """INSERT INTO submissions (id, review_id, kind, subject, latest_version, created_at)
           VALUES ($1, $2, 'national_report', 'DEU', 1, now() - interval '400 days')""",
        submission,
        review.review_id,
    )
    await store.pool.execute(
        """INSERT INTO submission_versions (request_id, submission_id, version, status, content,
                                            fingerprint, submitted_by, received_at)
           VALUES ($1, $2, 1, 'accepted', '{}', 'f', $3, now() - interval '400 days')""",
        uuid.uuid4(),
        submission,
        store.actor,
    )
    await store.pool.execute(
        """INSERT INTO reports (review_id, version, content_hash, json, html, markdown, compiled_at)
           VALUES ($1, 1, 'h', '{}', '<p></p>', '', now() - interval '400 days')""",
        review.review_id,
    )

    await _idempotent(store, "old", 8 * days)
    await _idempotent(store, "recent", 6 * days)
    deliveries = {
        # the two old attempts go, the recent one stays
        "sent": await _delivery(store, event, "sent", [40 * days, 31 * days, 29 * days]),
        "failed": await _delivery(store, event, "failed", [31 * days]),
        # never settled: every attempt stays, however old
        "pending": await _delivery(store, event, "pending", [40 * days]),
        "sending": await _delivery(store, event, "sending", [40 * days]),
    }
    # Ended (idle 30 minutes after its last request) 31 days ago: goes.
    await _session(store, "ended-31-days-ago", 31 * days)
    # Last seen 30 days and 10 minutes ago, so ended 29 days and 23 hours ago: stays.
    await _session(store, "ended-within-30-days", 30 * days + 10 * minutes)
    await _session(store, "live", minutes)
    await _link(store, "expired-unused", 31 * days, None)
    await _link(store, "used-long-ago", -2 * days, 31 * days)  # used, though valid still
    await _link(store, "used-lately", 29 * days, 29 * days)
    await _link(store, "unused-valid", -2 * days, None)

    await _file(store, "named-long-ago", 400 * days, review.review_id)
    await _file(store, "unnamed-two-days", 2 * days, None)
    await _file(store, "unnamed-being-named", 10 * minutes, None)

    _mail_file(store.settings.mail_dir, "old.eml", 31)
    _mail_file(store.settings.mail_dir, "recent.eml", 29)
    _mail_file(store.settings.mail_dir, "notes.txt", 400)  # not a message: left alone
    return deliveries


async def kept_tables(pool: asyncpg.Pool) -> dict[str, int]:
    """The rows of every table the purge never deletes from."""
    tables = await pool.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    )
    return {
        t["tablename"]: await pool.fetchval(f'SELECT count(*) FROM "{t["tablename"]}"')
        for t in tables
        if t["tablename"] not in PURGED
    }


async def what_is_left(store: Store, deliveries: dict[str, uuid.UUID]) -> dict[str, Any]:
    by_id = {v: k for k, v in deliveries.items()}
    attempts = await store.pool.fetch(
        "SELECT delivery_id, attempt FROM delivery_attempts ORDER BY delivery_id, attempt"
    )

    async def names(table: str, column: str) -> list[str]:
        rows = await store.pool.fetch(f"SELECT {column} FROM {table} ORDER BY {column}")
        return [r[column] for r in rows]

    return {
        "idempotent_requests": await names("idempotent_requests", "key"),
        "delivery_attempts": sorted((by_id[a["delivery_id"]], a["attempt"]) for a in attempts),
        "web_sessions": await names("web_sessions", "token_hash"),
        "sign_in_links": await names("sign_in_links", "token_hash"),
        "mail": sorted(p.name for p in store.settings.mail_dir.iterdir()),
        "files": sorted(bytes(c).decode() for c in await names("file_blobs", "content")),
    }


EXPECTED_LEFT = {
    "idempotent_requests": ["recent"],
    "delivery_attempts": [("pending", 1), ("sending", 1), ("sent", 3)],
    "web_sessions": ["ended-within-30-days", "live"],
    "sign_in_links": ["unused-valid", "used-lately"],
    "mail": ["notes.txt", "recent.eml"],
    "files": ["named-long-ago", "unnamed-being-named"],
}


async def purge(store: Store, round: PurgeRound, beats: list[Any] | None = None) -> Any:
    """Run the purge activity as a worker would, its heartbeats kept in `beats`."""
    env = ActivityEnvironment()
    if beats is not None:
        env.on_heartbeat = lambda *details: beats.append(details)
    activities = RetentionActivities(store.pool, store.settings)
    return await env.run(activities.purge_expired, round)


async def test_each_rule_deletes_what_expired_and_nothing_else(store: Store) -> None:
    deliveries = await aged(store)
    kept = await kept_tables(store.pool)
    assert kept["submissions"] == kept["reports"] == kept["review_events"] == 1
    assert kept["deliveries"] == 4 and kept["account_events"] >= 1

    deleted = await purge(store, PurgeRound(batch=1000, max_batches=100))

    assert deleted == EXPIRED
    assert await what_is_left(store, deliveries) == EXPECTED_LEFT
    assert await kept_tables(store.pool) == kept
    # Nothing more has expired: a second run deletes nothing.
    again = await purge(store, PurgeRound(batch=1000, max_batches=100))
    assert again == dict.fromkeys(EXPIRED, 0)


async def test_a_purge_deletes_batches_up_to_its_bound_and_the_next_run_goes_on(
    store: Store,
) -> None:
    for n in range(25):
        await _idempotent(store, f"old-{n}", timedelta(days=8))
        await _session(store, f"old-{n}", timedelta(days=31))
    beats: list[Any] = []

    first = await purge(store, PurgeRound(batch=10, max_batches=2), beats)
    assert (first["idempotent_requests"], first["web_sessions"]) == (20, 20)
    assert await store.pool.fetchval("SELECT count(*) FROM idempotent_requests") == 5
    assert await store.pool.fetchval("SELECT count(*) FROM web_sessions") == 5
    # A heartbeat after every batch: 2 + 2 full ones, and one short batch of each other kind.
    assert len(beats) == 7

    second = await purge(store, PurgeRound(batch=10, max_batches=2))
    assert (second["idempotent_requests"], second["web_sessions"]) == (5, 5)
    assert await store.pool.fetchval("SELECT count(*) FROM idempotent_requests") == 0


async def test_purges_running_at_once_delete_each_row_once(store: Store) -> None:
    for n in range(60):
        await _idempotent(store, f"old-{n}", timedelta(days=8))
    results = await asyncio.gather(
        *(purge(store, PurgeRound(batch=5, max_batches=100)) for _ in range(3))
    )
    assert sum(r["idempotent_requests"] for r in results) == 60
    assert await store.pool.fetchval("SELECT count(*) FROM idempotent_requests") == 0


async def test_the_worker_sets_the_schedule_that_purges(
    store: Store, temporal_client: Client
) -> None:
    settings = store.settings
    deliveries = await aged(store)
    schedule_id = retention_workflow_id(settings.task_queue)
    handle = temporal_client.get_schedule_handle(schedule_id)
    try:
        async with running_workers(temporal_client, store.pool, settings):
            described = await handle.describe()
            schedule = described.schedule
            assert schedule.spec.intervals == [ScheduleIntervalSpec(every=RETENTION_EVERY)]
            assert schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
            action = schedule.action
            assert (action.workflow, action.task_queue) == (  # type: ignore[union-attr]
                "RetentionWorkflow",
                settings.task_queue,
            )
            # A second worker's start leaves it as it is.
            await ensure_retention_schedule(temporal_client, settings)
            assert (await handle.describe()).info.last_updated_at is None

            await handle.trigger()

            async def purged() -> bool:
                return await what_is_left(store, deliveries) == EXPECTED_LEFT

            await eventually(purged, deadline_s=30)
            # The triggered run (and, past the hour, the scheduled one) say what they deleted.
            deleted: Counter[str] = Counter()
            for run in (await handle.describe()).info.recent_actions:
                started = run.action.workflow_id  # type: ignore[attr-defined]
                deleted.update(await temporal_client.get_workflow_handle(started).result())
            assert deleted == EXPIRED
    finally:
        await handle.delete()
        stopping = temporal_client.get_workflow_handle(
            notifications_workflow_id(settings.task_queue)
        )
        await stopping.terminate("test finished")


async def test_workers_starting_at_once_make_one_schedule_and_a_new_release_updates_it(
    temporal_client: Client, settings: Settings
) -> None:
    own = dataclasses.replace(settings, task_queue=f"retention-{secrets.token_hex(3)}")
    handles = await asyncio.gather(
        *(ensure_retention_schedule(temporal_client, own) for _ in range(4))
    )
    handle = handles[0]
    try:
        assert {h.id for h in handles} == {retention_workflow_id(own.task_queue)}
        # As an earlier release left it (daily), and paused by an operator.
        await handle.update(
            lambda given: ScheduleUpdate(
                dataclasses.replace(
                    given.description.schedule,
                    spec=dataclasses.replace(
                        given.description.schedule.spec,
                        intervals=[ScheduleIntervalSpec(every=timedelta(days=1))],
                    ),
                )
            )
        )
        await handle.pause(note="maintenance")

        async def paused() -> bool:  # as the schedule itself has taken it in
            return (await handle.describe()).schedule.state.paused

        await eventually(paused)

        await ensure_retention_schedule(temporal_client, own)

        described = await handle.describe()
        assert described.schedule.spec.intervals == [ScheduleIntervalSpec(every=RETENTION_EVERY)]
        assert described.schedule.state.paused and described.schedule.state.note == "maintenance"
    finally:
        await handle.delete()
