"""A 500 keeps the request's ID and the keep-alive connection, through a real uvicorn server.

The app is a service app from the factory (real PostgreSQL and Redis in its lifespan) with a
route that raises; it is served by uvicorn with the services' options on a free port, and one
httpx client with a single connection makes every call, so the peer port proves reuse.
"""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request

from souk_common.app import ServiceDefinition, create_service_app
from souk_common.settings import ServiceSettings
from souk_common.testing import served_by_uvicorn, service_test_settings


def failing_router() -> APIRouter:
    """``/peer`` answers the client's port; ``/boom`` raises."""
    router = APIRouter()

    @router.get("/peer")
    async def peer(request: Request) -> dict[str, int]:
        assert request.client is not None
        return {"port": request.client.port}

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug below a route")

    return router


async def test_a_500_keeps_the_request_id_and_the_connection(database_url, redis_prefix):
    settings = service_test_settings(
        ServiceSettings, database_url, redis_prefix, service_name="boundary", run_workers=False
    )
    definition = ServiceDefinition(
        title="boundary", migrations_package="souk_notifications", routers=[failing_router()]
    )
    app = create_service_app(settings, definition)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with (
        served_by_uvicorn(app) as url,
        httpx.AsyncClient(base_url=url, limits=limits) as client,
    ):
        first = await client.get("/peer")
        assert first.status_code == 200

        failed = await client.get("/boom", headers={"X-Request-ID": "boom-1"})
        assert failed.status_code == 500
        assert failed.headers["content-type"] == "application/problem+json"
        assert failed.headers["x-request-id"] == "boom-1"
        assert failed.json()["correlation_id"] == "boom-1"
        assert failed.json()["code"] == "internal_error"
        assert "a bug below a route" not in failed.text

        after = await client.get("/peer")
        assert after.status_code == 200
        assert after.json()["port"] == first.json()["port"]  # the same connection
