"""A review pins the schema versions it collects: a new review collects the current ones, a
review pinned at version 1 keeps taking version 1 documents until its secretariat moves it,
every submission says the version it was checked against, the schemas are served in every
version, and a draft written for version 1 opens on the form brought up to date."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

import schemas
from db.drafts import save_draft
from tests import documents
from tests.browser import assert_accessible, needs_chromium
from tests.test_reviews_api import create_review, open_call, submit
from tests.test_web_reviews import open_form
from tests.web_site import Site, path_of, post_form

pytestmark = pytest.mark.usefixtures("worker")

VERSION_1 = {"national_report": 1, "stakeholder_input": 1, "consultation_response": 1}


async def _pinned_at_version_1(pool: Any, review_id: str) -> None:
    """The review as one created before version 2 existed."""
    await pool.execute(
        "UPDATE reviews SET schema_versions = $2 WHERE id = $1", review_id, VERSION_1
    )


async def _a_version_1_draft(
    site: Site, api: Any, secretariat: Any
) -> tuple[dict[str, Any], Any, dict[str, Any]]:
    """An open review pinned at version 1, and an organisation's draft written for it: the
    review, the organisation's person and the draft."""
    review = await create_review(api, secretariat)
    await open_call(api, secretariat, review["id"])
    await _pinned_at_version_1(site.pool, review["id"])
    ngo = await site.person(
        "stakeholder",
        organisation="Migrant Rights Europe",
        stakeholder_category="civil_society",
        regions=("ECE",),
    )
    draft = documents.stakeholder_input("Migrant Rights Europe", version=1)
    organisation = str(ngo.actor.organisation_id)
    await save_draft(
        site.pool, review["id"], "stakeholder_input", organisation, draft, ngo.actor.id, 1
    )
    return review, ngo, draft


async def _json(response: Any, status: int) -> Any:
    body = await response.json(content_type=None)
    assert response.status == status, body
    return body


async def test_a_new_review_collects_the_current_versions_and_says_so(
    api: Any, ece_secretariat: Any, make_account: Any
) -> None:
    germany = await make_account("focal_point", country="DEU")
    review = await create_review(api, ece_secretariat)
    await open_call(api, ece_secretariat, review["id"])
    shown = await _json(await api.get(f"/v1/reviews/{review['id']}", headers=germany.headers), 200)
    assert shown["schema_versions"] == schemas.current_versions()
    receipt = await _json(
        await submit(api, germany, review["id"], documents.national_report("DEU")), 201
    )
    assert receipt["schema_version"] == 2
    read = await _json(
        await api.get(f"/v1/submissions/{receipt['id']}", headers=germany.headers), 200
    )
    assert read["schema_version"] == 2
    assert [v["schema_version"] for v in read["versions"]] == [2]
    old = await submit(api, germany, review["id"], documents.national_report("DEU", version=1))
    problem = await _json(old, 422)
    assert {e["pointer"] for e in problem["errors"]} == {
        "/content/consent_to_publish",
        "/content/means_of_implementation",
        "/content/policy_environment",
    }


async def test_a_review_pinned_at_version_1_takes_version_1_until_it_is_moved(
    api: Any, ece_secretariat: Any, make_account: Any, pool: Any
) -> None:
    germany = await make_account("focal_point", country="DEU")
    review = await create_review(api, ece_secretariat)
    review_id = review["id"]
    await open_call(api, ece_secretariat, review_id)
    await _pinned_at_version_1(pool, review_id)

    first = await _json(
        await submit(api, germany, review_id, documents.national_report("DEU", version=1)), 201
    )
    assert first["schema_version"] == 1
    newer = await _json(
        await submit(api, germany, review_id, documents.national_report("DEU")), 422
    )
    assert "/content/policy_environment" in {e["pointer"] for e in newer["errors"]}

    refused = await api.post(f"/v1/reviews/{review_id}/schema-versions", headers=germany.headers)
    await _json(refused, 403)
    moved = await _json(
        await api.post(f"/v1/reviews/{review_id}/schema-versions", headers=ece_secretariat.headers),
        200,
    )
    assert moved["schema_versions"] == schemas.current_versions()
    again = await api.post(
        f"/v1/reviews/{review_id}/schema-versions", headers=ece_secretariat.headers
    )
    assert (await _json(again, 200))["schema_versions"] == schemas.current_versions()
    events = await pool.fetch(
        "SELECT data FROM review_events WHERE review_id = $1 AND type = 'schema_versions.moved'",
        review_id,
    )
    assert [e["data"] for e in events] == [{"from": VERSION_1, "to": schemas.current_versions()}]

    await _json(
        await submit(api, germany, review_id, documents.national_report("DEU", version=1)), 422
    )
    second = await _json(
        await submit(api, germany, review_id, documents.national_report("DEU")), 201
    )
    assert (second["version"], second["schema_version"]) == (2, 2)
    read = await _json(
        await api.get(f"/v1/submissions/{first['id']}?version=1", headers=germany.headers), 200
    )
    # The first version stays as it was sent, with the version it was checked against.
    assert read["schema_version"] == 1 and "policy_environment" not in read["content"]
    assert [v["schema_version"] for v in read["versions"]] == [1, 2]


async def test_a_review_past_its_call_keeps_its_versions(
    api: Any, ece_secretariat: Any, pool: Any
) -> None:
    review = await create_review(api, ece_secretariat)
    await open_call(api, ece_secretariat, review["id"])
    await api.post(
        f"/v1/reviews/{review['id']}/advance",
        json={"reason": "close the call"},
        headers=ece_secretariat.headers,
    )
    await _pinned_at_version_1(pool, review["id"])
    refused = await api.post(
        f"/v1/reviews/{review['id']}/schema-versions", headers=ece_secretariat.headers
    )
    problem = await _json(refused, 409)
    assert "closed" in problem["detail"]
    row = await pool.fetchval("SELECT schema_versions FROM reviews WHERE id = $1", review["id"])
    assert row == VERSION_1


async def test_every_version_of_a_schema_is_served_and_listed(api: Any, admin: Any) -> None:
    listed = await _json(await api.get("/v1/schemas", headers=admin.headers), 200)
    national = next(item for item in listed["items"] if item["name"] == "national_report")
    assert national["version"] == 2
    assert [v["version"] for v in national["versions"]] == [1, 2]
    for version in (1, 2):
        served = await _json(
            await api.get(f"/v1/schemas/national_report?version={version}", headers=admin.headers),
            200,
        )
        assert served == schemas.schema_document("national_report", version)
    current = await _json(await api.get("/v1/schemas/national_report", headers=admin.headers), 200)
    assert current["$id"].endswith("national_report.v2.json")
    await _json(await api.get("/v1/schemas/national_report?version=3", headers=admin.headers), 404)
    bad = await api.get("/v1/schemas/national_report?version=two", headers=admin.headers)
    assert [e["pointer"] for e in (await _json(bad, 422))["errors"]] == ["/version"]


async def test_a_version_1_draft_opens_brought_up_to_date_with_what_to_fix(
    site: Site, api: Any, ece_secretariat: Any
) -> None:
    review, ngo, draft = await _a_version_1_draft(site, api, ece_secretariat)
    await site.sign_in(ngo)
    path = f"/reviews/{review['id']}/submit"
    html, _ = await open_form(site.client, path)
    # Pinned at version 1 still: the draft opens as written, without version 2's questions.
    assert 'name="/language"' not in html and "error-summary" not in html

    moved = await api.post(
        f"/v1/reviews/{review['id']}/schema-versions", headers=ece_secretariat.headers
    )
    assert moved.status == 200
    html, _ = await open_form(site.client, path)
    assert "This form has changed since these answers were written" in html
    summary = html[html.index('class="error-summary"') :]
    assert 'href="#f-language"' in summary[: summary.index("</div>")]
    # What version 1 said is carried over: the input, and its consent as "with our name".
    assert draft["input"] in html
    assert 'name="/publication" value="with_name" checked' in html
    assert 'id="f-language-error"' in html

    # Saving keeps the draft as written for the version the review now collects.
    saved = await post_form(site.client, path)
    assert saved.status in (200, 303)
    version = await site.pool.fetchval(
        "SELECT schema_version FROM submission_drafts WHERE review_id = $1", review["id"]
    )
    assert version == 2


async def test_the_secretariat_moves_a_review_to_the_current_forms_from_its_dashboard(
    site: Site, api: Any, ece_secretariat: Any
) -> None:
    review = await create_review(api, ece_secretariat)
    await _pinned_at_version_1(site.pool, review["id"])
    runs = await site.person("secretariat", regions=("ECE",))
    await site.sign_in(runs)
    dashboard = f"/reviews/{review['id']}/dashboard"
    page = await (await site.client.get(dashboard)).text()
    assert 'id="move-forms"' in page
    answer = await post_form(site.client, f"/reviews/{review['id']}/schema-versions", dashboard)
    assert answer.status == 303
    page = await (await site.client.get(answer.headers["Location"])).text()
    assert "The review now collects the current version of the forms." in page
    assert 'id="move-forms"' not in page
    pinned = await site.pool.fetchval(
        "SELECT schema_versions FROM reviews WHERE id = $1", review["id"]
    )
    assert pinned == schemas.current_versions()


@needs_chromium
@pytest.mark.slow  # a browser: `make test-slow`
async def test_a_version_1_draft_is_fixed_and_sent_in_a_browser(
    page: Page, site: Site, api: Any, ece_secretariat: Any
) -> None:
    review, ngo, draft = await _a_version_1_draft(site, api, ece_secretariat)
    moved = await api.post(
        f"/v1/reviews/{review['id']}/schema-versions", headers=ece_secretariat.headers
    )
    assert moved.status == 200

    await page.goto(path_of(await site.link(ngo)))
    await page.locator("main form button[type=submit]").first.click()
    await expect(page).to_have_url(re.compile(r"/(tasks|reviews)"))
    await page.goto(f"/reviews/{review['id']}/submit")
    summary = page.locator(".error-summary")
    await expect(summary).to_contain_text("anguage")
    await expect(page.locator("#f-publication")).to_be_checked()  # "with our name", carried
    await assert_accessible(page)
    await summary.get_by_role("link").first.click()
    await expect(page.locator("#f-language")).to_be_focused()
    await page.locator("#f-language").select_option("en")
    await page.get_by_role("button", name=re.compile("^Send your")).click()
    await expect(page).to_have_url(re.compile(rf"/reviews/{review['id']}\?sent=1$"))
    sent = await site.pool.fetchrow(
        """SELECT v.schema_version, v.content FROM submission_versions v
           JOIN submissions s ON s.id = v.submission_id
           WHERE s.review_id = $1 AND v.status = 'accepted'""",
        review["id"],
    )
    assert sent["schema_version"] == 2
    assert (sent["content"]["language"], sent["content"]["publication"]) == ("en", "with_name")
    assert sent["content"]["input"] == draft["input"]
