"""Inputs accepted after the consultation opened are not silently missing from what the
consultees read: a member State under an extension submits during the consultation, its
report appears in the addendum to the synthesis (API), every consultee is told once by mail in
their own language (real SMTP), nothing is told while nothing is added, and the compiled report
lists it and marks what it quotes of it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from db.actors import update_preferences
from reports.render import render_html, render_markdown
from tests import documents
from tests.reviews import eventually, extension_halfway, review_body
from tests.test_notifications import Env, inbox, notify_env, post  # noqa: F401
from tests.test_report_render import SUB_FRA, sample_report
from tests.test_web_tasks import a1_at, consultation, get, text  # noqa: F401
from tests.web_site import Site

ADDENDUM = "synthesis.addendum"


def _addenda(env: Env) -> Counter[str]:
    return Counter(
        message["To"].addresses[0].addr_spec
        for message in env.inbox.messages
        if message["X-Reviewflow-Event"] == ADDENDUM
    )


@pytest.mark.slow  # a whole review through real mail, to its report: about ten seconds
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
    await post(env, f"{url}/extensions", secretariat, extension_halfway(review["deadlines"], "FRA"))
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


async def test_the_task_page_shows_the_addendum_apart_from_the_synthesis(
    site: Site,
    consultation: dict[str, Any],  # noqa: F811
    ece_secretariat: Any,
) -> None:
    _, _, path = await a1_at(site, consultation)
    assert "Addendum to the synthesis" not in await get(site, path)

    review_id = consultation["review"]["id"]
    timeline = consultation["review"]["timeline"]
    extended = await site.api.post(
        f"/v1/reviews/{review_id}/extensions",
        json=extension_halfway(timeline, "FRA"),
        headers=ece_secretariat.headers,
    )
    assert extended.status == 200, await extended.text()
    france = await site.person("focal_point", country="FRA", regions=("ECE",))
    sent = await site.api.post(
        f"/v1/reviews/{review_id}/submissions",
        json={"kind": "national_report", "content": documents.national_report("FRA")},
        headers=france.headers,
    )
    assert sent.status == 201, await sent.text()

    page = await get(site, path)
    start = page.index('<section aria-labelledby="addendum">')
    synthesis = page[page.index('<section aria-labelledby="synthesis">') : start]
    addendum = text(page[start : page.index("</section>", start)])
    # The synthesis the consultation opened with stays as it was: Germany's report alone.
    assert "France" not in text(synthesis) and "Germany" in text(synthesis)
    assert addendum.startswith("Addendum to the synthesis Added after the consultation opened")
    assert "National report France 1" in addendum and "Under an extended deadline" in addendum
    assert "Cluster 1:" in addendum and "France" in addendum
    console = f"/reviews/{review_id}/synthesis"
    await get(site, console, 403)  # the console's page is for those who run the review

    # The secretariat reads the same synthesis and addendum on its console, each input added
    # linked to the version of the submission that joined it.
    await site.sign_in(ece_secretariat)
    page = await get(site, console)
    start = page.index('<section aria-labelledby="addendum">')
    synthesis = text(page[page.index('<section aria-labelledby="synthesis">') : start])
    assert "France" not in synthesis and "Germany" in synthesis
    added = page[start : page.index("</section>", start)]
    assert text(added).startswith("Addendum to the synthesis Added after the consultation opened")
    assert "Those consulted were told of them" in text(added)
    receipt = await sent.json()
    link = f'<a href="/reviews/{review_id}/submissions/{receipt["id"]}?version=1">France</a>'
    assert link in added and "Cluster 1:" in added


def _with_addendum(report: dict[str, Any]) -> dict[str, Any]:
    """The sample report, France's national report having come under an extension."""
    added = {
        "submission_id": SUB_FRA,
        "version": 1,
        "kind": "national_report",
        "subject": "FRA",
        "organisation": None,
        "accepted_at": "2020-10-30T10:00:00+00:00",
        "late": False,
        "under_extension": True,
    }
    return {**report, "synthesis_addendum": {"submissions": [added]}}


def test_the_report_marks_what_it_quotes_of_the_addendum_and_lists_it() -> None:
    plain = sample_report()
    marked = _with_addendum(plain)
    markdown = render_markdown(marked)
    sources = [line for line in markdown.splitlines() if "/v1/submissions/" in line]
    of_france = [line for line in sources if SUB_FRA in line]
    assert of_france and all("received after the consultation opened" in s for s in of_france)
    assert not any(
        "received after the consultation opened" in s for s in sources if SUB_FRA not in s
    )
    section = markdown[markdown.index("## Addendum to the synthesis") :]
    assert "| National report | France (FRA) | 1 |" in section
    assert "under an extended deadline" in section.split("\n## ")[0]
    html = render_html(marked, "fr")
    assert "Addendum à la synthèse" in html and "reçue après l'ouverture de la consultation" in html
    # A report without an addendum reads as it did before addenda existed.
    assert "Addendum" not in render_markdown(plain) and "Addendum" not in render_html(plain)
