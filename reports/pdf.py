"""The PDF of a report version, rendered from its HTML with the print stylesheet
(`print.css`).

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
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from importlib import resources

import weasyprint

# WeasyPrint names every CSS property it does not draw (the report's screen-only rules among
# them) as a warning: expected for each rendering, not worth a log line.
logging.getLogger("weasyprint").setLevel(logging.ERROR)


@functools.cache
def _print_stylesheet() -> weasyprint.CSS:
    return weasyprint.CSS(string=(resources.files("reports") / "print.css").read_text("utf-8"))


def render_pdf(html: str) -> bytes:
    """The report page `html` as an A4 PDF, tagged for screen readers."""
    document = weasyprint.HTML(
        string=html, url_fetcher=weasyprint.urls.URLFetcher(allowed_protocols=("data",))
    )
    pdf: bytes = document.write_pdf(stylesheets=[_print_stylesheet()], pdf_tags=True)
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


async def render_pdf_off_loop(html: str) -> bytes:
    """`render_pdf(html)` in a process of its own, so the event loop keeps serving."""
    try:
        return await asyncio.get_running_loop().run_in_executor(_Printer.get(), render_pdf, html)
    except BrokenProcessPool:
        _Printer.broken()
        raise
