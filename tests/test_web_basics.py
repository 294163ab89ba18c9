"""The web pages' frame: served beside the API, kept to this host, errors in plain words, and
accessible in a real browser."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Page

from tests.browser import assert_accessible, needs_chromium


async def test_the_start_page_is_html_and_kept_to_this_host(api: Any) -> None:
    response = await api.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert '<a class="button" href="/sign-in">Sign in</a>' in await response.text()


async def test_an_unknown_page_is_a_page_but_an_unknown_api_path_is_a_problem(api: Any) -> None:
    page = await api.get("/no/such/page")
    assert (page.status, page.content_type) == (404, "text/html")
    assert "Page not found" in await page.text()
    problem = await api.get("/v1/no/such/thing", headers={"Authorization": "Bearer x"})
    assert problem.content_type == "application/problem+json"


async def test_the_api_keeps_its_own_headers(api: Any) -> None:
    response = await api.get("/healthz")
    assert "Content-Security-Policy" not in response.headers


@needs_chromium
async def test_the_start_page_in_a_browser_loads_nothing_from_elsewhere(page: Page) -> None:
    await page.goto("/")
    assert await page.title() == "Regional reviews \u2013 reviewflow"
    await assert_accessible(page)
    hosts = {urlsplit(url).hostname for url in page.requests_made}  # type: ignore[attr-defined]
    assert hosts == {"127.0.0.1"}


@needs_chromium
async def test_the_skip_link_is_the_first_stop_of_the_keyboard(page: Page) -> None:
    await page.goto("/")
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"
