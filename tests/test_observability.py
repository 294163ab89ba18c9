"""What the API writes to its logs: an access log of JSON lines, and every 500 with its cause."""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from temporalio import activity, workflow
from temporalio.worker import Worker

from activities.logcontext import ReviewLogContext
from api.accesslog import ACCESS_LOG_OPTIONS, ACCESS_LOGGER
from api.app import create_app
from api.keys import DATABASE_METRICS
from api.observe import REQUEST_ID_HEADER, echo_request_id, observe_middleware
from api.problems import Problem, problem_middleware
from config.logs import JsonLineFormatter, set_review_id
from config.settings import load_settings
from db.migrate import migrate_dsn
from db.pool import create_pool
from domain.review import Phase
from services.metrics import DELIVERY_STATUSES, DatabaseGauges
from tests import documents
from workflows.review import review_of_workflow
from workflows.review import workflow_id as workflow_id_of


async def test_every_request_is_in_the_access_log_without_token_query_or_body(
    settings: Any, pool: Any, temporal_client: Any, admin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings, pool=pool, temporal=temporal_client)
    secret_text = "Unique-secret-text-4b1e"
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER.name):
        server = TestServer(app)
        await server.start_server(**ACCESS_LOG_OPTIONS)  # as `reviewflow api` runs it
        async with TestClient(server) as client:
            assert (await client.get("/healthz")).status == 200
            answer = await client.get("/v1/reviews?limit=5&cursor=abc", headers=admin.headers)
            assert answer.status in (200, 422)
            refused = await client.post(
                "/v1/actors", json={"name": secret_text, "role": "nobody"}, headers=admin.headers
            )
            assert refused.status == 422
    records = [r for r in caplog.records if r.name == ACCESS_LOGGER.name]
    lines = [json.loads(JsonLineFormatter().format(r)) for r in records]
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("GET", "/healthz", 200),
        ("GET", "/v1/reviews", answer.status),
        ("POST", "/v1/actors", 422),
    ]
    assert all(line["duration_ms"] >= 0 and line["level"] == "info" for line in lines)
    written = "\n".join(JsonLineFormatter().format(r) for r in records)
    assert admin.token not in written and "cursor" not in written and secret_text not in written


async def test_a_500_is_logged_with_its_cause_before_it_is_answered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def failing(request: web.Request) -> web.Response:
        try:
            raise LookupError("the workflow's own bug")
        except LookupError as error:
            raise Problem(500, "The review could not process this request.") from error

    app = web.Application(middlewares=[problem_middleware])
    app.router.add_post("/v1/reviews/x/advance", failing)
    with caplog.at_level(logging.ERROR, logger="api.problems"):
        async with TestClient(TestServer(app)) as client:
            answer = await client.post("/v1/reviews/x/advance")
            assert answer.status == 500
    [record] = [r for r in caplog.records if r.name == "api.problems"]
    assert "POST /v1/reviews/x/advance" in record.getMessage()
    assert "the workflow's own bug" in JsonLineFormatter().format(record)


# ---- request ids --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("req-2026.12.01:abc_42", True),
        ("x" * 128, True),
        ("x" * 129, False),
        ("bad id<script>", False),
        ("ид-запроса", False),
        ("", False),
    ],
)
async def test_a_sane_request_id_is_echoed_and_any_other_replaced(
    api: Any, sent: str, kept: bool
) -> None:
    answer = await api.get("/healthz", headers={REQUEST_ID_HEADER: sent} if sent else {})
    echoed = answer.headers[REQUEST_ID_HEADER]
    if kept:
        assert echoed == sent
    else:
        assert re.fullmatch("[0-9a-f]{32}", echoed), echoed


async def test_every_line_of_a_request_names_it_and_its_review(
    settings: Any, pool: Any, temporal_client: Any, admin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The access log and the lines logged on the way (here a refusal's warning) carry the
    request id, the route and the review's id; a request about no review names none."""
    app = create_app(settings, pool=pool, temporal=temporal_client)
    server = TestServer(app)
    await server.start_server(**ACCESS_LOG_OPTIONS)
    caplog.set_level(logging.INFO)
    async with TestClient(server) as client:
        about_review = await client.get(
            "/v1/reviews/ece-nowhere-1", headers={**admin.headers, REQUEST_ID_HEADER: "trace-1"}
        )
        assert about_review.status == 404
        plain = await client.get("/v1/regions", headers=admin.headers)
        assert plain.status == 200
    lines = [json.loads(JsonLineFormatter().format(r)) for r in caplog.records]
    access = {line["request_id"]: line for line in lines if line["logger"] == ACCESS_LOGGER.name}
    first = access["trace-1"]
    assert (first["route"], first["review_id"], first["status"]) == (
        "/v1/reviews/{id}",
        "ece-nowhere-1",
        404,
    )
    second = access[plain.headers[REQUEST_ID_HEADER]]
    assert (second["route"], second["review_id"]) == ("/v1/regions", None)


async def test_a_line_logged_while_handling_a_request_carries_its_ids() -> None:
    """Whatever logs inside the handler (a service, a library) is stamped with the ids."""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    logger = logging.getLogger("tests.inside")
    logger.addHandler(keep := Keep())
    logger.setLevel(logging.INFO)

    async def handler(request: web.Request) -> web.Response:
        logger.info("working on it")
        set_review_id("named-by-a-service")
        logger.info("found its review")
        return web.Response(text="ok")

    app = web.Application(middlewares=[observe_middleware])
    app.on_response_prepare.append(echo_request_id)
    app.router.add_get("/v1/things/{thing}", handler)
    try:
        async with TestClient(TestServer(app)) as client:
            answer = await client.get("/v1/things/1", headers={REQUEST_ID_HEADER: "r-77"})
            assert answer.status == 200
            logger.info("after the request")
    finally:
        logger.removeHandler(keep)
    lines = [json.loads(JsonLineFormatter().format(r)) for r in seen]
    assert [(line.get("request_id"), line.get("review_id")) for line in lines] == [
        ("r-77", None),
        ("r-77", "named-by-a-service"),
        (None, None),
    ]


def test_an_activity_line_keeps_the_activity_and_names_the_review() -> None:
    record = logging.LogRecord("temporalio.activity", logging.INFO, __file__, 1, "x", (), None)
    record.temporal_activity = {
        "activity_type": "store_review",
        "activity_id": "3",
        "attempt": 2,
        "workflow_id": "review-ece-2020",
        "workflow_type": "ReviewWorkflow",
        "namespace": "default",
    }
    record.review_id = review_of_workflow("review-ece-2020")
    line = json.loads(JsonLineFormatter().format(record))
    assert line["review_id"] == "ece-2020"
    assert line["activity"] == {
        "activity_type": "store_review",
        "activity_id": "3",
        "attempt": 2,
        "workflow_id": "review-ece-2020",
        "workflow_type": "ReviewWorkflow",
    }
    assert review_of_workflow("notifications-reviewflow") is None


# ---- metrics --------------------------------------------------------------------------------


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text exposition, by name and labels."""
    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(scraped: dict[Any, float], name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: Any) -> dict[Any, float]:
    answer = await client.get("/metrics")
    assert answer.status == 200
    assert answer.content_type == "text/plain"
    return samples(await answer.text())


async def test_metrics_count_requests_submissions_and_what_the_database_holds(
    start_review: Any, skipping_api: Any, pool: Any, make_account: Any
) -> None:
    skipping_api.app[DATABASE_METRICS].cache_s = 0  # each scrape reads the database
    review = await start_review()
    germany = await make_account("focal_point", country="DEU")
    before = await scrape(skipping_api)

    early = await review.submit(germany, documents.national_report("DEU"))
    assert early.status == 409  # the call is not open yet: refused by the review
    await review.skip_to(review.deadlines["call_opens_at"] + timedelta(minutes=1))
    await review.wait_for_phase("call_for_inputs")
    accepted = await review.submit(germany, documents.national_report("DEU"))
    assert accepted.status == 201, await accepted.text()
    for _ in range(3):
        assert (
            await skipping_api.get(f"/v1/reviews/{review.id}", headers=germany.headers)
        ).status == 200
    for path in ("/v1/reviews/no-such-review-9", "/nowhere/at/all/1", "/nowhere/else/2"):
        await skipping_api.get(path, headers=germany.headers)
    after = await scrape(skipping_api)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    outcome = "reviewflow_submissions_total"
    assert moved(outcome, kind="national_report", outcome="accepted") == 1
    assert moved(outcome, kind="national_report", outcome="refused") == 1
    requests = "reviewflow_http_requests_total"
    route = "/v1/reviews/{id}"
    # the three reads, the phase polls of wait_for_phase, and the unknown review's 404
    assert moved(requests, route=route, method="GET", status="404") == 1
    assert moved(requests, route=route, method="GET", status="200") >= 3
    submissions = "/v1/reviews/{id}/submissions"
    assert moved(requests, route=submissions, method="POST", status="201") == 1
    assert moved(requests, route=submissions, method="POST", status="409") == 1
    assert moved(requests, route="unmatched", method="GET", status="404") == 2
    latency = "reviewflow_http_request_duration_seconds_count"
    assert moved(latency, route=submissions, method="POST") == 2
    assert not any("no-such-review" in str(key) or "nowhere" in str(key) for key in after)
    assert value(after, "process_cpu_seconds_total") > 0

    # The session's other reviews and messages move on meanwhile: the exact counts are
    # checked on a database of their own below.
    assert value(after, "reviewflow_database_metrics_up") == 1
    assert value(after, "reviewflow_reviews", phase="call_for_inputs") >= 1
    assert value(after, "reviewflow_deliveries", status="failed") >= 0


async def test_the_database_gauges_count_deliveries_by_status_and_reviews_by_phase(
    fresh_database: str,
) -> None:
    await migrate_dsn(fresh_database)
    pool = await create_pool(fresh_database, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            # Rows that stand alone: the accounts and events they refer to do not matter here
            # (and, triggers off, a review's cycle is written, not derived).
            await conn.execute("SET session_replication_role = replica")
            for number, phase in enumerate(("call_for_inputs", "call_for_inputs", "published")):
                await conn.execute(
                    """INSERT INTO reviews (id, region, title, member_states, timeline,
                           reminder_days, late_submissions, phase, deadlines, created_by, cycle)
                       VALUES ($1, 'ECE', 'A review', '{}', '{}', '{}', 'reject', $2, '{}', $3,
                               '2024-2025')""",
                    f"review-{number}",
                    phase,
                    uuid.uuid4(),
                )
            for status in ("pending", "sent", "sent", "failed"):
                await conn.execute(
                    """INSERT INTO deliveries (id, event_id, channel, recipient, address,
                           template, status)
                       VALUES ($1, $2, 'email', $3, 'a@example.org', 'review.invited', $4)""",
                    uuid.uuid4(),
                    uuid.uuid4(),
                    uuid.uuid4(),
                    status,
                )
        gauges = DatabaseGauges(pool, cache_s=0)
        await gauges.refresh()
        read = {
            (sample.name, *sample.labels.values()): sample.value
            for family in gauges.collect()
            for sample in family.samples
        }
    finally:
        await pool.close()
    assert read[("reviewflow_database_metrics_up",)] == 1
    assert {status: read[("reviewflow_deliveries", status)] for status in DELIVERY_STATUSES} == {
        "pending": 1,
        "sending": 0,
        "sent": 2,
        "failed": 1,
    }
    reviews = {phase: read[("reviewflow_reviews", phase.value)] for phase in Phase}
    assert reviews == {
        phase: {Phase.CALL_FOR_INPUTS: 2, Phase.PUBLISHED: 1}.get(phase, 0) for phase in Phase
    }


# ---- activities -------------------------------------------------------------------------------


@activity.defn(name="observability_probe")
async def logging_probe() -> None:
    activity.logger.info("probe at work")


@workflow.defn(sandboxed=False)
class ProbeWorkflow:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(logging_probe, start_to_close_timeout=timedelta(seconds=10))


async def test_an_activity_of_a_review_logs_its_review_id(
    temporal_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker's interceptor names the review of the workflow an activity runs for; an
    activity of another workflow names none."""
    caplog.set_level(logging.INFO, logger="temporalio.activity")
    queue = f"probe-{uuid.uuid4().hex[:8]}"
    async with Worker(
        temporal_client,
        task_queue=queue,
        workflows=[ProbeWorkflow],
        activities=[logging_probe],
        interceptors=[ReviewLogContext()],
    ):
        for workflow_id in (workflow_id_of("ece-probe-1"), f"other-{queue}"):
            await temporal_client.execute_workflow(
                ProbeWorkflow.run, id=workflow_id, task_queue=queue
            )
    lines = [
        json.loads(JsonLineFormatter().format(r))
        for r in caplog.records
        if r.getMessage().startswith("probe at work")
    ]
    assert [line.get("review_id") for line in lines] == ["ece-probe-1", None]
    assert lines[0]["activity"]["activity_type"] == "observability_probe"
    assert lines[0]["activity"]["workflow_id"] == "review-ece-probe-1"


# ---- the worker's metrics address -----------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [("0.0.0.0:9464", "0.0.0.0:9464"), ("[::1]:9000", "[::1]:9000"), ("", None)],
)
def test_the_worker_metrics_address_is_host_and_port(given: str, kept: str | None) -> None:
    settings = load_settings({"REVIEWFLOW_WORKER_METRICS_ADDRESS": given})
    assert settings.worker_metrics_address == kept


@pytest.mark.parametrize(
    ("given", "says"),
    [("9464", "must be host:port"), ("host:http", "must be host:port"), ("h:70000", "between 1")],
)
def test_a_bad_worker_metrics_address_is_refused_in_one_line(given: str, says: str) -> None:
    with pytest.raises(SystemExit) as refused:
        load_settings({"REVIEWFLOW_WORKER_METRICS_ADDRESS": given})
    message = str(refused.value)
    assert message.startswith("REVIEWFLOW_WORKER_METRICS_ADDRESS") and says in message
    assert "\n" not in message
