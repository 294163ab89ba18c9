"""Phase changes: which deadline ends the current phase and when it has come, and which
commands the phase allows (closing it, cancelling, deciding on the report)."""

from __future__ import annotations

from datetime import datetime

from domain.refusal import Refusal, RefusalKind
from domain.review import DEADLINE_ENDS, NEXT_PHASE, Deadline, Phase, ReviewState
from domain.text import N_

# The deadline that closes each phase; phases without one wait for a command.
PHASE_DEADLINE: dict[Phase, Deadline] = {
    phase: deadline for deadline, phase in DEADLINE_ENDS.items()
}


def watched_deadline(state: ReviewState) -> Deadline | None:
    """The deadline the current phase waits for, if reaching it still does something: it
    ends the phase, or (for the report, which only the secretariat approves) alerts once."""
    if state.phase is Phase.APPROVAL and state.report_overdue_announced:
        return None
    return PHASE_DEADLINE.get(state.phase)


def reached_deadline(state: ReviewState, now: datetime) -> Deadline | None:
    """The watched deadline, once it has come."""
    deadline = watched_deadline(state)
    if deadline is None or state.deadlines.get(deadline) > now:
        return None
    return deadline


def advance_refusal(phase: Phase) -> Refusal | None:
    if phase in NEXT_PHASE:
        return None
    return Refusal(
        RefusalKind.WRONG_PHASE,
        N_("The review is in {phase}; there is no phase to close now.").format(phase=phase.value),
    )


def cancel_refusal(phase: Phase) -> Refusal | None:
    if not phase.terminal:
        return None
    return Refusal(
        RefusalKind.WRONG_PHASE, N_("The review is already {phase}.").format(phase=phase.value)
    )


def report_decision_refusal(phase: Phase) -> Refusal | None:
    """Approving the report or asking for changes needs a report awaiting a decision."""
    if phase is Phase.APPROVAL:
        return None
    return Refusal(
        RefusalKind.WRONG_PHASE,
        N_("The review is in {phase}; there is no report awaiting a decision.").format(
            phase=phase.value
        ),
    )


# The phases in which more member States may be asked for their national report: until the
# call for inputs closes.
STATES_JOIN = frozenset({Phase.SCHEDULED, Phase.CALL_FOR_INPUTS})


def more_states_refusal(phase: Phase) -> Refusal | None:
    """Inviting more member States needs the call for inputs not yet closed."""
    if phase in STATES_JOIN:
        return None
    return Refusal(
        RefusalKind.WRONG_PHASE,
        N_(
            "The review is in {phase}; member States can be invited only until the call for"
            " inputs closes."
        ).format(phase=phase.value),
    )


def session_refusal(phase: Phase) -> Refusal | None:
    """Consultation meetings are planned, moved and cancelled until the review ends."""
    if not phase.terminal:
        return None
    return Refusal(
        RefusalKind.WRONG_PHASE,
        N_("The review is {phase}: its meetings can no longer be changed.").format(
            phase=phase.value
        ),
    )
