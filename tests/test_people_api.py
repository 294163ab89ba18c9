"""People through the API: the accounts an admin or a secretariat manages, listed, searched and
paged; edited; deactivated (signed out everywhere, nothing submitted lost)."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import asyncpg
import pytest

from domain.access import Actor
from tests import documents
from tests.conftest import Account
from tests.reviews import eventually
from tests.test_reviews_api import create_review, open_call, submit
from tests.web_site import Site, signed_in

pytestmark = pytest.mark.usefixtures("worker")


async def call(api: Any, method: str, path: str, account: Any, body: Any = None) -> Any:
    response = await api.request(method, path, json=body, headers=account.headers)
    return response.status, await response.json(content_type=None)


async def made_by(api: Any, creator: Any, **body: Any) -> dict[str, Any]:
    status, made = await call(api, "POST", "/v1/actors", creator, body)
    assert status == 201, made
    return made  # type: ignore[no-any-return]


async def listed(api: Any, account: Any, query: str, cursor: str = "") -> list[str]:
    """The names of every account the list shows for `query`, page after page (from after
    `cursor`, if given)."""
    names: list[str] = []
    cursor = cursor and f"&cursor={cursor}"
    while True:
        status, page = await call(api, "GET", f"/v1/actors?{query}{cursor}", account)
        assert status == 200, page
        names += [item["name"] for item in page["items"]]
        if page["next_cursor"] is None:
            return names
        cursor = f"&cursor={page['next_cursor']}"


async def test_a_secretariat_lists_and_searches_the_accounts_it_created(
    api: Any, make_account: Any
) -> None:
    tag = secrets.token_hex(4)
    sec = await make_account("secretariat", regions=("ECE",))
    other = await make_account("secretariat", regions=("ECE",))
    await made_by(
        api, sec, name=f"{tag} Ann", email=f"ann-{tag}@example.org", role="focal_point",
        country="DEU",
    )  # fmt: skip
    await made_by(
        api, sec, name=f"{tag} Bob", email=f"bob-{tag}@example.org", role="stakeholder",
        organisation=f"Union {tag.upper()}", stakeholder_category="trade_unions",
    )  # fmt: skip
    cid = await made_by(api, sec, name=f"{tag} Cid", role="observer")
    await made_by(api, other, name=f"{tag} Dan", role="observer")
    await call(api, "POST", f"/v1/actors/{cid['id']}/deactivate", sec)

    assert await listed(api, sec, f"q={tag}") == [f"{tag} Ann", f"{tag} Bob", f"{tag} Cid"]
    assert await listed(api, other, f"q={tag}") == [f"{tag} Dan"]
    # Name, email and organisation, in any case; the wildcards as typed.
    assert await listed(api, sec, f"q=BOB-{tag.upper()}") == [f"{tag} Bob"]
    assert await listed(api, sec, f"q=union+{tag}") == [f"{tag} Bob"]
    assert await listed(api, sec, f"q={tag}%25") == []
    assert await listed(api, sec, f"q={tag}&role=focal_point") == [f"{tag} Ann"]
    assert await listed(api, sec, f"q={tag}&category=trade_unions") == [f"{tag} Bob"]
    assert await listed(api, sec, f"q={tag}&country=deu") == [f"{tag} Ann"]
    assert await listed(api, sec, f"q={tag}&active=false") == [f"{tag} Cid"]
    assert await listed(api, sec, f"q={tag}&active=true") == [f"{tag} Ann", f"{tag} Bob"]
    _, page = await call(api, "GET", f"/v1/actors?q={tag}&role=stakeholder", sec)
    [bob] = page["items"]
    assert bob["active"] is True and bob["organisation"] == f"Union {tag.upper()}"


async def test_pages_hold_their_place_while_accounts_are_added(api: Any, admin: Any) -> None:
    tag = secrets.token_hex(4)
    for name in ("b", "d", "f", "h", "j"):
        await made_by(api, admin, name=f"{tag} {name}", role="observer")
    _, first = await call(api, "GET", f"/v1/actors?q={tag}&limit=2", admin)
    assert [i["name"] for i in first["items"]] == [f"{tag} b", f"{tag} d"]
    # Added before and after the place reached: the next pages neither repeat nor skip.
    await made_by(api, admin, name=f"{tag} a", role="observer")
    await made_by(api, admin, name=f"{tag} e", role="observer")
    rest = await listed(api, admin, f"q={tag}&limit=2", first["next_cursor"])
    assert rest == [f"{tag} {name}" for name in ("e", "f", "h", "j")]


async def test_every_bad_parameter_is_named(api: Any, admin: Any) -> None:
    query = "limit=201&role=king&category=x&country=XXX&active=maybe&cursor=nonsense"
    status, problem = await call(api, "GET", f"/v1/actors?{query}", admin)
    assert status == 422
    named = {error["pointer"] for error in problem["errors"]}
    assert named == {"/limit", "/role", "/category", "/country", "/active", "/cursor"}
    for bad in ("limit=0", "limit=-1", "limit=ten", f"q={'x' * 201}"):
        assert (await call(api, "GET", f"/v1/actors?{bad}", admin))[0] == 422, bad


async def test_only_admins_and_secretariats_list_people(api: Any, make_account: Any) -> None:
    for role, extra in (("focal_point", {"country": "DEU"}), ("observer", {})):
        account = await make_account(role, **extra)
        assert (await call(api, "GET", "/v1/actors", account))[0] == 403


async def test_editing_an_account(api: Any, pool: asyncpg.Pool, make_account: Any) -> None:
    tag = secrets.token_hex(4)
    sec = await make_account("secretariat", regions=("ECE",))
    other = await make_account("secretariat", regions=("ECE",))
    fp = await made_by(api, sec, name="Ann", role="focal_point", country="DEU")
    path = f"/v1/actors/{fp['id']}"
    changes = {"name": f"Ann {tag}", "email": f"ann-{tag}@example.org", "organisation": "MFA"}
    status, edited = await call(api, "PATCH", path, sec, changes)
    assert status == 200, edited
    assert {k: edited[k] for k in changes} == changes and edited["role"] == "focal_point"
    event = await pool.fetchrow(
        "SELECT data FROM account_events WHERE account_id = $1 AND type = 'account.updated'",
        uuid.UUID(fp["id"]),
    )
    assert event is not None and sorted(event["data"]["fields"]) == [
        "email",
        "name",
        "organisation",
    ]
    assert tag not in str(event["data"])  # the values are not kept in the audit trail

    assert (await call(api, "PATCH", path, other, {"name": "Mine"}))[0] == 404
    status, problem = await call(api, "PATCH", path, sec, {"email": "nope", "name": ""})
    assert status == 422 and {e["pointer"] for e in problem["errors"]} == {"/email", "/name"}
    status, problem = await call(api, "PATCH", path, sec, {"stakeholder_category": "academia"})
    assert status == 422 and problem["errors"][0]["pointer"] == "/stakeholder_category"
    assert (await call(api, "PATCH", path, sec, {}))[0] == 422
    # Addresses may be shared (a ministry's): another account's address is no conflict.
    shared = await made_by(api, sec, name="Bo", role="observer", email=f"ann-{tag}@example.org")
    assert shared["email"] == changes["email"]


async def test_renaming_a_stakeholders_organisation_renames_it_for_colleagues(
    api: Any, make_account: Any
) -> None:
    sec = await make_account("secretariat", regions=("ECE",))
    first = await made_by(
        api, sec, name="Ann", role="stakeholder", organisation="Old name",
        stakeholder_category="academia",
    )  # fmt: skip
    colleague = await made_by(
        api, sec, name="Bob", role="stakeholder", organisation_id=first["organisation_id"]
    )
    status, edited = await call(
        api, "PATCH", f"/v1/actors/{first['id']}", sec,
        {"organisation": "New name", "stakeholder_category": "civil_society"},
    )  # fmt: skip
    assert status == 200, edited
    status, page = await call(api, "GET", "/v1/actors?q=new+name", sec)
    assert {(i["id"], i["stakeholder_category"]) for i in page["items"]} == {
        (first["id"], "civil_society"),
        (colleague["id"], "civil_society"),
    }


async def test_deactivating_signs_out_everywhere_and_keeps_what_was_sent(
    site: Site, ece_secretariat: Any
) -> None:
    api = site.api
    made = await made_by(
        api, ece_secretariat, name="Leaving", role="focal_point", country="DEU",
        email=f"leaving-{secrets.token_hex(4)}@example.org",
    )  # fmt: skip
    stored = await site.pool.fetchrow("SELECT * FROM actors WHERE id = $1", uuid.UUID(made["id"]))
    account = Account(Actor.from_row(stored), made["token"])
    review = await create_review(api, ece_secretariat, member_states=["DEU"], stakeholders=[])
    await open_call(api, ece_secretariat, review["id"])
    sent = await submit(api, account, review["id"], documents.national_report("DEU"))
    assert sent.status in (200, 201, 202), await sent.text()
    await site.sign_in(account)
    assert await signed_in(site.client)

    status, _ = await call(api, "POST", f"/v1/actors/{made['id']}/deactivate", ece_secretariat)
    assert status == 204
    assert not await signed_in(site.client)
    sessions = await site.pool.fetchval(
        "SELECT count(*) FROM web_sessions WHERE actor_id = $1", account.actor.id
    )
    assert sessions == 0
    assert (await api.get("/v1/actors/me", headers=account.headers)).status == 401

    async def kept() -> bool:
        count = await site.pool.fetchval(
            "SELECT count(*) FROM submission_versions WHERE submitted_by = $1", account.actor.id
        )
        return bool(count == 1)

    assert await eventually(kept)
    status, page = await call(api, "GET", "/v1/actors?active=false&q=leaving", ece_secretariat)
    assert made["id"] in {item["id"] for item in page["items"]}
