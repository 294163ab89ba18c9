"""Drafts' use cases: save what a focal point or stakeholder has typed into its submission
form, read it back, discard it.

A draft belongs to the review, the kind and the subject (the country of a national report, the
organisation of a stakeholder input), not to the person: colleagues of the same country or
organisation continue the same one. Only those who may submit it (`services.submissions.intake`)
reach it; the secretariat never does, and no listing of submissions includes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db.drafts import delete_draft, draft, save_draft
from domain.access import own_subject
from i18n import gettext
from services import clearance
from services.engine import Deps
from services.refusals import forbidden
from services.submissions import Intake


@dataclass(frozen=True)
class Draft:
    content: dict[str, Any]
    updated_at: datetime
    # The version of its kind's schema it was written against.
    schema_version: int = 1


def subject_key(intake: Intake) -> tuple[str, str, str]:
    """The review, kind and subject the intake's draft and its annexes are kept under."""
    own = own_subject(intake.actor)
    actor = intake.actor
    # An account set up without its country (or organisation) has nothing to draft for; its
    # subject would be None (or the text "None").
    if own is None or own[1] is None or (actor.role == "stakeholder" and not actor.organisation_id):
        raise forbidden(gettext("Your account is not linked to a country or an organisation."))
    return intake.review["id"], own[0], own[1]


async def save(deps: Deps, intake: Intake, content: dict[str, Any]) -> Draft:
    """Keep `content` (as typed: it need not be valid yet, but is written against the version
    of the schema the review collects) as the draft, and a national report's as a revision of
    its history too (services.clearance)."""
    key = subject_key(intake)
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await save_draft(conn, *key, content, intake.actor.id, intake.schema_version)
        await clearance.keep_revision(conn, key, content, intake.actor.id)
    return Draft(row["content"], row["updated_at"], row["schema_version"])


async def load(deps: Deps, intake: Intake) -> Draft | None:
    row = await draft(deps.pool, *subject_key(intake))
    return None if row is None else Draft(row["content"], row["updated_at"], row["schema_version"])


async def discard(deps: Deps, intake: Intake) -> None:
    await delete_draft(deps.pool, *subject_key(intake))
