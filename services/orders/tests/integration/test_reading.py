"""Reading orders: owners and admins only (404 for others), listing with pages and filters."""

from __future__ import annotations

import uuid


async def test_another_buyers_order_is_not_found(shop):
    order = await shop.placed()
    stranger = uuid.uuid4()
    for path in (f"/api/orders/{order['id']}", f"/api/orders/{uuid.uuid4()}"):
        response = await shop.client.get(path, headers=shop.as_(stranger))
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    cancel = await shop.client.post(f"/api/orders/{order['id']}/cancel", headers=shop.as_(stranger))
    assert cancel.status_code == 404
    feed = await shop.client.get(f"/api/orders/{order['id']}/events", headers=shop.as_(stranger))
    assert feed.status_code == 404
    assert (await shop.get(order["id"])).json()["id"] == order["id"]
    admin = await shop.get(order["id"], shop.admin, "admin")
    assert admin.status_code == 200


async def test_listing_pages_filters_and_admin_view(shop):
    other = uuid.uuid4()
    mine = [(await shop.placed())["id"] for _ in range(5)]
    theirs = (await shop.placed(buyer=other))["id"]
    await shop.reject({**(await shop.get(mine[0])).json()})
    await shop.wait_status(mine[0], "REJECTED")

    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (
            await shop.client.get("/api/orders", params=params, headers=shop.as_(shop.buyer))
        ).json()
        assert len(page["items"]) <= 2
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(mine))  # newest first, each once, only the caller's

    pending = await shop.client.get(
        "/api/orders", params={"status": "PENDING"}, headers=shop.as_(shop.buyer)
    )
    assert {o["id"] for o in pending.json()["items"]} == set(mine[1:])
    rejected = await shop.client.get(
        "/api/orders", params={"status": "REJECTED"}, headers=shop.as_(shop.buyer)
    )
    assert [o["id"] for o in rejected.json()["items"]] == [mine[0]]
    bad = await shop.client.get(
        "/api/orders", params={"status": "LOST"}, headers=shop.as_(shop.buyer)
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.status"
    bad_cursor = await shop.client.get(
        "/api/orders", params={"cursor": "%%%"}, headers=shop.as_(shop.buyer)
    )
    assert bad_cursor.status_code == 422

    everyone = await shop.client.get(
        "/api/orders", params={"limit": 100}, headers=shop.as_(shop.admin, "admin")
    )
    assert {o["id"] for o in everyone.json()["items"]} == {*mine, theirs}
    one_buyer = await shop.client.get(
        "/api/orders", params={"buyer_id": str(other)}, headers=shop.as_(shop.admin, "admin")
    )
    assert [o["id"] for o in one_buyer.json()["items"]] == [theirs]
    ignored = await shop.client.get(
        "/api/orders", params={"buyer_id": str(other)}, headers=shop.as_(shop.buyer)
    )
    assert {o["id"] for o in ignored.json()["items"]} == set(mine)  # buyers see only theirs
