"""The synthesis a consultation is about, read in pages by the review's participants."""

from __future__ import annotations

from typing import Any

import asyncpg

from db import syntheses
from db.sessions import summaries_of
from db.syntheses import synthesis, synthesis_parts
from domain.access import Actor
from i18n import gettext
from reports.addendum import listed, may_be_listed
from reports.meetings import held_summaries
from reports.synthesis import synthesis_page
from reports.synthesis_builder import build_synthesis, source_of
from services.engine import Deps
from services.refusals import forbidden, not_found
from services.reviews import visible

# Parts of the synthesis per page: every objective and a few dozen inputs' recommendations.
PAGE = 50


async def readable_synthesis(deps: Deps, actor: Actor, review_id: str) -> asyncpg.Record:
    """The review's synthesis, for its participants (not observers), once compiled."""
    review = await visible(deps, actor, review_id)
    if actor.role == "observer":
        raise forbidden(gettext("The synthesis is for the review's participants."))
    found = await synthesis(deps.pool, review["id"])
    if found is None:
        raise not_found(gettext("The synthesis is compiled when the consultation opens."))
    return found


async def synthesis_document(
    deps: Deps, review_id: str, found: asyncpg.Record, start: int, limit: int
) -> dict[str, Any]:
    """The page of the review's synthesis (`found`) of at most `limit` parts from position
    `start` on, with the cursor of the next page if there is one. The first page also has the
    consultation meetings held and their summaries, written after the synthesis was."""
    parts = await synthesis_parts(deps.pool, review_id, start, limit + 1)
    page = synthesis_page(found["content"], [(p["kind"], p["content"]) for p in parts[:limit]])
    meetings = {}
    if start == 0:
        meetings = {
            "consultation_meetings": held_summaries(await summaries_of(deps.pool, review_id))
        }
    return {
        **page,
        "content_hash": found["content_hash"],
        "created_at": found["created_at"].isoformat(),
        "next_cursor": str(parts[limit]["position"]) if len(parts) > limit else None,
        **meetings,
    }


# The addendum's submissions shown at most; more are counted (`total`). Inputs that come after
# the consultation opened are few (extended deadlines, late ones): this bounds the odd case.
ADDENDUM_LIMIT = 200


async def addendum_document(deps: Deps, review_id: str) -> dict[str, Any]:
    """The addendum to the review's synthesis: the submissions accepted after it was made
    (their latest versions, in the order they were accepted), and what they say in the shape
    of the synthesis, built from them alone."""
    rows = await syntheses.addendum(deps.pool, review_id, ADDENDUM_LIMIT)
    total = len(rows)
    if total == ADDENDUM_LIMIT:
        total = await syntheses.addendum_size(deps.pool, review_id)
    in_order = sorted(rows, key=lambda row: (row["kind"], row["subject"]))
    built = build_synthesis(review_id, [source_of(row) for row in in_order])
    return {
        **synthesis_page(built.head, built.parts),
        "submissions": [listed(row) for row in rows if may_be_listed(row)],
        "total": total,
    }
