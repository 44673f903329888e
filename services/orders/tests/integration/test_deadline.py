"""The deadline sweeper: stale PENDING/RESERVED orders are cancelled (``timeout``), once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from souk_common.db import Database
from souk_common.events import Outbox
from souk_orders.models import Order, tables
from souk_orders.sweeper import sweep_once
from souk_orders.transitions import Effects


@pytest.fixture
def settings_overrides():
    return {"order_deadline_seconds": 0.6}


async def test_sweeper_cancels_stale_orders_with_timeout(shop):
    stale = await shop.placed()
    await shop.reserve(stale)
    await shop.wait_status(stale["id"], "RESERVED")
    confirmed = await shop.placed()
    await shop.pay(confirmed, "30.00")
    await shop.wait_status(confirmed["id"], "CONFIRMED")
    cancelled = await shop.wait_status(stale["id"], "CANCELLED")
    assert cancelled["status_history"][-1]["reason"] == "timeout"
    events = await shop.events_for(stale["id"], 2)
    assert events[-1]["type"] == "order.cancelled"
    assert events[-1]["data"]["reason"] == "timeout"
    await asyncio.sleep(0.8)
    assert (await shop.get(confirmed["id"])).json()["status"] == "CONFIRMED"  # final stays


async def test_concurrent_sweepers_cancel_each_order_once(migrated_database):
    migrated_url = await migrated_database("souk_orders")
    database = Database(migrated_url)
    effects = Effects(Outbox(tables, "orders", "test:"))
    try:
        async with database.sessions() as session, session.begin():
            for _ in range(6):
                session.add(
                    Order(
                        buyer_id=uuid.uuid4(),
                        status="PENDING",
                        payment_method="pm_card_visa",
                        lines=[],
                        history=[],
                    )
                )
        async with database.sessions() as session, session.begin():
            await session.execute(
                update(Order).values(created_at=Order.created_at - timedelta(hours=1))
            )
        counts = await asyncio.gather(
            *(sweep_once(database.sessions, effects, 60, batch_size=6) for _ in range(3))
        )
        assert sum(counts) == 6
        async with database.sessions() as session:
            rows = (await session.scalars(select(tables.outbox.c.type))).all()
        assert rows == ["order.cancelled"] * 6
    finally:
        await database.dispose()
