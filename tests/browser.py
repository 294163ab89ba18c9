"""Pages in a real browser: Debian's chromium driven by playwright (no browser download), and
axe-core (shipped inside axe-playwright-python) for accessibility."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Skipped, and said so in the summary (`make test` shows skip reasons), where chromium is absent.
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="browser tests skipped: chromium is not installed (apt-get install -y chromium)",
)

# What fails a page: WCAG 2.1 AA rules, at these impacts.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}


def _described(violation: dict[str, Any]) -> str:
    targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
    return f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}"


async def assert_accessible(page: Page) -> None:
    """The page as it stands has no serious or critical WCAG 2.1 AA violation."""
    # Only the violations are reported in full: listing every node that passes takes axe
    # seconds on a long form.
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    result = await Axe().run(page, options=options)
    blocking = [
        _described(v) for v in result.response["violations"] if v["impact"] in BLOCKING_IMPACTS
    ]
    assert blocking == [], f"{page.url}: " + "; ".join(blocking)


# Where the pages' pictures for the README and the guides are kept.
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


async def screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    """With REVIEWFLOW_SCREENSHOTS set, the page as docs/screenshots/<name>.png; otherwise
    nothing is written, so a test run leaves the repository as it was."""
    if os.environ.get("REVIEWFLOW_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)
