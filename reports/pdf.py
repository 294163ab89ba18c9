"""The PDF of a report version, rendered from its HTML with the print stylesheet
(`print.css`) and the words of its pages' margins (running head, page numbers) in the
report's language, placed for its direction.

Rendering reads nothing from anywhere: the report's HTML is standalone, and the fetcher lets
only `data:` URLs through, so no text in a report can make the renderer open a file or reach
a host. It is CPU work, and memory: a second for a small report; for a region's 56 States and
50,000 inputs, a minute or more and several hundred MB (bench/compile.py). Callers on an event
loop use `render_pdf_off_loop`, which renders in a process of its own: the caller's interpreter
keeps its CPU and its memory.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from importlib import resources

import weasyprint

import i18n
from i18n import DEFAULT_LANGUAGE

# WeasyPrint names every CSS property it does not draw (the report's screen-only rules among
# them) as a warning: expected for each rendering, not worth a log line.
logging.getLogger("weasyprint").setLevel(logging.ERROR)


@functools.cache
def _print_stylesheet() -> weasyprint.CSS:
    return weasyprint.CSS(string=(resources.files("reports") / "print.css").read_text("utf-8"))


_MARGIN_TEXT = "font-size: 8pt !important; color: #595959 !important;"
_PLACEHOLDER = re.compile(r"%\((page|pages)\)s")


def _css_string(text: str) -> str:
    """`text` as a CSS string token."""
    escaped = "".join(c if c.isprintable() and c not in '"\\' else f"\\{ord(c):x} " for c in text)
    return f'"{escaped}"'


def _page_numbers(message: str) -> str:
    """ "Page %(page)s of %(pages)s" as the CSS content that counts pages."""
    parts = []
    for position, piece in enumerate(_PLACEHOLDER.split(message.replace("%%", "%"))):
        if position % 2:
            parts.append(f"counter({piece})")
        elif piece:
            parts.append(_css_string(piece))
    return " ".join(parts)


@functools.cache
def margin_stylesheet(language: str) -> str:
    """The words in the pages' margins, in `language`: the report's title at the start of the
    top margin (from the second page on), the running head at its end, the page numbers
    centred below. Right to left, start is the right."""
    with i18n.using(language) as spoken:
        running_head = i18n.gettext("Regional review of the Global Compact for Migration")
        page_numbers = _page_numbers(i18n.gettext("Page %(page)s of %(pages)s"))
    start, end = ("right", "left") if spoken.direction == "rtl" else ("left", "right")
    return f"""@page {{
  @top-{start} {{ content: string(report-title) !important; {_MARGIN_TEXT} }}
  @top-{end} {{ content: {_css_string(running_head)} !important; {_MARGIN_TEXT} }}
  @bottom-center {{
    content: {page_numbers} !important;
    font-size: 8pt !important;
    color: #1a1a1a !important;
  }}
}}
@page :first {{
  @top-left {{ content: none !important; }}
  @top-right {{ content: none !important; }}
}}
"""


@functools.cache
def _margin_stylesheet(language: str) -> weasyprint.CSS:
    return weasyprint.CSS(string=margin_stylesheet(language))


def render_pdf(html: str, language: str = DEFAULT_LANGUAGE) -> bytes:
    """The report page `html`, written in `language`, as an A4 PDF tagged for screen
    readers."""
    document = weasyprint.HTML(
        string=html, url_fetcher=weasyprint.urls.URLFetcher(allowed_protocols=("data",))
    )
    stylesheets = [_print_stylesheet(), _margin_stylesheet(i18n.supported(language) or "en")]
    pdf: bytes = document.write_pdf(stylesheets=stylesheets, pdf_tags=True)
    return pdf


class _Printer:
    """The process renderings run in, started on the first one: one rendering at a time (the
    machine's other core keeps serving), each in a fresh process (spawned, so it inherits no
    threads or connections), which ends with it and gives its memory back."""

    executor: ProcessPoolExecutor | None = None

    @classmethod
    def get(cls) -> ProcessPoolExecutor:
        if cls.executor is None:
            cls.executor = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                max_tasks_per_child=1,
            )
        return cls.executor

    @classmethod
    def broken(cls) -> None:
        """A rendering process died (out of memory, killed): the next rendering starts anew."""
        cls.executor = None


async def render_pdf_off_loop(html: str, language: str = DEFAULT_LANGUAGE) -> bytes:
    """`render_pdf(html, language)` in a process of its own, so the event loop keeps serving."""
    try:
        return await asyncio.get_running_loop().run_in_executor(
            _Printer.get(), render_pdf, html, language
        )
    except BrokenProcessPool:
        _Printer.broken()
        raise
