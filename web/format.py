"""How pages write instants: in the person's time zone and language, with UTC beside for
deadlines (the formats are i18n's, shared with mail and reports)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import i18n


def zone(name: str) -> ZoneInfo:
    """The named IANA zone; UTC for a name this system does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(instant: datetime, time_zone: str) -> str:
    """`instant` as read in `time_zone`, e.g. "26 October 2020, 23:59 CET"."""
    return i18n.format_datetime(instant, time_zone)


def deadline(instant: datetime, time_zone: str) -> str:
    """A deadline in the person's time zone with UTC beside, e.g.
    "27 October 2020, 00:59 CET (26 October 2020, 23:59 UTC)"; UTC alone for a person in UTC."""
    return i18n.format_deadline(instant, time_zone)
