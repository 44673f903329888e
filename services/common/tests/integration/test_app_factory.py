"""The app factory wires health, readiness, metrics and correlation for every service.

It borrows the notifications service's migrations as a realistic migrations package.
"""

import httpx
from asgi_lifespan import LifespanManager

from souk_common.app import ServiceDefinition, create_service_app
from souk_common.migrations import upgrade_to_head
from souk_common.settings import ServiceSettings

MIGRATIONS = "souk_notifications"


def build(database_url: str, redis_prefix: str, upstream_ok: bool = True):
    async def upstream() -> None:
        if not upstream_ok:
            raise ConnectionError("payment provider unreachable")

    settings = ServiceSettings(
        service_name="factorytest",
        database_url=database_url,
        stream_prefix=redis_prefix,
        auth_jwks_url="http://auth.invalid/jwks",
        run_workers=False,
    )
    return create_service_app(
        settings,
        ServiceDefinition(
            title="factory test",
            migrations_package=MIGRATIONS,
            readiness=lambda runtime: {"upstream": upstream},
        ),
    )


async def test_readiness_follows_migrations_and_extra_checks(database_url, redis_prefix):
    app = build(database_url, redis_prefix)
    async with LifespanManager(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        before = await client.get("/readyz")
        assert before.status_code == 503
        assert before.json()["checks"]["migrations"] != "ok"
        assert before.json()["checks"]["database"] == "ok"
        await upgrade_to_head(MIGRATIONS, database_url)
        after = await client.get("/readyz")
        assert after.status_code == 200, after.text
        assert after.json()["checks"] == {
            "database": "ok",
            "redis": "ok",
            "migrations": "ok",
            "upstream": "ok",
        }
        assert (await client.get("/healthz")).status_code == 200

    failing = build(database_url, redis_prefix, upstream_ok=False)
    async with LifespanManager(failing):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=failing), base_url="http://t")
        response = await client.get("/readyz", headers={"X-Request-ID": "ready-1"})
        assert response.status_code == 503
        assert "payment provider unreachable" in response.json()["checks"]["upstream"]
        assert response.headers["x-request-id"] == "ready-1"
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200
        assert "http_server_request_duration_seconds" in metrics.text
        assert (await client.get("/openapi.json")).json()["info"]["title"] == "factory test"
