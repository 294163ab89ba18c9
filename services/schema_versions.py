"""The versions of the document schemas a review collects: moving a review to the current
ones, and bringing a draft (or the version last sent) written against an older version up to
the one the review collects, with what is left to fix."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from db.events import insert_event
from db.reviews import move_schema_versions
from domain.access import Actor
from domain.events import EventType, ReviewEvent
from domain.review import Phase
from domain.schema_pins import MOVABLE, move_refusal, moved
from i18n import gettext
from schemas import Problem, current_versions
from schemas.versions import migrate
from services.engine import Deps
from services.refusals import conflict, refused_by_rule
from services.reviews import run_by

# Ids of the events of moves live in their own UUID namespace.
_MOVE_NAMESPACE = uuid.UUID("6c3f8f0e-2b8a-4f55-9f3e-0d7a4c1e5b21")


async def move_to_current(deps: Deps, actor: Actor, review_id: str) -> dict[str, int]:
    """Move the review to the current versions of the document schemas, if its call for
    inputs has not closed; the versions it collects now. Only its secretariat may."""
    review = await run_by(deps, actor, review_id)
    refusal = move_refusal(Phase(review["phase"]))
    if refusal is not None:
        raise refused_by_rule(refusal)
    wanted = moved(review["schema_versions"], current_versions())
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await move_schema_versions(conn, review["id"], [p.value for p in MOVABLE], wanted)
        if row is None:  # the call closed meanwhile
            raise conflict(
                gettext(
                    "The call for inputs of this review has closed; the forms stay as they are."
                )
            )
        if row["before"] != row["after"]:
            await insert_event(conn, _moved_event(review["id"], actor, row["before"], row["after"]))
    return dict(row["after"])


def _moved_event(
    review_id: str, actor: Actor, before: dict[str, int], after: dict[str, int]
) -> ReviewEvent:
    # One event per move from these versions to those: a request sent again records nothing.
    key = f"{review_id}:{sorted(before.items())}:{sorted(after.items())}"
    return ReviewEvent(
        id=str(uuid.uuid5(_MOVE_NAMESPACE, key)),
        review_id=review_id,
        type=EventType.SCHEMA_VERSIONS_MOVED,
        at=datetime.now(UTC),
        actor_id=str(actor.id),
        data={"from": before, "to": after},
    )


@dataclass(frozen=True)
class BroughtUpToDate:
    """A document as the review's form now asks for it, and what is left to fix in it."""

    content: dict[str, Any]
    problems: list[Problem]


def up_to_date(
    kind: str, content: dict[str, Any], written_for: int, collected: int
) -> BroughtUpToDate | None:
    """`content`, written against version `written_for` of the schema `kind`, brought to the
    version `collected` the review collects, with the problems that version finds; None
    when it was written against that version (or a newer one) already."""
    if written_for >= collected:
        return None
    migrated = migrate(kind, content, written_for, collected)
    return BroughtUpToDate(migrated.document, migrated.problems)
