"""Review cycles: the regional reviews run every four years from 2020 (2020–2021, 2024–2025,
...) and feed the International Migration Review Forum of the year after (2022, 2026).

A cycle is written as its two years, "2020-2021". Pure rules: the workflow sandbox and the
API use them alike.
"""

from __future__ import annotations

import re
from datetime import datetime

from domain.text import N_

FIRST_ROUND = 2020
YEARS_BETWEEN_ROUNDS = 4
# Far enough for any real review; a bound keeps labels (and workflow ids) short and sane.
LAST_ROUND = 2996
CYCLE_PATTERN = r"^[0-9]{4}-[0-9]{4}$"
_LABEL = re.compile(CYCLE_PATTERN)


def cycle_label(first_year: int) -> str:
    return f"{first_year}-{first_year + 1}"


def round_of(year: int) -> int:
    """The first year of the round a call opening in `year` belongs to (2026 → 2024)."""
    before = max(year, FIRST_ROUND) - FIRST_ROUND
    return FIRST_ROUND + before // YEARS_BETWEEN_ROUNDS * YEARS_BETWEEN_ROUNDS


def default_cycle(call_opens_at: datetime) -> str:
    """The cycle of a review whose call for inputs opens at `call_opens_at`."""
    return cycle_label(round_of(call_opens_at.year))


def cycle_problem(label: str) -> str | None:
    """Why `label` names no cycle, or None when it does."""
    if not _LABEL.match(label):
        return N_("must be written as two years, e.g. 2020-2021")
    first, second = (int(year) for year in label.split("-"))
    if second != first + 1:
        return N_("must name two consecutive years, e.g. 2024-2025")
    if not FIRST_ROUND <= first <= LAST_ROUND or round_of(first) != first:
        return N_(
            "must be a round of regional reviews: 2020-2021, 2024-2025 and every four years on"
        )
    return None


def imrf_year(label: str) -> int:
    """The year of the International Migration Review Forum the cycle feeds (2020-2021 → 2022)."""
    return int(label.split("-")[1]) + 1
