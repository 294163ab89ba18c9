"""`reviewflow create-actor` refuses an account the API would refuse, with the same problems,
before it connects to the database."""

from __future__ import annotations

import pytest

from reviewflow.cli import main


def test_create_actor_prints_each_problem_of_a_refused_account(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Nothing listens on port 1: a refusal that reached the database would fail otherwise.
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    status = main(["create-actor", "--name", "Bad", "--role", "focal_point", "--country", "ZZZ"])
    assert status == 2
    assert capsys.readouterr().err == "/country: ZZZ is not a member of any regional commission\n"
