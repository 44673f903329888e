"""Login: tokens and cookies, uniform failures, disabled accounts, rehashing."""

from __future__ import annotations

from argon2 import PasswordHasher
from sqlalchemy import text

from souk_common.security import TOKEN_AUDIENCE


async def test_login_returns_a_bearer_pair_and_sets_httponly_cookies(api):
    await api.register("cookie@souk.test")
    response = await api.client.post(
        "/api/auth/login", json={"email": "Cookie@Souk.test", "password": "correct-Horse-battery"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["access_token"].count(".") == 2
    assert len(body["refresh_token"]) >= 43
    assert response.headers["cache-control"] == "no-store"

    cookies = {
        header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")
    }
    access, refresh = cookies["access_token"], cookies["refresh_token"]
    assert access.startswith(f"access_token={body['access_token']};")
    assert refresh.startswith(f"refresh_token={body['refresh_token']};")
    for header in (access, refresh):
        assert "HttpOnly" in header
        assert "SameSite=lax" in header
        assert "Secure" not in header  # COOKIE_SECURE=false in this test
    assert "Path=/;" in access or access.endswith("Path=/")
    assert "Path=/api/auth" in refresh
    assert "Max-Age=900" in access

    # The cookie alone authenticates (the client kept it).
    me = await api.client.get("/api/auth/me")
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "cookie@souk.test"


async def test_wrong_password_and_unknown_user_get_the_same_401(api):
    await api.register("known@souk.test")
    wrong = await api.login("known@souk.test", "Wrong-password-123")
    unknown = await api.login("nobody@souk.test", "Wrong-password-123")
    for response in (wrong, unknown):
        api.problem(response, 401, "invalid_credentials")
        assert response.headers["www-authenticate"] == "Bearer"
        assert "set-cookie" not in response.headers

    def comparable(body: dict) -> dict:
        return {k: v for k, v in body.items() if k not in ("correlation_id",)}

    assert comparable(wrong.json()) == comparable(unknown.json())


async def test_me_with_bearer_token(api):
    tokens = await api.user_tokens("me@souk.test", role="seller")
    response = await api.client.get("/api/auth/me", headers=api.bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.json()["role"] == "seller"


async def test_me_without_token_is_401(api):
    api.problem(await api.client.get("/api/auth/me"), 401, "unauthorized")


async def test_disabled_account_gets_403_after_a_correct_password_only(api, app):
    await api.register("disabled@souk.test")
    async with app.state.runtime.database.engine.begin() as connection:
        await connection.execute(text("UPDATE users SET is_active = false"))
    api.problem(await api.login("disabled@souk.test"), 403, "account_disabled")
    # A wrong password does not reveal that the account is disabled.
    wrong = await api.login("disabled@souk.test", "Wrong-password-1")
    api.problem(wrong, 401, "invalid_credentials")


async def test_login_rehashes_a_password_hashed_with_old_parameters(api, app):
    await api.register("rehash@souk.test")
    old_hash = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1).hash(
        "correct-Horse-battery"
    )
    async with app.state.runtime.database.engine.begin() as connection:
        await connection.execute(text("UPDATE users SET password_hash = :h"), {"h": old_hash})
    assert (await api.login("rehash@souk.test")).status_code == 200
    async with app.state.runtime.database.engine.connect() as connection:
        new_hash = await connection.scalar(text("SELECT password_hash FROM users"))
    assert new_hash != old_hash
    assert new_hash.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert (await api.login("rehash@souk.test")).status_code == 200


async def test_access_token_claims(api):
    import jwt

    tokens = await api.user_tokens("claims@souk.test")
    header = jwt.get_unverified_header(tokens["access_token"])
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert header["alg"] == "ES256"
    assert header["kid"]
    assert claims["iss"] == "souk-auth"
    assert claims["aud"] == TOKEN_AUDIENCE
    assert claims["typ"] == "access"
    assert claims["role"] == "buyer"
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert claims["jti"]
