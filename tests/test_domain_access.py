"""Who may see and do what, against every role, region and ownership."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from domain.access import (
    ROLES,
    SECRETARIAT_MAY_CREATE,
    Actor,
    creation_refusal,
    may_act_on_task,
    may_read_submission,
    may_read_task,
    own_subject,
    runs_review,
    submission_subject,
)
from domain.refusal import Refusal, RefusalKind

REGIONS = ("ECE", "ECA", "ESCAP")
COUNTRIES = ("DEU", "FRA", "KEN")
ORGANISATION = uuid.UUID(int=7)


@st.composite
def actors(draw: st.DrawFn) -> Actor:
    role = draw(st.sampled_from(ROLES))
    return Actor(
        id=uuid.UUID(int=draw(st.integers(1, 3))),
        name="someone",
        role=role,
        regions=tuple(draw(st.sets(st.sampled_from(REGIONS)))),
        country=draw(st.sampled_from(COUNTRIES)) if role == "focal_point" else None,
        organisation="Red Cross" if role == "stakeholder" else None,
        organisation_id=draw(st.sampled_from([ORGANISATION, uuid.UUID(int=8)]))
        if role == "stakeholder"
        else None,
    )


@given(actor=actors(), region=st.sampled_from(REGIONS))
def test_only_an_admin_or_the_regions_secretariat_runs_a_review(actor: Actor, region: str) -> None:
    expected = actor.role == "admin" or (actor.role == "secretariat" and region in actor.regions)
    assert runs_review(actor, region) is expected


@given(
    actor=actors(),
    region=st.sampled_from(REGIONS),
    kind=st.sampled_from(["national_report", "stakeholder_input"]),
    subject=st.sampled_from([*COUNTRIES, str(ORGANISATION)]),
)
def test_a_submission_is_read_by_the_secretariat_and_its_own_submitter_only(
    actor: Actor, region: str, kind: str, subject: str
) -> None:
    own = (
        actor.role == "focal_point" and (kind, subject) == ("national_report", actor.country)
    ) or (
        actor.role == "stakeholder"
        and (kind, subject) == ("stakeholder_input", str(actor.organisation_id))
    )
    assert may_read_submission(actor, region, kind, subject) is (runs_review(actor, region) or own)
    if actor.role in ("admin", "secretariat", "observer"):
        assert own_subject(actor) is None


@given(actor=actors(), assignee=st.integers(1, 3), region=st.sampled_from(REGIONS))
def test_a_task_is_read_by_its_assignee_and_the_secretariat_and_acted_on_by_the_assignee_only(
    actor: Actor, assignee: int, region: str
) -> None:
    holder = uuid.UUID(int=assignee)
    assert may_act_on_task(actor, holder) is (actor.id == holder)
    assert may_read_task(actor, holder, region) is (
        actor.id == holder or runs_review(actor, region)
    )


@given(
    creator=actors(),
    role=st.sampled_from(ROLES),
    regions=st.sets(st.sampled_from(REGIONS)).map(tuple),
)
def test_an_admin_creates_any_account_a_secretariat_only_non_staff_in_its_regions(
    creator: Actor, role: str, regions: tuple[str, ...]
) -> None:
    refusal = creation_refusal(creator, role, regions)
    allowed = creator.role == "admin" or (
        creator.role == "secretariat"
        and role in SECRETARIAT_MAY_CREATE
        and set(regions) <= set(creator.regions)
    )
    assert (refusal is None) is allowed
    assert refusal is None or refusal.kind is RefusalKind.NOT_IN_SCOPE


def _focal_point(country: str = "DEU", regions: tuple[str, ...] = ("ECE",)) -> Actor:
    return Actor(uuid.UUID(int=1), "fp", "focal_point", regions=regions, country=country)


def test_a_focal_point_submits_for_its_own_member_state_in_its_regions() -> None:
    members = ["DEU", "FRA"]
    assert submission_subject(_focal_point(), {"country": "DEU"}, "ECE", members) == "DEU"
    refusals = [
        submission_subject(_focal_point(), {"country": "FRA"}, "ECE", members),
        submission_subject(_focal_point("KEN"), {"country": "KEN"}, "ECE", members),
        submission_subject(_focal_point(regions=("ECA",)), {"country": "DEU"}, "ECE", members),
    ]
    assert [r.message for r in refusals if isinstance(r, Refusal)] == [
        "You submit for DEU only, not for FRA.",
        "KEN is not a member State of this review.",
        "You act for DEU in ECA only.",
    ]


def test_a_stakeholder_submits_for_its_organisation_by_its_id() -> None:
    stakeholder = Actor(
        uuid.UUID(int=2), "s", "stakeholder", organisation="Red Cross", organisation_id=ORGANISATION
    )
    content = {"organisation": {"name": "Red Cross"}}
    assert submission_subject(stakeholder, content, "ECE", []) == str(ORGANISATION)
    other = submission_subject(stakeholder, {"organisation": {"name": "Oxfam"}}, "ECE", [])
    assert other == Refusal(RefusalKind.NOT_IN_SCOPE, "You submit for Red Cross only.")
