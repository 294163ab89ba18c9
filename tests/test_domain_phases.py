"""Which commands each phase allows: closing it, cancelling, deciding on the report."""

from __future__ import annotations

import pytest

from domain.phases import advance_refusal, cancel_refusal, report_decision_refusal
from domain.refusal import RefusalKind
from domain.review import NEXT_PHASE, Phase


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
