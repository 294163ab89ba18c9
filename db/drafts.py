"""Drafts of submissions: one per review, kind and subject, replaced at each save."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from db.pool import Executor


async def save_draft(
    conn: Executor,
    review_id: str,
    kind: str,
    subject: str,
    content: dict[str, Any],
    updated_by: uuid.UUID,
    schema_version: int = 1,
) -> asyncpg.Record:
    """Store `content`, written against `schema_version` of its kind's schema, as the draft
    (replacing the one there); its row as saved."""
    row = await conn.fetchrow(
        """INSERT INTO submission_drafts (review_id, kind, subject, content, updated_by,
                                          schema_version)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (review_id, kind, subject) DO UPDATE
               SET content = EXCLUDED.content, updated_by = EXCLUDED.updated_by,
                   schema_version = EXCLUDED.schema_version, updated_at = now()
           RETURNING content, updated_by, updated_at, schema_version""",
        review_id,
        kind,
        subject,
        content,
        updated_by,
        schema_version,
    )
    assert row is not None  # inserted or updated
    return row


async def draft(conn: Executor, review_id: str, kind: str, subject: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT content, updated_by, updated_at, schema_version FROM submission_drafts
           WHERE review_id = $1 AND kind = $2 AND subject = $3""",
        review_id,
        kind,
        subject,
    )


async def delete_draft(conn: Executor, review_id: str, kind: str, subject: str) -> None:
    await conn.execute(
        "DELETE FROM submission_drafts WHERE review_id = $1 AND kind = $2 AND subject = $3",
        review_id,
        kind,
        subject,
    )
