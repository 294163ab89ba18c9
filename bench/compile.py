"""Compile: the report of a review with 50,000 stakeholder inputs and its States' national reports.

Stored first (bulk COPY, untimed): an ECE review in its compilation phase, a national report
of each of its member States and `--inputs` realistic stakeholder inputs (organisations of every
category, 1 to 4 objectives each, inputs of varied length, recommendations, one in ten not for
publication).

Timed, in a child process that does nothing else (so its peak RSS, VmHWM, is the
compilation's): `reports.compile.compile_report` on one connection, then the three renderings
the COMPILE_REPORT activity stores (canonical JSON, `render_html`, `render_markdown`). Bare
primitive, same run, in a child process too: one SQL query that reads the content of those
submissions (decoded by the same JSON codec as the service's pool).

Then the PDF the activity stores too, from that HTML, in a child process of its own as the
service renders it (`reports.pdf.render_pdf`: the print stylesheet, the pages' margins, tagged
for screen readers): its time and its peak RSS. Bare primitive, same run, in a child process
too: WeasyPrint alone on the same HTML with the same print stylesheet, read as a file
(`weasyprint.HTML(string=html).write_pdf(stylesheets=[print.css])`), no reviewflow code: no
running heads or page numbers, no tags for screen readers.

With `--quick` the PDFs are rendered once each: even at that size each takes a minute or more.

    python -m bench.compile [--quick] [--inputs 50000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import subprocess
import sys
import time
import uuid
from typing import Any

from bench.harness import (
    Option,
    Report,
    Services,
    at_most,
    bare_then_service,
    categories,
    create_account,
    median_per_metric,
    run_main,
    services,
)
from tests import documents
from tests.reviews import accepted_version, copy_submissions

GOAL_RATIO = 3.0
GOAL_RSS_MB = 500.0
CHILD_TIMEOUT_S = 900

# This scenario's options, after those every scenario takes (harness.parser).
OPTIONS: list[Option] = [
    ("--inputs", {"type": int, "default": None, "help": "default 50000 (quick: 5000)"}),
]

SENTENCES = (
    "Our legal clinics advised migrant workers on unpaid wages, mostly in agriculture and care.",
    "Few workers dare to go to court while their residence permit depends on their employer.",
    "Municipal service points open to everyone living in the city improved access to health care.",
    "Children in irregular situations still meet obstacles when they enrol in secondary school.",
    "Recognition of foreign qualifications takes many months and costs more than most can pay.",
    "Diaspora associations financed vocational training in the regions of origin.",
    "Alternatives to detention worked well where case managers had manageable caseloads.",
    "Hate speech online targets migrant women in particular and goes largely unpunished.",
    "Remittance costs in our corridor fell after a price comparison website was launched.",
    "Local authorities lack the data to plan services for newly arrived residents.",
    "Trade unions organised seasonal workers and negotiated housing standards with employers.",
    "Pre-departure orientation reduced the fees that recruiters charged to workers.",
)


def stakeholder_input(n: int, rng: random.Random, kinds: tuple[str, ...]) -> dict[str, Any]:
    content = documents.stakeholder_input(f"Organisation {n:05d}", kinds[n % len(kinds)])
    content["objectives"] = sorted(rng.sample(range(1, 24), rng.randint(1, 4)))
    content["input"] = " ".join(rng.choices(SENTENCES, k=rng.randint(2, 10)))
    content["recommendations"] = rng.sample(
        [
            "Decouple residence permits from a single employer.",
            "Fund independent counselling services for migrant workers.",
            "Guarantee access to schooling regardless of residence status.",
            "Publish migration data disaggregated by sex and age.",
            "Lower the fees of recognition procedures.",
        ],
        rng.randint(1, 3),
    )
    content["publication"] = "with_name" if n % 10 != 0 else "do_not_publish"
    return content


async def store_review(svc: Services, inputs: int) -> tuple[str, int]:
    """A review in compilation with every member State's report and `inputs` inputs."""
    from domain.reference import load_reference

    states = list(load_reference().region("ECE").default_scope)  # type: ignore[union-attr]
    secretariat = await create_account(svc.api_pool, "secretariat", regions=("ECE",))
    review_id = f"ece-bench-compile-{secrets.token_hex(4)}"
    rng = random.Random(2020)
    kinds = categories()
    statuses = ("not_started", "planned", "in_progress", "implemented")
    organisations, submissions, versions = [], [], []
    for index, country in enumerate(states):
        report = documents.national_report(country)
        for objective in report["objectives"]:
            objective["status"] = statuses[(index + objective["number"]) % len(statuses)]
        submission_id = uuid.uuid4()
        submissions.append((submission_id, review_id, "national_report", country, 1))
        versions.append(accepted_version(submission_id, report, secretariat.id))
    for n in range(inputs):
        submission_id = uuid.uuid4()
        content = stakeholder_input(n, rng, kinds)
        organisation_id = uuid.uuid4()  # an input's subject is its organisation's id
        organisations.append(
            (organisation_id, content["organisation"]["name"], content["organisation"]["category"])
        )
        submissions.append((submission_id, review_id, "stakeholder_input", str(organisation_id), 1))
        versions.append(accepted_version(submission_id, content, secretariat.id))
    async with svc.api_pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """INSERT INTO reviews (id, region, title, member_states, timeline, reminder_days,
                                    late_submissions, phase, deadlines, created_by)
               VALUES ($1, 'ECE', 'Regional review of the GCM in the UNECE region', $2, '{}',
                       '{14}', 'accept_flagged', 'compilation', '{}', $3)""",
            review_id,
            states,
            secretariat.id,
        )
        await copy_submissions(conn, organisations, submissions, versions)
    await svc.api_pool.execute("ANALYZE submissions; ANALYZE submission_versions")
    return review_id, len(states)


async def in_child(kind: str, *arguments: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.compile_child", kind, *arguments, stdout=subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), CHILD_TIMEOUT_S)
    if process.returncode != 0:
        raise RuntimeError(f"the {kind} child failed with code {process.returncode}")
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


async def main(args: argparse.Namespace) -> Report:
    inputs = args.inputs or (5_000 if args.quick else 50_000)
    # Even the quick size's PDF takes a minute or more: rendered once.
    pdf_runs = 1 if args.quick else args.runs
    report = Report(
        "compile",
        f"{inputs:,} stakeholder inputs + a national report from each ECE member State; "
        f"median of {args.runs} runs (PDFs: {pdf_runs}), each in a fresh child process",
        setup=(
            "Peak RSS is the high-water mark (VmHWM) of a child process that imports reviewflow, "
            "connects, compiles and renders, nothing else; the bare query's child decodes every "
            "document into Python objects with the service's JSON codec. The PDF is rendered in "
            "a child process of its own (as the service renders it, in a process of its own), "
            "from the HTML the last compile wrote; the bare PDF's child imports WeasyPrint "
            "alone and lays the pages out with the report's print stylesheet, without their "
            "margins' running heads and numbers or the tags for screen readers. RSS before is each child's mark once it has imported what it needs and read "
            "the HTML."
        ),
    )
    async with services("compile") as svc:
        report.machine = svc.machine()
        started = time.perf_counter()
        review_id, states = await store_review(svc, inputs)
        print(
            f"stored {inputs:,} inputs and {states} national reports in "
            f"{time.perf_counter() - started:.1f} s"
        )
        html = str(svc.data_dir / "report.html")
        database = ("--dsn", svc.dsn, "--review", review_id)
        bares, compiles = await bare_then_service(
            args.runs,
            lambda: in_child("bare", *database),
            lambda: in_child("compile", *database, "--html", html),
            "run {run}: compile+render {s[seconds]:.2f} s "
            "(compile {s[compile_s]:.2f}, render {s[render_s]:.2f}), "
            "peak RSS {s[peak_mb]:.0f} MB; bare query {b[seconds]:.2f} s",
        )
        bare_pdfs, pdfs = await bare_then_service(
            pdf_runs,
            lambda: in_child("weasyprint", "--html", html),
            lambda: in_child("pdf", "--html", html),
            "run {run}: PDF {s[seconds]:.2f} s, peak RSS {s[peak_mb]:.0f} MB, {s[pages]} pages; "
            "WeasyPrint alone {b[seconds]:.2f} s, {b[peak_mb]:.0f} MB, {b[pages]} pages",
        )
    c, b, pdf, bare_pdf = (
        median_per_metric([{k: float(v) for k, v in r.items()} for r in runs])
        for runs in (compiles, bares, pdfs, bare_pdfs)
    )
    ratio = c["seconds"] / b["seconds"]
    complete = all(
        r["stakeholder_inputs"] == inputs and r["reports_received"] == states for r in compiles
    )
    report.compare(
        "wall time, compile + render (s)", "seconds", c, b, at_most(ratio, GOAL_RATIO, "x bare")
    )
    report.add("  of which compile_report (s)", c["compile_s"])
    report.add("  of which JSON + HTML + Markdown (s)", c["render_s"])
    report.compare(
        "peak RSS of the process (MB)", "peak_mb", c, b, at_most(c["peak_mb"], GOAL_RSS_MB, " MB")
    )
    report.add("RSS before compiling (MB)", c["baseline_mb"], b["baseline_mb"])
    report.add(
        "inputs and national reports in the report",
        f"{int(c['stakeholder_inputs']):,} + {int(c['reports_received'])}",
        f"{int(b['rows']):,} rows",
        goal=f"{inputs:,} + {states}",
        met=complete,
    )
    report.compare("PDF: wall time, beside WeasyPrint alone (s)", "seconds", pdf, bare_pdf)
    report.compare("PDF: peak RSS of the process (MB)", "peak_mb", pdf, bare_pdf)
    report.compare("PDF: RSS before rendering (MB)", "baseline_mb", pdf, bare_pdf)
    report.compare("PDF: pages", "pages", pdf, bare_pdf)
    report.compare("PDF: size (kB)", "kilobytes", _kb(pdf), _kb(bare_pdf))
    report.add(
        "report size JSON / HTML / Markdown (kB)",
        f"{c['json_bytes'] / 1000:,.0f} / {c['html_bytes'] / 1000:,.0f} / "
        f"{c['markdown_bytes'] / 1000:,.0f}",
    )
    report.notes.append(
        "Per run (compile+render / bare query, s): "
        + "; ".join(
            f"{x['seconds']:.2f} / {y['seconds']:.2f}" for x, y in zip(compiles, bares, strict=True)
        )
        + "; (PDF / WeasyPrint alone, s): "
        + "; ".join(
            f"{x['seconds']:.2f} / {y['seconds']:.2f}" for x, y in zip(pdfs, bare_pdfs, strict=True)
        )
    )
    return report


def _kb(measured: dict[str, float]) -> dict[str, float]:
    return {"kilobytes": measured["pdf_bytes"] / 1000}


if __name__ == "__main__":
    run_main(main, __doc__, OPTIONS)
