"""Signing keys: one per deployment even when replicas race, configured keys, rotation."""

from __future__ import annotations

import asyncio

import jwt
from sqlalchemy import text

from souk_auth.keys import generate_signing_key, private_key_pem
from souk_auth.keystore import KeyStore
from souk_auth.main import create_app
from souk_common.db import Database
from souk_common.testing import running_app


async def test_replicas_starting_together_agree_on_one_generated_key(migrated_database):
    migrated_url = await migrated_database("souk_auth")
    database = Database(migrated_url, pool_size=5)
    try:
        stores = [KeyStore.from_pem(database.sessions, None, 900) for _ in range(5)]
        keys = await asyncio.gather(*(store.signing_key() for store in stores))
        assert len({key.kid for key in keys}) == 1
        async with database.engine.connect() as connection:
            count = await connection.scalar(text("SELECT count(*) FROM signing_keys"))
        assert count == 1
    finally:
        await database.dispose()


async def test_configured_key_signs_and_the_previous_key_stays_published(
    migrated_database, redis_prefix, settings_factory
):
    migrated_url = await migrated_database("souk_auth")

    async def login_token(settings) -> tuple[str, dict]:
        async with running_app(create_app, settings) as running:
            client = running.client
            await client.post(
                "/api/auth/register",
                json={
                    "email": "rotation@souk.test",
                    "password": "correct-Horse-battery",
                    "display_name": "R",
                    "role": "buyer",
                },
            )
            login = await client.post(
                "/api/auth/login",
                json={"email": "rotation@souk.test", "password": "correct-Horse-battery"},
            )
            jwks = (await client.get("/.well-known/jwks.json")).json()
            return login.json()["access_token"], jwks

    generated_token, _ = await login_token(settings_factory(migrated_url, redis_prefix))
    old_kid = jwt.get_unverified_header(generated_token)["kid"]

    configured = generate_signing_key()
    settings = settings_factory(
        migrated_url, redis_prefix, auth_signing_key=private_key_pem(configured)
    )
    token, jwks = await login_token(settings)
    assert jwt.get_unverified_header(token)["kid"] == configured.kid
    assert [key["kid"] for key in jwks["keys"]] == [configured.kid, old_kid]

    engine = Database(migrated_url).engine
    try:
        async with engine.connect() as connection:
            rows = {
                kid: (active, pem is None, retired is not None)
                for kid, active, pem, retired in await connection.execute(
                    text("SELECT kid, active, private_key_pem, retired_at FROM signing_keys")
                )
            }
    finally:
        await engine.dispose()
    # The configured key's private half never lands in the database.
    assert rows == {configured.kid: (True, True, False), old_kid: (False, False, True)}
