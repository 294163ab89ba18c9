"""What a review's evidence pack is built from, and the packs once built (`evidence_packs`).

Every query orders its rows, so the same database gives the same pack."""

from __future__ import annotations

from typing import Any

import asyncpg

from db.events import event_document
from db.pool import Executor
from domain.events import EventType


async def published_report(conn: Executor, review_id: str) -> asyncpg.Record | None:
    """The review's published report version (the latest, if several were), or None."""
    return await conn.fetchrow(
        """SELECT version, content_hash, json, html, markdown, language, pdf, published_at
           FROM reports WHERE review_id = $1 AND status = 'published'
           ORDER BY version DESC LIMIT 1""",
        review_id,
    )


async def other_renderings(conn: Executor, review_id: str, version: int) -> list[asyncpg.Record]:
    """The version in its languages but the first, by language."""
    return await conn.fetch(
        """SELECT language, html, markdown, pdf FROM report_renderings
           WHERE review_id = $1 AND version = $2 ORDER BY language""",
        review_id,
        version,
    )


async def accepted_submissions(conn: Executor, review_id: str) -> list[dict[str, Any]]:
    """Every accepted version of every submission, with its metadata and content."""
    rows = await conn.fetch(
        """SELECT s.id, v.version, s.kind, s.subject, v.decided_at, v.late, v.schema_version,
                  v.content
           FROM submissions s JOIN submission_versions v ON v.submission_id = s.id
           WHERE s.review_id = $1 AND v.status = 'accepted'
           ORDER BY s.kind, s.subject, v.version""",
        review_id,
    )
    return [
        {
            "id": str(row["id"]),
            "version": row["version"],
            "kind": row["kind"],
            "subject": row["subject"],
            "accepted_at": row["decided_at"].isoformat(),
            "late": row["late"],
            "schema_version": row["schema_version"],
            "content": row["content"],
        }
        for row in rows
    ]


async def sent_annexes(conn: Executor, review_id: str) -> list[dict[str, Any]]:
    """Each annex an accepted version was sent with, by the version."""
    rows = await conn.fetch(
        """SELECT s.id AS submission_id, v.version, a.file_name, a.media_type, a.size, a.sha256
           FROM submissions s
           JOIN submission_versions v ON v.submission_id = s.id AND v.status = 'accepted'
           JOIN submission_version_annexes b ON b.request_id = v.request_id
           JOIN annexes a ON a.id = b.annex_id
           WHERE s.review_id = $1
           ORDER BY s.kind, s.subject, v.version, a.uploaded_at, a.id""",
        review_id,
    )
    return [{**dict(row), "submission_id": str(row["submission_id"])} for row in rows]


async def file_bytes(conn: Executor, hashes: list[str]) -> dict[str, bytes]:
    """The stored bytes of these files, by SHA-256 (a file no longer kept is absent)."""
    rows = await conn.fetch(
        "SELECT sha256, content FROM file_blobs WHERE sha256 = ANY($1::text[]) ORDER BY sha256",
        hashes,
    )
    return {row["sha256"]: row["content"] for row in rows}


async def consultation_answers(conn: Executor, review_id: str) -> list[dict[str, Any]]:
    """The consultation's completed tasks and their responses."""
    rows = await conn.fetch(
        """SELECT id, organisation, stakeholder_category, country, completed_at, completed_by,
                  response, response_hash
           FROM tasks WHERE review_id = $1 AND status = 'completed' ORDER BY completed_at, id""",
        review_id,
    )
    return [
        {
            "task_id": str(row["id"]),
            "organisation": row["organisation"],
            "stakeholder_category": row["stakeholder_category"],
            "country": row["country"],
            "completed_at": row["completed_at"].isoformat(),
            "completed_by": str(row["completed_by"]),
            "response": row["response"],
            "response_hash": row["response_hash"],
        }
        for row in rows
    ]


async def trail_until_publication(conn: Executor, review_id: str) -> list[dict[str, Any]]:
    """The review's events up to its (latest) publication, in order: what came after is no
    evidence of the report, and would make the same pack differ from one build to the next."""
    rows = await conn.fetch(
        """SELECT id, type, actor_id, at, data FROM review_events
           WHERE review_id = $1 AND seq <= (
               SELECT max(seq) FROM review_events WHERE review_id = $1 AND type = $2)
           ORDER BY seq""",
        review_id,
        EventType.REPORT_PUBLISHED.value,
    )
    return [event_document(row) for row in rows]


async def schema_pins(conn: Executor, review_id: str) -> dict[str, int]:
    pins: dict[str, int] = await conn.fetchval(
        "SELECT schema_versions FROM reviews WHERE id = $1", review_id
    )
    return pins


async def stored_pack(conn: Executor, review_id: str, version: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT sha256, bytes FROM evidence_packs WHERE review_id = $1 AND report_version = $2""",
        review_id,
        version,
    )


async def keep_pack(conn: Executor, review_id: str, version: int, sha256: str, pack: bytes) -> None:
    """Store the pack unless one is stored (built meanwhile: the same bytes)."""
    await conn.execute(
        """INSERT INTO evidence_packs (review_id, report_version, sha256, bytes)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
        review_id,
        version,
        sha256,
        pack,
    )
