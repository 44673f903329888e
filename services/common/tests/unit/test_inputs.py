"""The request guard: a NUL anywhere text enters is a 422 naming the field; the rest passes."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from souk_common.errors import install_error_handlers
from souk_common.inputs import TextInputGuardMiddleware, nul_in_cookies, nul_in_json, nul_in_query


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (b"q=%00", "query.q"),
        (b"a=1&email=x%00y", "query.email"),
        (b"na%00me=1", "query.na\\u0000me"),
        (b"q=%2500", None),  # an escaped percent sign, not a NUL
        (b"q=plain", None),
    ],
)
def test_a_nul_in_the_query_names_its_parameter(query, field):
    assert nul_in_query(query) == field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"name": "a\\u0000b"}', "body.name"),
        (b'{"items": [{"sku": "x"}, {"sku": "\\u0000"}]}', "body.items.1.sku"),
        (b'{"a\\u0000": 1}', "body.a\\u0000"),
        (b'{"name": "a\\\\u0000b"}', None),  # an escaped backslash, then "u0000"
        (b'{"name": "a\\u0000', None),  # not JSON: the route's validation answers
        (b'{"name": "ok"}', None),
    ],
)
def test_a_nul_in_a_json_body_names_its_path(body, field):
    assert nul_in_json(body) == field


def test_a_nul_spelled_in_a_quoted_cookie_names_it():
    scope = {"headers": [(b"cookie", b'refresh_token="\\000x"; other=1')]}
    assert nul_in_cookies(scope) == "cookie.refresh_token"
    assert nul_in_cookies({"headers": [(b"cookie", b"refresh_token=abc")]}) is None


class Thing(BaseModel):
    """A body with text in it."""

    name: str


def guarded_app() -> FastAPI:
    """An app with the guard and the problem handlers, echoing what it received."""
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(TextInputGuardMiddleware)

    @app.post("/things/{slug}")
    async def create(slug: str, thing: Thing, q: str = "") -> dict[str, str]:
        return {"slug": slug, "name": thing.name, "q": q}

    return app


async def test_the_guard_refuses_with_a_problem_and_replays_clean_bodies():
    transport = httpx.ASGITransport(app=guarded_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        clean = await client.post("/things/s", params={"q": "é"}, json={"name": "tea ☕"})
        assert clean.json() == {"slug": "s", "name": "tea ☕", "q": "é"}

        for kwargs, field in [
            ({"url": "/things/s", "json": {"name": "a\x00"}}, "body.name"),
            ({"url": "/things/s", "params": {"q": "\x00"}, "json": {"name": "x"}}, "query.q"),
            ({"url": "/things/a%00b", "json": {"name": "x"}}, "path"),
        ]:
            refused = await client.post(**kwargs)
            assert refused.status_code == 422
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["errors"][0]["field"] == field
            assert refused.json()["detail"] == f"{field}: must not contain a NUL character"
