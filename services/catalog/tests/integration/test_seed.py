"""The demo catalog: the seller's id comes from auth's HTTP API; a second run creates nothing."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import func, select

from souk_catalog.config import CatalogSettings
from souk_catalog.models import Category, Product
from souk_catalog.seed import DEMO_PASSWORD, DEMO_SELLER_EMAIL, seed_demo_catalog
from souk_common.testing import service_test_settings


def fake_auth(seller_id: uuid.UUID) -> httpx.AsyncClient:
    """An httpx client whose transport plays auth's login and /me."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/auth/login":
            body = request.read().decode()
            assert DEMO_SELLER_EMAIL in body
            assert DEMO_PASSWORD in body
            return httpx.Response(200, json={"access_token": "t0ken", "token_type": "bearer"})
        if request.url.path == "/api/auth/me":
            assert request.headers["authorization"] == "Bearer t0ken"
            return httpx.Response(200, json={"id": str(seller_id), "role": "seller"})
        return httpx.Response(404)

    return httpx.AsyncClient(transport=httpx.MockTransport(handle))


async def test_seed_creates_the_demo_catalog_once(database, migrated_database, redis_prefix):
    seller = uuid.uuid4()
    settings = service_test_settings(
        CatalogSettings,
        await migrated_database("souk_catalog"),
        redis_prefix,
        auth_jwks_url="http://127.0.0.1:8001/.well-known/jwks.json",
    )
    assert settings.auth_base_url() == "http://127.0.0.1:8001"
    for _ in range(2):
        async with fake_auth(seller) as http:
            await seed_demo_catalog(settings, http)
        async with database.sessions() as session:
            products = await session.scalar(select(func.count()).select_from(Product))
            sellers = set((await session.scalars(select(Product.seller_id))).all())
            top_level = await session.scalar(
                select(func.count()).select_from(Category).where(Category.parent_id.is_(None))
            )
        assert products >= 12
        assert sellers == {seller}
        assert top_level >= 4
    async with database.sessions() as session:
        used = await session.scalar(select(func.count(func.distinct(Product.category_id))))
    assert used >= 4
