"""Fixtures for catalog integration tests: a migrated database, the app in its lifespan
driven through httpx, and helpers to create categories and products."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from souk_catalog.config import CatalogSettings
from souk_catalog.main import create_app
from souk_common.db import Database
from souk_common.migrations import upgrade_to_head
from souk_common.testing import service_test_settings


def make_settings(database_url: str, prefix: str, **overrides: Any) -> CatalogSettings:
    """Settings for a test app on its own database and stream prefix."""
    return service_test_settings(CatalogSettings, database_url, prefix, **{**overrides})


@pytest.fixture
async def migrated_url(database_url: str) -> str:
    """The test database, migrated to head."""
    await upgrade_to_head("souk_catalog", database_url)
    return database_url


@pytest.fixture
async def database(migrated_url: str) -> AsyncIterator[Database]:
    """A :class:`Database` on the migrated test database (enough connections for 50 orders)."""
    db = Database(migrated_url, pool_size=30)
    try:
        yield db
    finally:
        await db.dispose()


@asynccontextmanager
async def running_client(
    settings: CatalogSettings, token_issuer: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on a catalog app with ``settings``, running with its event workers."""
    app = create_app(settings)
    async with LifespanManager(app):
        app.state.token_verifier = token_issuer.verifier
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest.fixture
async def client(migrated_url, redis_prefix, token_issuer) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the catalog app, running with its event workers."""
    async with running_client(make_settings(migrated_url, redis_prefix), token_issuer) as http:
        yield http


class Catalog:
    """Shortcuts for the calls most tests make."""

    def __init__(self, client: httpx.AsyncClient, token_issuer: Any) -> None:
        self.client = client
        self.tokens = token_issuer
        self.admin = uuid.uuid4()
        self.seller = uuid.uuid4()

    def as_(self, user: uuid.UUID, role: str = "seller") -> dict[str, str]:
        """Headers for ``user`` acting with ``role``."""
        return self.tokens.headers(user, role)

    async def category(self, slug: str, parent: str | None = None) -> None:
        """Create a category as an admin."""
        body = {"slug": slug, "name": slug.title(), "parent": parent}
        response = await self.client.post(
            "/api/catalog/categories", json=body, headers=self.as_(self.admin, "admin")
        )
        assert response.status_code == 201, response.text

    async def product(self, seller: uuid.UUID | None = None, **fields: Any) -> dict[str, Any]:
        """Create a product (defaults for every field not given) and return it."""
        body = {
            "name": "Teapot",
            "description": "A cast iron teapot",
            "price": "25.00",
            "currency": "EUR",
            "category": "home",
            "stock": 10,
            **fields,
        }
        response = await self.client.post(
            "/api/catalog/products", json=body, headers=self.as_(seller or self.seller)
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


@pytest.fixture
async def catalog(client, token_issuer) -> Catalog:
    """A :class:`Catalog` with categories ``home`` (child ``kitchen``) and ``books``."""
    helper = Catalog(client, token_issuer)
    await helper.category("home")
    await helper.category("kitchen", parent="home")
    await helper.category("books")
    return helper
