"""Which commands each phase allows: closing it, cancelling, deciding on the report."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.phases import (
    advance_refusal,
    cancel_refusal,
    reached_deadline,
    report_decision_refusal,
)
from domain.refusal import RefusalKind
from domain.review import NEXT_PHASE, Deadline, Phase
from tests.domain_fixtures import TIMELINE, state


@pytest.mark.parametrize("phase", list(Phase))
def test_each_phase_allows_exactly_its_commands(phase: Phase) -> None:
    assert (advance_refusal(phase) is None) is (phase in NEXT_PHASE)
    assert (cancel_refusal(phase) is None) is (phase not in (Phase.PUBLISHED, Phase.CANCELLED))
    assert (report_decision_refusal(phase) is None) is (phase is Phase.APPROVAL)
    for refusal in (advance_refusal(phase), cancel_refusal(phase), report_decision_refusal(phase)):
        assert refusal is None or (refusal.kind, refusal.field) == (RefusalKind.WRONG_PHASE, None)


def test_a_report_decision_out_of_approval_says_so_once_for_the_api_and_the_workflow() -> None:
    refusal = report_decision_refusal(Phase.COMPILATION)
    assert refusal is not None
    assert (
        refusal.message == "The review is in compilation; there is no report awaiting a decision."
    )


def test_a_phase_ends_when_its_deadline_comes_and_the_overdue_report_alerts_once() -> None:
    review = state(Phase.CALL_FOR_INPUTS)
    assert reached_deadline(review, TIMELINE.inputs_due_at - timedelta(seconds=1)) is None
    assert reached_deadline(review, TIMELINE.inputs_due_at) is Deadline.INPUTS_DUE_AT
    assert reached_deadline(state(Phase.COMPILATION), TIMELINE.report_due_at) is None
    approval = state(Phase.APPROVAL)
    assert reached_deadline(approval, TIMELINE.report_due_at) is Deadline.REPORT_DUE_AT
    approval.report_overdue_announced = True
    assert reached_deadline(approval, TIMELINE.report_due_at) is None
