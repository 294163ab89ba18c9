"""Render a compiled report (its canonical JSON document) as a printable HTML page or as Markdown.

Both renderers are pure: the same report gives the same string, byte for byte. Nothing reads the
clock or depends on dict ordering beyond the order the report gives, which is kept everywhere.

Every string of the report is treated as hostile. The HTML template is autoescaped (text, the
``<title>`` of each SVG cell and every attribute); the page has no script, loads nothing (a
Content-Security-Policy forbids it besides) and links only to the API's own relative paths,
built with every user-supplied segment percent-encoded. The Markdown environment escapes by
default too: every ``{{ value }}`` goes through `md_escape` unless a helper here already built it
as `Markdown`, so a value can neither inject HTML, break a table, nor start a heading, a list or
a block quote.

The report speaks the language it is rendered in (``language``, English unless told): its own
words through the "report" catalogue, the GCM's titles through the "reference" one, States by
their CLDR names, numbers and instants as that language writes them. What people wrote stays as
written. English is written as it always was: the States' names the report stores (the UN's),
numbers without grouping, shares to one decimal and instants in ISO 8601.

Editorial texts are shown in the section they name (``overview``, ``coverage``, ``cluster-2``,
``objective-7``, ``guiding-principles``, ``gaps``, ``consultation``, ``annex``); the others are
listed under "Editorial notes" with the section they name.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import quote

import jinja2

import i18n
import i18n.jinja
from domain.reference import load_reference
from domain.text import finalize_shown_text, without_direction_overrides
from i18n import DEFAULT_LANGUAGE, N_
from reports.addendum import added_ids, marking
from reports.meetings import MODES, SESSION_KINDS, SUMMARY_KINDS

__all__ = [
    "NO_REPORT",
    "OBJECTIVE_COUNT",
    "STATUSES",
    "Markdown",
    "Source",
    "StatusStyle",
    "heatmap",
    "md_escape",
    "render_html",
    "render_html_body",
    "render_markdown",
    "status_style",
]

OBJECTIVE_COUNT = 23


@dataclass(frozen=True)
class StatusStyle:
    """How an objective's implementation status is drawn: heatmap fill, label colour, names."""

    id: str
    label: str
    abbreviation: str
    fill: str
    ink: str


# A sequential blue scale (ColorBrewer "Blues") from not started to implemented, so the order of
# progress reads as lightness even without colour vision; "not applicable" is off that scale in
# orange (blue/orange stay apart for every common colour-vision deficiency); "no report" is white
# with a grey outline and a diagonal stroke. Cells also carry the abbreviation, for greyscale print.
STATUSES: dict[str, StatusStyle] = {
    style.id: style
    for style in (
        StatusStyle("not_started", N_("not started"), "NS", "#c6dbef", "#08306b"),
        StatusStyle("planned", N_("planned"), "PL", "#6baed6", "#08306b"),
        StatusStyle("in_progress", N_("in progress"), "IP", "#2171b5", "#ffffff"),
        StatusStyle("implemented", N_("implemented"), "IM", "#08306b", "#ffffff"),
        StatusStyle("not_applicable", N_("not applicable"), "NA", "#f1a340", "#3d2400"),
    )
}
NO_REPORT = StatusStyle("", N_("no report"), "—", "#ffffff", "#737373")

# A status this renderer does not know (the schema forbids it; drawn anyway, never trusted).
_UNKNOWN_FILL = "#e7e1ef"

ENDORSEMENTS = (
    ("endorse", N_("Endorse")),
    ("endorse_with_reservations", N_("Endorse with reservations")),
    ("do_not_endorse", N_("Do not endorse")),
)
KINDS = {"national_report": N_("National report"), "stakeholder_input": N_("Stakeholder input")}
# The category the report gives the member States' focal points (the others are the GCM's).
FOCAL_POINTS = N_("Member State focal points")
# Who submitted a national report, by the role of their account (never by name).
ROLES = {
    "focal_point": N_("Member State focal point"),
    "secretariat": N_("Review secretariat"),
    "admin": N_("Platform administrator"),
}
FIXED_SECTIONS = (
    "overview",
    "coverage",
    "guiding-principles",
    "gaps",
    "consultation",
    "annex",
)

# Heatmap geometry, in SVG user units (CSS pixels at 100 %).
CELL_W = 26
CELL_H = 20
GAP = 2
HEADER_H = 26
LABEL_CHARS = 34
CHAR_W = 7.2  # a generous average advance of 12 px sans-serif text, ISO codes included
LEGEND_COLUMNS = 3
LEGEND_W = 170
LEGEND_ROW_H = 22


def status_style(status: Any) -> StatusStyle:
    """The style of a coverage cell's status; None is "no report"."""
    if status is None:
        return NO_REPORT
    known = STATUSES.get(status) if isinstance(status, str) else None
    if known:
        return known
    text = str(status)
    return StatusStyle(text, text.replace("_", " "), "?", _UNKNOWN_FILL, "#1a1a1a")


def _abbreviation(abbreviation: str) -> str:
    """A status's abbreviation in the language in use: each language abbreviates its own
    words (the legend and the caption spell them out)."""
    translated = {
        "NS": i18n.pgettext("abbreviation of the status not started", "NS"),
        "PL": i18n.pgettext("abbreviation of the status planned", "PL"),
        "IP": i18n.pgettext("abbreviation of the status in progress", "IP"),
        "IM": i18n.pgettext("abbreviation of the status implemented", "IM"),
        "NA": i18n.pgettext("abbreviation of the status not applicable", "NA"),
    }
    return translated.get(abbreviation, abbreviation)


def shown_style(style: StatusStyle) -> StatusStyle:
    """`style` with its label and abbreviation in the language in use (a status this renderer
    does not know keeps its own words)."""
    if style is not NO_REPORT and style.id not in STATUSES:
        return style
    label, abbreviation = i18n.gettext(style.label), _abbreviation(style.abbreviation)
    if (label, abbreviation) == (style.label, style.abbreviation):
        return style
    return StatusStyle(style.id, label, abbreviation, style.fill, style.ink)


def shown_status(status: Any) -> StatusStyle:
    """The style of a coverage cell's status, in the language in use."""
    return shown_style(status_style(status))


# --------------------------------------------------------------------------------------------
# The language's ways of writing numbers, shares, instants and States


def _english() -> bool:
    return i18n.current().code == DEFAULT_LANGUAGE


def figure(value: Any) -> Any:
    """A count as the language in use writes it (English: its digits, as reports always had
    them); anything that is not a number as it is."""
    if isinstance(value, int | float) and not isinstance(value, bool) and not _english():
        return Markdown(i18n.format_number(value))
    return value


def _share(rate: float) -> str:
    if _english():
        return f"{rate * 100:.1f} %"
    # The language's own way of writing a percentage ("75,0 %"), to one decimal as in English.
    locale = i18n.current().locale
    pattern = copy.copy(locale.percent_formats[None])
    pattern.frac_prec = (1, 1)
    return str(pattern.apply(rate, locale))


def instant(value: Any) -> Any:
    """An instant the report stores in ISO 8601: so in English, as the language writes it (in
    UTC) in any other."""
    if _english() or not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    return i18n.format_datetime(parsed, "UTC") if parsed.tzinfo else value


def translated(value: Any) -> Any:
    """One of the GCM's words the report stores in English (a cluster's, an objective's or a
    principle's title, a commission's name) in the language in use, as plain text to escape
    like any other value of the report."""
    if not isinstance(value, str):
        return value
    return without_direction_overrides(i18n.gettext(value))


def state_name(iso3: Any, name: Any) -> str:
    """A member State's name: in English, the one the report stores (the UN's); in any other
    language, CLDR's, else the stored one."""
    if _english() or not isinstance(iso3, str):
        return str(name)
    return i18n.country_name(iso3, str(name))


# --------------------------------------------------------------------------------------------
# Markdown escaping


class Markdown(str):
    """Markdown this module built from escaped parts: output as is by the Markdown template."""

    __slots__ = ()


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_PUNCTUATION = re.compile(r"([\\`*_\[\]~$])")
# What GitHub-flavoured Markdown would turn into a link by itself: "scheme://", "www." and
# "name@host". Escaping the ":", the first "." or the "@" leaves the text as written, unlinked.
_AUTOLINK = re.compile(r"(?<=[A-Za-z0-9])(:)(?=//)|(?<![\w.])(?:www)(\.)|(@)", re.IGNORECASE)
_LINE_START = re.compile(r"^([#=+\-])")
_ORDERED_START = re.compile(r"^(\d{1,9})([.)])")
_CLOSING_HASHES = re.compile(r"(?<= )(#+)$")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def md_escape(value: Any) -> Markdown:
    """`value` as one line of inert Markdown text, safe in a paragraph, list item or table cell.

    Whitespace runs (newlines included) become one space; control characters go; ``\\ ` * _ [ ] ~``
    are backslash-escaped; ``& < > |`` become character references (a pipe cannot end a table
    cell, angle brackets cannot open HTML or an autolink); a leading ``# = + -`` or ``1.``/``1)``
    is escaped so the text cannot start a heading, a list or a setext underline, and a trailing
    `` #`` run so that it is not taken for the closing sequence of a heading it ends. ``$`` is
    escaped (no math), and so are the characters that would make a bare web or email address a
    link; bidirectional overrides are removed.
    """
    return _escaped_line(str(value))


# A report writes the same names, labels and figures thousands of times (a State per
# objective, a category per quote): each is escaped once.
@functools.lru_cache(maxsize=8192)
def _escaped_line(value: str) -> Markdown:
    text = " ".join(_CONTROL.sub(" ", without_direction_overrides(value)).split())
    text = _PUNCTUATION.sub(r"\\\1", text)
    text = _AUTOLINK.sub(_unlinked, text)
    text = (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "&#124;")
    )
    text = _LINE_START.sub(r"\\\1", text)
    text = _ORDERED_START.sub(r"\1\\\2", text)
    text = _CLOSING_HASHES.sub(r"\\\1", text)
    return Markdown(text)


def _unlinked(match: re.Match[str]) -> str:
    """The autolink trigger of `match` escaped, what precedes it in the match kept."""
    trigger = next(group for group in match.groups() if group is not None)
    return match.group(0).removesuffix(trigger) + "\\" + trigger


def _md_paragraphs(value: Any) -> list[Markdown]:
    """A multi-paragraph text as escaped one-line paragraphs (blank lines separate them)."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return [p for p in (md_escape(part) for part in _PARAGRAPH_BREAK.split(text)) if p]


def _md_finalize(value: Any) -> Any:
    if isinstance(value, Markdown):
        return value
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return md_escape(value)


# --------------------------------------------------------------------------------------------
# The view both templates render


@dataclass(frozen=True)
class Source:
    """Where a quote comes from: a relative API link and a short label."""

    href: str
    label: str

    @property
    def markdown(self) -> Markdown:
        return Markdown(f"[{md_escape(self.label)}]({self.href})")


def _segment(value: Any) -> str:
    return quote(str(value), safe="")


def _source(item: dict[str, Any]) -> Source | None:
    if item.get("submission_id") is not None:
        version = item.get("version")
        return Source(
            f"/v1/submissions/{_segment(item['submission_id'])}?version={_segment(version)}",
            source_label(version),
        )
    if item.get("task_id") is not None:
        return Source(f"/v1/tasks/{_segment(item['task_id'])}", i18n.gettext("consultation task"))
    return None


def _received_after_opening(source: Source) -> Source:
    """A quote's source marked as having come after the consultation opened."""
    said = i18n.gettext("received after the consultation opened")
    return dataclasses.replace(source, label=f"{source.label}, {said}")


def source_label(version: Any) -> str:
    """How a quote names the version of the submission it comes from: "source v2"."""
    return i18n.gettext("source v%(version)s") % {"version": version}


def _anchor(prefix: str, value: Any) -> str:
    return prefix + "-" + re.sub(r"[^A-Za-z0-9]+", "-", str(value)).strip("-")


def _section_key(section: Any) -> str:
    return re.sub(r"[\s_]+", "-", str(section).strip().lower())


def _percent(rate: Any) -> str:
    """A share as a percentage (built from a number, so Markdown as is); other values as text."""
    if rate is None:
        return Markdown("—")
    if isinstance(rate, int | float) and not isinstance(rate, bool) and math.isfinite(rate):
        return Markdown(_share(rate))
    return str(rate)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _advance(text: str) -> float:
    """Roughly how many Latin characters' widths `text` takes: a Chinese character, drawn
    wide, takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _row_name(row: dict[str, Any]) -> str:
    """A coverage row's State, said to be withheld when its report may not be published."""
    name = f"{state_name(row['iso3'], row['name'])} ({row['iso3']})"
    if row.get("withheld"):
        return i18n.gettext("%(state)s, report not published") % {"state": name}
    return name


def heatmap(coverage: dict[str, Any], objectives: list[Any]) -> dict[str, Any]:
    """The geometry of the coverage heatmap: rows of cells, column heads, legend."""
    rows = coverage["rows"]
    names = [_row_name(row) for row in rows]
    labels = [_truncate(" ".join(name.split()), LABEL_CHARS) for name in names]
    label_w = max(
        80, math.ceil(max((_advance(label) for label in labels), default=0) * CHAR_W) + 16
    )
    pitch_x, pitch_y = CELL_W + GAP, CELL_H + GAP
    grid_w = OBJECTIVE_COUNT * pitch_x
    columns = [
        {
            "x": label_w + i * pitch_x + CELL_W // 2,
            "label": objectives[i] if i < len(objectives) else i + 1,
        }
        for i in range(OBJECTIVE_COUNT)
    ]
    svg_rows = []
    for r, (row, label, name) in enumerate(zip(rows, labels, names, strict=True)):
        y = HEADER_H + r * pitch_y
        cells = []
        cell_values = list(row["cells"])[:OBJECTIVE_COUNT]
        cell_values += [None] * (OBJECTIVE_COUNT - len(cell_values))
        for c, status in enumerate(cell_values):
            style = shown_status(status)
            x = label_w + c * pitch_x
            cells.append(
                {
                    "x": x,
                    "y": y,
                    "style": style,
                    "empty": status is None,
                    "title": i18n.gettext("%(state)s — objective %(number)s: %(status)s")
                    % {
                        "state": row["iso3"],
                        "number": columns[c]["label"],
                        "status": i18n.gettext("report not published")
                        if row.get("withheld")
                        else style.label,
                    },
                    "text_x": x + CELL_W // 2,
                    "text_y": y + CELL_H // 2 + 3,
                    "slash": f"M{x + 5} {y + CELL_H - 4}L{x + CELL_W - 5} {y + 4}",
                }
            )
        svg_rows.append(
            {
                "label": label,
                "name": name,
                "label_x": label_w - 8,
                "label_y": y + CELL_H // 2 + 4,
                "cells": cells,
            }
        )
    legend_top = HEADER_H + len(rows) * pitch_y + 14
    legend = []
    for i, style in enumerate((*STATUSES.values(), NO_REPORT)):
        x = label_w + (i % LEGEND_COLUMNS) * LEGEND_W
        y = legend_top + (i // LEGEND_COLUMNS) * LEGEND_ROW_H
        legend.append(
            {
                "x": x,
                "y": y,
                "style": shown_style(style),
                "empty": style is NO_REPORT,
                "text_x": x + CELL_W + 6,
                "text_y": y + CELL_H // 2 + 4,
                "abbr_x": x + CELL_W // 2,
                "abbr_y": y + CELL_H // 2 + 3,
                "slash": f"M{x + 5} {y + CELL_H - 4}L{x + CELL_W - 5} {y + 4}",
            }
        )
    legend_rows = math.ceil(len(legend) / LEGEND_COLUMNS)
    width = label_w + max(grid_w, LEGEND_COLUMNS * LEGEND_W)
    height = legend_top + legend_rows * LEGEND_ROW_H
    return {
        "width": width,
        "height": height,
        "columns": columns,
        "rows": svg_rows,
        "legend": legend,
        "cell_w": CELL_W,
        "cell_h": CELL_H,
        "header_y": HEADER_H - 8,
    }


def _coverage_table(coverage: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for row in coverage["rows"]:
        cells = list(row["cells"])[:OBJECTIVE_COUNT]
        cells += [None] * (OBJECTIVE_COUNT - len(cells))
        rows.append(
            {
                "name": _row_name(row),
                "cells": [shown_status(status).abbreviation for status in cells],
            }
        )
    return rows


def _view(report: dict[str, Any]) -> dict[str, Any]:
    review = report["review"]
    names = {state["iso3"]: state["name"] for state in review["member_states"]}
    for row in report["coverage"]["rows"]:
        names.setdefault(row["iso3"], row["name"])

    reference = load_reference()
    categories = {c.id: c.title for c in reference.stakeholder_categories}
    categories["focal_point"] = FOCAL_POINTS
    for item in report["overview"]["consultation"]["by_category"]:
        categories[item["category"]] = item["title"]

    objective_titles = {
        objective["number"]: objective["title"]
        for cluster in report["clusters"]
        for objective in cluster["objectives"]
    }
    known_sections = set(FIXED_SECTIONS)
    known_sections.update(_anchor("cluster", c["number"]) for c in report["clusters"])
    known_sections.update(_anchor("objective", n) for n in objective_titles)
    placed: dict[str, list[Any]] = defaultdict(list)
    unplaced: list[dict[str, Any]] = []
    for note in report["editorial"]:
        key = _section_key(note["section"])
        if key in known_sections:
            placed[key].append(note["text"])
        else:
            unplaced.append(note)

    def country(iso3: Any) -> str:
        name = names.get(iso3) if isinstance(iso3, str) else None
        return f"{state_name(iso3, name)} ({iso3})" if name else str(iso3)

    def category(category_id: Any) -> Any:
        # The GCM's categories (and the focal points) in the language in use.
        if not isinstance(category_id, str):
            return category_id
        title = categories.get(category_id)
        return without_direction_overrides(i18n.gettext(title)) if title else category_id

    def categories_counted(by_category: list[dict[str, Any]]) -> str:
        """ "Civil society 2; Academia 1": the categories of the inputs with their counts."""
        separator = i18n.pgettext("between the items of a list", "; ")
        return separator.join(
            f"{category(i['category'])} {figure(i['count'])}" for i in by_category
        )

    def organisation(quote: dict[str, Any]) -> Any:
        # A focal point answers for a State: the report gives its ISO code as the organisation.
        if quote.get("category") == "focal_point":
            return country(quote["organisation"])
        if quote.get("organisation") is None:
            # Published without its name (`reports.compile`): nobody is named, not even jointly.
            return i18n.gettext("Organisation not named")
        separator = i18n.pgettext("between the items of a list", "; ")
        return separator.join([quote["organisation"], *quote.get("joint_organisations", [])])

    def editorial(section: str) -> list[Any]:
        return placed.get(section, [])

    def role(role_id: Any) -> Any:
        title = ROLES.get(role_id) if isinstance(role_id, str) else None
        return i18n.gettext(title) if title else role_id

    def language_name(code: Any) -> str:
        """An input's language named in the report's language."""
        if code is None:
            return i18n.gettext("Not stated")
        if code == "other":
            return i18n.gettext("Other languages")
        return str(i18n.current().locale.languages.get(str(code), code))

    objectives = list(report["coverage"]["objectives"])
    overview = report["overview"]
    consultation = report["consultation"]
    endorsements = consultation["endorsements"]
    return {
        "report": report,
        "review": review,
        "overview": overview,
        "response_rate": _percent(overview["consultation"]["response_rate"]),
        "category_rates": [
            _percent(c["responded"] / c["consulted"])
            if isinstance(c["consulted"], int) and c["consulted"] > 0
            else "—"
            for c in overview["consultation"]["by_category"]
        ],
        "heatmap": heatmap(report["coverage"], objectives),
        "coverage_table": _coverage_table(report["coverage"]),
        "statuses": [shown_style(style) for style in (*STATUSES.values(), NO_REPORT)],
        # "NS not started, PL planned, ...": what the cells' abbreviations stand for.
        "legend": i18n.pgettext("between the items of a list", ", ").join(
            f"{style.abbreviation} {style.label}" for style in map(shown_style, STATUSES.values())
        ),
        "endorsements": [
            (i18n.gettext(label), endorsements.get(key, 0)) for key, label in ENDORSEMENTS
        ],
        "objective_titles": objective_titles,
        # The sections of reports compiled since they were added (older ones have none).
        "states": report.get("states", []),
        "recommendations": report.get("recommendations"),
        "addressed": report.get("addressed"),
        "role": role,
        "language_name": language_name,
        "yes_no": lambda value: i18n.gettext("yes") if value else i18n.gettext("no"),
        "unplaced_editorial": unplaced,
        "kinds": {kind: i18n.gettext(label) for kind, label in KINDS.items()},
        "meeting_words": {
            word: i18n.gettext(label)
            for word, label in {**SESSION_KINDS, **MODES, **SUMMARY_KINDS}.items()
        },
        "country": country,
        "state_label": lambda state: (
            f"{state_name(state['iso3'], state['name'])} ({state['iso3']})"
        ),
        "category": category,
        "categories_counted": categories_counted,
        "organisation": organisation,
        "editorial": editorial,
        "source": marking(_source, added_ids(report), _received_after_opening),
        "anchor": _anchor,
        "status_style": shown_status,
        "language": i18n.current(),
    }


# --------------------------------------------------------------------------------------------
# Environments, built once


def _environment(autoescape: bool, finalize: Callable[[Any], Any]) -> jinja2.Environment:
    """The templates' environment: what differs by format is how a value is escaped. Both
    speak the language in use (`i18n.jinja`), and write counts and instants as it does."""
    environment = i18n.jinja.install(
        jinja2.Environment(
            loader=jinja2.PackageLoader("reports", "templates"),
            autoescape=autoescape,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            finalize=finalize,
        ),
        resources.files("reports") / "templates",
    )
    environment.filters["figure"] = figure
    environment.filters["translated"] = translated
    environment.filters["instant"] = instant
    return environment


def _markdown_environment() -> jinja2.Environment:
    environment = _environment(autoescape=False, finalize=_md_finalize)
    environment.filters["md_paragraphs"] = _md_paragraphs
    environment.filters["md_link"] = lambda source: source.markdown if source else ""
    # A macro returns a plain str of what it rendered, every value in it already escaped by
    # finalize; this passes it on as is. For macro calls only.
    environment.filters["macro_output"] = Markdown
    return environment


_HTML_ENVIRONMENT = _environment(autoescape=True, finalize=finalize_shown_text)
_HTML = _HTML_ENVIRONMENT.get_template("report.html.j2")
_HTML_BODY = _HTML_ENVIRONMENT.get_template("report_body.html.j2")
_MARKDOWN_ENVIRONMENT = _markdown_environment()
_MARKDOWN = _MARKDOWN_ENVIRONMENT.get_template("report.md.j2")


def html_template(name: str) -> jinja2.Template:
    """A template of another document (the roll-up), escaped and spoken as the report is."""
    return _HTML_ENVIRONMENT.get_template(name)


def markdown_template(name: str) -> jinja2.Template:
    return _MARKDOWN_ENVIRONMENT.get_template(name)


def render_html(report: dict[str, Any], language: str = DEFAULT_LANGUAGE) -> str:
    """The report as one standalone, printable HTML page (inline CSS and SVG, nothing loaded),
    in `language` (one of the six)."""
    with i18n.using(language):
        return _HTML.render(_view(report))


def render_html_body(
    report: dict[str, Any],
    source: Callable[[dict[str, Any]], Source | None] = _source,
    language: str = DEFAULT_LANGUAGE,
) -> str:
    """The report's content as the standalone page has it, without its page around: for a
    page of the site, which brings its own styles, and links each quote to what `source`
    names (by default the API's document). In `language`, which the page should say around
    it (`lang`, `dir`) when it speaks another."""
    with i18n.using(language):
        marked = marking(source, added_ids(report), _received_after_opening)
        return _HTML_BODY.render({**_view(report), "source": marked})


def render_markdown(report: dict[str, Any], language: str = DEFAULT_LANGUAGE) -> str:
    """The report as GitHub-flavoured Markdown, every value escaped, in `language`."""
    with i18n.using(language):
        text = _MARKDOWN.render(_view(report))
    # Blank lines the template's conditionals leave behind: at most one in a row.
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"
