"""The report uses everything that came in: a section per member State with its report's
provenance, the stakeholders' recommendations per objective, the principles and clusters
addressed, and consent respected wherever anything is quoted.

The review's documents are stored straight into the database (as a workflow would have
accepted them) and the report compiled and rendered in process: no server needed.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from reports.compile import compile_report
from reports.pdf import render_pdf
from reports.render import render_html, render_markdown
from reports.synthesis_builder import Organisation, Source, build_synthesis
from tests import documents
from tests.openapi_check import value_drifts
from tests.reviews import accepted_version, copy_submissions, review_body
from tests.test_report_languages import pdf_text

ACCEPTED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
NO_CONSENT_COMMENT = "Confidential remark about objective six never to be shown"
NO_CONSENT_ORGANISATION = "Silent Observers Union"
NO_CONSENT_GENERAL = "Confidential general remark never to be shown"


def complete_national_report(country: str) -> dict[str, Any]:
    """A national report of schema version 2 with every field filled in, each text unique."""
    report = documents.national_report(country)
    report["preparation"]["government_entities"] = [
        f"{country} Ministry of Labour",
        f"{country} National Statistical Office",
    ]
    report["policy_environment"] = {
        "overview": f"{country} policy overview: a migration strategy adopted in 2023.",
        "frameworks": [f"{country} Residence Act", f"{country} National Integration Plan"],
    }
    for objective in report["objectives"]:  # objective 6 alone
        objective["prioritised"] = objective["number"] == 6
    report["objectives"][5]["sdg_targets"] = ["8.7", "8.8"]
    report["means_of_implementation"] = {
        "overview": f"{country} means overview: a budget line for GCM implementation.",
        "partnerships": [f"{country} partnership with IOM", f"{country} twinning with ILO"],
        "support_needed": f"{country} support needed: data systems.",
    }
    report["regional_cooperation"] = {
        "overview": f"{country} regional overview: a regional consultative process.",
        "initiatives": [f"{country} Budapest Process chair"],
    }
    report["covid19_measures"] = f"{country} COVID-19: permits extended automatically."
    report["next_steps"] = f"{country} next steps: a second review in 2028."
    report["consent_to_publish"] = True
    return report


def stakeholder_input_v2(name: str, publication: str, **fields: Any) -> dict[str, Any]:
    content = documents.stakeholder_input(name)
    content.update(
        {
            "publication": publication,
            "language": "fr",
            "principles": ["human_rights", "gender_responsive"],
            "clusters": [4],
            "objectives": [6, 7],
            "input": f"Input of {name}.",
            "recommendations": [f"Recommendation one of {name}.", f"Second from {name}."],
            **fields,
        }
    )
    return content


class Review:
    """A review whose documents are stored as accepted, for compiling its report."""

    def __init__(self, pool: asyncpg.Pool, secretariat: Any, member_states: list[str]) -> None:
        self.pool, self.secretariat = pool, secretariat
        self.id = f"ece-sections-{secrets.token_hex(4)}"
        self.member_states = member_states
        self.submissions: dict[str, uuid.UUID] = {}

    async def create(self) -> None:
        timeline = review_body()["timeline"]
        await self.pool.execute(
            """INSERT INTO reviews (id, region, title, member_states, timeline, reminder_days,
                                    late_submissions, phase, deadlines, created_by)
               VALUES ($1, 'ECE', 'Sections', $2, $4, '{14}', 'accept_flagged', 'compilation',
                       $4, $3)""",
            self.id,
            self.member_states,
            self.secretariat.actor.id,
            timeline,
        )

    async def national_report(
        self, content: dict[str, Any], submitted_by: uuid.UUID, *, late: bool = False
    ) -> uuid.UUID:
        submission = uuid.uuid4()
        async with self.pool.acquire() as conn:
            await copy_submissions(
                conn,
                [],
                [(submission, self.id, "national_report", content["country"], 1)],
                [accepted_version(submission, content, submitted_by)],
            )
            await conn.execute(
                "UPDATE submission_versions SET decided_at = $2, late = $3 WHERE submission_id = $1",
                submission,
                ACCEPTED_AT,
                late,
            )
        self.submissions[content["country"]] = submission
        return submission

    async def stakeholder_input(self, name: str, category: str, content: dict[str, Any]) -> str:
        submission, organisation = uuid.uuid4(), uuid.uuid4()
        async with self.pool.acquire() as conn:
            await copy_submissions(
                conn,
                [(organisation, name, category)],
                [(submission, self.id, "stakeholder_input", str(organisation), 1)],
                [accepted_version(submission, content, self.secretariat.actor.id)],
            )
        return str(submission)

    async def answer(self, invitee: Any, organisation: str, response: dict[str, Any]) -> uuid.UUID:
        task = uuid.uuid4()
        await self.pool.execute(
            """INSERT INTO tasks (id, review_id, kind, invitee, assignee, organisation,
                                  stakeholder_category, due_at, status, response, completed_at)
               VALUES ($1, $2, 'consultation', $3, $3, $4, 'civil_society', $5, 'completed',
                       $6, $5)""",
            task,
            self.id,
            invitee.actor.id,
            organisation,
            ACCEPTED_AT,
            response,
        )
        return task

    async def compile(self) -> dict[str, Any]:
        async with self.pool.acquire() as conn:
            review = await conn.fetchrow("SELECT * FROM reviews WHERE id = $1", self.id)
            compiled: dict[str, Any] = await compile_report(conn, review, 1, {})
        # As stored and served: canonical JSON (instants as strings).
        return json.loads(json.dumps(compiled, default=str))


def state_section_html(html: str, iso3: str) -> str:
    match = re.search(rf'<section class="state" id="state-{iso3}">(.*?)</section>', html, re.DOTALL)
    assert match, f"no section of {iso3}"
    return match.group(1)


def state_section_markdown(markdown: str, iso3: str) -> str:
    match = re.search(rf"\n### [^\n]*\({iso3}\)\n(.*?)(?=\n### |\n## )", markdown, re.DOTALL)
    assert match, f"no section of {iso3}"
    return match.group(1)


def every_text(value: Any) -> list[str]:
    """Every string of a document, at any depth."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in every_text(item)]
    if isinstance(value, list):
        return [text for item in value for text in every_text(item)]
    return []


@pytest.fixture(scope="module")
async def compiled(pool: asyncpg.Pool, ece_secretariat: Any, make_account: Any) -> dict[str, Any]:
    """A review of four States: DEU sent a complete version 2 report, FRA one of version 1,
    ITA one without consent to publish, KAZ none; three stakeholder inputs (named jointly,
    unnamed, not published) and two consultation answers (with and without consent)."""
    review = Review(pool, ece_secretariat, ["DEU", "FRA", "ITA", "KAZ"])
    await review.create()
    germany = await make_account("focal_point", country="DEU")
    deu = complete_national_report("DEU")
    await review.national_report(deu, germany.actor.id, late=True)
    await review.national_report(documents.national_report("FRA", version=1), germany.actor.id)
    withheld = complete_national_report("ITA")
    withheld["consent_to_publish"] = False
    withheld["next_steps"] = "ITA secret next steps"
    withheld["objectives"][0]["measures"] = ["ITA secret measure"]
    await review.national_report(withheld, germany.actor.id)

    tag = secrets.token_hex(3)
    named = f"Named Lead {tag}"
    joint = stakeholder_input_v2(
        named,
        "with_name",
        joint_organisations=[
            {"name": f"Joint Partner {tag}", "category": "trade_unions"},
            {"name": f"Second Partner {tag}", "category": "academia"},
        ],
    )
    unnamed = f"Unnamed Org {tag}"
    hidden = f"Hidden Org {tag}"
    inputs = {
        "named": await review.stakeholder_input(named, "civil_society", joint),
        "unnamed": await review.stakeholder_input(
            unnamed, "academia", stakeholder_input_v2(unnamed, "without_name", language="es")
        ),
        "hidden": await review.stakeholder_input(
            hidden,
            "civil_society",
            stakeholder_input_v2(hidden, "do_not_publish", principles=[], clusters=[]),
        ),
        # Version 1, with consent: named, on objectives 5, 6 and 7 (cluster 1 and 4).
        "v1": await review.stakeholder_input(
            f"Version One {tag}",
            "civil_society",
            documents.stakeholder_input(f"V1 {tag}", version=1),
        ),
    }

    consenting = await make_account(
        "stakeholder", organisation=f"Speaker {tag}", stakeholder_category="civil_society"
    )
    silent = await make_account(
        "stakeholder", organisation=NO_CONSENT_ORGANISATION, stakeholder_category="civil_society"
    )
    quoted = {
        "endorsement": "endorse",
        "consent_to_publish": True,
        "comments": [{"objective": 6, "comment": "A quoted comment on objective six."}],
    }
    unquoted = {
        "endorsement": "do_not_endorse",
        "consent_to_publish": False,
        "general_comment": NO_CONSENT_GENERAL,
        "comments": [{"objective": 6, "comment": NO_CONSENT_COMMENT}],
    }
    await review.answer(consenting, f"Speaker {tag}", quoted)
    await review.answer(silent, NO_CONSENT_ORGANISATION, unquoted)

    report = await review.compile()
    return {
        "review": review,
        "report": report,
        "html": render_html(report),
        "markdown": render_markdown(report),
        "deu": deu,
        "inputs": inputs,
        "tag": tag,
        "names": {"named": named, "unnamed": unnamed, "hidden": hidden},
    }


def test_a_states_section_field_by_field(compiled: dict[str, Any]) -> None:
    report, deu = compiled["report"], compiled["deu"]
    submission = str(compiled["review"].submissions["DEU"])
    (section,) = [s for s in report["states"] if s["iso3"] == "DEU"]
    assert section["report"]["submission_id"] == submission
    assert (
        section["report"]["version"],
        section["report"]["late"],
        section["report"]["submitted_by"],
        section["report"]["published"],
    ) == (1, True, "focal_point", True)
    assert section["report"]["accepted_at"] == ACCEPTED_AT.isoformat()

    values = [
        deu["reporting_period"]["start"],
        deu["reporting_period"]["end"],
        deu["preparation"]["methodology"],
        *(group["description"] for group in deu["preparation"]["consulted"]),
        *deu["preparation"]["government_entities"],
        deu["policy_environment"]["overview"],
        *deu["policy_environment"]["frameworks"],
        deu["means_of_implementation"]["overview"],
        *deu["means_of_implementation"]["partnerships"],
        deu["means_of_implementation"]["support_needed"],
        deu["regional_cooperation"]["overview"],
        *deu["regional_cooperation"]["initiatives"],
        deu["covid19_measures"],
        deu["next_steps"],
    ]
    for objective in deu["objectives"]:
        values += objective["measures"] + objective["challenges"] + objective["good_practices"]
        values += objective.get("sdg_targets", [])

    html = state_section_html(compiled["html"], "DEU")
    markdown = state_section_markdown(compiled["markdown"], "DEU")
    for value in values:
        assert value.replace("'", "&#39;") in html, value
        assert value in markdown.replace("\\-", "-"), value
    for rendered in (html, markdown):
        assert submission in rendered
        assert "Accepted at" in rendered and "2026-03-02T09:30:00+00:00" in rendered
        assert "Member State focal point" in rendered
        assert "Late" in rendered and "yes" in rendered
        assert "Whole-of-government approach: yes" in rendered
        assert "prioritised by the State" in rendered
        assert "SDG targets: 8.7, 8.8" in rendered
        assert "Status: in progress" in rendered
        assert "Anna Example" not in rendered  # the contact person is nobody's business here
    # Objective 6 is the prioritised one, and only it.
    assert html.count("prioritised by the State") == 1
    assert f"/v1/submissions/{submission}?version=1" in html


def test_the_report_is_as_the_api_declares_it(compiled: dict[str, Any]) -> None:
    assert value_drifts("/components/schemas/Report", compiled["report"]) == []


def test_states_in_the_reviews_order_with_or_without_a_report(compiled: dict[str, Any]) -> None:
    report, html, markdown = compiled["report"], compiled["html"], compiled["markdown"]
    assert [s["iso3"] for s in report["states"]] == ["DEU", "FRA", "ITA", "KAZ"]
    kaz = state_section_html(html, "KAZ")
    assert "No report received." in kaz
    assert "No report received." in state_section_markdown(markdown, "KAZ")
    # A report of schema version 1 shows what it has, without the parts it cannot have.
    fra = state_section_html(html, "FRA")
    assert documents.national_report("FRA", version=1)["covid19_measures"] in fra
    assert "Policy and enabling environment" not in fra
    assert "Government entities" not in fra


def test_a_report_without_consent_is_counted_not_quoted(compiled: dict[str, Any]) -> None:
    report, html, markdown = compiled["report"], compiled["html"], compiled["markdown"]
    assert report["overview"]["reports_received"] == 3
    (ita,) = [s for s in report["states"] if s["iso3"] == "ITA"]
    assert ita["report"]["published"] is False and "next_steps" not in ita["report"]
    (row,) = [r for r in report["coverage"]["rows"] if r["iso3"] == "ITA"]
    assert row["withheld"] and row["cells"] == [None] * 23
    objective_1 = report["clusters"][3]["objectives"][0]
    assert objective_1["unpublished_reports"] == 1
    assert "ITA" not in [s["country"] for s in objective_1["statuses"]]
    for rendered in (html, markdown):
        assert "ITA secret" not in rendered
        assert "did not consent to the publication of its report" in rendered
    assert "ITA secret" not in json.dumps(report)
    # Counted in the aggregates all the same: ITA's principles and clusters.
    principles = {p["id"]: p["national_reports"] for p in report["addressed"]["principles"]}
    assert principles["human_rights"] == 3


def test_recommendations_grouped_by_objective_with_consent(compiled: dict[str, Any]) -> None:
    report, tag, names = compiled["report"], compiled["tag"], compiled["names"]
    groups = {g["objective"]: g for g in report["recommendations"]}
    # v2 inputs address objectives 6 and 7; the v1 input 6, 7 and 15 (documents.py).
    assert set(groups) == {6, 7, 15}
    six = groups[6]
    assert (six["inputs"], six["unpublished"]) == (4, 1)
    by_source = {q["submission_id"]: q for q in six["quotes"]}
    named = by_source[compiled["inputs"]["named"]]
    assert named["organisation"] == names["named"]
    assert named["joint_organisations"] == [f"Joint Partner {tag}", f"Second Partner {tag}"]
    assert named["recommendations"][0] == f"Recommendation one of {names['named']}."
    unnamed = by_source[compiled["inputs"]["unnamed"]]
    assert unnamed["organisation"] is None and unnamed["joint_organisations"] == []
    assert compiled["inputs"]["hidden"] not in by_source

    html, markdown = compiled["html"], compiled["markdown"]
    section = html[html.index('<section id="recommendations">') :]
    section = section[: section.index('<section id="member-states">')]
    assert f"{names['named']}; Joint Partner {tag}; Second Partner {tag}" in section
    assert f"Recommendation one of {names['unnamed']}." in section
    assert "Organisation not named" in section
    assert "1 of them not published" in section
    for rendered in (html, markdown):
        assert names["unnamed"] not in rendered.replace(
            f"Recommendation one of {names['unnamed']}", ""
        ).replace(f"Second from {names['unnamed']}", "").replace(f"Input of {names['unnamed']}", "")
        assert names["hidden"] not in rendered
    # The views on an objective follow the same rules.
    objective_6 = report["clusters"][0]["objectives"][2]
    views = {q["submission_id"]: q for q in objective_6["stakeholder_views"]["quotes"]}
    assert views[compiled["inputs"]["unnamed"]]["organisation"] is None
    assert compiled["inputs"]["hidden"] not in views
    assert objective_6["stakeholder_views"]["count"] == 4


def test_principles_clusters_and_languages_addressed(compiled: dict[str, Any]) -> None:
    addressed = compiled["report"]["addressed"]
    principles = {p["id"]: p for p in addressed["principles"]}
    assert len(principles) == 10
    # Two v2 inputs name human rights and gender; the hidden one names none.
    assert principles["human_rights"]["stakeholder_inputs"] == 2
    assert principles["gender_responsive"]["stakeholder_inputs"] == 2
    assert principles["child_sensitive"]["stakeholder_inputs"] == 0
    assert principles["whole_of_society"]["national_reports"] == 3
    clusters = {c["number"]: c for c in addressed["clusters"]}
    # Objective 6 is in cluster 1, 7 in cluster 4 (and two inputs name cluster 4 besides),
    # 15 (the v1 input's) in cluster 3: every input counts once per cluster. Every report
    # covers all 23 objectives.
    assert {n: c["stakeholder_inputs"] for n, c in clusters.items()} == {1: 4, 2: 0, 3: 1, 4: 4}
    assert {c["national_reports"] for c in clusters.values()} == {3}
    assert addressed["languages"] == [
        {"language": "es", "count": 1},
        {"language": "fr", "count": 2},
        {"language": None, "count": 1},
    ]
    html = compiled["html"]
    assert '<section id="addressed">' in html and "Spanish" in html and "Not stated" in html
    assert "Languages of the stakeholder inputs" in compiled["markdown"]


def test_a_comment_without_consent_appears_nowhere(compiled: dict[str, Any]) -> None:
    report = compiled["report"]
    objective_6 = report["clusters"][0]["objectives"][2]
    comments = objective_6["consultation_comments"]
    assert comments["count"] == 2  # counted...
    assert [q["text"] for q in comments["quotes"]] == ["A quoted comment on objective six."]
    assert report["consultation"]["endorsements"]["do_not_endorse"] == 1
    for secret in (NO_CONSENT_COMMENT, NO_CONSENT_ORGANISATION, NO_CONSENT_GENERAL):
        assert all(secret not in text for text in every_text(report))
        for rendered in (compiled["html"], compiled["markdown"]):
            assert secret not in rendered


@pytest.mark.slow
def test_a_comment_without_consent_is_not_in_the_pdf(compiled: dict[str, Any]) -> None:
    pdf = pdf_text(render_pdf(compiled["html"]))
    assert "A quoted comment on objective six." in pdf
    assert "Stakeholder recommendations" in pdf and "Preparation of the review" in pdf
    for secret in (NO_CONSENT_COMMENT, NO_CONSENT_ORGANISATION, NO_CONSENT_GENERAL):
        assert secret not in pdf


@pytest.mark.parametrize("language", ["fr", "ar", "zh", "ru", "es"])
def test_the_new_sections_speak_the_reports_language(
    compiled: dict[str, Any], language: str
) -> None:
    english = compiled["html"]
    html = render_html(compiled["report"], language)
    for words in (
        "Stakeholder recommendations",
        "No report received.",
        "Preparation of the review",
    ):
        assert words in english and words not in html, (language, words)


def test_the_synthesis_quotes_inputs_as_their_authors_agreed() -> None:
    sources = [
        Source(
            str(uuid.uuid4()),
            1,
            "stakeholder_input",
            name,
            content,
            Organisation(name, "civil_society"),
        )
        for name, content in (
            (
                "Lead",
                stakeholder_input_v2(
                    "Lead",
                    "with_name",
                    joint_organisations=[{"name": "Partner", "category": "academia"}],
                ),
            ),
            ("Anonymous", stakeholder_input_v2("Anonymous", "without_name")),
            ("Hidden", stakeholder_input_v2("Hidden", "do_not_publish")),
        )
    ]
    synthesis = build_synthesis("r", sources)
    (six,) = [p for kind, p in synthesis.parts if kind == "objective" and p["number"] == 6]
    assert [(i["organisation"], i["joint_organisations"]) for i in six["stakeholder_inputs"]] == [
        ("Lead", ["Partner"]),
        (None, []),
    ]
    assert six["unpublished_stakeholder_inputs"] == 1
    recommendations = [p for kind, p in synthesis.parts if kind == "recommendations"]
    assert [r["organisation"] for r in recommendations] == ["Lead", None]
    assert "Hidden" not in json.dumps(synthesis.parts)
    assert "Anonymous" not in json.dumps([r["organisation"] for r in recommendations])
