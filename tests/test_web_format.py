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
