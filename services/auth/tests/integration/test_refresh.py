"""Refresh token rotation, reuse detection and logout."""

from __future__ import annotations

from sqlalchemy import text


async def _refresh(api, token: str | None = None):
    body = {"refresh_token": token} if token is not None else None
    response = await api.client.post("/api/auth/refresh", json=body)
    return response


async def test_refresh_rotates_the_pair(api):
    first = await api.user_tokens("rotate@souk.test")
    response = await _refresh(api, first["refresh_token"])
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert "refresh_token=" in "".join(response.headers.get_list("set-cookie"))
    me = await api.client.get("/api/auth/me", headers=api.bearer(second["access_token"]))
    assert me.status_code == 200
    api.client.cookies.clear()
    third = await _refresh(api, second["refresh_token"])
    assert third.status_code == 200, third.text


async def test_refresh_accepts_the_cookie(api):
    await api.register("cookie-refresh@souk.test")
    login = await api.client.post(
        "/api/auth/login",
        json={"email": "cookie-refresh@souk.test", "password": "correct-Horse-battery"},
    )
    assert login.status_code == 200
    response = await _refresh(api)  # no body: the refresh_token cookie is used
    assert response.status_code == 200, response.text
    assert response.json()["refresh_token"] != login.json()["refresh_token"]


async def test_reusing_a_rotated_token_revokes_the_whole_family(api, app):
    first = await api.user_tokens("victim@souk.test")
    second = (await _refresh(api, first["refresh_token"])).json()
    api.client.cookies.clear()

    reuse = await _refresh(api, first["refresh_token"])
    body = api.problem(reuse, 401, "refresh_token_reused")
    assert "log in again" in body["detail"]
    # The newer token of the same family stops working too.
    api.problem(await _refresh(api, second["refresh_token"]), 401, "invalid_refresh_token")
    async with app.state.runtime.database.engine.connect() as connection:
        live = await connection.scalar(
            text("SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL")
        )
    assert live == 0


async def test_reuse_does_not_touch_other_sessions_of_the_user(api):
    phone = await api.user_tokens("two-devices@souk.test")
    laptop = (await api.login("two-devices@souk.test")).json()
    await _refresh(api, phone["refresh_token"])
    api.client.cookies.clear()
    api.problem(await _refresh(api, phone["refresh_token"]), 401, "refresh_token_reused")
    assert (await _refresh(api, laptop["refresh_token"])).status_code == 200


async def test_unknown_missing_and_expired_refresh_tokens_are_401(api, app):
    api.problem(await _refresh(api, "not-a-real-token"), 401, "invalid_refresh_token")
    api.problem(await _refresh(api), 401, "invalid_refresh_token")
    tokens = await api.user_tokens("expired-refresh@souk.test")
    async with app.state.runtime.database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")
        )
    body = api.problem(await _refresh(api, tokens["refresh_token"]), 401, "invalid_refresh_token")
    assert "expired" in body["detail"]
    # The next login prunes the user's expired rows.
    assert (await api.login("expired-refresh@souk.test")).status_code == 200
    async with app.state.runtime.database.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM refresh_tokens")) == 1


async def test_refresh_of_a_deactivated_account_is_401(api, app):
    tokens = await api.user_tokens("gone@souk.test")
    async with app.state.runtime.database.engine.begin() as connection:
        await connection.execute(text("UPDATE users SET is_active = false"))
    api.problem(await _refresh(api, tokens["refresh_token"]), 401, "invalid_refresh_token")


async def test_refresh_picks_up_a_role_change(api, app):
    import jwt

    tokens = await api.user_tokens("promoted@souk.test")
    async with app.state.runtime.database.engine.begin() as connection:
        await connection.execute(text("UPDATE users SET role = 'seller'"))
    new = (await _refresh(api, tokens["refresh_token"])).json()
    assert jwt.decode(new["access_token"], options={"verify_signature": False})["role"] == "seller"


async def test_logout_revokes_the_family_and_clears_cookies(api):
    tokens = await api.user_tokens("leaving@souk.test")
    rotated = (await _refresh(api, tokens["refresh_token"])).json()
    api.client.cookies.clear()
    response = await api.client.post(
        "/api/auth/logout", json={"refresh_token": rotated["refresh_token"]}
    )
    assert response.status_code == 204
    cleared = response.headers.get_list("set-cookie")
    assert any(c.startswith('access_token="";') and "Max-Age=0" in c for c in cleared)
    assert any(
        c.startswith('refresh_token="";') and "Path=/api/auth" in c and "Max-Age=0" in c
        for c in cleared
    )
    api.problem(await _refresh(api, rotated["refresh_token"]), 401, "invalid_refresh_token")


async def test_logout_with_the_cookie_and_without_any_token(api):
    await api.register("cookie-logout@souk.test")
    await api.client.post(
        "/api/auth/login",
        json={"email": "cookie-logout@souk.test", "password": "correct-Horse-battery"},
    )
    refresh_token = api.client.cookies["refresh_token"]
    assert (await api.client.post("/api/auth/logout")).status_code == 204
    api.client.cookies.clear()
    api.problem(await _refresh(api, refresh_token), 401, "invalid_refresh_token")
    assert (await api.client.post("/api/auth/logout")).status_code == 204


async def test_concurrent_refreshes_with_one_token_cannot_both_succeed(api):
    import asyncio

    tokens = await api.user_tokens("racer@souk.test")
    first, second = await asyncio.gather(
        _refresh(api, tokens["refresh_token"]), _refresh(api, tokens["refresh_token"])
    )
    api.client.cookies.clear()
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 401], (first.text, second.text)
    loser = first if first.status_code == 401 else second
    winner = first if first.status_code == 200 else second
    api.problem(loser, 401, "refresh_token_reused")
    # The race counts as reuse, so the winner's new token is revoked with the family.
    revoked = await _refresh(api, winner.json()["refresh_token"])
    api.problem(revoked, 401, "invalid_refresh_token")
