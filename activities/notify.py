"""The notification pipeline's activity: events become deliveries, deliveries are sent.

Both steps work on the delivery log in PostgreSQL, keyed by (event, channel, recipient):
expanding an event twice creates nothing twice, and a delivery is claimed (leased) before it
is sent and marked sent right after the receiver accepted it. What can still happen — a crash
between a receiver's acceptance and that mark — resends the same message with the same
Message-ID or delivery id once the lease expires (docs/notifications.md).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import aiohttp
import asyncpg
from jinja2 import TemplateError
from temporalio import activity

from notifications.mail import Mailer, Outgoing, SendFailure, build_message
from notifications.render import render
from notifications.rules import WEBHOOK_EXPANSION_SQL, email_expansion_sql, rule_for
from notifications.webhooks import (
    MAX_ATTEMPTS,
    WebhookPolicy,
    WebhookURLRefused,
    delivery_body,
    delivery_connector,
    delivery_headers,
    failure_class,
    outcome,
    resolve_allowed,
    retry_delay,
)
from reviewflow.config import Settings
from workflows.models import DELIVER_NOTIFICATIONS, DeliveryRound, DeliveryStats

# A claimed delivery not marked within this time is claimed again (its sender died).
LEASE = timedelta(minutes=2)
IDLE_POLL_S = 0.25
EVENTS_PER_EXPANSION = 500
WEBHOOK_TIMEOUT = aiohttp.ClientTimeout(total=10)

CLAIM_DUE = """
    UPDATE deliveries d SET status = 'sending', attempts = d.attempts + 1, lease_until = now() + $2
    WHERE d.id IN (
        SELECT id FROM deliveries
        WHERE (status = 'pending' AND next_attempt_at <= now())
           OR (status = 'sending' AND lease_until < now())
        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
    RETURNING d.id, d.event_id, d.channel, d.recipient, d.address, d.template, d.attempts"""

CONTEXT = """
    SELECT d.id, e.id AS event_id, e.type, e.review_id, e.actor_id, e.at, e.data,
           r.title, r.region, r.deadlines, a.name, a.language, a.role, w.secret,
           ea.name AS event_actor_name
    FROM deliveries d
    JOIN review_events e ON e.id = d.event_id
    JOIN reviews r ON r.id = e.review_id
    LEFT JOIN actors a ON d.channel = 'email' AND a.id = d.recipient
    LEFT JOIN webhooks w ON d.channel = 'webhook' AND w.id = d.recipient
    LEFT JOIN actors ea ON ea.id = e.actor_id
    WHERE d.id = ANY($1::uuid[])"""


@dataclass(frozen=True)
class Claimed:
    row: asyncpg.Record
    context: asyncpg.Record


class RateLimiter:
    """At most `per_second` messages a second on average, in bursts of up to one second's worth.

    Sending `count` at once runs into debt that the next call waits off, so a batch of 200 at
    100/s is sent now and the next batch waits two seconds.
    """

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self.allowance = per_second
        self.last = time.monotonic()

    async def wait(self, count: int = 1) -> None:
        if self.per_second <= 0:
            return  # unlimited
        now = time.monotonic()
        self.allowance = min(self.per_second, self.allowance + (now - self.last) * self.per_second)
        self.last = now
        if self.allowance < 0:
            await asyncio.sleep(-self.allowance / self.per_second)
        self.allowance -= count


def _template_data(template: str, context: asyncpg.Record) -> dict[str, Any]:
    """The event's data as its template needs it."""
    data = dict(context["data"])
    if template == "call.opened":
        data.update({k: context["deadlines"][k] for k in ("inputs_due_at", "consultation_due_at")})
    elif template == "task.delegated":
        data["from_name"] = context["event_actor_name"] or "A colleague"
    elif template == "escalation.alert":
        data["missing"] = [
            m if isinstance(m, str) else f"{m['name']} ({m['organisation']})"
            for m in data.get("missing", [])
        ]
    return data


class NotificationActivities:
    def __init__(
        self, pool: asyncpg.Pool, mailer: Mailer, settings: Settings, policy: WebhookPolicy
    ) -> None:
        self.pool = pool
        self.mailer = mailer
        self.settings = settings
        self.policy = policy
        self.limiter = RateLimiter(settings.notify_rate)

    @activity.defn(name=DELIVER_NOTIFICATIONS)
    async def deliver_notifications(self, round: DeliveryRound) -> DeliveryStats:
        """Expand and send until `round.max_seconds` pass or the worker shuts down."""
        stats = {"expanded": 0, "sent": 0, "retried": 0, "failed": 0}
        ends = time.monotonic() + round.max_seconds
        # Every connection re-checks where the host resolves now: no DNS-rebinding window.
        connector = delivery_connector(self.policy)
        async with aiohttp.ClientSession(
            connector=connector, timeout=WEBHOOK_TIMEOUT, trust_env=False
        ) as http:
            while time.monotonic() < ends and not activity.is_worker_shutdown():
                activity.heartbeat(stats)
                expanded = await self.expand_events()
                outcomes = await self.send_due(round.batch, http)
                stats["expanded"] += expanded
                for result in outcomes:
                    stats[result] += 1
                if not expanded and not outcomes:
                    await asyncio.sleep(IDLE_POLL_S)  # nothing to do: look again shortly
        return DeliveryStats(**stats)

    async def expand_events(self) -> int:
        """Turn events not yet expanded into deliveries, in one transaction with their mark."""
        async with self.pool.acquire() as conn, conn.transaction():
            events = await conn.fetch(
                """SELECT id, review_id, type, actor_id, data FROM review_events
                   WHERE expanded_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED""",
                EVENTS_PER_EXPANSION,
            )
            for event in events:
                rule = rule_for(event["type"], event["data"])
                if rule is not None:
                    await conn.execute(
                        email_expansion_sql(rule),
                        event["review_id"],
                        event["data"],
                        event["actor_id"],
                        event["id"],
                        rule.template,
                    )
                await conn.execute(
                    WEBHOOK_EXPANSION_SQL, event["review_id"], event["id"], event["type"]
                )
            if events:
                await conn.execute(
                    "UPDATE review_events SET expanded_at = now() WHERE id = ANY($1::uuid[])",
                    [e["id"] for e in events],
                )
        return len(events)

    async def send_due(self, batch: int, http: aiohttp.ClientSession) -> list[str]:
        """Send the deliveries now due; return each one's outcome (sent, retried, failed)."""
        claimed = await self._claim(batch)
        if not claimed:
            return []
        emails = [c for c in claimed if c.row["channel"] == "email"]
        webhooks = [c for c in claimed if c.row["channel"] == "webhook"]
        outcomes: list[str] = []
        if emails:
            outcomes += await self._send_emails(emails)
        for delivery in webhooks:
            await self.limiter.wait()
            outcomes.append(await self._send_webhook(delivery, http))
        return outcomes

    async def _claim(self, batch: int) -> list[Claimed]:
        async with self.pool.acquire() as conn:
            # A sender died during the last allowed attempt: give up rather than try once more.
            await conn.execute(
                """UPDATE deliveries SET status = 'failed', lease_until = NULL,
                          last_error = coalesce(last_error, 'the sender stopped during the last attempt')
                   WHERE status = 'sending' AND lease_until < now() AND attempts >= $1""",
                MAX_ATTEMPTS,
            )
            rows = await conn.fetch(CLAIM_DUE, batch, LEASE)
            if not rows:
                return []
            contexts = {r["id"]: r for r in await conn.fetch(CONTEXT, [r["id"] for r in rows])}
        return [Claimed(row, contexts[row["id"]]) for row in rows]

    # ---- email ---------------------------------------------------------------------------

    def _message(self, delivery: Claimed) -> EmailMessage:
        row, context = delivery.row, delivery.context
        rendered = render(
            row["template"],
            context["language"],
            {
                "recipient": {"name": context["name"]},
                "role": context["role"],
                "review": {
                    "id": context["review_id"],
                    "title": context["title"],
                    "region": context["region"],
                },
                "event": {
                    "type": context["type"],
                    "at": context["at"].isoformat(),
                    "data": _template_data(row["template"], context),
                },
                "links": {"review": f"{self.settings.api_url}/v1/reviews/{context['review_id']}"},
                "service": {"name": "reviewflow"},
            },
        )
        outgoing = Outgoing(
            str(row["id"]),
            row["template"],
            context["name"],
            row["address"],
            rendered,
            context["at"],
        )
        return build_message(outgoing, self.settings.mail_from)

    async def _send_emails(self, deliveries: list[Claimed]) -> list[str]:
        """Send each message that can be built; one that cannot fails alone, for good."""
        outcomes: list[str] = []
        built: list[tuple[Claimed, EmailMessage]] = []
        for delivery in deliveries:
            try:
                built.append((delivery, self._message(delivery)))
            except (ValueError, LookupError, TypeError, TemplateError) as error:
                reason = f"the message cannot be built: {error}"
                outcomes.append(await self._record(delivery.row, reason, retry=False))

        async def record(index: int, failure: SendFailure | None) -> None:
            row = built[index][0].row
            if failure is None:
                outcomes.append(await self._record(row, None, retry=False))
            else:
                retry = not failure.permanent
                outcomes.append(await self._record(row, failure.reason, retry=retry))

        await self.limiter.wait(len(built))
        await self.mailer.send([message for _, message in built], record)
        return outcomes

    # ---- webhooks ------------------------------------------------------------------------

    async def _send_webhook(self, delivery: Claimed, http: aiohttp.ClientSession) -> str:
        row, context = delivery.row, delivery.context
        event = {
            "id": str(context["event_id"]),
            "type": context["type"],
            "review_id": context["review_id"],
            "at": context["at"].isoformat(),
            "actor_id": str(context["actor_id"]) if context["actor_id"] else None,
            "data": context["data"],
        }
        body = delivery_body(str(row["id"]), event)
        headers = delivery_headers(
            secret=context["secret"], delivery=str(row["id"]), event_type=context["type"], body=body
        )
        started = time.monotonic()
        status: int | None = None
        failure: BaseException | None = None
        try:
            await resolve_allowed(row["address"], self.policy)
            async with http.post(
                row["address"], data=body, headers=headers, allow_redirects=False
            ) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError, WebhookURLRefused) as error:
            failure = error
        error_class = failure_class(status, failure)
        retry = not isinstance(failure, WebhookURLRefused) and outcome(status) == "retry"
        return await self._record(row, error_class, retry=retry, attempt=(started, status))

    # ---- the log -------------------------------------------------------------------------

    async def _record(
        self,
        row: asyncpg.Record,
        error: str | None,
        *,
        retry: bool,
        attempt: tuple[float, int | None] | None = None,
    ) -> str:
        """Mark one delivery sent, due again later, or failed for good; return which."""
        if error is None:
            status, result, next_at = "sent", "sent", None
        elif retry and row["attempts"] < MAX_ATTEMPTS:
            delay = retry_delay(row["attempts"], str(row["id"]))
            status, result, next_at = (
                "pending",
                "retried",
                datetime.now(UTC) + timedelta(seconds=delay),
            )
        else:
            status, result, next_at = "failed", "failed", None
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """UPDATE deliveries SET status = $2, lease_until = NULL, last_error = $3,
                          sent_at = CASE WHEN $2 = 'sent' THEN now() END,
                          next_attempt_at = coalesce($4, next_attempt_at)
                   WHERE id = $1""",
                row["id"],
                status,
                error,
                next_at,
            )
            if attempt is not None:
                started, code = attempt
                await conn.execute(
                    """INSERT INTO delivery_attempts (delivery_id, attempt, status_code, error, duration_ms)
                       VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
                    row["id"],
                    row["attempts"],
                    code,
                    error,
                    int((time.monotonic() - started) * 1000),
                )
        return result
