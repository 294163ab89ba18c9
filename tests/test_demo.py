"""`reviewflow demo`: its documents, its compressed calendar, and a whole run against the
real stack."""

from __future__ import annotations

import dataclasses
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from config.settings import Settings
from reviewflow import demo_data as data
from reviewflow.cli import main
from reviewflow.demo import (
    FOCAL_POINT_LINK_FILE,
    PHASE_STEPS,
    SECRETARIAT_LINK_FILE,
    Calendar,
    cast,
    run_demo,
    schedule,
)
from schemas import validate_document


@pytest.mark.parametrize("state", data.STATES, ids=lambda s: s.iso3)
def test_every_national_report_is_valid(state: data.State) -> None:
    report = data.national_report(state)
    assert validate_document("national_report", report) == []
    assert [o["number"] for o in report["objectives"]] == list(range(1, 24))


@pytest.mark.parametrize("stakeholder", data.STAKEHOLDERS, ids=lambda s: s.slug)
def test_every_input_and_answer_is_valid(stakeholder: data.Stakeholder) -> None:
    assert validate_document("stakeholder_input", data.stakeholder_input(stakeholder)) == []
    if stakeholder.answer is not None:
        assert validate_document("consultation_response", stakeholder.answer) == []


def test_the_compressed_timeline_is_in_order() -> None:
    now = datetime.now(UTC)
    calendar = Calendar.lasting(4, now)
    deadlines = [datetime.fromisoformat(v) for v in calendar.timeline().values()]
    assert now < deadlines[0] and deadlines == sorted(deadlines) and len(set(deadlines)) == 4
    # The whole story, to the approval, takes the minutes asked for.
    assert (calendar.at(data.APPROVAL_DAY) - now).total_seconds() == pytest.approx(240)

    steps = schedule()
    assert [s.day for s in steps] == sorted(s.day for s in steps)
    days = {(s.action, s.subject): s.day for s in steps}
    inputs_due, consultation_due = data.INPUTS_DUE_DAY, data.CONSULTATION_DUE_DAY
    assert days["call_opens", ""] == 0
    for iso3, day in data.REPORT_DAYS.items():
        due = data.EXTENDED_TO_DAY if iso3 == data.EXTENDED_STATE else inputs_due
        assert 0 < day < due, iso3
    assert days["extend", data.EXTENDED_STATE] < inputs_due < data.EXTENDED_TO_DAY
    assert days["extend", data.EXTENDED_STATE] < data.EXTENDED_TO_DAY < consultation_due
    assert all(0 < day < inputs_due for day in data.INPUT_DAYS.values())
    assert all(inputs_due < day < consultation_due for day in data.ANSWER_DAYS.values())
    assert consultation_due < days["request_changes", ""] < days["approve", ""]
    # Some States report early, one on an extension, one never.
    assert set(data.REPORT_DAYS) < {s.iso3 for s in data.STATES}
    assert set(data.INPUT_DAYS) == {s.slug for s in data.STAKEHOLDERS}
    assert set(data.ANSWER_DAYS) == {s.slug for s in data.STAKEHOLDERS if s.answer}
    assert [s.action for s in steps if s.action in PHASE_STEPS] == list(PHASE_STEPS)


@pytest.mark.slow
@pytest.mark.usefixtures("worker")
async def test_the_demo_runs_to_a_published_report(
    api: Any, pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    base = str(api.make_url("")).rstrip("/")
    # Links lead to the test's server; the links are handed over in files (no terminal here).
    local = dataclasses.replace(settings, public_url=base, data_dir=tmp_path)
    said: list[str] = []
    async with aiohttp.ClientSession(base_url=base) as http:
        outcome = await run_demo(pool, local, http, minutes=1.2, say=said.append)

        assert outcome.phase == "published"
        assert outcome.reports == list(data.REPORT_DAYS)
        assert outcome.answers == list(data.ANSWER_DAYS)
        people = await cast(pool)  # found again with new tokens, which work
        review = f"/v1/reviews/{outcome.review_id}"
        listed = await (await http.get(f"{review}/submissions", headers=_bearer(people))).json()
        subjects = {(s["kind"], s["subject"]) for s in listed["items"]}
        assert {s for k, s in subjects if k == "national_report"} == set(data.REPORT_DAYS)
        assert len([k for k, _ in subjects if k == "stakeholder_input"]) == len(data.STAKEHOLDERS)
        report = await (await http.get(f"{review}/report", headers=_bearer(people))).json()
        assert report["version"] == 2 and report["gaps"]["states_without_report"] == [
            {"iso3": "KAZ", "name": "Kazakhstan"}
        ]

        for file_name in (SECRETARIAT_LINK_FILE, FOCAL_POINT_LINK_FILE):
            link = (tmp_path / file_name).read_text().strip()
            assert link == outcome.links[file_name] and link.startswith(f"{base}/sign-in/")
            page = await http.get(link.removeprefix(base))
            assert page.status == 200 and "Continue" in await page.text()
    assert any("5 of 6 national reports, 6 stakeholder inputs" in line for line in said)
    assert any("approves report version 2" in line for line in said)


def test_without_a_running_reviewflow_it_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("REVIEWFLOW_PORT", str(port))
    monkeypatch.setenv("REVIEWFLOW_DATA_DIR", str(tmp_path))
    assert main(["demo", "--minutes", "1"]) == 1
    said = capsys.readouterr().out
    assert f"does not answer at http://127.0.0.1:{port}" in said and "`make run`" in said
    assert not (tmp_path / "postgres").exists()  # nothing started in its place


def _bearer(people: Any) -> dict[str, str]:
    return dict(people.secretariat.headers)
