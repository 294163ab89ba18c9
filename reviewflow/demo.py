"""`reviewflow demo`: a regional review modelled on ECE's of 2020, run in a few minutes
against a running reviewflow, printing each step as it happens.

The accounts are made (or found again, with new tokens) the way the operator makes them at
the command line; everything else goes through the HTTP API with each person's token, as an
integration would: the secretariat creates the review and decides on the report, focal
points send their reports, stakeholders their inputs and consultation answers. The review's
deadlines are ECE 2020's, compressed so that a day lasts a few seconds; the review's own
timers move it from phase to phase, and the demo waits for each phase with a deadline.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import aiohttp
import asyncpg

from config.settings import Settings
from domain.access import Actor
from reviewflow import demo_data as data
from reviewflow.services import Secret, hand_over
from services.accounts import operator_account
from services.signin import invitation_link

# The demo's days between creating the review and the call's opening.
LEAD_DAYS = 3
# The first day of ECE 2020's call for inputs, to date each step as it was then.
CALL_OPENED_2020 = datetime(2020, 9, 15, tzinfo=UTC)
# How long the demo waits for the review to reach a phase once its deadline has passed.
PHASE_WAIT_S = 60.0
POLL_S = 0.2
SECRETARIAT_LINK_FILE = "demo-secretariat-sign-in-link"
FOCAL_POINT_LINK_FILE = "demo-focal-point-sign-in-link"
# The focal point whose sign-in link is handed over: one who sends a report.
WATCHED_STATE = "DEU"


class DemoError(RuntimeError):
    """The demo could not go on: what was refused or did not happen in time."""


@dataclass(frozen=True)
class Planned:
    """A step of the story: on `day` (from the call's opening), `action` by or about
    `subject` (a State's code, a stakeholder's slug, or nothing)."""

    day: float
    action: str
    subject: str = ""


def schedule() -> list[Planned]:
    """Every step of the demo, in the order they happen."""
    steps = [
        Planned(0, "call_opens"),
        Planned(data.INPUTS_DUE_DAY, "consultation_opens"),
        Planned(data.CONSULTATION_DUE_DAY, "report_compiled"),
        Planned(data.EXTENSION_DAY, "extend", data.EXTENDED_STATE),
        Planned(data.CHANGES_DAY, "request_changes"),
        Planned(data.APPROVAL_DAY, "approve"),
    ]
    steps += [Planned(day, "report", iso3) for iso3, day in data.REPORT_DAYS.items()]
    steps += [Planned(day, "input", slug) for slug, day in data.INPUT_DAYS.items()]
    steps += [Planned(day, "answer", slug) for slug, day in data.ANSWER_DAYS.items()]
    # At the same day, a phase's change comes before what is done in the new phase.
    return sorted(steps, key=lambda step: (step.day, step.action not in PHASE_STEPS))


PHASE_STEPS = {
    "call_opens": "call_for_inputs",
    "consultation_opens": "consultation",
    "report_compiled": "approval",
}


@dataclass(frozen=True)
class Calendar:
    """The review's days in real time: day 0 is the call's opening, each day `day_s` long."""

    opens: datetime
    day_s: float

    @classmethod
    def lasting(cls, minutes: float, now: datetime) -> Calendar:
        """A calendar on which the whole story takes about `minutes` from `now`."""
        day_s = minutes * 60 / (LEAD_DAYS + data.APPROVAL_DAY)
        return cls(now + timedelta(seconds=LEAD_DAYS * day_s), day_s)

    def at(self, day: float) -> datetime:
        return self.opens + timedelta(seconds=day * self.day_s)

    def timeline(self) -> dict[str, str]:
        days = {
            "call_opens_at": 0,
            "inputs_due_at": data.INPUTS_DUE_DAY,
            "consultation_due_at": data.CONSULTATION_DUE_DAY,
            "report_due_at": data.REPORT_DUE_DAY,
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

    review_id: str = ""
    links: dict[str, str] = field(default_factory=dict)
    reports: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    phase: str = ""


@dataclass
class Cast:
    secretariat: Account
    focal_points: dict[str, Account]
    stakeholders: dict[str, Account]


async def cast(pool: asyncpg.Pool) -> Cast:
    """The demo's accounts: made the first time, found again (with new tokens) afterwards."""

    async def account(body: dict[str, Any]) -> Account:
        return Account(*await operator_account(pool, body))

    secretariat = await account(
        {
            "name": data.SECRETARIAT.name,
            "email": data.SECRETARIAT.email,
            "role": "secretariat",
            "regions": ["ECE"],
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
        for state in data.STATES
    }
    stakeholders = {
        s.slug: await account(
            {
                "name": s.person.name,
                "email": s.person.email,
                "role": "stakeholder",
                "organisation": s.organisation,
                "stakeholder_category": s.category,
                "regions": ["ECE"],
            }
        )
        for s in data.STAKEHOLDERS
    }
    return Cast(secretariat, focal_points, stakeholders)


STATES = {state.iso3: state for state in data.STATES}
STAKEHOLDERS = {s.slug: s for s in data.STAKEHOLDERS}


class Demo:
    """One run of the story by `people` on `calendar`, told through `say`."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: Settings,
        http: aiohttp.ClientSession,
        people: Cast,
        calendar: Calendar,
        say: Callable[[str], None],
        terminal: TextIO,
    ) -> None:
        self.pool, self.settings, self.http = pool, settings, http
        self.people, self.calendar = people, calendar
        self.say, self.terminal = say, terminal
        self.outcome = Outcome()

    async def run(self) -> Outcome:
        self.say(
            f"Accounts ready (fictional people, {data.DOMAIN} addresses): the ECE secretariat's"
            f" {data.SECRETARIAT.name}, the focal points of"
            f" {', '.join(state.name for state in data.STATES)}, and"
            f" {len(data.STAKEHOLDERS)} stakeholder organisations."
        )
        await self._create_review()
        await self._hand_over_links()
        for step in schedule():
            await self._until(self.calendar.at(step.day))
            self.say(f"[day {step.day:>2g}, {self._date(step.day)}] {await self._do(step)}")
        return self.outcome

    # ---- steps --------------------------------------------------------------------------

    async def _create_review(self) -> None:
        calendar = self.calendar
        review_id = f"ece-demo-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
        body = {
            "id": review_id,
            "region": "ECE",
            "title": data.TITLE,
            "member_states": [state.iso3 for state in data.STATES],
            "timeline": calendar.timeline(),
            "stakeholders": [str(a.actor.id) for a in self.people.stakeholders.values()],
        }
        await self._call("POST", "/v1/reviews", self.people.secretariat, body)
        self.outcome.review_id = review_id
        self.say(
            f"The ECE secretariat ({data.SECRETARIAT.name}) created the review {review_id}:"
            f" {len(data.STATES)} member States, {len(data.STAKEHOLDERS)} stakeholder"
            f" organisations invited. ECE 2020's calendar runs at one day every"
            f" {calendar.day_s:.1f} s; the call opens in {LEAD_DAYS * calendar.day_s:.0f} s."
        )

    async def _hand_over_links(self) -> None:
        """Sign-in links for the pages, for whoever watches: the secretariat's and a focal
        point's, each opening the review's page."""
        page = f"/reviews/{self.outcome.review_id}"
        watched = STATES[WATCHED_STATE]
        for who, account, file_name in (
            (
                f"Sign-in link of the secretariat ({data.SECRETARIAT.name})",
                self.people.secretariat,
                SECRETARIAT_LINK_FILE,
            ),
            (
                f"Sign-in link of {watched.name}'s focal point ({watched.focal_point.name})",
                self.people.focal_points[WATCHED_STATE],
                FOCAL_POINT_LINK_FILE,
            ),
        ):
            link = await invitation_link(self.pool, self.settings, account.actor.id, page)
            self.outcome.links[file_name] = link
            hand_over(Secret(who, file_name, link), self.settings.data_dir, self.say, self.terminal)
        self.say(f"The review's page: {self.settings.api_url}{page}")

    async def _do(self, step: Planned) -> str:
        """Take `step`; what happened, in a sentence."""
        actions: dict[str, Callable[[str], Awaitable[str]]] = {
            "report": self._report,
            "input": self._input,
            "answer": self._answer,
            "extend": self._extend,
            "request_changes": self._request_changes,
            "approve": self._approve,
        }
        if step.action in PHASE_STEPS:
            return await self._phase(step.action)
        return await actions[step.action](step.subject)

    async def _request_changes(self, _: str) -> str:
        answer = await self._review_call("report/request-changes", data.CHANGE_REQUEST)
        return (
            "The secretariat asks for changes with editorial text on the overview and the"
            f" consultation: report version {answer['version']} compiled ({answer['status']})"
        )

    async def _approve(self, _: str) -> str:
        answer = await self._review_call("report/approve", data.APPROVAL)
        self.outcome.phase = (await self._review())["phase"]
        return (
            f"The secretariat approves report version {answer['version']}: {answer['status']}."
            f" The review is {self.outcome.phase}."
        )

    async def _phase(self, action: str) -> str:
        phase = PHASE_STEPS[action]
        review = await self._wait_for_phase(phase)
        if phase == "call_for_inputs":
            return "The call for inputs opens: focal points and stakeholders are invited by mail"
        if phase == "consultation":
            missing = [
                STATES[c].name for c in review["member_states"] if c not in self.outcome.reports
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

    async def _report(self, iso3: str) -> str:
        state = STATES[iso3]
        receipt = await self._submit(
            self.people.focal_points[iso3], "national_report", data.national_report(state)
        )
        self.outcome.reports.append(iso3)
        when = " (within its extension)" if iso3 == data.EXTENDED_STATE else ""
        return (
            f"{state.name}'s focal point sends the national report on 23 objectives{when}:"
            f" {receipt['status']}, version {receipt['version']}"
            + (" (late)" if receipt["late"] else "")
        )

    async def _input(self, slug: str) -> str:
        stakeholder = STAKEHOLDERS[slug]
        receipt = await self._submit(
            self.people.stakeholders[slug],
            "stakeholder_input",
            data.stakeholder_input(stakeholder),
        )
        self.outcome.inputs.append(slug)
        return (
            f"{stakeholder.organisation} ({stakeholder.category.replace('_', ' ')}) sends its"
            f" written input on objectives {', '.join(map(str, stakeholder.objectives))}:"
            f" {receipt['status']}"
        )

    async def _answer(self, slug: str) -> str:
        stakeholder = STAKEHOLDERS[slug]
        response = stakeholder.answer
        assert response is not None  # only those with an answer have a day to answer on
        account = self.people.stakeholders[slug]
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
        self.outcome.answers.append(slug)
        endorsement = response["endorsement"].replace("_", " ")
        return (
            f"{stakeholder.organisation} answers its consultation task ({endorsement}):"
            f" {answered['status']}"
        )

    async def _extend(self, iso3: str) -> str:
        until = self.calendar.at(data.EXTENDED_TO_DAY)
        await self._review_call(
            "extensions",
            {
                "deadline": "inputs_due_at",
                "until": until.isoformat(),
                "reason": data.EXTENSION_REASON,
                "country": iso3,
            },
        )
        return (
            f"{STATES[iso3].name} asks for more time: the secretariat extends its inputs"
            f" deadline to day {data.EXTENDED_TO_DAY:g} ({self._date(data.EXTENDED_TO_DAY)})"
        )

    # ---- the API ------------------------------------------------------------------------

    async def _submit(self, account: Account, kind: str, content: dict[str, Any]) -> Any:
        return await self._call(
            "POST",
            f"/v1/reviews/{self.outcome.review_id}/submissions",
            account,
            {"kind": kind, "content": content},
        )

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

    @staticmethod
    def _date(day: float) -> str:
        return f"{CALL_OPENED_2020 + timedelta(days=day):%d %b %Y}"


async def run_demo(
    pool: asyncpg.Pool,
    settings: Settings,
    http: aiohttp.ClientSession,
    minutes: float,
    say: Callable[[str], None],
    terminal: TextIO = sys.stderr,
) -> Outcome:
    """The demo against the API `http` reaches and its database `pool`, lasting about
    `minutes`; sign-in links go to `terminal` if it is one, else to files in the data folder."""
    people = await cast(pool)
    calendar = Calendar.lasting(minutes, datetime.now(UTC))
    return await Demo(pool, settings, http, people, calendar, say, terminal).run()


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
) -> int:
    """`reviewflow demo`: check that reviewflow runs, then run the demo against it."""
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
            outcome = await run_demo(pool, settings, http, minutes, say)
        except DemoError as error:
            say(f"The demo stopped: {error}")
            return 1
        finally:
            await pool.close()
    say(f"Done: {settings.api_url}/reviews/{outcome.review_id} shows the published report.")
    return 0
