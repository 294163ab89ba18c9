"""Published reports, for anyone, without signing in: the list by region, a report's page,
its frozen files (PDF, HTML, JSON, Markdown) and an Atom feed of publications.

A review whose report is not published is answered as one that does not exist. The files are
the published version's bytes, which never change: each carries an ETag (its content hash and
format) and may be cached.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp import web

import i18n
from api.keys import POOL, SERVICES, SETTINGS
from api.reports import frozen_answer
from api.requests import REVIEW_ID_PATTERN
from api.rollups import rollup_answer
from domain.reference import load_reference
from i18n import LANGUAGES, gettext
from services import publications, rollups
from services.reports import reader_language
from web.format import local_time
from web.render import environment, page

routes = web.RouteTableDef()

# The published bytes never change; a cache may keep them a day, checking back by ETag after.
FROZEN_CACHE = "public, max-age=86400"
# The feed changes with every publication. (The pages are not cached by others: they show
# the person signed in, if any.)
FEED_CACHE = "public, max-age=300"
FEED_TYPE = "application/atom+xml"
# A review id as the API takes them (its pattern without the anchors).
REVIEW_ID = "{review_id:" + REVIEW_ID_PATTERN.removeprefix("^").removesuffix("$") + "}"
# The feed's date while nothing is published yet: a fixed day before any publication (the
# General Assembly endorsed the Compact on it).
NOTHING_PUBLISHED = datetime(2018, 12, 19, tzinfo=UTC)


def region_name(code: str) -> str:
    """The region's commission and region, in the language in use."""
    region = load_reference().region(code)
    if region is None:
        return code
    return f"{gettext(region.commission)} ({gettext(region.region)})"


def _listed(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "review_id": row["review_id"],
        "title": row["title"],
        "version": row["version"],
        "published": local_time(row["published_at"], "UTC"),
        "href": f"/reports/{row['review_id']}",
    }


async def _list_page(request: web.Request, region: str | None) -> web.Response:
    rows = await publications.published_reports(request.app[SERVICES], region)
    by_region: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_region.setdefault(row["region"], []).append(_listed(row))
    regions = [
        {"code": r.code, "name": region_name(r.code), "reports": by_region.get(r.code, [])}
        for r in load_reference().regions
        if region is None or r.code == region
    ]
    return page(
        request,
        "public/reports.html",
        {
            "regions": regions,
            "chosen": region,
            "choices": [(r.code, region_name(r.code)) for r in load_reference().regions],
            "rollups": [] if region else await rollups.listed_rollups(request.app[POOL], None),
        },
    )


@routes.get("/reports")
async def reports_page(request: web.Request) -> web.Response:
    """Every published report, by region; `?region=ECE` for one region's."""
    return await _list_page(request, request.query.get("region") or None)


@routes.get("/reports/regions/{code}")
async def region_page(request: web.Request) -> web.Response:
    return await _list_page(request, request.match_info["code"])


@routes.get("/reports/feed.atom")
async def feed(request: web.Request) -> web.Response:
    """An Atom 1.0 feed of the publications, newest first, each with its page and its PDF."""
    rows = await publications.published_reports(request.app[SERVICES], None)
    base = request.app[SETTINGS].api_url
    updated = rows[0]["published_at"] if rows else NOTHING_PUBLISHED
    text = (
        environment()
        .get_template("public/feed.atom")
        .render(
            base=base,
            language=i18n.current(),
            updated=updated.isoformat(),
            entries=[
                {**_listed(row), "region": region_name(row["region"]), "at": row["published_at"]}
                for row in rows
            ],
        )
    )
    return web.Response(
        text=text,
        content_type=FEED_TYPE,
        charset="utf-8",
        headers={"Cache-Control": FEED_CACHE},
    )


@routes.get(f"/reports/{REVIEW_ID}.{{format:pdf|json|md|html}}")
async def frozen_file(request: web.Request) -> web.Response:
    """The published version in one format, byte for byte as it was approved: its HTML,
    Markdown and PDF in the first of its languages."""
    return await _frozen(request, None)


@routes.get(f"/reports/{REVIEW_ID}.{{language:{'|'.join(LANGUAGES)}}}.{{format:pdf|md|html}}")
async def frozen_file_in(request: web.Request) -> web.Response:
    """The published version's HTML, Markdown or PDF in one of its languages
    (`/reports/ece-2020.fr.pdf`), byte for byte as it was approved."""
    return await _frozen(request, request.match_info["language"])


async def _frozen(request: web.Request, language: str | None) -> web.Response:
    deps = request.app[SERVICES]
    found = await publications.published_report(deps, request.match_info["review_id"])
    chosen = request.match_info["format"]
    written = await publications.published_rendering(deps, found, language or found["language"])

    async def content() -> str | bytes:
        if chosen == "pdf":
            return await publications.published_pdf(deps, found, written.language)
        if chosen == "json":
            text: str = found["json"]
            return text
        return written.html if chosen == "html" else written.markdown

    headers = {"Cache-Control": FROZEN_CACHE}
    if chosen != "json":
        headers["Content-Language"] = written.language
    other = None if written.language == found["language"] else written.language
    return await frozen_answer(request, found["content_hash"], chosen, content, headers, other)


def file_address(review_id: str, found: asyncpg.Record, language: str, extension: str) -> str:
    """Where the published version's file is in `language`: the first language's at the
    report's own address (`/reports/ece-2020.pdf`), another's with its code before the
    extension (`/reports/ece-2020.fr.pdf`)."""
    if language == found["language"]:
        return f"/reports/{review_id}.{extension}"
    return f"/reports/{review_id}.{language}.{extension}"


def _files(address: Callable[[str], str]) -> list[tuple[str, str, str]]:
    """A published report's files: each one's label, what it is, and `address(format)`."""
    return [
        ("PDF", gettext("A4, to print or share"), address("pdf")),
        (gettext("Web page"), gettext("the report as one page"), address("html")),
        ("Markdown", gettext("plain text"), address("md")),
        ("JSON", gettext("the data, for re-use"), address("json")),
    ]


@routes.get(f"/reports/{REVIEW_ID}")
async def report_page(request: web.Request) -> web.Response:
    """A published report: what it is, a few figures, and its files."""
    deps = request.app[SERVICES]
    summary = await publications.published_summary(deps, request.match_info["review_id"])
    found, overview = summary.head, summary.overview
    review_id = found["review_id"]
    # The version in the reader's language when it is written in it, else in its first.
    language = reader_language(found, i18n.current().code)
    return page(
        request,
        "public/report.html",
        {
            "report": found,
            "region": region_name(found["region"]),
            "published": local_time(found["published_at"], "UTC"),
            "overview": overview,
            "files": _files(
                lambda kind: (
                    f"/reports/{review_id}.json"
                    if kind == "json"
                    else file_address(review_id, found, language, kind)
                )
            )
            # The PDF in the report's other language, named in that language.
            + [
                ("PDF", i18n.language(code).own_name, file_address(review_id, found, code, "pdf"))
                for code in found["languages"]
                if code != language
            ],
        },
    )


# ---- the global syntheses (roll-ups of a cycle) ----------------------------------------------

CYCLE = "{cycle:[0-9]{4}-[0-9]{4}}"


@routes.get(f"/reports/global/{CYCLE}.{{format:pdf|json|md|html}}")
async def rollup_file(request: web.Request) -> web.Response:
    """The published version of a cycle's roll-up, in its stored bytes."""
    response = await rollup_answer(
        request, None, request.match_info["cycle"], request.match_info["format"], None
    )
    response.headers["Cache-Control"] = FROZEN_CACHE
    return response


@routes.get(f"/reports/global/{CYCLE}")
async def rollup_page(request: web.Request) -> web.Response:
    """A cycle's published global synthesis: what it is, the regions in it, and its files."""
    cycle = request.match_info["cycle"]
    document = await rollups.rollup_document(request.app[POOL], None, cycle)
    files = _files(lambda kind: f"/reports/global/{cycle}.{kind}")
    return page(
        request,
        "public/rollup.html",
        {"rollup": document, "published": document["versions"][-1], "files": files},
    )
