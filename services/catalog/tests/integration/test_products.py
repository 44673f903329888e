"""Sellers manage their own products; anyone reads; bad input is problem+json naming the field."""

from __future__ import annotations

import uuid


async def test_seller_creates_reads_updates_and_soft_deletes_a_product(catalog):
    created = await catalog.product(name="  Brass kettle ", price=19.9, stock=3)
    assert created["name"] == "Brass kettle"
    assert created["price"] == "19.90"
    assert created["seller_id"] == str(catalog.seller)
    assert created["category"] == "home"

    public = await catalog.client.get(f"/api/catalog/products/{created['id']}")
    assert public.status_code == 200
    assert public.json()["stock"] == 3

    patched = await catalog.client.patch(
        f"/api/catalog/products/{created['id']}",
        json={"price": "21.50", "category": "kitchen"},
        headers=catalog.as_(catalog.seller),
    )
    assert patched.status_code == 200
    assert (patched.json()["price"], patched.json()["category"]) == ("21.50", "kitchen")
    assert patched.json()["name"] == "Brass kettle"  # untouched fields keep their values

    deleted = await catalog.client.delete(
        f"/api/catalog/products/{created['id']}", headers=catalog.as_(catalog.seller)
    )
    assert deleted.status_code == 204
    gone = await catalog.client.get(f"/api/catalog/products/{created['id']}")
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    listing = await catalog.client.get("/api/catalog/products")
    assert listing.json()["items"] == []


async def test_only_the_owner_or_an_admin_may_change_a_product(catalog):
    product = await catalog.product()
    url = f"/api/catalog/products/{product['id']}"
    stranger = catalog.as_(uuid.uuid4(), "seller")
    response = await catalog.client.patch(url, json={"stock": 0}, headers=stranger)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert (await catalog.client.delete(url, headers=stranger)).status_code == 403
    assert (await catalog.client.patch(url, json={"stock": 0})).status_code == 401
    admin = catalog.as_(catalog.admin, "admin")
    response = await catalog.client.patch(url, json={"stock": 7}, headers=admin)
    assert response.status_code == 200
    assert response.json()["stock"] == 7


async def test_anonymous_and_buyers_cannot_create(catalog):
    body = {"name": "X", "price": "1.00", "currency": "EUR", "category": "home", "stock": 1}
    anonymous = await catalog.client.post("/api/catalog/products", json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    buyer = await catalog.client.post(
        "/api/catalog/products", json=body, headers=catalog.as_(uuid.uuid4(), "buyer")
    )
    assert buyer.status_code == 403


async def test_malformed_bodies_name_the_field(catalog):
    headers = catalog.as_(catalog.seller)
    base = {"name": "Mug", "price": "5.00", "currency": "EUR", "category": "home", "stock": 1}
    cases = {
        "body.price": {"price": "0"},
        "body.currency": {"currency": "EURO"},
        "body.stock": {"stock": -1},
        "body.name": {"name": ""},
        "body.category": {"category": "does-not-exist"},
    }
    for field, change in cases.items():
        response = await catalog.client.post(
            "/api/catalog/products", json={**base, **change}, headers=headers
        )
        assert response.status_code == 422, (field, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [error["field"] for error in response.json()["errors"]], response.json()
    too_precise = await catalog.client.post(
        "/api/catalog/products", json={**base, "price": "1.001"}, headers=headers
    )
    assert too_precise.json()["errors"][0]["field"] == "body.price"
    unknown_code = await catalog.client.post(
        "/api/catalog/products", json={**base, "currency": "XYZ"}, headers=headers
    )
    assert unknown_code.json()["errors"][0]["field"] == "body.currency"
    product = await catalog.product()
    nulled = await catalog.client.patch(
        f"/api/catalog/products/{product['id']}", json={"name": None}, headers=headers
    )
    assert nulled.status_code == 422
    assert nulled.json()["errors"][0]["field"] == "body.name"


async def test_inactive_products_are_visible_to_their_seller_only(catalog):
    hidden = await catalog.product(name="Prototype", active=False)
    await catalog.product(name="Released")
    public = await catalog.client.get("/api/catalog/products")
    assert [item["name"] for item in public.json()["items"]] == ["Released"]
    own = await catalog.client.get(
        "/api/catalog/products",
        params={"seller_id": str(catalog.seller)},
        headers=catalog.as_(catalog.seller),
    )
    assert {item["name"] for item in own.json()["items"]} == {"Prototype", "Released"}
    url = f"/api/catalog/products/{hidden['id']}"
    assert (await catalog.client.get(url)).status_code == 404
    assert (await catalog.client.get(url, headers=catalog.as_(catalog.seller))).status_code == 200


async def test_categories_are_public_and_nest_one_level(catalog):
    response = await catalog.client.get("/api/catalog/categories")
    assert response.status_code == 200
    tree = {item["slug"]: [child["slug"] for child in item["children"]] for item in response.json()}
    assert tree == {"books": [], "home": ["kitchen"]}
    too_deep = await catalog.client.post(
        "/api/catalog/categories",
        json={"slug": "teapots", "name": "Teapots", "parent": "kitchen"},
        headers=catalog.as_(catalog.admin, "admin"),
    )
    assert too_deep.status_code == 422
    assert too_deep.json()["errors"][0]["field"] == "body.parent"
    by_seller = await catalog.client.post(
        "/api/catalog/categories",
        json={"slug": "toys", "name": "Toys"},
        headers=catalog.as_(catalog.seller),
    )
    assert by_seller.status_code == 403
