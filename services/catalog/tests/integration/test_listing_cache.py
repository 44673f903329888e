"""The listing cache through the real app: what is served from it, and what empties it."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update

from souk_catalog.models import Product
from souk_common.db import Database

from .conftest import Catalog, start

LONG_TTL = 300.0  # long enough that nothing expires during a test


@pytest.fixture
async def cached(migrated_database, running_app, redis_prefix, token_issuer) -> Catalog:
    """A :class:`Catalog` whose listing pages stay cached for the whole test."""
    http = await start(migrated_database, running_app, redis_prefix, listing_cache_seconds=LONG_TTL)
    helper = Catalog(http, token_issuer)
    await helper.category("home")
    return helper


async def stock_in_listing(catalog: Catalog, product_id: str, **params: str) -> int | None:
    """Return the product's stock as the listing shows it (``None`` when not listed)."""
    response = await catalog.client.get("/api/catalog/products", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    stock = {item["id"]: item["stock"] for item in response.json()["items"]}
    return stock.get(product_id)


async def set_stock(database: Database, product_id: str, stock: int) -> None:
    """Change a product's stock behind the app's back, as a reservation in a replica would."""
    async with database.sessions() as session, session.begin():
        await session.execute(
            update(Product).where(Product.id == uuid.UUID(product_id)).values(stock=stock)
        )


async def test_a_stock_change_elsewhere_waits_for_the_ttl(cached: Catalog, database: Database):
    product = await cached.product(stock=10)
    assert await stock_in_listing(cached, product["id"]) == 10
    await set_stock(database, product["id"], 3)
    assert await stock_in_listing(cached, product["id"]) == 10  # the cached page
    # A single product is never cached, and other listings load on their own.
    single = await cached.client.get(f"/api/catalog/products/{product['id']}")
    assert single.json()["stock"] == 3
    assert await stock_in_listing(cached, product["id"], sort="price_asc") == 3


async def test_a_write_through_the_api_empties_the_cache_once_committed(
    cached: Catalog, database: Database
):
    product = await cached.product(stock=10)
    assert await stock_in_listing(cached, product["id"]) == 10
    await set_stock(database, product["id"], 3)
    response = await cached.client.patch(
        f"/api/catalog/products/{product['id']}",
        json={"price": "26.00"},
        headers=cached.as_(cached.seller),
    )
    assert response.status_code == 200, response.text
    assert await stock_in_listing(cached, product["id"]) == 3
    created = await cached.product(name="Kettle")
    assert await stock_in_listing(cached, created["id"]) == 10
    deleted = await cached.client.delete(
        f"/api/catalog/products/{created['id']}", headers=cached.as_(cached.seller)
    )
    assert deleted.status_code == 204
    assert await stock_in_listing(cached, created["id"]) is None


async def test_a_failed_write_leaves_the_cache_alone(cached: Catalog, database: Database):
    product = await cached.product(stock=10)
    assert await stock_in_listing(cached, product["id"]) == 10
    await set_stock(database, product["id"], 3)
    stranger = cached.as_(uuid.uuid4())
    response = await cached.client.patch(
        f"/api/catalog/products/{product['id']}", json={"price": "1.00"}, headers=stranger
    )
    assert response.status_code == 403
    assert await stock_in_listing(cached, product["id"]) == 10


async def test_sellers_own_listing_and_admins_bypass_the_cache(cached: Catalog, database):
    product = await cached.product(stock=10)
    seller = str(cached.seller)
    assert await stock_in_listing(cached, product["id"], seller_id=seller) == 10
    await set_stock(database, product["id"], 3)
    # Anyone else asking for this seller's products gets the cached page ...
    assert await stock_in_listing(cached, product["id"], seller_id=seller) == 10
    buyer = cached.as_(uuid.uuid4(), "buyer")
    response = await cached.client.get(
        "/api/catalog/products", params={"seller_id": seller}, headers=buyer
    )
    assert response.json()["items"][0]["stock"] == 10
    # ... the seller (who also sees inactive products) and admins read the database.
    for headers in (cached.as_(cached.seller), cached.as_(cached.admin, "admin")):
        response = await cached.client.get(
            "/api/catalog/products", params={"seller_id": seller}, headers=headers
        )
        assert response.json()["items"][0]["stock"] == 3


async def test_bad_filters_are_refused_before_the_cache(cached: Catalog):
    response = await cached.client.get("/api/catalog/products", params={"sort": "relevance"})
    assert response.status_code == 422
    assert "query.sort" in response.text
    response = await cached.client.get(
        "/api/catalog/products", params={"min_price": "5", "max_price": "1"}
    )
    assert response.status_code == 422
    assert "query.max_price" in response.text
