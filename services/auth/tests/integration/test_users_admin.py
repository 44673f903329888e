"""Admin user management under /api/auth/users."""

from __future__ import annotations

import uuid


async def test_admin_lists_users_with_filters_and_pagination(api):
    admin = await api.admin_tokens()
    for name in ("ann", "bob", "cat"):
        assert (await api.register(f"{name}@shop.example", role="seller")).status_code == 201
    assert (await api.register("dan@souk.test")).status_code == 201
    headers = api.bearer(admin["access_token"])

    everyone = await api.client.get("/api/auth/users", headers=headers)
    assert everyone.status_code == 200, everyone.text
    assert everyone.json()["total"] == 5

    sellers = (
        await api.client.get("/api/auth/users?role=seller&limit=2&offset=0", headers=headers)
    ).json()
    assert sellers["total"] == 3
    assert len(sellers["items"]) == 2
    assert {item["role"] for item in sellers["items"]} == {"seller"}
    rest = (
        await api.client.get("/api/auth/users?role=seller&limit=2&offset=2", headers=headers)
    ).json()
    emails = {item["email"] for item in sellers["items"] + rest["items"]}
    assert emails == {"ann@shop.example", "bob@shop.example", "cat@shop.example"}

    by_email = (await api.client.get("/api/auth/users?email=BOB@", headers=headers)).json()
    assert [item["email"] for item in by_email["items"]] == ["bob@shop.example"]
    # LIKE wildcards in the filter are literal characters.
    assert (await api.client.get("/api/auth/users?email=%25", headers=headers)).json()["total"] == 0

    bad = await api.client.get("/api/auth/users?limit=0", headers=headers)
    assert api.problem(bad, 422, "validation_failed")["errors"][0]["field"] == "query.limit"


async def test_admin_gets_and_patches_a_user(api):
    admin = await api.admin_tokens()
    headers = api.bearer(admin["access_token"])
    user_id = (await api.register("patched@souk.test")).json()["id"]

    got = await api.client.get(f"/api/auth/users/{user_id}", headers=headers)
    assert got.status_code == 200
    assert got.json()["email"] == "patched@souk.test"

    response = await api.client.patch(
        f"/api/auth/users/{user_id}",
        json={"role": "seller", "display_name": "  Renamed  "},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["role"], body["display_name"], body["is_active"]) == ("seller", "Renamed", True)
    assert body["updated_at"] >= got.json()["updated_at"]

    invalid = await api.client.patch(
        f"/api/auth/users/{user_id}", json={"role": "god"}, headers=headers
    )
    assert api.problem(invalid, 422, "validation_failed")["errors"][0]["field"] == "body.role"
    missing = await api.client.get(f"/api/auth/users/{uuid.uuid4()}", headers=headers)
    api.problem(missing, 404, "not_found")


async def test_deactivation_blocks_login_and_revokes_refresh_tokens(api):
    admin = await api.admin_tokens()
    victim = await api.user_tokens("victim@souk.test")
    user_id = (
        await api.client.get("/api/auth/me", headers=api.bearer(victim["access_token"]))
    ).json()["id"]
    response = await api.client.delete(
        f"/api/auth/users/{user_id}", headers=api.bearer(admin["access_token"])
    )
    assert response.status_code == 204
    api.problem(await api.login("victim@souk.test"), 403, "account_disabled")
    refresh = await api.client.post(
        "/api/auth/refresh", json={"refresh_token": victim["refresh_token"]}
    )
    api.problem(refresh, 401, "invalid_refresh_token")
    me = await api.client.get("/api/auth/me", headers=api.bearer(victim["access_token"]))
    api.problem(me, 401, "unauthorized")


async def test_admin_cannot_lock_themselves_out(api):
    admin = await api.admin_tokens()
    headers = api.bearer(admin["access_token"])
    admin_id = (await api.client.get("/api/auth/me", headers=headers)).json()["id"]
    demote = await api.client.patch(
        f"/api/auth/users/{admin_id}", json={"role": "buyer"}, headers=headers
    )
    api.problem(demote, 409, "self_lockout")
    api.problem(
        await api.client.delete(f"/api/auth/users/{admin_id}", headers=headers), 409, "self_lockout"
    )


async def test_non_admins_get_403_and_anonymous_401(api):
    buyer = await api.user_tokens("plain@souk.test")
    headers = api.bearer(buyer["access_token"])
    me = (await api.client.get("/api/auth/me", headers=headers)).json()
    escalate = await api.client.patch(
        f"/api/auth/users/{me['id']}", json={"role": "admin"}, headers=headers
    )
    api.problem(escalate, 403, "forbidden")
    api.problem(await api.client.get("/api/auth/users", headers=headers), 403, "forbidden")
    api.problem(
        await api.client.delete(f"/api/auth/users/{me['id']}", headers=headers), 403, "forbidden"
    )
    api.problem(await api.client.get("/api/auth/users"), 401, "unauthorized")
    again = await api.client.get("/api/auth/me", headers=headers)
    assert again.json()["role"] == "buyer"
