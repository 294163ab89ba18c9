"""Every problem with reviewflow's environment variables, for `reviewflow check-config` and
for whatever checks a deployment's environment (a compose file's services)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from config.settings import read_settings


def environment_problems(env: Mapping[str, str], *, needs: Iterable[str] = ()) -> list[str]:
    """Each problem with the variables of `env` as a sentence naming its variable: the checks
    `load_settings` makes, and each variable of `needs` that is unset."""
    _, problems = read_settings(env)
    missing = [f"{name} is not set" for name in needs if not env.get(name)]
    return missing + problems
