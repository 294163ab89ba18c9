"""Every page in each of the six UN languages. A realistic state is built once: a review in its
call for inputs with a national report's draft, another through its consultation to its report
awaiting approval and then published. Each page is fetched in every language (its status,
`lang` and `dir`, the switch listing the six with the one in use marked) and checked by axe in
chromium: every page in Arabic, the language most unlike the English the pages are written in,
and each page in one of the other five in turn, so that each language has its share. The pages
read in English alone are checked by axe in the tests of each page."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, BrowserContext
from temporalio.client import Client

import i18n
from api.app import create_app
from api.keys import SERVICES
from config.settings import Settings
from services import drafts, submissions
from tests import documents
from tests.browser import assert_accessible, needs_chromium
from tests.reviews import review_body
from tests.test_report import Run
from tests.web_site import Site, browser_like, form_token, path_of, post_form
from web.language import LANGUAGE_COOKIE
from web.sessions import SESSION_COOKIE

pytestmark = [pytest.mark.usefixtures("worker"), needs_chromium]

DIRECTIONS = {code: "rtl" if code == "ar" else "ltr" for code in i18n.LANGUAGES}
# Every page is checked by axe in Arabic, and in one of these in turn.
IN_TURN = ("en", "zh", "fr", "ru", "es")

HTML_TAG = re.compile(r"<html([^>]*)>")
SWITCH = re.compile(r'<form method="post" action="/language"[^>]*>(.*?)</form>', re.S)
SWITCH_BUTTON = re.compile(r"<button[^>]*>")
SWITCH_CURRENT = re.compile(r'<span[^>]*aria-current="true"[^>]*>')
# What a page shows when a template went astray: a value or a placeholder left unfilled.
BROKEN = re.compile(r"\{\{|\{%|%\([a-z_]+\)s|Undefined|Traceback")


def attributes(tag: str) -> dict[str, str]:
    return dict(re.findall(r'([a-z_-]+)="([^"]*)"', tag))


def check_page(html: str, code: str, where: str) -> None:
    """`html` is whole, says it is in `code` and which way it is written, and offers the
    switch to the six languages, each named in its own language, `code` marked as in use."""
    found = HTML_TAG.search(html)
    assert found is not None, where
    assert attributes(found.group(1)) == {"lang": code, "dir": DIRECTIONS[code]}, where
    assert html.rstrip().endswith("</html>"), where
    assert BROKEN.search(html) is None, f"{where}: {BROKEN.search(html)}"
    [switch] = SWITCH.findall(html)
    offered = [attributes(tag) for tag in SWITCH_BUTTON.findall(switch)]
    [current] = [attributes(tag) for tag in SWITCH_CURRENT.findall(switch)]
    assert current["lang"] == code and current["dir"] == DIRECTIONS[code], where
    assert all(b["value"] == b["lang"] and b["dir"] == DIRECTIONS[b["lang"]] for b in offered)
    assert sorted([code] + [b["value"] for b in offered]) == sorted(i18n.LANGUAGES), where


@dataclass
class Visit:
    """A page `who` visits, answered with `status`; checked by axe in Arabic and, unless it is
    too big to check twice in the time a test has, in another language."""

    who: str
    path: str
    status: int = 200
    everywhere: bool = True


@dataclass
class Browsing:
    """The people browsing, a client each, and the pages each of them visits."""

    site: Site
    stack: AsyncExitStack
    clients: dict[str, aiohttp.ClientSession] = field(default_factory=dict)

    async def add(self, who: str, account: Any | None) -> None:
        client = await self.stack.enter_async_context(browser_like(self.site.api))
        if account is not None:
            assert (await post_form(client, path_of(await self.site.link(account)))).status == 303
        self.clients[who] = client

    def cookies(self, who: str) -> list[dict[str, Any]]:
        """The session of `who`, for a browser context."""
        base = str(self.site.api.make_url("/"))
        return [
            {"name": c.key, "value": c.value, "url": base}
            for c in self.clients[who].cookie_jar
            if c.key == SESSION_COOKIE
        ]


async def get(client: aiohttp.ClientSession, path: str, code: str) -> tuple[int, str]:
    client.cookie_jar.update_cookies({LANGUAGE_COOKIE: code})
    response = await client.get(path, allow_redirects=False)
    return response.status, await response.text()


async def a_call_for_inputs(
    site: Site,
    secretariat: Any,
    *,
    states: tuple[str, ...] = ("DEU", "FRA"),
    title: str | None = None,
    name: str | None = None,
) -> tuple[str, Any]:
    """A review of the secretariat's region in its call for inputs, and the focal point of its
    first State with a draft of its national report saved: its task open, its form filled in."""
    [region] = secretariat.actor.regions
    body = review_body(
        region=region,
        id=f"{region.lower()}-languages-{secrets.token_hex(4)}",
        title=title or f"Regional review of the GCM in the {region} region {secrets.token_hex(2)}",
        member_states=list(states),
        stakeholders=[],
    )
    created = await site.api.post("/v1/reviews", json=body, headers=secretariat.headers)
    assert created.status == 201, await created.text()
    await Run(site.api, secretariat, body["id"]).ok("advance")
    fields = {"name": name} if name else {}
    focal_point = await site.person("focal_point", country=states[0], regions=(region,), **fields)
    deps = site.api.app[SERVICES]
    intake = await submissions.intake(deps, focal_point.actor, body["id"])
    await drafts.save(deps, intake, documents.national_report(states[0]))
    return body["id"], focal_point


async def a_consultation(site: Site, secretariat: Any) -> dict[str, Any]:
    """A review of ECE in its consultation: Germany's national report and two organisations'
    inputs in, one organisation's answer sent, the other's task open."""
    tag = secrets.token_hex(3)
    germany = await site.person("focal_point", country="DEU", regions=("ECE",))
    ngos = [
        await site.person(
            "stakeholder",
            organisation=f"{name} {tag}",
            stakeholder_category=category,
            regions=("ECE",),
        )
        for name, category in (("Alpha", "civil_society"), ("Beta", "academia"))
    ]
    body = review_body(
        id=f"ece-languages-{tag}",
        member_states=["DEU", "FRA"],
        stakeholders=[ngo.id for ngo in ngos],
    )
    created = await site.api.post("/v1/reviews", json=body, headers=secretariat.headers)
    assert created.status == 201, await created.text()
    run = Run(site.api, secretariat, body["id"])
    await run.ok("advance")
    sent = [(germany, "national_report", documents.national_report("DEU"))]
    sent += [
        (ngo, "stakeholder_input", documents.stakeholder_input(ngo.actor.organisation))
        for ngo in ngos
    ]
    for account, kind, content in sent:
        response = await site.api.post(
            f"{run.url}/submissions",
            json={"kind": kind, "content": content},
            headers=account.headers,
        )
        assert response.status == 201, await response.text()
    await run.ok("advance")  # the consultation
    tasks = []
    for ngo in ngos:
        found = await site.api.get(f"/v1/tasks?review={run.id}", headers=ngo.headers)
        [task] = (await found.json())["items"]
        tasks.append(task["id"])
    answered = await site.api.post(
        f"/v1/tasks/{tasks[0]}/complete",
        json={"response": documents.consultation_response()},
        headers=ngos[0].headers,
    )
    assert answered.status == 200, await answered.text()
    # The secretariat made the first organisation's account, so manages it.
    await site.pool.execute(
        "UPDATE actors SET created_by = $1 WHERE id = $2", secretariat.actor.id, ngos[0].actor.id
    )
    submission = await site.pool.fetchval(
        "SELECT id FROM submissions WHERE review_id = $1 AND kind = 'national_report'", run.id
    )
    return {"run": run, "ngos": ngos, "tasks": tasks, "submission": submission}


async def an_import(client: aiohttp.ClientSession) -> str:
    """The page of a file of people checked before importing it."""
    form = aiohttp.FormData()
    form.add_field("csrf_token", await form_token(client, "/people/import"))
    people = (
        "name,email,organisation,category,country,role\n"
        f"Amal Haddad,amal-{secrets.token_hex(3)}@example.org,Diaspora Council,"
        "diaspora_migrant_organisations,,stakeholder\n"
        "Boris Petrov,not an address,Workers Union,trade_unions,,stakeholder\n"
    )
    form.add_field("file", people.encode(), filename="people.csv", content_type="text/csv")
    sent = await client.post("/people/import", data=form, allow_redirects=False)
    assert sent.status == 303, await sent.text()
    return sent.headers["Location"]


def first_visits(calling: str, consulting: dict[str, Any], imported: str) -> list[Visit]:
    """The pages while one review calls for inputs and the other consults."""
    review = consulting["run"].id
    answered, open_task = consulting["tasks"]
    stakeholder = consulting["ngos"][0]
    return [
        # Anyone's.
        Visit("visitor", "/"),
        Visit("visitor", "/sign-in"),
        Visit("visitor", "/sign-in/check-email"),
        Visit("visitor", "/sign-in/not-a-link", 404),
        Visit("visitor", "/signed-out"),
        Visit("visitor", "/no-such-page", 404),
        # The secretariat's console.
        Visit("secretariat", "/tasks"),
        Visit("secretariat", "/account"),
        Visit("secretariat", "/people"),
        Visit("secretariat", "/people/new"),
        Visit("secretariat", "/people/import"),
        Visit("secretariat", imported),
        Visit("secretariat", f"/people/{stakeholder.id}"),
        Visit("secretariat", f"/people/{stakeholder.id}/deactivate"),
        Visit("secretariat", "/reviews"),
        Visit("secretariat", "/reviews/new"),
        Visit("secretariat", f"/reviews/{calling}/edit"),
        Visit("secretariat", f"/reviews/{calling}/dashboard"),
        Visit("secretariat", f"/reviews/{calling}/invitations"),
        Visit("secretariat", f"/reviews/{calling}/remind"),
        Visit("secretariat", f"/reviews/{calling}/announce"),
        Visit("secretariat", f"/reviews/{calling}/extend"),
        Visit("secretariat", f"/reviews/{calling}/advance"),
        Visit("secretariat", f"/reviews/{calling}/cancel"),
        Visit("secretariat", f"/reviews/{review}/dashboard"),
        Visit("secretariat", f"/reviews/{review}/submissions"),
        Visit("secretariat", f"/reviews/{review}/submissions/{consulting['submission']}"),
        Visit("secretariat", f"/reviews/{review}/synthesis"),
        Visit("secretariat", f"/reviews/{calling}/synthesis"),
        Visit("secretariat", f"/reviews/{review}/answers"),
        Visit("secretariat", f"/reviews/{review}/answers/{answered}"),
        Visit("secretariat", f"/reviews/{review}/audit"),
        Visit("secretariat", f"/reviews/{review}/deliveries"),
        Visit("secretariat", "/reviews/no-such-review/dashboard", 404),
        # A focal point's call for inputs.
        Visit("germany", "/tasks"),
        Visit("germany", f"/reviews/{calling}"),
        # The whole national report form: axe takes seconds to check it.
        Visit("germany", f"/reviews/{calling}/submit", everywhere=False),
        # Its team, and the draft's first revision (as long as the form).
        Visit("germany", f"/reviews/{calling}/team"),
        Visit("germany", f"/reviews/{calling}/draft/revisions/1", everywhere=False),
        # Organisations' consultation.
        Visit("answered", f"/tasks/{answered}"),
        Visit("consulted", "/tasks"),
        Visit("consulted", f"/tasks/{open_task}"),
        Visit("consulted", f"/tasks/{open_task}/delegate"),
        Visit("consulted", f"/reviews/{review}"),
    ]


async def browsed(browser: Browser, browsing: Browsing, visits: list[Visit], turn: int) -> None:
    """Each page fetched in the six languages and checked; then seen by axe in chromium, in
    Arabic and in one of the others, each page the next one of them."""
    for visit in visits:
        for code in i18n.LANGUAGES:
            status, html = await get(browsing.clients[visit.who], visit.path, code)
            where = f"{visit.path} as {visit.who} in {code}"
            assert status == visit.status, f"{where}: {status}"
            check_page(html, code, where)

    base = str(browsing.site.api.make_url("")).rstrip("/")
    contexts: dict[str, BrowserContext] = {}
    try:
        for n, visit in enumerate(visits):
            if visit.who not in contexts:
                contexts[visit.who] = await browser.new_context(base_url=base)
                cookies = browsing.cookies(visit.who)
                if cookies:
                    await contexts[visit.who].add_cookies(cookies)  # type: ignore[arg-type]
            context = contexts[visit.who]
            page = context.pages[0] if context.pages else await context.new_page()
            codes = ("ar", IN_TURN[(turn + n) % len(IN_TURN)]) if visit.everywhere else ("ar",)
            for code in codes:
                await context.add_cookies(
                    [{"name": LANGUAGE_COOKIE, "value": code, "url": base + "/"}]
                )
                response = await page.goto(visit.path)
                assert response is not None and response.status == visit.status, visit.path
                assert await page.locator("html").get_attribute("dir") == DIRECTIONS[code]
                await assert_accessible(page)
    finally:
        for context in contexts.values():
            await context.close()


@pytest.fixture
async def unlimited_site(
    settings: Settings, pool: asyncpg.Pool, temporal_client: Client, make_account: Any
) -> AsyncIterator[Site]:
    """The pages served without a rate limit: this test asks for hundreds of them at once
    from one address, more than the limit's burst, which the other tests share."""
    app = create_app(replace(settings, rate_limit=0.0), pool=pool, temporal=temporal_client)
    async with TestClient(TestServer(app)) as api, browser_like(api) as client:
        yield Site(api, client, pool, settings, make_account)


# Over a minute (each page six times, axe on each): `make test-slow`, which CI runs too.
@pytest.mark.slow
async def test_every_page_in_every_language(unlimited_site: Site, browser: Browser) -> None:
    site = unlimited_site
    secretariat = await site.person("secretariat", regions=("ECE",))
    calling, germany = await a_call_for_inputs(site, secretariat)
    consulting = await a_consultation(site, secretariat)
    answered_by, consulted = consulting["ngos"]
    async with AsyncExitStack() as stack:
        browsing = Browsing(site, stack)
        await browsing.add("visitor", None)
        for who, account in (
            ("secretariat", secretariat),
            ("germany", germany),
            ("answered", answered_by),
            ("consulted", consulted),
        ):
            await browsing.add(who, account)
        imported = await an_import(browsing.clients["secretariat"])
        visits = first_visits(calling, consulting, imported)
        # A sign-in link's page (which does not use the link up).
        visits.append(Visit("visitor", path_of(await site.link(germany))))
        await browsed(browser, browsing, visits, 0)

        # The consultation over, the report compiled awaits a decision.
        run = consulting["run"]
        assert (await run.ok("advance"))["phase"] == "approval"
        report = f"/reviews/{run.id}/report"
        awaiting = [
            Visit("secretariat", report),
            Visit("secretariat", f"{report}/request-changes"),
            Visit("secretariat", f"{report}/approve"),
            Visit("secretariat", f"/reviews/{run.id}/dashboard"),
        ]
        await browsed(browser, browsing, awaiting, 1)

        # Approved, it is published for anyone to read.
        assert (await run.ok("report/approve", {}))["status"] == "published"
        published = [
            Visit("visitor", "/reports"),
            Visit("visitor", "/reports/regions/ECE"),
            Visit("visitor", f"/reports/{run.id}"),
            Visit("secretariat", report),
        ]
        await browsed(browser, browsing, published, 2)
