"""Drafting and clearance of a national report within a State, as pure rules.

A focal point drafts its country's national report with colleagues of the same country
(accounts of the role `drafter`). The team of a review is those drafters and, if the focal
point names one, a clearing officer. Every save that changes the draft is kept as a revision;
the clearing officer (or, when none is named, a focal point of the country) clears one revision
by its content hash. When a country has a team, only the cleared content is sent: a change
after the clearance voids it. A focal point working alone sends as it always did.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from domain.access import Actor
from domain.refusal import Refusal, RefusalKind
from domain.text import N_

DRAFTER = "drafter"
# Who may be the clearing officer of a country's report: a colleague of the same country.
MAY_CLEAR_ROLES = frozenset({"focal_point", DRAFTER})


class ClearanceStatus(StrEnum):
    """Where the draft stands, as its latest revision says."""

    NOT_ASKED = "not_asked"  # nobody has asked for clearance of this revision
    REQUESTED = "requested"  # sent for clearance, not cleared yet
    CLEARED = "cleared"  # this very content is cleared
    # An earlier revision was cleared, and the draft changed since: the clearance no longer holds.
    VOIDED = "voided"
    # This very content is the version of the national report sent last.
    SENT = "sent"


@dataclass(frozen=True)
class Team:
    """A country's team for one review: its active drafters and the named clearing officer."""

    country: str
    drafters: tuple[uuid.UUID, ...]
    officer: uuid.UUID | None

    @property
    def exists(self) -> bool:
        """Whether anyone besides the focal points works on the report: then it is cleared
        before it is sent."""
        return bool(self.drafters) or self.officer is not None


@dataclass(frozen=True)
class Latest:
    """The latest revision of a draft, as the clearance rules need it."""

    number: int
    content_hash: str
    requested: bool
    cleared: bool
    # Whether an earlier revision of the same draft was cleared.
    earlier_cleared: bool
    # Whether this content is the version sent last.
    sent: bool = False


def status(latest: Latest | None) -> ClearanceStatus:
    if latest is None:
        return ClearanceStatus.NOT_ASKED
    if latest.sent:
        return ClearanceStatus.SENT
    if latest.cleared:
        return ClearanceStatus.CLEARED
    if latest.earlier_cleared:
        return ClearanceStatus.VOIDED
    return ClearanceStatus.REQUESTED if latest.requested else ClearanceStatus.NOT_ASKED


def drafting_country(actor: Actor) -> str | None:
    """The country whose national report `actor` drafts: a focal point's or a drafter's."""
    return actor.country if actor.role in MAY_CLEAR_ROLES else None


def team_refusal(actor: Actor) -> Refusal | None:
    """Why `actor` may not manage a team (add drafters, name the clearing officer), if so:
    only a focal point does, for its own country."""
    if actor.role != "focal_point" or actor.country is None:
        return Refusal(
            RefusalKind.NOT_IN_SCOPE,
            N_("Only a focal point adds drafters and names the clearing officer."),
        )
    return None


def officer_refusal(focal_point: Actor, candidate: Actor | None, team: Team) -> Refusal | None:
    """Why `candidate` may not clear `focal_point`'s national report, if so: the clearing
    officer is an active colleague of the same country, a focal point or a drafter of the
    review's team."""
    if (
        candidate is None
        or candidate.country != focal_point.country
        or candidate.role not in MAY_CLEAR_ROLES
        or (candidate.role == DRAFTER and candidate.id not in team.drafters)
    ):
        return Refusal(
            RefusalKind.INVALID,
            N_("The clearing officer must be a focal point of your country or on its team."),
            "officer",
        )
    return None


def may_clear(actor: Actor, team: Team) -> bool:
    """The named clearing officer clears; when none is named, a focal point of the country."""
    if team.officer is not None:
        return actor.id == team.officer
    return actor.role == "focal_point" and actor.country == team.country


def clear_refusal(actor: Actor, team: Team, latest: Latest | None, named: str) -> Refusal | None:
    """Why `actor` may not clear the draft whose content hash it names, if so."""
    if not may_clear(actor, team):
        who = (
            N_("Only the clearing officer clears this draft.")
            if team.officer is not None
            else N_("Only a focal point clears this draft.")
        )
        return Refusal(RefusalKind.NOT_IN_SCOPE, who)
    if latest is None:
        return Refusal(RefusalKind.WRONG_PHASE, N_("There is no draft to clear."))
    if latest.content_hash != named:
        return Refusal(
            RefusalKind.WRONG_PHASE,
            N_("The draft has changed since you read it. Read it again, then clear it."),
        )
    return None


def request_refusal(latest: Latest | None) -> Refusal | None:
    """Why the draft may not be sent for clearance, if so: there is none saved."""
    if latest is None:
        return Refusal(
            RefusalKind.WRONG_PHASE,
            N_("There is no draft to send for clearance. Save the draft first."),
        )
    return None


def submission_refusal(team: Team, latest: Latest | None, submitted_hash: str) -> Refusal | None:
    """Why a national report may not be sent yet, if so: a country with a team sends exactly
    the content of its latest revision, once that revision is cleared."""
    if not team.exists:
        return None
    if latest is None or not latest.cleared:
        message = (
            N_("The draft changed after it was cleared. Ask for clearance again before sending.")
            if latest is not None and latest.earlier_cleared
            else N_("Your country's team clears the national report before it is sent.")
        )
        return Refusal(RefusalKind.WRONG_PHASE, message)
    if latest.content_hash != submitted_hash:
        return Refusal(
            RefusalKind.WRONG_PHASE,
            N_("Only the cleared draft can be sent: this content is not the cleared one."),
        )
    return None
