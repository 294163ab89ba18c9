"""Typed keys for what a page request holds once its session is known."""

from __future__ import annotations

from aiohttp import web

from domain.access import Actor

# The person signed in (absent for a visitor).
PERSON = web.RequestKey("person", Actor)
# The token every form that changes something carries: the session's, or for a visitor the
# value of its own cookie (web.sessions).
CSRF_TOKEN = web.RequestKey("csrf_token", str)
