"""Fixtures for payments integration tests: a migrated database, the app in its lifespan
driven through httpx, and helpers that feed the catalog and orders streams."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from souk_common.db import Database
from souk_common.events import CloudEvent, stream_key
from souk_common.testing import event_of, eventually, service_test_settings, stream_entries
from souk_contracts.events import InventoryReservedV1, OrderCancelledV1
from souk_payments.config import PaymentsSettings
from souk_payments.main import create_app


def make_settings(database_url: str, prefix: str, **overrides: Any) -> PaymentsSettings:
    """Settings for a test app on its own database and stream prefix."""
    return service_test_settings(
        PaymentsSettings, database_url, prefix, **{"provider_backoff_ms": 10, **overrides}
    )


@pytest.fixture
async def database(migrated_database) -> AsyncIterator[Database]:
    """A :class:`Database` on the migrated test database (a few connections, shared by tasks)."""
    db = Database(await migrated_database("souk_payments"), pool_size=8, max_overflow=0)
    try:
        yield db
    finally:
        await db.dispose()


class Payments:
    """The running app, its HTTP client and shortcuts to feed and read streams."""

    def __init__(self, app: Any, client: httpx.AsyncClient, redis: Any, prefix: str) -> None:
        self.app = app
        self.client = client
        self.redis = redis
        self.prefix = prefix

    @property
    def provider(self) -> Any:
        return self.app.state.context.provider

    async def publish(self, producer: str, event: CloudEvent) -> None:
        await self.redis.xadd(stream_key(self.prefix, producer), event.to_fields())

    async def reserve(self, order_id, buyer_id, total="42.50", token="pm_card_visa") -> CloudEvent:
        """Publish ``inventory.reserved`` on the catalog stream and return the event."""
        event = reserved_event(order_id, buyer_id, total, token)
        await self.publish("catalog", event)
        return event

    async def cancel(self, order_id, buyer_id, reason="buyer_cancelled") -> CloudEvent:
        """Publish ``order.cancelled`` on the orders stream and return the event."""
        payload = OrderCancelledV1(order_id=order_id, buyer_id=buyer_id, reason=reason)
        event = event_of(payload, "orders")
        await self.publish("orders", event)
        return event

    async def events(self, count: int = 0, settle: float = 0.0) -> list[dict[str, Any]]:
        """Wait until payments' stream holds ``count`` entries (then ``settle`` s more)."""
        key = stream_key(self.prefix, "payments")
        entries = await stream_entries(self.redis, key, count, within=10)
        if settle:
            await asyncio.sleep(settle)
            entries = await stream_entries(self.redis, key)
        return [{"type": entry["type"], "data": json.loads(entry["data"])} for entry in entries]

    async def consumed(self, event_id: str) -> None:
        """Wait until the consumer group committed ``event_id`` (its inbox row exists)."""
        database = self.app.state.database

        async def recorded() -> int | None:
            async with database.sessions() as session:
                return await session.scalar(
                    text("SELECT 1 FROM event_inbox WHERE event_id = :id"), {"id": event_id}
                )

        await eventually(recorded, what=f"event {event_id} consumed")


def reserved_event(order_id, buyer_id, total="42.50", token="pm_card_visa") -> CloudEvent:
    """An ``inventory.reserved`` event for one line of ``total``."""
    payload = InventoryReservedV1(
        order_id=order_id,
        buyer_id=buyer_id,
        lines=[
            {
                "product_id": uuid.uuid4(),
                "quantity": 1,
                "unit_price": Decimal(total),
                "line_total": Decimal(total),
            }
        ],
        total=Decimal(total),
        currency="EUR",
        payment_method=token,
    )
    return event_of(payload, "catalog")


@pytest.fixture
async def payments(migrated_database, running_app, redis_client, redis_prefix) -> Payments:
    """The payments app running with its event workers, and helpers around it."""
    url = await migrated_database("souk_payments")
    running = await running_app(create_app, make_settings(url, redis_prefix))
    return Payments(running.app, running.client, redis_client, redis_prefix)
