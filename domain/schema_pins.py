"""Which versions of the document schemas a review collects, and when that may change.

A review collects the versions current when it was created. Its secretariat may move it to
the current versions until its call for inputs closes: from then on, what was collected is
compared and compiled as it is, so the versions stay.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.refusal import Refusal, RefusalKind
from domain.review import Phase
from domain.text import N_

# The phases in which a review's schema versions may still move.
MOVABLE = frozenset({Phase.SCHEDULED, Phase.CALL_FOR_INPUTS})


def move_refusal(phase: Phase) -> Refusal | None:
    """Why the review's schema versions may not move now, if they may not."""
    if phase in MOVABLE:
        return None
    return Refusal(
        RefusalKind.WRONG_PHASE,
        N_(
            "The call for inputs of this review has closed; the versions of the forms it"
            " collects no longer change."
        ),
    )


def moved(pinned: Mapping[str, int], current: Mapping[str, int]) -> dict[str, int]:
    """The versions a review collects once moved to `current`: never back to an older one."""
    return {name: max(pinned.get(name, 1), version) for name, version in current.items()}


def behind(pinned: Mapping[str, int], current: Mapping[str, int]) -> bool:
    """Whether the review collects an older version of some schema than the current one."""
    return moved(pinned, current) != dict(pinned)
