"""Jinja2 speaks the language in use: ``{% trans %}`` and ``_()`` translate through the
catalogues, and filters write numbers, dates and States' names as that language does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jinja2

import i18n


def install(env: jinja2.Environment) -> jinja2.Environment:
    """Give `env` the i18n extension bound to the language in use (a context variable, so one
    environment serves every request and every mail at once) and the formatting filters."""
    env.add_extension("jinja2.ext.i18n")
    # Whitespace inside {% trans %} is collapsed, so the catalogue's message is one line.
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext,
        i18n.ngettext,
        newstyle=True,
        pgettext=i18n.pgettext,
        npgettext=i18n.npgettext,
    )
    env.globals["current_language"] = i18n.current
    env.filters.update({name: _at_render(function) for name, function in _FILTERS.items()})
    return env


_FILTERS: dict[str, Callable[..., str]] = {
    "datetime": i18n.format_datetime,
    "deadline": i18n.format_deadline,
    "date": i18n.format_date,
    "number": i18n.format_number,
    "percent": i18n.format_percent,
    "country": i18n.country_name,
}


def _at_render(function: Callable[..., str]) -> Callable[..., str]:
    """`function` as a filter Jinja calls each time it renders: a plain filter applied to a
    constant (``{{ 2000|number }}``) is folded once, when the template is compiled, in the
    language of whoever asked first."""

    @jinja2.pass_context
    def filter_at_render(_: jinja2.runtime.Context, *args: Any, **kwargs: Any) -> str:
        return function(*args, **kwargs)

    return filter_at_render
