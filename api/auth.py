"""Bearer-token authentication and role checks."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from api.keys import ACTOR, POOL
from api.problems import Handler, Problem
from db.actors import actor_by_token
from domain.access import Actor

# Paths anyone may read without a token.
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"})

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="reviewflow"'}


def _bearer_token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    # Tokens are ASCII; anything else cannot be one of ours (and must not reach the hash).
    if scheme.lower() != "bearer" or not token or not token.isascii():
        return None
    return token


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC_PATHS or not request.path.startswith("/v1"):
        return await handler(request)
    token = _bearer_token(request)
    if token is None:
        raise Problem(401, "A bearer token is required.", headers=_CHALLENGE)
    actor = await actor_by_token(request.app[POOL], token)
    if actor is None:
        raise Problem(401, "The bearer token is not valid.", headers=_CHALLENGE)
    request[ACTOR] = actor
    return await handler(request)


def current_actor(request: web.Request) -> Actor:
    return request[ACTOR]


def require_role(request: web.Request, roles: Iterable[str]) -> Actor:
    actor = current_actor(request)
    allowed = tuple(roles)
    if actor.role not in allowed:
        raise Problem(403, f"This needs one of the roles: {', '.join(allowed)}.")
    return actor
