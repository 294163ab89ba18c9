"""The PDF of a report version, rendered from its HTML with the print stylesheet
(`print.css`).

Rendering reads nothing from anywhere: the report's HTML is standalone, and the fetcher lets
only `data:` URLs through, so no text in a report can make the renderer open a file or reach
a host. It is CPU work of a second or more: callers on an event loop use `render_pdf_off_loop`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

import weasyprint

# One rendering at a time per process: a second would only contend for the same interpreter.
_PRINTER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reviewflow-pdf")

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


async def render_pdf_off_loop(html: str) -> bytes:
    """`render_pdf(html)` in this process's rendering thread, so the event loop keeps serving."""
    return await asyncio.get_running_loop().run_in_executor(_PRINTER, render_pdf, html)
