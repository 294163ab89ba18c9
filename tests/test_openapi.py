"""The OpenAPI document (`/openapi.json`) and the page that renders it (`/docs`)."""

from __future__ import annotations

import re
import secrets
import uuid
from html.parser import HTMLParser
from typing import Any

import pytest
from aiohttp import web
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

import schemas
from api import requests as request_schemas
from api.openapi import REQUEST_SCHEMAS, openapi_document
from api.problems import PROBLEM_TYPE
from api.reports import FORMATS as REPORT_FORMATS
from domain.canonical import canonical_json
from reports.compile import compile_report
from reports.render import render_html, render_markdown
from tests import documents
from tests.openapi_check import drifts_of, value_drifts, walk
from web.app import is_page

PUBLIC = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"}
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# Where the document is placed to check its schemas with jsonschema; any URI would do.
DOCUMENT_URI = "urn:reviewflow:openapi"


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


async def forget_review(pool: Any, review_id: str) -> None:
    """Delete the review and every row that refers to it, those that refer to others first."""
    events = "SELECT id FROM review_events WHERE review_id = $1"
    deliveries = f"SELECT id FROM deliveries WHERE event_id IN ({events})"
    await pool.execute(
        f"DELETE FROM delivery_attempts WHERE delivery_id IN ({deliveries})", review_id
    )
    await pool.execute(f"DELETE FROM deliveries WHERE event_id IN ({events})", review_id)
    for table in ("reports", "tasks", "review_events", "webhooks"):
        await pool.execute(f"DELETE FROM {table} WHERE review_id = $1", review_id)
    await pool.execute(
        "DELETE FROM submission_versions WHERE submission_id IN"
        " (SELECT id FROM submissions WHERE review_id = $1)",
        review_id,
    )
    await pool.execute("DELETE FROM submissions WHERE review_id = $1", review_id)
    await pool.execute("DELETE FROM reviews WHERE id = $1", review_id)


def component_validator(document: dict[str, Any], name: str) -> Draft202012Validator:
    """A validator for components/schemas/<name>, resolving `$ref`s inside the document only."""
    registry = Registry().with_resource(
        DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"{DOCUMENT_URI}#/components/schemas/{name}"}, registry=registry
    )


def test_document_is_valid_openapi_3_1() -> None:
    document = openapi_document()
    assert document["openapi"] == "3.1.0"
    assert document["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"
    validate(document)


def test_document_is_self_contained() -> None:
    document = openapi_document()
    refs = [node["$ref"] for node in walk(document) if isinstance(node, dict) and "$ref" in node]
    assert refs
    for ref in refs:
        assert ref.startswith("#/"), ref
        target: Any = document
        for token in ref[2:].split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
    # An `$id` inside the document would change the base the references resolve against.
    assert not [
        node for node in walk(document["components"]) if isinstance(node, dict) and "$id" in node
    ]


@pytest.mark.parametrize("name", sorted(REQUEST_SCHEMAS))
def test_request_body_schemas_are_valid_2020_12(name: str) -> None:
    Draft202012Validator.check_schema(openapi_document()["components"]["schemas"][name])


def test_every_component_schema_is_valid_2020_12() -> None:
    for schema in openapi_document()["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_the_sources_keep_their_own_refs() -> None:
    component = openapi_document()["components"]["schemas"]["NewReview"]
    assert (
        component["properties"]["region"]["$ref"] == "#/components/schemas/common/$defs/region_code"
    )
    region = request_schemas.NEW_REVIEW["properties"]["region"]
    assert region["$ref"] == f"{schemas.COMMON_ID}#/$defs/region_code"


def _original_problems(name: str, instance: Any) -> list[schemas.Problem]:
    if name in REQUEST_SCHEMAS:
        return schemas.problems_in(REQUEST_SCHEMAS[name], instance)
    document, _, version = name.partition(".v")
    return schemas.validate_document(document, instance, int(version or 1))


TIMELINE = {
    "call_opens_at": "2030-01-01T00:00:00Z",
    "inputs_due_at": "2030-02-01T00:00:00Z",
    "consultation_due_at": "2030-03-01T00:00:00Z",
    "report_due_at": "2030-04-01T00:00:00Z",
}


@pytest.mark.parametrize(
    ("name", "instance", "valid"),
    [
        # Each version of a schema is its own component, named as its file is.
        ("national_report", documents.national_report(version=1), True),
        ("national_report", documents.national_report(), False),
        ("national_report.v2", documents.national_report(), True),
        ("national_report.v2", documents.national_report(version=1), False),
        ("national_report.v2", documents.national_report(country="Germany"), False),
        ("stakeholder_input", documents.stakeholder_input(version=1), True),
        ("stakeholder_input.v2", documents.stakeholder_input(), True),
        ("stakeholder_input.v2", documents.stakeholder_input(version=1), False),
        ("consultation_response", documents.consultation_response(), True),
        ("NewReview", {"region": "ECE", "title": "ECE 2030", "timeline": TIMELINE}, True),
        (
            "NewReview",
            {"region": "ECE", "title": "x", "timeline": TIMELINE, "member_states": ["deu"]},
            False,
        ),
        (
            "NewActor",
            {
                "name": "A",
                "role": "stakeholder",
                "organisation": "O",
                "stakeholder_category": "academia",
            },
            True,
        ),
        (
            "NewActor",
            {"name": "A", "role": "stakeholder", "organisation": "O", "stakeholder_category": "x"},
            False,
        ),
        (
            "NewWebhook",
            {"url": "https://example.org/hook", "events": ["*"], "secret": "s" * 16},
            True,
        ),
        (
            "NewWebhook",
            {
                "url": "https://example.org/hook",
                "events": ["submission.accepted", "report.published"],
                "secret": "s" * 200,
                "review_id": "ece-2030",
            },
            True,
        ),
        (
            "NewWebhook",
            {
                "url": "https://example.org/hook",
                "events": ["*"],
                "secret": "s" * 16,
                "review_id": "ece-2030",
                "regions": ["ECE"],
            },
            False,
        ),
        (
            "NewWebhook",
            {"url": "https://example.org/hook", "events": ["*"], "secret": "short"},
            False,
        ),
        (
            "NewWebhook",
            {"url": "https://example.org/hook", "events": ["call.opened"], "secret": "s" * 16},
            False,
        ),
        ("Preferences", {"language": "fr", "notifications": "essential"}, True),
        ("Preferences", {}, False),
        ("Preferences", {"notifications": "none"}, False),
        ("Approval", {}, True),
        ("Approval", {"note": "Approved by the Bureau"}, True),
        ("Approval", {"note": ""}, False),
        (
            "ChangeRequest",
            {"note": "n", "editorial": {"overview": "t", "cluster-4": "t", "objective-23": "t"}},
            True,
        ),
        ("ChangeRequest", {"note": "n", "editorial": {"objective-24": "t"}}, False),
        ("ChangeRequest", {"note": "n", "editorial": {"annex": "t"}}, True),
        ("ChangeRequest", {"note": "n", "editorial": {"chapter-9": "t"}}, False),
        ("ChangeRequest", {"editorial": {"gaps": "t"}}, False),
    ],
)
def test_rewritten_schemas_check_what_the_originals_check(
    name: str, instance: Any, valid: bool
) -> None:
    errors = list(component_validator(openapi_document(), name).iter_errors(instance))
    assert (errors == []) is valid, errors
    assert (_original_problems(name, instance) == []) is valid


@pytest.mark.parametrize(
    "response",
    [
        documents.consultation_response(),
        {**documents.consultation_response(), "endorsement": "maybe"},
        {"comments": [{"objective": 24, "comment": "x"}], "endorsement": "endorse"},
        {"endorsement": "endorse", "extra": True},
        "endorse",
    ],
)
def test_task_completion_checks_the_response_as_the_handler_does(response: Any) -> None:
    body = {"response": response}
    documented = list(component_validator(openapi_document(), "TaskCompletion").iter_errors(body))
    checked = schemas.problems_in(request_schemas.TASK_COMPLETION, body) or (
        schemas.validate_document("consultation_response", response)
    )
    assert (documented == []) is (checked == []), (documented, checked)


# ---- what the API answers with is what is documented ------------------------------------------
# Every answer below is checked against its declaration by tests/openapi_check.py (as every
# answer of the suite is); these tests make the API give the answers that are rare elsewhere.


async def test_webhook_and_delivery_answers_are_documented(
    api: Any, pool: Any, make_account: Any
) -> None:
    """Through the API and the database: a subscription, its delivery log (every status,
    attempts with and without an HTTP status), paging, and the end of the subscription."""
    secretariat = await make_account("secretariat", regions=("ECE",))
    review_id = f"ece-doc-{secrets.token_hex(4)}"
    # One delivery per (event, webhook): an event for each delivery below.
    events = [uuid.uuid4() for _ in range(4)]
    await pool.execute(
        """INSERT INTO reviews (id, region, title, member_states, timeline, reminder_days,
                                late_submissions, phase, deadlines, created_by)
           VALUES ($1, 'ECE', 'Doc', '{DEU}', $2, '{7}', 'reject', 'cancelled', $2, $3)""",
        review_id,
        TIMELINE,
        secretariat.actor.id,
    )
    # Already expanded: no worker turns them into deliveries of its own.
    await pool.execute(
        """INSERT INTO review_events (id, review_id, type, actor_id, at, data, expanded_at)
           SELECT e, $2, 'review.cancelled', $3, now(), '{}', now() FROM unnest($1::uuid[]) e""",
        events,
        review_id,
        secretariat.actor.id,
    )
    try:
        body = {
            "url": "http://127.0.0.1:9/hook",
            "events": ["*"],
            "secret": secrets.token_hex(16),
            "review_id": review_id,
        }
        created = await api.post("/v1/webhooks", json=body, headers=secretariat.headers)
        assert created.status == 201, await created.text()
        hook = await created.json()
        assert "secret" not in hook

        listed = await api.get("/v1/webhooks", headers=secretariat.headers)
        assert listed.status == 200
        webhooks = await listed.json()
        assert [w["id"] for w in webhooks["items"]] == [hook["id"]]

        # (status, attempts as (HTTP status, error)), oldest delivery first.
        log = [
            ("sent", [(503, "HTTP 503"), (200, None)]),
            ("failed", [(None, "Cannot connect to host"), (404, "HTTP 404")]),
            ("pending", [(None, "timeout")]),
            ("sending", []),
        ]
        ids = []
        for n, (status, attempts) in enumerate(log):
            delivery = uuid.uuid4()
            ids.append(str(delivery))
            await pool.execute(
                """INSERT INTO deliveries (id, event_id, channel, recipient, address, template,
                                           status, attempts, next_attempt_at, sent_at,
                                           last_error, created_at)
                   VALUES ($1, $2, 'webhook', $3, $4, 'review.cancelled', $5, $6,
                           now() + interval '1 day', CASE WHEN $5 = 'sent' THEN now() END,
                           $7, now() - make_interval(mins => 10 - $8))""",
                delivery,
                events[n],
                uuid.UUID(hook["id"]),
                body["url"],
                status,
                len(attempts),
                attempts[-1][1] if attempts else None,
                n,
            )
            for number, (code, error) in enumerate(attempts, 1):
                await pool.execute(
                    "INSERT INTO delivery_attempts (delivery_id, attempt, status_code, error,"
                    " duration_ms) VALUES ($1, $2, $3, $4, 12)",
                    delivery,
                    number,
                    code,
                    error,
                )

        url = f"/v1/webhooks/{hook['id']}/deliveries"
        first = await api.get(url, params={"limit": "3"}, headers=secretariat.headers)
        assert first.status == 200, await first.text()
        page = await first.json()
        assert page["next_after"] == page["items"][-1]["id"]
        rest = await api.get(url, params={"after": page["next_after"]}, headers=secretariat.headers)
        last = await rest.json()
        assert last["next_after"] is None
        shown = page["items"] + last["items"]
        assert [d["id"] for d in shown] == ids[::-1]  # newest first
        by_status = {d["status"]: d for d in shown}
        assert by_status["pending"]["next_attempt_at"] is not None
        assert by_status["sent"]["sent_at"] is not None
        assert [a["status_code"] for a in by_status["failed"]["attempt_log"]] == [None, 404]

        bad = await api.get(url, params={"limit": "0"}, headers=secretariat.headers)
        assert bad.status == 422

        deleted = await api.delete(f"/v1/webhooks/{hook['id']}", headers=secretariat.headers)
        assert deleted.status == 204
        gone = await api.get(url, headers=secretariat.headers)
        assert gone.status == 404
    finally:
        await forget_review(pool, review_id)


async def test_report_answers_are_documented(api: Any, pool: Any, make_account: Any) -> None:
    """A report compiled from the database, empty and then with every kind of entry (a late
    national report, quoted and unquoted inputs, answered tasks, a submission refused after
    compilation began), and read through the API in every format."""
    secretariat = await make_account("secretariat", regions=("ECE",))
    observer = await make_account("observer")
    germany = await make_account("focal_point", country="DEU")
    france = await make_account("focal_point", country="FRA")
    tag = secrets.token_hex(4)
    ngos = [
        await make_account(
            "stakeholder", organisation=f"{name} {tag}", stakeholder_category=category
        )
        for name, category in (("Alpha", "civil_society"), ("Beta", "academia"))
    ]
    review_id = f"ece-doc-{tag}"
    await pool.execute(
        """INSERT INTO reviews (id, region, title, member_states, timeline, reminder_days,
                                late_submissions, phase, deadlines, created_by)
           VALUES ($1, 'ECE', 'Doc', '{DEU,FRA,KAZ}', $2, '{7}', 'accept_flagged', 'approval',
                   $2, $3)""",
        review_id,
        TIMELINE,
        secretariat.actor.id,
    )

    async def compiled(editorial: dict[str, str]) -> dict[str, Any]:
        async with pool.acquire() as conn:
            review = await conn.fetchrow("SELECT * FROM reviews WHERE id = $1", review_id)
            return await compile_report(conn, review, 1, editorial)

    async def submit(
        kind: str, subject: str, content: Any, by: Any, *, accepted: bool = True, late: bool = False
    ) -> None:
        submission = uuid.uuid4()
        await pool.execute(
            "INSERT INTO submissions (id, review_id, kind, subject, latest_version)"
            " VALUES ($1, $2, $3, $4, $5)",
            submission,
            review_id,
            kind,
            subject,
            1 if accepted else 0,
        )
        await pool.execute(
            """INSERT INTO submission_versions (request_id, submission_id, version, status, late,
                                                content, fingerprint, submitted_by, received_at)
               VALUES ($1, $2, $3, $4, $5, $6, 'doc', $7, now() + interval '1 minute')""",
            uuid.uuid4(),
            submission,
            1 if accepted else None,
            "accepted" if accepted else "rejected",
            late,
            content if accepted else None,  # a refused request keeps no content
            by.actor.id,
        )

    try:
        empty = await compiled({})
        assert value_drifts("/components/schemas/Report", empty) == []
        assert empty["overview"]["consultation"]["response_rate"] is None

        await submit("national_report", "DEU", documents.national_report("DEU"), germany, late=True)
        for ngo, consent in zip(ngos, (True, False), strict=True):
            organisation = ngo.actor.organisation
            content = documents.stakeholder_input(organisation, ngo.actor.stakeholder_category)
            await submit(
                "stakeholder_input",
                str(ngo.actor.organisation_id),
                {**content, "publication": "with_name" if consent else "do_not_publish"},
                ngo,
            )
        await pool.execute(
            """INSERT INTO review_events (id, review_id, type, at, data, expanded_at)
               VALUES ($1, $2, 'phase.changed', now(), '{"to": "compilation"}', now())""",
            uuid.uuid4(),
            review_id,
        )
        await submit(
            "national_report", "FRA", documents.national_report("FRA"), france, accepted=False
        )
        for account, status in (
            (ngos[0], "completed"),
            (france, "completed"),
            (ngos[1], "expired"),
        ):
            actor = account.actor
            await pool.execute(
                """INSERT INTO tasks (id, review_id, kind, invitee, assignee, organisation,
                                      stakeholder_category, country, due_at, status, response,
                                      completed_at)
                   VALUES ($1, $2, 'consultation', $3, $3, $4, $5, $6, now(), $7, $8,
                           CASE WHEN $7 = 'completed' THEN now() END)""",
                uuid.uuid4(),
                review_id,
                actor.id,
                actor.organisation,
                actor.stakeholder_category,
                actor.country,
                status,
                documents.consultation_response() if status == "completed" else None,
            )

        report = await compiled({"objective-6": "Editorial text.", "overview": "Thanks."})
        assert value_drifts("/components/schemas/Report", report) == []
        assert report["annex"]["after_compilation"] and report["editorial"]
        assert report["consultation"]["general_comments"]
        objective_6 = report["clusters"][0]["objectives"][2]
        assert objective_6["stakeholder_views"]["quotes"]
        assert objective_6["consultation_comments"]["quotes"]
        assert {q["category"] for q in objective_6["consultation_comments"]["quotes"]} == {
            "civil_society",
            "focal_point",
        }

        await pool.execute(
            """INSERT INTO reports (review_id, version, content_hash, json, html, markdown)
               VALUES ($1, 1, $2, $3, $4, $5)""",
            review_id,
            report["content_hash"],
            canonical_json(report),
            render_html(report),
            render_markdown(report),
        )
        url = f"/v1/reviews/{review_id}/report"
        for name, (_, media_type) in REPORT_FORMATS.items():
            response = await api.get(
                url, params={"format": name, "version": "1"}, headers=secretariat.headers
            )
            assert response.status == 200, await response.text()
            assert response.content_type == media_type
            assert response.headers["ETag"] == f'"{report["content_hash"]}-{name}"'
            assert response.headers["X-Report-Status"] == "draft"
        answer = await (await api.get(url, headers=secretariat.headers)).json()
        assert answer == report

        for params, expected in (
            ({"format": "docx"}, 422),
            ({"version": "0"}, 422),
            ({"version": "2"}, 404),
        ):
            response = await api.get(url, params=params, headers=secretariat.headers)
            assert response.status == expected, params
        # A draft is the secretariat's only.
        assert (await api.get(url, headers=observer.headers)).status == 404
    finally:
        await forget_review(pool, review_id)


async def test_a_preferences_answer_is_documented(api: Any, make_account: Any) -> None:
    observer = await make_account("observer")
    changed = await api.patch(
        "/v1/actors/me",
        json={"language": "fr", "notifications": "essential"},
        headers=observer.headers,
    )
    assert changed.status == 200, await changed.text()
    answer = await changed.json()
    assert (answer["language"], answer["notifications"]) == ("fr", "essential")
    assert (await api.patch("/v1/actors/me", json={}, headers=observer.headers)).status == 422


def test_bearer_auth_on_every_v1_operation_and_none_on_public_ones() -> None:
    document = openapi_document()
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for method, path, operation in operations(document):
        if path in PUBLIC:
            assert operation["security"] == [], (method, path)
        else:
            assert path.startswith("/v1/"), path
            assert operation["security"] == [{"bearerAuth": []}], (method, path)
            assert "401" in operation["responses"], (method, path)


def test_every_error_is_a_problem() -> None:
    document = openapi_document()
    responses = document["components"]["responses"]
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if not (status == "default" or status.startswith(("4", "5"))):
                continue
            if path == "/readyz" and status == "503":
                continue  # readiness answers with its checks, not a problem
            if "$ref" in response:
                response = responses[response["$ref"].rsplit("/", 1)[1]]
            assert list(response["content"]) == [PROBLEM_TYPE], (method, path, status)


async def test_openapi_json_is_served_without_a_token(api: Any) -> None:
    response = await api.get("/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == openapi_document()


async def test_every_v1_operation_refuses_a_request_without_a_token(api: Any) -> None:
    for method, path, _ in operations(openapi_document()):
        if path in PUBLIC:
            continue
        url = re.sub(r"\{[^}]+\}", "x", path)
        response = await api.request(method.upper(), url)
        assert response.status == 401, (method, path)
        assert response.content_type == PROBLEM_TYPE


class ResourceLinks(HTMLParser):
    """Every URL in the page that makes the browser load something, and inline handlers."""

    LOADS = frozenset({"src", "srcset", "poster", "data", "background", "formaction"})

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in self.LOADS or (tag == "link" and name == "href"):
                self.urls.append(value or "")
            if name == "style" or name.startswith("on"):
                self.inline.append(f"<{tag} {name}>")


async def test_docs_page_is_html_and_loads_nothing_from_elsewhere(api: Any) -> None:
    response = await api.get("/docs")
    assert response.status == 200
    assert response.content_type == "text/html"
    page = await response.text()
    assert "openapi.json" in page

    links = ResourceLinks()
    links.feed(page)
    assert links.urls == [], links.urls  # no script src, no stylesheet, no image
    # The CSP admits only the page's own inline <script> and <style>: no attribute handlers.
    assert links.inline == [], links.inline
    assert not re.search(r"@import", page, re.I)
    assert not re.search(r"url\(", page, re.I)
    assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page, re.I)

    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy


async def test_every_registered_route_is_documented_and_vice_versa(api: Any) -> None:
    def shape(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "{}", path)

    registered = {
        (route.method.lower(), shape(route.resource.canonical))
        for route in api.app.router.routes()
        if route.method not in ("HEAD", "*")
        and route.resource is not None
        and not is_page(route.resource.canonical)  # web pages are no operations of the API
    }
    documented = {(method, shape(path)) for method, path, _ in operations(openapi_document())}
    assert registered - documented == set(), "registered but not documented"
    assert documented - registered == set(), "documented but not registered"


# ---- the check every answer of the test suite goes through (tests/openapi_check.py) ---------

REGIONS = {"items": [{"code": "ECE", "commission": "UNECE", "region": "Europe"}]}


def test_an_answer_that_keeps_its_declaration_passes_the_check() -> None:
    assert drifts_of("get", "/v1/regions", web.json_response(REGIONS)) == []


@pytest.mark.parametrize(
    ("answer", "drift"),
    [
        (web.json_response(REGIONS, status=202), "status 202 is not declared"),
        (web.Response(text="<p>regions</p>", content_type="text/html"), "content type text/html"),
        (
            web.json_response({"items": [{**REGIONS["items"][0], "members": []}]}),
            "/items/0: Additional properties are not allowed",
        ),
        (web.json_response({"items": [{"code": "ECE"}]}), "'commission' is a required property"),
        (web.json_response({"items": "ECE"}), "/items: 'ECE' is not of type 'array'"),
        (
            web.json_response({"status": 500}, content_type="application/json", status=500),
            "content type application/json is not one of ['application/problem+json']",
        ),
    ],
)
def test_an_answer_that_breaks_its_declaration_is_a_drift(answer: web.Response, drift: str) -> None:
    drifts = drifts_of("get", "/v1/regions", answer)
    assert any(drift in found for found in drifts), drifts


def test_a_header_that_breaks_its_declaration_is_a_drift() -> None:
    _, media_type = REPORT_FORMATS["md"]
    answer = web.Response(text="# Report", content_type=media_type, headers={"ETag": '"v1"'})
    assert drifts_of("get", "/v1/reviews/{id}/report", answer) == [
        """header ETag/: '"v1"' does not match '^"[0-9a-f]{64}-((ar|zh|en|fr|ru|es)-)?(json|html|md|pdf)"$'"""
    ]


def test_a_route_without_an_operation_is_a_drift() -> None:
    assert drifts_of("put", "/v1/regions", web.json_response(REGIONS)) == [
        "the operation is not documented"
    ]
