"""`reviewflow demo`: its scenarios' documents and calendars, their compression, and whole
runs (one review, then the cycle's reviews side by side) against the real stack."""

from __future__ import annotations

import dataclasses
import json
import socket
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from config.settings import Settings
from domain.reference import load_reference
from reports.rollup import quotes_of
from reviewflow import demo_data as data
from reviewflow.cli import main
from reviewflow.demo import (
    FOCAL_POINT_LINK_FILE,
    PHASE_STEPS,
    SECRETARIAT_LINK_FILE,
    Calendar,
    cast,
    run_cycle,
    run_demo,
    schedule,
)
from reviewflow.demo_scenarios import CYCLE, ECE_2020, ESCAP_2021, SCENARIOS
from schemas import validate_document
from tests.cli_run import run_cli

SCENARIO_LIST = list(SCENARIOS.values())
ALL_STATES = [(scenario, s.iso3) for scenario in SCENARIO_LIST for s in scenario.states]
ALL_STAKEHOLDERS = [s for scenario in SCENARIO_LIST for s in scenario.stakeholders]


@pytest.mark.parametrize(("scenario", "iso3"), ALL_STATES, ids=[c for _, c in ALL_STATES])
def test_every_national_report_is_valid(scenario: data.Scenario, iso3: str) -> None:
    report = scenario.national_report(iso3)
    assert validate_document("national_report", report) == []
    assert [o["number"] for o in report["objectives"]] == list(range(1, 24))


@pytest.mark.parametrize("stakeholder", ALL_STAKEHOLDERS, ids=lambda s: s.slug)
def test_every_input_and_answer_is_valid(stakeholder: data.Stakeholder) -> None:
    assert validate_document("stakeholder_input", data.stakeholder_input(stakeholder)) == []
    if stakeholder.answer is not None:
        assert validate_document("consultation_response", stakeholder.answer) == []


def test_the_compressed_timeline_is_in_order() -> None:
    now = datetime.now(UTC)
    calendar = Calendar.lasting(4, now, ECE_2020.last_day)
    deadlines = [datetime.fromisoformat(v) for v in calendar.timeline(ECE_2020.timeline).values()]
    assert now < deadlines[0] and deadlines == sorted(deadlines) and len(set(deadlines)) == 4
    # The whole story, to the approval, takes the minutes asked for.
    assert (calendar.at(ECE_2020.last_day) - now).total_seconds() == pytest.approx(240)
    # A longer story runs on shorter days, in the same minutes.
    escap = Calendar.lasting(4, now, ESCAP_2021.last_day)
    assert escap.day_s < calendar.day_s
    assert (escap.at(ESCAP_2021.last_day) - now).total_seconds() == pytest.approx(240)


@pytest.mark.parametrize("scenario", SCENARIO_LIST, ids=lambda s: s.region)
def test_every_step_is_within_its_phase(scenario: data.Scenario) -> None:
    steps = schedule(scenario)
    assert [s.day for s in steps] == sorted(s.day for s in steps)
    deadlines, extension = scenario.timeline, scenario.extension
    assert 0 < deadlines.inputs_due < deadlines.consultation_due < deadlines.report_due
    assert extension is not None
    for iso3, day in scenario.days("report").items():
        due = extension.until if iso3 == extension.state else deadlines.inputs_due
        assert 0 < day < due, iso3
    assert extension.day < deadlines.inputs_due < extension.until < deadlines.consultation_due
    assert all(0 < day < deadlines.inputs_due for day in scenario.days("input").values())
    answer_days = scenario.days("answer").values()
    assert all(deadlines.inputs_due < day < deadlines.consultation_due for day in answer_days)
    [changes] = scenario.days("request_changes").values()
    [approval] = scenario.days("approve").values()
    assert deadlines.consultation_due < changes < approval < deadlines.report_due
    # Some States report early, one on an extension, one never.
    assert set(scenario.days("report")) < {s.iso3 for s in scenario.states}
    assert set(scenario.days("input")) == {s.slug for s in scenario.stakeholders}
    assert set(scenario.days("answer")) == {s.slug for s in scenario.stakeholders if s.answer}
    assert [s.action for s in steps if s.action in PHASE_STEPS] == list(PHASE_STEPS)
    # Consultations are held while the consultation is open; the review meeting and its
    # round tables before the report is due; the approval comes after them.
    for meeting in scenario.meetings:
        starts, ends = scenario.day_of(meeting.starts), scenario.day_of(meeting.ends)
        assert starts <= ends, meeting.title
        if meeting.kind == "consultation":
            assert deadlines.inputs_due < starts <= deadlines.consultation_due, meeting.title
        else:
            assert deadlines.consultation_due < starts and ends <= approval, meeting.title


@pytest.mark.parametrize("scenario", SCENARIO_LIST, ids=lambda s: s.region)
def test_the_member_states_belong_to_the_region(scenario: data.Scenario) -> None:
    region = load_reference().region(scenario.region)
    assert region is not None
    assert {s.iso3 for s in scenario.states} <= set(region.default_scope)
    assert scenario.cycle == "2020-2021" and len(scenario.approvers) == 3


def test_escap_runs_on_the_dates_of_2020_2021() -> None:
    escap = ESCAP_2021
    assert escap.call_opened == date(2020, 8, 26)  # the briefing
    assert escap.date_of(escap.timeline.inputs_due) == date(2020, 10, 7)  # pre-questionnaire
    consultations = [m.starts for m in escap.meetings if m.kind == "consultation"]
    assert consultations == [date(2020, 10, 28), date(2020, 11, 19), date(2020, 12, 9)]
    assert escap.date_of(escap.timeline.consultation_due) == date(2020, 12, 10)
    [review] = [(m.starts, m.ends) for m in escap.meetings if m.kind == "review_meeting"]
    assert review == (date(2021, 3, 10), date(2021, 3, 12))
    assert review[1] <= escap.date_of(escap.timeline.report_due) <= date(2021, 3, 19)
    # ECE's four round tables, one per cluster, during its review meeting of 12-13 November.
    tables = [m for m in ECE_2020.meetings if m.kind == "round_table"]
    assert [m.cluster for m in tables] == [1, 2, 3, 4]
    assert {m.starts for m in tables} == {date(2020, 11, 12), date(2020, 11, 13)}


@pytest.mark.slow
@pytest.mark.usefixtures("worker")
async def test_the_demo_runs_to_a_published_report(
    api: Any, pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    base, local = _served_by(api, settings, tmp_path)
    said: list[str] = []
    async with aiohttp.ClientSession(base_url=base) as http:
        outcome = await run_demo(pool, local, http, minutes=1.2, say=said.append)

        assert outcome.phase == "published"
        assert outcome.reports == list(ECE_2020.days("report"))
        assert outcome.answers == list(ECE_2020.days("answer"))
        people = await cast(pool)  # found again with new tokens, which work
        review = f"/v1/reviews/{outcome.review_id}"
        listed = await (await http.get(f"{review}/submissions", headers=_bearer(people))).json()
        subjects = {(s["kind"], s["subject"]) for s in listed["items"]}
        assert {s for k, s in subjects if k == "national_report"} == set(ECE_2020.days("report"))
        inputs = [k for k, _ in subjects if k == "stakeholder_input"]
        assert len(inputs) == len(ECE_2020.stakeholders)
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


@pytest.mark.slow
@pytest.mark.usefixtures("worker")
async def test_the_cycle_runs_both_regions_to_their_public_reports(
    api: Any, pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    base, local = _served_by(api, settings, tmp_path)
    said: list[str] = []
    async with aiohttp.ClientSession(base_url=base) as http:
        cycle = await run_cycle(pool, local, http, minutes=1.5, say=said.append)
        outcomes = cycle.regions

        assert [(o.region, o.phase) for o in outcomes] == [
            ("ECE", "published"),
            ("ESCAP", "published"),
        ]
        # The global synthesis is public, holds both regional reports, and each of its
        # quotes names one of them and a submission of one of their States.
        assert cycle.rollup == f"{local.api_url}/reports/global/{CYCLE}"
        published = await http.get(f"/reports/global/{CYCLE}.json")
        assert published.status == 200
        rollup = await published.json(content_type=None)
        ours = {o.review_id for o in outcomes}
        assert {r["review_id"] for r in rollup["reports"]} == ours
        assert rollup["missing"] == ["ECA", "ECLAC", "ESCWA"]
        quotes = quotes_of(rollup)
        assert quotes and all(q["review_id"] in ours and q["submission_id"] for q in quotes)
        for outcome in outcomes:
            # Its evidence pack verifies offline: the command, with no database or Temporal.
            verified = await run_cli("evidence", "verify", outcome.evidence, env={})
            assert verified.code == 0 and verified.out[0].startswith("OK"), verified
            # It holds the summary of every meeting of the review, as written.
            with zipfile.ZipFile(outcome.evidence) as pack:
                meetings = json.loads(pack.read("consultation/meetings.json"))
            scenario = SCENARIOS[outcome.region]
            assert sorted(m["title"] for m in meetings) == sorted(
                m.title for m in scenario.meetings
            )
            assert all(m["summary"]["text"].startswith(m["title"]) for m in meetings)
            scenario = SCENARIOS[outcome.region]
            assert outcome.reports == list(scenario.days("report"))
            public = await http.get(f"/reports/{outcome.review_id}.json")  # no one signed in
            assert public.status == 200
            report = await public.json(content_type=None)
            assert report["overview"]["reports_received"] == len(scenario.days("report"))
            assert (tmp_path / f"demo-{outcome.region.lower()}-secretariat-sign-in-link").exists()
    for region in SCENARIOS:
        lines = [line for line in said if line.startswith(f"{region:<5} | ")]
        assert any("The review is published" in line for line in lines), region


@pytest.mark.parametrize("cycle", [[], ["--cycle"]], ids=["one review", "the cycle"])
def test_without_a_running_reviewflow_it_says_what_to_do(
    cycle: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("REVIEWFLOW_PORT", str(port))
    monkeypatch.setenv("REVIEWFLOW_DATA_DIR", str(tmp_path))
    assert main(["demo", "--minutes", "1", *cycle]) == 1
    said = capsys.readouterr().out
    assert f"does not answer at http://127.0.0.1:{port}" in said and "`make run`" in said
    assert not (tmp_path / "postgres").exists()  # nothing started in its place


def _served_by(api: Any, settings: Settings, tmp_path: Path) -> tuple[str, Settings]:
    """The test server's address, and settings whose links lead to it and whose sign-in links
    are handed over in files under `tmp_path` (there is no terminal here)."""
    base = str(api.make_url("")).rstrip("/")
    return base, dataclasses.replace(settings, public_url=base, data_dir=tmp_path)


def _bearer(people: Any) -> dict[str, str]:
    return dict(people.secretariat.headers)
