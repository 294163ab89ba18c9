"""Regional reviews published in a cycle of their own, for the roll-up's tests."""

from __future__ import annotations

import secrets
from typing import Any

from tests import documents
from tests.reviews import review_body
from tests.test_report import Run


def free_cycle() -> str:
    """A cycle of its own, far in the future: no other test's review is in it."""
    first = 2020 + 4 * (20 + secrets.randbelow(200))
    return f"{first}-{first + 1}"


REGION_STATES = {"ECE": "DEU", "ESCAP": "IND", "ECLAC": "MEX"}


async def published_regional_review(api: Any, make_account: Any, region: str, cycle: str) -> Run:
    """A review of one State of `region` in `cycle`, its national report in, its report
    approved and published."""
    secretariat = await make_account("secretariat", regions=(region,))
    country = REGION_STATES[region]
    body = review_body(region=region, member_states=[country], cycle=cycle)
    created = await api.post("/v1/reviews", json=body, headers=secretariat.headers)
    assert created.status == 201, await created.text()
    assert (await created.json())["cycle"] == cycle
    run = Run(api, secretariat, body["id"])
    await run.ok("advance")
    focal_point = await make_account("focal_point", country=country)
    sent = await api.post(
        f"{run.url}/submissions",
        json={"kind": "national_report", "content": documents.national_report(country)},
        headers=focal_point.headers,
    )
    assert sent.status == 201, await sent.text()
    await run.ok("advance")
    assert (await run.ok("advance"))["phase"] == "approval"
    await run.ok("report/approve", {})
    return run
