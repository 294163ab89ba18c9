"""A message that fails for good: logged as an error, counted by the worker and the API's
gauges, listed for its review's secretariat, and sent again when the secretariat asks.

A real mail server (aiosmtpd) refuses one recipient for good (550), then accepts it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client

from activities.notify import FAILED_METRIC
from api.app import create_app
from config.logs import JsonLineFormatter
from tests.conftest import create_account
from tests.processes import free_port
from tests.reviews import eventually, review_body
from tests.test_notifications import Inbox, smtp_server, start_env, stop_pipeline
from worker import connect_worker_client, running_workers

REFUSED = "refused@example.org"


class RefusingThenAccepting(Inbox):
    """Refuses REFUSED for good (550) while `refusing`, as a mailbox that does not exist yet."""

    refusing = True

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refusing and address == REFUSED:
            return "550 5.1.1 <refused@example.org>: no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def mail_server() -> Iterator[tuple[RefusingThenAccepting, int]]:
    handler = RefusingThenAccepting()
    with smtp_server(handler) as port:
        yield handler, port


async def settled(pool: asyncpg.Pool) -> None:
    """Every event expanded and every delivery decided (sent or failed for good)."""

    async def done() -> bool:
        return (
            await pool.fetchval(
                """SELECT (SELECT count(*) FROM review_events WHERE expanded_at IS NULL)
                    + (SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending'))"""
            )
            == 0
        )

    await eventually(done, deadline_s=30)


def sample_sum(text: str, name: str, **labels: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


async def fetch_text(url: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(url) as answer:
        assert answer.status == 200
        return await answer.text()


async def test_a_delivery_refused_for_good_is_logged_counted_listed_and_sent_again(
    fresh_database: str,
    temporal_client: Client,
    mail_server: tuple[RefusingThenAccepting, int],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler, smtp_port = mail_server
    metrics_address = f"127.0.0.1:{free_port()}"
    pool, settings = await start_env(
        fresh_database,
        temporal_client,
        tmp_path,
        smtp_port,
        REVIEWFLOW_WORKER_METRICS_ADDRESS=metrics_address,
    )
    # The worker's own client reports through a runtime that serves its metrics.
    worker_client = await connect_worker_client(
        settings, temporal_client.service_client.config.target_host
    )
    caplog.set_level(logging.INFO)
    app = create_app(settings, pool=pool, temporal=temporal_client)
    try:
        async with (
            TestClient(TestServer(app)) as api,
            running_workers(worker_client, pool, settings),
        ):
            secretariat = await create_account(pool, "secretariat", regions=("ECE",))
            elsewhere = await create_account(pool, "secretariat", regions=("ECA",))
            germany = await create_account(pool, "focal_point", country="DEU", email=REFUSED)
            await create_account(pool, "focal_point", country="FRA", email="fra@example.org")
            body = review_body(member_states=["DEU", "FRA"])
            created = await api.post("/v1/reviews", json=body, headers=secretariat.headers)
            assert created.status == 201, await created.text()
            review = (await created.json())["id"]
            advanced = await api.post(
                f"/v1/reviews/{review}/advance", json={}, headers=secretariat.headers
            )
            assert advanced.status == 200, await advanced.text()
            await settled(pool)

            failed = await pool.fetch(
                "SELECT id, recipient, attempts FROM deliveries WHERE status = 'failed'"
            )
            assert failed and {r["recipient"] for r in failed} == {germany.actor.id}
            assert {r["attempts"] for r in failed} == {1}  # a 550 is not tried again
            failed_ids = {str(r["id"]) for r in failed}

            # Logged: one error line each, naming review, delivery, channel and class only.
            errors = [
                json.loads(JsonLineFormatter().format(r))
                for r in caplog.records
                if r.levelno == logging.ERROR and "failed for good" in r.getMessage()
            ]
            assert {line["delivery_id"] for line in errors} == failed_ids
            for line in errors:
                assert (line["review_id"], line["channel"], line["error_class"]) == (
                    review,
                    "email",
                    "smtp 550",
                )
                assert REFUSED not in json.dumps(line)

            # Counted: by the worker, and in what the API reads from the database.
            async def worker_counted() -> str | None:
                text = await fetch_text(f"http://{metrics_address}/metrics")
                counted = sample_sum(text, f"{FAILED_METRIC}_total", channel="email")
                return text if counted == len(failed) else None

            worker_metrics = await eventually(worker_counted)
            assert "temporal_worker_task_slots_available" in worker_metrics
            scraped = await (await api.get("/metrics")).text()
            sent = await pool.fetchval("SELECT count(*) FROM deliveries WHERE status = 'sent'")
            assert sample_sum(scraped, "reviewflow_deliveries", status="failed") == len(failed)
            assert sample_sum(scraped, "reviewflow_deliveries", status="sent") == sent

            # Listed for the review's secretariat, and for nobody else.
            path = f"/v1/reviews/{review}/deliveries?status=failed"
            listed = await api.get(path, headers=secretariat.headers)
            assert listed.status == 200
            items = (await listed.json())["items"]
            assert {item["id"] for item in items} == failed_ids
            for item in items:
                assert item["recipient"] == {"name": germany.actor.name, "address": REFUSED}
                assert (item["status"], item["channel"]) == ("failed", "email")
                assert item["error"].startswith("550")
            for outsider in (elsewhere, germany):
                assert (await api.get(path, headers=outsider.headers)).status == 404
            wrong = await api.get(
                f"/v1/reviews/{review}/deliveries?status=lost", headers=secretariat.headers
            )
            assert wrong.status == 422
            assert [e["pointer"] for e in (await wrong.json())["errors"]] == ["/status"]

            # Sent again: the mailbox exists now.
            handler.refusing = False
            some = next(iter(failed_ids))
            for outsider in (elsewhere, germany):
                refused = await api.post(f"/v1/deliveries/{some}/retry", headers=outsider.headers)
                assert refused.status == 404
            for delivery in failed_ids:
                for _ in range(2):  # asking twice puts it back once
                    again = await api.post(
                        f"/v1/deliveries/{delivery}/retry", headers=secretariat.headers
                    )
                    assert again.status == 200, await again.text()
                    assert (await again.json())["status"] in ("pending", "sending", "sent")
            await settled(pool)
            statuses = await pool.fetch(
                "SELECT status FROM deliveries WHERE id = any($1::uuid[])", list(failed_ids)
            )
            assert {r["status"] for r in statuses} == {"sent"}
            to_germany = [m for m in handler.messages if m["To"].addresses[0].addr_spec == REFUSED]
            assert len(to_germany) == len(failed_ids)
            retried = await pool.fetch(
                "SELECT actor_id, data FROM review_events WHERE type = 'delivery.retried'"
            )
            assert sorted(r["data"]["delivery_id"] for r in retried) == sorted(failed_ids)
            assert {r["actor_id"] for r in retried} == {secretariat.actor.id}

            # Only a delivery that failed is put back; an unknown one is not there.
            never_failed = await pool.fetchval(
                "SELECT id FROM deliveries WHERE status = 'sent' AND attempt_base = 0 LIMIT 1"
            )
            conflict = await api.post(
                f"/v1/deliveries/{never_failed}/retry", headers=secretariat.headers
            )
            assert conflict.status == 409
            for unknown in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
                missing = await api.post(
                    f"/v1/deliveries/{unknown}/retry", headers=secretariat.headers
                )
                assert missing.status == 404
    finally:
        await stop_pipeline(temporal_client, settings)
        await pool.close()
