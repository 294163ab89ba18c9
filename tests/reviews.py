"""Helpers for tests that create reviews and submit to them through the API."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any


def timeline(
    start: datetime | None = None, *, opens_in: timedelta = timedelta(days=1)
) -> dict[str, str]:
    """Deadlines in the future, spaced like a compressed ECE 2020 review."""
    start = start or datetime.now(UTC)
    opens = start + opens_in
    return {
        "call_opens_at": opens.isoformat(),
        "inputs_due_at": (opens + timedelta(days=40)).isoformat(),
        "consultation_due_at": (opens + timedelta(days=54)).isoformat(),
        "report_due_at": (opens + timedelta(days=80)).isoformat(),
    }


def review_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"ece-test-{secrets.token_hex(4)}",
        "region": "ECE",
        "title": "Regional review of the GCM in the UNECE region",
        "member_states": ["DEU", "FRA", "KAZ", "USA"],
        "timeline": timeline(),
    }
    body.update(overrides)
    return body


async def eventually(check: Callable[[], Awaitable[Any]], *, deadline_s: float = 20.0) -> Any:
    """Poll `check` until it returns a truthy value or the deadline passes."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    delay = 0.02
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > end:
            raise AssertionError(f"condition not met within {deadline_s}s; last result: {result!r}")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)
