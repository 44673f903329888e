"""Hostile input against every service: each text input the OpenAPI declares, fed a NUL.

Every service runs on its own migrated database and real Redis. The inputs are not listed by
hand: the test walks each service's OpenAPI (path and query parameters of type string, every
string leaf of a JSON request body), so a route added later is covered without a change here.
Every one must answer 422 problem+json naming the field, never a 500.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI

from souk_auth.config import AuthSettings
from souk_auth.main import create_app as create_auth
from souk_catalog.config import CatalogSettings
from souk_catalog.main import create_app as create_catalog
from souk_common.inputs import DB_INT_MAX
from souk_common.settings import ServiceSettings
from souk_common.testing import service_test_settings
from souk_notifications.config import NotificationsSettings
from souk_notifications.main import create_app as create_notifications
from souk_orders.config import OrdersSettings
from souk_orders.main import create_app as create_orders
from souk_payments.config import PaymentsSettings
from souk_payments.main import create_app as create_payments


@dataclass(frozen=True)
class Service:
    """How to run one service under test."""

    name: str
    create_app: Callable[[Any], FastAPI]
    settings: type[ServiceSettings]
    migrations: str


SERVICES = [
    Service("auth", create_auth, AuthSettings, "souk_auth"),
    Service("catalog", create_catalog, CatalogSettings, "souk_catalog"),
    Service("notifications", create_notifications, NotificationsSettings, "souk_notifications"),
    Service("orders", create_orders, OrdersSettings, "souk_orders"),
    Service("payments", create_payments, PaymentsSettings, "souk_payments"),
]
FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost_kib": 1024, "argon2_parallelism": 1}


@dataclass(frozen=True)
class TextInput:
    """One text input of an operation: where it goes and the field a 422 must name."""

    method: str
    path: str
    location: str  # "path", "query" or "body"
    name: str  # parameter name, or the dotted path of a body leaf

    @property
    def field(self) -> str:
        """The field the problem must name."""
        return "path" if self.location == "path" else f"{self.location}.{self.name}"


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _variants(schema: dict[str, Any], spec: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _resolve(schema, spec)
    options = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if options:
        return [v for option in options for v in _variants(option, spec)]
    return [schema]


def _is_text(schema: dict[str, Any], spec: dict[str, Any]) -> bool:
    return any(v.get("type") == "string" for v in _variants(schema, spec))


def _leaves(
    schema: dict[str, Any], spec: dict[str, Any], kind: str, depth: int = 0
) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """Yield the path (keys, ``0`` for an array item) and schema of every ``kind`` leaf."""
    if depth > 4:
        return
    for variant in _variants(schema, spec):
        if variant.get("type") == kind:
            yield (), variant
        elif variant.get("type") == "object":
            for key, sub in variant.get("properties", {}).items():
                for rest, leaf in _leaves(sub, spec, kind, depth + 1):
                    yield (key, *rest), leaf
        elif variant.get("type") == "array" and "items" in variant:
            for rest, leaf in _leaves(variant["items"], spec, kind, depth + 1):
                yield ("0", *rest), leaf


def _inputs(spec: dict[str, Any], kind: str) -> Iterator[tuple[TextInput, dict[str, Any]]]:
    """Every input of type ``kind`` of every operation (path, query, JSON body leaf)."""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] in ("path", "query"):
                    for variant in _variants(parameter["schema"], spec):
                        if variant.get("type") == kind:
                            location, name = parameter["in"], parameter["name"]
                            yield TextInput(method, path, location, name), variant
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body = content["application/json"]["schema"]
                for leaf, variant in _leaves(body, spec, kind):
                    if leaf:
                        yield TextInput(method, path, "body", ".".join(leaf)), variant


def text_inputs(spec: dict[str, Any]) -> list[TextInput]:
    """Every text input of every operation of ``spec``."""
    inputs = {text_input for text_input, _ in _inputs(spec, "string")}
    return sorted(inputs, key=lambda i: (i.path, i.method, i.location, i.name))


def _nested(leaf: list[str], value: object) -> object:
    if not leaf:
        return value
    head, rest = leaf[0], leaf[1:]
    return [_nested(rest, value)] if head == "0" else {head: _nested(rest, value)}


def request_of(text_input: TextInput, value: str) -> dict[str, Any]:
    """The httpx arguments that put ``value`` into ``text_input``."""
    url = text_input.path
    params: dict[str, str] = {}
    body = None
    for segment in url.split("/"):
        if segment.startswith("{"):
            mine = text_input.location == "path" and segment[1:-1] == text_input.name
            filler = quote(value, safe="") if mine else str(uuid.uuid4())
            url = url.replace(segment, filler)
    if text_input.location == "query":
        params[text_input.name] = value
    if text_input.location == "body":
        body = _nested(text_input.name.split("."), value)
    arguments: dict[str, Any] = {"method": text_input.method.upper(), "url": url, "params": params}
    if body is not None:
        arguments["json"] = body
    return arguments


async def _start(service: Service, migrated_database, redis_prefix, running_app):
    url = await migrated_database(service.migrations)
    overrides: dict[str, Any] = {"run_workers": False}
    if service.name == "auth":
        overrides |= {"cookie_secure": False, **FAST_ARGON2}
    settings = service_test_settings(service.settings, url, redis_prefix, **overrides)
    return await running_app(service.create_app, settings)


@pytest.mark.parametrize("service", SERVICES, ids=[s.name for s in SERVICES])
async def test_a_nul_in_any_text_input_is_a_422_naming_the_field(
    service: Service, migrated_database, redis_prefix, running_app, token_issuer, caplog
):
    running = await _start(service, migrated_database, redis_prefix, running_app)
    inputs = text_inputs(running.app.openapi())
    assert inputs, f"{service.name} declares no text input"
    headers = token_issuer.headers(uuid.uuid4(), "admin")
    failures = []
    for text_input in inputs:
        response = await running.client.request(**request_of(text_input, "a\x00b"), headers=headers)
        body = response.json() if response.content else {}
        fields = [e.get("field") for e in body.get("errors", [])]
        if (
            response.status_code != 422
            or response.headers["content-type"] != "application/problem+json"
            or text_input.field not in fields + [f.rsplit(".", 1)[0] for f in fields]
        ):
            failures.append((text_input, response.status_code, fields))
    assert not failures, failures
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("service", SERVICES, ids=[s.name for s in SERVICES])
def test_every_integer_input_is_bounded_to_the_database_range(service: Service):
    settings = service_test_settings(service.settings, "postgresql://x/y", "p:")
    spec = service.create_app(settings).openapi()
    unbounded = [
        (integer_input, schema)
        for integer_input, schema in _inputs(spec, "integer")
        if not (
            schema.get("minimum", -DB_INT_MAX - 2) >= -DB_INT_MAX - 1
            and schema.get("maximum", DB_INT_MAX + 1) <= DB_INT_MAX
        )
    ]
    assert not unbounded


async def test_an_offset_beyond_the_database_range_is_a_422_naming_it(
    migrated_database, redis_prefix, running_app, token_issuer
):
    running = await _start(SERVICES[0], migrated_database, redis_prefix, running_app)
    headers = token_issuer.headers(uuid.uuid4(), "admin")
    for offset in (DB_INT_MAX + 1, 10**40, -1):
        response = await running.client.get(
            "/api/auth/users", params={"offset": offset}, headers=headers
        )
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["query.offset"]
    largest = await running.client.get(
        "/api/auth/users", params={"offset": DB_INT_MAX}, headers=headers
    )
    assert largest.status_code == 200, largest.text
    assert largest.json()["items"] == []


def _forged_cursor(sort: str, kind: str, key: str) -> str:
    raw = json.dumps([sort, kind, key, str(uuid.uuid4())]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


FAR_CURSORS = [
    (
        "catalog",
        "/api/catalog/products",
        {"sort": "newest"},
        ("newest", "t", "0001-01-01T00:00:00+14:00"),
    ),
    ("catalog", "/api/catalog/products", {"sort": "price_asc"}, ("price_asc", "d", "1e999999")),
    ("catalog", "/api/catalog/products", {"q": "x"}, ("relevance", "f", "1e999999")),
    ("orders", "/api/orders", {}, ("newest", "t", "9999-12-31T23:59:59-14:00")),
    ("notifications", "/api/notifications", {}, ("newest", "t", "9999-12-31T23:59:59-14:00")),
]


@pytest.mark.parametrize(
    ("name", "path", "params", "cursor"),
    FAR_CURSORS,
    ids=[f"{c[0]}-{c[3][0]}" for c in FAR_CURSORS],
)
async def test_a_cursor_beyond_any_range_is_a_422_naming_it(
    name, path, params, cursor, migrated_database, redis_prefix, running_app, token_issuer
):
    service = next(s for s in SERVICES if s.name == name)
    running = await _start(service, migrated_database, redis_prefix, running_app)
    response = await running.client.get(
        path,
        params=params | {"cursor": _forged_cursor(*cursor)},
        headers=token_issuer.headers(uuid.uuid4()),
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["query.cursor"]


@pytest.mark.parametrize("path", ["/api/auth/refresh", "/api/auth/logout"])
async def test_a_nul_in_the_refresh_cookie_is_a_422_naming_it(
    path, migrated_database, redis_prefix, running_app
):
    running = await _start(SERVICES[0], migrated_database, redis_prefix, running_app)
    response = await running.client.post(path, headers={"Cookie": 'refresh_token="a\\000b"'})
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["cookie.refresh_token"]
