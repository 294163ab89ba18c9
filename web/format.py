"""How pages write instants: in the person's time zone, with UTC beside for deadlines."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name: str) -> ZoneInfo:
    """The named IANA zone; UTC for a name this system does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(instant: datetime, time_zone: str) -> str:
    """`instant` as read in `time_zone`, e.g. "26 October 2020, 23:59 CET"."""
    local = instant.astimezone(zone(time_zone))
    return f"{local.day} {local:%B %Y}, {local:%H:%M} {local.tzname()}"


def deadline(instant: datetime, time_zone: str) -> str:
    """A deadline in the person's time zone with UTC beside, e.g.
    "27 October 2020, 00:59 CET (26 October 2020, 23:59 UTC)"; UTC alone for a person in UTC."""
    in_utc = local_time(instant, "UTC")
    if zone(time_zone).key == "UTC":
        return in_utc
    return f"{local_time(instant, time_zone)} ({in_utc})"
