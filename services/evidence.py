"""A published review's evidence pack (reports/evidence.py), for its secretariat.

Everything it is built from is kept in PostgreSQL (the published report and its frozen PDFs,
the accepted submissions, the annexes' bytes, the consultation's answers, the audit trail, the
schema pins); nothing comes from Temporal, whose history is kept for a while only. It is built
the first time it is asked for and stored (`evidence_packs`), so every later download has the
same bytes, even after retention deleted something it was built from.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import asyncpg

from db import evidence as store
from db.sessions import summaries_of
from domain.access import Actor
from domain.canonical import sha256_hex
from i18n import gettext
from reports.evidence import Rendering, Sources, build_pack
from reports.meetings import held_summaries
from schemas import schema_document, schema_file
from services.engine import Deps
from services.refusals import conflict
from services.reports import report_pdf
from services.reviews import run_by

# The definitions every document schema refers to: needed to read any of them.
SHARED_SCHEMAS = ("common",)


@dataclass(frozen=True)
class Pack:
    filename: str
    sha256: str
    content: bytes


async def evidence_pack(deps: Deps, actor: Actor, review_id: str) -> Pack:
    """The review's evidence pack, once its report is published (409 before)."""
    review = await run_by(deps, actor, review_id, "downloads its evidence pack")
    report = await store.published_report(deps.pool, review["id"])
    if report is None:
        raise conflict(
            gettext(
                "The evidence pack is made of the published report and what it was made from:"
                " this review's report is not published yet."
            )
        )
    stored = await store.stored_pack(deps.pool, review["id"], report["version"])
    if stored is None:
        content = await build(deps, review["id"], report)
        digest = sha256_hex(content)
        await store.keep_pack(deps.pool, review["id"], report["version"], digest, content)
        stored = await store.stored_pack(deps.pool, review["id"], report["version"])
        assert stored is not None
    return Pack(
        f"{review['id']}-evidence-v{report['version']}.zip", stored["sha256"], stored["bytes"]
    )


async def build(deps: Deps, review_id: str, report: asyncpg.Record) -> bytes:
    """The pack of the published version `report`, built afresh from the database."""
    sources = await _sources(deps, review_id, report)
    # Off the loop: hashing and zipping the annexes' bytes takes a while.
    return await asyncio.to_thread(build_pack, sources)


async def _sources(deps: Deps, review_id: str, report: asyncpg.Record) -> Sources:
    async with deps.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        others = await store.other_renderings(conn, review_id, report["version"])
        submissions = await store.accepted_submissions(conn, review_id)
        annexes = await store.sent_annexes(conn, review_id)
        annex_bytes = await store.file_bytes(conn, sorted({a["sha256"] for a in annexes}))
        answers = await store.consultation_answers(conn, review_id)
        meetings = await summaries_of(conn, review_id, written_by=report["published_at"])
        events = await store.trail_until_publication(conn, review_id)
        pins = await store.schema_pins(conn, review_id)
    renderings = [await _rendering(deps, review_id, report, report["language"])]
    for other in others:
        renderings.append(await _rendering(deps, review_id, report, other["language"], other))
    return Sources(
        review_id=review_id,
        report_version=report["version"],
        content_hash=report["content_hash"],
        published_at=report["published_at"],
        report=json.loads(report["json"]),
        renderings=renderings,
        submissions=submissions,
        annexes=annexes,
        annex_bytes=annex_bytes,
        answers=answers,
        meetings=held_summaries(meetings),
        events=events,
        schemas=_schemas(pins),
    )


async def _rendering(
    deps: Deps,
    review_id: str,
    report: asyncpg.Record,
    language: str,
    row: asyncpg.Record | None = None,
) -> Rendering:
    """The version in `language` (`row`, a rendering, for any but the first) with its PDF: the
    frozen one (`services.reports.report_pdf` renders and stores one for a version from
    before PDFs were kept)."""
    written = row or report
    pdf = await report_pdf(deps, review_id, report, language)
    return Rendering(language, written["html"], written["markdown"], pdf)


def _schemas(pins: dict[str, int]) -> dict[str, dict[str, object]]:
    """The schema files at the review's pinned versions, and the definitions they share."""
    wanted = [(name, version) for name, version in sorted(pins.items())]
    wanted += [(name, 1) for name in SHARED_SCHEMAS]
    found = {
        f"{schema_file(name, version)}.json": schema_document(name, version)
        for name, version in wanted
    }
    return {name: schema for name, schema in sorted(found.items()) if schema is not None}
