"""The secretariat's own message to a review's participants, or to those still missing: who
it reaches is chosen as it is sent, recorded with it in the audit trail, and mailed through
the notifications outbox (retried while the mail server is away)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import asyncpg

from db.events import insert_event
from db.outreach import reachable
from db.pool import Connection
from db.recipients import PARTICIPANTS, REMINDED
from domain.access import Actor
from domain.events import EventType, ReviewEvent
from i18n import N_, gettext
from services import once
from services.engine import Deps
from services.once import Created
from services.refusals import conflict
from services.reminders import behind
from services.reviews import Command, run_by


class Audience(StrEnum):
    PARTICIPANTS = "participants"
    MEMBER_STATES_MISSING = "member_states_missing"
    STAKEHOLDERS_MISSING = "stakeholders_missing"


SUBJECT_MAX = 200
BODY_MAX = 10_000
# Where the command is sent in the JSON API: it names it in idempotency records.
COMMAND = "announcements"
WRITES = "writes to its participants"
NOBODY = N_("Nobody in this audience can be reached by email: nothing was sent.")


async def recipients(
    conn: Connection, row: asyncpg.Record, audience: Audience, now: datetime
) -> list[uuid.UUID]:
    """The accounts an announcement to `audience` reaches by email now. Those still missing
    are those a reminder sent now would name (`services.reminders.behind`)."""
    if audience is Audience.PARTICIPANTS:
        return await reachable(conn, row["id"], PARTICIPANTS, {})
    found = await behind(conn, row, now)
    if audience is Audience.MEMBER_STATES_MISSING:
        named = {"countries": found.countries}
    else:
        named = {"stakeholders": [str(s[0]) for s in found.stakeholders]}
    return await reachable(conn, row["id"], REMINDED, named)


async def audience_sizes(
    deps: Deps, actor: Actor, review_id: str
) -> tuple[asyncpg.Record, dict[Audience, int]]:
    """For the review's secretariat: the review, and how many people each audience reaches
    now."""
    row = await run_by(deps, actor, review_id, WRITES)
    now = datetime.now(UTC)
    async with deps.pool.acquire() as conn:
        return row, {a: len(await recipients(conn, row, a, now)) for a in Audience}


def _event_id(command: Command, actor: Actor) -> uuid.UUID:
    """The same request sent again (with its key) records the same event."""
    if command.key is None:
        return uuid.uuid4()
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{command.address(COMMAND)}:{actor.id}:{command.key}")


async def announce(deps: Deps, actor: Actor, command: Command) -> dict[str, Any]:
    """Send the secretariat's message (`subject`, `body`, as written) to `audience`: each
    person reached gets it by email, framed in their language."""
    row = await run_by(deps, actor, command.review_id, WRITES)
    body = command.body
    audience = Audience(body["audience"])
    request = once.fingerprint("POST", command.address(COMMAND), body)

    async def send(conn: Connection) -> Created:
        now = datetime.now(UTC)
        reached = await recipients(conn, row, audience, now)
        if not reached:
            raise conflict(gettext(NOBODY))
        event = ReviewEvent(
            str(_event_id(command, actor)),
            command.review_id,
            EventType.ANNOUNCEMENT_SENT,
            now,
            str(actor.id),
            {
                "audience": audience.value,
                "subject": body["subject"],
                "body": body["body"],
                "count": len(reached),
                "recipients": [str(r) for r in reached],
            },
        )
        await insert_event(conn, event)
        return Created(
            200,
            {
                "event_id": event.id,
                "at": now.isoformat(),
                "audience": audience.value,
                "subject": body["subject"],
                "count": len(reached),
            },
        )

    return (await once.created_once(deps.pool, actor, command.key, request, send)).body
