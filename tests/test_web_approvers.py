"""The report's approvers on the secretariat's pages: named in order on the forms that create
and edit a review (errors beside their row), no longer changeable once the approval has begun;
an approver sees the report of a review naming it and none of the console's other pages; a
secretariat outside the chain follows it without deciding."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest

from tests.test_reviews_api import create_review
from tests.test_web_console import created_id, error_beside, new_form, send_form
from tests.test_web_invitations import get, secretariat, signed_in_as, text
from tests.web_site import CSRF_FIELD, Site

pytestmark = pytest.mark.usefixtures("worker")


async def approvals_of(site: Site, runs: Any, review_id: str) -> list[dict[str, Any]]:
    response = await site.api.get(f"/v1/reviews/{review_id}/approvals", headers=runs.headers)
    assert response.status == 200, await response.text()
    return list((await response.json())["approvers"])


async def chain_accounts(site: Site) -> tuple[Any, Any, Any]:
    """A secretariat of ECE, a lead of its secretariat and a co-chair of the UN Network."""
    runs = await secretariat(site)
    lead = await site.person("secretariat", regions=("ECE",), name="Commission lead")
    co_chair = await site.person("approver", regions=("ECE",), name="Network co-chair")
    return runs, lead, co_chair


async def edit_fields(client: aiohttp.ClientSession, path: str) -> tuple[str, dict[str, str]]:
    html = await get(client, path)
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', html))
    title = re.search(r'id="title" name="title" value="([^"]*)"', html)
    assert title is not None and CSRF_FIELD.search(html)
    # The rows as a browser sends them, emptied.
    rows = {f"approver-{n}": "" for n in range(1, 6)}
    return html, {**hidden, **rows, "title": title.group(1), "description": ""}


async def test_the_new_review_form_names_approvers_in_order(site: Site) -> None:
    runs, lead, co_chair = await chain_accounts(site)
    asia = await site.person("approver", regions=("ESCAP",), name="Asian co-chair")
    client = await signed_in_as(site, runs)
    html, fields = await new_form(client)
    # Each row offers the region's secretariat and approvers, no one else's.
    assert f'<option value="{co_chair.id}">Network co-chair (UN Network on Migration)' in html
    assert f'value="{lead.id}">Commission lead (Secretariat)' in html
    assert str(asia.id) not in html
    fields |= {"title": "With approvers", "approver-1": str(co_chair.id)}
    fields |= {"approver-4-title": "Nobody chosen"}
    refused = await send_form(client, fields, ["DEU"])
    html = await refused.text()
    assert refused.status == 422, html
    assert error_beside(html, "approver-4").startswith("Error: Approver 4: select who approves")
    # What was chosen stays chosen.
    assert f'<option value="{co_chair.id}" selected>' in html
    fields |= {"approver-3": str(co_chair.id), "approver-4-title": ""}
    refused = await send_form(client, fields, ["DEU"])
    html = await refused.text()
    assert refused.status == 422, html
    assert error_beside(html, "approver-3") == ("Error: Approver 3 names an approver already named")
    assert 'href="#approver-3"' in html

    fields |= {"approver-1": str(lead.id), "approver-1-title": "Executive Secretary, UNECE"}
    fields |= {"approver-2": str(co_chair.id), "approver-3": ""}
    review_id = await created_id(await send_form(client, fields, ["DEU"]))
    chain = await approvals_of(site, runs, review_id)
    assert [(s["name"], s["title"]) for s in chain] == [
        ("Commission lead", "Executive Secretary, UNECE"),
        ("Network co-chair", "UN Network on Migration"),
    ]
    await client.close()


async def test_an_unknown_approver_is_named_beside_its_row(site: Site) -> None:
    runs, _, _ = await chain_accounts(site)
    focal_point = await site.person("focal_point", country="DEU")
    review = await create_review(site.api, runs, stakeholders=[])
    path = f"/reviews/{review['id']}/edit"
    client = await signed_in_as(site, runs)
    _, fields = await edit_fields(client, path)
    for value in (str(focal_point.id), "not-an-id"):
        answer = await client.post(path, data={**fields, "approver-2": value})
        html = await answer.text()
        assert answer.status == 422, html
        assert error_beside(html, "approver-2").startswith("Error: Approver 2 is not")
    assert await approvals_of(site, runs, review["id"]) == []
    await client.close()


async def test_the_edit_form_changes_approvers_until_the_approval_begins(site: Site) -> None:
    runs, lead, co_chair = await chain_accounts(site)
    review = await create_review(
        site.api,
        runs,
        stakeholders=[],
        approvers=[{"actor_id": str(lead.id), "title": "Lead"}],
    )
    review_id, path = review["id"], f"/reviews/{review['id']}/edit"
    client = await signed_in_as(site, runs)
    html, fields = await edit_fields(client, path)
    assert f'<option value="{lead.id}" selected>' in html
    assert 'value="Lead"' in html
    fields |= {"approver-1": str(co_chair.id), "approver-1-title": "Co-chair"}
    fields |= {"approver-2": str(lead.id), "approver-2-title": "Lead"}
    saved = await client.post(path, data=fields, allow_redirects=False)
    assert saved.status == 303, await saved.text()
    chain = await approvals_of(site, runs, review_id)
    assert [s["actor_id"] for s in chain] == [str(co_chair.id), str(lead.id)]

    _, before_approval = await edit_fields(client, path)
    for _ in range(3):  # to the call, the consultation, then the compilation and approval
        advanced = await site.api.post(
            f"/v1/reviews/{review_id}/advance", json={}, headers=runs.headers
        )
        assert advanced.status == 200, await advanced.text()
    html = await get(client, path)
    assert "The approvers can no longer change: the approval of the report has begun." in text(html)
    assert 'name="approver-1"' not in html
    assert "Network co-chair: Co-chair" in text(html)
    # A form shown before the approval began, sent after: refused, nothing changes.
    stale = {**before_approval, "approver-1": str(lead.id)}
    refused = await client.post(path, data=stale, allow_redirects=False)
    assert refused.status == 409
    assert 'href="#approvers"' in await refused.text()
    assert [s["actor_id"] for s in await approvals_of(site, runs, review_id)] == [
        str(co_chair.id),
        str(lead.id),
    ]

    # The co-chair reads the report and no other page of the console.
    async with await signed_in_as(site, co_chair) as approver:
        report = await get(approver, f"/reviews/{review_id}/report")
        assert 'id="decisions"' in report and 'href="/tasks"' in report
        for page in ("dashboard", "submissions", "audit", "edit", "exports/submissions.csv"):
            response = await approver.get(f"/reviews/{review_id}/{page}", allow_redirects=False)
            assert response.status in (403, 404), page
        for page in ("/people", "/reviews", "/reviews/new"):
            response = await approver.get(page, allow_redirects=False)
            assert response.status in (403, 404), page
    # Another secretariat of the region follows the chain; it decides nothing.
    async with await signed_in_as(site, await secretariat(site)) as other:
        report = await get(other, f"/reviews/{review_id}/report")
        assert 'id="approvers"' in report and "Their turn" in text(report)
        assert 'id="decisions"' not in report
        assert "awaits the decision of the approver whose turn it is" in text(report)
        for form in ("approve", "request-changes"):
            response = await other.get(f"/reviews/{review_id}/report/{form}", allow_redirects=False)
            assert response.status == 303
    await client.close()
