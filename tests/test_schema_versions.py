"""Versions of the document schemas: version 2 of the national report and the stakeholder
input beside version 1, what each new field accepts, bringing a version 1 document to
version 2, and the rules of a review's pinned versions (see also tests/test_schema_pins_api.py
for the API and the pages)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

import i18n
import schemas
from api.openapi import openapi_document
from domain.publication import input_publication, quoted_with_name
from domain.review import Phase
from domain.schema_pins import behind, move_refusal, moved
from schemas import Problem, validate_document
from schemas.versions import migrate
from tests import documents
from web.forms import form_for

Edit = Callable[[dict[str, Any]], object]


def test_each_schema_has_its_versions_and_the_current_one_is_the_highest() -> None:
    assert schemas.schema_versions("national_report") == (1, 2)
    assert schemas.schema_versions("stakeholder_input") == (1, 2)
    assert schemas.schema_versions("consultation_response") == (1,)
    assert schemas.schema_versions("nope") == ()
    assert schemas.current_versions() == {
        "national_report": 2,
        "stakeholder_input": 2,
        "consultation_response": 1,
    }
    v1, v2 = (schemas.schema_document("national_report", v) for v in (1, 2))
    assert v1 is not None and v2 is not None
    assert v1["$id"].endswith("/national_report.json")
    assert v2["$id"].endswith("/national_report.v2.json")
    assert schemas.schema_document("national_report") == v2
    assert schemas.schema_document("national_report", 3) is None
    assert schemas.schema_document("common", 2) is None
    with pytest.raises(KeyError):
        validate_document("consultation_response", {}, version=2)


def test_version_1_documents_stay_valid_under_version_1_only() -> None:
    report, stakeholder = (
        documents.national_report(version=1),
        documents.stakeholder_input(version=1),
    )
    assert validate_document("national_report", report, 1) == []
    assert validate_document("stakeholder_input", stakeholder, 1) == []
    assert validate_document("national_report", report) == [
        Problem("/consent_to_publish", "is required"),
        Problem("/means_of_implementation", "is required"),
        Problem("/policy_environment", "is required"),
    ]
    assert validate_document("stakeholder_input", stakeholder) == [
        Problem("/consent_to_publish", "is not an allowed field"),
        Problem("/language", "is required"),
        Problem("/publication", "is required"),
    ]


def test_version_1_refuses_the_fields_of_version_2() -> None:
    report = documents.national_report()
    problems = {p.pointer for p in validate_document("national_report", report, 1)}
    assert problems == {
        "/consent_to_publish",
        "/means_of_implementation",
        "/policy_environment",
        "/regional_cooperation",
        "/preparation/government_entities",
        *(f"/objectives/{n - 1}/prioritised" for n in (5, 6, 23)),
    }
    stakeholder = documents.stakeholder_input()
    problems = {p.pointer for p in validate_document("stakeholder_input", stakeholder, 1)}
    assert problems == {"/principles", "/clusters", "/language", "/publication",
                        "/consent_to_publish"}  # fmt: skip


def _set(path: tuple[str | int, ...], value: object) -> Edit:
    def edit(document: dict[str, Any]) -> None:
        node: Any = document
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


def _drop(path: tuple[str | int, ...]) -> Edit:
    def edit(document: dict[str, Any]) -> None:
        node: Any = document
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return edit


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_drop(("policy_environment",)), ("/policy_environment", "is required")),
        (_set(("policy_environment",), {}), ("/policy_environment/overview", "is required")),
        (_set(("policy_environment", "overview"), ""), ("/policy_environment/overview", "must not be empty")),
        (_set(("policy_environment", "frameworks"), ["x"] * 51), ("/policy_environment/frameworks", "must have at most 50 entries")),
        (_set(("policy_environment", "laws"), []), ("/policy_environment/laws", "is not an allowed field")),
        (_drop(("means_of_implementation",)), ("/means_of_implementation", "is required")),
        (_set(("means_of_implementation",), {"partnerships": []}), ("/means_of_implementation/overview", "is required")),
        (_set(("means_of_implementation", "support_needed"), "x" * 20_001), ("/means_of_implementation/support_needed", "must be at most 20000 characters")),
        (_set(("means_of_implementation", "partnerships", 0), ""), ("/means_of_implementation/partnerships/0", "must not be empty")),
        (_set(("regional_cooperation",), {"initiatives": []}), ("/regional_cooperation/overview", "is required")),
        (_set(("regional_cooperation", "initiatives"), "one"), ("/regional_cooperation/initiatives", "must be an array")),
        (_drop(("consent_to_publish",)), ("/consent_to_publish", "is required")),
        (_set(("consent_to_publish",), "yes"), ("/consent_to_publish", "must be true or false")),
        (_set(("objectives", 0, "prioritised"), "high"), ("/objectives/0/prioritised", "must be true or false")),
        (_set(("preparation", "government_entities"), ["Ministry"] * 51), ("/preparation/government_entities", "must have at most 50 entries")),
        (_set(("preparation", "government_entities"), ["x" * 301]), ("/preparation/government_entities/0", "must be at most 300 characters")),
    ],
)  # fmt: skip
def test_every_new_field_of_the_national_report_has_its_rule(
    edit: Edit, expected: tuple[str, str]
) -> None:
    report = documents.national_report()
    edit(report)
    assert validate_document("national_report", report) == [Problem(*expected)]


def test_the_new_fields_of_the_national_report_are_optional_where_they_should_be() -> None:
    report = documents.national_report()
    del report["regional_cooperation"], report["preparation"]["government_entities"]
    for objective in report["objectives"]:
        objective.pop("prioritised", None)
    report["policy_environment"] = {"overview": "A strategy."}
    report["means_of_implementation"] = {"overview": "Budgets."}
    report["consent_to_publish"] = False
    assert validate_document("national_report", report) == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_drop(("language",)), ("/language", "is required")),
        (_set(("language",), "de"), ("/language", "must be one of: ar, zh, en, fr, ru, es, other")),
        (_drop(("publication",)), ("/publication", "is required")),
        (_set(("publication",), "public"), ("/publication", "must be one of: with_name, without_name, do_not_publish")),
        (_set(("consent_to_publish",), True), ("/consent_to_publish", "is not an allowed field")),
        (_set(("principles",), ["human_rights", "human_rights"]), ("/principles", "must not list the same entry twice")),
        (_set(("principles",), ["kindness"]), ("/principles/0", "must be one of: people_centred, international_cooperation, national_sovereignty, rule_of_law, sustainable_development, human_rights, gender_responsive, child_sensitive, whole_of_government, whole_of_society")),
        (_set(("clusters",), [0]), ("/clusters/0", "must be at least 1")),
        (_set(("clusters",), [5]), ("/clusters/0", "must be at most 4")),
        (_set(("clusters",), [2, 2]), ("/clusters", "must not list the same entry twice")),
        (_set(("joint_organisations",), [{"name": "Youth Forum"}]), ("/joint_organisations/0/category", "is required")),
        (_set(("joint_organisations",), [{"name": "A", "category": "academia", "website": "ftp://a.example"}]), ("/joint_organisations/0/website", "must be written like https://example.org")),
        (_set(("joint_organisations",), [{"name": "A", "category": "academia"}] * 51), ("/joint_organisations", "must have at most 50 entries")),
    ],
)  # fmt: skip
def test_every_new_field_of_the_stakeholder_input_has_its_rule(
    edit: Edit, expected: tuple[str, str]
) -> None:
    document = documents.stakeholder_input()
    edit(document)
    assert validate_document("stakeholder_input", document) == [Problem(*expected)]


def test_a_joint_input_names_its_other_organisations_like_the_lead_one() -> None:
    document = documents.stakeholder_input(publication="without_name")
    document["joint_organisations"] = [
        {"name": "Youth Forum", "category": "children_youth", "country": "FRA"},
        {"name": "Diaspora Council", "category": "diaspora_migrant_organisations"},
    ]
    document["language"] = "other"
    assert validate_document("stakeholder_input", document) == []


@pytest.mark.parametrize(("consent", "chosen"), [(True, "with_name"), (False, "do_not_publish")])
def test_a_version_1_input_is_brought_to_version_2_with_what_is_left_to_fix(
    consent: bool, chosen: str
) -> None:
    old = documents.stakeholder_input(version=1, publication="with_name" if consent else "no")
    kept = copy.deepcopy(old)
    migrated = migrate("stakeholder_input", old, 1)
    assert old == kept  # the document given stays as it was
    assert migrated.version == 2
    assert migrated.document["publication"] == chosen
    assert "consent_to_publish" not in migrated.document
    for carried in ("organisation", "objectives", "input", "recommendations", "contact"):
        assert migrated.document[carried] == old[carried]
    assert migrated.problems == [Problem("/language", "is required")]


def test_a_version_1_report_is_carried_over_whole_and_its_new_questions_flagged() -> None:
    old = documents.national_report(version=1)
    migrated = migrate("national_report", old, 1)
    assert migrated.document == old
    assert migrated.problems == [
        Problem("/consent_to_publish", "is required"),
        Problem("/means_of_implementation", "is required"),
        Problem("/policy_environment", "is required"),
    ]


def test_a_draft_is_migrated_whatever_it_holds() -> None:
    draft = {"organisation": {"name": "A"}, "consent_to_publish": "maybe", "input": 3}
    migrated = migrate("stakeholder_input", draft, 1)
    assert "consent_to_publish" not in migrated.document
    assert "publication" not in migrated.document
    pointers = {p.pointer for p in migrated.problems}
    assert {"/publication", "/language", "/input", "/organisation/category"} <= pointers
    current = documents.stakeholder_input()
    assert migrate("stakeholder_input", current, 2).problems == []


def test_publication_is_read_from_either_version() -> None:
    assert input_publication({"publication": "without_name"}) == "without_name"
    assert input_publication({"consent_to_publish": True}) == "with_name"
    assert input_publication({"consent_to_publish": False}) == "do_not_publish"
    assert input_publication({}) == "do_not_publish"
    assert quoted_with_name(documents.stakeholder_input())
    assert not quoted_with_name(documents.stakeholder_input(publication="without_name"))
    assert quoted_with_name(documents.stakeholder_input(version=1))


def test_a_reviews_versions_move_until_its_call_closes_and_never_back() -> None:
    assert move_refusal(Phase.SCHEDULED) is None
    assert move_refusal(Phase.CALL_FOR_INPUTS) is None
    for phase in (Phase.CONSULTATION, Phase.COMPILATION, Phase.PUBLISHED, Phase.CANCELLED):
        refusal = move_refusal(phase)
        assert refusal is not None and "closed" in refusal.message
    old = {"national_report": 1, "stakeholder_input": 1, "consultation_response": 1}
    current = schemas.current_versions()
    assert moved(old, current) == current
    assert moved({**current, "national_report": 3}, current)["national_report"] == 3
    assert behind(old, current) and not behind(current, current)


@pytest.mark.parametrize("language", ["ar", "zh", "fr", "ru", "es"])
def test_the_new_questions_and_their_choices_read_in_every_language(language: str) -> None:
    stakeholder, national = form_for("stakeholder_input"), form_for("national_report")
    document = documents.stakeholder_input()
    del document["language"]
    with i18n.using(language):
        view = stakeholder.view(document, stakeholder.problems(document))
        html = str(view.render()) + str(national.render(documents.national_report()))
        for english in (
            "Joint organisations",
            "Guiding principles addressed",
            "Clusters addressed",
            "Language of the input",
            "Another language",
            "Publish it without our name",
            "Policy and enabling environment",
            "Prioritised objective",
            "Means of implementation",
            "Regional cooperation",
            "Add a government entity",
        ):
            said = i18n.gettext(english)
            assert said != english and said in html, english
        # The missing language is named beside its field and in the summary.
        assert [error.field_id for error in view.errors] == ["f-language"]
        assert 'id="f-language-error"' in html


def test_the_api_description_declares_the_versions() -> None:
    document = openapi_document()
    get_schema = document["paths"]["/v1/schemas/{name}"]["get"]
    assert "version" in {p.get("name") for p in get_schema["parameters"]}
    assert {"200", "404", "422"} <= get_schema["responses"].keys()
    move = document["paths"]["/v1/reviews/{id}/schema-versions"]["post"]
    assert move["operationId"] == "moveSchemaVersions"
    assert {"200", "403", "404", "409"} <= move["responses"].keys()
    components = document["components"]["schemas"]
    assert {"national_report", "national_report.v2", "stakeholder_input.v2"} <= components.keys()
    assert "schema_versions" in components["Review"]["required"]
    for answer in ("Submission", "SubmissionVersion", "SubmissionReceipt"):
        assert "schema_version" in components[answer]["required"], answer
