"""Reminding, at once, those who have not acted in the current phase: who that would be (for
the secretariat to confirm), and the command itself, which the review's workflow decides (at
most once an hour, by its clock, with the same rule the preview applies here)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from db.outreach import countries_submitted, event_of, last_reminded_now, stakeholders_behind
from db.pool import Connection
from domain.access import Actor
from domain.reminders import (
    REMIND_NOW_EVERY,
    REMINDED_NOW,
    RemindNow,
    remind_now_refusal,
    to_remind_now,
)
from domain.review import Deadline, Phase, ReviewState, Timeline
from services.engine import Deps
from services.once import Created
from services.refusals import Refused, refused_by_rule
from services.reviews import Command, command_once, run_by

REMINDS = "reminds those who have not acted"
# Where the command is sent in the JSON API: it names it in idempotency records and Update ids.
COMMAND = "reminders"


def review_state(
    row: asyncpg.Record, submitted: list[str], reminded_now_at: datetime | None
) -> ReviewState:
    """What the review's workflow knows, as its read model has it: enough for the rules of
    who has not acted and of reminding by hand."""
    deadlines = row["deadlines"]
    return ReviewState(
        phase=Phase(row["phase"]),
        deadlines=Timeline(
            **{d.value: datetime.fromisoformat(deadlines[d.value]) for d in Deadline}
        ),
        country_extensions={
            country: datetime.fromisoformat(until)
            for country, until in row["country_extensions"].items()
        },
        countries_submitted=submitted,
        reminded_now_at=reminded_now_at,
    )


@dataclass(frozen=True)
class Behind:
    """Who has not acted in the review's current phase: the member States, and the
    stakeholders (id, name, organisation), by name; nobody outside the phases that ask
    something of them (`plan` is then None)."""

    plan: RemindNow | None
    stakeholders: list[tuple[uuid.UUID, str, str | None]]

    @property
    def countries(self) -> list[str]:
        return self.plan.countries if self.plan else []


async def behind(conn: Connection, row: asyncpg.Record, now: datetime) -> Behind:
    """Who has not acted in the review `row`'s current phase, at `now`."""
    state = review_state(row, await countries_submitted(conn, row["id"]), None)
    if state.phase not in REMINDED_NOW:
        return Behind(None, [])
    plan = to_remind_now(row["member_states"], state, now)
    consultation = plan.deadline is Deadline.CONSULTATION_DUE_AT
    return Behind(plan, await stakeholders_behind(conn, row["id"], consultation))


@dataclass(frozen=True)
class Preview:
    """What reminding now would do: who would be reminded, or why it cannot be done now (and,
    within the hour, from when it can)."""

    review: asyncpg.Record
    behind: Behind
    refused: Refused | None
    possible_from: datetime | None


async def preview(deps: Deps, actor: Actor, review_id: str) -> Preview:
    """For the review's secretariat: who a reminder sent now would name."""
    row = await run_by(deps, actor, review_id, REMINDS)
    now = datetime.now(UTC)
    async with deps.pool.acquire() as conn:
        found = await behind(conn, row, now)
        last = await last_reminded_now(conn, review_id)
    # Whether one may remind now depends on the phase and the last time, not on who sent what.
    refusal = remind_now_refusal(review_state(row, [], last), now)
    possible_from = last + REMIND_NOW_EVERY if last and refusal and refusal.retry_after_s else None
    return Preview(row, found, refused_by_rule(refusal) if refusal else None, possible_from)


async def _sent(deps: Deps, event_id: str) -> dict[str, Any]:
    """What a reminder sent now did, as its audit event has it (none: nobody was reminded)."""
    event = await event_of(deps.pool, uuid.UUID(event_id))
    if event is None:
        return {
            "event_id": None,
            "at": None,
            "member_states": [],
            "stakeholders": [],
            "next_at": None,
        }
    data = event["data"]
    return {
        "event_id": event_id,
        "at": event["at"].isoformat(),
        "member_states": data["countries"],
        "stakeholders": data["stakeholders"],
        "next_at": (event["at"] + REMIND_NOW_EVERY).isoformat(),
    }


async def remind_now(deps: Deps, actor: Actor, command: Command) -> dict[str, Any]:
    """Remind at once those who have not acted in the review's current phase (the review's
    workflow refuses it within an hour of the last time)."""
    update_id = command.update_id(COMMAND, actor)

    async def run(row: asyncpg.Record) -> Created:
        event_id = await deps.reviews.remind_now(
            command.review_id, actor_id=str(actor.id), update_id=update_id
        )
        return Created(200, await _sent(deps, event_id))

    return await command_once(deps, actor, command, COMMAND, run)
