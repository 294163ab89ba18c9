"""The rules of drafting and clearance within a State, as pure functions."""

from __future__ import annotations

import uuid

from domain.access import Actor, may_submit, submission_subject
from domain.clearance import (
    ClearanceStatus,
    Latest,
    Team,
    clear_refusal,
    may_clear,
    officer_refusal,
    status,
    submission_refusal,
    team_refusal,
)
from domain.refusal import RefusalKind

FOCAL = Actor(uuid.UUID(int=1), "fp", "focal_point", regions=("ECE",), country="DEU")
DRAFTER = Actor(uuid.UUID(int=2), "d", "drafter", regions=("ECE",), country="DEU")
OFFICER = Actor(uuid.UUID(int=3), "o", "drafter", regions=("ECE",), country="DEU")
FOREIGN = Actor(uuid.UUID(int=4), "f", "drafter", regions=("ECE",), country="FRA")
ALONE = Team("DEU", (), None)
TEAM = Team("DEU", (DRAFTER.id, OFFICER.id), OFFICER.id)


def latest(*, cleared: bool = False, earlier: bool = False, requested: bool = False) -> Latest:
    return Latest(2, "h2", requested=requested, cleared=cleared, earlier_cleared=earlier)


def test_a_focal_point_alone_sends_without_clearance() -> None:
    assert not ALONE.exists
    assert submission_refusal(ALONE, None, "anything") is None


def test_with_a_team_only_the_latest_cleared_revision_is_sent() -> None:
    for team in (TEAM, Team("DEU", (DRAFTER.id,), None), Team("DEU", (), OFFICER.id)):
        refused = submission_refusal(team, None, "h2")
        assert refused is not None and refused.kind is RefusalKind.WRONG_PHASE
        assert submission_refusal(team, latest(requested=True), "h2") is not None
        assert submission_refusal(team, latest(cleared=True), "h2") is None
        other = submission_refusal(team, latest(cleared=True), "h1")
        assert other is not None and "not the cleared one" in other.message


def test_a_change_after_clearance_voids_it_plainly() -> None:
    voided = latest(earlier=True)
    assert status(voided) is ClearanceStatus.VOIDED
    refused = submission_refusal(TEAM, voided, "h2")
    assert refused is not None and "changed after it was cleared" in refused.message
    sent = Latest(2, "h2", requested=True, cleared=True, earlier_cleared=False, sent=True)
    assert status(sent) is ClearanceStatus.SENT
    assert [status(x) for x in (None, latest(), latest(requested=True), latest(cleared=True))] == [
        ClearanceStatus.NOT_ASKED,
        ClearanceStatus.NOT_ASKED,
        ClearanceStatus.REQUESTED,
        ClearanceStatus.CLEARED,
    ]


def test_the_named_officer_clears_else_a_focal_point_of_the_country() -> None:
    assert may_clear(OFFICER, TEAM) and not may_clear(FOCAL, TEAM) and not may_clear(DRAFTER, TEAM)
    assert may_clear(FOCAL, ALONE) and not may_clear(DRAFTER, ALONE)
    french_focal = Actor(uuid.UUID(int=5), "ff", "focal_point", country="FRA")
    assert not may_clear(french_focal, ALONE)
    assert clear_refusal(OFFICER, TEAM, latest(), "h2") is None
    stale = clear_refusal(OFFICER, TEAM, latest(), "h1")
    assert stale is not None and stale.kind is RefusalKind.WRONG_PHASE
    assert clear_refusal(OFFICER, TEAM, None, "h2") is not None
    refused = clear_refusal(FOCAL, TEAM, latest(), "h2")
    assert refused is not None and refused.kind is RefusalKind.NOT_IN_SCOPE


def test_only_a_focal_point_manages_a_team_of_its_own_country() -> None:
    assert team_refusal(FOCAL) is None
    assert team_refusal(DRAFTER) is not None
    assert officer_refusal(FOCAL, OFFICER, TEAM) is None
    assert officer_refusal(FOCAL, FOCAL, TEAM) is None
    outsider = Actor(uuid.UUID(int=6), "x", "drafter", country="DEU")  # not on this team
    for candidate in (FOREIGN, outsider, None):
        refused = officer_refusal(FOCAL, candidate, TEAM)
        assert refused is not None and refused.field == "officer"


def test_a_drafter_drafts_but_never_submits() -> None:
    assert not may_submit(DRAFTER) and may_submit(FOCAL)
    refused = submission_subject(DRAFTER, {"country": "DEU"}, "ECE", ["DEU"])
    assert not isinstance(refused, str) and refused.kind is RefusalKind.NOT_IN_SCOPE
