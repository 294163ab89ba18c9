"""Annexes' use cases: attach a file to the submission being drafted, list and remove the
draft's annexes, read one (the file itself) where the submission may be read.

Annexes belong to the review, kind and subject as drafts do (`services.drafts.subject_key`):
colleagues of one country or organisation share them, and only they reach them while drafting.
A version sent records the annexes it was sent with (`db.submissions.store_pending`); from then
on whoever may read the submission reads those, and removing one from the draft leaves them.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from db.annexes import annex, attached, insert_annex, remove_annex, version_annexes
from db.events import insert_event
from db.pool import Executor
from db.reviews import visible_review
from domain.access import Actor
from domain.annexes import (
    MAX_ANNEX_BYTES,
    MAX_ANNEX_MB,
    MAX_ANNEXES,
    AnnexType,
    annex_type,
    display_name,
    download_name,
    may_read_annex,
)
from domain.events import EventType, ReviewEvent
from i18n import gettext
from services import submissions
from services.drafts import subject_key
from services.engine import Deps
from services.files import file_store
from services.refusals import Refused, invalid, named_id, not_found
from services.submissions import Intake


@dataclass(frozen=True)
class Annex:
    id: uuid.UUID
    file_name: str
    media_type: AnnexType
    size: int
    sha256: str
    uploaded_at: datetime

    @classmethod
    def of(cls, row: asyncpg.Record) -> Annex:
        return cls(
            row["id"],
            row["file_name"],
            AnnexType(row["media_type"]),
            row["size"],
            row["sha256"],
            row["uploaded_at"],
        )

    @property
    def download_name(self) -> str:
        return download_name(self.file_name, self.media_type)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "file_name": self.file_name,
            "media_type": self.media_type.value,
            "size": self.size,
            "sha256": self.sha256,
            "uploaded_at": self.uploaded_at.isoformat(),
        }


# Annex events' ids are derived from the annex and what happened to it, so each is recorded once.
EVENT_NAMESPACE = uuid.UUID("0f4f1e4a-61c3-4b53-9d0e-5a2c8b7d3e19")


async def _record(conn: Executor, kind: EventType, row: asyncpg.Record, by: uuid.UUID) -> None:
    """The attaching or removing of an annex, in the review's audit trail: which submission and
    which file by its type, size and hash; never its name, which an organisation that does not
    agree to be named may have put in it."""
    await insert_event(
        conn,
        ReviewEvent(
            id=str(uuid.uuid5(EVENT_NAMESPACE, f"{kind}:{row['id']}")),
            review_id=row["review_id"],
            type=kind,
            at=datetime.now(UTC),
            actor_id=str(by),
            data={
                "kind": row["kind"],
                "subject": row["subject"],
                "annex_id": str(row["id"]),
                "media_type": row["media_type"],
                "size": row["size"],
                "sha256": row["sha256"],
            },
        ),
    )


def too_large() -> str:
    return gettext("The file is larger than %(size)s MB.") % {"size": MAX_ANNEX_MB}


async def attach(deps: Deps, intake: Intake, sent_name: str, content: bytes) -> Annex:
    """Attach `content` (at most MAX_ANNEX_BYTES, read so by the caller) to the draft, under
    the name it was sent with; refused when it is no PDF or DOCX, or the draft has
    MAX_ANNEXES annexes already."""
    review_id, kind, subject = subject_key(intake)
    if len(content) > MAX_ANNEX_BYTES:
        raise invalid([("", too_large())], too_large())
    if not content:
        raise _refused(gettext("The file is empty."))
    if len(await attached(deps.pool, review_id, kind, subject)) >= MAX_ANNEXES:
        raise _too_many()
    # Off the loop: opening a ZIP's directory takes a while.
    found = await asyncio.to_thread(annex_type, content)
    if found is None:
        raise _refused(
            gettext("The file is neither a PDF nor a Word document (DOCX), whatever its name says.")
        )
    digest = await file_store(deps.pool).put(content)
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await insert_annex(
            conn,
            review_id=review_id,
            kind=kind,
            subject=subject,
            file_name=display_name(sent_name),
            media_type=found.value,
            size=len(content),
            sha256=digest,
            uploaded_by=intake.actor.id,
            most=MAX_ANNEXES,
        )
        if row is not None:
            await _record(conn, EventType.ANNEX_ATTACHED, row, intake.actor.id)
    if row is None:
        raise _too_many()
    return Annex.of(row)


def _refused(message: str) -> Refused:
    return invalid([("", message)], message)


def _too_many() -> Refused:
    return _refused(
        gettext("A submission has at most %(count)s annexes: remove one to add another.")
        % {"count": MAX_ANNEXES}
    )


async def drafted(deps: Deps, intake: Intake) -> list[Annex]:
    """The draft's annexes, oldest first: those the next version will be sent with."""
    return [Annex.of(row) for row in await attached(deps.pool, *subject_key(intake))]


async def remove(deps: Deps, intake: Intake, annex_id: str) -> None:
    """Take an annex off the draft; versions sent with it keep it."""
    review_id, kind, subject = subject_key(intake)
    nothing = not_found(gettext("Your draft has no annex %(id)s.") % {"id": repr(annex_id)})
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await remove_annex(conn, named_id(annex_id, nothing), review_id, kind, subject)
        if row is None:
            raise nothing
        await _record(conn, EventType.ANNEX_REMOVED, row, intake.actor.id)


async def of_versions(
    deps: Deps, submission_id: uuid.UUID, versions: list[int]
) -> dict[int, list[Annex]]:
    """The annexes each of these versions (of a submission the caller may read) was sent with."""
    rows = await version_annexes(deps.pool, submission_id, versions)
    sent: dict[int, list[Annex]] = {version: [] for version in versions}
    for row in rows:
        sent[row["version"]].append(Annex.of(row))
    return sent


async def readable(deps: Deps, actor: Actor, annex_id: str) -> tuple[Annex, bytes]:
    """The annex and its file, if `actor` may read it; the same refusal for one that does not
    exist."""
    nothing = not_found(gettext("There is no annex %(id)s you may read.") % {"id": repr(annex_id)})
    row = await annex(deps.pool, named_id(annex_id, nothing))
    if row is None or not may_read_annex(
        actor, row["region"], row["kind"], row["subject"], row["sent"]
    ):
        raise nothing
    # Removed from the draft and never sent: nobody reads it any more.
    if row["removed_at"] is not None and not row["sent"]:
        raise nothing
    if await visible_review(deps.pool, actor, row["review_id"]) is None:
        raise nothing
    content = await file_store(deps.pool).open(row["sha256"])
    if content is None:
        raise nothing
    return Annex.of(row), content


async def submission_document(
    deps: Deps, actor: Actor, submission_id: str, version: str | None
) -> dict[str, Any]:
    """The submission at `version` (`services.submissions.submission_document`), with the
    annexes that version was sent with."""
    document = await submissions.submission_document(deps, actor, submission_id, version)
    chosen = document["version"]
    sent = await of_versions(deps, uuid.UUID(document["id"]), [chosen])
    return {**document, "annexes": [annex.as_json() for annex in sent[chosen]]}
