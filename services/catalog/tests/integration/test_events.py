"""The consumer group ``catalog`` on the orders stream, fed with real stream entries."""

from __future__ import annotations

import asyncio
import json
import uuid

from souk_common.correlation import correlation_scope
from souk_common.events import stream_key
from souk_common.testing import event_of, stream_entries
from souk_contracts.events import (
    InventoryReleasedV1,
    InventoryReservedV1,
    OrderCancelledV1,
    OrderPlacedV1,
)


async def catalog_events(redis_client, redis_prefix, count: int) -> list[dict]:
    """Wait until catalog's own stream holds ``count`` entries and return them decoded."""
    return await stream_entries(redis_client, stream_key(redis_prefix, "catalog"), count)


async def stock(catalog, product_id: str) -> int:
    return (await catalog.client.get(f"/api/catalog/products/{product_id}")).json()["stock"]


async def test_order_events_reserve_price_and_release_exactly_once(
    catalog, redis_client, redis_prefix
):
    teapot = await catalog.product(price="25.00", stock=16)
    cups = await catalog.product(name="Cups", price="4.50", stock=20)
    orders = stream_key(redis_prefix, "orders")
    order_id, buyer = uuid.uuid4(), uuid.uuid4()
    with correlation_scope("journey-42"):
        placed = event_of(
            OrderPlacedV1(
                order_id=order_id,
                buyer_id=buyer,
                items=[
                    {"product_id": teapot["id"], "quantity": 2},
                    {"product_id": cups["id"], "quantity": 4},
                ],
                payment_method="pm_card_visa",
            ),
            "orders",
        )
    await redis_client.xadd(orders, placed.to_fields())
    await redis_client.xadd(orders, placed.to_fields())  # the relay published it twice
    # The order service re-emits order.placed with a new event id: still one reservation.
    again = event_of(OrderPlacedV1.model_validate(placed.data), "orders")
    await redis_client.xadd(orders, again.to_fields())

    (reserved,) = await catalog_events(redis_client, redis_prefix, 1)
    assert reserved["type"] == "inventory.reserved"
    assert reserved["correlationid"] == "journey-42"  # the order's correlation id follows
    payload = InventoryReservedV1.model_validate(json.loads(reserved["data"]))
    assert payload.total == payload.lines[0].line_total + payload.lines[1].line_total
    assert str(payload.total) == "68.00"
    assert json.loads(reserved["data"])["total"] == "68.00"  # decimal string, not a float
    assert payload.currency == "EUR"
    assert payload.payment_method == "pm_card_visa"  # passed through for payments
    assert await stock(catalog, teapot["id"]) == 14

    cancel = OrderCancelledV1(order_id=order_id, buyer_id=buyer, reason="payment_failed")
    await redis_client.xadd(orders, event_of(cancel, "orders").to_fields())
    await redis_client.xadd(orders, event_of(cancel, "orders").to_fields())
    events = await catalog_events(redis_client, redis_prefix, 2)
    await asyncio.sleep(0.3)  # give a wrong second release time to show up
    events = await catalog_events(redis_client, redis_prefix, 2)
    assert [event["type"] for event in events] == ["inventory.reserved", "inventory.released"]
    released = InventoryReleasedV1.model_validate(json.loads(events[1]["data"]))
    assert {str(line.product_id): line.quantity for line in released.lines} == {
        teapot["id"]: 2,
        cups["id"]: 4,
    }
    assert await stock(catalog, teapot["id"]) == 16
    assert await stock(catalog, cups["id"]) == 20


async def test_low_stock_is_an_event_and_a_counter(catalog, redis_client, redis_prefix):
    before = await low_stock_count(catalog)
    lamp = await catalog.product(name="Lamp", stock=6)
    orders = stream_key(redis_prefix, "orders")
    for _ in range(2):
        placed = OrderPlacedV1(
            order_id=uuid.uuid4(),
            buyer_id=uuid.uuid4(),
            items=[{"product_id": lamp["id"], "quantity": 2}],
        )
        await redis_client.xadd(orders, event_of(placed, "orders").to_fields())
    events = await catalog_events(redis_client, redis_prefix, 3)
    assert [event["type"] for event in events].count("product.low_stock") == 1
    signal = next(event for event in events if event["type"] == "product.low_stock")
    assert json.loads(signal["data"])["stock"] == 4
    assert await low_stock_count(catalog) == before + 1


async def low_stock_count(catalog) -> float:
    text = (await catalog.client.get("/metrics")).text
    for line in text.splitlines():
        if line.startswith("souk_low_stock_events_total "):
            return float(line.split()[1])
    raise AssertionError("souk_low_stock_events_total is not exported")
