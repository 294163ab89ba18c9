"""The child process of bench/compile.py: compile and render one report (or run the bare
query), print what it measured as one JSON line, exit.

It imports only what compiling needs, so its peak RSS (VmHWM) is the compilation's and
not the benchmark harness's.

    python -m bench.compile_child {compile|bare} --dsn DSN --review REVIEW_ID
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from typing import Any

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


async def child(kind: str, dsn: str, review_id: str) -> dict[str, Any]:
    from db.pool import create_pool
    from domain.canonical import canonical_json
    from reports.compile import compile_report
    from reports.pdf import render_pdf
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
            report = await compile_report(conn, review, 1, {})
            compiled = time.perf_counter()
            as_json = canonical_json(report)
            html = render_html(report)
            markdown = render_markdown(report)
            done = time.perf_counter()
            peak = _rss_mb()
            # Timed apart, so that "seconds" stays comparable with the runs before PDFs were;
            # the service renders it in a process of its own, whose peak is this one's after.
            pdf = render_pdf(html)
            printed = time.perf_counter()
            return {
                "seconds": done - started,
                "compile_s": compiled - started,
                "render_s": done - compiled,
                "pdf_s": printed - done,
                "pdf_bytes": len(pdf),
                "pdf_peak_mb": _rss_mb(),
                "baseline_mb": baseline,
                "peak_mb": peak,
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
    p.add_argument("kind", choices=("compile", "bare"))
    p.add_argument("--dsn", required=True)
    p.add_argument("--review", required=True)
    args = p.parse_args()
    print(json.dumps(asyncio.run(child(args.kind, args.dsn, args.review))))
