"""Inputs accepted after the consultation opened are not silently missing from what the
consultees read: a member State under an extension submits during the consultation, its
report appears in the addendum to the synthesis (API), every consultee is told once by mail in
their own language (real SMTP), nothing is told while nothing is added, and the compiled report
lists it and marks what it quotes of it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from db.actors import update_preferences
from tests import documents
from tests.reviews import eventually, review_body
from tests.test_notifications import Env, inbox, notify_env, post  # noqa: F401

ADDENDUM = "synthesis.addendum"


def _addenda(env: Env) -> Counter[str]:
    return Counter(
        message["To"].addresses[0].addr_spec
        for message in env.inbox.messages
        if message["X-Reviewflow-Event"] == ADDENDUM
    )


async def test_an_input_under_an_extension_joins_the_addendum_and_is_announced_once(
    notify_env: Env,  # noqa: F811
) -> None:
    env = notify_env
    secretariat = await env.account("secretariat", regions=("ECE",), email="sec@example.org")
    germany = await env.account("focal_point", country="DEU", email="deu@example.org")
    france = await env.account("focal_point", country="FRA", email="fra@example.org")
    spanish = await env.ece_stakeholder("A", "civil_society", "a@example.org")
    russian = await env.ece_stakeholder("B", "academia", "b@example.org")
    await update_preferences(env.pool, spanish.actor.id, {"language": "es"})
    await update_preferences(env.pool, russian.actor.id, {"language": "ru"})
    body = review_body(member_states=["DEU", "FRA"], stakeholders=[spanish.id, russian.id])
    review = await post(env, "/v1/reviews", secretariat, body, 201)
    url = f"/v1/reviews/{review['id']}"
    await post(env, f"{url}/advance", secretariat, {})  # the call for inputs opens
    on_time = {"kind": "national_report", "content": documents.national_report("DEU")}
    await post(env, f"{url}/submissions", germany, on_time, 201)
    inputs_due = datetime.fromisoformat(review["deadlines"]["inputs_due_at"])
    consultation_due = datetime.fromisoformat(review["deadlines"]["consultation_due_at"])
    extension = {
        "deadline": "inputs_due_at",
        "until": (inputs_due + (consultation_due - inputs_due) / 2).isoformat(),
        "reason": "Translation",
        "country": "FRA",
    }
    await post(env, f"{url}/extensions", secretariat, extension)
    await post(env, f"{url}/advance", secretariat, {})  # the consultation opens

    async def addendum() -> dict[str, Any]:
        response = await env.api.get(f"{url}/synthesis/addendum", headers=spanish.headers)
        assert response.status in (200, 404), await response.text()
        return await response.json() if response.status == 200 else {}

    empty = await eventually(addendum)
    assert (empty["total"], empty["submissions"]) == (0, [])
    await env.settled()
    assert _addenda(env) == Counter()  # nothing added, nothing announced

    under_extension = {"kind": "national_report", "content": documents.national_report("FRA")}
    receipt = await post(env, f"{url}/submissions", france, under_extension, 201)
    added = await addendum()
    assert added["total"] == 1
    assert [
        (a["submission_id"], a["version"], a["kind"], a["subject"], a["late"], a["under_extension"])
        for a in added["submissions"]
    ] == [(receipt["id"], 1, "national_report", "FRA", False, True)]
    assert added["sources"] == {"national_reports": 1, "stakeholder_inputs": 0}
    statuses = [o["statuses"] for c in added["clusters"] for o in c["objectives"]]
    assert statuses and all(set().union(*s.values()) == {"FRA"} for s in statuses if s)
    # The synthesis the consultation opened with is unchanged: Germany's report alone.
    synthesis = await (await env.api.get(f"{url}/synthesis", headers=spanish.headers)).json()
    assert synthesis["sources"] == {"national_reports": 1, "stakeholder_inputs": 0}

    await env.settled()
    assert _addenda(env) == Counter({"a@example.org": 1, "b@example.org": 1})
    told = {
        message["To"].addresses[0].addr_spec: message
        for message in env.inbox.messages
        if message["X-Reviewflow-Event"] == ADDENDUM
    }
    for address, language in (("a@example.org", "es"), ("b@example.org", "ru")):
        html = str(told[address].get_body(("html",)).get_content())  # type: ignore[union-attr]
        assert f'<html lang="{language}"' in html
        assert "Inputs added" not in str(told[address]["Subject"])  # not the English words
        assert "/tasks" in html

    await post(env, f"{url}/advance", secretariat, {})  # compilation, then approval

    async def report() -> dict[str, Any]:
        response = await env.api.get(f"{url}/report", headers=secretariat.headers)
        return await response.json() if response.status == 200 else {}

    compiled = await eventually(report, deadline_s=30)
    listed = compiled["synthesis_addendum"]["submissions"]
    assert [(s["submission_id"], s["subject"], s["under_extension"]) for s in listed] == [
        (receipt["id"], "FRA", True)
    ]
    markdown = await (
        await env.api.get(f"{url}/report?format=md", headers=secretariat.headers)
    ).text()
    assert "## Addendum to the synthesis" in markdown
    marked = [
        line for line in markdown.splitlines() if "received after the consultation opened" in line
    ]
    assert marked and all(receipt["id"] in line for line in marked if "/v1/submissions/" in line)
    assert not any(
        "received after the consultation opened" in line
        for line in markdown.splitlines()
        if "/v1/submissions/" in line and receipt["id"] not in line
    )
