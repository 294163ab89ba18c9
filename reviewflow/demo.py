"""`reviewflow demo`: a regional review modelled on ECE's of 2020 (or, with `--cycle`, ECE's
and ESCAP's of the 2020-2021 cycle side by side), run in a few minutes against a running
reviewflow, printing each step as it happens.

The accounts are made (or found again, with new tokens) the way the operator makes them at
the command line; everything else goes through the HTTP API with each person's token, as an
integration would: the secretariat creates the review and decides on the report, focal
points send their reports, stakeholders their inputs and consultation answers. The review's
deadlines are its scenario's (`demo_scenarios`), compressed so that a day lasts a few
seconds; the review's own timers move it from phase to phase, and the demo waits for each
phase with a deadline.
"""

from __future__ import annotations

import asyncio
import io
import secrets
import sys
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import aiohttp
import asyncpg

from config.settings import Settings
from domain.access import Actor
from reports.evidence import verify_pack
from reviewflow.demo_data import (
    DOMAIN,
    MEETING_KINDS,
    Meeting,
    Planned,
    Scenario,
    Timeline,
    meeting_summary,
    stakeholder_input,
)
from reviewflow.demo_rollup import DemoRollup, RollupError
from reviewflow.demo_scenarios import CYCLE, ECE_2020, SCENARIOS
from reviewflow.services import Secret, hand_over
from services.accounts import operator_account
from services.signin import invitation_link

# The demo's days between creating the review and the call's opening.
LEAD_DAYS = 3
# How long after a meeting ends its summary is written, in days.
SUMMARY_AFTER_DAYS = 0.05
# How long the demo waits for the review to reach a phase once its deadline has passed.
PHASE_WAIT_S = 60.0
POLL_S = 0.2


def link_files(prefix: str) -> tuple[str, str]:
    """The files the secretariat's and the focal point's sign-in links go to, when there is
    no terminal to show them on."""
    return f"{prefix}-secretariat-sign-in-link", f"{prefix}-focal-point-sign-in-link"


SECRETARIAT_LINK_FILE, FOCAL_POINT_LINK_FILE = link_files("demo")


class DemoError(RuntimeError):
    """The demo could not go on: what was refused or did not happen in time."""


PHASE_STEPS = {
    "call_opens": "call_for_inputs",
    "consultation_opens": "consultation",
    "report_compiled": "approval",
}


def schedule(scenario: Scenario) -> list[Planned]:
    """Every step of `scenario`, with the review's changes of phase, in the order they happen."""
    deadlines = scenario.timeline
    steps = [
        Planned(0, "call_opens"),
        Planned(deadlines.inputs_due, "consultation_opens"),
        Planned(deadlines.consultation_due, "report_compiled"),
        *scenario.steps,
        # Each meeting's summary, written as it ends.
        *(
            Planned(scenario.meeting_hours(meeting)[1] + SUMMARY_AFTER_DAYS, "summary", str(i))
            for i, meeting in enumerate(scenario.meetings)
        ),
    ]
    # At the same day, a phase's change comes before what is done in the new phase.
    return sorted(steps, key=lambda step: (step.day, step.action not in PHASE_STEPS))


@dataclass(frozen=True)
class Calendar:
    """The review's days in real time: day 0 is the call's opening, each day `day_s` long."""

    opens: datetime
    day_s: float

    @classmethod
    def lasting(cls, minutes: float, now: datetime, days: float) -> Calendar:
        """A calendar on which a story of `days` takes about `minutes` from `now`: the longer
        the story, the shorter its days."""
        day_s = minutes * 60 / (LEAD_DAYS + days)
        return cls(now + timedelta(seconds=LEAD_DAYS * day_s), day_s)

    def at(self, day: float) -> datetime:
        return self.opens + timedelta(seconds=day * self.day_s)

    def timeline(self, deadlines: Timeline) -> dict[str, str]:
        days = {
            "call_opens_at": 0,
            "inputs_due_at": deadlines.inputs_due,
            "consultation_due_at": deadlines.consultation_due,
            "report_due_at": deadlines.report_due,
        }
        return {name: self.at(day).isoformat() for name, day in days.items()}


@dataclass(frozen=True)
class Account:
    actor: Actor
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Outcome:
    """What the demo did: the review, the sign-in links it handed over, what was sent."""

    region: str
    review_id: str = ""
    links: dict[str, str] = field(default_factory=dict)
    reports: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    phase: str = ""
    # Where the published review's evidence pack was saved, once it verified.
    evidence: str = ""
    # The id of each of the scenario's meetings, in the scenario's order.
    meetings: list[str] = field(default_factory=list)


@dataclass
class CycleOutcome:
    """What `--cycle` did: each regional review, and where the cycle's global synthesis is
    public once it is."""

    regions: list[Outcome]
    rollup: str = ""


@dataclass
class Cast:
    secretariat: Account
    focal_points: dict[str, Account]
    stakeholders: dict[str, Account]
    # In the order they approve the report.
    approvers: list[Account]


async def cast(pool: asyncpg.Pool, scenario: Scenario = ECE_2020) -> Cast:
    """The demo's accounts: made the first time, found again (with new tokens) afterwards."""

    async def account(body: dict[str, Any]) -> Account:
        return Account(*await operator_account(pool, body))

    secretariat = await account(
        {
            "name": scenario.secretariat.name,
            "email": scenario.secretariat.email,
            "role": "secretariat",
            "regions": [scenario.region],
        }
    )
    focal_points = {
        state.iso3: await account(
            {
                "name": state.focal_point.name,
                "email": state.focal_point.email,
                "role": "focal_point",
                "country": state.iso3,
                **({"language": state.language} if state.language else {}),
            }
        )
        for state in scenario.states
    }
    stakeholders = {
        s.slug: await account(
            {
                "name": s.person.name,
                "email": s.person.email,
                "role": "stakeholder",
                "organisation": s.organisation,
                "stakeholder_category": s.category,
                "regions": [scenario.region],
            }
        )
        for s in scenario.stakeholders
    }
    approvers = [
        await account(
            {
                "name": approver.person.name,
                "email": approver.person.email,
                "role": approver.role,
                "regions": [scenario.region],
            }
        )
        for approver in scenario.approvers
    ]
    return Cast(secretariat, focal_points, stakeholders, approvers)


class Demo:
    """One run of `scenario` by `people` on `calendar`, told through `say`; sign-in links
    go to files named after `link_prefix` when there is no terminal."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: Settings,
        http: aiohttp.ClientSession,
        scenario: Scenario,
        people: Cast,
        calendar: Calendar,
        say: Callable[[str], None],
        terminal: TextIO,
        link_prefix: str = "demo",
    ) -> None:
        self.pool, self.settings, self.http = pool, settings, http
        self.scenario, self.people, self.calendar = scenario, people, calendar
        self.say, self.terminal, self.link_prefix = say, terminal, link_prefix
        self.outcome = Outcome(scenario.region)
        # One handler per kind of step: what it does, told in a sentence.
        self.handlers: dict[str, Callable[[Planned], Awaitable[str]]] = {
            "report": self._report,
            "input": self._input,
            "answer": self._answer,
            "extend": self._extend,
            "request_changes": self._request_changes,
            "approve": self._approve,
            "evidence": self._evidence,
            "summary": self._summary,
            **dict.fromkeys(PHASE_STEPS, self._phase),
        }

    async def run(self) -> Outcome:
        scenario = self.scenario
        self.say(
            f"Accounts ready (fictional people, {DOMAIN} addresses): the {scenario.region}"
            f" secretariat's {scenario.secretariat.name}, the focal points of"
            f" {', '.join(state.name for state in scenario.states)}, and"
            f" {len(scenario.stakeholders)} stakeholder organisations."
        )
        await self._create_review()
        await self._schedule_meetings()
        await self._hand_over_links()
        for step in schedule(scenario):
            await self._until(self.calendar.at(step.day))
            told = await self.handlers[step.action](step)
            self.say(f"[day {step.day:>2g}, {self._date(step.day)}] {told}")
        return self.outcome

    # ---- steps --------------------------------------------------------------------------

    async def _create_review(self) -> None:
        scenario, calendar = self.scenario, self.calendar
        review_id = (
            f"{scenario.region.lower()}-demo-{datetime.now(UTC):%Y%m%d-%H%M%S}"
            f"-{secrets.token_hex(2)}"
        )
        body = {
            "id": review_id,
            "region": scenario.region,
            "title": scenario.title,
            "member_states": [state.iso3 for state in scenario.states],
            "timeline": calendar.timeline(scenario.timeline),
            "stakeholders": [str(a.actor.id) for a in self.people.stakeholders.values()],
            "cycle": scenario.cycle,
            "approvers": [
                {"actor_id": str(account.actor.id), "title": approver.title}
                for approver, account in zip(scenario.approvers, self.people.approvers, strict=True)
            ],
        }
        await self._call("POST", "/v1/reviews", self.people.secretariat, body)
        self.outcome.review_id = review_id
        self.say(
            f"The {scenario.region} secretariat ({scenario.secretariat.name}) created the review"
            f" {review_id}: {len(scenario.states)} member States, {len(scenario.stakeholders)}"
            f" stakeholder organisations invited. {scenario.name}'s calendar runs at one day"
            f" every {calendar.day_s:.1f} s; the call opens in {LEAD_DAYS * calendar.day_s:.0f} s."
        )

    async def _schedule_meetings(self) -> None:
        """The secretariat plans the review's meetings on their days; stakeholders register
        for the consultations, and each State's focal point a delegation of two for the
        review meeting and its round tables."""
        scenario, review_id = self.scenario, self.outcome.review_id
        registrations = 0
        for meeting in scenario.meetings:
            starts, ends = scenario.meeting_hours(meeting)
            body = {
                "kind": MEETING_KINDS[meeting.kind],
                "title": meeting.title,
                "mode": "online",
                "link": f"https://meet.example.org/{review_id}/{len(self.outcome.meetings) + 1}",
                "starts_at": self.calendar.at(starts).isoformat(),
                "ends_at": self.calendar.at(ends).isoformat(),
                "audience": "stakeholders" if meeting.kind == "consultation" else "both",
                "cluster": meeting.cluster,
            }
            if meeting.kind == "round_table":
                body["meeting_id"] = self.outcome.meetings[self._review_meeting()]
            path = f"/v1/reviews/{review_id}/sessions"
            session = await self._call("POST", path, self.people.secretariat, body)
            self.outcome.meetings.append(session["id"])
            for account, people in self._attendees(meeting):
                path = f"/v1/sessions/{session['id']}/registrations"
                await self._call("POST", path, account, people)
                registrations += 1
        self.say(
            f"The secretariat plans {len(scenario.meetings)} online meetings on their days"
            f" ({', '.join(m.title for m in scenario.meetings)}), each reminded to those"
            f" registered a day and an hour before: {registrations} registrations so far"
        )

    def _review_meeting(self) -> int:
        return next(i for i, m in enumerate(self.scenario.meetings) if m.kind == "review_meeting")

    def _attendees(self, meeting: Meeting) -> list[tuple[Account, dict[str, Any]]]:
        """Who registers for `meeting`, each with what they send: an organisation's own
        registration for a consultation, a State's delegation for the review meeting and
        each of its round tables."""
        if meeting.kind == "consultation":
            return [(account, {}) for account in self.people.stakeholders.values()]
        return [
            (
                self.people.focal_points[state.iso3],
                {
                    "people": [
                        {"name": state.focal_point.name, "title": "Head of delegation"},
                        {"name": f"Delegate of {state.name}", "title": "Delegate"},
                    ]
                },
            )
            for state in self.scenario.states
        ]

    async def _hand_over_links(self) -> None:
        """Sign-in links for the pages, for whoever watches: the secretariat's and a focal
        point's, each opening the review's page."""
        scenario = self.scenario
        page = f"/reviews/{self.outcome.review_id}"
        watched = scenario.state(scenario.watched_state)
        secretariat_file, focal_point_file = link_files(self.link_prefix)
        for who, account, file_name in (
            (
                f"Sign-in link of the {scenario.region} secretariat ({scenario.secretariat.name})",
                self.people.secretariat,
                secretariat_file,
            ),
            (
                f"Sign-in link of {watched.name}'s focal point ({watched.focal_point.name})",
                self.people.focal_points[watched.iso3],
                focal_point_file,
            ),
        ):
            link = await invitation_link(self.pool, self.settings, account.actor.id, page)
            self.outcome.links[file_name] = link
            hand_over(Secret(who, file_name, link), self.settings.data_dir, self.say, self.terminal)
        self.say(f"The review's page: {self.settings.api_url}{page}")

    async def _request_changes(self, _: Planned) -> str:
        lead = self.scenario.approvers[0]
        answer = await self._decide(
            self.people.approvers[0], "request-changes", self.scenario.change_request
        )
        return (
            f"{lead.person.name} ({lead.title}), first to approve, asks for changes with"
            " editorial text on the overview and the consultation: report version"
            f" {answer['version']} compiled ({answer['status']})"
        )

    async def _approve(self, _: Planned) -> str:
        """Each approver in turn; the last one's approval publishes the report."""
        chain = list(zip(self.scenario.approvers, self.people.approvers, strict=True))
        for position, (approver, account) in enumerate(chain, start=1):
            answer = await self._decide(account, "approve", self.scenario.approval)
            if position < len(chain):
                self.say(
                    f"{approver.person.name} ({approver.title}) approves report version"
                    f" {answer['version']}: approval {position} of {len(chain)}"
                )
        self.outcome.phase = (await self._review())["phase"]
        return (
            f"{approver.person.name} ({approver.title}) approves last: report version"
            f" {answer['version']} is {answer['status']}. The review is {self.outcome.phase}."
        )

    async def _summary(self, step: Planned) -> str:
        """After a meeting: who came (everyone registered, here), and its summary."""
        meeting = self.scenario.meetings[int(step.subject)]
        session = f"/v1/sessions/{self.outcome.meetings[int(step.subject)]}"
        secretariat = self.people.secretariat
        listed = await self._call("GET", f"{session}/registrations", secretariat, expect=200)
        attendance = [{"registration_id": r["id"], "attended": True} for r in listed["registered"]]
        await self._call(
            "POST", f"{session}/attendance", secretariat, {"attendance": attendance}, expect=200
        )
        summary = meeting_summary(
            meeting, len(self.scenario.stakeholders), len(self.scenario.states)
        )
        await self._call("PUT", f"{session}/summary", secretariat, summary, expect=200)
        whose = "rapporteur's" if summary["kind"] == "rapporteur_summary" else "chair's"
        return (
            f"{meeting.title} held: attendance of {len(attendance)} registrations recorded,"
            f" and the {whose} summary written for the synthesis and the report"
        )

    async def _evidence(self, _: Planned) -> str:
        """The published review's evidence pack, saved in the data folder and verified as
        anyone would verify it: offline, from the pack alone."""
        review_id = self.outcome.review_id
        path = f"/v1/reviews/{review_id}/evidence"
        async with self.http.get(path, headers=self.people.secretariat.headers) as response:
            if response.status != 200:
                raise DemoError(f"GET {path} answered {response.status}")
            pack = await response.read()
        problems = verify_pack(pack)
        if problems:
            raise DemoError(f"the evidence pack of {review_id} does not verify: {problems}")
        saved = self.settings.data_dir / f"evidence-{review_id}.zip"
        saved.write_bytes(pack)
        self.outcome.evidence = str(saved)
        with zipfile.ZipFile(io.BytesIO(pack)) as archive:
            files = len(archive.namelist())
        return (
            f"The evidence pack ({files} files, {len(pack):,} bytes) is saved as {saved} and"
            f" verifies offline: reviewflow evidence verify {saved}"
        )

    async def _phase(self, step: Planned) -> str:
        phase = PHASE_STEPS[step.action]
        review = await self._wait_for_phase(phase)
        if phase == "call_for_inputs":
            return "The call for inputs opens: focal points and stakeholders are invited by mail"
        if phase == "consultation":
            missing = [
                self.scenario.state(c).name
                for c in review["member_states"]
                if c not in self.outcome.reports
            ]
            return (
                "Inputs were due: the consultation opens with a task for each invited"
                f" stakeholder. No report yet from: {', '.join(missing)}"
            )
        report = await self._call(
            "GET",
            f"/v1/reviews/{self.outcome.review_id}/report",
            self.people.secretariat,
            expect=200,
        )
        overview = report["overview"]
        return (
            "The consultation closed: the regional report is compiled and awaits approval:"
            f" {overview['reports_received']} of {overview['member_states']} national reports,"
            f" {overview['stakeholder_inputs']} stakeholder inputs, consultation answered at"
            f" {overview['consultation']['response_rate']:.0%}"
        )

    async def _report(self, step: Planned) -> str:
        iso3, extension = step.subject, self.scenario.extension
        state = self.scenario.state(iso3)
        receipt = await self._submit(
            self.people.focal_points[iso3], "national_report", self.scenario.national_report(iso3)
        )
        self.outcome.reports.append(iso3)
        when = " (within its extension)" if extension and iso3 == extension.state else ""
        return (
            f"{state.name}'s focal point sends the national report on 23 objectives{when}:"
            f" {receipt['status']}, version {receipt['version']}"
            + (" (late)" if receipt["late"] else "")
        )

    async def _input(self, step: Planned) -> str:
        stakeholder = self.scenario.stakeholder(step.subject)
        receipt = await self._submit(
            self.people.stakeholders[step.subject],
            "stakeholder_input",
            stakeholder_input(stakeholder),
        )
        self.outcome.inputs.append(step.subject)
        return (
            f"{stakeholder.organisation} ({stakeholder.category.replace('_', ' ')}) sends its"
            f" written input on objectives {', '.join(map(str, stakeholder.objectives))}:"
            f" {receipt['status']}"
        )

    async def _answer(self, step: Planned) -> str:
        stakeholder = self.scenario.stakeholder(step.subject)
        response = stakeholder.answer
        assert response is not None  # only those with an answer have a day to answer on
        account = self.people.stakeholders[step.subject]
        tasks = await self._call(
            "GET", f"/v1/tasks?review={self.outcome.review_id}", account, expect=200
        )
        [task] = tasks["items"]
        answered = await self._call(
            "POST",
            f"/v1/tasks/{task['id']}/complete",
            account,
            {"response": response},
            expect=200,
        )
        self.outcome.answers.append(step.subject)
        endorsement = response["endorsement"].replace("_", " ")
        return (
            f"{stakeholder.organisation} answers its consultation task ({endorsement}):"
            f" {answered['status']}"
        )

    async def _extend(self, step: Planned) -> str:
        extension = self.scenario.extension
        assert extension is not None  # only a scenario with an extension has the step
        until = self.calendar.at(extension.until)
        await self._review_call(
            "extensions",
            {
                "deadline": "inputs_due_at",
                "until": until.isoformat(),
                "reason": extension.reason,
                "country": extension.state,
            },
        )
        return (
            f"{self.scenario.state(extension.state).name} asks for more time: the secretariat"
            f" extends its inputs deadline to day {extension.until:g}"
            f" ({self._date(extension.until)})"
        )

    # ---- the API ------------------------------------------------------------------------

    async def _submit(self, account: Account, kind: str, content: dict[str, Any]) -> Any:
        return await self._call(
            "POST",
            f"/v1/reviews/{self.outcome.review_id}/submissions",
            account,
            {"kind": kind, "content": content},
        )

    async def _decide(self, account: Account, decision: str, body: dict[str, Any]) -> Any:
        path = f"/v1/reviews/{self.outcome.review_id}/report/{decision}"
        return await self._call("POST", path, account, body, expect=200)

    async def _review_call(self, command: str, body: dict[str, Any]) -> Any:
        path = f"/v1/reviews/{self.outcome.review_id}/{command}"
        return await self._call("POST", path, self.people.secretariat, body, expect=200)

    async def _review(self) -> Any:
        path = f"/v1/reviews/{self.outcome.review_id}"
        return await self._call("GET", path, self.people.secretariat, expect=200)

    async def _wait_for_phase(self, phase: str) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PHASE_WAIT_S
        while (review := await self._review())["phase"] != phase:
            if loop.time() > deadline:
                raise DemoError(
                    f"the review did not reach {phase} within {PHASE_WAIT_S:.0f} s of its"
                    f" deadline (it is in {review['phase']}): is the worker running?"
                )
            await asyncio.sleep(POLL_S)
        return review

    async def _call(
        self,
        method: str,
        path: str,
        account: Account,
        body: dict[str, Any] | None = None,
        expect: int = 201,
    ) -> Any:
        async with self.http.request(method, path, json=body, headers=account.headers) as response:
            answer = await response.json(content_type=None)
            if response.status != expect:
                detail = answer.get("detail") if isinstance(answer, dict) else answer
                raise DemoError(f"{method} {path} answered {response.status}: {detail}")
            return answer

    # ---- time ---------------------------------------------------------------------------

    @staticmethod
    async def _until(instant: datetime) -> None:
        """Keep to the calendar: the review's own timers do not wait for the demo."""
        await asyncio.sleep(max(0.0, (instant - datetime.now(UTC)).total_seconds()))

    def _date(self, day: float) -> str:
        return f"{self.scenario.date_of(day):%d %b %Y}"


async def run_demo(
    pool: asyncpg.Pool,
    settings: Settings,
    http: aiohttp.ClientSession,
    minutes: float,
    say: Callable[[str], None],
    terminal: TextIO = sys.stderr,
    scenario: Scenario = ECE_2020,
    link_prefix: str = "demo",
) -> Outcome:
    """`scenario` against the API `http` reaches and its database `pool`, lasting about
    `minutes`; sign-in links go to `terminal` if it is one, else to files in the data folder."""
    people = await cast(pool, scenario)
    calendar = Calendar.lasting(minutes, datetime.now(UTC), scenario.last_day)
    demo = Demo(pool, settings, http, scenario, people, calendar, say, terminal, link_prefix)
    return await demo.run()


async def run_cycle(
    pool: asyncpg.Pool,
    settings: Settings,
    http: aiohttp.ClientSession,
    minutes: float,
    say: Callable[[str], None],
    terminal: TextIO = sys.stderr,
) -> CycleOutcome:
    """Every scenario of the cycle at once, each lasting about `minutes` (so the longer ones
    run on shorter days), each line told with its region and each region's sign-in links in
    files of its own; then the cycle's global synthesis of their published reports."""

    def run(scenario: Scenario) -> Awaitable[Outcome]:
        def tell(line: str) -> None:
            say(f"{scenario.region:<5} | {line}")

        prefix = f"demo-{scenario.region.lower()}"
        return run_demo(pool, settings, http, minutes, tell, terminal, scenario, prefix)

    rollup = await DemoRollup.start(pool, http, say)
    cycle = CycleOutcome(list(await asyncio.gather(*map(run, SCENARIOS.values()))))
    if all(outcome.phase == "published" for outcome in cycle.regions):
        cycle.rollup = await rollup.publish({o.review_id for o in cycle.regions}, settings.api_url)
    return cycle


def public_url(settings: Settings, outcome: Outcome) -> str:
    """Where anyone reads the review's report once it is published."""
    return f"{settings.api_url}/reports/{outcome.review_id}"


async def api_is_up(http: aiohttp.ClientSession) -> bool:
    """Whether the API answers and its database and Temporal are reachable."""
    try:
        async with http.get("/readyz") as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def run_demo_command(
    settings: Settings,
    database_url: Callable[[Settings], str],
    minutes: float,
    say: Callable[[str], None],
    cycle: bool = False,
) -> int:
    """`reviewflow demo`: check that reviewflow runs, then run the demo (or, with `cycle`,
    the cycle's regional reviews side by side) against it."""
    from db.pool import create_pool

    async with aiohttp.ClientSession(base_url=settings.api_url) as http:
        if not await api_is_up(http):
            say(
                f"reviewflow does not answer at {settings.api_url} (GET /readyz). Start it in"
                " another terminal with `make run`, wait for 'Press Ctrl-C to stop.', then run"
                " `reviewflow demo` again."
            )
            return 1
        pool = await create_pool(database_url(settings), min_size=1, max_size=2)
        try:
            if cycle:
                return summarise(settings, await run_cycle(pool, settings, http, minutes, say), say)
            outcome = await run_demo(pool, settings, http, minutes, say)
        except (DemoError, RollupError) as error:
            say(f"The demo stopped: {error}")
            return 1
        finally:
            await pool.close()
    say(f"Done: {settings.api_url}/reviews/{outcome.review_id} shows the published report.")
    return 0


def summarise(settings: Settings, cycle: CycleOutcome, say: Callable[[str], None]) -> int:
    """The cycle's end: each region's review, where its report is public and its evidence
    pack, and the global synthesis; 0 when every one is published."""
    unpublished = [o.region for o in cycle.regions if o.phase != "published"]
    for outcome in cycle.regions:
        say(
            f"{outcome.region}: the review {outcome.review_id} is {outcome.phase}; its report:"
            f" {public_url(settings, outcome)}"
            + (f"; its evidence pack: {outcome.evidence}" if outcome.evidence else "")
        )
    if unpublished:
        say(f"Not published: {', '.join(unpublished)}.")
        return 1
    say(
        f"Done: the {len(cycle.regions)} regional reviews of the {CYCLE} cycle are published,"
        f" and their global synthesis for the IMRF: {cycle.rollup}"
    )
    return 0
