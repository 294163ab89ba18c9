"""Rendering of the compiled report as HTML and Markdown: determinism, escaping, SVG heatmap.

Pure functions over a report built here; no database or server needed.
"""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from domain.reference import load_reference
from reports.render import (
    NO_REPORT,
    STATUSES,
    Source,
    md_escape,
    render_html,
    render_html_body,
    render_markdown,
)

HOSTILE = '<script>alert(1)</script> | # & "q"'
HOSTILE_LINE_START = "# Injected heading\n- injected item\n\n1. injected list | cell"
SUB_DEU = "6d1f0e2a-3c4b-4f5e-8a9b-0c1d2e3f4a5b"
SUB_FRA = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
SUB_NGO = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
TASK = "9b2e4c1d-7a6f-4e3b-8c5d-1a2b3c4d5e6f"
STATES = [
    {"iso3": "ALB", "name": "Albania"},
    {"iso3": "DEU", "name": "Germany"},
    {"iso3": "FRA", "name": "France"},
]


def _objective(number: int, title: str) -> dict[str, Any]:
    return {
        "number": number,
        "title": title,
        "statuses": [],
        "measures": [],
        "challenges": [],
        "good_practices": [],
        "stakeholder_views": {"count": 0, "by_category": [], "quotes": []},
        "consultation_comments": {"count": 0, "quotes": []},
    }


def sample_report() -> dict[str, Any]:
    """A compiled report of three member States, three of them (DEU, FRA) having reported."""
    reference = load_reference()
    objectives = {o.number: _objective(o.number, o.title) for o in reference.objectives}
    deu = {"submission_id": SUB_DEU, "version": 2}
    fra = {"submission_id": SUB_FRA, "version": 1}
    coverage: dict[str, dict[int, str]] = {
        "DEU": {7: "in_progress", 2: "implemented", 15: "planned", 23: "not_applicable"},
        "FRA": {7: "implemented", 2: "not_started", 5: "in_progress"},
    }
    for country, cells in coverage.items():
        source = deu if country == "DEU" else fra
        for number, status in sorted(cells.items()):
            objectives[number]["statuses"].append({"country": country, "status": status, **source})

    objectives[7]["measures"] = [
        {"text": HOSTILE, "country": "DEU", **deu},
        {"text": "Hotline for migrants in vulnerable situations.", "country": "FRA", **fra},
    ]
    objectives[7]["challenges"] = [
        {"text": "Data on returns are\nnot disaggregated by sex.", "country": "DEU", **deu}
    ]
    objectives[7]["good_practices"] = [
        {"text": "Firewall between services and immigration enforcement.", "country": "FRA", **fra}
    ]
    objectives[7]["stakeholder_views"] = {
        "count": 3,
        "by_category": [
            {"category": "civil_society", "count": 2},
            {"category": "academia", "count": 1},
        ],
        "quotes": [
            {
                "organisation": HOSTILE,
                "category": "civil_society",
                "text": "Access to shelters remains uneven across regions.",
                "submission_id": SUB_NGO,
                "version": 3,
            }
        ],
    }
    objectives[7]["consultation_comments"] = {
        "count": 2,
        "quotes": [
            {"category": "focal_point", "organisation": "DEU", "text": HOSTILE, "task_id": TASK}
        ],
    }
    objectives[2]["measures"] = [{"text": HOSTILE_LINE_START, "country": "FRA", **fra}]

    clusters = [
        {
            "number": c.number,
            "title": c.title,
            "objectives": [objectives[n] for n in c.objectives],
        }
        for c in reference.clusters
    ]
    numbers = [o.number for o in reference.objectives]
    return {
        "review": {
            "id": "ece-2020",
            "title": f"ECE regional review 2020 {HOSTILE}",
            "region": "ECE",
            "commission": "Economic Commission for Europe",
            "member_states": STATES,
        },
        "version": 3,
        "overview": {
            "member_states": 3,
            "reports_received": 2,
            "late_reports": 1,
            "stakeholder_inputs": 3,
            "consultation": {
                "tasks": 4,
                "completed": 3,
                "response_rate": 0.75,
                "by_category": [
                    {
                        "category": "civil_society",
                        "title": "Civil society",
                        "consulted": 2,
                        "responded": 1,
                    },
                    {
                        "category": "focal_point",
                        "title": "Member State focal points",
                        "consulted": 2,
                        "responded": 2,
                    },
                ],
            },
        },
        "clusters": clusters,
        "guiding_principles": [
            {
                "id": p.id,
                "title": p.title,
                "reported_by": (
                    [{"country": "DEU", "text": "Migrants consulted on the plan.", **deu}]
                    if p.id == "people_centred"
                    else []
                ),
            }
            for p in reference.guiding_principles
        ],
        "gaps": {
            "objectives_without_reports": [n for n in numbers if not objectives[n]["statuses"]],
            "states_without_report": [{"iso3": "ALB", "name": "Albania"}],
        },
        "coverage": {
            "objectives": numbers,
            "statuses": list(reference.status_ids),
            "rows": [
                {
                    "iso3": s["iso3"],
                    "name": s["name"],
                    "cells": [coverage.get(s["iso3"], {}).get(n) for n in numbers],
                }
                for s in STATES
            ],
        },
        "consultation": {
            "endorsements": {"endorse": 1, "endorse_with_reservations": 1, "do_not_endorse": 1},
            "general_comments": [
                {
                    "category": "civil_society",
                    "organisation": "Migrant Rights Network",
                    "text": HOSTILE,
                    "task_id": TASK,
                }
            ],
        },
        "editorial": [
            {"section": "objective-7", "text": HOSTILE},
            {"section": "overview", "text": "Two of three member States reported.\n\nThank you."},
            {"section": "methodology", "text": HOSTILE_LINE_START},
        ],
        "annex": {
            "after_compilation": [
                {
                    "kind": "national_report",
                    "subject": "ALB",
                    "received_at": "2020-11-20T10:00:00+00:00",
                }
            ]
        },
        "content_hash": "0" * 64,
    }


class _Svg(HTMLParser):
    """Collects the rects of the heatmap and any tag seen inside the SVG."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.rects: list[dict[str, str | None]] = []
        self.tags: list[str] = []
        self.titles: list[str] = []
        self._rect: dict[str, str | None] | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg":
            self.depth += 1
        if not self.depth:
            return
        self.tags.append(tag)
        if tag == "rect":
            self._rect = dict(attrs)
            self.rects.append(self._rect)
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.depth -= 1
        elif tag == "title":
            self._in_title = False
        elif tag == "rect":
            self._rect = None

    def handle_data(self, data: str) -> None:
        if self._in_title and self._rect is not None:
            self._rect["title"] = data


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return sample_report()


@pytest.fixture(scope="module")
def html(report: dict[str, Any]) -> str:
    return render_html(report)


@pytest.fixture(scope="module")
def markdown(report: dict[str, Any]) -> str:
    return render_markdown(report)


def _svg(html: str) -> _Svg:
    """The heatmap's drawing (the small swatches beside statuses are drawings too)."""
    parser = _Svg()
    parser.feed(html[html.index('<figure class="coverage">') : html.index("</figure>")])
    parser.close()
    return parser


def test_rendering_is_deterministic(report: dict[str, Any], html: str, markdown: str) -> None:
    again = copy.deepcopy(report)
    assert render_html(again) == html
    assert render_markdown(again) == markdown
    assert render_html(report) == render_html(report)
    assert report == sample_report(), "rendering must not change the report"


def test_html_escapes_hostile_strings(html: str) -> None:
    assert "<script" not in html.lower()
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; | # &amp; &#34;q&#34;"
    # The title, a measure, an organisation, a comment and an editorial text.
    assert html.count(escaped) >= 6
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "<script" not in svg.lower()
    assert set(_svg(html).tags) <= {"svg", "title", "text", "g", "rect", "path"}


def test_direction_overrides_are_removed_from_both_renderings(report: dict[str, Any]) -> None:
    spoofed = copy.deepcopy(report)
    spoofed["review"]["title"] = "Review \u202eFDP.exe\u202c of 2020 \u2066isolated\u2069"
    html, markdown = render_html(spoofed), render_markdown(spoofed)
    for rendering in (html, markdown):
        assert not any(character in rendering for character in "\u202a\u202b\u202c\u202d\u202e")
        assert not any(character in rendering for character in "\u2066\u2067\u2068\u2069")
    assert "Review FDP.exe of 2020 isolated" in html
    assert "Review FDP.exe of 2020 isolated" in markdown


def test_html_is_standalone(html: str) -> None:
    lowered = html.lower()
    for reference in ("src=", 'href="http', "href='http", "url(", "@import", "http://", "https://"):
        assert reference not in lowered, reference
    assert "<link" not in lowered and "<img" not in lowered and "<iframe" not in lowered
    assert "@media print" in html
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith(("#", "/v1/")) for h in hrefs), hrefs


def test_html_anchors_and_sections(report: dict[str, Any], html: str) -> None:
    for anchor in (
        "overview",
        "coverage",
        "cluster-2",
        "objective-7",
        "guiding-principles",
        "gaps",
        "consultation",
        "annex",
        "editorial-notes",
    ):
        assert f'id="{anchor}"' in html, anchor
    objective_7 = html[html.index('id="objective-7"') : html.index('id="objective-17"')]
    assert "Editorial note" in objective_7 and "&lt;script&gt;" in objective_7
    overview = html[html.index('id="overview"') : html.index('id="coverage"')]
    assert "Two of three member States reported." in overview
    notes = html[html.index('id="editorial-notes"') : html.index('id="annex"')]
    assert "methodology" in notes and "# Injected heading" in notes


def test_heatmap_has_one_rect_per_cell_and_a_legend(report: dict[str, Any], html: str) -> None:
    svg = _svg(html)
    rows = report["coverage"]["rows"]
    cells = [r for r in svg.rects if r.get("class") == "cell"]
    legend = [r for r in svg.rects if r.get("class") == "legend"]
    assert len(cells) == len(rows) * 23
    assert len(legend) == len(STATUSES) + 1
    assert len(svg.rects) == len(cells) + len(legend)
    assert {r["fill"] for r in legend} == {s.fill for s in STATUSES.values()} | {NO_REPORT.fill}
    # Colours are distinct, so the legend maps each one to one status.
    assert len({s.fill for s in STATUSES.values()} | {NO_REPORT.fill}) == len(STATUSES) + 1

    by_title = {r["title"]: r for r in cells}
    assert len(by_title) == len(cells)
    assert by_title["DEU — objective 7: in progress"]["fill"] == STATUSES["in_progress"].fill
    assert by_title["FRA — objective 7: implemented"]["fill"] == STATUSES["implemented"].fill
    assert by_title["DEU — objective 23: not applicable"]["fill"] == STATUSES["not_applicable"].fill
    assert by_title["ALB — objective 7: no report"]["fill"] == NO_REPORT.fill
    for row in rows:
        for number, status in zip(report["coverage"]["objectives"], row["cells"], strict=True):
            rect = by_title[
                f"{row['iso3']} — objective {number}: {(STATUSES[status] if status else NO_REPORT).label}"
            ]
            assert rect["fill"] == (STATUSES[status].fill if status else NO_REPORT.fill)
            assert rect["data-status"] == (status or "none")


def test_heatmap_escapes_names_in_svg(report: dict[str, Any]) -> None:
    hostile = copy.deepcopy(report)
    hostile["coverage"]["rows"][0]["iso3"] = '"><script>alert(1)</script>'
    hostile["coverage"]["rows"][0]["name"] = HOSTILE
    html = render_html(hostile)
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "<script" not in svg.lower()
    assert "&lt;script&gt;" in svg
    parsed = _svg(html)
    assert set(parsed.tags) <= {"svg", "title", "text", "g", "rect", "path"}
    assert len([r for r in parsed.rects if r.get("class") == "cell"]) == 3 * 23


def test_html_links_to_sources(html: str) -> None:
    assert f'href="/v1/submissions/{SUB_DEU}?version=2"' in html
    assert f'href="/v1/submissions/{SUB_FRA}?version=1"' in html
    assert f'href="/v1/submissions/{SUB_NGO}?version=3"' in html
    assert f'href="/v1/tasks/{TASK}"' in html


def test_link_segments_are_encoded(report: dict[str, Any]) -> None:
    hostile = copy.deepcopy(report)
    hostile["clusters"][0]["objectives"][0]["statuses"] = [
        {
            "country": "DEU",
            "status": "planned",
            "submission_id": '../x" onclick="a',
            "version": "1&b",
        }
    ]
    html = render_html(hostile)
    assert 'href="/v1/submissions/..%2Fx%22%20onclick%3D%22a?version=1%26b"' in html
    assert "onclick=" not in html
    markdown = render_markdown(hostile)
    assert "](/v1/submissions/..%2Fx%22%20onclick%3D%22a?version=1%26b)" in markdown


def _table_rows(markdown: str) -> list[list[str]]:
    """Each Markdown table as its lines (consecutive lines starting with a pipe)."""
    tables: list[list[str]] = []
    current: list[str] = []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def test_markdown_tables_keep_their_columns(markdown: str) -> None:
    tables = _table_rows(markdown)
    assert len(tables) >= 5
    for table in tables:
        pipes = {line.count("|") for line in table}
        assert len(pipes) == 1, table
        assert re.fullmatch(r"\|( *:?-+:? *\|)+", table[1]), table[1]
    coverage = next(t for t in tables if t[0].startswith("| Member State | 1 |"))
    assert coverage[0].count("|") == 25
    assert len(coverage) == 2 + 3
    assert (
        coverage[3]
        == "| Germany (DEU) | — | IM | — | — | — | — | IP | "
        + " | ".join(["—"] * 7 + ["PL"] + ["—"] * 7 + ["NA"])
        + " |"
    )
    assert "IM implemented" in markdown and "— no report" in markdown


def test_markdown_escapes_hostile_strings(markdown: str) -> None:
    assert "<script" not in markdown.lower()
    assert '&lt;script&gt;alert(1)&lt;/script&gt; &#124; # &amp; "q"' in markdown
    lines = markdown.splitlines()
    headings = [line for line in lines if re.match(r" {0,3}#{1,6}(\s|$)", line)]
    assert headings[0].startswith("# ECE regional review 2020 &lt;script&gt;")
    assert not any("Injected" in h for h in headings)
    # No hostile line became a list item, a block quote or a heading of its own.
    assert not any(re.match(r" {0,3}([-+*]|\d+[.)]) +injected", line) for line in lines)
    # Inside a list item or a block quote, the hostile text cannot open a nested block either.
    for line in lines:
        content = re.sub(r"^(- |> )", "", line)
        if content != line:
            assert not re.match(r"(#{1,6}\s|[-+*]\s|\d+[.)]\s|>)", content), line
    assert (
        "- \\# Injected heading - injected item 1. injected list &#124; cell — France" in markdown
    )
    assert "> **methodology.** \\# Injected heading - injected item" in markdown
    assert "> 1\\. injected list &#124; cell" in markdown


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain text", "plain text"),
        ("# heading", "\\# heading"),
        ("title ##", "title \\##"),
        ("C# and F#", "C# and F#"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("12. item", "12\\. item"),
        ("3) item", "3\\) item"),
        ("=== ", "\\==="),
        ("> quote", "&gt; quote"),
        ("a | b", "a &#124; b"),
        ("two\nlines\r\n\n  here", "two lines here"),
        ("back\\slash", "back\\\\slash"),
        (
            "*bold* _it_ `code` [l](javascript:x) ~s~",
            "\\*bold\\* \\_it\\_ \\`code\\` \\[l\\](javascript:x) \\~s\\~",
        ),
        ("&amp; <b>", "&amp;amp; &lt;b&gt;"),
        ("nul\x00bell\x07", "nul bell"),
        ("costs $5, or $x$", "costs \\$5, or \\$x\\$"),
        ("see https://evil.example/x", "see https\\://evil.example/x"),
        ("www.evil.example and awww.x", "www\\.evil.example and awww.x"),
        ("write to a@b.org", "write to a\\@b.org"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("\u2067isolated\u2069 text", "isolated text"),
        # Right-to-left marks and joiners are part of the text and stay.
        (
            "\u0639\u0631\u0628\u064a\u200f \u200c\u0641",
            "\u0639\u0631\u0628\u064a\u200f \u200c\u0641",
        ),
    ],
)
def test_md_escape(value: str, expected: str) -> None:
    assert md_escape(value) == expected


def test_empty_report_renders(report: dict[str, Any]) -> None:
    empty = copy.deepcopy(report)
    empty["coverage"]["rows"] = []
    empty["review"]["member_states"] = []
    empty["editorial"] = []
    empty["annex"]["after_compilation"] = []
    empty["consultation"]["general_comments"] = []
    empty["overview"]["consultation"]["response_rate"] = None
    html = render_html(empty)
    assert len([r for r in _svg(html).rects if r.get("class") == "cell"]) == 0
    assert 'id="editorial-notes"' not in html
    markdown = render_markdown(empty)
    assert "| Response rate | — |" in markdown


def test_the_body_for_pages_is_the_standalone_pages_content(
    report: dict[str, Any], html: str
) -> None:
    body = render_html_body(report)
    assert body in html  # one renderer: the page around it is all that differs
    assert " style=" not in body  # shown under a policy that forbids inline styles
    linked = render_html_body(report, lambda item: Source("/somewhere", "there"))
    assert '<a class="src" href="/somewhere">there</a>' in linked
