"""What the API writes to its logs: an access log of JSON lines, and every 500 with its cause."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from api.accesslog import ACCESS_LOG_OPTIONS, ACCESS_LOGGER
from api.app import create_app
from api.problems import Problem, problem_middleware
from config.logs import JsonLineFormatter


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
