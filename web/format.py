"""How pages write instants: in the person's time zone and language, with UTC beside for
deadlines (the formats are i18n's, shared with mail and reports)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.units import format_unit

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


def file_size(size: int) -> str:
    """A file's size as the language writes it: kilobytes below a megabyte, else megabytes to
    one decimal ("340 kB", "2,5 Mo")."""
    locale = i18n.current().locale
    if size < 1_000_000:
        return format_unit(max(1, round(size / 1000)), "digital-kilobyte", "short", locale=locale)
    return format_unit(size / 1_000_000, "digital-megabyte", "short", "#,##0.#", locale=locale)
