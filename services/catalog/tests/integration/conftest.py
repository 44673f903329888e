"""Fixtures for catalog integration tests: a migrated database, the app in its lifespan
driven through httpx, and helpers to create categories and products."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from souk_catalog.config import CatalogSettings
from souk_catalog.main import create_app
from souk_common.db import Database
from souk_common.testing import service_test_settings


def make_settings(database_url: str, prefix: str, **overrides: Any) -> CatalogSettings:
    """Settings for a test app on its own database and stream prefix."""
    return service_test_settings(CatalogSettings, database_url, prefix, **{**overrides})


@pytest.fixture
async def database(migrated_database) -> AsyncIterator[Database]:
    """A :class:`Database` on the migrated test database (a few connections, shared by tasks)."""
    db = Database(await migrated_database("souk_catalog"), pool_size=8, max_overflow=0)
    try:
        yield db
    finally:
        await db.dispose()


async def start(
    migrated_database, running_app, redis_prefix, **overrides: Any
) -> httpx.AsyncClient:
    """An httpx client on a catalog app with these settings, running with its event workers."""
    url = await migrated_database("souk_catalog")
    return (await running_app(create_app, make_settings(url, redis_prefix, **overrides))).client


@pytest.fixture
async def client(migrated_database, running_app, redis_prefix) -> httpx.AsyncClient:
    """An httpx client on the catalog app, running with its event workers."""
    return await start(migrated_database, running_app, redis_prefix)


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
