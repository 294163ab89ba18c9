"""A participant's task pages: My tasks in order with filters, a task's page with the
synthesis and the response form, completing it (with a receipt by mail), and handing it to a
colleague chosen by name."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Page

from api.keys import SERVICES
from services import tasks as use_cases
from tests import documents
from tests.browser import assert_accessible, needs_chromium, screenshot
from tests.reviews import MAIL_DEADLINE_S, eventually, review_body
from tests.web_site import Site, form_token, path_of, text_of

DAY = timedelta(days=1)
ROW_TITLES = re.compile(r'<a href="/tasks/[0-9a-f-]{36}">([^<]*)</a>')


def text(html: str) -> str:
    """The page's words, tags and spacing dropped."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def create_review(api: Any, secretariat: Any, **overrides: Any) -> dict[str, Any]:
    """A review of ECE that invites no stakeholder unless told: one open to all would mail
    every stakeholder of the region the session has made, and these tests need none of it."""
    body = review_body(
        **{"title": f"Review {secrets.token_hex(3)}", "stakeholders": [], **overrides}
    )
    created = await api.post("/v1/reviews", json=body, headers=secretariat.headers)
    assert created.status == 201, await created.text()
    return body


async def insert_task(
    pool: asyncpg.Pool, review_id: str, account: Any, due_at: datetime, status: str = "open"
) -> uuid.UUID:
    """A task as the consultation would have opened (and perhaps closed) it."""
    task_id = uuid.uuid4()
    response = documents.consultation_response() if status == "completed" else None
    await pool.execute(
        """INSERT INTO tasks (id, review_id, kind, invitee, assignee, organisation, due_at,
                              status, response, completed_at)
           VALUES ($1, $2, 'consultation', $3, $3, $4, $5, $6, $7,
                   CASE WHEN $6 = 'completed' THEN now() END)""",
        task_id,
        review_id,
        account.actor.id,
        account.actor.organisation,
        due_at,
        status,
        response,
    )
    return task_id


async def stakeholder(site: Site, organisation: str, **fields: Any) -> Any:
    return await site.person(
        "stakeholder",
        organisation=organisation,
        stakeholder_category="civil_society",
        regions=("ECE",),
        name=fields.pop("name", f"Person {secrets.token_hex(2)}"),
        **fields,
    )


async def get(site: Site, path: str, status: int = 200) -> str:
    response = await site.client.get(path, allow_redirects=False)
    body = await response.text()
    assert response.status == status, body
    return body


async def test_my_tasks_come_open_first_by_due_date_and_filter(
    site: Site, ece_secretariat: Any, worker: Any
) -> None:
    person = await stakeholder(site, f"Org {secrets.token_hex(3)}")
    now = datetime.now(UTC)
    plan = [("overdue", -DAY, "open"), ("later", 10 * DAY, "open"), ("soon", 2 * DAY, "open")]
    plan += [("answered", 5 * DAY, "completed"), ("expired", -10 * DAY, "expired")]
    reviews, tasks = {}, {}
    for name, due, status in plan:
        body = await create_review(site.api, ece_secretariat, title=f"Review {name} <b>")
        reviews[name] = body["id"]
        tasks[name] = await insert_task(site.pool, body["id"], person, now + due, status)
    await site.sign_in(person)

    page = await get(site, "/tasks")
    assert ROW_TITLES.findall(page) == [
        f"Review {name} &lt;b&gt;" for name in ("overdue", "soon", "later", "answered", "expired")
    ]
    overdue_row = page[page.index(str(tasks["overdue"])) :]
    assert 'class="tag tag--overdue">Overdue' in overdue_row[: overdue_row.index("</tr>")]
    assert "UTC" in text(page)  # due dates in the person's time zone (UTC by default)

    completed = await get(site, "/tasks?status=completed")
    assert ROW_TITLES.findall(completed) == ["Review answered &lt;b&gt;"]
    assert '<option value="completed" selected>' in completed
    one_review = await get(site, f"/tasks?review={reviews['soon']}")
    assert ROW_TITLES.findall(one_review) == ["Review soon &lt;b&gt;"]
    nothing = await get(site, "/tasks?status=open&review=no-such-review")
    assert "You have no tasks that match these filters" in nothing

    # Filters typed into the address are named beside their field, never a failure.
    for query in ("status=done", "status=%00", "after=nope", "review=" + "x" * 5000):
        response = await site.client.get(f"/tasks?{query}", allow_redirects=False)
        assert response.status in (200, 422), await response.text()
    wrong = await get(site, "/tasks?status=done", status=422)
    assert 'href="#status"' in wrong and 'id="status-error"' in wrong
    assert "Select a status from the list" in text(wrong)
    assert len(ROW_TITLES.findall(wrong)) == 5  # the list without the filter


async def test_my_tasks_are_read_in_pages_in_the_same_order(
    site: Site, ece_secretariat: Any, worker: Any
) -> None:
    person = await stakeholder(site, f"Org {secrets.token_hex(3)}")
    now = datetime.now(UTC)
    for n, status in enumerate(("open", "completed", "open", "expired", "open")):
        body = await create_review(site.api, ece_secretariat)
        await insert_task(site.pool, body["id"], person, now + (n - 2) * DAY, status)
    deps = site.api.app[SERVICES]
    whole = await use_cases.inbox_page(deps, person.actor, status=None, review_id=None, after=None)
    paged: list[uuid.UUID] = []
    after = None
    while True:
        found = await use_cases.inbox_page(
            deps, person.actor, status=None, review_id=None, after=after, limit=2
        )
        paged += [row["id"] for row in found.tasks]
        if found.next_after is None:
            break
        after = found.next_after
    assert paged == [row["id"] for row in whole.tasks] and len(paged) == 5
    assert [row["status"] for row in whole.tasks] == ["open"] * 3 + ["expired", "completed"]


async def test_my_tasks_list_what_open_calls_still_ask(site: Site, ece_secretariat: Any) -> None:
    focal_point = await site.person("focal_point", country="DEU", regions=("ECE",))
    organisation = f"Org {secrets.token_hex(3)}"
    member = await stakeholder(site, organisation)
    calling = await create_review(site.api, ece_secretariat, stakeholders=[member.id])
    later = await create_review(site.api, ece_secretariat, stakeholders=[member.id])  # scheduled
    await site.pool.execute(
        "UPDATE reviews SET phase = 'call_for_inputs' WHERE id = $1", calling["id"]
    )

    await site.sign_in(focal_point)
    page = text(await get(site, "/tasks"))
    assert f"Send the national report of Germany for {calling['title']}" in page
    assert later["title"] not in page
    assert f'href="/reviews/{calling["id"]}"' in await get(site, "/tasks")
    await site.pool.execute(
        """INSERT INTO submissions (id, review_id, kind, subject, latest_version)
           VALUES ($1, $2, 'national_report', 'DEU', 1)""",
        uuid.uuid4(),
        calling["id"],
    )
    assert calling["title"] not in await get(site, "/tasks")

    await site.sign_in(member)
    page = text(await get(site, "/tasks"))
    assert f"Send the written input of {organisation} for {calling['title']}" in page


@pytest.fixture
async def consultation(site: Site, ece_secretariat: Any, worker: Any) -> dict[str, Any]:
    """A review in consultation: stakeholders a1 and a4 of one organisation and b1 of another
    consulted; a2 and a3, colleagues of a1, not (so free to take a task). a2's name is
    hostile."""
    organisation = f"Migrant Workers Solidarity Network {secrets.token_hex(2)}"
    names = {"a1": "Amira Haddad", "a2": "Bruno <i>Keller", "a3": "Chen Wei", "a4": "Dana Novak"}
    people = {n: await stakeholder(site, organisation, name=name) for n, name in names.items()}
    people["b1"] = await stakeholder(site, f"Org B {secrets.token_hex(3)}")
    invited = [people[n].id for n in ("a1", "a4", "b1")]
    title = f"Regional review of the GCM in the UNECE region ({secrets.token_hex(2)})"
    body = await create_review(site.api, ece_secretariat, stakeholders=invited, title=title)
    focal_point = await site.person("focal_point", country="DEU", regions=("ECE",))
    inputs = {
        focal_point: ("national_report", documents.national_report("DEU")),
        people["b1"]: (
            "stakeholder_input",
            documents.stakeholder_input(people["b1"].actor.organisation),
        ),
    }
    for step in range(2):  # scheduled -> call for inputs (a report and an input) -> consultation
        advanced = await site.api.post(
            f"/v1/reviews/{body['id']}/advance", json={}, headers=ece_secretariat.headers
        )
        assert advanced.status == 200, await advanced.text()
        for account, (kind, content) in inputs.items() if step == 0 else ():
            sent = await site.api.post(
                f"/v1/reviews/{body['id']}/submissions",
                json={"kind": kind, "content": content},
                headers=account.headers,
            )
            assert sent.status == 201, await sent.text()
    rows = await site.pool.fetch("SELECT id, invitee FROM tasks WHERE review_id = $1", body["id"])
    by_invitee = {row["invitee"]: str(row["id"]) for row in rows}
    return {
        "review": body,
        "people": people,
        "tasks": {n: by_invitee[people[n].actor.id] for n in ("a1", "a4", "b1")},
    }


async def a1_at(site: Site, consultation: dict[str, Any], page: str = "") -> tuple[Any, str, str]:
    """a1 signed in: the people, a1's task and the path of its `page`."""
    task_id = consultation["tasks"]["a1"]
    await site.sign_in(consultation["people"]["a1"])
    return consultation["people"], task_id, f"/tasks/{task_id}{page}"


def response_form(token: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": token, **fields}


# A journey of many pages, tens of seconds: with the slow tests.
@pytest.mark.slow
async def test_a_task_is_answered_once_with_errors_beside_their_fields_and_a_receipt(
    site: Site, consultation: dict[str, Any]
) -> None:
    people, task_id, path = await a1_at(site, consultation)
    page = await get(site, path)
    assert (
        "The synthesis to read" in page and "What your answer commits your organisation to" in page
    )
    assert "Cluster 1:" in page and 'name="/endorsement"' in page
    # The synthesis, as the API gives it: Germany's report and the consenting input quoted.
    assert "Objective 6:" in page and "Decouple residence permits" in page
    assert "Germany" in text(page)
    # Another's task, and ids that name nothing, are not found.
    await get(site, f"/tasks/{consultation['tasks']['b1']}", status=404)
    for bad in ("not-a-uuid", str(uuid.uuid4()), "%00"):
        response = await site.client.get(f"/tasks/{bad}", allow_redirects=False)
        assert response.status == 404

    token = await form_token(site.client, path)
    # A comment added (without JavaScript), then sent with nothing filled in.
    added = await site.client.post(
        path, data=response_form(token, **{"_add": "/comments objective=6"})
    )
    assert added.status == 200 and 'name="/comments/0/comment"' in await added.text()
    wrong = await site.client.post(
        path, data=response_form(token, **{"/comments/0/objective": "6", "_send": "answer"})
    )
    body = await wrong.text()
    assert wrong.status == 422
    summary = body[body.index("error-summary") : body.index("</ul>", body.index("error-summary"))]
    for field_id in ("f-endorsement", "f-comments-0-comment"):
        assert f'href="#{field_id}"' in summary
        assert f'id="{field_id}-error"' in body
    assert (
        await site.pool.fetchval("SELECT response FROM tasks WHERE id = $1", uuid.UUID(task_id))
        is None
    )

    answer = {
        "/endorsement": "endorse_with_reservations",
        "/general_comment": "Fair, but <script>x</script> is missing.",
        "/comments/0/objective": "6",
        "/comments/0/comment": "Mention seasonal workers.",
        "/consent_to_publish": "yes",
        "_send": "answer",
    }
    sent = await site.client.post(path, data=response_form(token, **answer), allow_redirects=False)
    assert (sent.status, sent.headers["Location"]) == (303, path)
    done = await get(site, path)
    assert "You answered this task on" in done and 'name="/endorsement"' not in done
    assert "Endorsed with reservations" in done and "&lt;script&gt;x&lt;/script&gt;" in done
    stored = await site.pool.fetchrow(
        "SELECT status, response FROM tasks WHERE id = $1", uuid.UUID(task_id)
    )
    assert stored["status"] == "completed" and stored["response"]["comments"] == [
        {"objective": 6, "comment": "Mention seasonal workers."}
    ]
    # The same answer again is the same; another is refused, and changes nothing.
    again = await site.client.post(path, data=response_form(token, **answer), allow_redirects=False)
    assert again.status == 303
    other = await site.client.post(
        path, data=response_form(token, **{**answer, "/endorsement": "endorse"})
    )
    assert other.status == 409 and "already completed" in await other.text()

    async def receipts() -> list[Any]:
        found = await site.mails_to(people["a1"].actor.email)
        return [m for m in found if "Receipt: your answer" in str(m["Subject"])]

    [receipt] = await eventually(receipts, deadline_s=MAIL_DEADLINE_S)
    assert f"{site.settings.api_url}/tasks/{task_id}" in text_of(receipt)
    assert "Endorsed with reservations" in text_of(receipt)


async def test_a_task_is_given_to_a_colleague_chosen_by_name(
    site: Site, consultation: dict[str, Any]
) -> None:
    people, task_id, path = await a1_at(site, consultation, "/delegate")
    form = await get(site, path)
    offered = re.findall(r'<option value="([0-9a-f-]{36})"', form)
    # Only colleagues without a task of this review: not a4 (consulted), not b1, not a1.
    assert sorted(offered) == sorted([people["a2"].id, people["a3"].id])
    assert "Bruno &lt;i&gt;Keller" in form

    token = await form_token(site.client, path)
    for chosen, status in (("", 422), (people["b1"].id, 422), (people["a4"].id, 422), ("x", 422)):
        refused = await site.client.post(path, data={"csrf_token": token, "to": chosen})
        body = await refused.text()
        assert refused.status == status, body
        assert 'href="#to"' in body and 'id="to-error"' in body
    long_note = await site.client.post(
        path, data={"csrf_token": token, "to": people["a2"].id, "note": "n" * 2001}
    )
    assert long_note.status == 422 and 'href="#note"' in await long_note.text()
    assert (
        await site.pool.fetchval("SELECT assignee FROM tasks WHERE id = $1", uuid.UUID(task_id))
        == people["a1"].actor.id
    )

    given = await site.client.post(
        path, data={"csrf_token": token, "to": people["a2"].id, "note": "Over to you"},
        allow_redirects=False,
    )  # fmt: skip
    assert (given.status, given.headers["Location"]) == (303, "/tasks")
    listed = await get(site, "/tasks")
    assert text(listed).count(f"You gave the task of {consultation['review']['title']} to") == 1
    assert people["a2"].actor.name.replace("<", "&lt;").replace(">", "&gt;") in listed
    assert "You gave the task" not in await get(site, "/tasks")  # shown once
    await get(site, f"/tasks/{task_id}", status=404)

    await site.sign_in(people["a2"])
    assert task_id in await get(site, "/tasks")


async def test_task_pages_need_a_signed_in_person(site: Site) -> None:
    for path in ("/tasks", f"/tasks/{uuid.uuid4()}", f"/tasks/{uuid.uuid4()}/delegate"):
        response = await site.client.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"].startswith("/sign-in")


@needs_chromium
async def test_a_stakeholder_answers_a_task_from_its_mail_and_delegates_another(
    page: Page, site: Site, consultation: dict[str, Any], ece_secretariat: Any
) -> None:
    people = consultation["people"]
    a1 = people["a1"]
    # A second review consulting a1, whose task a1 gives to a colleague.
    second = await create_review(
        site.api,
        ece_secretariat,
        stakeholders=[a1.id],
        title="Regional review of the GCM in the UNECE region: follow-up",
    )
    second_task = await insert_task(site.pool, second["id"], a1, datetime.now(UTC) + 20 * DAY)

    link = await site.link(a1)
    await page.goto(path_of(link))
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url("**/tasks")
    await assert_accessible(page)
    await screenshot(page, "my-tasks")

    await page.get_by_role("link", name=consultation["review"]["title"]).click()
    await page.wait_for_url(f"**/tasks/{consultation['tasks']['a1']}")
    await screenshot(page, "task")
    # Sent empty: the errors are shown, and the page stays usable.
    await page.get_by_role("button", name="Send your answer").click()
    await page.wait_for_selector(".error-summary")
    await assert_accessible(page)
    await page.locator(".error-summary a").first.click()
    assert await page.evaluate("document.activeElement.name") == "/endorsement"
    await page.keyboard.press("Space")  # the first choice: endorse
    await page.locator("#f-general_comment").focus()
    await page.keyboard.type("A fair summary.")
    await page.get_by_role("button", name="Send your answer").click()
    await page.wait_for_selector("text=You answered this task on")

    await page.goto(f"/tasks/{second_task}")
    await page.get_by_role("link", name="Give this task to a colleague").click()
    await assert_accessible(page)
    await page.get_by_label("Colleague", exact=True).select_option(label=people["a3"].actor.name)
    await page.get_by_label("Note to your colleague (optional)").fill("Please take this one.")
    await page.get_by_role("button", name="Give the task").click()
    await page.wait_for_url("**/tasks")
    assert await page.get_by_role("status").inner_text() == (
        f"You gave the task of {second['title']} to {people['a3'].actor.name}."
    )
