"""The notification pipeline's activity: events become deliveries, deliveries are sent.

Both steps work on the delivery log in PostgreSQL, keyed by (event, channel, recipient):
expanding an event twice creates nothing twice, and a delivery is claimed (leased) before it
is sent and marked sent right after the receiver accepted it. What can still happen — a crash
between a receiver's acceptance and that mark — resends the same message with the same
Message-ID or delivery id once the lease expires (docs/notifications.md).

Expansion, email and webhooks run side by side, each claiming its own deliveries, so mail
never waits behind a slow webhook receiver. Webhooks are sent concurrently, a few at a time
per host. Mail goes in batches: the next batch is claimed and built while one is sent, over
SMTP connections kept open from batch to batch, and the outcomes are written as they come,
many in one statement.

A sender renews a delivery's lease, and heartbeats, before sending it, and only while the
delivery is still its own (still `sending`, at the attempt it claimed): a webhook right
before its attempt; a batch of mail in one statement right before its first message, and
again whenever that was more than RECONFIRM_S ago. Its final write is fenced the same way. A
sender that outlived its activity attempt (paused past the heartbeat timeout, its deliveries
claimed again by its successor) thus neither sends nor records anything its successor owns.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import asyncpg
from jinja2 import TemplateError
from temporalio import activity

from config.logs import FIELDS
from config.settings import Settings
from db import deliveries
from db.events import claim_unexpanded, mark_expanded
from domain.events import EventType
from notifications.links import REVIEW_INVITED, SIGN_IN_AND_OPEN, message_links, review_path
from notifications.mail import Mailer, Outgoing, SendFailure, build_message
from notifications.render import render
from notifications.rules import emails_by_rule
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
from services.signin import invitation_link
from workflows import activity_stubs as stubs
from workflows.models import DeliveryRound, DeliveryStats

# A claimed delivery not marked within this time is claimed again (its sender died). Renewed
# right before each message is sent; sending one takes at most MESSAGE_DEADLINE_S (mail) or
# WEBHOOK_TIMEOUT (webhooks), well within it.
LEASE = timedelta(minutes=2)
# A batch of mail is confirmed still this sender's (its leases renewed) right before its first
# message, and again before any message sent longer than this after the last confirmation:
# with the time one message may take (MESSAGE_DEADLINE_S), well within LEASE.
RECONFIRM_S = 5.0
IDLE_POLL_S = 0.25
EVENTS_PER_EXPANSION = 500
WEBHOOK_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=3)
# Webhook attempts under way at once, in all, and to any one host.
WEBHOOKS_IN_FLIGHT = 32
WEBHOOKS_PER_HOST = 4

# What an invitation tells of the review's timeline.
INVITATION_DEADLINES = ("call_opens_at", "inputs_due_at", "consultation_due_at")

# The worker's counter of deliveries given up (the SDK's Prometheus endpoint serves it).
FAILED_METRIC = "reviewflow_deliveries_failed"

# The outcome of a delivery this sender no longer owns: neither sent nor recorded by it.
STALE = "stale"
RELEASED = "released"
# What a delivery's new status says of the attempt.
RESULT_OF = {"sent": "sent", "pending": "retried", "failed": "failed"}


async def _one_done_or_idle(tasks: set[asyncio.Task[str]]) -> None:
    """Wait until one of `tasks` is done, or IDLE_POLL_S at most."""
    if tasks:
        await asyncio.wait(tasks, timeout=IDLE_POLL_S, return_when=asyncio.FIRST_COMPLETED)
    else:
        await asyncio.sleep(IDLE_POLL_S)


@dataclass(frozen=True)
class Claimed:
    row: asyncpg.Record
    context: asyncpg.Record


# A claimed delivery's message, built; a batch of them, with the outcomes of those that could
# not be built.
Built = tuple[Claimed, EmailMessage]
Batch = tuple[list[Built], list[str]]
# A message's delivery and its fate: None when accepted, else why not.
Sent = tuple[Claimed, SendFailure | None]


class BatchLeases:
    """Whether each delivery of a batch of mail is still this sender's, right before its
    message is sent.

    The first question confirms, in one statement that renews their leases, every delivery of
    the batch not yet asked about, and heartbeats; a question asked more than RECONFIRM_S after
    the last confirmation confirms again. A message is thus sent within RECONFIRM_S of its
    lease being renewed, and sent within MESSAGE_DEADLINE_S: no other sender can claim it
    meanwhile. A sender paused long enough for its leases to run out confirms again when it
    resumes, and finds the deliveries its successor claimed no longer its own."""

    def __init__(self, pool: asyncpg.Pool, rows: Sequence[asyncpg.Record]) -> None:
        self.pool = pool
        self.rows = rows
        self.unasked = set(range(len(rows)))
        self.ours: set[uuid.UUID] = set()
        self.confirmed_at = -math.inf
        self.lock = asyncio.Lock()

    async def still_ours(self, index: int) -> bool:
        async with self.lock:
            if time.monotonic() - self.confirmed_at > RECONFIRM_S:
                await self._confirm()
            self.unasked.discard(index)
        return self.rows[index]["id"] in self.ours

    async def _confirm(self) -> None:
        asked_at = time.monotonic()
        activity.heartbeat()
        claimed = [(self.rows[i]["id"], self.rows[i]["attempts"]) for i in self.unasked]
        self.ours = await deliveries.renew_leases(self.pool, claimed, LEASE)
        self.confirmed_at = asked_at


class Recorder:
    """Writes the outcomes of a batch's messages as they come, many in one statement: each
    write takes all those that arrived while the one before it was under way, so a message is
    marked about one write after its receiver accepted it."""

    def __init__(self, write: Callable[[list[Sent]], Awaitable[list[str]]]) -> None:
        self.write = write
        self.waiting: list[Sent] = []
        self.results: list[str] = []
        self._writing: asyncio.Task[None] | None = None

    def add(self, sent: Sent) -> None:
        """Have `sent` written soon; raises if a write failed (the batch stops)."""
        if self._writing is not None and self._writing.done():
            self._writing.result()
        self.waiting.append(sent)
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_waiting())

    async def _write_waiting(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting, []
            self.results.extend(await self.write(batch))

    async def finish(self) -> list[str]:
        """Once every outcome is written (even if the batch is cancelled meanwhile): what
        each came to."""
        if self._writing is not None:
            await asyncio.shield(self._writing)
        return self.results


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
    elif template == REVIEW_INVITED:
        data.update({k: context["deadlines"][k] for k in INVITATION_DEADLINES})
    elif template in (EventType.TASK_DELEGATED, EventType.CLEARANCE_REQUESTED):
        # Without a name, the message says "a colleague" in its reader's language.
        data["from_name"] = context["event_actor_name"]
    elif template == EventType.REMINDER_SENT_NOW and context["role"] == "focal_point":
        # A State is reminded of its own inputs deadline, extended or not, in any phase.
        own = data.get("own_deadlines", {})
        due = own.get(context["country"], context["deadlines"]["inputs_due_at"])
        data.update(deadline="inputs_due_at", due_at=due)
    elif template == EventType.ESCALATION_ALERT:
        data["missing"] = [
            m if isinstance(m, str) else f"{m['name']} ({m['organisation']})"
            for m in data.get("missing", [])
        ]
    return data


class HostSlots:
    """At most `per_host` webhook attempts to one host at a time."""

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._slots: dict[str, asyncio.Semaphore] = {}
        # The host of each webhook seen, so deliveries to a busy host are left unclaimed.
        self._host_of: dict[uuid.UUID, str] = {}

    def busy_webhooks(self) -> list[uuid.UUID]:
        """The webhooks whose host has no free slot now."""
        busy = {host for host, slots in self._slots.items() if slots.locked()}
        return [hook for hook, host in self._host_of.items() if host in busy]

    @contextlib.asynccontextmanager
    async def slot(self, webhook: uuid.UUID, url: str) -> AsyncIterator[None]:
        host = (urlsplit(url).hostname or "").lower()
        self._host_of[webhook] = host
        async with self._slots.setdefault(host, asyncio.Semaphore(self.per_host)):
            yield


def failure_kind(channel: str, error: str) -> str:
    """What kind of failure `error` was, without what it may quote (an address, a reply): a
    webhook's is already its class; a mail server's reply is kept to its code."""
    if channel == "webhook":
        return error
    if code := re.match(r"\d{3}\b", error):
        return f"smtp {code.group()}"
    return error.split(":", 1)[0]


def failed_for_good(review_id: str, row: asyncpg.Record | dict[str, Any], error: str) -> None:
    """Tell the operators of a delivery given up: an error line (its id leads to the recipient
    and the reason, in the delivery log) and the worker's counter."""
    failure = failure_kind(row["channel"], error)
    activity.logger.error(
        "a %s delivery failed for good",
        row["channel"],
        extra={
            FIELDS: {
                "review_id": review_id,
                "delivery_id": str(row["id"]),
                "channel": row["channel"],
                "error_class": failure,
            }
        },
    )
    counter = activity.metric_meter().create_counter(
        FAILED_METRIC, "Notification deliveries that failed for good, by channel."
    )
    counter.add(1, {"channel": row["channel"]})


class NotificationActivities:
    def __init__(
        self, pool: asyncpg.Pool, mailer: Mailer, settings: Settings, policy: WebhookPolicy
    ) -> None:
        self.pool = pool
        self.mailer = mailer
        self.settings = settings
        self.policy = policy
        self.limiter = RateLimiter(settings.notify_rate)
        self.hosts = HostSlots(WEBHOOKS_PER_HOST)

    @activity.defn(name=stubs.deliver_notifications.__name__)
    async def deliver_notifications(self, round: DeliveryRound) -> DeliveryStats:
        """Expand, send mail and send webhooks, side by side, until `round.max_seconds` pass
        or the worker shuts down."""
        ends = time.monotonic() + round.max_seconds

        def going_on() -> bool:
            return time.monotonic() < ends and not activity.is_worker_shutdown()

        # Every connection re-checks where the host resolves now: no DNS-rebinding window.
        connector = delivery_connector(self.policy)
        async with aiohttp.ClientSession(
            connector=connector, timeout=WEBHOOK_TIMEOUT, trust_env=False
        ) as http:
            expanded, mail, webhooks = await asyncio.gather(
                self._expand_while(going_on),
                self._send_mail_while(going_on, round.batch),
                self._send_webhooks_while(going_on, http),
            )
        outcomes = mail + webhooks
        if outcomes["retried"] or outcomes["failed"]:
            activity.logger.warning(
                "deliveries this round: %d sent, %d to retry, %d failed for good",
                outcomes["sent"],
                outcomes["retried"],
                outcomes["failed"],
            )
        return DeliveryStats(
            expanded=expanded, **{k: outcomes[k] for k in ("sent", "retried", "failed")}
        )

    async def _expand_while(self, going_on: Callable[[], bool]) -> int:
        expanded = 0
        while going_on():
            activity.heartbeat()
            count = await self.expand_events()
            expanded += count
            if not count:
                await asyncio.sleep(IDLE_POLL_S)  # nothing to do: look again shortly
        return expanded

    async def _send_mail_while(self, going_on: Callable[[], bool], batch: int) -> Counter[str]:
        """Batch after batch; the next one is claimed and built while one is sent, and handed
        back unsent when the round ends."""
        outcomes: Counter[str] = Counter()
        ahead: asyncio.Task[Batch] | None = None
        try:
            while going_on():
                activity.heartbeat()
                if ahead is None:
                    ahead = asyncio.create_task(self._claim_emails(batch))
                built, unbuilt = await ahead
                ahead = None
                outcomes.update(unbuilt)
                if not built and not unbuilt:
                    await asyncio.sleep(IDLE_POLL_S)
                    continue
                if going_on():
                    ahead = asyncio.create_task(self._claim_emails(batch))
                outcomes.update(await self._send_built(built))
        finally:
            if ahead is not None:
                built, _ = await ahead
                claimed = [(d.row["id"], d.row["attempts"]) for d, _ in built]
                await deliveries.release(self.pool, claimed)
        return outcomes

    async def _send_webhooks_while(
        self, going_on: Callable[[], bool], http: aiohttp.ClientSession
    ) -> Counter[str]:
        """Attempts run concurrently, at most WEBHOOKS_IN_FLIGHT in all and WEBHOOKS_PER_HOST
        to one host; deliveries to a host without a free slot stay unclaimed meanwhile. The
        attempts under way when the round ends are let finish (each within WEBHOOK_TIMEOUT)."""
        outcomes: Counter[str] = Counter()
        under_way: set[asyncio.Task[str]] = set()
        async with asyncio.TaskGroup() as attempts:
            while going_on():
                activity.heartbeat()
                finished = {task for task in under_way if task.done()}
                under_way -= finished
                outcomes.update(task.result() for task in finished)
                free = WEBHOOKS_IN_FLIGHT - len(under_way)
                busy = self.hosts.busy_webhooks()
                claimed = await self._claim(free, "webhook", busy) if free else []
                for delivery in claimed:
                    attempt = self._send_webhook(delivery, http, going_on)
                    under_way.add(attempts.create_task(attempt))
                if not claimed:
                    await _one_done_or_idle(under_way)
        outcomes.update(task.result() for task in under_way)
        return outcomes

    async def expand_events(self) -> int:
        """Turn events not yet expanded into deliveries, in one transaction with their mark."""
        async with self.pool.acquire() as conn, conn.transaction():
            events = await claim_unexpanded(conn, EVENTS_PER_EXPANSION)
            if events:
                await deliveries.expand_emails(conn, emails_by_rule(events))
                await deliveries.expand_webhooks(conn, events)
                await mark_expanded(conn, [e["id"] for e in events])
        return len(events)

    async def _claim(
        self, batch: int, channel: str, skip: Sequence[uuid.UUID] = ()
    ) -> list[Claimed]:
        """Lease up to `batch` due deliveries of `channel`, but none to a recipient in `skip`."""
        async with self.pool.acquire() as conn:
            for abandoned in await deliveries.fail_abandoned(conn, MAX_ATTEMPTS):
                failed_for_good(abandoned["review_id"], abandoned, abandoned["last_error"])
            rows = await deliveries.claim_due(conn, batch, LEASE, channel, skip)
            if not rows:
                return []
            found = await deliveries.contexts(conn, [r["id"] for r in rows])
            contexts = {r["id"]: r for r in found}
        return [Claimed(row, contexts[row["id"]]) for row in rows]

    # ---- email ---------------------------------------------------------------------------

    async def _links(
        self, row: asyncpg.Record, context: asyncpg.Record, data: dict[str, Any]
    ) -> dict[str, str]:
        """The message's links to pages (`data`: the event's, as its template has it). An
        invitation's leads to the review through a sign-in link of the recipient's own, made
        now: only its hash is stored, never in the delivery."""
        base = self.settings.api_url
        links = message_links(base, row["template"], context["review_id"], data)
        if row["template"] == REVIEW_INVITED:
            review = review_path(context["review_id"])
            link = await invitation_link(self.pool, self.settings, row["recipient"], review)
            links.update(page=link, label=SIGN_IN_AND_OPEN)
        return links

    async def _message(self, delivery: Claimed) -> EmailMessage:
        row, context = delivery.row, delivery.context
        data = _template_data(row["template"], context)
        links = await self._links(row, context, data)
        rendered = render(
            row["template"],
            context["language"],
            {
                # Instants are written in the recipient's time zone, UTC beside.
                "recipient": {"name": context["name"], "time_zone": context.get("time_zone")},
                "role": context["role"],
                "review": {
                    "id": context["review_id"],
                    "title": context["title"],
                    "region": context["region"],
                },
                "event": {
                    "type": context["type"],
                    "at": context["at"].isoformat(),
                    "data": data,
                },
                "links": links,
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

    async def _claim_emails(self, batch: int) -> Batch:
        return await self._build(await self._claim(batch, "email"))

    async def _build(self, claimed: list[Claimed]) -> Batch:
        """The message of each delivery that can be built; one that cannot fails alone, for
        good. Lets other work run between messages (the batch before is being sent)."""
        built: list[Built] = []
        unbuilt: list[str] = []
        for delivery in claimed:
            try:
                built.append((delivery, await self._message(delivery)))
            except (ValueError, LookupError, TypeError, TemplateError) as error:
                reason = f"the message cannot be built: {error}"
                unbuilt.append(await self._record(delivery, reason, retry=False))
            await asyncio.sleep(0)
        return built, unbuilt

    async def _send_emails(self, claimed: list[Claimed]) -> list[str]:
        """Build and send the claimed deliveries' messages: what became of each."""
        built, unbuilt = await self._build(claimed)
        return unbuilt + await self._send_built(built)

    async def _send_built(self, built: list[Built]) -> list[str]:
        leases = BatchLeases(self.pool, [delivery.row for delivery, _ in built])
        recorder = Recorder(self._record_sent)
        stale: list[str] = []

        async def record(index: int, failure: SendFailure | None) -> None:
            recorder.add((built[index][0], failure))

        async def may_send(index: int) -> bool:
            ours = await leases.still_ours(index)
            if not ours:
                stale.append(STALE)
            return ours

        await self.limiter.wait(len(built))
        try:
            await self.mailer.send([message for _, message in built], record, may_send)
        finally:
            recorded = await recorder.finish()
        return stale + recorded

    # ---- webhooks ------------------------------------------------------------------------

    async def _send_webhook(
        self, delivery: Claimed, http: aiohttp.ClientSession, going_on: Callable[[], bool]
    ) -> str:
        async with self.hosts.slot(delivery.row["recipient"], delivery.row["address"]):
            claimed = [(delivery.row["id"], delivery.row["attempts"])]
            if not going_on():  # the round ended while it waited for its host
                await deliveries.release(self.pool, claimed)
                return RELEASED
            # Right before sending: heartbeat, and renew its lease if it is still this
            # sender's (else another sender claimed it since, or it was marked).
            activity.heartbeat()
            if not await deliveries.renew_leases(self.pool, claimed, LEASE):
                return STALE
            await self.limiter.wait()
            return await self._attempt_webhook(delivery, http)

    async def _attempt_webhook(self, delivery: Claimed, http: aiohttp.ClientSession) -> str:
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
        return await self._record(delivery, error_class, retry=retry, attempt=(started, status))

    # ---- the log -------------------------------------------------------------------------

    async def _record(
        self,
        delivery: Claimed,
        error: str | None,
        *,
        retry: bool,
        attempt: tuple[float, int | None] | None = None,
    ) -> str:
        """Mark one delivery sent, due again later, or failed for good, with its `attempt`
        (started, status code) of a webhook; return which, or STALE when it is no longer this
        sender's (nothing is written then)."""
        mark = _mark(delivery.row, error, retry=retry)
        async with self.pool.acquire() as conn, conn.transaction():
            if not await deliveries.mark(conn, [mark]):
                return STALE
            if attempt is not None:
                started, code = attempt
                await deliveries.record_attempt(
                    conn,
                    mark.delivery_id,
                    mark.attempt,
                    status_code=code,
                    error=error,
                    duration_ms=int((time.monotonic() - started) * 1000),
                )
        return _recorded(delivery, mark)

    async def _record_sent(self, sent: list[Sent]) -> list[str]:
        """Mark messages sent or not, in one statement: what became of each."""
        marks = [
            _mark(d.row, None, retry=False)
            if failure is None
            else _mark(d.row, failure.reason, retry=not failure.permanent)
            for d, failure in sent
        ]
        marked = await deliveries.mark(self.pool, marks)
        return [
            _recorded(d, mark) if mark.delivery_id in marked else STALE
            for (d, _), mark in zip(sent, marks, strict=True)
        ]


def _mark(row: asyncpg.Record, error: str | None, *, retry: bool) -> deliveries.Mark:
    """The delivery sent (no `error`), due again later when `retry` and its budget allows,
    else failed for good."""
    # Attempts since it was last put back by hand count against its budget.
    tried = row["attempts"] - row["attempt_base"]
    if error is None:
        return deliveries.Mark(row["id"], row["attempts"], "sent")
    if retry and tried < MAX_ATTEMPTS:
        delay = retry_delay(tried, str(row["id"]))
        again = datetime.now(UTC) + timedelta(seconds=delay)
        return deliveries.Mark(row["id"], row["attempts"], "pending", error, again)
    return deliveries.Mark(row["id"], row["attempts"], "failed", error)


def _recorded(delivery: Claimed, mark: deliveries.Mark) -> str:
    """What a written mark came to; a delivery failed for good is told to the operators."""
    if mark.status == "failed":
        failed_for_good(delivery.context["review_id"], delivery.row, mark.error or "")
    return RESULT_OF[mark.status]
