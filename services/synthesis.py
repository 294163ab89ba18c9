"""The synthesis a consultation is about, read in pages by the review's participants."""

from __future__ import annotations

from typing import Any

import asyncpg

from db.syntheses import synthesis, synthesis_parts
from domain.access import Actor
from i18n import gettext
from reports.synthesis import synthesis_page
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
    `start` on, with the cursor of the next page if there is one."""
    parts = await synthesis_parts(deps.pool, review_id, start, limit + 1)
    page = synthesis_page(found["content"], [(p["kind"], p["content"]) for p in parts[:limit]])
    return {
        **page,
        "content_hash": found["content_hash"],
        "created_at": found["created_at"].isoformat(),
        "next_cursor": str(parts[limit]["position"]) if len(parts) > limit else None,
    }
