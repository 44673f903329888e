"""Every response of a service app follows one HTTP policy: security headers, HEAD, Allow.

The app comes from the factory with real PostgreSQL and Redis in its lifespan; what only a
real server shows (uvicorn's ``server`` header, a HEAD body on the wire, keep-alive after it)
is checked through uvicorn with the services' options.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import APIRouter

from souk_common.app import ServiceDefinition, create_service_app
from souk_common.errors import NotFoundError
from souk_common.settings import ServiceSettings
from souk_common.testing import running_app, served_by_uvicorn, service_test_settings


def routes() -> APIRouter:
    """Routes answering each kind of response: 200, a Souk error, a 500, a 422."""
    router = APIRouter()

    @router.get("/thing")
    async def thing() -> dict[str, str]:
        return {"thing": "yes"}

    @router.get("/missing")
    async def missing() -> None:
        raise NotFoundError("no such thing")

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    @router.get("/number")
    async def number(n: int) -> dict[str, int]:
        return {"n": n}

    @router.post("/things")
    async def create_thing() -> dict[str, str]:
        return {"created": "yes"}

    return router


def create_app(settings: ServiceSettings):
    """A service app with :func:`routes`."""
    definition = ServiceDefinition(
        title="policy", migrations_package="souk_notifications", routers=[routes()]
    )
    return create_service_app(settings, definition)


@pytest.fixture
def settings(database_url, redis_prefix) -> ServiceSettings:
    """Settings of the test app."""
    return service_test_settings(
        ServiceSettings, database_url, redis_prefix, service_name="policy", run_workers=False
    )


REQUESTS = [
    ("GET", "/thing", 200),
    ("GET", "/missing", 404),
    ("GET", "/nowhere", 404),
    ("GET", "/boom", 500),
    ("GET", "/number?n=x", 422),
    ("GET", "/number?n=%00", 422),
    ("DELETE", "/thing", 405),
    ("GET", "/healthz", 200),
    ("GET", "/openapi.json", 200),
]


@pytest.mark.parametrize(("method", "path", "status"), REQUESTS)
async def test_every_response_carries_the_security_headers(settings, method, path, status):
    async with running_app(create_app, settings) as running:
        plain = await running.client.request(method, path)
        assert plain.status_code == status, plain.text
        assert plain.headers["x-content-type-options"] == "nosniff"
        assert plain.headers["x-frame-options"] == "DENY"
        assert plain.headers["content-security-policy"] == "frame-ancestors 'none'"
        assert "no-store" not in plain.headers.get("cache-control", "")
        assert "strict-transport-security" not in plain.headers

        authorized = await running.client.request(
            method, path, headers={"Authorization": f"Bearer {uuid.uuid4().hex}"}
        )
        assert authorized.headers["cache-control"] == "no-store"


async def test_hsts_only_when_the_request_came_over_tls(settings):
    async with running_app(create_app, settings) as running:
        client = running.client
        forwarded = await client.get("/thing", headers={"X-Forwarded-Proto": "https"})
        assert forwarded.headers["strict-transport-security"].startswith("max-age=")
        plain = await client.get("/thing", headers={"X-Forwarded-Proto": "http"})
        assert "strict-transport-security" not in plain.headers
        transport = httpx.ASGITransport(app=running.app)
        async with httpx.AsyncClient(transport=transport, base_url="https://test") as tls:
            assert "strict-transport-security" in (await tls.get("/thing")).headers


async def test_head_answers_where_get_does_and_405_carries_allow(settings):
    async with running_app(create_app, settings) as running:
        client = running.client
        get = await client.get("/thing")
        head = await client.head("/thing")
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == get.headers["content-length"]
        assert head.headers["x-content-type-options"] == "nosniff"
        assert (await client.head("/healthz")).status_code == 200

        refused = await client.delete("/thing")
        assert refused.status_code == 405
        assert refused.headers["content-type"] == "application/problem+json"
        assert set(refused.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}
        post_only = await client.get("/things")
        assert post_only.status_code == 405
        assert post_only.headers["allow"] == "POST"
        assert (await client.head("/things")).headers["allow"] == "POST"


async def test_uvicorn_sends_no_server_header_and_head_keeps_the_connection(settings):
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    server = served_by_uvicorn(create_app(settings))
    async with server as url, httpx.AsyncClient(base_url=url, limits=limits) as client:
        head = await client.head("/thing")
        assert head.status_code == 200
        assert "server" not in head.headers
        assert head.headers["x-frame-options"] == "DENY"
        after = await client.get("/thing")
        assert after.json() == {"thing": "yes"}
        assert "server" not in after.headers
