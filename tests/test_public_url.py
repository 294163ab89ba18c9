"""Links in messages point where people reach the API, not where it listens."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from temporalio.client import Client

from config.settings import load_settings
from tests.test_notifications import Env, Inbox, open_a_call_to_germany, start_env, stop_pipeline

PUBLIC = "https://reviews.example.org/gcm"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:8080"),
        ({"REVIEWFLOW_HOST": "0.0.0.0", "REVIEWFLOW_PORT": "9000"}, "http://127.0.0.1:9000"),
        ({"REVIEWFLOW_HOST": "::"}, "http://[::1]:8080"),
        ({"REVIEWFLOW_HOST": "0.0.0.0", "REVIEWFLOW_PUBLIC_URL": PUBLIC + "/"}, PUBLIC),
    ],
)
def test_the_base_of_links_is_the_public_url_or_a_reachable_address(
    env: dict[str, str], expected: str
) -> None:
    assert load_settings(env).api_url == expected


@pytest.mark.parametrize(
    "url", ["reviews.example.org", "ftp://example.org", "https://", "https://x/?a=1", "https://x:y"]
)
def test_a_public_url_that_is_no_web_address_is_refused_at_start(url: str) -> None:
    with pytest.raises(SystemExit, match="REVIEWFLOW_PUBLIC_URL"):
        load_settings({"REVIEWFLOW_PUBLIC_URL": url})


async def test_a_sent_message_links_to_the_public_url(
    fresh_database: str, temporal_client: Client, tmp_path: Path
) -> None:
    pool, settings = await start_env(
        fresh_database,
        temporal_client,
        tmp_path,
        None,
        REVIEWFLOW_HOST="0.0.0.0",
        REVIEWFLOW_PUBLIC_URL=PUBLIC,
    )
    env = Env(None, pool, settings, Inbox(), temporal_client)  # type: ignore[arg-type]
    try:
        review = await open_a_call_to_germany(env)
        messages = [
            message_from_bytes(written.read_bytes(), policy=default)
            for written in settings.mail_dir.iterdir()
        ]
        assert {m["X-Reviewflow-Event"] for m in messages} == {"review.invited", "call.opened"}
        for message in messages:
            text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            assert f"{PUBLIC}/" in text and "/v1/" not in text
            assert not re.search(r"https?://(0\.0\.0\.0|127\.0\.0\.1)", text)
        [call] = [m for m in messages if m["X-Reviewflow-Event"] == "call.opened"]
        text = call.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert f"{PUBLIC}/reviews/{review['id']}" in text
    finally:
        await stop_pipeline(temporal_client, settings)
        await pool.close()
