"""Instants as pages write them."""

from __future__ import annotations

from datetime import UTC, datetime

from web.format import deadline, local_time

ECE_INPUTS_DUE = datetime(2020, 10, 26, 23, 59, tzinfo=UTC)


def test_a_deadline_is_in_the_persons_zone_with_utc_beside() -> None:
    assert deadline(ECE_INPUTS_DUE, "Europe/Zurich") == (
        "27 October 2020, 00:59 CET (26 October 2020, 23:59 UTC)"
    )


def test_a_person_in_utc_reads_utc_once() -> None:
    assert deadline(ECE_INPUTS_DUE, "UTC") == "26 October 2020, 23:59 UTC"


def test_an_unknown_zone_reads_utc() -> None:
    assert local_time(ECE_INPUTS_DUE, "Mars/Olympus_Mons") == "26 October 2020, 23:59 UTC"
    assert local_time(ECE_INPUTS_DUE, "../../etc/passwd") == "26 October 2020, 23:59 UTC"


def test_a_title_that_shows_nothing_is_named_by_its_fallback() -> None:
    """A link named by zero-width spaces or direction marks alone would have no name."""
    from web.render import shown_or_else

    assert shown_or_else("\u200b\u202e\u2066", "ece-2020") == "ece-2020"
    assert shown_or_else(" \t", "ece-2020") == "ece-2020"
    assert shown_or_else("Examen régional", "ece-2020") == "Examen régional"
    assert shown_or_else("الاستعراض", "ece-2020") == "الاستعراض"
    assert shown_or_else("·", "ece-2020") == "·"
