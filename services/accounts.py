"""Accounts' use cases: create one (the rules shared by the API and the command line), set
one's preferences, export one's personal data, and manage an account's token, deactivation and
erasure. Each change is recorded in the account's audit trail (`account_events`)."""

from __future__ import annotations

import functools
import uuid
import zoneinfo
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import asyncpg

from config.settings import Settings
from db.actors import (
    active_actors_by_email,
    created_by,
    deactivate,
    default_regions,
    erase,
    insert_actor,
    insert_organisation,
    joinable_organisation,
    new_token,
    personal_data,
    record_account_event,
    replace_token,
    update_preferences,
)
from db.people import end_sessions
from db.pool import Connection, Executor
from domain.access import ROLES, Actor, creation_refusal
from domain.reference import load_reference
from i18n import LANGUAGES, gettext
from notifications.addresses import address_problem, name_problem
from schemas import COMMON_ID, problems_in
from services import once
from services.once import Created
from services.refusals import forbidden, invalid, named_id, not_found
from services.signin import INVITED_TO, invitation_link, send_invitation

NEW_ACTOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "role"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "email": {"type": "string", "format": "email", "maxLength": 320},
        "role": {"enum": list(ROLES)},
        "regions": {
            "type": "array",
            "items": {"$ref": f"{COMMON_ID}#/$defs/region_code"},
            "uniqueItems": True,
            "maxItems": 5,
        },
        "country": {"$ref": f"{COMMON_ID}#/$defs/iso3"},
        "organisation": {"type": "string", "minLength": 1, "maxLength": 300},
        "organisation_id": {"type": "string", "format": "uuid"},
        "stakeholder_category": {"$ref": f"{COMMON_ID}#/$defs/stakeholder_category"},
        "language": {
            "enum": list(LANGUAGES),
            "description": "One of the six UN languages (ISO 639-1), for the account's pages"
            " and mail. Left out, pages follow Accept-Language and mail is in English until"
            " the person chooses.",
        },
    },
    "allOf": [
        {
            # Staff and approvers act in regions they are named for.
            "if": {"properties": {"role": {"enum": ["secretariat", "approver"]}}},
            "then": {"required": ["regions"], "properties": {"regions": {"minItems": 1}}},
        },
        {
            "if": {"properties": {"role": {"const": "focal_point"}}},
            "then": {"required": ["country"]},
        },
        {
            # A new organisation by its name and category, or an existing one by its id.
            "if": {"properties": {"role": {"const": "stakeholder"}}},
            "then": {
                "anyOf": [
                    {"required": ["organisation", "stakeholder_category"]},
                    {"required": ["organisation_id"]},
                ]
            },
        },
    ],
}


def _check(body: Any) -> dict[str, Any]:
    problems = [(p.pointer, p.message) for p in problems_in(NEW_ACTOR_SCHEMA, body)]
    if not problems:
        problems = _mail_problems(body)
    if problems:
        raise invalid(problems)
    if "organisation_id" in body and "organisation" in body:
        raise invalid(
            [
                (
                    "/organisation_id",
                    gettext("name a new organisation or give an existing one's id, not both"),
                )
            ]
        )
    if "organisation_id" in body and body["role"] != "stakeholder":
        raise invalid(
            [("/organisation_id", gettext("only a stakeholder account joins an organisation"))]
        )
    country = body.get("country")
    if country is not None and load_reference().country_name(country) is None:
        raise invalid(
            [
                (
                    "/country",
                    gettext("%(country)s is not a member of any regional commission")
                    % {"country": country},
                )
            ]
        )
    return body


def _mail_problems(body: dict[str, Any]) -> list[tuple[str, str]]:
    """A name and an address that every message to the account can carry."""
    found = [
        ("/name", name_problem(body["name"])),
        ("/email", address_problem(body["email"]) if "email" in body else None),
    ]
    return [(pointer, problem) for pointer, problem in found if problem is not None]


def _focal_point_regions(country: str | None, regions: tuple[str, ...]) -> tuple[str, ...]:
    """A focal point acts only in the named regions that count its country; none named: the
    regions whose regional membership lists it (`default_regions`)."""
    assert country is not None  # the schema requires a focal point's country
    if not regions:
        return default_regions(country)
    reference = load_reference()
    foreign = [code for code in regions if not reference.in_any_region(country, (code,))]
    if foreign:
        raise invalid(
            [
                (
                    "/regions",
                    gettext("%(country)s is not a member State of: %(regions)s")
                    % {"country": country, "regions": ", ".join(sorted(foreign))},
                )
            ]
        )
    return regions


def _regions_allowed(creator: Actor, body: dict[str, Any]) -> tuple[str, ...]:
    """The new account's regions, after checking that the creator may create it at all."""
    regions = tuple(body.get("regions", ()))
    country: str | None = body.get("country")
    if refusal := creation_refusal(creator, body["role"], regions):
        raise forbidden(refusal.message)
    if creator.role == "admin":
        return _focal_point_regions(country, regions) if body["role"] == "focal_point" else regions
    if country is None:
        return regions or creator.regions
    # A focal point made by a secretariat acts only in those of its regions that count the State.
    own = tuple(
        code
        for code in regions or creator.regions
        if load_reference().in_any_region(country, (code,))
    )
    if not own:
        raise forbidden(
            gettext("%(country)s is not a member State of your region(s).") % {"country": country}
        )
    return own


def new_actor(creator: Actor, body: Any) -> Actor:
    """The account `body` describes, if valid and `creator` may create it. A stakeholder named
    with a new organisation gets a new organisation id; one joining an organisation carries its
    id only, until `store_account` reads the organisation."""
    valid = _check(body)
    joining = valid.get("organisation_id")
    new_organisation = valid["role"] == "stakeholder" and joining is None
    return Actor(
        id=uuid.uuid4(),
        name=valid["name"],
        role=valid["role"],
        email=valid.get("email"),
        regions=_regions_allowed(creator, valid),
        country=valid.get("country"),
        organisation=valid.get("organisation"),
        stakeholder_category=valid.get("stakeholder_category"),
        language=valid.get("language"),
        organisation_id=uuid.UUID(joining)
        if joining
        else uuid.uuid4()
        if new_organisation
        else None,
    )


async def _joined(conn: Executor, creator: Actor, actor: Actor) -> Actor:
    """`actor` with the name and category of the organisation it joins, which must be one the
    creator may add accounts to: any for an admin, one of its own regions for a secretariat.
    Unknown and foreign organisations get the same answer."""
    assert actor.organisation_id is not None
    organisation = await joinable_organisation(conn, actor.organisation_id, creator)
    if organisation is None:
        raise invalid(
            [("/organisation_id", gettext("is not an organisation you may add accounts to"))]
        )
    category = actor.stakeholder_category
    if category is not None and category != organisation["category"]:
        raise invalid(
            [
                (
                    "/stakeholder_category",
                    gettext("the organisation's category is %(category)s")
                    % {"category": organisation["category"]},
                )
            ]
        )
    return replace(
        actor,
        organisation=organisation["name"],
        stakeholder_category=organisation["category"],
        regions=actor.regions or tuple(organisation["regions"]),
    )


async def store_account(
    conn: Executor, creator: Actor, actor: Actor, token: str, created_by: uuid.UUID | None
) -> Actor:
    """Store a new account from `new_actor` (creating its organisation, if new) and its audit
    record; returns the account as stored."""
    if actor.role == "stakeholder" and actor.organisation is None:
        actor = await _joined(conn, creator, actor)
    elif actor.role == "stakeholder":
        assert actor.organisation_id is not None
        await insert_organisation(conn, actor.organisation_id, actor, created_by)
    stored = await insert_actor(conn, actor, token, created_by)
    await record_account_event(conn, stored.id, "account.created", created_by)
    return stored


NEW_ACCOUNT_ADDRESS = "/v1/actors"


@dataclass(frozen=True)
class NewAccount:
    """The answer to a request for an account, and the account if this request made it (a
    replay made none): the one to send its invitation."""

    body: dict[str, Any]
    made: Actor | None


async def create_account(
    pool: asyncpg.Pool, creator: Actor, body: dict[str, Any], key: str | None
) -> NewAccount:
    """The account `body` describes, created once per key, with its token: a replay of the
    request answers the account without it, since the token is shown once only."""
    actor = new_actor(creator, body)
    token = new_token()
    stored: list[Actor] = []

    async def create(conn: Connection) -> Created:
        stored.append(await store_account(conn, creator, actor, token, created_by=creator.id))
        shown = stored[-1].as_json()
        return Created(201, {**shown, "token": token}, replay_body={**shown, "token": None})

    request = once.fingerprint("POST", NEW_ACCOUNT_ADDRESS, body)
    answer = (await once.created_once(pool, creator, key, request, create)).body
    # Only the answer that carries this request's token made the account.
    return NewAccount(answer, stored[-1] if answer["token"] == token else None)


async def export_personal_data(pool: asyncpg.Pool, actor: Actor) -> dict[str, Any]:
    """Everything stored that is the person's own."""
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        return await personal_data(conn, actor.id)


@functools.cache
def time_zones() -> list[str]:
    """The IANA time zones a person may choose, sorted."""
    return sorted(zoneinfo.available_timezones())


async def set_preferences(pool: asyncpg.Pool, actor: Actor, changes: dict[str, str]) -> Actor:
    """The actor's own notification language, whether it wants non-essential mail and the
    time zone the pages write times in; the account as it is now."""
    zone = changes.get("time_zone")
    if zone is not None and zone not in time_zones():
        raise invalid(
            [
                (
                    "/time_zone",
                    gettext("is not a time zone this service knows, such as Europe/Zurich"),
                )
            ]
        )
    async with pool.acquire() as conn, conn.transaction():
        updated = await update_preferences(conn, actor.id, changes)
        await record_account_event(conn, actor.id, "preferences.updated", actor.id, **changes)
    return updated


async def _managed_account(
    pool: asyncpg.Pool, actor: Actor, account_id: str, *, issuing: bool = False
) -> uuid.UUID:
    """The account `actor` manages: oneself, any for an admin, one the secretariat created.
    Anyone else is told there is none, so ids cannot be probed."""
    nothing = not_found(
        gettext("There is no account %(id)s you manage.") % {"id": repr(account_id)}
    )
    target = named_id(account_id, nothing)
    if target == actor.id or actor.role == "admin":
        return target
    if actor.role == "secretariat" and await created_by(pool, target) == actor.id:
        if issuing:
            # Whoever mints a token can act as the account: only its holder or an admin may.
            raise forbidden(gettext("Only an administrator issues a token for another's account."))
        return target
    raise nothing


async def _audited(
    pool: asyncpg.Pool,
    actor: Actor,
    target: uuid.UUID,
    event_type: str,
    change: Callable[[Connection], Awaitable[bool]],
) -> None:
    """Make `change` and record who made it, in one transaction; refused if there is no
    account."""
    async with pool.acquire() as conn, conn.transaction():
        if not await change(conn):
            raise not_found(gettext("There is no such account."))
        await record_account_event(conn, target, event_type, actor.id)


async def revoke_token(pool: asyncpg.Pool, actor: Actor, account_id: str) -> None:
    """Revoke the account's token at once: it is replaced by one nobody knows."""
    target = await _managed_account(pool, actor, account_id)
    await _audited(
        pool, actor, target, "token.revoked", lambda conn: replace_token(conn, target, new_token())
    )


async def issue_token(pool: asyncpg.Pool, actor: Actor, account_id: str) -> dict[str, str]:
    """A new token for the account, to be shown once; the previous one stops working."""
    target = await _managed_account(pool, actor, account_id, issuing=True)
    token = new_token()
    await _audited(
        pool, actor, target, "token.issued", lambda conn: replace_token(conn, target, token)
    )
    return {"id": str(target), "token": token}


async def deactivate_account(
    pool: asyncpg.Pool, actor: Actor, account_id: str, reason: str | None = None
) -> None:
    """Deactivate an account for good: its token stops working, its sessions on the pages end,
    it is sent no more mail and its webhooks stop; what it submitted stays. Deactivating it
    again changes nothing. `reason`, if given, is kept in the account's audit trail."""
    target = await _managed_account(pool, actor, account_id)
    if target == actor.id:
        # Nobody locks themselves out (the last admin included): another account does it.
        raise forbidden(gettext("An administrator or the account's secretariat deactivates it."))
    async with pool.acquire() as conn, conn.transaction():
        if await deactivate(conn, target):
            await end_sessions(conn, target)
            given = {"reason": reason} if reason else {}
            await record_account_event(conn, target, "account.deactivated", actor.id, **given)


async def erase_account(pool: asyncpg.Pool, actor: Actor, account_id: str) -> None:
    """Pseudonymise a person everywhere and deactivate the account, by an admin; the audit
    trail keeps its rows, with the person's name and email replaced."""
    if actor.role != "admin":
        raise forbidden(gettext("Only an administrator erases an account."))
    nothing = not_found(gettext("There is no account %(id)s.") % {"id": repr(account_id)})
    target = named_id(account_id, nothing)
    if target == actor.id:
        raise forbidden(gettext("Another administrator erases an administrator's account."))
    async with pool.acquire() as conn, conn.transaction():
        if not await erase(conn, target):
            raise nothing
        await record_account_event(conn, target, "account.erased", actor.id)


# The operator at the command line acts with an administrator's rights.
OPERATOR = Actor(id=uuid.UUID(int=0), name="operator", role="admin")


async def create_actor_from_cli(
    settings: Settings, dsn: str, body: dict[str, Any]
) -> dict[str, Any]:
    """The account, its API token and how it signs in to the pages: an invitation mailed to
    its address, or (without one) the invitation's link, for the operator to hand over."""
    from db.pool import create_pool

    actor = new_actor(OPERATOR, body)
    token = new_token()
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn, conn.transaction():
            actor = await store_account(conn, OPERATOR, actor, token, created_by=None)
        if await send_invitation(pool, settings, actor):
            sign_in = {"invitation_mailed_to": actor.email}
        else:
            sign_in = {"sign_in_link": await invitation_link(pool, settings, actor.id, INVITED_TO)}
    finally:
        await pool.close()
    return {**actor.as_json(), "token": token, **sign_in}


async def operator_account(pool: asyncpg.Pool, body: dict[str, Any]) -> tuple[Actor, str]:
    """The account `body` describes, for the operator at the command line, with a new token:
    the active account of that address and role if there is one (its previous token stops
    working), else a new one. No invitation is mailed: the operator hands over its link."""
    actor = new_actor(OPERATOR, body)
    token = new_token()
    async with pool.acquire() as conn, conn.transaction():
        for existing in await active_actors_by_email(conn, body.get("email", "")):
            if existing.role == actor.role and existing.country == actor.country:
                await replace_token(conn, existing.id, token)
                await record_account_event(conn, existing.id, "token.issued", None)
                return existing, token
        return await store_account(conn, OPERATOR, actor, token, created_by=None), token
