"""The regional reviews `reviewflow demo` tells: ECE's of 2020 and ESCAP's of 2020-2021,
each on the calendar it actually ran to (DOMAIN.md's "How the first round actually ran"),
with fictional people for the real kinds of organisation that took part.
"""

from __future__ import annotations

from datetime import date

from reviewflow.demo_data import (
    DOMAIN,
    Approver,
    Extension,
    Meeting,
    Person,
    Scenario,
    Stakeholder,
    State,
    Timeline,
    person,
    plan,
)

CYCLE = "2020-2021"

# ---- ECE 2020 ------------------------------------------------------------------------------

_ECE_STATES = (
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

_ECE_STAKEHOLDERS = (
    Stakeholder(
        "Platform for the Rights of Migrant Workers",
        "civil_society",
        "BEL",
        person("Sam Voorbeeld", "migrant-workers-platform"),
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
        person("Dana Mysal", "diaspora-council"),
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
        person("Rui Exemplo", "care-workers-unions"),
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
        person("Levan Magaliti", "migration-research-centre"),
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
        person("Alex Example", "welcoming-cities"),
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
        person("Chris Exemple", "fair-recruitment-employers"),
        (5, 6, 18),
        "Employers support the employer-pays principle; recognition of qualifications remains"
        " the main obstacle to hiring skilled workers from abroad.",
        ("Recognise qualifications before arrival.",),
        # This input is counted in the report but not quoted: the employers did not consent.
        False,
        None,
    ),
)


def _round_table(cluster: int, day: date) -> Meeting:
    return Meeting("round_table", f"Round table on cluster {cluster}", day, day, cluster)


# Georgia asks for more time on day 35 and is given until day 48.
_ECE_EXTENSION = Extension(
    "GEO", 35, 48, "Georgia's inter-ministerial group meets again after the deadline."
)

ECE_2020 = Scenario(
    region="ECE",
    name="ECE 2020",
    cycle=CYCLE,
    title="Regional review of the GCM in the UNECE region (demo of the 2020 review)",
    call_opened=date(2020, 9, 15),
    secretariat=Person("Erin Example", f"demo-ece-secretariat@{DOMAIN}"),
    states=_ECE_STATES,
    stakeholders=_ECE_STAKEHOLDERS,
    # Inputs were due on 26 October; the multi-stakeholder consultation was held on 9 November.
    timeline=Timeline(inputs_due=41, consultation_due=55, report_due=90),
    # Kazakhstan sends no report; Georgia asks for more time, gets it, then sends during
    # the consultation.
    steps=plan(
        reports={"PRT": 6, "DEU": 13, "CAN": 20, "SRB": 31, "GEO": 46},
        inputs={
            "migrant-workers-platform": 9,
            "migration-research-centre": 17,
            "diaspora-council": 24,
            "care-workers-unions": 28,
            "fair-recruitment-employers": 33,
            "welcoming-cities": 37,
        },
        answers={
            "migrant-workers-platform": 44,
            "welcoming-cities": 47,
            "diaspora-council": 49,
            "migration-research-centre": 50,
            "care-workers-unions": 52,
        },
        extension=_ECE_EXTENSION,
        # Changes asked once the review meeting (12-13 November) has its chair's summary.
        changes_day=60,
        approval_day=62,
    ),
    extension=_ECE_EXTENSION,
    change_request={
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
    },
    approval={"note": "Approved on behalf of the Bureau of the regional review."},
    meetings=(
        Meeting(
            "consultation",
            "Multi-stakeholder consultation",
            date(2020, 11, 9),
            date(2020, 11, 9),
        ),
        Meeting(
            "review_meeting", "Regional review meeting", date(2020, 11, 12), date(2020, 11, 13)
        ),
        # One round table per cluster of objectives, two on each day of the meeting.
        _round_table(1, date(2020, 11, 12)),
        _round_table(2, date(2020, 11, 12)),
        _round_table(3, date(2020, 11, 13)),
        _round_table(4, date(2020, 11, 13)),
    ),
    approvers=(
        Approver(
            person("Olga Przyklad", "ece-lead"), "Deputy Executive Secretary, UNECE", "secretariat"
        ),
        Approver(
            person("Anna Esimerkki", "ece-network-iom"),
            "Co-chair, Regional UN Network on Migration for Europe and Central Asia (IOM)",
        ),
        Approver(
            person("Luca Esempio", "ece-network-ohchr"),
            "Co-chair, Regional UN Network on Migration for Europe and Central Asia (OHCHR)",
        ),
    ),
    watched_state="DEU",
)

# ---- ESCAP 2020-2021 ------------------------------------------------------------------------

_ESCAP_STATES = (
    State(
        "BGD",
        "Bangladesh",
        person("Rahim Udahoron", "bgd-focal-point"),
        "Ministry of Expatriates' Welfare and Overseas Employment",
        "+880 2 000 0000",
        {
            6: "The Overseas Employment and Migrants Act licenses recruiting agencies and caps"
            " the fees they may charge.",
            20: "A cash incentive of 2 per cent on remittances sent through formal channels.",
        },
    ),
    State(
        "IDN",
        "Indonesia",
        person("Dewi Contoh", "idn-focal-point"),
        "Ministry of Manpower",
        "+62 21 000 0000",
        {
            6: "The law on the protection of migrant workers brought pre-departure services"
            " together in one-stop service centres in the provinces of origin.",
            14: "Citizen service units in embassies give legal aid to nationals abroad,"
            " whatever their status.",
        },
    ),
    State(
        "PHL",
        "Philippines",
        person("Maria Halimbawa", "phl-focal-point"),
        "Department of Labor and Employment",
        "+63 2 0000 0000",
        {
            14: "Labour attachés and welfare officers in the main countries of destination"
            " assist workers in distress.",
            21: "A national reintegration centre helps returning workers find work or start a"
            " business at home.",
        },
    ),
    State(
        "THA",
        "Thailand",
        person("Somchai Tuayang", "tha-focal-point"),
        "Ministry of Labour",
        "+66 2 000 0000",
        {
            5: "Memoranda of understanding with Cambodia, the Lao People's Democratic Republic"
            " and Myanmar on the employment of workers.",
            15: "Migrant workers and their families may join the public health insurance"
            " whatever their status.",
        },
    ),
    State(
        "NPL",
        "Nepal",
        person("Sita Udaharan", "npl-focal-point"),
        "Ministry of Labour, Employment and Social Security",
        "+977 1 000 0000",
        {6: "A 'free visa, free ticket' policy puts the cost of visas and travel on employers."},
    ),
    State(
        "AUS",
        "Australia",
        person("Sam Example", "aus-focal-point"),
        "Department of Home Affairs",
        "+61 2 0000 0000",
        {
            10: "The Modern Slavery Act requires large businesses to report on the risks of"
            " forced labour in their supply chains.",
        },
    ),
)

_ESCAP_STAKEHOLDERS = (
    Stakeholder(
        "Association of Returned Migrant Domestic Workers",
        "migrants",
        "PHL",
        person("Ana Halimbawa", "returned-domestic-workers"),
        (6, 7, 21),
        "Our members worked as domestic workers in Western and East Asia; in 2020 thousands"
        " were sent home without their last wages, and few could claim them once back.",
        (
            "Set up a fund that pays the wages owed to workers repatriated in a crisis.",
            "Cover domestic workers by labour law in every country of destination.",
        ),
        True,
        {
            "comments": [
                {"objective": 21, "comment": "The wage claims of returned workers need a mention."}
            ],
            "endorsement": "endorse_with_reservations",
            "consent_to_publish": True,
        },
    ),
    Stakeholder(
        "Asia-Pacific Council of Migrant Workers' Unions",
        "trade_unions",
        None,
        person("Budi Contoh", "migrant-workers-unions"),
        (6, 22),
        "Unions organised migrant workers in construction and on plantations; their social"
        " security rarely follows them home.",
        ("Negotiate social security agreements in the main migration corridors.",),
        True,
        {"general_comment": "We endorse the synthesis.", "endorsement": "endorse"},
    ),
    Stakeholder(
        "Centre for Migration and Climate Studies",
        "academia",
        "THA",
        person("Nisa Tuayang", "migration-climate-studies"),
        (1, 2),
        "Our survey in three river deltas links floods and failed harvests to seasonal"
        " migration; official statistics do not count internal and cross-border moves together.",
        ("Count migration after disasters in national household surveys.",),
        True,
        {
            "comments": [
                {"objective": 2, "comment": "Mobility in the face of climate change needs more."}
            ],
            "endorsement": "endorse",
            "consent_to_publish": True,
        },
    ),
    Stakeholder(
        "Forum of National Human Rights Institutions of South Asia",
        "nhri",
        "NPL",
        person("Hari Udaharan", "human-rights-institutions"),
        (7, 13, 17),
        "Complaints received by our members show migrants held in immigration detention for"
        " months, children among them.",
        ("End the immigration detention of children.",),
        True,
        {"general_comment": "The synthesis reflects our complaints.", "endorsement": "endorse"},
    ),
    Stakeholder(
        "Pacific Islands Climate Mobility Alliance",
        "local_communities",
        "FJI",
        person("Mere Example", "climate-mobility-alliance"),
        (2, 5),
        "Villages on low-lying islands plan their relocation; they ask for labour mobility"
        " schemes that let families move together.",
        ("Open seasonal work schemes to whole families.",),
        True,
        None,
    ),
)

# Nepal asks for more time a few days before inputs are due and reports during the
# consultations.
_ESCAP_EXTENSION = Extension(
    "NPL",
    38,
    56,
    "Nepal's national coordination committee approves the report at its next meeting.",
)

ESCAP_2021 = Scenario(
    region="ESCAP",
    name="ESCAP 2021",
    cycle=CYCLE,
    title="Regional review of the GCM in Asia and the Pacific (demo of the 2021 review)",
    # The briefing of 26 August 2020 opened the call.
    call_opened=date(2020, 8, 26),
    secretariat=Person("Kanya Tuayang", f"demo-escap-secretariat@{DOMAIN}"),
    states=_ESCAP_STATES,
    stakeholders=_ESCAP_STAKEHOLDERS,
    # The pre-questionnaire was due on 7 October 2020; the consultation closes the day after
    # the last stakeholder consultation (9 December); the report is due after the
    # intergovernmental review of 10-12 March 2021.
    timeline=Timeline(inputs_due=42, consultation_due=106, report_due=201),
    # Australia, which did not endorse the GCM, sends no report. Stakeholders answer after
    # the consultations of 28 October and 19 November and before that of 9 December.
    steps=plan(
        reports={"BGD": 9, "IDN": 16, "PHL": 25, "THA": 33, "NPL": 52},
        inputs={
            "returned-domestic-workers": 6,
            "migrant-workers-unions": 13,
            "migration-climate-studies": 20,
            "human-rights-institutions": 29,
            "climate-mobility-alliance": 36,
        },
        answers={
            "returned-domestic-workers": 64,
            "migration-climate-studies": 72,
            "human-rights-institutions": 87,
            "migrant-workers-unions": 99,
        },
        extension=_ESCAP_EXTENSION,
        # Changes asked once the intergovernmental review (10-12 March 2021) has its chair's
        # summary, approval the day after.
        changes_day=198.8,
        approval_day=199.5,
    ),
    extension=_ESCAP_EXTENSION,
    change_request={
        "note": "Add the key messages of the three consultations before the review meeting.",
        "editorial": {
            "overview": (
                "The Asia-Pacific regional review was held online because of the COVID-19"
                " pandemic: a briefing, a pre-questionnaire to member States, three"
                " stakeholder consultations and the intergovernmental review meeting."
            ),
            "consultation": (
                "Organisations of four kinds answered: migrants' associations, trade unions,"
                " academia and national human rights institutions."
            ),
        },
    },
    approval={"note": "Approved at the close of the Asia-Pacific Regional Review."},
    meetings=(
        Meeting(
            "consultation", "First stakeholder consultation", date(2020, 10, 28), date(2020, 10, 28)
        ),
        Meeting(
            "consultation",
            "Second stakeholder consultation",
            date(2020, 11, 19),
            date(2020, 11, 19),
        ),
        Meeting(
            "consultation", "Third stakeholder consultation", date(2020, 12, 9), date(2020, 12, 9)
        ),
        Meeting(
            "review_meeting",
            "Asia-Pacific Regional Review of Implementation of the GCM",
            date(2021, 3, 10),
            date(2021, 3, 12),
        ),
    ),
    approvers=(
        Approver(
            person("Ananya Udaharan", "escap-lead"),
            "Director, Social Development Division, ESCAP",
            "secretariat",
        ),
        Approver(
            person("Hiroshi Rei", "escap-network-iom"),
            "Co-chair, Asia-Pacific Regional UN Network on Migration (IOM)",
        ),
        Approver(
            person("Priya Udaharan", "escap-network-ilo"),
            "Co-chair, Asia-Pacific Regional UN Network on Migration (ILO)",
        ),
    ),
    watched_state="BGD",
)

SCENARIOS = {scenario.region: scenario for scenario in (ECE_2020, ESCAP_2021)}
