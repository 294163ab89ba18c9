"""Accounts: who may create whom, and `who am I`."""

from __future__ import annotations

import uuid

from aiohttp import web

from api import requests
from api.auth import current_actor, require_role
from api.bodies import path_uuid, raise_if_invalid, read_json
from api.idempotency import Created, create_once, idempotency_key, request_fingerprint
from api.keys import POOL
from api.problems import Problem, invalid
from db.actors import created_by, new_token, replace_token, update_preferences
from db.pool import Connection
from reviewflow.accounts import AccountError, NotAllowed, new_actor, store_account
from schemas import problems_in

routes = web.RouteTableDef()


@routes.post("/v1/actors")
async def create_actor(request: web.Request) -> web.Response:
    creator = require_role(request, ("admin", "secretariat"))
    key = idempotency_key(request)
    body = await read_json(request)
    try:
        actor = new_actor(creator, body)
    except AccountError as error:
        raise invalid(error.problems) from None
    except NotAllowed as error:
        raise Problem(403, str(error)) from None
    token = new_token()

    async def create(conn: Connection) -> Created:
        try:
            stored = await store_account(conn, creator, actor, token, created_by=creator.id)
        except AccountError as error:
            raise invalid(error.problems) from None
        shown = stored.as_json()
        # The token is shown in this answer only; a replay cannot show it again.
        return Created(201, {**shown, "token": token}, replay_body={**shown, "token": None})

    return await create_once(
        request.app[POOL], creator, key, request_fingerprint(request, body), create
    )


@routes.get("/v1/actors/me")
async def me(request: web.Request) -> web.Response:
    return web.json_response(current_actor(request).as_json())


@routes.patch("/v1/actors/me")
async def set_preferences(request: web.Request) -> web.Response:
    """The actor's own notification language and whether it wants non-essential mail."""
    body = await read_json(request)
    raise_if_invalid(problems_in(requests.PREFERENCES, body))
    updated = await update_preferences(request.app[POOL], current_actor(request).id, body)
    return web.json_response(updated.as_json())


async def _token_owner(request: web.Request) -> uuid.UUID:
    """The actor whose token is being replaced: oneself, one an admin picks, or one the
    secretariat created. Anyone else gets 404, so ids cannot be probed."""
    actor = current_actor(request)
    not_found = Problem(404, f"There is no account {request.match_info['id']!r} you manage.")
    target = path_uuid(request, not_found)
    if target == actor.id or actor.role == "admin":
        return target
    if actor.role == "secretariat" and await created_by(request.app[POOL], target) == actor.id:
        return target
    raise not_found


@routes.delete("/v1/actors/{id}/tokens")
async def revoke_token(request: web.Request) -> web.Response:
    """Revoke the account's token at once: it is replaced by one nobody knows."""
    target = await _token_owner(request)
    if not await replace_token(request.app[POOL], target, new_token()):
        raise Problem(404, "There is no such account.")
    return web.Response(status=204)


@routes.post("/v1/actors/{id}/tokens")
async def issue_token(request: web.Request) -> web.Response:
    """A new token for the account, shown once; the previous one stops working."""
    target = await _token_owner(request)
    token = new_token()
    if not await replace_token(request.app[POOL], target, token):
        raise Problem(404, "There is no such account.")
    return web.json_response({"id": str(target), "token": token}, status=201)
