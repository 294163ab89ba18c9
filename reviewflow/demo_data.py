"""What `reviewflow demo` is made of: the kinds of people and documents of a regional
review, the builders of the member States' national reports and the stakeholders' written
inputs, and the `Scenario` that tells one regional review day by day (the scenarios
themselves are in `demo_scenarios`). Every organisation is of a real kind; every person is
fictional (each surname is the word "example" in the person's language).

A national report is built from one template per GCM objective (what a State typically did,
met and learnt) with the State's own words where it stands out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

# Every address is under example.org (RFC 2606): no mail of the demo reaches anyone.
DOMAIN = "example.org"


@dataclass(frozen=True)
class Person:
    name: str
    email: str


def person(name: str, slug: str) -> Person:
    return Person(name, f"demo-{slug}@{DOMAIN}")


@dataclass(frozen=True)
class State:
    """A member State in the demo and its focal point; `highlights` replaces the template's
    measure for the objectives it names."""

    iso3: str
    name: str
    focal_point: Person
    ministry: str
    phone: str
    highlights: dict[int, str] = field(default_factory=dict)
    # The focal point's own language, for their pages and mail; None follows their browser.
    language: str | None = None


# Per GCM objective: a measure, a challenge, a good practice, and the SDG targets it serves.
OBJECTIVES: dict[int, tuple[str, str, str, tuple[str, ...]]] = {
    1: (
        "Country of birth and citizenship were added to the labour force survey.",
        "Ministries define 'migrant' in different ways in their records.",
        "An inter-agency group agreed on common definitions.",
        ("17.18",),
    ),
    2: (
        "Development cooperation supports climate adaptation in regions of origin.",
        "The effects of disasters on displacement are hard to measure.",
        "Joint programmes with countries of origin on rural livelihoods.",
        ("1.5", "13.1"),
    ),
    3: (
        "A multilingual government portal informs prospective migrants of their rights.",
        "Smugglers spread misinformation on social media.",
        "Information sessions held together with diaspora organisations.",
        (),
    ),
    4: (
        "Consulates issue emergency travel documents within 48 hours.",
        "Stateless persons without documents remain hard to reach.",
        "A statelessness determination procedure set by law.",
        ("16.9",),
    ),
    5: (
        "New labour migration pathways for shortage occupations.",
        "Recognition procedures take many months.",
        "Language courses in partner countries before departure.",
        ("10.7",),
    ),
    6: (
        "Recruitment fees charged to workers are prohibited by the labour code.",
        "Subcontracting chains in agriculture escape labour inspection.",
        "A fair recruitment label agreed with employers and trade unions.",
        ("8.7", "8.8"),
    ),
    7: (
        "A firewall separates health care from immigration enforcement.",
        "Migrants in an irregular situation fear contact with authorities.",
        "Mobile legal clinics run by civil society with public funding.",
        ("10.7",),
    ),
    8: (
        "A national contact point for families searching for missing migrants.",
        "Identifying remains needs data exchanged across borders.",
        "Cooperation with the Red Cross family tracing network.",
        (),
    ),
    9: (
        "Smuggling of migrants is an offence, in line with the UN protocol.",
        "Smuggled migrants are sometimes treated as offenders.",
        "Prosecutors trained together with border police.",
        ("16.4",),
    ),
    10: (
        "A national action plan against trafficking in persons.",
        "Few victims of labour trafficking are identified.",
        "A national referral mechanism with shelters run by NGOs.",
        ("5.2", "8.7", "16.2"),
    ),
    11: (
        "Border staff trained on human rights at international borders.",
        "Civil society reports pushbacks at the border.",
        "An independent border monitoring mechanism was piloted.",
        (),
    ),
    12: (
        "Screening for vulnerabilities at first reception.",
        "Interpreters for rare languages are lacking.",
        "Referral guidelines shared by police, social and health services.",
        (),
    ),
    13: (
        "Alternatives to detention (reporting duties, case management) were piloted.",
        "Families with children are still detained at times.",
        "Case management with high rates of compliance.",
        (),
    ),
    14: (
        "A consular hotline for nationals abroad, day and night.",
        "Consular presence is thin in some countries of destination.",
        "Consular services shared with neighbouring States.",
        (),
    ),
    15: (
        "Children go to school whatever their residence status.",
        "Access to health care differs between municipalities.",
        "Municipal service points open to everyone living in the city.",
        ("3.8", "4.1"),
    ),
    16: (
        "Integration courses combine language training and civic orientation.",
        "Waiting lists for courses in large cities.",
        "Mentoring that pairs newcomers with volunteers.",
        ("10.2",),
    ),
    17: (
        "An independent equality body handles complaints of discrimination.",
        "Hate speech against migrants online.",
        "Guidelines for journalists reporting on migration.",
        ("10.3", "16.10"),
    ),
    18: (
        "A law on the recognition of foreign professional qualifications.",
        "The cost of recognition deters applicants.",
        "Skills partnerships with countries of origin.",
        ("4.4",),
    ),
    19: (
        "A diaspora engagement strategy.",
        "Regulatory barriers hold back diaspora investment.",
        "Matching funds for projects led by the diaspora.",
        ("17.3",),
    ),
    20: (
        "A website compares the price of remittance services.",
        "Remittances cost more than 5 per cent in some corridors.",
        "A basic bank account for every resident.",
        ("10.c",),
    ),
    21: (
        "Assisted voluntary return with reintegration support.",
        "Forced returns during the pandemic were hard to organise safely.",
        "Reintegration plans agreed with the returnee before departure.",
        (),
    ),
    22: (
        "Bilateral social security agreements with the main countries of origin.",
        "Seasonal workers rarely reach the minimum contribution periods.",
        "Pension entitlements paid abroad without deductions.",
        ("1.3",),
    ),
    23: (
        "Support to the regional UN Network on Migration.",
        "Funding for GCM implementation is fragmented.",
        "Peer learning with other champion countries.",
        ("17.16",),
    ),
}

STATUSES = ("implemented", "in_progress", "in_progress", "planned", "not_started")


def _objective(state: State, position: int, number: int) -> dict[str, Any]:
    measure, challenge, practice, targets = OBJECTIVES[number]
    objective: dict[str, Any] = {
        "number": number,
        # Each State's statuses differ (the coverage heatmap shows it), yet stay the same
        # from one run to the next.
        "status": STATUSES[(number + 2 * position) % len(STATUSES)],
        "measures": [state.highlights.get(number, measure)],
        "challenges": [challenge],
        "good_practices": [practice],
    }
    if targets:
        objective["sdg_targets"] = list(targets)
    return objective


def national_report(state: State, position: int) -> dict[str, Any]:
    """The voluntary GCM review report of `state`, on all 23 objectives; `position` (the
    State's place in its review) varies the statuses from one State to the next."""
    return {
        "country": state.iso3,
        "reporting_period": {"start": "2018-12-19", "end": "2020-08-31"},
        "preparation": {
            "whole_of_government": True,
            "whole_of_society": position % 2 == 0,
            "methodology": (
                f"The {state.ministry} coordinated an inter-ministerial working group, which"
                " drew on administrative records and the national statistical office; a draft"
                " was discussed with stakeholders in two online consultations."
            ),
            "consulted": [
                {
                    "category": "civil_society",
                    "description": "Migrant and refugee NGOs, two workshops",
                },
                {"category": "local_authorities", "description": "Association of municipalities"},
            ],
        },
        "policy_environment": {
            "overview": (
                f"The {state.ministry} coordinates migration policy with the other ministries"
                " through an inter-ministerial working group set up in 2019."
            ),
        },
        "objectives": [_objective(state, position, n) for n in OBJECTIVES],
        "means_of_implementation": {
            "overview": "Implementation is financed from the regular budgets of the ministries.",
        },
        "guiding_principles": [
            {
                "principle": "human_rights",
                "how_applied": "Access to basic services is separated from immigration enforcement.",
            },
            {
                "principle": "whole_of_society",
                "how_applied": "Migrant organisations commented on the draft of this report.",
            },
        ],
        "covid19_measures": (
            "Residence permits were extended automatically; migrants had access to testing and"
            " treatment whatever their status."
        ),
        "next_steps": "Adopt a national GCM implementation plan and report again in 2024.",
        "contact": {
            "name": state.focal_point.name,
            "email": state.focal_point.email,
            "phone": state.phone,
            "organisation": state.ministry,
            "role": "GCM focal point",
        },
        "consent_to_publish": True,
    }


@dataclass(frozen=True)
class Stakeholder:
    """An organisation, the person who speaks for it, its written input and its answer to
    the consultation (None: it does not answer)."""

    organisation: str
    category: str
    country: str | None
    person: Person
    objectives: tuple[int, ...]
    input: str
    recommendations: tuple[str, ...]
    # Whether the input may be published with the organisation's name (else not at all).
    publish_with_name: bool
    answer: dict[str, Any] | None

    @property
    def slug(self) -> str:
        return self.person.email.split("@")[0].removeprefix("demo-")


def stakeholder_input(stakeholder: Stakeholder) -> dict[str, Any]:
    organisation: dict[str, Any] = {
        "name": stakeholder.organisation,
        "category": stakeholder.category,
    }
    if stakeholder.country:
        organisation["country"] = stakeholder.country
    return {
        "organisation": organisation,
        "objectives": list(stakeholder.objectives),
        "input": stakeholder.input,
        "language": "en",
        "recommendations": list(stakeholder.recommendations),
        "publication": "with_name" if stakeholder.publish_with_name else "do_not_publish",
        "contact": {"name": stakeholder.person.name, "email": stakeholder.person.email},
    }


# ---- a scenario ----------------------------------------------------------------------------

# What someone does on a day of the story; the runner has one handler per kind.
Action = Literal[
    "report", "input", "answer", "extend", "request_changes", "approve", "evidence", "summary"
]
# The review's own moves from phase to phase, which the runner waits for.
PhaseChange = Literal["call_opens", "consultation_opens", "report_compiled"]


@dataclass(frozen=True)
class Planned:
    """A step of the story: on `day` (from the call's opening), `action` by or about
    `subject` (a State's code, a stakeholder's slug, or nothing)."""

    day: float
    action: Action | PhaseChange
    subject: str = ""


@dataclass(frozen=True)
class Timeline:
    """The review's deadlines, in days from the call's opening (day 0)."""

    inputs_due: float
    consultation_due: float
    report_due: float


@dataclass(frozen=True)
class Extension:
    """`state` asks for more time on `day` and is given until `until`."""

    state: str
    day: float
    until: float
    reason: str


@dataclass(frozen=True)
class Meeting:
    """A meeting of the review as it was held: a stakeholder consultation, the
    intergovernmental review meeting, or one of its round tables (on a cluster of objectives)."""

    kind: Literal["consultation", "review_meeting", "round_table"]
    title: str
    starts: date
    ends: date
    cluster: int | None = None


# The kind of session each of the demo's meetings is.
MEETING_KINDS = {
    "consultation": "stakeholder_consultation",
    "review_meeting": "review_meeting",
    "round_table": "round_table",
}


def meeting_summary(meeting: Meeting, organisations: int, states: int) -> dict[str, str]:
    """The rapporteur's summary of a consultation, the chair's of the review meeting and of
    its round tables, as the secretariat writes it after the meeting."""
    if meeting.kind == "consultation":
        return {
            "kind": "rapporteur_summary",
            "text": (
                f"{meeting.title}: {organisations} organisations took part. They asked for"
                " regular pathways for workers at every skill level, firewalls between"
                " public services and immigration enforcement, and the participation of"
                " migrants' own organisations in the follow-up of the review."
            ),
        }
    topic = (
        f"the objectives of cluster {meeting.cluster}"
        if meeting.cluster
        else "the implementation of the Global Compact in the region"
    )
    return {
        "kind": "chair_summary",
        "text": (
            f"{meeting.title}: delegations of {states} member States and {organisations}"
            f" stakeholder organisations reviewed {topic}. The chair noted progress on"
            " data and on fair recruitment, and gaps in alternatives to detention and in"
            " the portability of social security."
        ),
    }


@dataclass(frozen=True)
class Approver:
    """One who approves the regional report, in the order they approve: the commission's
    lead is of its secretariat, the regional UN Network's co-chairs have approver accounts."""

    person: Person
    title: str
    role: Literal["secretariat", "approver"] = "approver"


@dataclass(frozen=True)
class Scenario:
    """One regional review told as data: who takes part, its deadlines and what each does
    on which day, dated from the day its call for inputs opened in the real review."""

    region: str
    name: str
    cycle: str
    title: str
    call_opened: date
    secretariat: Person
    states: tuple[State, ...]
    stakeholders: tuple[Stakeholder, ...]
    timeline: Timeline
    steps: tuple[Planned, ...]
    extension: Extension | None
    change_request: dict[str, Any]
    approval: dict[str, Any]
    meetings: tuple[Meeting, ...]
    approvers: tuple[Approver, ...]
    # The State whose focal point's sign-in link is handed over: one who sends a report.
    watched_state: str

    def state(self, iso3: str) -> State:
        return next(state for state in self.states if state.iso3 == iso3)

    def stakeholder(self, slug: str) -> Stakeholder:
        return next(s for s in self.stakeholders if s.slug == slug)

    def national_report(self, iso3: str) -> dict[str, Any]:
        state = self.state(iso3)
        return national_report(state, self.states.index(state))

    def days(self, action: Action) -> dict[str, float]:
        """The day of each step of kind `action`, by its subject, in the order they happen."""
        return {step.subject: step.day for step in self.steps if step.action == action}

    @property
    def last_day(self) -> float:
        return max(step.day for step in self.steps)

    def date_of(self, day: float) -> date:
        return self.call_opened + timedelta(days=day)

    def day_of(self, when: date) -> int:
        return (when - self.call_opened).days

    def meeting_hours(self, meeting: Meeting) -> tuple[float, float]:
        """The days (from the call's opening) a meeting starts and ends on: 09:00 of its
        first day to 17:00 of its last."""
        return self.day_of(meeting.starts) + 9 / 24, self.day_of(meeting.ends) + 17 / 24


def plan(
    reports: dict[str, float],
    inputs: dict[str, float],
    answers: dict[str, float],
    extension: Extension | None,
    changes_day: float,
    approval_day: float,
) -> tuple[Planned, ...]:
    """A scenario's steps: each State's report and each stakeholder's input and answer on
    its day, the extension, then the approvers' request for changes and their approvals, and the
    published review's evidence pack."""
    steps = [Planned(day, "report", iso3) for iso3, day in reports.items()]
    steps += [Planned(day, "input", slug) for slug, day in inputs.items()]
    steps += [Planned(day, "answer", slug) for slug, day in answers.items()]
    if extension is not None:
        steps.append(Planned(extension.day, "extend", extension.state))
    steps += [
        Planned(changes_day, "request_changes"),
        Planned(approval_day, "approve"),
        Planned(approval_day, "evidence"),
    ]
    return tuple(sorted(steps, key=lambda step: step.day))
