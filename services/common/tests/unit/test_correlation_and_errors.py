"""Correlation IDs on responses, problem+json errors naming fields, route-template metrics."""

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from pydantic import BaseModel, EmailStr, Field

from souk_common.correlation import (
    CorrelationIdMiddleware,
    correlated_http_client,
    get_correlation_id,
)
from souk_common.errors import ConflictError, RateLimitedError, install_error_handlers
from souk_common.metrics import HttpMetricsMiddleware, metrics_router


class Signup(BaseModel):
    email: EmailStr
    age: int = Field(ge=18)


def build_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(metrics_router())

    @app.get("/api/things/{thing_id}")
    async def get_thing(thing_id: int) -> dict:
        return {"id": thing_id, "correlation_id": get_correlation_id()}

    @app.post("/api/signup")
    async def signup(body: Signup) -> dict:
        return {"ok": True}

    @app.get("/api/conflict")
    async def conflict() -> dict:
        raise ConflictError("already there")

    @app.get("/api/limited")
    async def limited() -> dict:
        raise RateLimitedError(42)

    @app.get("/api/boom")
    async def boom() -> dict:
        raise RuntimeError("secret internals")

    app.add_middleware(HttpMetricsMiddleware)
    app.add_middleware(CorrelationIdMiddleware)
    return app


@pytest.fixture
async def client():
    transport = httpx.ASGITransport(app=build_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_request_id_is_honoured_and_echoed(client):
    response = await client.get("/api/things/1", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.json()["correlation_id"] == "abc-123"


async def test_request_id_is_generated_when_missing_or_malformed(client):
    first = await client.get("/api/things/1")
    bad = await client.get("/api/things/1", headers={"X-Request-ID": "bad id\twith spaces"})
    assert len(first.headers["x-request-id"]) == 32
    assert bad.headers["x-request-id"] != "bad id\twith spaces"
    assert bad.json()["correlation_id"] == bad.headers["x-request-id"]


async def test_validation_errors_are_problem_json_naming_fields(client):
    response = await client.post("/api/signup", json={"email": "not-an-email", "age": 12})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_failed"
    assert body["type"].endswith("/validation_failed")
    assert {e["field"] for e in body["errors"]} == {"body.email", "body.age"}
    assert "body.email" in body["detail"]


async def test_domain_errors_carry_code_status_and_headers(client):
    conflict = await client.get("/api/conflict", headers={"X-Request-ID": "c-1"})
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "conflict"
    assert conflict.json()["correlation_id"] == "c-1"
    limited = await client.get("/api/limited")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "42"


async def test_unexpected_errors_hide_internals(client):
    response = await client.get("/api/boom")
    assert response.status_code == 500
    assert "secret internals" not in response.text
    assert response.json()["code"] == "internal_error"


async def test_unknown_route_is_problem_json(client):
    response = await client.get("/nope")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_metrics_are_labelled_by_route_template(client):
    def count(route: str, status: str) -> float:
        value = REGISTRY.get_sample_value(
            "http_server_request_duration_seconds_count",
            {"method": "GET", "route": route, "status_code": status},
        )
        return value or 0.0

    before = count("/api/things/{thing_id}", "200")
    await client.get("/api/things/7")
    await client.get("/api/things/8")
    assert count("/api/things/{thing_id}", "200") == before + 2
    assert (
        REGISTRY.get_sample_value(
            "http_server_request_duration_seconds_count",
            {"method": "GET", "route": "/api/things/7", "status_code": "200"},
        )
        is None
    )
    text = (await client.get("/metrics")).text
    assert 'route="/api/things/{thing_id}"' in text


async def test_outgoing_http_calls_carry_the_correlation_id():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["id"] = request.headers.get("x-request-id")
        return httpx.Response(200)

    from souk_common.correlation import correlation_scope

    async with correlated_http_client(transport=httpx.MockTransport(handler)) as http:
        with correlation_scope("outgoing-1"):
            await http.get("http://peer/api")
    assert seen["id"] == "outgoing-1"


def test_an_extension_may_not_overwrite_a_member_of_the_problem():
    from souk_common.errors import RESERVED_MEMBERS, ConflictError

    for member in sorted(RESERVED_MEMBERS):
        with pytest.raises(TypeError, match=member):
            ConflictError("clash", **{member: "x"})
    assert ConflictError("fine", order_status="CANCELLED").extensions == {
        "order_status": "CANCELLED"
    }
