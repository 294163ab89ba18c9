"""Rules for creating accounts, shared by the API and the command line."""

from __future__ import annotations

import uuid
from typing import Any

from db.actors import ROLES, Actor, insert_actor, new_token
from notifications.addresses import address_problem, name_problem
from reviewflow.reference import load_reference
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
            "if": {"properties": {"role": {"const": "stakeholder"}}},
            "then": {"required": ["organisation", "stakeholder_category"]},
        },
    ],
}

# Roles a secretariat may hand out, and only within its own regions.
SECRETARIAT_MAY_CREATE = frozenset({"focal_point", "stakeholder", "observer"})


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


def _regions_allowed(creator: Actor, body: dict[str, Any]) -> tuple[str, ...]:
    """The new account's regions, after checking that the creator may create it at all."""
    regions = tuple(body.get("regions", ()))
    if creator.role == "admin":
        return regions
    if creator.role != "secretariat" or body["role"] not in SECRETARIAT_MAY_CREATE:
        raise NotAllowed(
            f"A secretariat may create only: {', '.join(sorted(SECRETARIAT_MAY_CREATE))}."
        )
    regions = regions or creator.regions
    outside = sorted(set(regions) - set(creator.regions))
    if outside:
        raise NotAllowed(f"Not your region(s): {', '.join(outside)}.")
    country = body.get("country")
    if country is not None and not load_reference().in_any_region(country, creator.regions):
        raise NotAllowed(f"{country} is not a member State of your region(s).")
    return regions


def new_actor(creator: Actor, body: Any) -> Actor:
    """The account `body` describes, if valid and `creator` may create it."""
    valid = _check(body)
    return Actor(
        id=uuid.uuid4(),
        name=valid["name"],
        role=valid["role"],
        email=valid.get("email"),
        regions=_regions_allowed(creator, valid),
        country=valid.get("country"),
        organisation=valid.get("organisation"),
        stakeholder_category=valid.get("stakeholder_category"),
    )


# The operator at the command line acts with an administrator's rights.
OPERATOR = Actor(id=uuid.UUID(int=0), name="operator", role="admin")


async def create_actor_from_cli(dsn: str, body: dict[str, Any]) -> dict[str, Any]:
    from db.pool import create_pool

    actor = new_actor(OPERATOR, body)
    token = new_token()
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        await insert_actor(pool, actor, token, created_by=None)
    finally:
        await pool.close()
    return {**actor.as_json(), "token": token}
