"""Public listing: full-text search, filters, sorting and keyset pagination."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from souk_common.pagination import Cursor


async def walk(client, params: dict, limit: int, on_page=None) -> list[str]:
    """Follow ``next_cursor`` to the end and return every id seen, in order."""
    seen: list[str] = []
    cursor = None
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/api/catalog/products", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        seen.extend(item["id"] for item in page["items"])
        if on_page is not None:
            await on_page()
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


async def test_text_search_filters_and_ranks(catalog):
    await catalog.product(name="Green tea", description="Sencha leaves", price="8.00")
    await catalog.product(name="Teapot", description="Holds green tea", price="30.00")
    await catalog.product(
        name="Novel", description="A story about tea", price="12.00", category="books"
    )
    await catalog.product(name="Kettle", description="Boils water", category="kitchen")
    other_seller = uuid.uuid4()
    await catalog.product(
        seller=other_seller, name="Green chair", description="Wood", price="40.00"
    )

    async def names(**params) -> list[str]:
        response = await catalog.client.get("/api/catalog/products", params=params)
        assert response.status_code == 200, response.text
        return [item["name"] for item in response.json()["items"]]

    assert await names(q="green tea") == ["Green tea", "Teapot"]  # name match ranks first
    assert set(await names(q="teas")) == {"Green tea", "Teapot", "Novel"}  # stemming
    assert set(await names(category="home")) == {"Green tea", "Teapot", "Kettle", "Green chair"}
    assert await names(category="kitchen") == ["Kettle"]
    assert await names(seller_id=str(other_seller)) == ["Green chair"]
    assert await names(min_price="10", max_price="29.99", sort="price_asc") == ["Novel", "Kettle"]
    assert (await names(sort="price_desc"))[:2] == ["Green chair", "Teapot"]
    assert (await names(sort="newest"))[0] == "Green chair"


async def test_sql_looking_search_text_is_just_text(catalog):
    await catalog.product(name="Drop table", description="A folding table for products")
    for text in ("'; DROP TABLE products; --", "1' OR '1'='1", "\\x00 & | ! <->", "tea)"):
        response = await catalog.client.get("/api/catalog/products", params={"q": text})
        assert response.status_code == 200, (text, response.text)
    response = await catalog.client.get(
        "/api/catalog/products", params={"q": "'; DROP TABLE products; --"}
    )
    assert [item["name"] for item in response.json()["items"]] == ["Drop table"]
    assert (await catalog.client.get("/api/catalog/products")).json()["items"]


async def test_bad_query_parameters_are_named(catalog):
    for params, field in (
        ({"min_price": "5", "max_price": "1"}, "query.max_price"),
        ({"sort": "relevance"}, "query.sort"),
        ({"sort": "cheapest"}, "query.sort"),
        ({"cursor": "not-a-cursor"}, "query.cursor"),
        ({"cursor": Cursor("newest", datetime(2026, 1, 1), uuid.uuid4()).encode()}, "query.cursor"),
        ({"cursor": Cursor("newest", Decimal("1e20"), uuid.uuid4()).encode()}, "query.cursor"),
        ({"cursor": Cursor("newest", Decimal("1.5"), uuid.uuid4()).encode()}, "query.cursor"),
        ({"seller_id": "x"}, "query.seller_id"),
        ({"limit": 0}, "query.limit"),
    ):
        response = await catalog.client.get("/api/catalog/products", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == field


async def test_pagination_over_a_growing_listing_returns_each_product_once(catalog):
    for sort, params in (
        ("newest", {}),
        ("price_asc", {}),
        ("price_desc", {}),
        ("relevance", {"q": "lamp"}),
    ):
        before = [
            (await catalog.product(name=f"Lamp {sort} {n}", price=f"{10 + n % 4}.00"))["id"]
            for n in range(23)
        ]
        counter = iter(range(1000))

        async def grow(sort=sort, counter=counter) -> None:
            for _ in range(3):
                n = next(counter)
                await catalog.product(name=f"Lamp {sort} new {n}", price=f"{10 + n % 5}.50")

        seen = await walk(catalog.client, {"sort": sort, **params}, 4, on_page=grow)
        assert len(seen) == len(set(seen)), f"duplicates with sort={sort}"
        assert set(before) <= set(seen), f"gaps with sort={sort}"
