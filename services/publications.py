"""Published reports, read by anyone without signing in: the lists by region, one report in
its frozen formats, the feed. A draft is never shown: a review without a published version
is refused exactly as a review that does not exist."""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import asyncpg

from db import publications
from domain.reference import load_reference
from i18n import N_, gettext
from services.engine import Deps
from services.refusals import not_found
from services.reports import Rendering, rendering, report_pdf

NOT_PUBLISHED = N_("There is no published report at this address.")


async def published_reports(deps: Deps, region: str | None) -> list[asyncpg.Record]:
    """The published reports, of `region` (a region code) or of every region."""
    if region is not None and load_reference().region(region) is None:
        raise not_found(gettext("There is no region with this code."))
    return await publications.published_reports(deps.pool, region)


async def published_report(deps: Deps, review_id: str) -> asyncpg.Record:
    found = await publications.published_report(deps.pool, review_id)
    if found is None:
        raise not_found(gettext(NOT_PUBLISHED))
    return found


@dataclass(frozen=True)
class PublishedSummary:
    """A published version as its page shows it: what it is, and its overview's figures."""

    head: asyncpg.Record
    overview: dict[str, Any]


# A published version never changes, so its overview is read from its JSON once per process
# (the JSON of a review of 50,000 inputs is megabytes); the last few versions read are kept.
_OVERVIEWS: OrderedDict[str, dict[str, Any]] = OrderedDict()
OVERVIEWS_KEPT = 64


async def published_summary(deps: Deps, review_id: str) -> PublishedSummary:
    head = await publications.published_head(deps.pool, review_id)
    if head is None:
        raise not_found(gettext(NOT_PUBLISHED))
    overview = _OVERVIEWS.get(head["content_hash"])
    if overview is None:
        text = await publications.published_json(deps.pool, review_id, head["version"])
        if text is None:  # unpublished between the two reads
            raise not_found(gettext(NOT_PUBLISHED))
        overview = await asyncio.to_thread(_overview_of, text)
        _OVERVIEWS[head["content_hash"]] = overview
        while len(_OVERVIEWS) > OVERVIEWS_KEPT:
            _OVERVIEWS.popitem(last=False)
    else:
        _OVERVIEWS.move_to_end(head["content_hash"])
    return PublishedSummary(head, overview)


def _overview_of(text: str) -> dict[str, Any]:
    overview: dict[str, Any] = json.loads(text)["overview"]
    return overview


async def published_rendering(deps: Deps, found: asyncpg.Record, language: str) -> Rendering:
    """The published version `found` in `language`, one of its languages (else refused as an
    address that names nothing)."""
    written = await rendering(deps, found["review_id"], found, language)
    if written is None:
        raise not_found(NOT_PUBLISHED)
    return written


async def published_pdf(deps: Deps, found: asyncpg.Record, language: str | None = None) -> bytes:
    """The PDF of the published version `found` in `language` (by default its first): frozen
    with it (see `report_pdf`)."""
    if language is not None:
        await published_rendering(deps, found, language)
    return await report_pdf(deps, found["review_id"], found, language)
