"""The roll-ups of cycles: their rows, versions (in final bytes), trail, and the published
regional reports they gather."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from db.events import stored_data
from db.pool import Connection, Executor
from domain.events import RollupEvent


async def insert_rollup(conn: Executor, cycle: str, title: str, created_by: uuid.UUID) -> bool:
    """The roll-up's row; False when the cycle has one."""
    status = await conn.execute(
        "INSERT INTO rollups (cycle, title, created_by) VALUES ($1, $2, $3)"
        " ON CONFLICT (cycle) DO NOTHING",
        cycle,
        title,
        created_by,
    )
    return status.endswith(" 1")


async def rollup(conn: Executor, cycle: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT cycle, title, created_by, created_at FROM rollups WHERE cycle = $1", cycle
    )


async def rollups(conn: Executor, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT cycle, title, created_by, created_at FROM rollups ORDER BY cycle DESC LIMIT $1",
        limit,
    )


async def published_regional(conn: Executor, cycle: str) -> list[asyncpg.Record]:
    """The regional reviews of `cycle` with a published report: review id, region, version."""
    return await conn.fetch(
        """SELECT r.id AS review_id, r.region, p.version FROM reviews r
           JOIN reports p ON p.review_id = r.id AND p.status = 'published'
           WHERE r.cycle = $1 ORDER BY r.id""",
        cycle,
    )


async def published_report(conn: Executor, review_id: str, version: int) -> asyncpg.Record | None:
    """The JSON of the review's report at `version` and when it was published, if it was."""
    return await conn.fetchrow(
        """SELECT json, published_at FROM reports
           WHERE review_id = $1 AND version = $2 AND status = 'published'""",
        review_id,
        version,
    )


async def stored_hash(conn: Executor, cycle: str, version: int) -> str | None:
    found: str | None = await conn.fetchval(
        "SELECT content_hash FROM rollup_versions WHERE cycle = $1 AND version = $2",
        cycle,
        version,
    )
    return found


async def insert_version(
    conn: Executor,
    cycle: str,
    version: int,
    content_hash: str,
    sources: list[dict[str, Any]],
    rendered: tuple[str, str, str],
) -> None:
    json_text, html, markdown = rendered
    await conn.execute(
        """INSERT INTO rollup_versions (cycle, version, content_hash, sources, json, html, markdown)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING""",
        cycle,
        version,
        content_hash,
        sources,
        json_text,
        html,
        markdown,
    )


async def keep_pdf(conn: Executor, cycle: str, version: int, pdf: bytes) -> None:
    """Store the version's PDF once: a stored one never changes."""
    await conn.execute(
        "UPDATE rollup_versions SET pdf = $3 WHERE cycle = $1 AND version = $2 AND pdf IS NULL",
        cycle,
        version,
        pdf,
    )


async def publish(
    conn: Connection, cycle: str, version: int, at: Any, by: uuid.UUID | None
) -> str | None:
    """Make `version` the public one (the one public before is superseded); its hash, or None
    when there is no such version. Publishing the public one again changes nothing."""
    await conn.execute(
        """UPDATE rollup_versions SET status = 'superseded'
           WHERE cycle = $1 AND status = 'published' AND version <> $2""",
        cycle,
        version,
    )
    found: str | None = await conn.fetchval(
        """UPDATE rollup_versions SET status = 'published', published_at = $3, published_by = $4
           WHERE cycle = $1 AND version = $2 AND status <> 'published'
           RETURNING content_hash""",
        cycle,
        version,
        at,
        by,
    )
    return found or await stored_hash(conn, cycle, version)


async def versions(conn: Executor, cycle: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT version, content_hash, sources, status, compiled_at, published_at
           FROM rollup_versions WHERE cycle = $1 ORDER BY version""",
        cycle,
    )


async def version_files(
    conn: Executor, cycle: str, version: int | None, *, published_only: bool
) -> asyncpg.Record | None:
    """A version's stored files: `version`, else the published one (else, unless
    `published_only`, the latest)."""
    return await conn.fetchrow(
        """SELECT version, status, content_hash, json, html, markdown, pdf FROM rollup_versions
           WHERE cycle = $1 AND ($2::int IS NULL OR version = $2)
             AND (NOT $3 OR status = 'published')
           ORDER BY status = 'published' AND $2::int IS NULL DESC, version DESC LIMIT 1""",
        cycle,
        version,
        published_only,
    )


async def published_rollups(conn: Executor, limit: int) -> list[asyncpg.Record]:
    """The roll-ups with a public version, newest cycle first."""
    return await conn.fetch(
        """SELECT r.cycle, r.title, v.version, v.published_at FROM rollups r
           JOIN rollup_versions v ON v.cycle = r.cycle AND v.status = 'published'
           ORDER BY r.cycle DESC LIMIT $1""",
        limit,
    )


async def insert_event(conn: Executor, event: RollupEvent, **extra: Any) -> None:
    """Append `event` to the roll-up's trail once (its id is chosen by the workflow)."""
    await conn.execute(
        "INSERT INTO rollup_events (id, cycle, type, actor_id, at, data)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
        uuid.UUID(event.id),
        event.cycle,
        event.type,
        uuid.UUID(event.actor_id) if event.actor_id else None,
        event.at,
        stored_data(event.data, extra),
    )


async def events(conn: Executor, cycle: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT seq, id, type, actor_id, at, data FROM rollup_events
           WHERE cycle = $1 ORDER BY seq LIMIT $2""",
        cycle,
        limit,
    )
