"""Consultation meetings, their registrations and summaries (`services.sessions`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from db.pool import Connection, Executor

_SESSION = """s.id, s.review_id, s.kind, s.title, s.meeting_id, s.cluster, s.mode, s.link,
    s.place, s.starts_at, s.ends_at, s.agenda, s.capacity, s.audience, s.status,
    s.cancel_reason, s.created_at, s.updated_at,
    (SELECT coalesce(sum(g.headcount) FILTER (WHERE g.status = 'registered'), 0)
     FROM session_registrations g WHERE g.session_id = s.id) AS registered_people,
    (SELECT count(*) FILTER (WHERE g.status = 'waitlisted')
     FROM session_registrations g WHERE g.session_id = s.id) AS waiting"""

_FIELDS = (
    "kind",
    "title",
    "meeting_id",
    "cluster",
    "mode",
    "link",
    "place",
    "starts_at",
    "ends_at",
    "agenda",
    "capacity",
    "audience",
)


async def insert(
    conn: Connection,
    session_id: uuid.UUID,
    review_id: str,
    fields: dict[str, Any],
    created_by: uuid.UUID,
) -> None:
    await conn.execute(
        f"""INSERT INTO review_sessions (id, review_id, created_by, {", ".join(_FIELDS)})
            VALUES ($1, $2, $3, {", ".join(f"${i}" for i in range(4, 4 + len(_FIELDS)))})""",
        session_id,
        review_id,
        created_by,
        *(fields[name] for name in _FIELDS),
    )


async def update(conn: Connection, session_id: uuid.UUID, fields: dict[str, Any]) -> None:
    await conn.execute(
        f"""UPDATE review_sessions SET updated_at = now(),
               {", ".join(f"{name} = ${i}" for i, name in enumerate(_FIELDS, start=2))}
            WHERE id = $1""",
        session_id,
        *(fields[name] for name in _FIELDS),
    )


async def cancel(conn: Connection, session_id: uuid.UUID, reason: str) -> None:
    await conn.execute(
        """UPDATE review_sessions SET status = 'cancelled', cancel_reason = $2, updated_at = now()
           WHERE id = $1""",
        session_id,
        reason,
    )


async def one(conn: Executor, session_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_SESSION} FROM review_sessions s WHERE s.id = $1", session_id
    )


async def locked(conn: Connection, session_id: uuid.UUID) -> asyncpg.Record | None:
    """The meeting's row, locked until the transaction ends: registrations for one meeting
    are decided one at a time, so its places are never given twice."""
    return await conn.fetchrow(
        "SELECT id, review_id, capacity, status, audience, starts_at FROM review_sessions"
        " WHERE id = $1 FOR UPDATE",
        session_id,
    )


async def kind_in_review(conn: Executor, session_id: uuid.UUID, review_id: str) -> str | None:
    """The kind of the review's meeting `session_id`; None when the review has no such one."""
    kind: str | None = await conn.fetchval(
        "SELECT kind FROM review_sessions WHERE id = $1 AND review_id = $2", session_id, review_id
    )
    return kind


async def of_review(conn: Executor, review_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_SESSION} FROM review_sessions s WHERE s.review_id = $1"
        " ORDER BY s.starts_at, s.id",
        review_id,
    )


# ---- registrations ----------------------------------------------------------------------------

_REGISTRATION = """id, session_id, party, registered_by, people, headcount, status, queued_at,
    attended, attended_people"""


async def registrations(conn: Executor, session_id: uuid.UUID) -> list[asyncpg.Record]:
    """A meeting's registrations: those with a place, then the waiting list, each in order."""
    return await conn.fetch(
        f"""SELECT {_REGISTRATION} FROM session_registrations WHERE session_id = $1
            ORDER BY status, queued_at, id""",
        session_id,
    )


async def registration_of(
    conn: Executor, session_id: uuid.UUID, party: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_REGISTRATION} FROM session_registrations WHERE session_id = $1 AND party = $2",
        session_id,
        party,
    )


async def upsert_registration(
    conn: Connection,
    registration_id: uuid.UUID,
    session_id: uuid.UUID,
    party: str,
    registered_by: uuid.UUID,
    people: list[dict[str, Any]],
    status: str,
) -> None:
    """Register the party, or update its registration (a move onto the waiting list, or off
    it, puts it at the list's end or gives it its place)."""
    await conn.execute(
        """INSERT INTO session_registrations
               (id, session_id, party, registered_by, people, headcount, status)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (session_id, party) DO UPDATE SET
               registered_by = EXCLUDED.registered_by, people = EXCLUDED.people,
               headcount = EXCLUDED.headcount, status = EXCLUDED.status,
               queued_at = CASE WHEN session_registrations.status = EXCLUDED.status
                                THEN session_registrations.queued_at
                                ELSE clock_timestamp() END""",
        registration_id,
        session_id,
        party,
        registered_by,
        people,
        len(people),
        status,
    )


async def delete_registration(conn: Connection, session_id: uuid.UUID, party: str) -> bool:
    status = await conn.execute(
        "DELETE FROM session_registrations WHERE session_id = $1 AND party = $2", session_id, party
    )
    return status.endswith(" 1")


async def promote(conn: Connection, ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""UPDATE session_registrations SET status = 'registered' WHERE id = any($1::uuid[])
            RETURNING {_REGISTRATION}""",
        ids,
    )


async def record_attendance(
    conn: Connection,
    registration_id: uuid.UUID,
    session_id: uuid.UUID,
    attended: bool,
    people: list[int] | None,
) -> bool:
    status = await conn.execute(
        """UPDATE session_registrations SET attended = $3, attended_people = $4
           WHERE id = $1 AND session_id = $2 AND status = 'registered'""",
        registration_id,
        session_id,
        attended,
        people,
    )
    return status.endswith(" 1")


async def mine(conn: Executor, review_id: str, parties: list[str]) -> list[asyncpg.Record]:
    """The registrations of `parties` for the review's meetings, each waiting one with its
    place in its waiting list (1 is next), in the order `registrations` lists them."""
    return await conn.fetch(
        f"""SELECT {_REGISTRATION},
                CASE WHEN r.status = 'waitlisted' THEN
                    (SELECT count(*) + 1 FROM session_registrations ahead
                     WHERE ahead.session_id = r.session_id AND ahead.status = 'waitlisted'
                       AND (ahead.queued_at, ahead.id) < (r.queued_at, r.id))
                END AS waiting_place
            FROM session_registrations r
            WHERE party = any($2::text[])
              AND session_id IN (SELECT id FROM review_sessions WHERE review_id = $1)""",
        review_id,
        parties,
    )


# ---- summaries --------------------------------------------------------------------------------


async def write_summary(
    conn: Connection,
    session_id: uuid.UUID,
    review_id: str,
    kind: str,
    text: str,
    text_sha256: str,
    written_by: uuid.UUID,
    written_by_role: str,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """INSERT INTO session_summaries
               (session_id, review_id, kind, text, text_sha256, written_by, written_by_role)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (session_id) DO UPDATE SET kind = EXCLUDED.kind, text = EXCLUDED.text,
               text_sha256 = EXCLUDED.text_sha256, written_by = EXCLUDED.written_by,
               written_by_role = EXCLUDED.written_by_role, written_at = now()
           RETURNING session_id, kind, text, text_sha256, written_by, written_by_role,
                     written_at""",
        session_id,
        review_id,
        kind,
        text,
        text_sha256,
        written_by,
        written_by_role,
    )
    assert row is not None  # an upsert returns its row
    return row


async def summaries_of(
    conn: Executor, review_id: str, written_by: datetime | None = None
) -> list[asyncpg.Record]:
    """The summaries of the review's meetings that were held (not cancelled), in the order
    the meetings started, each with its meeting's facts and numbers: what the synthesis, the
    report and the evidence pack show; with `written_by`, those written by then only (the
    evidence pack's, as they stood when the report was published)."""
    return await conn.fetch(
        """SELECT m.session_id, m.kind, m.text, m.text_sha256, m.written_by, m.written_by_role,
                  m.written_at, s.kind AS session_kind, s.title, s.mode, s.starts_at, s.ends_at,
                  s.agenda, s.cluster,
                  (SELECT coalesce(sum(g.headcount), 0) FROM session_registrations g
                   WHERE g.session_id = s.id AND g.status = 'registered') AS registered,
                  (SELECT coalesce(sum(CASE WHEN g.attended_people IS NOT NULL
                                            THEN jsonb_array_length(g.attended_people)
                                            ELSE g.headcount END), 0)
                   FROM session_registrations g
                   WHERE g.session_id = s.id AND g.status = 'registered' AND g.attended)
                   AS attended
           FROM session_summaries m JOIN review_sessions s ON s.id = m.session_id
           WHERE m.review_id = $1 AND s.status = 'scheduled'
             AND ($2::timestamptz IS NULL OR m.written_at <= $2)
           ORDER BY s.starts_at, s.id""",
        review_id,
        written_by,
    )
