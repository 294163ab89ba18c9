"""The API's foundation over real HTTP: problems, auth, reference data, accounts."""

from __future__ import annotations

from typing import Any

import pytest

PROBLEM = "application/problem+json"


async def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == PROBLEM
    body = await response.json(content_type=PROBLEM)
    assert body["status"] == status
    assert body["title"]
    return body


async def post_actor(api: Any, headers: dict[str, str], **body: Any) -> Any:
    """POST /v1/actors with the JSON `body`, as the account whose `headers` are given."""
    return await api.post("/v1/actors", json=body, headers=headers)


async def test_healthz_needs_no_token(api: Any) -> None:
    response = await api.get("/healthz")
    assert response.status == 200
    assert (await response.json())["status"] == "ok"


async def test_readyz_reports_each_dependency(api: Any) -> None:
    response = await api.get("/readyz")
    body = await response.json()
    assert response.status == 200, body
    assert body["checks"] == {"database": "up", "temporal": "up"}


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer rf_wrong"}, {"Authorization": "Basic x"}]
)
async def test_v1_without_a_valid_token_is_401(api: Any, headers: dict[str, str]) -> None:
    response = await api.get("/v1/gcm", headers=headers)
    await assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_gcm_reference(api: Any, admin: Any) -> None:
    body = await (await api.get("/v1/gcm", headers=admin.headers)).json()
    assert [o["number"] for o in body["objectives"]] == list(range(1, 24))
    assert len(body["guiding_principles"]) == 10
    assert {c["number"] for c in body["clusters"]} == {1, 2, 3, 4}
    assert "civil_society" in {c["id"] for c in body["stakeholder_categories"]}


async def test_regions_and_members(api: Any, admin: Any) -> None:
    listed = await (await api.get("/v1/regions", headers=admin.headers)).json()
    assert [r["code"] for r in listed["items"]] == ["ECE", "ECA", "ECLAC", "ESCAP", "ESCWA"]
    ece = await (await api.get("/v1/regions/ECE", headers=admin.headers)).json()
    assert len(ece["members"]) == 56
    assert {"iso3": "KAZ", "name": "Kazakhstan"} in ece["members"]


async def test_unknown_region_is_a_404_problem(api: Any, admin: Any) -> None:
    body = await assert_problem(await api.get("/v1/regions/XYZ", headers=admin.headers), 404)
    assert "XYZ" in body["detail"]


async def test_unknown_path_and_wrong_method_are_problems(api: Any, admin: Any) -> None:
    await assert_problem(await api.get("/v1/nothing-here", headers=admin.headers), 404)
    response = await api.delete("/v1/gcm", headers=admin.headers)
    await assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


async def test_malformed_json_is_400(api: Any, admin: Any) -> None:
    response = await api.post(
        "/v1/actors",
        data=b'{"name": "x", ',
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    body = await assert_problem(response, 400)
    assert "not valid JSON" in body["detail"]


async def test_invalid_utf8_and_wrong_media_type(api: Any, admin: Any) -> None:
    bad_utf8 = await api.post(
        "/v1/actors",
        data=b'{"name": "\xff"}',
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    await assert_problem(bad_utf8, 400)
    form = await api.post(
        "/v1/actors", data="name=x", headers={**admin.headers, "Content-Type": "text/plain"}
    )
    await assert_problem(form, 415)


async def test_body_over_the_limit_is_413(api: Any, admin: Any) -> None:
    huge = b'{"name": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = await api.post(
        "/v1/actors", data=huge, headers={**admin.headers, "Content-Type": "application/json"}
    )
    await assert_problem(response, 413)


async def test_deeply_nested_json_is_refused_cleanly(api: Any, admin: Any) -> None:
    nested = b"[" * 100_000 + b"]" * 100_000
    response = await api.post(
        "/v1/actors", data=nested, headers={**admin.headers, "Content-Type": "application/json"}
    )
    assert response.status in {400, 422}
    assert response.content_type == PROBLEM


async def test_admin_creates_a_secretariat_whose_token_works(api: Any, admin: Any) -> None:
    response = await post_actor(
        api,
        admin.headers,
        name="ECE secretariat",
        email="gcm@unece.example",
        role="secretariat",
        regions=["ECE"],
    )
    created = await response.json()
    assert response.status == 201, created
    assert created["token"].startswith("rf_")
    me = await (
        await api.get("/v1/actors/me", headers={"Authorization": f"Bearer {created['token']}"})
    ).json()
    assert me["id"] == created["id"]
    assert me["role"] == "secretariat"
    assert me["regions"] == ["ECE"]
    assert "token" not in me


async def test_invalid_account_names_every_problem(api: Any, admin: Any) -> None:
    response = await post_actor(
        api, admin.headers, role="focal_point", email="not-an-email", colour="blue"
    )
    body = await assert_problem(response, 422)
    pointers = {error["pointer"] for error in body["errors"]}
    assert pointers == {"/name", "/email", "/colour", "/country"}
    assert all(error["message"] for error in body["errors"])


async def test_unknown_country_is_422(api: Any, admin: Any) -> None:
    response = await post_actor(api, admin.headers, name="x", role="focal_point", country="ZZZ")
    body = await assert_problem(response, 422)
    assert [e["pointer"] for e in body["errors"]] == ["/country"]


async def test_secretariat_creates_only_within_its_regions(api: Any, ece_secretariat: Any) -> None:
    headers = ece_secretariat.headers
    own = await post_actor(api, headers, name="Germany FP", role="focal_point", country="DEU")
    assert own.status == 201, await own.text()
    other_country = await post_actor(
        api, headers, name="Kenya FP", role="focal_point", country="KEN"
    )
    await assert_problem(other_country, 403)
    other_region = await post_actor(
        api,
        headers,
        name="NGO",
        role="stakeholder",
        organisation="NGO",
        stakeholder_category="academia",
        regions=["ECA"],
    )
    await assert_problem(other_region, 403)
    secretariat = await post_actor(api, headers, name="s", role="secretariat", regions=["ECE"])
    await assert_problem(secretariat, 403)


async def test_focal_point_may_not_create_accounts(api: Any, make_account: Any) -> None:
    focal_point = await make_account("focal_point", country="FRA")
    response = await post_actor(api, focal_point.headers, name="x", role="observer")
    await assert_problem(response, 403)


async def test_idempotent_account_creation(api: Any, admin: Any, pool: Any) -> None:
    headers = {**admin.headers, "Idempotency-Key": "create-observer-1"}
    body = {"name": "Observer One", "role": "observer"}
    first = await api.post("/v1/actors", json=body, headers=headers)
    second = await api.post("/v1/actors", json=body, headers=headers)
    assert first.status == second.status == 201
    first_body, second_body = await first.json(), await second.json()
    assert first_body["id"] == second_body["id"]
    assert first_body["token"] and second_body["token"] is None
    assert await pool.fetchval("SELECT count(*) FROM actors WHERE name = 'Observer One'") == 1
    reused = await api.post("/v1/actors", json={**body, "name": "Someone else"}, headers=headers)
    await assert_problem(reused, 422)


async def test_tokens_are_stored_only_as_hashes(api: Any, admin: Any, pool: Any) -> None:
    response = await post_actor(api, admin.headers, name="Hashed", role="observer")
    token = (await response.json())["token"]
    stored = await pool.fetchval("SELECT token_hash FROM actors WHERE name = 'Hashed'")
    assert stored != token
    assert token not in str(await pool.fetch("SELECT * FROM actors WHERE name = 'Hashed'"))


async def test_a_token_can_be_revoked_and_replaced(api: Any, admin: Any, make_account: Any) -> None:
    person = await make_account("observer")
    revoked = await api.delete(f"/v1/actors/{person.id}/tokens", headers=person.headers)
    assert revoked.status == 204
    await assert_problem(await api.get("/v1/actors/me", headers=person.headers), 401)

    issued = await api.post(f"/v1/actors/{person.id}/tokens", headers=admin.headers)
    token = (await issued.json())["token"]
    assert issued.status == 201 and token.startswith("rf_")
    me = await api.get("/v1/actors/me", headers={"Authorization": f"Bearer {token}"})
    assert (await me.json())["id"] == person.id


async def test_only_the_owner_an_admin_or_its_creator_manages_a_token(
    api: Any, ece_secretariat: Any, make_account: Any
) -> None:
    created = await api.post(
        "/v1/actors",
        json={"name": "Created here", "role": "focal_point", "country": "AUT"},
        headers=ece_secretariat.headers,
    )
    created_id = (await created.json())["id"]
    assert (
        await api.delete(f"/v1/actors/{created_id}/tokens", headers=ece_secretariat.headers)
    ).status == 204
    stranger = await make_account("focal_point", country="BEL")
    for account in (
        ece_secretariat,
        await make_account("stakeholder", organisation="X", stakeholder_category="media"),
    ):
        await assert_problem(
            await api.delete(f"/v1/actors/{stranger.id}/tokens", headers=account.headers), 404
        )
    await assert_problem(
        await api.post("/v1/actors/not-a-uuid/tokens", headers=stranger.headers), 404
    )
    assert (await api.get("/v1/actors/me", headers=stranger.headers)).status == 200


async def test_logs_carry_no_tokens_and_no_document_content(
    api: Any, admin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    secret_text = "Unique-secret-text-7f3a"
    with caplog.at_level("DEBUG"):
        await api.get("/v1/actors/me", headers={"Authorization": "Bearer rf_this-is-not-valid"})
        await api.post(
            "/v1/actors", json={"name": secret_text, "role": "observer"}, headers=admin.headers
        )
        await api.post(
            "/v1/actors",
            data=b"{" + secret_text.encode(),
            headers={**admin.headers, "Content-Type": "application/json"},
        )
    logged = caplog.text
    assert admin.token not in logged and "rf_this-is-not-valid" not in logged
    assert secret_text not in logged
