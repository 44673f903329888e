"""The app factory wires health, readiness, metrics and correlation for every service.

It borrows the notifications service's migrations as a realistic migrations package.
"""

from souk_common.app import ServiceDefinition, create_service_app
from souk_common.migrations import upgrade_to_head
from souk_common.settings import ServiceSettings
from souk_common.testing import running_app, service_test_settings

MIGRATIONS = "souk_notifications"


def app_factory(upstream_ok: bool = True):
    """A ``create_app`` of a service with one extra readiness check, ``upstream``."""

    async def upstream() -> None:
        if not upstream_ok:
            raise ConnectionError("payment provider unreachable")

    definition = ServiceDefinition(
        title="factory test",
        migrations_package=MIGRATIONS,
        readiness=lambda runtime: {"upstream": upstream},
    )
    return lambda settings: create_service_app(settings, definition)


def settings_for(database_url: str, redis_prefix: str) -> ServiceSettings:
    return service_test_settings(
        ServiceSettings, database_url, redis_prefix, service_name="factorytest", run_workers=False
    )


async def test_readiness_follows_migrations_and_extra_checks(database_url, redis_prefix):
    async with running_app(app_factory(), settings_for(database_url, redis_prefix)) as running:
        client = running.client
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

    failing = app_factory(upstream_ok=False)
    async with running_app(failing, settings_for(database_url, redis_prefix)) as running:
        client = running.client
        response = await client.get("/readyz", headers={"X-Request-ID": "ready-1"})
        assert response.status_code == 503
        assert "payment provider unreachable" in response.json()["checks"]["upstream"]
        assert response.headers["x-request-id"] == "ready-1"
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200
        assert "http_server_request_duration_seconds" in metrics.text
        assert (await client.get("/openapi.json")).json()["info"]["title"] == "factory test"
