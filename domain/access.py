"""Who may see and do what: the rules behind the authorization matrix.

The API asks these before it acts; the database's visibility predicates (`db/`) say the same
thing in SQL for listing many rows at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.intake import outside_review
from domain.refusal import Refusal, RefusalKind
from domain.review import SubmissionKind
from domain.text import N_

# A drafter is a focal point's colleague of the same country: it drafts the national report
# (domain.clearance), reads what its country sent, and sends nothing itself.
# An approver is a regional UN Network's representative, scoped to regions like a
# secretariat: it reads the draft report of the reviews naming it, and decides at its turn.
ROLES = (
    "admin",
    "secretariat",
    "focal_point",
    "stakeholder",
    "observer",
    "drafter",
    "approver",
)
# The roles whose accounts a review may name as its report's approvers.
MAY_APPROVE = ("secretariat", "approver")
# The roles that run reviews: an admin everywhere, a secretariat in its regions.
RUNS_REVIEWS = ("secretariat", "admin")
# Roles a secretariat may hand out, and only within its own regions.
SECRETARIAT_MAY_CREATE = frozenset({"focal_point", "stakeholder", "observer", "approver"})
# What each submitting role submits (a drafter drafts it only).
KIND_OF_ROLE = {
    "focal_point": SubmissionKind.NATIONAL_REPORT,
    "drafter": SubmissionKind.NATIONAL_REPORT,
    "stakeholder": SubmissionKind.STAKEHOLDER_INPUT,
}


class Row(Protocol):
    """A stored account's columns by name (a database record)."""

    def __getitem__(self, key: str, /) -> Any: ...


@dataclass(frozen=True)
class Actor:
    id: uuid.UUID
    name: str
    role: str
    email: str | None = None
    regions: tuple[str, ...] = field(default_factory=tuple)
    country: str | None = None
    organisation: str | None = None
    stakeholder_category: str | None = None
    # One of the six UN languages, or None until the person chooses (pages then follow the
    # browser, mail is in English).
    language: str | None = None
    notifications: str = "all"
    organisation_id: uuid.UUID | None = None
    # An IANA time zone name: pages show deadlines in it, with UTC beside.
    time_zone: str = "UTC"

    @classmethod
    def from_row(cls, row: Row) -> Actor:
        return cls(
            id=row["id"],
            name=row["name"],
            role=row["role"],
            email=row["email"],
            regions=tuple(row["regions"]),
            country=row["country"],
            organisation=row["organisation"],
            stakeholder_category=row["stakeholder_category"],
            language=row["language"],
            notifications=row["notifications"],
            organisation_id=row["organisation_id"],
            time_zone=row["time_zone"],
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "regions": list(self.regions),
            "country": self.country,
            "organisation": self.organisation,
            "organisation_id": str(self.organisation_id) if self.organisation_id else None,
            "stakeholder_category": self.stakeholder_category,
            "language": self.language,
            "notifications": self.notifications,
            "time_zone": self.time_zone,
        }


def runs_review(actor: Actor, region: str) -> bool:
    """Whether `actor` is the secretariat of a review of `region` (or an admin)."""
    return actor.role == "admin" or (actor.role == "secretariat" and region in actor.regions)


def may_sign_in_with_sso(actor: Actor) -> bool:
    """Whether `actor` may sign in with the organisation's OpenID provider: staff who run
    reviews, whose accounts the organisation's IT service vouches for. Participants (member
    States, stakeholders, observers) come from outside it and sign in by a link sent by email."""
    return actor.role in RUNS_REVIEWS


def own_subject(actor: Actor) -> tuple[str, str | None] | None:
    """The (kind, subject) of the submissions an actor makes and reads; None for none."""
    kind = KIND_OF_ROLE.get(actor.role)
    if kind is SubmissionKind.NATIONAL_REPORT:
        return kind.value, actor.country
    if kind is SubmissionKind.STAKEHOLDER_INPUT:
        # The organisation's id, not its name: two organisations may share a name.
        return kind.value, str(actor.organisation_id)
    return None


def may_submit(actor: Actor) -> bool:
    """Whether `actor` sends submissions (a drafter only drafts them)."""
    return actor.role in KIND_OF_ROLE and actor.role != "drafter"


def may_read_submission(actor: Actor, region: str, kind: str, subject: str) -> bool:
    """The review's secretariat reads every submission; a submitter reads its own."""
    return runs_review(actor, region) or own_subject(actor) == (kind, subject)


def submission_subject(
    actor: Actor, content: Mapping[str, Any], region: str, member_states: list[str]
) -> str | Refusal:
    """Whose submission `content` is, or why `actor` may not submit it to this review (a
    focal point or stakeholder whose kind of submission `content` is)."""
    if actor.role == "drafter":
        return _not_yours(
            N_("A drafter prepares the national report; a focal point of the country sends it.")
        )
    if actor.role == "focal_point":
        if content["country"] != actor.country:
            return _not_yours(
                N_("You submit for {country} only, not for {other}.").format(
                    country=actor.country, other=content["country"]
                )
            )
        if actor.country is None or actor.country not in member_states:
            return outside_review(actor.country)
        if region not in actor.regions:
            return _not_yours(
                N_("You act for {country} in {regions} only.").format(
                    country=actor.country, regions=", ".join(actor.regions)
                )
            )
        return actor.country
    organisation = actor.organisation or ""
    if content["organisation"]["name"] != organisation:
        return _not_yours(
            N_("You submit for {organisation} only.").format(organisation=organisation)
        )
    return str(actor.organisation_id)


def may_read_task(actor: Actor, assignee: uuid.UUID, region: str) -> bool:
    """A task is read by its assignee and by the secretariat of its review."""
    return assignee == actor.id or runs_review(actor, region)


def may_act_on_task(actor: Actor, assignee: uuid.UUID) -> bool:
    """Only the assignee answers or delegates a task, not the secretariat that reads it."""
    return assignee == actor.id


def creation_refusal(creator: Actor, role: str, regions: tuple[str, ...]) -> Refusal | None:
    """Why `creator` may not create an account of `role` in `regions`, if so: an admin creates
    any, a secretariat only non-staff accounts of its own regions."""
    if creator.role == "admin":
        return None
    if creator.role != "secretariat" or role not in SECRETARIAT_MAY_CREATE:
        return _not_yours(
            N_("A secretariat may create only: {roles}.").format(
                roles=", ".join(sorted(SECRETARIAT_MAY_CREATE))
            )
        )
    outside = sorted(set(regions) - set(creator.regions))
    if outside:
        return _not_yours(N_("Not your region(s): {regions}.").format(regions=", ".join(outside)))
    return None


def _not_yours(message: str) -> Refusal:
    return Refusal(RefusalKind.NOT_IN_SCOPE, message)
