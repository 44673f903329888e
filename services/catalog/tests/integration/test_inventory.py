"""Reservations: all or nothing, no oversell under 50 concurrent orders, idempotent per order."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal

from sqlalchemy import func, select, text

from souk_catalog.inventory import StockPolicy, confirm_order, release_order, reserve_order
from souk_catalog.models import Category, Product, Reservation, tables
from souk_common.events.outbox import Outbox
from souk_contracts.events import OrderItemV1


async def make_product(database, stock: int, price: str = "10.00", **fields) -> uuid.UUID:
    async with database.sessions() as session, session.begin():
        category = await session.scalar(select(Category.id).where(Category.slug == "misc"))
        if category is None:
            category = uuid.uuid4()
            session.add(Category(id=category, slug="misc", name="Misc"))
            await session.flush()
        product = Product(
            id=uuid.uuid4(),
            seller_id=uuid.uuid4(),
            category_id=category,
            name="Widget",
            description="",
            price=Decimal(price),
            currency=fields.pop("currency", "EUR"),
            stock=stock,
            **fields,
        )
        session.add(product)
    return product.id


async def place(database, items: list[tuple[uuid.UUID, int]], order_id=None) -> str | None:
    outbox = Outbox(tables, "catalog", "unused:")
    async with database.sessions() as session, session.begin():
        return await reserve_order(
            session,
            outbox,
            StockPolicy(low_stock_threshold=2),
            order_id=order_id or uuid.uuid4(),
            buyer_id=uuid.uuid4(),
            items=[OrderItemV1(product_id=p, quantity=q) for p, q in items],
        )


async def stock_of(database, product_id) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(Product.stock).where(Product.id == product_id)))


async def outbox_types(database) -> list[str]:
    async with database.sessions() as session:
        rows = await session.execute(text("SELECT type FROM event_outbox ORDER BY id"))
        return [row[0] for row in rows]


async def test_fifty_concurrent_orders_never_oversell_ten_units(database):
    product = await make_product(database, stock=10)
    other = await make_product(database, stock=1000)
    # Every order also takes one unit of a second product, so lock order matters too.
    orders = [
        [(product, 1), (other, 1)] if n % 2 else [(other, 1), (product, 1)] for n in range(50)
    ]
    outcomes = await asyncio.gather(*(place(database, items) for items in orders))
    assert outcomes.count("reserved") == 10
    assert outcomes.count("rejected") == 40
    assert await stock_of(database, product) == 0
    assert await stock_of(database, other) == 990  # rejected orders hold nothing (all or none)
    async with database.sessions() as session:
        held = await session.scalar(
            select(func.sum(Reservation.quantity)).where(Reservation.product_id == product)
        )
    assert held == 10
    types = await outbox_types(database)
    assert types.count("inventory.reserved") == 10
    assert types.count("inventory.rejected") == 40
    assert types.count("product.low_stock") == 1  # crossing the threshold signals once


async def test_rejections_give_a_reason_per_line_and_reserve_nothing(database):
    in_stock = await make_product(database, stock=5)
    scarce = await make_product(database, stock=1)
    inactive = await make_product(database, stock=5, active=False)
    unknown = uuid.uuid4()
    outbox = Outbox(tables, "catalog", "unused:")
    async with database.sessions() as session, session.begin():
        await reserve_order(
            session,
            outbox,
            StockPolicy(),
            order_id=uuid.uuid4(),
            buyer_id=uuid.uuid4(),
            items=[
                OrderItemV1(product_id=in_stock, quantity=2),
                OrderItemV1(product_id=scarce, quantity=2),
                OrderItemV1(product_id=inactive, quantity=1),
                OrderItemV1(product_id=unknown, quantity=1),
            ],
        )
    async with database.sessions() as session:
        fields = await session.scalar(
            text("SELECT fields FROM event_outbox WHERE type = 'inventory.rejected'")
        )
    lines = {line["product_id"]: line for line in json.loads(fields["data"])["lines"]}
    assert lines[str(scarce)]["reason"] == "out_of_stock"
    assert lines[str(scarce)]["available"] == 1
    assert lines[str(inactive)]["reason"] == "inactive_product"
    assert lines[str(unknown)]["reason"] == "unknown_product"
    assert str(in_stock) not in lines
    assert await stock_of(database, in_stock) == 5


async def test_mixed_currencies_are_rejected(database):
    euro = await make_product(database, stock=5)
    dollar = await make_product(database, stock=5, currency="USD")
    assert await place(database, [(euro, 1), (dollar, 1)]) == "rejected"
    assert await stock_of(database, euro) == 5


async def test_place_cancel_confirm_are_idempotent_per_order(database):
    product = await make_product(database, stock=5)
    order = uuid.uuid4()
    assert await place(database, [(product, 2), (product, 1)], order_id=order) == "reserved"
    assert await place(database, [(product, 3)], order_id=order) is None  # redelivery
    assert await stock_of(database, product) == 2
    outbox = Outbox(tables, "catalog", "unused:")
    for expected in (True, False):  # a second order.cancelled (new event id) is a no-op
        async with database.sessions() as session, session.begin():
            assert await release_order(session, outbox, order) is expected
        assert await stock_of(database, product) == 5
    async with database.sessions() as session, session.begin():
        assert await confirm_order(session, order) is False  # released stays released
    assert (await outbox_types(database)).count("inventory.released") == 1

    sold = uuid.uuid4()
    assert await place(database, [(product, 4)], order_id=sold) == "reserved"
    async with database.sessions() as session, session.begin():
        assert await confirm_order(session, sold) is True
        assert await confirm_order(session, sold) is False
        assert await release_order(session, outbox, sold) is False  # sold units stay sold
    assert await stock_of(database, product) == 1

    early = uuid.uuid4()  # cancelled before catalog saw it placed: nothing gets reserved
    async with database.sessions() as session, session.begin():
        assert await release_order(session, outbox, early) is False
    assert await place(database, [(product, 1)], order_id=early) is None
    assert await stock_of(database, product) == 1
