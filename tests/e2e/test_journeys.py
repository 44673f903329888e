"""The shop's journeys through its public HTTP API only (local stack or a kind Ingress).

Register, browse, order, watch the order reach its terminal state, and see stock, payments
and notifications agree: the happy path, out of stock, a declined card and a buyer's cancel.
"""

import asyncio
from decimal import Decimal

import pytest

from tests.support.shop import ShopClient

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def seller(shop: ShopClient) -> dict:
    return await shop.login("seller@souk.test")


async def wait_for_stock(shop: ShopClient, product_id: str, expected: int) -> int:
    for _ in range(100):
        stock = (await shop.product(product_id))["stock"]
        if stock == expected:
            return stock
        await asyncio.sleep(0.1)
    return stock


async def test_demo_catalog_is_browsable(shop: ShopClient):
    products = await shop.browse(limit=100)
    assert len(products) >= 12
    assert len({p["category"] for p in products}) >= 4
    assert all(Decimal(p["price"]) > 0 for p in products)


async def test_register_order_confirm_and_notify(shop: ShopClient):
    buyer = await shop.register("buyer", "Grace")
    assert await shop.wait_for_notification(buyer, "welcome")
    product = await shop.create_product(await seller(shop), stock=5, price="12.50")

    response = await shop.place_order(buyer, [(product["id"], 2)])
    assert response.status_code == 202, response.text
    placed = response.json()
    assert placed["status"] == "PENDING"

    order = await shop.wait_for_status(buyer, placed["id"])
    assert order["status"] == "CONFIRMED", order
    assert Decimal(order["total"]) == Decimal("25.00")
    assert [h["status"] for h in order["status_history"]] == ["PENDING", "RESERVED", "CONFIRMED"]
    assert (await shop.product(product["id"]))["stock"] == 3
    payments = await shop.payments(buyer, placed["id"])
    assert [(p["status"], Decimal(p["amount"])) for p in payments] == [
        ("captured", Decimal("25.00"))
    ]
    assert await shop.wait_for_notification(buyer, "order_confirmed")


async def test_out_of_stock_order_is_rejected_and_nothing_is_charged(shop: ShopClient):
    buyer = await shop.register("buyer")
    product = await shop.create_product(await seller(shop), stock=1)
    placed = (await shop.place_order(buyer, [(product["id"], 2)])).json()
    order = await shop.wait_for_status(buyer, placed["id"])
    assert order["status"] == "REJECTED"
    assert (await shop.product(product["id"]))["stock"] == 1
    assert await shop.payments(buyer, placed["id"]) == []
    assert await shop.wait_for_notification(buyer, "order_rejected")


async def test_declined_card_cancels_and_returns_stock(shop: ShopClient):
    buyer = await shop.register("buyer")
    product = await shop.create_product(await seller(shop), stock=4)
    placed = (await shop.place_order(buyer, [(product["id"], 3)], "pm_card_declined")).json()
    order = await shop.wait_for_status(buyer, placed["id"])
    assert order["status"] == "CANCELLED"
    assert order["status_history"][-1]["reason"] == "payment_failed"
    assert await wait_for_stock(shop, product["id"], 4) == 4
    assert [p["status"] for p in await shop.payments(buyer, placed["id"])] == ["failed"]
    assert await shop.wait_for_notification(buyer, "order_cancelled")


async def test_buyer_cancel_returns_stock_and_refunds_any_capture(shop: ShopClient):
    buyer = await shop.register("buyer")
    product = await shop.create_product(await seller(shop), stock=6)
    placed = (await shop.place_order(buyer, [(product["id"], 2)])).json()
    response = await shop.cancel(buyer, placed["id"])
    order = await shop.wait_for_status(buyer, placed["id"])
    payments = [p["status"] for p in await shop.payments(buyer, placed["id"])]
    if response.status_code == 409:  # the saga won the race and confirmed it first
        assert response.json()["reason"] == "order_not_cancellable", response.text
        assert order["status"] == "CONFIRMED"
        assert payments == ["captured"]
        assert (await shop.product(product["id"]))["stock"] == 4
    else:
        assert response.status_code == 200, response.text
        assert order["status"] == "CANCELLED"
        assert order["status_history"][-1]["reason"] == "buyer_cancelled"
        assert await wait_for_stock(shop, product["id"], 6) == 6
        await asyncio.sleep(1.0)  # let a capture that raced the cancel be refunded
        statuses = [p["status"] for p in await shop.payments(buyer, placed["id"])]
        assert statuses in ([], ["voided"], ["refunded"]), statuses
        assert await shop.wait_for_notification(buyer, "order_cancelled")
    again = await shop.cancel(buyer, placed["id"])
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"
    assert again.json()["reason"] == "order_not_cancellable"
