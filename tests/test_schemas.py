"""The JSON Schemas in schemas/ and the problems validate_document reports."""

import re
from importlib import resources
from typing import Any

import pytest
import referencing.exceptions
from jsonschema import Draft202012Validator

import schemas
from schemas import DOCUMENT_SCHEMAS, Problem, problems_in, validate_document
from tests import documents

ID_PREFIX = "https://reviewflow.example/schemas/"


def walk_objects(node: object) -> list[dict[str, Any]]:
    """Every JSON object in a schema, so rules can be checked on all of them."""
    found = []
    if isinstance(node, dict):
        found.append(node)
        for child in node.values():
            found.extend(walk_objects(child))
    elif isinstance(node, list):
        for child in node:
            found.extend(walk_objects(child))
    return found


def is_bounded(pattern: str) -> bool:
    """Whether a pattern limits the length of what it matches: anchored, no open repetition."""
    unescaped = re.sub(r"\\.", "", pattern)
    return (
        pattern.startswith("^")
        and pattern.endswith("$")
        and re.search(r"[*+]|\{\d*,\}", unescaped) is None
    )


# --- the schema files --------------------------------------------------------------------


def test_every_schema_file_is_listed() -> None:
    files = sorted(
        entry.name.removesuffix(".json")
        for entry in resources.files("schemas").iterdir()
        if entry.name.endswith(".json")
    )
    assert schemas.schema_files() == files
    assert schemas.schema_names() == sorted({"common", *DOCUMENT_SCHEMAS})
    assert set(files) == {
        schemas.schema_file(name, version)
        for name in schemas.schema_names()
        for version in schemas.schema_versions(name)
    }


# Every version of every schema, as (name, version).
EVERY_VERSION = [
    (name, version)
    for name in ["common", *DOCUMENT_SCHEMAS]
    for version in schemas.schema_versions(name)
]


@pytest.mark.parametrize(("name", "version"), EVERY_VERSION)
def test_schema_is_valid_draft_2020_12_with_its_id(name: str, version: int) -> None:
    schema = schemas.schema_document(name, version)
    assert schema is not None
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{ID_PREFIX}{schemas.schema_file(name, version)}.json"
    assert schema["description"]


@pytest.mark.parametrize(("name", "version"), EVERY_VERSION)
def test_schema_refuses_unknown_fields_and_bounds_every_string(name: str, version: int) -> None:
    schema = schemas.schema_document(name, version)
    for node in walk_objects(schema):
        if node.get("type") == "object":
            assert node.get("additionalProperties") is False, node
        if node.get("type") == "string" and "enum" not in node:
            assert "maxLength" in node or is_bounded(node.get("pattern", "")), node
        if node.get("type") == "array":
            assert "maxItems" in node, node


def test_schema_document_is_a_copy_and_none_when_unknown() -> None:
    schema = schemas.schema_document("national_report")
    assert schema is not None
    schema["required"].clear()
    assert schemas.schema_document("national_report")["required"]  # type: ignore[index]
    assert schemas.schema_document("nope") is None
    assert schemas.schema_document("../pyproject") is None


# --- valid documents ---------------------------------------------------------------------


def test_full_national_report_is_accepted() -> None:
    report = documents.national_report()
    assert [objective["number"] for objective in report["objectives"]] == list(range(1, 24))
    assert validate_document("national_report", report) == []


def test_minimal_national_report_is_accepted() -> None:
    report = documents.national_report("MEX")
    for optional in (
        "guiding_principles",
        "covid19_measures",
        "next_steps",
        "regional_cooperation",
    ):
        del report[optional]
    report["policy_environment"] = {"overview": "A national migration strategy."}
    report["means_of_implementation"] = {"overview": "Regular budgets of the ministries."}
    del report["preparation"]["government_entities"]
    report["objectives"] = [
        {
            "number": 5,
            "status": "not_started",
            "measures": [],
            "challenges": [],
            "good_practices": [],
        }
    ]
    report["contact"] = {"name": "A. Person", "email": "a.person@sre.example.mx"}
    assert validate_document("national_report", report) == []


def test_stakeholder_input_is_accepted() -> None:
    document = documents.stakeholder_input("Youth Forum on Migration", "children_youth")
    assert validate_document("stakeholder_input", document) == []


def test_consultation_response_is_accepted() -> None:
    assert validate_document("consultation_response", documents.consultation_response()) == []
    assert validate_document("consultation_response", {"endorsement": "endorse"}) == []


def test_builders_return_fresh_documents() -> None:
    first = documents.national_report()
    first["objectives"][0]["measures"].append("changed")
    assert documents.national_report() != first


# --- problems ----------------------------------------------------------------------------


def test_three_mistakes_give_three_problems() -> None:
    report = documents.national_report(country="germany")
    report["objectives"][9]["status"] = "done"
    del report["contact"]["email"]
    problems = validate_document("national_report", report)
    assert [p.pointer for p in problems] == ["/contact/email", "/country", "/objectives/9/status"]


@pytest.mark.parametrize(
    ("change", "pointer", "message"),
    [
        (lambda r: r["preparation"].update(consulted_by="me"), "/preparation/consulted_by",
         "is not an allowed field"),
        (lambda r: r["objectives"][2].update(status="finished"), "/objectives/2/status",
         "must be one of: not_started, planned, in_progress, implemented, not_applicable"),
        (lambda r: r["contact"].update(email="not-an-address"), "/contact/email",
         "must be a valid email address"),
        (lambda r: r["contact"].update(email="someone@localhost"), "/contact/email",
         "must be a valid email address"),
        (lambda r: r["reporting_period"].update(end="2020-02-30"), "/reporting_period/end",
         "must be a date (YYYY-MM-DD)"),
        (lambda r: r["reporting_period"].update(start="30/06/2020"), "/reporting_period/start",
         "must be a date (YYYY-MM-DD)"),
        (lambda r: r["contact"].update(name="x" * 301), "/contact/name",
         "must be at most 300 characters"),
        (lambda r: r["preparation"].pop("methodology"), "/preparation/methodology", "is required"),
        (lambda r: r.pop("objectives"), "/objectives", "is required"),
        (lambda r: r.update(objectives=[]), "/objectives", "must not be empty"),
        (lambda r: r["objectives"][0].update(number=24), "/objectives/0/number",
         "must be at most 23"),
        (lambda r: r["objectives"][0].update(number="1"), "/objectives/0/number",
         "must be an integer"),
        (lambda r: r["preparation"].update(whole_of_society="yes"),
         "/preparation/whole_of_society", "must be true or false"),
        (lambda r: r["objectives"][0].update(sdg_targets=["10.7", "SDG 10"]),
         "/objectives/0/sdg_targets/1", "must be written like 10.7 or 10.c"),
        (lambda r: r["guiding_principles"][0].update(principle="solidarity"),
         "/guiding_principles/0/principle", "must be one of: people_centred, "
         "international_cooperation, national_sovereignty, rule_of_law, sustainable_development, "
         "human_rights, gender_responsive, child_sensitive, whole_of_government, whole_of_society"),
        (lambda r: r.update({"a/b~c": 1}), "/a~1b~0c", "is not an allowed field"),
    ],
)  # fmt: skip
def test_one_mistake_gives_one_problem(change: Any, pointer: str, message: str) -> None:
    report = documents.national_report()
    change(report)
    assert validate_document("national_report", report) == [Problem(pointer, message)]


def test_every_missing_and_unknown_field_is_named() -> None:
    problems = validate_document("stakeholder_input", {"organisation": {}, "extra": 1, "more": 2})
    assert problems == [
        Problem("/extra", "is not an allowed field"),
        Problem("/input", "is required"),
        Problem("/language", "is required"),
        Problem("/more", "is not an allowed field"),
        Problem("/objectives", "is required"),
        Problem("/organisation/category", "is required"),
        Problem("/organisation/name", "is required"),
        Problem("/publication", "is required"),
    ]
    # Version 1 asked for a yes or no to publishing instead.
    problems = validate_document("stakeholder_input", {"organisation": {}}, version=1)
    assert Problem("/consent_to_publish", "is required") in problems
    assert Problem("/publication", "is required") not in problems


def test_stakeholder_input_mistakes() -> None:
    document = documents.stakeholder_input()
    document["objectives"] = [6, 6, 0]
    document["organisation"]["website"] = "https://exa mple.org"
    document["organisation"]["country"] = "de"
    document["recommendations"] = ["ok"] * 31
    assert validate_document("stakeholder_input", document) == [
        Problem("/objectives", "must not list the same entry twice"),
        Problem("/objectives/2", "must be at least 1"),
        Problem("/organisation/country", "must be written like DEU or MEX"),
        Problem("/organisation/website", "must be a full web address, such as https://example.org"),
        Problem("/recommendations", "must have at most 30 entries"),
    ]


@pytest.mark.parametrize(
    "website", ["javascript:alert(1)", "https://", "http://[::1", "https://example.org/a b"]
)
def test_website_must_be_a_web_address(website: str) -> None:
    document = documents.stakeholder_input()
    document["organisation"]["website"] = website
    problems = validate_document("stakeholder_input", document)
    assert problems and {p.pointer for p in problems} == {"/organisation/website"}


def test_consultation_response_mistakes() -> None:
    response = {"endorsement": "yes", "comments": [{"objective": 0, "comment": ""}] * 24}
    problems = validate_document("consultation_response", response)
    assert Problem("/comments", "must have at most 23 entries") in problems
    assert Problem("/comments/23/comment", "must not be empty") in problems
    assert Problem("/endorsement", "must be one of: endorse, endorse_with_reservations, "
                   "do_not_endorse") in problems  # fmt: skip


def test_problems_are_sorted_with_indexes_in_numeric_order() -> None:
    report = documents.national_report()
    for index in (2, 10, 19):
        report["objectives"][index]["status"] = "?"
        report["objectives"][index]["number"] = 0
    pointers = [p.pointer for p in validate_document("national_report", report)]
    assert pointers == [
        f"/objectives/{index}/{field}" for index in (2, 10, 19) for field in ("number", "status")
    ]


def test_best_matching_alternative_is_explained() -> None:
    schema = {
        "oneOf": [
            {"type": "string", "maxLength": 3},
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["code"],
                "properties": {"code": {"$ref": f"{schemas.COMMON_ID}#/$defs/iso3"}},
            },
        ]
    }
    assert problems_in(schema, {"code": "de", "x": 1}) == [
        Problem("/code", "must be written like DEU or MEX"),
        Problem("/x", "is not an allowed field"),
    ]
    assert problems_in(schema, "long") == [Problem("", "must be at most 3 characters")]


def test_unknown_schema_name_raises_key_error() -> None:
    with pytest.raises(KeyError):
        validate_document("common", {})
    with pytest.raises(KeyError):
        validate_document("nope", {})


# --- robustness --------------------------------------------------------------------------


def nested(depth: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(depth):
        node["a"] = {}
        node = node["a"]
    return root


@pytest.mark.parametrize("name", DOCUMENT_SCHEMAS)
@pytest.mark.parametrize(
    "document",
    [
        None,
        [],
        "x",
        0,
        1.5,
        True,
        {},
        {"objectives": "nope"},
        {"objectives": [None, "x", {"number": 10**400}]},
        {"comments": {"a": []}, "organisation": [1, 2]},
        nested(10_000),
        {"objectives": [nested(5_000), nested(5_000)]},
        {"country": nested(50), "contact": {"email": nested(3)}},
        {"organisation": {"name": "x" * 1_000_000}},
        {"": {"~/": float("nan")}},
    ],
)
def test_validate_document_never_raises(name: str, document: object) -> None:
    problems = validate_document(name, document)
    assert problems
    assert all(isinstance(p, Problem) and p.message for p in problems)
    assert len(set(problems)) == len(problems)


def test_deep_nesting_is_refused_with_a_pointer() -> None:
    problems = validate_document("stakeholder_input", {"input": nested(100)})
    assert problems == [Problem("/input" + "/a" * 31, "is nested too deeply (at most 32 levels)")]


def test_registry_never_fetches(no_network: None) -> None:
    validator = Draft202012Validator(
        {"$ref": "https://json-schema.example/elsewhere.json"},
        registry=schemas._registry(),
    )
    with pytest.raises(referencing.exceptions.Unresolvable):
        validator.validate({})


def test_validation_needs_no_network(no_network: None) -> None:
    assert validate_document("national_report", documents.national_report()) == []
