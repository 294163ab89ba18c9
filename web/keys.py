"""Typed keys for what a page request holds once its session is known."""

from __future__ import annotations

from aiohttp import web

from domain.access import Actor

# The person signed in (absent for a visitor).
PERSON = web.RequestKey("person", Actor)
# The session's token for forms that change something (absent for a visitor).
CSRF_TOKEN = web.RequestKey("csrf_token", str)
