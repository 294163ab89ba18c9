"""Drafting and clearance within a State through the API: who manages the team, who drafts,
who clears, the draft's history, and what a submission needs once a country has a team."""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any, cast

import pytest

from db.actors import new_token, replace_token
from db.clearance import active_actor
from services import drafts, submissions
from services.engine import Deps, ReviewEngine
from tests import documents
from tests.conftest import Account
from tests.test_reviews_api import create_review, open_call, submit
from tests.test_web_invitations import get, signed_in_as, text
from tests.web_site import Site

pytestmark = pytest.mark.usefixtures("worker")


async def call(api: Any, method: str, path: str, account: Any, body: Any = None) -> Any:
    response = await api.request(method, path, json=body, headers=account.headers)
    return response.status, await response.json(content_type=None)


async def save(pool: Any, account: Any, review_id: str, content: dict[str, Any]) -> None:
    """What the form page does on every post: keep the content as the draft."""
    deps = Deps(pool, cast(ReviewEngine, None))
    intake = await submissions.intake(deps, account.actor, review_id)
    await drafts.save(deps, intake, content)


@pytest.fixture
async def setting(api: Any, make_account: Any, ece_secretariat: Any) -> dict[str, Any]:
    stakeholder = await make_account(
        "stakeholder", organisation="Team Org", stakeholder_category="academia", regions=("ECE",)
    )
    review = await create_review(
        api,
        ece_secretariat,
        id=f"ece-team-{secrets.token_hex(4)}",
        member_states=["DEU", "FRA"],
        stakeholders=[stakeholder.id],
    )
    await open_call(api, ece_secretariat, review["id"])
    return {
        "review": review["id"],
        "fp": await make_account("focal_point", country="DEU", regions=("ECE",)),
        "fp_fra": await make_account("focal_point", country="FRA", regions=("ECE",)),
        "stakeholder": stakeholder,
    }


async def form_status(client: Any, review_id: str) -> str:
    """The national report form's line on where its clearance stands, in words."""
    html = await get(client, f"/reviews/{review_id}/submit")
    found = re.search(r'<p id="clearance-status">(.*?)</p>', html, re.S)
    assert found is not None, "the form shows where the clearance stands"
    return text(found.group(1))


async def add_drafter(api: Any, fp: Any, review_id: str, name: str) -> dict[str, Any]:
    status, made = await call(
        api, "POST", f"/v1/reviews/{review_id}/team/drafters", fp,
        {"name": name, "email": f"{name.lower()}-{secrets.token_hex(3)}@example.org"},
    )  # fmt: skip
    assert status == 201, made
    return cast(dict[str, Any], made)


async def test_only_a_focal_point_adds_drafters_of_its_own_country(
    api: Any, setting: dict[str, Any], ece_secretariat: Any, make_account: Any
) -> None:
    review = setting["review"]
    path = f"/v1/reviews/{review}/team/drafters"
    body = {"name": "Dana", "email": "dana@example.org"}
    for outsider in (setting["stakeholder"], ece_secretariat):
        status, problem = await call(api, "POST", path, outsider, body)
        assert status == 403, problem
    status, problem = await call(api, "POST", path, setting["fp"], {"name": ""})
    assert status == 422
    assert {e["pointer"] for e in problem["errors"]} >= {"/name", "/email"}
    made = await add_drafter(api, setting["fp"], review, "Dana")
    status, team = await call(api, "GET", f"/v1/reviews/{review}/team", setting["fp"])
    assert status == 200, team
    assert [d["id"] for d in team["drafters"]] == [made["id"]]
    assert team["country"] == "DEU" and team["clearance_required"] is True
    # France's focal point sees France's team only, without DEU's drafter.
    status, other = await call(api, "GET", f"/v1/reviews/{review}/team", setting["fp_fra"])
    assert status == 200 and other["drafters"] == [] and other["clearance_required"] is False
    # A drafter of another country cannot be named clearing officer of DEU's report.
    french = await add_drafter(api, setting["fp_fra"], review, "Fleur")
    status, problem = await call(
        api, "PUT", f"/v1/reviews/{review}/team/clearing-officer", setting["fp"],
        {"officer": french["id"]},
    )  # fmt: skip
    assert status == 422 and problem["errors"][0]["pointer"] == "/officer", problem
    # Nor may France's focal point remove DEU's drafter.
    status, _ = await call(
        api, "DELETE", f"/v1/reviews/{review}/team/drafters/{made['id']}", setting["fp_fra"]
    )
    assert status == 404


async def signed_up(pool: Any, made: dict[str, Any]) -> Account:
    """The drafter `made` as it would act after signing in: with a token of its own."""
    token = new_token()
    await replace_token(pool, uuid.UUID(made["id"]), token)
    actor = await active_actor(pool, uuid.UUID(made["id"]))
    assert actor is not None and actor.role == "drafter" and actor.country == "DEU"
    return Account(actor, token)


async def test_a_team_drafts_clears_and_sends_and_the_history_stays(
    api: Any, pool: Any, setting: dict[str, Any], ece_secretariat: Any, site: Site
) -> None:
    review, fp = setting["review"], setting["fp"]
    form = await signed_in_as(site, fp)
    # Working alone, the focal point's form says nothing of clearance.
    assert 'id="clearance-status"' not in await get(form, f"/reviews/{review}/submit")
    drafter = await signed_up(pool, await add_drafter(api, fp, review, "Dana"))
    officer = await signed_up(pool, await add_drafter(api, fp, review, "Olga"))
    content = documents.national_report("DEU")
    await save(pool, drafter, review, content)
    await save(pool, drafter, review, content)  # unchanged: no new revision
    assert await form_status(form, review) == "Clearance: Not sent for clearance yet"

    # A drafter drafts but never sends; the focal point sends only what was cleared.
    response = await submit(api, drafter, review, content)
    assert response.status == 403, await response.text()
    response = await submit(api, fp, review, content)
    problem = await response.json()
    assert response.status == 409 and "clears the national report" in problem["detail"]

    status, team = await call(
        api, "PUT", f"/v1/reviews/{review}/team/clearing-officer", fp, {"officer": officer.id}
    )
    assert status == 200 and team["clearing_officer"]["id"] == officer.id, team
    status, team = await call(api, "POST", f"/v1/reviews/{review}/draft/clearance-request", drafter)
    assert status == 200 and team["status"] == "requested", team
    assert await form_status(form, review) == (
        "Clearance: Sent for clearance: waiting for Olga to clear it"
    )
    first_hash = team["latest"]["content_hash"]
    clearance = f"/v1/reviews/{review}/draft/clearance"
    # Once an officer is named, the focal point no longer clears; the officer clears what it read.
    status, _ = await call(api, "POST", clearance, fp, {"content_hash": first_hash})
    assert status == 403
    status, problem = await call(api, "POST", clearance, officer, {"content_hash": "0" * 64})
    assert status == 409, problem
    status, team = await call(api, "POST", clearance, officer, {"content_hash": first_hash})
    assert status == 200 and team["status"] == "cleared", team
    cleared = await form_status(form, review)
    assert cleared.startswith("Clearance: Cleared by Olga on ")
    assert cleared.endswith(": this draft can be sent")

    # A change after clearance voids it, plainly.
    changed = {**content, "next_steps": "Adopt a national implementation plan."}
    await save(pool, drafter, review, changed)
    status, team = await call(api, "GET", f"/v1/reviews/{review}/team", fp)
    assert team["status"] == "voided" and team["latest"]["number"] == 2, team
    assert "No longer cleared: the draft changed after it was cleared." in (
        await form_status(form, review)
    )
    await form.close()
    response = await submit(api, fp, review, changed)
    assert response.status == 409
    assert "changed after it was cleared" in (await response.json())["detail"]

    status, team = await call(
        api, "POST", clearance, officer, {"content_hash": team["latest"]["content_hash"]}
    )
    assert status == 200 and team["status"] == "cleared"
    response = await submit(api, fp, review, content)  # not the cleared content
    assert response.status == 409
    response = await submit(api, fp, review, changed)
    assert response.status == 201, await response.text()
    status, team = await call(api, "GET", f"/v1/reviews/{review}/team", drafter)
    assert team["status"] == "sent", team

    # The history stays after sending: who saved what, and each revision's content.
    status, history = await call(api, "GET", f"/v1/reviews/{review}/draft/revisions", drafter)
    assert status == 200
    assert [(r["number"], r["saved_by"]["name"]) for r in history["items"]] == [
        (2, "Dana"),
        (1, "Dana"),
    ]
    assert history["items"][1]["cleared_by"]["name"] == "Olga"
    status, first = await call(api, "GET", f"/v1/reviews/{review}/draft/revisions/1", fp)
    assert status == 200 and first["content"] == content
    status, _ = await call(api, "GET", f"/v1/reviews/{review}/draft/revisions/3", fp)
    assert status == 404

    # Other countries and other roles see nothing of it.
    status, other = await call(
        api, "GET", f"/v1/reviews/{review}/draft/revisions", setting["fp_fra"]
    )
    assert status == 200 and other["items"] == []
    status, _ = await call(api, "GET", f"/v1/reviews/{review}/draft/revisions/1", setting["fp_fra"])
    assert status == 404
    status, _ = await call(
        api, "GET", f"/v1/reviews/{review}/draft/revisions", setting["stakeholder"]
    )
    assert status == 403

    # The clearance is in the review's audit trail.
    status, trail = await call(
        api, "GET", f"/v1/reviews/{review}/events?limit=100", ece_secretariat
    )
    types = [e["type"] for e in trail["items"]]
    assert types.count("draft.cleared") == 2 and "draft.clearance_requested" in types
    await site.sign_in(ece_secretariat)
    audit = await (await site.client.get(f"/reviews/{review}/audit")).text()
    assert (
        "National report cleared" in audit and "The national report of Germany, revision 1" in audit
    )


async def test_a_removed_drafter_sees_the_review_no_more_and_the_focal_point_works_alone_again(
    api: Any, pool: Any, setting: dict[str, Any]
) -> None:
    review, fp = setting["review"], setting["fp"]
    drafter = await signed_up(pool, await add_drafter(api, fp, review, "Dana"))
    status, _ = await call(
        api, "DELETE", f"/v1/reviews/{review}/team/drafters/{drafter.id}", drafter
    )
    assert status == 403  # a drafter does not manage the team
    response = await api.delete(
        f"/v1/reviews/{review}/team/drafters/{drafter.id}", headers=fp.headers
    )
    assert response.status == 204
    status, _ = await call(api, "GET", f"/v1/reviews/{review}/team", drafter)
    assert status == 404
    response = await submit(api, fp, review, documents.national_report("DEU"))
    assert response.status == 201, await response.text()


async def test_a_stakeholder_input_keeps_no_history(
    api: Any, pool: Any, setting: dict[str, Any]
) -> None:
    stakeholder = setting["stakeholder"]
    await save(pool, stakeholder, setting["review"], documents.stakeholder_input("Team Org"))
    kept = await pool.fetchval(
        "SELECT count(*) FROM draft_revisions WHERE review_id = $1 AND kind = 'stakeholder_input'",
        setting["review"],
    )
    assert kept == 0
