"""Consultation meetings of a review: the use cases behind scheduling, registering,
attendance and summaries.

The rules are `domain.sessions`; this module reads and writes what they judge. The review's
workflow only knows each meeting's id and start, to remind its registrants before it: the
service stores the meeting first (in the transaction) and tells the workflow before the
transaction commits, so a meeting the workflow refuses is not kept.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from db import sessions as store
from db.events import insert_event
from db.pool import Connection
from domain import sessions as rules
from domain.access import Actor, runs_review
from domain.canonical import sha256_hex
from domain.events import EventType, ReviewEvent
from domain.sessions import Audience, Mode, Placement, Seat, SessionKind, SummaryKind, Times
from i18n import gettext
from services import once
from services.engine import Deps
from services.once import Created
from services.refusals import Refused, conflict, forbidden, invalid, named_id, not_found
from services.reviews import parse_instant, run_by, visible

INSTANT = {"type": "string", "maxLength": 40, "description": "An instant with its UTC offset."}
_PERSON = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"},
        "email": {"type": "string", "format": "email", "maxLength": 320},
        "title": {"type": "string", "maxLength": 200},
    },
}
_SESSION_PROPERTIES: dict[str, Any] = {
    "kind": {"enum": [k.value for k in SessionKind]},
    "title": {"type": "string", "minLength": 1, "maxLength": rules.MAX_TITLE, "pattern": "\\S"},
    "meeting_id": {
        "type": ["string", "null"],
        "format": "uuid",
        "description": "A round table's review meeting.",
    },
    "cluster": {"type": ["integer", "null"], "minimum": 1, "maximum": 4},
    "mode": {"enum": [m.value for m in Mode]},
    "link": {"type": ["string", "null"], "maxLength": rules.MAX_LINK},
    "place": {"type": ["string", "null"], "maxLength": rules.MAX_PLACE},
    "starts_at": INSTANT,
    "ends_at": INSTANT,
    "agenda": {
        "type": "array",
        "maxItems": rules.MAX_AGENDA_ITEMS,
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["title"],
            "properties": {
                "title": {"type": "string", "minLength": 1, "maxLength": rules.MAX_TITLE},
                "cluster": {"type": ["integer", "null"], "minimum": 1, "maximum": 4},
            },
        },
    },
    "capacity": {"type": ["integer", "null"], "minimum": 1, "maximum": rules.MAX_CAPACITY},
    "audience": {"enum": [a.value for a in Audience]},
}
NEW_SESSION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "title", "mode", "starts_at", "ends_at", "audience"],
    "properties": _SESSION_PROPERTIES,
}
SESSION_CHANGES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        **_SESSION_PROPERTIES,
        "status": {"const": "cancelled", "description": "Cancel the meeting (with a reason)."},
        "reason": {"type": "string", "minLength": 1, "maxLength": rules.MAX_REASON},
    },
    "dependentRequired": {"status": ["reason"]},
}
REGISTRATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "people": {
            "type": "array",
            "minItems": 1,
            "maxItems": rules.MAX_DELEGATES,
            "items": _PERSON,
            "description": "Who comes: an organisation's people, or a country's delegation."
            " Left out: the account registering, alone.",
        }
    },
}
ATTENDANCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["attendance"],
    "properties": {
        "attendance": {
            "type": "array",
            "maxItems": 1_000,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["registration_id", "attended"],
                "properties": {
                    "registration_id": {"type": "string", "format": "uuid"},
                    "attended": {"type": "boolean"},
                    "people": {
                        "type": "array",
                        "maxItems": rules.MAX_DELEGATES,
                        "items": {"type": "integer", "minimum": 0},
                        "description": "Of a delegation: the positions of those who came.",
                    },
                },
            },
        }
    },
}
SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "text"],
    "properties": {
        "kind": {"enum": [k.value for k in SummaryKind]},
        "text": {
            "type": "string",
            "minLength": 1,
            "maxLength": rules.MAX_SUMMARY,
            "pattern": "\\S",
        },
    },
}


# ---- reading ----------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def session_document(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "review_id": row["review_id"],
        "kind": row["kind"],
        "title": row["title"],
        "meeting_id": None if row["meeting_id"] is None else str(row["meeting_id"]),
        "cluster": row["cluster"],
        "mode": row["mode"],
        "link": row["link"],
        "place": row["place"],
        "starts_at": _iso(row["starts_at"]),
        "ends_at": _iso(row["ends_at"]),
        "agenda": row["agenda"],
        "capacity": row["capacity"],
        "audience": row["audience"],
        "status": row["status"],
        "cancel_reason": row["cancel_reason"],
        "registered_people": row["registered_people"],
        "waiting": row["waiting"],
    }


def registration_document(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "session_id": str(row["session_id"]),
        "party": row["party"],
        "registered_by": str(row["registered_by"]),
        "people": row["people"],
        "headcount": row["headcount"],
        "status": row["status"],
        "attended": row["attended"],
        "attended_people": row["attended_people"],
    }


def _own_registration(row: asyncpg.Record) -> dict[str, Any]:
    return {**registration_document(row), "waiting_place": row["waiting_place"]}


def _party(actor: Actor) -> str | None:
    organisation = None if actor.organisation_id is None else str(actor.organisation_id)
    return rules.party_of(actor.role, actor.country, organisation)


def _may_see(actor: Actor, review: asyncpg.Record, session: asyncpg.Record) -> bool:
    return runs_review(actor, review["region"]) or rules.audience_admits(
        Audience(session["audience"]), actor.role
    )


async def list_sessions(deps: Deps, actor: Actor, review_id: str) -> list[dict[str, Any]]:
    """The review's meetings: all of them for its secretariat; for a participant, those it is
    invited to, each with its own registration, if any."""
    review = await visible(deps, actor, review_id)
    rows = [r for r in await store.of_review(deps.pool, review_id) if _may_see(actor, review, r)]
    party = _party(actor)
    own = {}
    if party is not None:
        own = {r["session_id"]: r for r in await store.mine(deps.pool, review_id, [party])}
    return [
        {
            **session_document(row),
            "mine": _own_registration(own[row["id"]]) if row["id"] in own else None,
        }
        for row in rows
    ]


async def _session(deps: Deps, actor: Actor, session_id: str) -> tuple[asyncpg.Record, Any]:
    """The meeting and its review, if `actor` may see them; else as if there were none."""
    nothing = not_found(gettext("There is no meeting %(id)s you may see.") % {"id": session_id})
    row = await store.one(deps.pool, named_id(session_id, nothing))
    if row is None:
        raise nothing
    try:
        review = await visible(deps, actor, row["review_id"])
    except Refused:
        raise nothing from None
    if not _may_see(actor, review, row):
        raise nothing
    return row, review


async def read_session(deps: Deps, actor: Actor, session_id: str) -> dict[str, Any]:
    row, _ = await _session(deps, actor, session_id)
    return session_document(row)


async def running(deps: Deps, actor: Actor, session_id: str) -> None:
    """Refused unless `actor` runs the meeting's review: checked before the body is read."""
    await _run_session(deps, actor, session_id)


async def registering(deps: Deps, actor: Actor, session_id: str) -> None:
    """Refused unless the meeting is open to `actor`: checked before the body is read."""
    await _registrant(deps, actor, session_id)


async def _registrant(deps: Deps, actor: Actor, session_id: str) -> tuple[asyncpg.Record, str]:
    row, _ = await _session(deps, actor, session_id)
    party = _party(actor)
    if party is None or not rules.audience_admits(Audience(row["audience"]), actor.role):
        raise forbidden(gettext("This meeting is not open to you."))
    return row, party


async def _run_session(deps: Deps, actor: Actor, session_id: str) -> tuple[asyncpg.Record, Any]:
    """The meeting and its review, for its secretariat only."""
    row, review = await _session(deps, actor, session_id)
    if not runs_review(actor, review["region"]):
        raise forbidden(gettext("Only the review's secretariat may do this."))
    return row, review


async def registration_list(deps: Deps, actor: Actor, session_id: str) -> dict[str, Any]:
    row, _ = await _run_session(deps, actor, session_id)
    found = [registration_document(r) for r in await store.registrations(deps.pool, row["id"])]
    return {
        "registered": [r for r in found if r["status"] == Placement.REGISTERED],
        "waiting_list": [r for r in found if r["status"] == Placement.WAITLISTED],
    }


# ---- scheduling -------------------------------------------------------------------------------


async def _checked_fields(
    conn: Connection, review_id: str, body: dict[str, Any], *, moving: bool
) -> dict[str, Any]:
    """The meeting's fields from `body` (complete: a new meeting's, or an edit merged onto the
    stored ones), with every problem named at once."""
    problems: list[tuple[str, str]] = []
    starts_at = parse_instant(body["starts_at"], "/starts_at", problems)
    ends_at = parse_instant(body["ends_at"], "/ends_at", problems)
    if starts_at is not None and ends_at is not None:
        problems += [
            (pointer, gettext(message))
            for pointer, message in rules.time_problems(
                Times(starts_at, ends_at), datetime.now(UTC), moving=moving
            )
        ]
    kind, mode = SessionKind(body["kind"]), Mode(body["mode"])
    link, place = body.get("link") or None, body.get("place") or None
    problems += [(p, gettext(m)) for p, m in rules.venue_problems(mode, link, place)]
    meeting_id = body.get("meeting_id")
    meeting_kind = None
    if meeting_id is not None:
        meeting_kind = await store.kind_in_review(conn, uuid.UUID(meeting_id), review_id)
    problems += [
        (p, gettext(m))
        for p, m in rules.round_table_problems(
            kind, body.get("cluster"), meeting_kind, meeting_id is not None
        )
    ]
    if problems:
        raise invalid(problems)
    return {
        "kind": kind.value,
        "title": body["title"].strip(),
        "meeting_id": None if meeting_id is None else uuid.UUID(meeting_id),
        "cluster": body.get("cluster"),
        "mode": mode.value,
        "link": link,
        "place": place,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "agenda": body.get("agenda", []),
        "capacity": body.get("capacity"),
        "audience": body["audience"],
    }


def _event(review_id: str, event_type: EventType, actor: Actor | None, **data: Any) -> ReviewEvent:
    return ReviewEvent(
        id=str(uuid.uuid4()),
        review_id=review_id,
        type=event_type,
        at=datetime.now(UTC),
        actor_id=None if actor is None else str(actor.id),
        data=data,
    )


def _update_id(address: str, actor: Actor, key: str | None) -> str:
    return f"{address}:{actor.id}:{key}" if key else str(uuid.uuid4())


async def scheduling(deps: Deps, actor: Actor, review_id: str) -> None:
    """Refused unless `actor` runs the review: checked before its request's body is read."""
    await run_by(deps, actor, review_id, "schedules its meetings")


async def create_session(
    deps: Deps, actor: Actor, review_id: str, body: dict[str, Any], key: str | None
) -> Created:
    await scheduling(deps, actor, review_id)
    address = f"/v1/reviews/{review_id}/sessions"
    request = once.fingerprint("POST", address, body)

    async def create(conn: Connection) -> Created:
        fields = await _checked_fields(conn, review_id, body, moving=True)
        session_id = uuid.uuid4()
        await store.insert(conn, session_id, review_id, fields, actor.id)
        await insert_event(
            conn,
            _event(
                review_id,
                EventType.SESSION_SCHEDULED,
                actor,
                session_id=str(session_id),
                kind=fields["kind"],
                starts_at=fields["starts_at"].isoformat(),
            ),
        )
        await deps.reviews.schedule_session(
            review_id,
            str(session_id),
            fields["starts_at"],
            update_id=_update_id(address, actor, key),
        )
        row = await store.one(conn, session_id)
        assert row is not None
        return Created(201, session_document(row))

    return await once.created_once(deps.pool, actor, key, request, create)


async def edit_session(
    deps: Deps, actor: Actor, session_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Edit or move a meeting (its reminders move with it), or cancel it."""
    row, review = await _run_session(deps, actor, session_id)
    if row["status"] == "cancelled":
        raise conflict(gettext("The meeting was cancelled: it can no longer be changed."))
    update_id = f"/v1/sessions/{session_id}:{uuid.uuid4()}"
    async with deps.pool.acquire() as conn, conn.transaction():
        if body.get("status") == "cancelled":
            await store.cancel(conn, row["id"], body["reason"])
            event = _event(review["id"], EventType.SESSION_CANCELLED, actor, session_id=session_id)
            await insert_event(conn, event)
            await deps.reviews.cancel_session(review["id"], session_id, update_id=update_id)
        else:
            stored = {name: row[name] for name in rules_fields()}
            stored.update(
                starts_at=row["starts_at"].isoformat(),
                ends_at=row["ends_at"].isoformat(),
                meeting_id=None if row["meeting_id"] is None else str(row["meeting_id"]),
            )
            merged = {**stored, **{k: v for k, v in body.items() if k not in ("status", "reason")}}
            moved = (
                merged["starts_at"] != stored["starts_at"] or merged["ends_at"] != stored["ends_at"]
            )
            fields = await _checked_fields(conn, review["id"], merged, moving=moved)
            await store.update(conn, row["id"], fields)
            event = _event(
                review["id"],
                EventType.SESSION_RESCHEDULED,
                actor,
                session_id=session_id,
                starts_at=fields["starts_at"].isoformat(),
                moved=moved,
            )
            await insert_event(conn, event)
            if moved:
                await deps.reviews.schedule_session(
                    review["id"], session_id, fields["starts_at"], update_id=update_id
                )
        changed = await store.one(conn, row["id"])
    assert changed is not None
    return session_document(changed)


def rules_fields() -> tuple[str, ...]:
    return ("kind", "title", "cluster", "mode", "link", "place", "agenda", "capacity", "audience")


# ---- registering -------------------------------------------------------------------------------


def _seats(rows: list[asyncpg.Record], leaving: str | None = None) -> list[Seat]:
    return [
        Seat(str(r["id"]), r["headcount"], Placement(r["status"]))
        for r in rows
        if r["party"] != leaving
    ]


async def register(
    deps: Deps, actor: Actor, session_id: str, body: dict[str, Any], key: str | None
) -> Created:
    """Register the actor's organisation (its people) or country (its delegation): a place if
    they all fit, else the waiting list. Registering again updates the registration."""
    row, party = await _registrant(deps, actor, session_id)
    people = body.get("people") or [{"name": actor.name, "email": actor.email}]
    request = once.fingerprint("POST", f"/v1/sessions/{session_id}/registrations", body)

    async def create(conn: Connection) -> Created:
        session = await store.locked(conn, row["id"])
        assert session is not None
        if session["status"] == "cancelled":
            raise conflict(gettext("The meeting was cancelled."))
        if session["starts_at"] <= datetime.now(UTC):
            raise conflict(gettext("The meeting has started: registration is closed."))
        others = await store.registrations(conn, row["id"])
        before = next((r for r in others if r["party"] == party), None)
        placement = rules.placement_for(session["capacity"], _seats(others, party), len(people))
        if (
            before is not None
            and before["status"] == Placement.REGISTERED
            and (placement is Placement.WAITLISTED)
        ):
            raise conflict(
                gettext("Not enough places are left for %(count)d people.") % {"count": len(people)}
            )
        registration_id = uuid.uuid4() if before is None else before["id"]
        await store.upsert_registration(
            conn, registration_id, row["id"], party, actor.id, people, placement.value
        )
        event_type = (
            EventType.SESSION_REGISTERED
            if placement is Placement.REGISTERED
            else EventType.SESSION_WAITLISTED
        )
        await insert_event(
            conn,
            _event(
                row["review_id"],
                event_type,
                actor,
                session_id=session_id,
                registration_id=str(registration_id),
                people=len(people),
            ),
        )
        if before is not None and before["headcount"] > len(people):
            await _promote(conn, row, actor)
        mine = await store.registration_of(conn, row["id"], party)
        assert mine is not None
        return Created(201 if before is None else 200, registration_document(mine))

    return await once.created_once(deps.pool, actor, key, request, create)


async def _promote(conn: Connection, session: asyncpg.Record, actor: Actor) -> None:
    """Give the places freed to the first on the waiting list who fit; each is told by mail."""
    locked = await store.locked(conn, session["id"])
    assert locked is not None
    waiting = await store.registrations(conn, session["id"])
    chosen = rules.promoted(locked["capacity"], _seats(waiting))
    for moved in await store.promote(conn, [uuid.UUID(c) for c in chosen]):
        await insert_event(
            conn,
            _event(
                session["review_id"],
                EventType.SESSION_REGISTERED,
                actor,
                session_id=str(session["id"]),
                registration_id=str(moved["id"]),
                people=moved["headcount"],
                promoted=True,
                registrant=str(moved["registered_by"]),
            ),
        )


async def unregister(deps: Deps, actor: Actor, session_id: str) -> None:
    row, _ = await _session(deps, actor, session_id)
    party = _party(actor)
    nothing = not_found(gettext("You are not registered for this meeting."))
    if party is None:
        raise nothing
    async with deps.pool.acquire() as conn, conn.transaction():
        await store.locked(conn, row["id"])
        if not await store.delete_registration(conn, row["id"], party):
            raise nothing
        await _promote(conn, row, actor)


# ---- after the meeting ------------------------------------------------------------------------


def _started(row: asyncpg.Record) -> None:
    if row["status"] == "cancelled":
        raise conflict(gettext("The meeting was cancelled."))
    if row["starts_at"] > datetime.now(UTC):
        raise conflict(gettext("The meeting has not started yet."))


async def record_attendance(
    deps: Deps, actor: Actor, session_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    row, _ = await _run_session(deps, actor, session_id)
    _started(row)
    async with deps.pool.acquire() as conn, conn.transaction():
        registrations = {str(r["id"]): r for r in await store.registrations(conn, row["id"])}
        problems = []
        for index, item in enumerate(body["attendance"]):
            found = registrations.get(item["registration_id"])
            if found is None or found["status"] != Placement.REGISTERED:
                problems.append(
                    (
                        f"/attendance/{index}/registration_id",
                        gettext("is not a registration with a place at this meeting"),
                    )
                )
            elif any(p >= found["headcount"] for p in item.get("people", [])):
                problems.append(
                    (f"/attendance/{index}/people", gettext("names someone not registered"))
                )
        if problems:
            raise invalid(problems)
        for item in body["attendance"]:
            people = item.get("people")
            await store.record_attendance(
                conn,
                uuid.UUID(item["registration_id"]),
                row["id"],
                item["attended"],
                None if people is None else sorted(set(people)),
            )
        await insert_event(
            conn,
            _event(
                row["review_id"],
                EventType.SESSION_ATTENDANCE_RECORDED,
                actor,
                session_id=session_id,
                registrations=len(body["attendance"]),
            ),
        )
    return await registration_list(deps, actor, session_id)


def text_hash(text: str) -> str:
    return sha256_hex(text.encode("utf-8"))


def summary_document(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "session_id": str(row["session_id"]),
        "kind": row["kind"],
        "text": row["text"],
        "text_sha256": row["text_sha256"],
        "written_by_role": row["written_by_role"],
        "written_at": row["written_at"].isoformat(),
    }


async def write_summary(
    deps: Deps, actor: Actor, session_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    row, _ = await _run_session(deps, actor, session_id)
    _started(row)
    text = body["text"].strip()
    async with deps.pool.acquire() as conn, conn.transaction():
        written = await store.write_summary(
            conn,
            row["id"],
            row["review_id"],
            body["kind"],
            text,
            text_hash(text),
            actor.id,
            actor.role,
        )
        await insert_event(
            conn,
            _event(
                row["review_id"],
                EventType.SESSION_SUMMARY_WRITTEN,
                actor,
                session_id=session_id,
                kind=body["kind"],
                text_sha256=written["text_sha256"],
            ),
        )
    return summary_document(written)
