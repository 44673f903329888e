"""The orders side of the saga, driven by real entries on catalog's and payments' streams."""

from __future__ import annotations

import asyncio
import uuid

from prometheus_client import REGISTRY

from souk_common.events import stream_key

from .conftest import item


def orders_total(status: str) -> float:
    return REGISTRY.get_sample_value("souk_orders_total", {"status": status}) or 0.0


async def test_reserved_then_paid_confirms_with_catalogs_prices(shop):
    confirmed_before = orders_total("CONFIRMED")
    saga_before = REGISTRY.get_sample_value("souk_order_saga_duration_seconds_count") or 0.0
    order = await shop.placed(items=[item(2), item(1)])
    await shop.reserve(order, unit_price="12.50")
    reserved = await shop.wait_status(order["id"], "RESERVED")
    assert reserved["total"] == "37.50"
    assert reserved["currency"] == "EUR"
    assert [line["unit_price"] for line in reserved["items"]] == ["12.50", "12.50"]
    assert [line["line_total"] for line in reserved["items"]] == ["25.00", "12.50"]
    await shop.pay(order, "37.50")
    confirmed = await shop.wait_status(order["id"], "CONFIRMED")
    assert [(h["status"], h["reason"]) for h in confirmed["status_history"]] == [
        ("PENDING", "placed"),
        ("RESERVED", "inventory_reserved"),
        ("CONFIRMED", "payment_succeeded"),
    ]
    events = await shop.events_for(order["id"], 2)
    assert [e["type"] for e in events] == ["order.placed", "order.confirmed"]
    assert events[1]["data"]["total"] == "37.50"
    assert events[1]["data"]["currency"] == "EUR"
    assert orders_total("CONFIRMED") == confirmed_before + 1
    assert REGISTRY.get_sample_value("souk_order_saga_duration_seconds_count") == saga_before + 1


async def test_rejected_inventory_rejects_and_emits_order_rejected(shop):
    order = await shop.placed()
    await shop.reject(order)
    rejected = await shop.wait_status(order["id"], "REJECTED")
    assert rejected["status_history"][-1]["reason"] == "inventory_rejected: out_of_stock"
    events = await shop.events_for(order["id"], 2)
    assert events[1]["type"] == "order.rejected"
    product = order["items"][0]["product_id"]
    assert events[1]["data"]["reasons"] == [f"out_of_stock:{product}"]


async def test_payment_failure_cancels_and_emits_order_cancelled(shop):
    order = await shop.placed()
    await shop.reserve(order)
    await shop.wait_status(order["id"], "RESERVED")
    await shop.decline(order)
    cancelled = await shop.wait_status(order["id"], "CANCELLED")
    assert cancelled["status_history"][-1]["reason"] == "payment_failed"
    events = await shop.events_for(order["id"], 2)
    assert events[1]["type"] == "order.cancelled"
    assert events[1]["data"]["reason"] == "payment_failed"


async def test_late_and_duplicate_events_change_nothing(shop, redis_client, redis_prefix):
    order = await shop.placed()
    reserved = await shop.reserve(order)
    await shop.wait_status(order["id"], "RESERVED")
    await redis_client.xadd(stream_key(redis_prefix, "catalog"), reserved.to_fields())  # same id
    await shop.reserve(order, unit_price="99.00")  # a new event id for the same decision
    await shop.pay(order, "30.00")
    await shop.wait_status(order["id"], "CONFIRMED")
    await shop.decline(order)  # after the end: ignored
    await shop.reject(order)
    await shop.pay(order, "30.00")
    events = await shop.events_for(order["id"], 2, settle=0.5)
    assert [e["type"] for e in events] == ["order.placed", "order.confirmed"]
    final = (await shop.get(order["id"])).json()
    assert final["status"] == "CONFIRMED"
    assert final["total"] == "30.00"  # the first reservation's prices stay
    assert [h["status"] for h in final["status_history"]] == ["PENDING", "RESERVED", "CONFIRMED"]
    # An event for an order nobody placed is acknowledged and ignored; the group moves on.
    await shop.reserve({**order, "id": str(uuid.uuid4())})
    later = await shop.placed()
    await shop.reserve(later)
    await shop.wait_status(later["id"], "RESERVED")
    dlq = await redis_client.xlen(f"{redis_prefix}dlq.orders")
    assert dlq == 0


async def test_payment_that_outruns_the_reservation_still_confirms(shop):
    order = await shop.placed(items=[item(3)])
    await shop.pay(order, "30.00")
    confirmed = await shop.wait_status(order["id"], "CONFIRMED")
    assert confirmed["total"] == "30.00"
    assert [h["status"] for h in confirmed["status_history"]] == [
        "PENDING",
        "RESERVED",
        "CONFIRMED",
    ]
    await shop.reserve(order, unit_price="10.00")  # catalog's event arrives afterwards
    for _ in range(100):
        priced = (await shop.get(order["id"])).json()
        if priced["items"][0]["unit_price"] is not None:
            break
        await asyncio.sleep(0.025)
    assert priced["items"][0]["unit_price"] == "10.00"
    assert priced["status"] == "CONFIRMED"
