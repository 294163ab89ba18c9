"""Valid example documents, for any test that needs one: each builder returns a fresh dict.

The builders write the current version of each schema (what a new review collects) unless
asked for another with ``version``.
"""

import copy
from typing import Any

# Per GCM objective: status, one measure, one challenge, one good practice, SDG targets.
_PROGRESS: dict[int, tuple[str, str, str, str, list[str]]] = {
    1: (
        "in_progress",
        "The statistical office added country of birth and citizenship to the labour force survey.",
        "Administrative data of ministries use different definitions of 'migrant'.",
        "An inter-ministerial working group agreed on common migration data definitions.",
        ["17.18"],
    ),
    2: (
        "planned",
        "Development cooperation programmes now include climate adaptation in regions of origin.",
        "Effects of disasters on displacement are hard to measure.",
        "Joint programming with countries of origin on rural livelihoods.",
        ["1.5", "13.1"],
    ),
    3: (
        "implemented",
        "A multilingual government portal informs prospective migrants about visas and rights.",
        "Misinformation spread by smugglers on social media.",
        "Information sessions run together with diaspora organisations.",
        [],
    ),
    4: (
        "implemented",
        "Consulates issue emergency travel documents within 48 hours.",
        "Stateless persons without any documents remain hard to reach.",
        "A statelessness determination procedure was introduced by law.",
        ["16.9"],
    ),
    5: (
        "in_progress",
        "A skilled immigration act opened labour migration pathways for vocational graduates.",
        "Recognition procedures take many months.",
        "Pre-departure language courses in partner countries.",
        ["10.7"],
    ),
    6: (
        "in_progress",
        "Recruitment fees charged to workers are prohibited by the labour code.",
        "Subcontracting chains in agriculture escape labour inspections.",
        "A fair recruitment label agreed with employers and trade unions.",
        ["8.7", "8.8"],
    ),
    7: (
        "in_progress",
        "Firewalls separate access to health care from immigration enforcement.",
        "Migrants in irregular situations fear contact with authorities.",
        "Mobile legal clinics run by civil society with public funding.",
        ["10.7"],
    ),
    8: (
        "planned",
        "A national contact point for families searching for missing migrants.",
        "Identification of remains requires cross-border data exchange.",
        "Cooperation with the Red Cross family tracing network.",
        [],
    ),
    9: (
        "implemented",
        "Smuggling of migrants was criminalised in line with the UN protocol.",
        "Smuggled migrants are sometimes treated as offenders.",
        "Specialised prosecutors trained together with border police.",
        ["16.4"],
    ),
    10: (
        "implemented",
        "A national action plan against trafficking in persons, 2021-2025.",
        "Low rates of identification of victims of labour trafficking.",
        "A national referral mechanism with shelters run by NGOs.",
        ["5.2", "8.7", "16.2"],
    ),
    11: (
        "in_progress",
        "Border staff were trained on human rights at international borders.",
        "Pushbacks reported by civil society organisations.",
        "An independent border monitoring mechanism was piloted.",
        [],
    ),
    12: (
        "in_progress",
        "Vulnerability screening at first reception was introduced.",
        "Interpreters are lacking for rare languages.",
        "Referral guidelines shared by police, social services and health services.",
        [],
    ),
    13: (
        "planned",
        "Alternatives to detention (reporting duties, case management) were piloted.",
        "Detention of families with children still occurs.",
        "Case management pilot with high compliance rates.",
        [],
    ),
    14: (
        "implemented",
        "A 24-hour consular hotline for nationals abroad.",
        "Limited consular presence in some countries of destination.",
        "Shared consular services with neighbouring States.",
        [],
    ),
    15: (
        "in_progress",
        "Children have access to schooling regardless of residence status.",
        "Access to health care varies between municipalities.",
        "Municipal service points open to everyone living in the city.",
        ["3.8", "4.1"],
    ),
    16: (
        "in_progress",
        "Integration courses combine language training and civic orientation.",
        "Waiting lists for integration courses in large cities.",
        "Mentoring programmes pairing newcomers with volunteers.",
        ["10.2"],
    ),
    17: (
        "in_progress",
        "An independent anti-discrimination body handles complaints.",
        "Hate speech against migrants online.",
        "Guidelines for journalists on reporting on migration.",
        ["10.3", "16.10"],
    ),
    18: (
        "in_progress",
        "A law on the recognition of foreign professional qualifications.",
        "Costs of recognition procedures deter applicants.",
        "Skills partnerships with countries of origin.",
        ["4.4"],
    ),
    19: (
        "planned",
        "A diaspora engagement strategy is being drafted.",
        "Diaspora investment is held back by regulatory barriers.",
        "Matching funds for diaspora-led development projects.",
        ["17.3"],
    ),
    20: (
        "implemented",
        "A price comparison website for remittance services.",
        "Remittance costs in some corridors remain above 5 per cent.",
        "Basic bank accounts available to all residents.",
        ["10.c"],
    ),
    21: (
        "in_progress",
        "Assisted voluntary return and reintegration programmes.",
        "Sustainable reintegration is difficult to monitor.",
        "Reintegration support planned together with local authorities in countries of origin.",
        [],
    ),
    22: (
        "not_started",
        "Social security agreements cover a limited number of countries.",
        "Negotiating bilateral agreements takes years.",
        "Portability of pensions under existing agreements works well.",
        ["1.3"],
    ),
    23: (
        "in_progress",
        "Active participation in the regional UN Network on Migration.",
        "Limited funding for international cooperation on migration.",
        "Contribution to the Migration Multi-Partner Trust Fund.",
        ["17.16", "10.7"],
    ),
}


# The objectives the example State prioritises (a version 2 report says so).
_PRIORITISED = frozenset({5, 6, 23})


def _objective(number: int, version: int) -> dict[str, Any]:
    status, measure, challenge, good_practice, targets = _PROGRESS[number]
    objective: dict[str, Any] = {
        "number": number,
        "status": status,
        "measures": [measure],
        "challenges": [challenge],
        "good_practices": [good_practice],
    }
    if version >= 2 and number in _PRIORITISED:
        objective["prioritised"] = True
    if targets:
        objective["sdg_targets"] = list(targets)
    return objective


# What version 2 of the national report asks beyond version 1.
_NATIONAL_REPORT_V2: dict[str, Any] = {
    "policy_environment": {
        "overview": (
            "A national migration strategy adopted in 2019 sets out the government's policy; an "
            "inter-ministerial committee chaired by the Ministry of the Interior coordinates it."
        ),
        "frameworks": [
            "Residence Act, as amended in 2020",
            "National integration action plan 2019-2023",
        ],
    },
    "means_of_implementation": {
        "overview": "GCM implementation is financed from the regular budgets of the ministries.",
        "partnerships": ["Twinning with the statistical offices of two partner countries."],
        "support_needed": "Technical assistance for migration data in local administrations.",
    },
    "regional_cooperation": {
        "overview": "The State takes part in the regional consultative process on migration.",
        "initiatives": ["A regional network of labour inspectorates."],
    },
    "consent_to_publish": True,
}


def national_report(country: str = "DEU", version: int = 2, **overrides: Any) -> dict[str, Any]:
    """A complete voluntary GCM review report covering all 23 objectives, valid against
    ``version`` of the schema.

    Keyword arguments replace top-level fields as given (so they may make the report invalid).
    """
    report: dict[str, Any] = {
        "country": country,
        "reporting_period": {"start": "2019-01-01", "end": "2020-06-30"},
        "preparation": {
            "whole_of_government": True,
            "whole_of_society": True,
            "methodology": (
                "The Ministry of the Interior coordinated the review through an inter-ministerial "
                "working group of twelve ministries. Data came from the national statistical "
                "office and administrative records; a draft was discussed with stakeholders in "
                "two online consultations."
            ),
            "consulted": [
                {
                    "category": "civil_society",
                    "description": "Refugee and migrant NGOs, two workshops",
                },
                {
                    "category": "local_authorities",
                    "description": "Association of cities and municipalities",
                },
                {"category": "trade_unions", "description": "National trade union confederation"},
            ],
        },
        "objectives": [_objective(number, version) for number in range(1, 24)],
        "guiding_principles": [
            {
                "principle": "human_rights",
                "how_applied": "Access to services is separated from immigration enforcement.",
            },
            {
                "principle": "whole_of_society",
                "how_applied": "Migrant organisations took part in drafting this report.",
            },
        ],
        "covid19_measures": (
            "Residence permits were extended automatically; migrants had access to testing, "
            "treatment and vaccination regardless of status."
        ),
        "next_steps": "Adopt a national GCM implementation plan and report again in 2024.",
        "contact": {
            "name": "Anna Example",
            "email": "gcm-focal-point@interior.example.org",
            "phone": "+49 30 1234 5678",
            "organisation": "Ministry of the Interior",
            "role": "GCM focal point",
        },
    }
    if version >= 2:
        report["preparation"]["government_entities"] = [
            "Ministry of the Interior",
            "Ministry of Labour and Social Affairs",
        ]
        report.update(copy.deepcopy(_NATIONAL_REPORT_V2))
    report.update(overrides)
    return report


def stakeholder_input(
    organisation: str = "Migrant Workers Solidarity Network",
    category: str = "civil_society",
    version: int = 2,
    publication: str = "with_name",
) -> dict[str, Any]:
    """A written input from one organisation on three objectives, valid against ``version``
    of the schema; ``publication`` is said as version 1 says it (with the name, or not at
    all) in a version 1 input."""
    document: dict[str, Any] = {
        "organisation": {
            "name": organisation,
            "category": category,
            "country": "DEU",
            "website": "https://migrant-solidarity.example.org",
        },
        "objectives": [6, 7, 15],
        "input": (
            "Our legal clinics advised 2,400 migrant workers last year. Most complaints concern "
            "unpaid wages in agriculture and care work; few workers dare to go to court while "
            "their residence permit depends on their employer."
        ),
        "recommendations": [
            "Decouple residence permits from a single employer.",
            "Fund independent counselling services for migrant workers.",
        ],
        "contact": {"name": "Jamal Example", "email": "jamal@migrant-solidarity.example.org"},
    }
    if version == 1:
        return {**document, "consent_to_publish": publication == "with_name"}
    return {
        **document,
        "principles": ["human_rights", "gender_responsive"],
        "clusters": [1, 3],
        "language": "en",
        "publication": publication,
    }


def consultation_response() -> dict[str, Any]:
    """An endorsement with reservations, with comments on two objectives."""
    return {
        "comments": [
            {
                "objective": 6,
                "comment": "The synthesis should mention seasonal agricultural workers.",
            },
            {"objective": 13, "comment": "Detention of children deserves a paragraph of its own."},
        ],
        "general_comment": "A fair summary of the inputs received.",
        "endorsement": "endorse_with_reservations",
        "consent_to_publish": True,
    }
