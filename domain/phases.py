"""Which commands the review's phase allows: closing a phase, cancelling, deciding on the report."""

from __future__ import annotations

from domain.refusal import Refusal, RefusalKind
from domain.review import NEXT_PHASE, Phase


def advance_refusal(phase: Phase) -> Refusal | None:
    if phase in NEXT_PHASE:
        return None
    return Refusal(
        RefusalKind.WRONG_PHASE, f"The review is in {phase.value}; there is no phase to close now."
    )


def cancel_refusal(phase: Phase) -> Refusal | None:
    if not phase.terminal:
        return None
    return Refusal(RefusalKind.WRONG_PHASE, f"The review is already {phase.value}.")


def report_decision_refusal(phase: Phase) -> Refusal | None:
    """Approving the report or asking for changes needs a report awaiting a decision."""
    if phase is Phase.APPROVAL:
        return None
    return Refusal(
        RefusalKind.WRONG_PHASE,
        f"The review is in {phase.value}; there is no report awaiting a decision.",
    )
