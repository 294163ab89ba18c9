"""Secrets in the configuration: never printed, strong enough, never sent in clear."""

from __future__ import annotations

import io
import stat
from dataclasses import replace
from pathlib import Path
from typing import TextIO

import pytest

from config.settings import MIN_ADMIN_TOKEN_LENGTH, Settings, load_settings
from db.actors import actor_by_token
from db.migrate import migrate_dsn
from db.pool import create_pool
from reviewflow.services import ADMIN_LINK_FILE, ADMIN_TOKEN_FILE, bootstrap_admin
from services.signin import check_link

PASSWORD = "correct horse battery staple"
STRONG_TOKEN = "rf_" + "k" * 43


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_smtp_password_is_not_in_a_printout_of_the_settings() -> None:
    settings = load_settings({"SMTP_HOST": "mail.example.org", "SMTP_PASSWORD": PASSWORD})
    assert settings.smtp is not None and settings.smtp.password == PASSWORD
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in str(settings.smtp)


@pytest.mark.parametrize("token", ["short", "x" * (MIN_ADMIN_TOKEN_LENGTH - 1), "é" * 40])
def test_a_weak_admin_token_is_refused_at_start(token: str) -> None:
    with pytest.raises(SystemExit, match="REVIEWFLOW_ADMIN_TOKEN must be at least"):
        load_settings({"REVIEWFLOW_ADMIN_TOKEN": token})


def test_a_strong_admin_token_is_taken() -> None:
    assert load_settings({"REVIEWFLOW_ADMIN_TOKEN": STRONG_TOKEN}).admin_token == STRONG_TOKEN


def test_an_smtp_password_is_never_sent_in_clear_unless_allowed() -> None:
    clear = {"SMTP_HOST": "mail.example.org", "SMTP_STARTTLS": "0", "SMTP_PASSWORD": PASSWORD}
    with pytest.raises(SystemExit, match="in clear"):
        load_settings(clear)
    allowed = load_settings({**clear, "SMTP_ALLOW_PLAINTEXT_AUTH": "1"}).smtp
    assert allowed is not None and not allowed.starttls and not allowed.tls
    # No password, nothing to protect: a local relay without TLS stays possible.
    relay = load_settings({"SMTP_HOST": "127.0.0.1", "SMTP_STARTTLS": "0"}).smtp
    assert relay is not None and relay.password is None


def test_implicit_tls_is_configurable_and_defaults_to_port_465() -> None:
    smtps = load_settings({"SMTP_HOST": "mail.example.org", "SMTP_TLS": "1"}).smtp
    assert smtps is not None
    assert (smtps.tls, smtps.starttls, smtps.port) == (True, False, 465)
    submission = load_settings({"SMTP_HOST": "mail.example.org"}).smtp
    assert submission is not None
    assert (submission.tls, submission.starttls, submission.port) == (False, True, 587)


async def bootstrap(database: str, data_dir: Path, terminal: TextIO) -> tuple[Settings, list[str]]:
    """`bootstrap_admin` on a migrated `database`: the settings it ran with, and the lines it
    announced (other than on `terminal`)."""
    await migrate_dsn(database)
    settings = replace(load_settings({}), data_dir=data_dir)
    announced: list[str] = []
    await bootstrap_admin(settings, database, announced.append, terminal=terminal)
    return settings, announced


async def test_a_generated_admin_token_and_sign_in_link_go_to_private_files_without_a_terminal(
    fresh_database: str, tmp_path: Path
) -> None:
    settings, announced = await bootstrap(fresh_database, tmp_path / "data", io.StringIO())

    token_file = settings.data_dir / ADMIN_TOKEN_FILE
    link_file = settings.data_dir / ADMIN_LINK_FILE
    assert {stat.S_IMODE(f.stat().st_mode) for f in (token_file, link_file)} == {0o600}
    token, link = token_file.read_text().strip(), link_file.read_text().strip()
    assert [str(token_file) in announced[0], str(link_file) in announced[1]] == [True, True]
    assert all(token not in line and link not in line for line in announced)
    assert link.startswith(f"{settings.api_url}/sign-in/")
    pool = await create_pool(fresh_database)
    try:
        admin = await actor_by_token(pool, token)
        assert admin is not None and admin.role == "admin"
        await check_link(pool, link.rsplit("/", 1)[1])  # usable for the pages: raises otherwise
    finally:
        await pool.close()


async def test_a_generated_admin_token_is_shown_on_the_terminal_only(
    fresh_database: str, tmp_path: Path
) -> None:
    terminal = Terminal()
    settings, announced = await bootstrap(fresh_database, tmp_path / "data", terminal)
    assert terminal.getvalue().startswith("Admin token (shown once, keep it): rf_")
    assert announced == []
    assert not (settings.data_dir / ADMIN_TOKEN_FILE).exists()
