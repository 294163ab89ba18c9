"""Whether a review takes a submission: scope, phase, deadline, late policy and extensions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.intake import (
    batch_refusal,
    closed,
    closed_for_good,
    is_late,
    not_a_member,
    submission_refusal,
)
from domain.refusal import Refusal, RefusalKind
from domain.review import LatePolicy, Phase, SubmissionKind
from tests.domain_fixtures import TIMELINE, config, state

NATIONAL = SubmissionKind.NATIONAL_REPORT
INPUT = SubmissionKind.STAKEHOLDER_INPUT
BEFORE_DUE = TIMELINE.inputs_due_at - timedelta(hours=1)
AFTER_DUE = TIMELINE.inputs_due_at + timedelta(hours=1)


def test_a_national_report_of_a_state_outside_the_review_is_out_of_scope() -> None:
    refusal = submission_refusal(
        config(), state(Phase.CALL_FOR_INPUTS), False, NATIONAL, "ESP", BEFORE_DUE
    )
    assert refusal == Refusal(RefusalKind.NOT_IN_SCOPE, "ESP is not a member State of this review.")


def test_a_stakeholder_subject_is_not_checked_against_the_member_states() -> None:
    assert (
        submission_refusal(
            config(), state(Phase.CALL_FOR_INPUTS), False, INPUT, "org-1", BEFORE_DUE
        )
        is None
    )


def test_no_country_is_never_a_member() -> None:
    assert not_a_member(None, ["DEU"]) is not None
    assert not_a_member("DEU", ["DEU"]) is None


@pytest.mark.parametrize("phase", [Phase.CALL_FOR_INPUTS, Phase.CONSULTATION])
def test_inputs_are_taken_while_the_call_or_consultation_runs(phase: Phase) -> None:
    assert submission_refusal(config(), state(phase), False, NATIONAL, "DEU", AFTER_DUE) is None


@pytest.mark.parametrize(
    "phase", [Phase.SCHEDULED, Phase.COMPILATION, Phase.APPROVAL, Phase.PUBLISHED, Phase.CANCELLED]
)
def test_other_phases_take_no_submissions(phase: Phase) -> None:
    refusal = submission_refusal(config(), state(phase), False, NATIONAL, "DEU", BEFORE_DUE)
    assert refusal is not None and refusal.kind is RefusalKind.WRONG_PHASE
    assert refusal == closed(phase)


def test_compilation_starting_closes_inputs_even_in_the_consultation() -> None:
    refusal = submission_refusal(config(), state(Phase.CONSULTATION), True, INPUT, "o", BEFORE_DUE)
    assert refusal is not None and "Compilation of the report is starting" in refusal.message
    assert batch_refusal(state(Phase.CONSULTATION), True) == refusal


def test_a_batch_before_the_call_opens_is_told_when_it_opens() -> None:
    refusal = batch_refusal(state(Phase.SCHEDULED), False)
    assert refusal is not None
    assert TIMELINE.call_opens_at.isoformat() in refusal.message
    assert batch_refusal(state(Phase.CALL_FOR_INPUTS), False) is None


def test_late_submissions_are_refused_only_under_the_reject_policy() -> None:
    strict, lenient = config(LatePolicy.REJECT), config(LatePolicy.ACCEPT_FLAGGED)
    review = state(Phase.CALL_FOR_INPUTS)
    assert submission_refusal(strict, review, False, INPUT, "o", BEFORE_DUE) is None
    refusal = submission_refusal(strict, review, False, INPUT, "o", AFTER_DUE)
    assert refusal is not None and "does not accept late submissions" in refusal.message
    assert submission_refusal(lenient, review, False, INPUT, "o", AFTER_DUE) is None
    assert is_late(review, INPUT, "o", AFTER_DUE) and not is_late(review, INPUT, "o", BEFORE_DUE)


def test_a_states_own_extension_makes_its_report_on_time_but_nobody_elses() -> None:
    review = state(Phase.CALL_FOR_INPUTS, DEU=TIMELINE.inputs_due_at + timedelta(days=5))
    strict = config(LatePolicy.REJECT)
    assert not is_late(review, NATIONAL, "DEU", AFTER_DUE)
    assert is_late(review, NATIONAL, "FRA", AFTER_DUE)
    # An organisation named like a State gains nothing from that State's extension.
    assert is_late(review, INPUT, "DEU", AFTER_DUE)
    assert submission_refusal(strict, review, False, NATIONAL, "DEU", AFTER_DUE) is None
    assert submission_refusal(strict, review, False, NATIONAL, "FRA", AFTER_DUE) is not None


@pytest.mark.parametrize("phase", list(Phase))
def test_only_phases_past_the_consultation_refuse_every_submission_for_good(phase: Phase) -> None:
    final = phase in (Phase.COMPILATION, Phase.APPROVAL, Phase.PUBLISHED, Phase.CANCELLED)
    assert closed_for_good(phase) == (closed(phase) if final else None)
