"""Forms generated from the JSON Schemas: every schema renders, a document survives the round
trip through its form, entries are added and removed without JavaScript, every problem of the
API's own validation lands beside a field, and hostile posts are bounded."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.async_api import Page

import schemas
from domain.reference import load_reference
from tests import documents
from tests.browser import assert_accessible, needs_chromium
from web.forms import Action, FormButton, form_for
from web.render import environment

VALID = {
    "national_report": documents.national_report,
    "stakeholder_input": documents.stakeholder_input,
    "consultation_response": documents.consultation_response,
}


class _Controls(HTMLParser):
    """What a browser would post for a form, less its buttons, plus every id in the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pairs: list[tuple[str, str]] = []
        self.ids: list[str] = []
        self.described: list[str] = []
        self.labelled: set[str] = set()
        self.controls: list[str] = []
        self._select: str | None = None
        self._selected: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if "id" in a:
            self.ids.append(a["id"])
        self.described += a.get("aria-describedby", "").split()
        if tag == "label":
            self.labelled.add(a["for"])
        name = a.get("name", "")
        if (tag == "input" and a.get("type") != "hidden") or tag in ("select", "textarea"):
            self.controls.append(a["id"])
        if tag == "input" and (a.get("type") not in ("radio", "checkbox") or "checked" in a):
            self.pairs.append((name, a.get("value", "")))
        elif tag == "select":
            self._select, self._selected = name, None
        elif tag == "option" and self._select is not None and "selected" in a:
            self._selected = a["value"]
        elif tag == "textarea":
            self._textarea, self._text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            self.pairs.append((self._select, self._selected or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.pairs.append((self._textarea, self._text))
            self._textarea = None


def controls(html: str) -> _Controls:
    parser = _Controls()
    parser.feed(html)
    return parser


def posted(html: str) -> list[tuple[str, str]]:
    return [(name, value) for name, value in controls(html).pairs if name != "csrf_token"]


@pytest.mark.parametrize("name", schemas.DOCUMENT_SCHEMAS)
def test_every_schema_gives_a_form_that_renders_empty_and_filled(name: str) -> None:
    form = form_for(name)
    for document in ({}, VALID[name]()):
        found = controls(form.render(document))
        assert found.controls, name
        assert len(found.ids) == len(set(found.ids)), "ids are unique"
        # Every control has a label (radios and checkboxes their own) and describes itself
        # only with what exists.
        assert set(found.controls) <= found.labelled
        assert set(found.described) <= set(found.ids)


@pytest.mark.parametrize("name", schemas.DOCUMENT_SCHEMAS)
def test_a_valid_document_survives_its_form(name: str) -> None:
    form = form_for(name)
    document = VALID[name]()
    assert form.parse(posted(form.render(document))) == document
    assert form.problems(document) == []


def test_fields_are_named_by_pointer_with_ids_derived_from_them() -> None:
    html = form_for("national_report").render(documents.national_report())
    assert 'name="/objectives/0/measures/0"' in html
    assert 'id="f-objectives-0-measures-0"' in html
    assert 'id="f-preparation-whole_of_government"' in html
    assert re.search(r'<textarea id="f-preparation-methodology"', html)
    assert 'type="date"' in html


def test_the_national_report_is_laid_out_by_cluster_then_objective() -> None:
    report = documents.national_report()
    report["objectives"] = report["objectives"][5:7]  # objectives 6 and 7
    html = str(form_for("national_report").render(report))
    reference = load_reference()
    positions = [html.index(f"Cluster {c.number}: {c.title}") for c in reference.clusters]
    assert positions == sorted(positions)
    for cluster, start, end in zip(
        reference.clusters, positions, [*positions[1:], len(html)], strict=True
    ):
        part = html[start:end]
        for number in cluster.objectives:
            assert f"Objective {number}: " in part
    # Objective 6 (cluster 1) is filled, its number a hidden field; objective 5 can be added.
    cluster_1 = html[positions[0] : positions[1]]
    assert '<input type="hidden" name="/objectives/0/number" value="6">' in cluster_1
    assert 'name="_add" value="/objectives number=5"' in cluster_1
    assert 'value="/objectives number=6"' not in html
    # Objective 7 is in cluster 4, the fourth heading.
    assert 'name="/objectives/1/number" value="7"' in html[positions[3] :]


def test_an_objective_is_added_with_its_number_and_removed() -> None:
    form = form_for("national_report")
    report = documents.national_report()
    report["objectives"] = report["objectives"][:1]
    pressed = [*posted(form.render(report)), ("_add", "/objectives number=5")]
    action = form.action(pressed)
    assert action == Action("add", "/objectives", (("number", "5"),))
    added = form.apply(form.parse(pressed), action)
    assert added["objectives"][1] == {"number": 5}
    html = form.render(added)
    assert 'name="/objectives/1/number" value="5"' in html
    # What was typed so far is kept through the next round; required lists stay (empty).
    again = form.parse(posted(html))
    assert again["objectives"][0] == report["objectives"][0]
    assert again["objectives"][1] == {
        "number": 5,
        "measures": [],
        "challenges": [],
        "good_practices": [],
    }
    removed = form.apply(again, Action("remove", "/objectives/0"))
    assert [o["number"] for o in removed["objectives"]] == [5]


def test_entries_of_a_list_are_added_and_removed_keeping_the_others() -> None:
    form = form_for("stakeholder_input")
    document = documents.stakeholder_input()
    html = form.render(document)
    assert 'name="_add" value="/recommendations"' in html
    document = form.apply(document, Action("add", "/recommendations"))
    assert document["recommendations"][-1] == ""
    html = form.render(document)
    assert 'name="/recommendations/2"' in html
    typed = [
        (name, "Third." if name == "/recommendations/2" else value) for name, value in posted(html)
    ]
    document = form.parse(typed)
    assert document["recommendations"][2] == "Third."
    document = form.apply(document, Action("remove", "/recommendations/0"))
    assert document["recommendations"] == [
        "Fund independent counselling services for migrant workers.",
        "Third.",
    ]


def test_an_array_that_is_full_offers_no_add_and_refuses_one() -> None:
    form = form_for("national_report")
    report = documents.national_report()
    assert 'value="/objectives number=' not in form.render(report)
    assert form.apply(report, Action("add", "/objectives")) == report


def test_an_add_inside_a_missing_object_creates_it() -> None:
    form = form_for("national_report")
    added = form.apply({}, Action("add", "/preparation/consulted"))
    assert added == {"preparation": {"consulted": [{}]}}
    assert 'name="/preparation/consulted/0/category"' in form.render(added)


@pytest.mark.parametrize(
    "action",
    [
        Action("add", "/country"),
        Action("add", "/objectives/0/status"),
        Action("remove", "/objectives/99"),
        Action("remove", "/objectives"),
        Action("add", "../../etc"),
        Action("remove", ""),
        Action("add", "/objectives", (("nope", "1"), ("status", "x" * 10_000))),
    ],
)
def test_an_action_naming_nothing_changes_nothing(action: Action) -> None:
    form = form_for("national_report")
    report = documents.national_report()
    # The report covers all 23 objectives, so even a well-formed add finds no room.
    assert form.apply(report, action) == report


def test_enumerations_are_labelled_from_the_reference_data() -> None:
    reference = load_reference()
    national = str(form_for("national_report").render(documents.national_report()))
    for status in reference.objective_statuses:
        assert f">{status.title}</label>" in national
    for category in reference.stakeholder_categories:
        assert f">{category.title}</option>" in national
    for principle in reference.guiding_principles:
        assert f">{principle.title}</option>" in national
    assert '<option value="DEU" selected>Germany</option>' in national
    consultation = str(form_for("consultation_response").render({}))
    assert ">Endorse with reservations</label>" in consultation
    stakeholder = str(form_for("stakeholder_input").render(documents.stakeholder_input()))
    sixth = reference.objectives[5]
    assert 'value="6" checked>' in stakeholder
    assert f">Objective 6: {sixth.title}</label>" in stakeholder


def test_limits_are_shown_as_hints() -> None:
    html = form_for("national_report").render({})
    assert "Up to 20,000 characters." in html
    assert "At least 1 entry. Up to 23 entries." in html
    assert "For example, +41 22 917 1234." in html


def test_posted_values_are_converted_as_the_schema_says() -> None:
    form = form_for("national_report")
    document = form.parse(
        [
            ("/preparation/whole_of_government", "yes"),
            ("/preparation/whole_of_society", "no"),
            ("/objectives/3/number", "4"),
            ("/objectives/3/status", "planned"),
            ("/objectives/1/number", "eleven"),
            ("/objectives/1/measures/7", "  Late  "),
            ("/objectives/1/measures/2", "Early"),
            ("/objectives/1/measures/5", "   "),
            ("/covid19_measures", ""),
        ]
    )
    assert document["preparation"] == {
        "whole_of_government": True,
        "whole_of_society": False,
    }
    # Entries in index order, gaps closed, blanks dropped; a number that is not one stays
    # text so the check names it; an empty optional field is left out.
    assert document["objectives"][0]["number"] == "eleven"
    assert document["objectives"][0]["measures"] == ["Early", "Late"]
    assert document["objectives"][1]["number"] == 4
    assert "covid19_measures" not in document
    assert "contact" in document and document["contact"] == {}


def test_every_problem_lands_on_a_field_of_the_page() -> None:
    form = form_for("national_report")
    report = documents.national_report(country="germany")
    report["reporting_period"] = {"start": "2019-02-30"}
    report["preparation"]["methodology"] = "x" * 20_001
    report["preparation"]["consulted"][0]["category"] = "aliens"
    del report["objectives"][2]["status"]
    report["objectives"][4]["sdg_targets"] = ["10.7", "99.9"]
    report["contact"]["email"] = "not an address"
    problems = form.problems(report)
    assert len(problems) >= 7
    view = form.view(report, problems)
    html = str(view.render())
    ids = set(controls(html).ids)
    assert [error.field_id for error in view.errors if error.field_id not in ids] == []
    messages = [error.message for error in view.errors]
    assert messages == [
        "Country must be written like DEU or MEX",
        "Reporting period: Start must be a real date",
        "Reporting period: Enter end",
        "Preparation: Methodology must be 20,000 characters or fewer",
        "Group consulted 1: Select category",
        # Objective 5 is in the first cluster, objective 3 in the last: the page's order.
        "Objective 5: SDG target 2 must be written like 10.7 or 10.c",
        "Objective 3: Select status",
        "Contact: Enter an email address like name@example.org",
    ]
    # Beside each field: its message, and the field described by it.
    assert 'id="f-objectives-2-status-error"' in html
    assert re.search(r'<fieldset aria-describedby="[^"]*f-objectives-2-status-error"', html)


def test_an_empty_national_report_names_every_required_field() -> None:
    form = form_for("national_report")
    document = form.parse([])
    view = form.view(document, form.problems(document))
    ids = set(controls(str(view.render())).ids)
    assert {error.field_id for error in view.errors} <= ids
    assert "Enter country" not in [e.message for e in view.errors]
    assert "Select country" in [e.message for e in view.errors]
    # No objective yet: the link goes to the first button adding one.
    objectives = next(e for e in view.errors if "objectives" in e.message)
    assert objectives.field_id == "f-objectives-add-2"


def test_a_problem_of_the_whole_document_points_at_its_first_field() -> None:
    form = form_for("consultation_response")
    view = form.view({}, [schemas.Problem("", "is nested too deeply (at most 32 levels)")])
    assert view.errors[0].field_id == "f-comments-add-2"


@pytest.mark.parametrize(
    "pairs",
    [
        [("/objectives/99999999/status", "planned")],
        [("/objectives/23/status", "planned")],  # past maxItems
        [("../", "x"), ("/../../etc/passwd", "x"), ("", "x"), ("/", "x")],
        [("/objectives/-1/status", "x"), ("/objectives/0x1/status", "x")],
        [("/country/extra", "x"), ("/objectives/0/status/deeper", "x")],
        [("/" + "a/" * 10_000, "x")],
        [("/objectives/0/number", "9" * 100_000)],
        [("/objectives", "1")],
    ],
)
def test_hostile_names_are_ignored_or_bounded(pairs: list[tuple[str, str]]) -> None:
    form = form_for("national_report")
    document = form.parse(pairs)
    objectives = document["objectives"]
    assert len(objectives) <= 1
    if objectives:  # the number is kept as text, never converted
        assert objectives[0]["number"] == "9" * 100_000
    form.view(document, form.problems(document)).render()


def test_a_flood_of_pairs_is_read_only_so_far() -> None:
    form = form_for("stakeholder_input")
    flood = [("/recommendations/0", "x")] * 1_000_000
    assert form.parse(flood)["recommendations"] == ["x"]
    checks = [("/objectives", str(n)) for n in range(1, 24)] * 1000
    assert len(form.parse(checks)["objectives"]) == 24  # one past maxItems, for the check


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    name=st.sampled_from(schemas.DOCUMENT_SCHEMAS),
    pairs=st.lists(
        st.tuples(
            st.one_of(
                st.text(max_size=30),
                st.sampled_from(
                    [
                        "/objectives/0/number",
                        "/objectives/1/measures/0",
                        "/comments/0/objective",
                        "/preparation/whole_of_government",
                        "/consent_to_publish",
                        "/objectives",
                        "_add",
                        "_remove",
                    ]
                ),
            ),
            st.one_of(st.text(max_size=30), st.integers().map(str)),
        ),
        max_size=20,
    ),
)
def test_any_post_parses_renders_and_acts_without_raising(
    name: str, pairs: list[tuple[str, str]]
) -> None:
    form = form_for(name)
    document = form.parse(pairs)
    action = form.action(pairs)
    if action is not None:
        document = form.apply(document, action)
    view = form.view(document, form.problems(document))
    ids = set(controls(str(view.render())).ids)
    assert {error.field_id for error in view.errors} <= ids


def test_hostile_text_is_shown_as_text() -> None:
    form = form_for("stakeholder_input")
    html = str(form.render({"organisation": {"name": '<script>alert("x")</script>'}}))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def _page(errors_html: str, form_html: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Report - test</title>'
        '<link rel="stylesheet" href="/static/reviewflow.css"></head><body>'
        f'<main id="main"><h1>National report</h1>{errors_html}{form_html}</main></body></html>'
    )


@needs_chromium
async def test_the_national_report_form_with_errors_is_accessible(page: Page) -> None:
    form = form_for("national_report")
    report = documents.national_report(country="germany")
    report["objectives"] = report["objectives"][:4]
    del report["objectives"][1]["status"]
    report["contact"]["email"] = "nobody"
    view = form.view(report, form.problems(report))
    macros: Any = environment().get_template("_macros.html").module
    forms: Any = environment().get_template("forms/form.html").module
    buttons = [
        FormButton("_submit", "1", "Submit"),
        FormButton("_draft", "1", "Save draft", secondary=True),
    ]
    await page.goto("/")
    await page.set_content(
        _page(macros.error_summary(view.errors), forms.form(view, "/", "t", buttons))
    )
    await page.wait_for_load_state()
    assert await page.locator(".error-summary a").count() == len(view.errors) >= 3
    # Every link of the summary lands on a control, which the browser then focuses.
    first = await page.locator(".error-summary a").first.get_attribute("href")
    assert first is not None and await page.locator(first).count() == 1
    assert (
        await page.evaluate(
            "getComputedStyle(document.querySelector('.error-summary')).borderTopWidth"
        )
        == "5px"
    )  # the stylesheet applies
    await assert_accessible(page)
