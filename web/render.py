"""Rendering pages: one Jinja2 environment, autoescaped, that fails on a missing value."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from typing import Any

import jinja2
from aiohttp import web

import i18n
from domain.text import has_visible_character
from i18n.jinja import install
from web.keys import CSRF_TOKEN, PERSON
from web.language import return_to

SERVICE_NAME = "reviewflow"


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.files("web") / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["service_name"] = SERVICE_NAME
    env.filters["or_else"] = shown_or_else
    env.globals["switch_languages"] = [i18n.language(code) for code in i18n.LANGUAGES]
    return install(env, resources.files("web") / "templates")


def shown_or_else(text: str, fallback: str) -> str:
    """`text` if it shows anything, else `fallback`: a link named by a title of invisible
    characters would have no name at all."""
    return text if has_visible_character(text) else fallback


def page(
    request: web.Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    """The page `template`, with what every page shows: the person signed in (or None) and
    the token that forms changing something carry."""
    chosen = environment().get_template(template)
    html = chosen.render(
        person=request.get(PERSON),
        csrf_token=request.get(CSRF_TOKEN),
        path=request.path,
        path_qs=request.path_qs,
        return_to=return_to(request),
        language=i18n.current(),
        **(context or {}),
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
