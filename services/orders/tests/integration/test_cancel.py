"""The buyer's cancel: allowed while PENDING or RESERVED, 409 once final."""

from __future__ import annotations


async def test_buyer_cancels_pending_and_reserved_orders_but_not_final_ones(shop):
    pending = await shop.placed()
    reserved = await shop.placed()
    await shop.reserve(reserved)
    await shop.wait_status(reserved["id"], "RESERVED")
    for order in (pending, reserved):
        response = await shop.client.post(
            f"/api/orders/{order['id']}/cancel", headers=shop.as_(shop.buyer)
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "CANCELLED"
        assert response.json()["status_history"][-1]["reason"] == "buyer_cancelled"
        events = await shop.events_for(order["id"], 2)
        assert events[-1]["type"] == "order.cancelled"
        assert events[-1]["data"]["reason"] == "buyer_cancelled"
    again = await shop.client.post(
        f"/api/orders/{pending['id']}/cancel", headers=shop.as_(shop.buyer)
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["reason"] == "order_not_cancellable"
    assert again.json()["status"] == 409  # RFC 9457's member, never an extension's
    assert again.json()["order_status"] == "CANCELLED"
    # A payment that was already under way is ignored (payments refunds on order.cancelled).
    await shop.pay(reserved, "30.00")
    events = await shop.events_for(reserved["id"], 2, settle=0.4)
    assert [e["type"] for e in events] == ["order.placed", "order.cancelled"]
    assert (await shop.get(reserved["id"])).json()["status"] == "CANCELLED"


async def test_an_admin_reads_but_cannot_cancel_a_buyers_order(shop):
    order = await shop.placed()
    response = await shop.client.post(
        f"/api/orders/{order['id']}/cancel", headers=shop.as_(shop.admin, "admin")
    )
    assert response.status_code == 404
