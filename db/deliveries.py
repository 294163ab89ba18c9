"""The delivery log: events expanded into deliveries (email and webhook), claimed under a
lease, and marked sent, due again or failed, with each webhook attempt recorded.

A delivery is keyed by (event, channel, recipient), so expanding an event twice creates
nothing twice. A sender's writes are fenced (`STILL_OURS`): once another sender has claimed a
delivery, the first neither renews nor marks it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from db.pool import Connection, Executor


def email_expansion_sql(recipients: str, essential: str) -> str:
    """One statement that creates an event's email deliveries to `recipients` (a selection of
    `db.recipients`); `essential` says whether those who opted out are sent it anyway.

    Parameters: $1 review id, $2 event data, $3 event actor, $4 event id, $5 template.
    """
    return f"""
        WITH p AS (SELECT $1::text AS review_id, $2::jsonb AS data, $3::uuid AS actor_id,
                          $4::uuid AS event_id, $5::text AS template)
        INSERT INTO deliveries (id, event_id, channel, recipient, address, template)
        SELECT md5(p.event_id::text || ':email:' || a.id::text)::uuid, p.event_id, 'email',
               a.id, a.email, p.template
        FROM p JOIN reviews r ON r.id = p.review_id, actors a
        WHERE a.id IN ({recipients}) AND a.email IS NOT NULL AND a.disabled_at IS NULL
          AND (a.notifications = 'all' OR {essential})
        ON CONFLICT (event_id, channel, recipient) DO NOTHING"""


WEBHOOK_EXPANSION_SQL = """
    WITH p AS (SELECT $1::text AS review_id, $2::uuid AS event_id, $3::text AS event_type)
    INSERT INTO deliveries (id, event_id, channel, recipient, address, template)
    SELECT md5(p.event_id::text || ':webhook:' || w.id::text)::uuid, p.event_id, 'webhook',
           w.id, w.url, p.event_type
    FROM p JOIN reviews r ON r.id = p.review_id, webhooks w
    WHERE w.deleted_at IS NULL
      -- a deactivated owner's subscriptions stop with its account
      AND NOT EXISTS (SELECT 1 FROM actors o WHERE o.id = w.owner AND o.disabled_at IS NOT NULL)
      AND (w.review_id = r.id OR (w.review_id IS NULL AND r.region = ANY (w.regions)))
      AND (p.event_type = ANY (w.events) OR '*' = ANY (w.events))
    ON CONFLICT (event_id, channel, recipient) DO NOTHING"""

CLAIM_DUE = """
    UPDATE deliveries d SET status = 'sending', attempts = d.attempts + 1, lease_until = now() + $2
    WHERE d.id IN (
        SELECT id FROM deliveries
        WHERE channel = $3 AND recipient <> ALL($4::uuid[])
          AND ((status = 'pending' AND next_attempt_at <= now())
            OR (status = 'sending' AND lease_until < now()))
        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
    RETURNING d.id, d.event_id, d.channel, d.recipient, d.address, d.template, d.attempts,
              d.attempt_base"""

# Whether a delivery `d` is still this sender's, `o` the id and attempt it claimed: claimed by
# no one since, and not yet marked.
STILL_OURS = "d.id = o.id AND d.status = 'sending' AND d.attempts = o.attempts"
# The deliveries a statement is about ($1 ids, $2 the attempts claimed), as `o`.
CLAIMED = "unnest($1::uuid[], $2::int[]) AS o (id, attempts)"

RENEW_LEASES = f"""
    UPDATE deliveries d SET lease_until = now() + $3 FROM {CLAIMED} WHERE {STILL_OURS}
    RETURNING d.id"""

# Claimed deliveries handed back unsent, due again at once, as if never claimed.
RELEASE = f"""
    UPDATE deliveries d SET status = 'pending', attempts = d.attempts - 1, lease_until = NULL
    FROM {CLAIMED} WHERE {STILL_OURS}"""

CONTEXT = """
    SELECT d.id, e.id AS event_id, e.type, e.review_id, e.actor_id, e.at, e.data,
           r.title, r.region, r.deadlines, a.name, a.language, a.time_zone, a.role, a.country,
           w.secret,
           ea.name AS event_actor_name
    FROM deliveries d
    JOIN review_events e ON e.id = d.event_id
    JOIN reviews r ON r.id = e.review_id
    LEFT JOIN actors a ON d.channel = 'email' AND a.id = d.recipient
    LEFT JOIN webhooks w ON d.channel = 'webhook' AND w.id = d.recipient
    LEFT JOIN actors ea ON ea.id = e.actor_id
    WHERE d.id = ANY($1::uuid[])"""


async def expand_emails(
    conn: Connection, by_rule: Mapping[tuple[str, str, str], Sequence[asyncpg.Record]]
) -> None:
    """Create the events' email deliveries (`by_rule`: the events, with id, review_id,
    actor_id and data, under their rule's template, recipients and essential), in a round
    trip per rule. The caller holds the events' locks (`db.events.claim_unexpanded` or
    `lock_for_expansion`), so two expansions of one event never interleave their writes."""
    for (template, recipients, essential), events in by_rule.items():
        await conn.executemany(
            email_expansion_sql(recipients, essential),
            [(e["review_id"], e["data"], e["actor_id"], e["id"], template) for e in events],
        )


async def expand_webhooks(conn: Connection, events: Sequence[asyncpg.Record]) -> None:
    """Create the events' deliveries to every webhook subscribed to them, in one round trip."""
    await conn.executemany(
        WEBHOOK_EXPANSION_SQL, [(e["review_id"], e["id"], e["type"]) for e in events]
    )


async def fail_abandoned(conn: Connection, max_attempts: int) -> list[asyncpg.Record]:
    """A sender died during the last allowed attempt: give up rather than try once more. The
    deliveries given up, with their review, channel and reason."""
    return await conn.fetch(
        """UPDATE deliveries d SET status = 'failed', lease_until = NULL,
                  last_error = coalesce(last_error, 'the sender stopped during the last attempt')
           FROM review_events e
           WHERE e.id = d.event_id AND d.status = 'sending' AND d.lease_until < now()
             AND d.attempts - d.attempt_base >= $1
           RETURNING d.id, d.channel, d.last_error, e.review_id""",
        max_attempts,
    )


async def claim_due(
    conn: Connection, batch: int, lease: timedelta, channel: str, skip: Sequence[uuid.UUID]
) -> list[asyncpg.Record]:
    """Lease up to `batch` due deliveries of `channel`, none to a recipient in `skip`."""
    return await conn.fetch(CLAIM_DUE, batch, lease, channel, list(skip))


async def contexts(conn: Connection, delivery_ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    """What rendering each delivery needs: its event, review, recipient and webhook."""
    return await conn.fetch(CONTEXT, delivery_ids)


def _columns(claimed: Sequence[tuple[uuid.UUID, int]]) -> tuple[list[uuid.UUID], list[int]]:
    return [d for d, _ in claimed], [a for _, a in claimed]


async def renew_leases(
    conn: Executor, claimed: Sequence[tuple[uuid.UUID, int]], lease: timedelta
) -> set[uuid.UUID]:
    """Renew the leases of those of the `claimed` deliveries (id, attempt) still this
    sender's, in one statement: their ids."""
    rows = await conn.fetch(RENEW_LEASES, *_columns(claimed), lease)
    return {row["id"] for row in rows}


async def release(conn: Executor, claimed: Sequence[tuple[uuid.UUID, int]]) -> None:
    """Hand back those of the `claimed` deliveries (id, attempt) still this sender's."""
    await conn.execute(RELEASE, *_columns(claimed))


@dataclass(frozen=True)
class Mark:
    """The outcome of one attempt: `status` sent, pending (due again at `next_attempt_at`) or
    failed, with the error that made it so."""

    delivery_id: uuid.UUID
    attempt: int
    status: str
    error: str | None = None
    next_attempt_at: datetime | None = None


MARK = f"""
    UPDATE deliveries d SET status = o.status, lease_until = NULL, last_error = o.error,
           sent_at = CASE WHEN o.status = 'sent' THEN now() END,
           next_attempt_at = coalesce(o.next_attempt_at, d.next_attempt_at)
    FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::timestamptz[])
         AS o (id, attempts, status, error, next_attempt_at)
    WHERE {STILL_OURS}
    RETURNING d.id"""


async def mark(conn: Executor, marks: Sequence[Mark]) -> set[uuid.UUID]:
    """Record the outcomes of deliveries still this sender's, in one statement: the ids
    marked (nothing is written for the others)."""
    if not marks:
        return set()
    rows = await conn.fetch(
        MARK,
        [m.delivery_id for m in marks],
        [m.attempt for m in marks],
        [m.status for m in marks],
        [m.error for m in marks],
        [m.next_attempt_at for m in marks],
    )
    return {row["id"] for row in rows}


async def record_attempt(
    conn: Connection,
    delivery_id: uuid.UUID,
    attempt: int,
    *,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
) -> None:
    await conn.execute(
        """INSERT INTO delivery_attempts (delivery_id, attempt, status_code, error, duration_ms)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
        delivery_id,
        attempt,
        status_code,
        error,
        duration_ms,
    )


# A delivery as its review's secretariat sees it: to whom (an account's name, a webhook's
# address), what, when, how often tried since last put back, and why not sent.
LISTED_DELIVERY = """
    SELECT d.id, d.channel, d.status, d.template, e.type AS event_type, e.at AS event_at,
           d.created_at, d.sent_at, d.last_error, d.attempts - d.attempt_base AS attempts,
           CASE WHEN d.channel = 'email' THEN a.name END AS recipient_name, d.address
    FROM review_events e
    JOIN deliveries d ON d.event_id = e.id
    LEFT JOIN actors a ON d.channel = 'email' AND a.id = d.recipient"""


async def review_deliveries(
    conn: Executor, review_id: str, status: str | None, limit: int
) -> list[asyncpg.Record]:
    """The review's deliveries (of `status`, or any), newest first."""
    return await conn.fetch(
        f"""{LISTED_DELIVERY}
            WHERE e.review_id = $1 AND ($2::text IS NULL OR d.status = $2)
            ORDER BY d.created_at DESC, d.id LIMIT $3""",
        review_id,
        status,
        limit,
    )


async def listed_delivery(conn: Executor, delivery_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"{LISTED_DELIVERY} WHERE d.id = $1", delivery_id)


async def delivery_review(conn: Executor, delivery_id: uuid.UUID) -> asyncpg.Record | None:
    """The delivery's status and channel with its review's id."""
    return await conn.fetchrow(
        """SELECT d.id, d.status, d.channel, d.template, d.attempt_base, e.review_id
           FROM deliveries d JOIN review_events e ON e.id = d.event_id WHERE d.id = $1""",
        delivery_id,
    )


async def put_back(conn: Connection, delivery_id: uuid.UUID) -> int | None:
    """A delivery failed for good, due again now with a fresh budget of attempts: the
    attempt its budget now counts from; None when it had not failed (nothing is written)."""
    return await conn.fetchval(
        """UPDATE deliveries SET status = 'pending', attempt_base = attempts,
                  next_attempt_at = now(), lease_until = NULL, last_error = NULL
           WHERE id = $1 AND status = 'failed' RETURNING attempt_base""",
        delivery_id,
    )
