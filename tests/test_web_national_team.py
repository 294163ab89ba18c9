"""The issue's whole path in a real browser: a State's team of three (the focal point, a drafter
and a clearing officer) writes a complete version 2 national report with an annex, clears it
and sends it; the review's report, compiled by the workflow, shows that State's section with
its provenance and lists the annex with its size and SHA-256."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests import annex_files
from tests.browser import assert_accessible, needs_chromium
from tests.reviews import eventually
from tests.test_report import Run
from tests.test_reviews_api import create_review, open_call
from tests.test_web_clearance import invited_link, put_a_team, signed_in_by
from tests.web_site import Site

pytestmark = pytest.mark.usefixtures("worker")

ANNEX_NAME = "Annex I - Migration statistics.pdf"

# What the drafter types, each text its own so the report can be searched for it.
TYPED: dict[str, Any] = {
    "period": ("2019-01-01", "2020-12-31"),
    "methodology": "An inter-ministerial working group met monthly and used census data.",
    "government_entities": ["Federal Ministry of Labour", "Federal Statistical Office"],
    "consulted": ("diaspora_migrant_organisations", "The national migrant council, two workshops"),
    "policy_overview": "A migration strategy adopted in 2019 coordinates eleven ministries.",
    "frameworks": ["Skilled Immigration Act", "National Action Plan on Integration"],
    "objectives": {
        6: {
            "status": "in_progress",
            "prioritised": True,
            "measure": "A recruitment fee ban for all private employment agencies.",
            "challenge": "Labour inspections rarely reach seasonal agricultural work.",
            "good_practice": "Pre-departure counselling offered in countries of origin.",
            "sdg_target": "8.8",
        },
        7: {
            "status": "planned",
            "prioritised": False,
            "measure": "A hotline for migrants in vulnerable situations.",
            "challenge": "Few interpreters for rarer languages in local services.",
            "good_practice": "Municipal one-stop shops for newly arrived migrants.",
            "sdg_target": "10.7",
        },
    },
    "principle": ("human_rights", "Every measure is screened for its human rights impact."),
    "means_overview": "A dedicated budget line of the federal budget funds GCM follow-up.",
    "partnership": "A skills partnership with the International Labour Organization.",
    "support_needed": "Technical assistance for disaggregated migration data.",
    "regional_overview": "An active member of the Budapest Process and the Prague Process.",
    "initiative": "Chair of the Budapest Process working group on labour migration.",
    "covid19": "Residence permits were extended automatically during the pandemic.",
    "next_steps": "A national GCM implementation plan is to be adopted in 2022.",
    "contact": ("Dana Drafter", "dana.drafter@interior.example.org"),
}


async def add_entry(page: Page, button_id: str, field_id: str, value: str) -> None:
    """An entry added by its button (the form is sent and comes back with it), then typed:
    an entry left empty is dropped the next time the form is sent."""
    await page.locator(f"#{button_id}").click()
    field = page.locator(f"#{field_id}")
    await expect(field).to_be_visible()
    if await field.evaluate("element => element.tagName") == "SELECT":
        await field.select_option(value)
    else:
        await field.fill(value)


async def add_list(page: Page, pointer_id: str, values: list[str]) -> None:
    for i, value in enumerate(values):
        await add_entry(page, f"{pointer_id}-add", f"{pointer_id}-{i}", value)


async def add_objective(page: Page, number: int, typed: dict[str, Any]) -> None:
    """Objective `number` added where the form puts it, and every part of it filled."""
    await page.locator(f"#f-objectives-add-{number}").click()
    hidden = page.locator(f'input[type="hidden"][name$="/number"][value="{number}"]')
    await expect(hidden).to_have_count(1)
    found = re.fullmatch(r"/objectives/(\d+)/number", await hidden.get_attribute("name") or "")
    assert found is not None
    index = found.group(1)
    prefix = f"f-objectives-{index}"
    await page.locator(
        f'input[name="/objectives/{index}/status"][value="{typed["status"]}"]'
    ).check()
    await page.locator(f"#{prefix}-prioritised{'' if typed['prioritised'] else '-2'}").check()
    await add_list(page, f"{prefix}-measures", [typed["measure"]])
    await add_list(page, f"{prefix}-challenges", [typed["challenge"]])
    await add_list(page, f"{prefix}-good_practices", [typed["good_practice"]])
    await add_list(page, f"{prefix}-sdg_targets", [typed["sdg_target"]])


async def fill_complete_national_report(page: Page) -> None:
    """Every part of the version 2 national report, typed into the form as a person would:
    the fields first, then each list's entries added by their buttons and typed one by one."""
    start, end = TYPED["period"]
    await page.locator("#f-reporting_period-start").fill(start)
    await page.locator("#f-reporting_period-end").fill(end)
    await page.locator("#f-preparation-whole_of_government").check()
    await page.locator("#f-preparation-whole_of_society").check()
    await page.locator("#f-preparation-methodology").fill(TYPED["methodology"])
    await page.locator("#f-policy_environment-overview").fill(TYPED["policy_overview"])
    await page.locator("#f-means_of_implementation-overview").fill(TYPED["means_overview"])
    await page.locator("#f-means_of_implementation-support_needed").fill(TYPED["support_needed"])
    await page.locator("#f-regional_cooperation-overview").fill(TYPED["regional_overview"])
    await page.locator("#f-covid19_measures").fill(TYPED["covid19"])
    await page.locator("#f-next_steps").fill(TYPED["next_steps"])
    name, email = TYPED["contact"]
    await page.locator("#f-contact-name").fill(name)
    await page.locator("#f-contact-email").fill(email)
    await page.locator("#f-consent_to_publish").check()  # yes: the report may be published

    await add_list(page, "f-preparation-government_entities", TYPED["government_entities"])
    category, description = TYPED["consulted"]
    await add_entry(
        page, "f-preparation-consulted-add", "f-preparation-consulted-0-category", category
    )
    await page.locator("#f-preparation-consulted-0-description").fill(description)
    await add_list(page, "f-policy_environment-frameworks", TYPED["frameworks"])
    for number, typed in TYPED["objectives"].items():
        await add_objective(page, number, typed)
    principle, how = TYPED["principle"]
    await add_entry(page, "f-guiding_principles-add", "f-guiding_principles-0-principle", principle)
    await page.locator("#f-guiding_principles-0-how_applied").fill(how)
    await add_list(page, "f-means_of_implementation-partnerships", [TYPED["partnership"]])
    await add_list(page, "f-regional_cooperation-initiatives", [TYPED["initiative"]])


async def attach(page: Page, name: str, content: bytes) -> None:
    await page.get_by_label("Attach a file").set_input_files(
        {"name": name, "mimeType": "application/pdf", "buffer": content}
    )
    await page.get_by_role("button", name="Attach the file").click()


def assert_section_as_typed(section: dict[str, Any]) -> None:
    """The State's section of the report holds what the drafter typed, part by part."""
    assert section["reporting_period"] == dict(zip(("start", "end"), TYPED["period"], strict=True))
    preparation = section["preparation"]
    assert preparation["whole_of_government"] is True and preparation["whole_of_society"] is True
    assert preparation["methodology"] == TYPED["methodology"]
    assert preparation["government_entities"] == TYPED["government_entities"]
    category, description = TYPED["consulted"]
    assert preparation["consulted"] == [{"category": category, "description": description}]
    assert section["policy_environment"] == {
        "overview": TYPED["policy_overview"],
        "frameworks": TYPED["frameworks"],
    }
    objectives = {o["number"]: o for o in section["objectives"]}
    assert set(objectives) == set(TYPED["objectives"])
    for number, typed in TYPED["objectives"].items():
        assert objectives[number] == {
            "number": number,
            "status": typed["status"],
            "prioritised": typed["prioritised"],
            "measures": [typed["measure"]],
            "challenges": [typed["challenge"]],
            "good_practices": [typed["good_practice"]],
            "sdg_targets": [typed["sdg_target"]],
        }
    assert section["means_of_implementation"] == {
        "overview": TYPED["means_overview"],
        "partnerships": [TYPED["partnership"]],
        "support_needed": TYPED["support_needed"],
    }
    assert section["regional_cooperation"] == {
        "overview": TYPED["regional_overview"],
        "initiatives": [TYPED["initiative"]],
    }
    assert section["covid19_measures"] == TYPED["covid19"]
    assert section["next_steps"] == TYPED["next_steps"]


@pytest.mark.slow
@needs_chromium
async def test_a_states_team_of_three_sends_a_complete_report_with_an_annex_that_the_report_lists(
    page: Page, site: Site, api: Any
) -> None:
    began = datetime.now(UTC)
    runs = await site.person("secretariat", regions=("ECE",))
    review = await create_review(api, runs, member_states=["DEU", "FRA"], stakeholders=[])
    review_id = review["id"]
    await open_call(api, runs, review_id)
    team_path, form_path = f"/reviews/{review_id}/team", f"/reviews/{review_id}/submit"
    germany = await site.person("focal_point", country="DEU", regions=("ECE",))
    pdf = annex_files.pdf("Migration statistics 2019-2020")
    assert pdf.startswith(b"%PDF-1.4")

    # The focal point opens "Your team and clearance" from the review's page, puts a drafter
    # on the team and names a colleague the clearing officer.
    await signed_in_by(page, await site.link(germany, f"/reviews/{review_id}"))
    await assert_accessible(page)
    await page.get_by_role("link", name="Your team and clearance").click()
    await expect(page).to_have_url(re.compile(f"{team_path}$"))
    await assert_accessible(page)
    dana, olga = await put_a_team(page)
    await assert_accessible(page)

    # The drafter, signed in by the link mailed to them, writes the whole report, attaches the
    # annex and sends the draft for clearance.
    async with site.other_page(page) as drafter:
        await signed_in_by(drafter, await invited_link(site, dana))
        await drafter.goto(form_path)
        await expect(drafter.get_by_role("heading", name="Annexes")).to_be_visible()
        await assert_accessible(drafter)
        await fill_complete_national_report(drafter)
        await drafter.get_by_role("button", name="Save draft").click()
        await expect(drafter.locator(".notice")).to_contain_text("Your draft was saved")
        await expect(drafter.locator(".error-summary")).to_have_count(0)
        await attach(drafter, ANNEX_NAME, pdf)
        attached = drafter.locator("#annexes table")
        await expect(attached).to_contain_text(ANNEX_NAME)
        await expect(attached).to_contain_text(hashlib.sha256(pdf).hexdigest())
        # What was typed is still there after the page came back with the file.
        await expect(drafter.locator("#f-next_steps")).to_have_value(TYPED["next_steps"])
        await assert_accessible(drafter)
        await drafter.locator("#team-link").click()
        await drafter.get_by_role("button", name="Send for clearance").click()
        await expect(drafter.locator(".notice")).to_contain_text("sent for clearance")

    # The clearing officer, signed in by their own mailed link, clears it on the team page.
    async with site.other_page(page) as officer:
        await signed_in_by(officer, await invited_link(site, olga))
        await officer.goto(team_path)
        await expect(officer.locator("#history")).to_contain_text("Dana Drafter")
        await officer.locator("#clear-draft").click()
        await expect(officer.locator(".notice")).to_contain_text("You cleared the draft")
        await expect(officer.locator("#clearance-status")).to_contain_text("Cleared")
        await assert_accessible(officer)

    # The focal point sends it from the form, and reads the version sent with its annex.
    await page.goto(form_path)
    await page.get_by_role("button", name="Send your national report").click()
    await expect(page.locator(".notice")).to_contain_text(
        "Your national report was sent: version 1"
    )
    await page.goto(f"/reviews/{review_id}")
    await page.locator(f'a[href^="/reviews/{review_id}/submissions/"]').first.click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("version 1")
    sent_with = page.locator("#annexes table")
    await expect(sent_with).to_contain_text(ANNEX_NAME)
    await expect(sent_with).to_contain_text(hashlib.sha256(pdf).hexdigest())
    await assert_accessible(page)
    async with page.expect_download() as downloading:
        await sent_with.get_by_role("link", name=ANNEX_NAME).click()
    download = await downloading.value
    assert download.suggested_filename == ANNEX_NAME
    downloaded = await download.path()
    assert downloaded is not None and downloaded.read_bytes() == pdf

    # The review runs on: the consultation, then the workflow compiles the report.
    run = Run(api, runs, review_id)
    await run.ok("advance")  # consultation
    status = await run.ok("advance")  # compilation, then approval
    assert status["phase"] == "approval"
    response = await eventually(lambda: _report_ready(run))
    report = json.loads(await response.text())

    (section,) = [s for s in report["states"] if s["iso3"] == "DEU"]
    sent = section["report"]
    submission_id = sent["submission_id"]
    decided_at = await site.pool.fetchval(
        """SELECT decided_at FROM submission_versions
           WHERE submission_id = $1 AND version = 1 AND status = 'accepted'""",
        submission_id,
    )
    assert (sent["version"], sent["submitted_by"], sent["late"], sent["published"]) == (
        1,
        "focal_point",
        False,
        True,
    )
    assert sent["schema_version"] == 2
    assert sent["accepted_at"] == decided_at.isoformat()
    assert began <= decided_at <= datetime.now(UTC)
    assert_section_as_typed(sent)
    assert [s["report"] for s in report["states"] if s["iso3"] == "FRA"] == [None]

    (annex,) = report["annexes"]
    assert annex == {
        "kind": "national_report",
        "country": "DEU",
        "organisation": None,
        "category": None,
        "file_name": ANNEX_NAME,
        "media_type": "application/pdf",
        "size": len(pdf),
        "sha256": hashlib.sha256(pdf).hexdigest(),
        "submission_id": submission_id,
        "version": 1,
    }

    # Those who run the review read the same in the report's page.
    async with site.other_page(page) as secretariat:
        await signed_in_by(secretariat, await site.link(runs, f"/reviews/{review_id}/report"))
        state = secretariat.locator("#state-DEU")
        for shown in (TYPED["methodology"], TYPED["policy_overview"], TYPED["next_steps"]):
            await expect(state).to_contain_text(shown)
        await expect(state).to_contain_text("Member State focal point")
        await expect(state).to_contain_text(submission_id)
        listed = secretariat.locator("#annexes")
        await expect(listed).to_contain_text(ANNEX_NAME)
        await expect(listed).to_contain_text(str(len(pdf)))
        await expect(listed).to_contain_text(hashlib.sha256(pdf).hexdigest())
        await assert_accessible(secretariat)


async def _report_ready(run: Run) -> Any:
    """The report's JSON answer, once the workflow has stored version 1."""
    response = await run.report()
    return response if response.status == 200 else None
