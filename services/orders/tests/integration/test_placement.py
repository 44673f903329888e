"""Placing orders: idempotency, validation naming the field, order + outbox in one transaction."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from souk_common.db import Database
from souk_common.events import Outbox
from souk_common.security import Principal
from souk_orders.models import IdempotencyKey, Order, tables
from souk_orders.schemas import OrderCreate
from souk_orders.service import place_order
from souk_orders.transitions import Effects

from .conftest import item


async def test_placed_order_is_pending_and_emits_order_placed(shop):
    response = await shop.place(items=[item(3), item(1)], key="k-1")
    assert response.status_code == 202
    order = response.json()
    assert response.headers["location"] == f"/api/orders/{order['id']}"
    assert order["status"] == "PENDING"
    assert order["total"] is None
    assert order["currency"] is None
    assert order["buyer_id"] == str(shop.buyer)
    assert [line["quantity"] for line in order["items"]] == [3, 1]
    assert all(line["unit_price"] is None for line in order["items"])
    assert [(h["status"], h["reason"]) for h in order["status_history"]] == [("PENDING", "placed")]
    (placed,) = await shop.events(1)
    assert placed["type"] == "order.placed"
    assert placed["source"] == "orders"
    assert placed["data"]["order_id"] == order["id"]
    assert placed["data"]["payment_method"] == "pm_card_visa"
    assert [i["quantity"] for i in placed["data"]["items"]] == [3, 1]


async def test_same_key_and_body_returns_the_same_order_once(shop):
    lines = [item(2), item(5)]
    first = await shop.place(items=lines, key="retry-me")
    again = await shop.place(items=list(reversed(lines)), key="retry-me")  # same lines
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert len(await shop.events(1, settle=0.3)) == 1  # one order.placed only
    listing = (await shop.client.get("/api/orders", headers=shop.as_(shop.buyer))).json()
    assert len(listing["items"]) == 1
    # Another buyer's key namespace is their own.
    other = await shop.place(buyer=uuid.uuid4(), items=lines, key="retry-me")
    assert other.status_code == 202
    assert other.json()["id"] != first.json()["id"]


async def test_same_key_with_another_body_is_a_conflict(shop):
    await shop.placed(items=[item(1)], key="abc")
    response = await shop.place(items=[item(2)], key="abc")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "conflict"
    assert problem["reason"] == "idempotency_key_reused"


async def test_concurrent_requests_with_one_key_make_one_order(shop):
    import asyncio

    lines = [item(1)]
    responses = await asyncio.gather(*(shop.place(items=lines, key="race") for _ in range(5)))
    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["id"] for r in responses}) == 1


VISA = "pm_card_visa"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": [], "payment_method": VISA}, "body.items"),
        ({"payment_method": VISA}, "body.items"),
        ({"items": [item() for _ in range(51)], "payment_method": VISA}, "body.items"),
        ({"items": [item(0)], "payment_method": VISA}, "body.items.0.quantity"),
        ({"items": [item(1), item(101)], "payment_method": VISA}, "body.items.1.quantity"),
        ({"items": [item(1.5)], "payment_method": VISA}, "body.items.0.quantity"),
        (
            {"items": [{"product_id": "nope", "quantity": 1}], "payment_method": VISA},
            "body.items.0.product_id",
        ),
        ({"items": [item()], "payment_method": "pm_card_amex"}, "body.payment_method"),
        ({"items": [item()]}, "body.payment_method"),
        ({"items": [item()], "payment_method": VISA, "total": "1.00"}, "body.total"),
    ],
)
async def test_validation_errors_name_the_field(shop, body, field):
    headers = {**shop.as_(shop.buyer), "Idempotency-Key": uuid.uuid4().hex}
    response = await shop.client.post("/api/orders", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_duplicate_product_lines_are_refused(shop):
    product = uuid.uuid4()
    response = await shop.place(items=[item(1), item(1, product), item(2, product)])
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.items.2.product_id"


async def test_idempotency_key_is_required_and_auth_too(shop):
    body = {"items": [item()], "payment_method": "pm_card_visa"}
    response = await shop.client.post("/api/orders", json=body, headers=shop.as_(shop.buyer))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "header.Idempotency-Key"
    anonymous = await shop.client.post("/api/orders", json=body, headers={"Idempotency-Key": "x"})
    assert anonymous.status_code == 401


async def test_order_and_outbox_row_commit_or_roll_back_together(migrated_database):
    migrated_url = await migrated_database("souk_orders")
    database = Database(migrated_url)
    effects = Effects(Outbox(tables, "orders", "test:"))
    buyer = Principal(uuid.uuid4(), "buyer")
    body = OrderCreate.model_validate({"items": [item()], "payment_method": "pm_card_visa"})
    try:
        async with database.sessions() as session, session.begin():
            await place_order(session, effects, buyer, "k", body, {"pm_card_visa"})
            await session.rollback()
        async with database.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Order)) == 0
            assert await session.scalar(select(func.count()).select_from(tables.outbox)) == 0
            assert await session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
        async with database.sessions() as session, session.begin():
            order, _ = await place_order(session, effects, buyer, "k", body, {"pm_card_visa"})
        async with database.sessions() as session:
            types = (await session.scalars(select(tables.outbox.c.type))).all()
            assert types == ["order.placed"]
            assert (await session.get(Order, order.id)) is not None
    finally:
        await database.dispose()
