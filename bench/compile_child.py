"""The child process of bench/compile.py: one step, measured in a process that does nothing
else, printing what it measured as one JSON line.

- `compile`: compile and render one report (JSON, HTML, Markdown), writing its HTML to `--html`;
- `bare`: the bare query reading the same documents;
- `pdf`: the report's PDF from that HTML, as the service renders it (reports.pdf.render_pdf);
- `weasyprint`: the bare PDF, WeasyPrint alone on the same HTML with the report's print
  stylesheet (reports/print.css, read as a file), no reviewflow code: no running heads or page
  numbers, no tags for screen readers, the default URL fetcher.

It imports only what its step needs, so its peak RSS (VmHWM) is the step's and not the
benchmark harness's.

    python -m bench.compile_child {compile|bare} --dsn DSN --review REVIEW_ID [--html FILE]
    python -m bench.compile_child {pdf|weasyprint} --html FILE
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PRINT_CSS = Path(__file__).resolve().parent.parent / "reports" / "print.css"

# The bare primitive: one query reading the content of every submission of the review.
BARE_SQL = """
    SELECT v.content FROM submissions s
    JOIN submission_versions v ON v.submission_id = s.id AND v.version = s.latest_version
    WHERE s.review_id = $1 AND s.latest_version > 0"""


def _rss_mb() -> float:
    """This process's peak resident set so far, in MB.

    VmHWM, the high-water mark of this process's own memory: `ru_maxrss` would do too, but
    Linux carries it over from the parent across fork and exec, so a child of a bigger
    benchmark process would report the parent's peak.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _service_pdf() -> Callable[[str], bytes]:
    from reports.pdf import render_pdf

    return render_pdf


def _bare_pdf() -> Callable[[str], bytes]:
    import logging

    import weasyprint

    # As reports.pdf does: a warning for each CSS property WeasyPrint does not draw.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)

    # The report's print stylesheet, read as a plain file: the pages laid out alike.
    stylesheet = weasyprint.CSS(filename=str(PRINT_CSS))

    def render(html: str) -> bytes:
        pdf: bytes = weasyprint.HTML(string=html).write_pdf(stylesheets=[stylesheet])
        return pdf

    return render


def printed(kind: str, html_file: Path) -> dict[str, Any]:
    """The PDF of the HTML in `html_file`: the service's rendering (`pdf`), or WeasyPrint's
    alone with the print stylesheet (`weasyprint`)."""
    html = html_file.read_text(encoding="utf-8")
    render = _service_pdf() if kind == "pdf" else _bare_pdf()
    baseline = _rss_mb()
    started = time.perf_counter()
    pdf = render(html)
    measured = {
        "seconds": time.perf_counter() - started,
        "baseline_mb": baseline,
        "peak_mb": _rss_mb(),
        "pdf_bytes": len(pdf),
    }
    # Counted once measured: reading the PDF back is no part of rendering it.
    from pypdf import PdfReader

    return {**measured, "pages": len(PdfReader(io.BytesIO(pdf)).pages)}


async def child(kind: str, dsn: str, review_id: str) -> dict[str, Any]:
    """What the step measured; `compile`'s holds the report's HTML too, under "html"."""
    from db.pool import create_pool
    from domain.canonical import canonical_json
    from reports.compile import compile_report
    from reports.render import render_html, render_markdown

    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            baseline = _rss_mb()
            started = time.perf_counter()
            if kind == "bare":
                rows = await conn.fetch(BARE_SQL, review_id)
                elapsed = time.perf_counter() - started
                return {
                    "seconds": elapsed,
                    "rows": len(rows),
                    "baseline_mb": baseline,
                    "peak_mb": _rss_mb(),
                }
            review = await conn.fetchrow("SELECT * FROM reviews WHERE id = $1", review_id)
            assert review is not None, review_id
            report = await compile_report(conn, review, 1, {})
            compiled = time.perf_counter()
            as_json = canonical_json(report)
            html = render_html(report)
            markdown = render_markdown(report)
            done = time.perf_counter()
            return {
                "html": html,
                "seconds": done - started,
                "compile_s": compiled - started,
                "render_s": done - compiled,
                "baseline_mb": baseline,
                "peak_mb": _rss_mb(),
                "json_bytes": len(as_json.encode()),
                "html_bytes": len(html.encode()),
                "markdown_bytes": len(markdown.encode()),
                "stakeholder_inputs": report["overview"]["stakeholder_inputs"],
                "reports_received": report["overview"]["reports_received"],
                "views": sum(
                    o["stakeholder_views"]["count"]
                    for c in report["clusters"]
                    for o in c["objectives"]
                ),
            }
    finally:
        await pool.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("kind", choices=("compile", "bare", "pdf", "weasyprint"))
    p.add_argument("--dsn")
    p.add_argument("--review")
    p.add_argument("--html", type=Path, help="the report's HTML: written (compile), read (PDF)")
    args = p.parse_args()
    if args.kind in ("pdf", "weasyprint"):
        measured = printed(args.kind, args.html)
    else:
        measured = asyncio.run(child(args.kind, args.dsn, args.review))
        html = measured.pop("html", None)
        if html is not None and args.html is not None:
            args.html.write_text(html, encoding="utf-8")
    print(json.dumps(measured))
