"""Start-up before migrations: the process serves, says it is not ready, then recovers."""

from __future__ import annotations

from souk_auth.main import create_app
from souk_common.migrations import upgrade_to_head
from souk_common.testing import running_app


async def test_readyz_is_503_before_migrations_and_200_after(
    database_url, redis_prefix, settings_factory
):
    settings = settings_factory(database_url, redis_prefix)
    async with running_app(create_app, settings) as running:
        client = running.client
        before = await client.get("/readyz")
        assert before.status_code == 503
        assert before.json()["checks"]["migrations"] != "ok"
        assert before.json()["checks"]["database"] == "ok"
        jwks = await client.get("/.well-known/jwks.json")
        assert jwks.status_code == 503
        assert jwks.json()["code"] == "unavailable"

        await upgrade_to_head("souk_auth", database_url)

        after = await client.get("/readyz")
        assert after.status_code == 200, after.text
        assert after.json()["status"] == "ready"
        # The signing key is created on first use once the tables exist.
        jwks = await client.get("/.well-known/jwks.json")
        assert jwks.status_code == 200
        assert len(jwks.json()["keys"]) == 1
