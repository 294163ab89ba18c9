"""The end of `reviewflow demo --cycle`: the cycle's global synthesis for the International
Migration Review Forum, started before the regional reviews publish (so each publication
makes a version of it, by the signal it sends) and approved once every region of the demo is
in it; then every quote it holds is traced back to its regional report and to the State's
submission it comes from, through the API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import asyncpg

from reports.rollup import quotes_of
from reviewflow.demo_data import DOMAIN
from reviewflow.demo_scenarios import CYCLE
from services.accounts import operator_account

ROLLUP_TITLE = f"Global synthesis of the regional reviews of the Global Compact, {CYCLE}"
# How long the roll-up may take to gather a regional publication into a version.
VERSION_WAIT_S = 60.0
POLL_S = 0.5


class RollupError(RuntimeError):
    """The roll-up did not reach what the demo expects of it."""


class DemoRollup:
    """The cycle's roll-up as its admin runs it, through the API."""

    def __init__(self, http: aiohttp.ClientSession, token: str, say: Callable[[str], None]):
        self.http, self.say = http, say
        self.headers = {"Authorization": f"Bearer {token}"}

    @classmethod
    async def start(
        cls, pool: asyncpg.Pool, http: aiohttp.ClientSession, say: Callable[[str], None]
    ) -> DemoRollup:
        """The roll-up of the cycle, started now, or found again when an earlier run started
        it (a cycle has one)."""
        account = {"name": "IMRF coordinator", "email": f"imrf@{DOMAIN}", "role": "admin"}
        _, token = await operator_account(pool, account)
        rollup = cls(http, token, say)
        body = {"cycle": CYCLE, "title": ROLLUP_TITLE}
        status, answer = await rollup._call("POST", "/v1/rollups", body)
        if status not in (201, 409):
            raise RollupError(f"POST /v1/rollups answered {status}: {answer}")
        told = "starts" if status == 201 else "was started by an earlier run; it goes on with"
        say(
            f"The IMRF coordinator {told} the global synthesis of the {CYCLE} cycle: each"
            " regional report published from now on makes a new version of it."
        )
        return rollup

    async def publish(self, review_ids: set[str], public_base: str) -> str:
        """Wait for the version holding every review of `review_ids`, approve it, and trace
        each of its quotes; where it is public."""
        version = await self._version_with(review_ids)
        status, answer = await self._call(
            "POST", f"/v1/rollups/{CYCLE}/approve", {"version": version["version"]}
        )
        if status != 200:
            raise RollupError(f"approving version {version['version']} answered {status}: {answer}")
        quotes = quotes_of(version)
        submissions: dict[tuple[str, int], Any] = {}
        for quote in quotes:
            await self._trace(quote, review_ids, submissions)
        published = f"{public_base}/reports/global/{CYCLE}"
        self.say(
            f"The IMRF coordinator approves version {version['version']} of the global"
            f" synthesis ({', '.join(r['region'] for r in version['reports'])} published,"
            f" {', '.join(version['missing'])} missing): public at {published}. Each of its"
            f" {len(quotes)} quotes leads to its regional report and to the State's submission."
        )
        return published

    async def _version_with(self, review_ids: set[str]) -> dict[str, Any]:
        """The latest version once it holds every review of `review_ids`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + VERSION_WAIT_S
        while True:
            status, rollup = await self._call("GET", f"/v1/rollups/{CYCLE}")
            if status == 200 and rollup["version"] is not None:
                _, version = await self._call(
                    "GET", f"/v1/rollups/{CYCLE}/report?version={rollup['version']}"
                )
                if review_ids <= {r["review_id"] for r in version["reports"]}:
                    return dict(version)
            if loop.time() > deadline:
                raise RollupError(
                    f"no version of the roll-up holds {sorted(review_ids)} after"
                    f" {VERSION_WAIT_S:.0f} s: is the worker running?"
                )
            await asyncio.sleep(POLL_S)

    async def _trace(
        self,
        quote: dict[str, Any],
        review_ids: set[str],
        submissions: dict[tuple[str, int], Any],
    ) -> None:
        """The quote's regional report is one of the demo's, and its words are in the version
        of the State's submission it names (each version read once, into `submissions`)."""
        if quote["review_id"] not in review_ids:
            raise RollupError(f"a quote names {quote['review_id']}, not a review of the demo")
        key = (quote["submission_id"], quote["submission_version"])
        path = f"/v1/submissions/{key[0]}?version={key[1]}"
        if key not in submissions:
            status, submissions[key] = await self._call("GET", path)
            if status != 200:
                raise RollupError(f"GET {path} answered {status}")
        submission = submissions[key]
        texts = list(_texts(submission["content"]))
        if submission["subject"] != quote["country"] or not any(
            text.startswith(quote["text"]) for text in texts
        ):
            raise RollupError(f"a quote of {quote['country']} is not in {path}")

    async def _call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """The API's answer; asked to slow down (429), the demo waits as long as it is told."""
        while True:
            async with self.http.request(method, path, json=body, headers=self.headers) as response:
                if response.status != 429:
                    return response.status, await response.json(content_type=None)
                wait_s = float(response.headers.get("Retry-After", "1"))
            await asyncio.sleep(wait_s)


def _texts(document: Any) -> Iterator[str]:
    """Every string of a JSON document: a report quotes the beginning of one."""
    if isinstance(document, str):
        yield document
    elif isinstance(document, dict):
        for value in document.values():
            yield from _texts(value)
    elif isinstance(document, list):
        for value in document:
            yield from _texts(value)
