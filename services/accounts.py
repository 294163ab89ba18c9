"""Rules for creating accounts, shared by the API and the command line."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from db.actors import (
    default_regions,
    insert_actor,
    insert_organisation,
    joinable_organisation,
    new_token,
    record_account_event,
)
from db.pool import Executor
from domain.access import ROLES, Actor, creation_refusal
from domain.reference import load_reference
from notifications.addresses import address_problem, name_problem
from schemas import COMMON_ID, problems_in

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
    },
    "allOf": [
        {
            "if": {"properties": {"role": {"const": "secretariat"}}},
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


class AccountError(Exception):
    """The request is not a valid account; `problems` names each fault by JSON Pointer."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{p}: {m}" for p, m in problems))
        self.problems = problems


class NotAllowed(Exception):
    """The creator may not create this account."""


def _check(body: Any) -> dict[str, Any]:
    problems = [(p.pointer, p.message) for p in problems_in(NEW_ACTOR_SCHEMA, body)]
    if not problems:
        problems = _mail_problems(body)
    if problems:
        raise AccountError(problems)
    if "organisation_id" in body and "organisation" in body:
        raise AccountError(
            [("/organisation_id", "name a new organisation or give an existing one's id, not both")]
        )
    if "organisation_id" in body and body["role"] != "stakeholder":
        raise AccountError(
            [("/organisation_id", "only a stakeholder account joins an organisation")]
        )
    country = body.get("country")
    if country is not None and load_reference().country_name(country) is None:
        raise AccountError([("/country", f"{country} is not a member of any regional commission")])
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
        raise AccountError(
            [("/regions", f"{country} is not a member State of: {', '.join(sorted(foreign))}")]
        )
    return regions


def _regions_allowed(creator: Actor, body: dict[str, Any]) -> tuple[str, ...]:
    """The new account's regions, after checking that the creator may create it at all."""
    regions = tuple(body.get("regions", ()))
    country: str | None = body.get("country")
    if refusal := creation_refusal(creator, body["role"], regions):
        raise NotAllowed(refusal.message)
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
        raise NotAllowed(f"{country} is not a member State of your region(s).")
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
        raise AccountError([("/organisation_id", "is not an organisation you may add accounts to")])
    category = actor.stakeholder_category
    if category is not None and category != organisation["category"]:
        raise AccountError(
            [
                (
                    "/stakeholder_category",
                    f"the organisation's category is {organisation['category']}",
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


# The operator at the command line acts with an administrator's rights.
OPERATOR = Actor(id=uuid.UUID(int=0), name="operator", role="admin")


async def create_actor_from_cli(dsn: str, body: dict[str, Any]) -> dict[str, Any]:
    from db.pool import create_pool

    actor = new_actor(OPERATOR, body)
    token = new_token()
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn, conn.transaction():
            actor = await store_account(conn, OPERATOR, actor, token, created_by=None)
    finally:
        await pool.close()
    return {**actor.as_json(), "token": token}
