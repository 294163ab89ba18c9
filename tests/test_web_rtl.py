"""Choosing the language, and Arabic written right to left: the switch on every page (a cookie
for a visitor, the preference of a person signed in), Accept-Language, where the switch may
send back to, the headers that tell caches which language an answer is in; and in chromium, an
Arabic page laid out from the right, with the pictures of the Arabic inbox and national report
form for the documentation."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
from playwright.async_api import FloatRect, Page

from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.test_report import review_in_approval
from tests.test_web_languages import a_call_for_inputs, check_page
from tests.web_site import Site, browser_like, cookie_flags, form_token, path_of, post_form
from web.language import LANGUAGE_COOKIE, LANGUAGE_COOKIE_AGE

pytestmark = pytest.mark.usefixtures("worker")

# As ESCWA would title a review in Arabic: titles are the secretariat's words, never translated.
ARAB_REVIEW = (
    "الاستعراض الإقليمي لتنفيذ الاتفاق العالمي من أجل الهجرة الآمنة والمنظمة والنظامية"
    " في المنطقة العربية"
)


def lang_of(html: str) -> tuple[str, str]:
    found = re.search(r'<html lang="([^"]*)" dir="([^"]*)">', html)
    assert found is not None, html[:200]
    return found.group(1), found.group(2)


async def page_language(
    client: aiohttp.ClientSession, path: str, headers: dict[str, str] | None = None
) -> tuple[str, str]:
    response = await client.get(path, headers=headers or {}, allow_redirects=False)
    html = await response.text()
    assert response.status == 200, html
    assert response.headers["Content-Language"] == lang_of(html)[0]
    return lang_of(html)


async def switch(
    client: aiohttp.ClientSession, language: str, return_to: str = "/", on: str = "/"
) -> aiohttp.ClientResponse:
    """The switch at the foot of the page `on`, to `language`."""
    form = {"csrf_token": await form_token(client, on), "language": language}
    return await client.post(
        "/language", data={**form, "return_to": return_to}, allow_redirects=False
    )


def varies_on(response: aiohttp.ClientResponse) -> set[str]:
    return {
        part.strip().lower()
        for value in response.headers.getall("Vary", [])
        for part in value.split(",")
    }


async def test_a_visitor_switching_to_arabic_reads_every_next_page_in_arabic(
    site: Site,
) -> None:
    assert await page_language(site.client, "/reports") == ("en", "ltr")
    switched = await switch(site.client, "ar", "/reports?region=ECE", on="/reports")
    assert switched.status == 303
    assert switched.headers["Location"] == "/reports?region=ECE"
    assert {"httponly", "path=/", "samesite=lax", f"max-age={LANGUAGE_COOKIE_AGE}"} <= (
        cookie_flags(switched, LANGUAGE_COOKIE)
    )
    assert site.cookie(LANGUAGE_COOKIE) == "ar"
    for path in ("/", "/reports", "/sign-in", "/signed-out", "/sign-in/check-email"):
        response = await site.client.get(path)
        check_page(await response.text(), "ar", path)
        assert response.headers["Content-Language"] == "ar"
    # What the browser asks for comes after what the visitor chose here.
    assert await page_language(site.client, "/", {"Accept-Language": "fr"}) == ("ar", "rtl")
    # And back.
    assert (await switch(site.client, "en")).status == 303
    assert await page_language(site.client, "/") == ("en", "ltr")


async def test_a_person_s_switch_is_kept_as_their_preference(site: Site) -> None:
    person = await site.person("focal_point", country="DEU", regions=("ECE",))
    await site.sign_in(person)
    assert await page_language(site.client, "/tasks") == ("en", "ltr")
    assert (await switch(site.client, "fr", "/account", on="/tasks")).status == 303
    me = await site.api.get("/v1/actors/me", headers=person.headers)
    assert (await me.json())["language"] == "fr"

    # On another browser, whatever it asks for, once signed in.
    async with browser_like(site.api) as elsewhere:
        wants_spanish = {"Accept-Language": "es-ES,es;q=0.9"}
        assert await page_language(elsewhere, "/sign-in", wants_spanish) == ("es", "ltr")
        assert (await post_form(elsewhere, path_of(await site.link(person)))).status == 303
        assert await page_language(elsewhere, "/tasks", wants_spanish) == ("fr", "ltr")
        elsewhere.cookie_jar.update_cookies({LANGUAGE_COOKIE: "ru"})
        assert await page_language(elsewhere, "/account", wants_spanish) == ("fr", "ltr")
        # Switching there changes the preference for both browsers.
        assert (await switch(elsewhere, "ar", on="/tasks")).status == 303
    assert await page_language(site.client, "/tasks") == ("ar", "rtl")
    me = await site.api.get("/v1/actors/me", headers=person.headers)
    assert (await me.json())["language"] == "ar"


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("de-DE,de;q=0.9,fr;q=0.8,ar;q=0.85", "ar"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("es-419", "es"),
        ("ru;q=0.2, fr;q=0.4", "fr"),
        ("fr;q=0, ru", "ru"),
        ("fr;q=abc, ru;q=0.5", "ru"),
        ("de, it;q=0.5", "en"),
        ("*", "en"),
        ("", "en"),
        ("ar;q=1.0," * 1000, "ar"),
    ],
)
async def test_accept_language_picks_the_most_wanted_of_the_six(
    site: Site, accept_language: str, expected: str
) -> None:
    headers = {"Accept-Language": accept_language}
    code, direction = await page_language(site.client, "/", headers)
    assert (code, direction) == (expected, "rtl" if expected == "ar" else "ltr")


@pytest.mark.parametrize(
    ("return_to", "location"),
    [
        ("/tasks?status=open", "/tasks?status=open"),
        ("//evil.example", "/"),
        ("//evil.example/reports", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ],
)
async def test_the_switch_goes_back_only_to_a_page_of_this_site(
    site: Site, return_to: str, location: str
) -> None:
    switched = await switch(site.client, "es", return_to)
    assert switched.status == 303
    assert switched.headers["Location"] == location


RETURN_TO = re.compile(r'name="return_to" value="([^"]*)"')


async def test_the_switch_goes_back_to_the_page_it_is_on_if_it_can_be_opened(site: Site) -> None:
    """A form sent back with its errors is at an address that opens the form again; a page
    only a form's post reaches (a new token, shown once) is not: the switch there goes back to
    the start page rather than to "Page not found"."""
    person = await site.person("focal_point", country="DEU", regions=("ECE",))
    await site.sign_in(person)
    shown = await site.client.get("/tasks?status=open")
    assert RETURN_TO.findall(await shown.text()) == ["/tasks?status=open"]
    missing = await site.client.get("/no-such-page?x=1")
    assert RETURN_TO.findall(await missing.text()) == ["/no-such-page?x=1"]

    token = await form_token(site.client, "/account")
    issued = await site.client.post("/account/token", data={"csrf_token": token})
    assert issued.status == 200 and issued.url.path == "/account/token"
    assert RETURN_TO.findall(await issued.text()) == ["/"]
    assert (await site.client.get("/account/token", allow_redirects=False)).status == 405

    refused = await site.client.post("/tasks", data={"csrf_token": token})
    assert refused.status == 405 and RETURN_TO.findall(await refused.text()) == ["/"]
    forged = await site.client.post("/account?tab=1", data={"csrf_token": "forged"})
    assert forged.status == 403 and RETURN_TO.findall(await forged.text()) == ["/account?tab=1"]


async def test_a_language_not_offered_is_refused_with_a_page(site: Site) -> None:
    token = await form_token(site.client, "/")
    for language in ("xx", "", "de", "<script>", "a" * 10_000, "ar\u0000", None):
        form = {"csrf_token": token, "return_to": "/"}
        if language is not None:
            form["language"] = language
        refused = await site.client.post("/language", data=form, allow_redirects=False)
        html = await refused.text()
        assert refused.status == 400, html
        assert lang_of(html) == ("en", "ltr") and "<script>" not in html
        assert RETURN_TO.findall(html) == ["/"]
        assert LANGUAGE_COOKIE not in refused.cookies
    # Without the page's token, nothing changes either.
    forged = await site.client.post("/language", data={"language": "ar"}, allow_redirects=False)
    assert forged.status == 403 and LANGUAGE_COOKIE not in forged.cookies
    assert await page_language(site.client, "/") == ("en", "ltr")


async def test_caches_are_told_which_language_an_answer_is_in(site: Site) -> None:
    arabic = {"Accept-Language": "ar"}
    for path, status in (("/", 200), ("/reports", 200), ("/no-such-page", 404)):
        response = await site.client.get(path, headers=arabic, allow_redirects=False)
        assert response.status == status, path
        assert response.headers["Content-Language"] == "ar", path
        assert {"accept-language", "cookie"} <= varies_on(response), path
    secretariat = await site.person("secretariat", regions=("ECE",))
    api = await site.client.get("/v1/gcm", headers={**arabic, **secretariat.headers})
    assert api.status == 200
    assert api.headers["Content-Language"] == "ar"
    assert "accept-language" in varies_on(api)

    # Static and published files are the same in every language, for every visitor.
    reviewed = await review_in_approval(site.api, secretariat, site.make_account)
    await reviewed["run"].ok("report/approve", {})
    review_id = reviewed["run"].id
    files = ["/static/reviewflow.css", "/reports/feed.atom"]
    files += [f"/reports/{review_id}.{format}" for format in ("html", "json", "md", "pdf")]
    for path in files:
        response = await site.client.get(path, headers=arabic)
        assert response.status == 200, path
        assert "cookie" not in varies_on(response), path
        assert "Set-Cookie" not in response.headers, path


# ---- in the browser ---------------------------------------------------------------------------


async def in_arabic(page: Page, site: Site, account: Any | None = None) -> None:
    """The page's browser signed in as `account` (if any) and reading Arabic."""
    if account is not None:
        await page.goto(path_of(await site.link(account)))
        await page.locator("main form button[type=submit]").click()
        await page.wait_for_url(re.compile(r".*/tasks$"))
    base = str(site.api.make_url("/"))
    await page.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": "ar", "url": base}])


async def box(page: Page, selector: str) -> FloatRect:
    found = await page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


async def text_box(page: Page, selector: str) -> dict[str, float]:
    """Where the text of the first `selector` is, and where its content box is."""
    measured: dict[str, float] = await page.locator(selector).first.evaluate(
        """cell => {
            const range = document.createRange();
            range.selectNodeContents(cell);
            const text = range.getBoundingClientRect();
            const box = cell.getBoundingClientRect();
            const style = getComputedStyle(cell);
            return {
                textLeft: text.left, textRight: text.right,
                left: box.left + parseFloat(style.paddingLeft),
                right: box.right - parseFloat(style.paddingRight),
            };
        }"""
    )
    return measured


async def assert_laid_out_from_the_right(page: Page) -> None:
    """The page is right to left: the service's name on the right of the navigation, the
    heading against the right edge of the text, and the skip link, once focused, on the right
    of the window."""
    assert await page.locator("html").get_attribute("dir") == "rtl"
    name, nav = await box(page, ".service-name"), await box(page, "nav .nav-list")
    assert name["x"] > nav["x"] + nav["width"]
    heading, main = await box(page, "main h1"), await box(page, "main")
    assert abs((heading["x"] + heading["width"]) - (main["x"] + main["width"])) < 2
    await page.keyboard.press("Tab")
    skip = await box(page, ".skip-link")
    viewport = page.viewport_size
    assert viewport is not None
    assert abs(skip["x"] + skip["width"] - viewport["width"]) < 2
    await page.keyboard.press("Shift+Tab")


@needs_chromium
async def test_an_arabic_page_is_laid_out_from_the_right(page: Page, site: Site) -> None:
    secretariat = await site.person("secretariat", regions=("ECE",))
    await a_call_for_inputs(site, secretariat)
    await in_arabic(page, site, secretariat)
    await page.goto("/reviews")
    await assert_laid_out_from_the_right(page)
    # A table reads from the right: its first column on the right, against the text's edge,
    # and the words of each cell on their right.
    first, last = await box(page, "main table th"), await box(page, "main table th >> nth=-1")
    assert first["x"] > last["x"]
    main = await box(page, "main")
    heading = await text_box(page, "main table th")
    assert abs(heading["textRight"] - (main["x"] + main["width"])) < 2
    for cell in ("main table th >> nth=-1", "main table td"):
        measured = await text_box(page, cell)
        assert abs(measured["right"] - measured["textRight"]) < 1.5, (cell, measured)
    # The language switch: Arabic first, on the right; the others each in its own direction.
    current = await box(page, ".language-switch__current")
    english = await box(page, ".language-switch button[value=en]")
    assert current["x"] > english["x"]
    assert await page.locator(".language-switch button[value=en]").get_attribute("dir") == "ltr"

    # In English, the same page from the left.
    await page.context.add_cookies(
        [{"name": LANGUAGE_COOKIE, "value": "en", "url": str(site.api.make_url("/"))}]
    )
    await page.goto("/reviews")
    name, nav = await box(page, ".service-name"), await box(page, "nav .nav-list")
    assert name["x"] + name["width"] < nav["x"]
    first, last = await box(page, "main table th"), await box(page, "main table th >> nth=-1")
    assert first["x"] < last["x"]


@needs_chromium
async def test_a_report_s_heatmap_keeps_its_labels_beside_its_cells_in_arabic(
    page: Page, site: Site
) -> None:
    """The heatmap is drawn left to right in every language: on an Arabic page its States'
    names still end where their row of cells starts, rather than running over it."""
    secretariat = await site.person("secretariat", regions=("ECE",))
    reviewed = await review_in_approval(site.api, secretariat, site.make_account)
    await in_arabic(page, site, secretariat)
    await page.goto(f"/reviews/{reviewed['run'].id}/report")
    assert await page.locator("html").get_attribute("dir") == "rtl"
    labels = page.locator("svg.heatmap .row-label")
    assert await labels.count() == 3
    cells_start = min(
        found["x"]
        for found in [
            await cell.bounding_box() for cell in await page.locator("svg.heatmap rect.cell").all()
        ]
        if found is not None
    )
    for label in await labels.all():
        found = await label.bounding_box()
        assert found is not None
        assert found["x"] + found["width"] <= cells_start + 1, await label.text_content()


@needs_chromium
async def test_the_arabic_inbox_and_national_report_form(page: Page, site: Site) -> None:
    """A focal point reading Arabic, whose national report is asked for and drafted: its
    inbox and its form, right to left (and their pictures in docs/screenshots, with
    REVIEWFLOW_SCREENSHOTS set)."""
    secretariat = await site.person("secretariat", regions=("ESCWA",))
    review_id, jordan = await a_call_for_inputs(
        site, secretariat, states=("JOR", "LBN"), title=ARAB_REVIEW, name="ليلى حداد"
    )
    await page.set_viewport_size({"width": 1200, "height": 900})
    await in_arabic(page, site, jordan)

    await page.goto("/tasks")
    await assert_laid_out_from_the_right(page)
    asked = page.locator(f"main a[href='/reviews/{review_id}']")
    await asked.wait_for()
    # What is asked names the State as Arabic does.
    assert "الأردن" in await asked.inner_text()
    link, main = await box(page, f"main a[href='/reviews/{review_id}']"), await box(page, "main")
    assert link["x"] + link["width"] > main["x"] + main["width"] * 0.5
    await assert_accessible(page)
    await screenshot(page, "ar-inbox")

    await page.set_viewport_size({"width": 1200, "height": 1500})
    await page.goto(f"/reviews/{review_id}/submit")
    await assert_laid_out_from_the_right(page)
    # The draft is there, its fields start on the right, under their labels.
    country = page.locator("main select").first
    label = await box(page, "main form label")
    field = await country.bounding_box()
    assert field is not None
    assert abs((label["x"] + label["width"]) - (field["x"] + field["width"])) < 2
    await screenshot(page, "ar-national-report", full_page=False)
