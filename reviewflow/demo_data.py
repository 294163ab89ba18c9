"""What `reviewflow demo` says and sends: the people, the review modelled on ECE's 2020
regional review, the member States' national reports, the stakeholders' written inputs and
their answers to the consultation. Every organisation is of a real kind; every person is
fictional (each surname is the word "example" in the person's language).

A national report is built from one template per GCM objective (what a State of the region
typically did, met and learnt) with the State's own words where it stands out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Every address is under example.org (RFC 2606): no mail of the demo reaches anyone.
DOMAIN = "example.org"
TITLE = "Regional review of the GCM in the UNECE region (demo of the 2020 review)"


@dataclass(frozen=True)
class Person:
    name: str
    email: str


SECRETARIAT = Person("Erin Example", f"demo-ece-secretariat@{DOMAIN}")


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


STATES = (
    State(
        "PRT",
        "Portugal",
        Person("Maria Exemplo", f"demo-prt-focal-point@{DOMAIN}"),
        "Ministry of Home Affairs",
        "+351 21 000 0000",
        {
            5: "A national plan for the implementation of the GCM, adopted by the Council of"
            " Ministers, with 97 measures across all 23 objectives.",
            15: "Everyone with a pending residence application was treated as a resident"
            " during the pandemic, with full access to the national health service.",
        },
    ),
    State(
        "DEU",
        "Germany",
        Person("Jonas Beispiel", f"demo-deu-focal-point@{DOMAIN}"),
        "Federal Ministry of the Interior",
        "+49 30 0000 0000",
        {
            5: "The Skilled Immigration Act opened labour migration to people with vocational"
            " qualifications from outside the European Union.",
            18: "A federal recognition portal in eleven languages advises on the recognition of"
            " foreign professional qualifications.",
        },
    ),
    State(
        "CAN",
        "Canada",
        Person("Jean Exemple", f"demo-can-focal-point@{DOMAIN}"),
        "Department of Citizenship and Immigration",
        "+1 613 000 0000",
        {
            16: "Settlement services (language training, employment support, mentoring) are"
            " funded for every permanent resident, in partnership with local organisations.",
            23: "Community sponsorship of refugees was shared with other States through a"
            " global refugee sponsorship initiative.",
        },
        language="fr",
    ),
    State(
        "SRB",
        "Serbia",
        Person("Marko Primer", f"demo-srb-focal-point@{DOMAIN}"),
        "Commissariat for Refugees and Migration",
        "+381 11 000 0000",
        {
            11: "Integrated border management with neighbouring States under a joint action plan.",
            19: "An economic migration strategy encourages the return and investment of the"
            " diaspora.",
        },
    ),
    State(
        "GEO",
        "Georgia",
        Person("Nino Magaliti", f"demo-geo-focal-point@{DOMAIN}"),
        "State Commission on Migration Issues",
        "+995 32 000 0000",
        {
            1: "A unified migration analytical system links the data of seven agencies.",
            21: "Reintegration assistance for returning nationals: small grants, vocational"
            " training and psychosocial support.",
        },
    ),
    State(
        "KAZ",
        "Kazakhstan",
        Person("Aigerim Mysal", f"demo-kaz-focal-point@{DOMAIN}"),
        "Ministry of Labour and Social Protection of the Population",
        "+7 7172 000 000",
        language="ru",
    ),
)

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


def national_report(state: State) -> dict[str, Any]:
    """The voluntary GCM review report of `state`, on all 23 objectives."""
    position = STATES.index(state)
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


def _person(name: str, slug: str) -> Person:
    return Person(name, f"demo-{slug}@{DOMAIN}")


STAKEHOLDERS = (
    Stakeholder(
        "Platform for the Rights of Migrant Workers",
        "civil_society",
        "BEL",
        _person("Sam Voorbeeld", "migrant-workers-platform"),
        (6, 7, 15),
        "Our member organisations advised 2,400 migrant workers last year. Most complaints"
        " concern unpaid wages in agriculture and care work; few workers go to court while"
        " their residence permit depends on their employer.",
        (
            "Decouple residence permits from a single employer.",
            "Fund independent counselling services for migrant workers.",
        ),
        True,
        {
            "comments": [
                {"objective": 6, "comment": "Seasonal agricultural workers deserve a mention."}
            ],
            "general_comment": "A fair summary of the inputs received.",
            "endorsement": "endorse_with_reservations",
            "consent_to_publish": True,
        },
    ),
    Stakeholder(
        "Central Asian Diaspora Council",
        "diaspora_migrant_organisations",
        "DEU",
        _person("Dana Mysal", "diaspora-council"),
        (19, 20),
        "Remittances to Central Asia fell sharply in spring 2020 and then recovered through"
        " digital channels; many senders still pay high fees for cash transfers.",
        ("Cap the fees of remittance services in the main corridors.",),
        True,
        {"general_comment": "We endorse the synthesis.", "endorsement": "endorse"},
    ),
    Stakeholder(
        "Confederation of Transport and Care Workers' Unions",
        "trade_unions",
        "PRT",
        _person("Rui Exemplo", "care-workers-unions"),
        (6, 22),
        "Care workers recruited abroad rarely learn of their social security rights; the"
        " portability of pensions is unknown to most of them.",
        ("Inform every recruited worker of their social security rights before departure.",),
        True,
        {
            "comments": [
                {"objective": 22, "comment": "Portability of pensions needs its own paragraph."}
            ],
            "endorsement": "endorse_with_reservations",
            "consent_to_publish": True,
        },
    ),
    Stakeholder(
        "Caucasus Migration Research Centre",
        "academia",
        "GEO",
        _person("Levan Magaliti", "migration-research-centre"),
        (1, 21),
        "Our survey of 1,200 returning migrants shows that reintegration support reaches one"
        " in five; data on returns are not disaggregated by sex and age.",
        ("Disaggregate return statistics by sex, age and country of return.",),
        True,
        {
            "comments": [{"objective": 1, "comment": "Add the gaps in return statistics."}],
            "endorsement": "endorse",
            "consent_to_publish": True,
        },
    ),
    Stakeholder(
        "Network of Welcoming Cities",
        "local_authorities",
        None,
        _person("Alex Example", "welcoming-cities"),
        (15, 16),
        "Cities opened their services to everyone living in them during the pandemic; they"
        " ask for a say in national integration policies and the funds that go with it.",
        ("Give cities direct access to integration funds.",),
        True,
        {"general_comment": "Cities are well reflected.", "endorsement": "endorse"},
    ),
    Stakeholder(
        "Alliance of Employers for Fair Recruitment",
        "private_sector",
        "CAN",
        _person("Chris Exemple", "fair-recruitment-employers"),
        (5, 6, 18),
        "Employers support the employer-pays principle; recognition of qualifications remains"
        " the main obstacle to hiring skilled workers from abroad.",
        ("Recognise qualifications before arrival.",),
        # This input is counted in the report but not quoted: the employers did not consent.
        False,
        None,
    ),
)

# The secretariat's one request for changes to the first compiled report.
CHANGE_REQUEST = {
    "note": "Add the Bureau's framing of the consultation before approval.",
    "editorial": {
        "overview": (
            "The regional review was held online because of the COVID-19 pandemic. Member"
            " States and stakeholders took part in the call for inputs and in a"
            " multi-stakeholder consultation on the synthesis of what came in."
        ),
        "consultation": (
            "Organisations of six kinds answered: civil society, diaspora organisations,"
            " trade unions, academia, local authorities and employers."
        ),
    },
}
APPROVAL = {"note": "Approved on behalf of the Bureau of the regional review."}
EXTENSION_REASON = "Georgia's inter-ministerial group meets again after the deadline."


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


# ---- the calendar ------------------------------------------------------------------------
# ECE 2020, in days from the call's opening (15 September 2020): inputs were due on 26
# October, the multi-stakeholder consultation was held on 9 November.
INPUTS_DUE_DAY = 41
CONSULTATION_DUE_DAY = 55
REPORT_DUE_DAY = 90
# When each focal point sends its report; Kazakhstan sends none. Georgia asks for more time
# and gets it, then sends during the consultation.
REPORT_DAYS = {"PRT": 6, "DEU": 13, "CAN": 20, "SRB": 31, "GEO": 46}
EXTENSION_DAY = 35
EXTENDED_STATE = "GEO"
EXTENDED_TO_DAY = 48
# When each stakeholder sends its input, and answers its consultation task if it does.
INPUT_DAYS = {
    "migrant-workers-platform": 9,
    "migration-research-centre": 17,
    "diaspora-council": 24,
    "care-workers-unions": 28,
    "fair-recruitment-employers": 33,
    "welcoming-cities": 37,
}
ANSWER_DAYS = {
    "migrant-workers-platform": 44,
    "welcoming-cities": 47,
    "diaspora-council": 49,
    "migration-research-centre": 50,
    "care-workers-unions": 52,
}
CHANGES_DAY = 58
APPROVAL_DAY = 62
