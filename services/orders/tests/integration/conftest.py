"""Fixtures for orders integration tests: a migrated database, the app in its lifespan driven
through httpx, and helpers to place orders and feed catalog/payments events."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from souk_common.events import CloudEvent, stream_key
from souk_common.testing import event_of, eventually, service_test_settings, stream_entries
from souk_contracts.events import (
    InventoryRejectedV1,
    InventoryReservedV1,
    PaymentFailedV1,
    PaymentSucceededV1,
)
from souk_orders.config import OrdersSettings
from souk_orders.main import create_app


def make_settings(database_url: str, prefix: str, **overrides: Any) -> OrdersSettings:
    """Settings for a test app on its own database and stream prefix."""
    return service_test_settings(
        OrdersSettings,
        database_url,
        prefix,
        **{"order_sweep_interval_seconds": 0.1, "status_feed_poll_seconds": 0.5, **overrides},
    )


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Per-test settings (override the fixture in a module to change the deadline)."""
    return {}


@pytest.fixture
async def client(migrated_database, running_app, redis_prefix, settings_overrides):
    """An httpx client on the orders app, running with its event workers and sweeper."""
    url = await migrated_database("souk_orders")
    settings = make_settings(url, redis_prefix, **settings_overrides)
    return (await running_app(create_app, settings)).client


def item(quantity: float = 1, product_id: uuid.UUID | None = None) -> dict[str, Any]:
    return {"product_id": str(product_id or uuid.uuid4()), "quantity": quantity}


class Shop:
    """Shortcuts: place orders as buyers, feed other services' events, read orders' stream."""

    def __init__(self, client: httpx.AsyncClient, tokens: Any, redis: Any, prefix: str) -> None:
        self.client = client
        self.tokens = tokens
        self.redis = redis
        self.prefix = prefix
        self.buyer = uuid.uuid4()
        self.admin = uuid.uuid4()

    def as_(self, user: uuid.UUID, role: str = "buyer") -> dict[str, str]:
        return self.tokens.headers(user, role)

    async def place(
        self,
        buyer: uuid.UUID | None = None,
        items: list[dict[str, Any]] | None = None,
        payment_method: str = "pm_card_visa",
        key: str | None = None,
    ) -> httpx.Response:
        body = {"items": items or [item(2), item(1)], "payment_method": payment_method}
        headers = {**self.as_(buyer or self.buyer), "Idempotency-Key": key or uuid.uuid4().hex}
        return await self.client.post("/api/orders", json=body, headers=headers)

    async def placed(self, **kwargs: Any) -> dict[str, Any]:
        response = await self.place(**kwargs)
        assert response.status_code == 202, response.text
        return dict(response.json())

    async def get(self, order_id: str, user: uuid.UUID | None = None, role: str = "buyer"):
        return await self.client.get(
            f"/api/orders/{order_id}", headers=self.as_(user or self.buyer, role)
        )

    async def publish(self, service: str, payload: Any) -> CloudEvent:
        event = event_of(payload, service)
        await self.redis.xadd(stream_key(self.prefix, service), event.to_fields())
        return event

    async def reserve(self, order: dict[str, Any], unit_price: str = "10.00") -> CloudEvent:
        price = Decimal(unit_price)
        lines = [
            {
                "product_id": line["product_id"],
                "quantity": line["quantity"],
                "unit_price": price,
                "line_total": price * line["quantity"],
            }
            for line in order["items"]
        ]
        total = sum((line["line_total"] for line in lines), Decimal("0.00"))
        payload = InventoryReservedV1(
            order_id=order["id"],
            buyer_id=order["buyer_id"],
            lines=lines,
            total=total,
            currency="EUR",
            payment_method=order["payment_method"],
        )
        return await self.publish("catalog", payload)

    async def reject(self, order: dict[str, Any]) -> CloudEvent:
        line = order["items"][0]
        payload = InventoryRejectedV1(
            order_id=order["id"],
            buyer_id=order["buyer_id"],
            lines=[{**line, "reason": "out_of_stock", "available": 0}],
        )
        return await self.publish("catalog", payload)

    async def pay(self, order: dict[str, Any], amount: str) -> CloudEvent:
        payload = PaymentSucceededV1(
            order_id=order["id"],
            buyer_id=order["buyer_id"],
            payment_id=uuid.uuid4(),
            amount=Decimal(amount),
            currency="EUR",
        )
        return await self.publish("payments", payload)

    async def decline(self, order: dict[str, Any]) -> CloudEvent:
        payload = PaymentFailedV1(
            order_id=order["id"],
            buyer_id=order["buyer_id"],
            payment_id=uuid.uuid4(),
            reason="card_declined",
        )
        return await self.publish("payments", payload)

    async def wait_status(self, order_id: str, status: str) -> dict[str, Any]:
        async def reached() -> dict[str, Any] | None:
            body = (await self.get(order_id, self.admin, "admin")).json()
            return dict(body) if body["status"] == status else None

        return await eventually(reached, within=5, what=f"order {order_id} {status}")

    async def events(self, count: int = 0, settle: float = 0.0) -> list[dict[str, Any]]:
        """Orders' own stream entries (waits for ``count``), decoded, data parsed."""
        key = stream_key(self.prefix, "orders")
        entries = await stream_entries(self.redis, key, count)
        if settle:
            await asyncio.sleep(settle)
            entries = await stream_entries(self.redis, key)
        return [entry | {"data": json.loads(entry["data"])} for entry in entries]

    async def events_for(self, order_id: str, count: int, settle: float = 0.0):
        async def enough() -> list[dict[str, Any]] | None:
            found = [e for e in await self.events() if e["data"]["order_id"] == order_id]
            return found if len(found) >= count else None

        await eventually(enough, within=5, what=f"{count} events of order {order_id}")
        if settle:
            await asyncio.sleep(settle)
        return [e for e in await self.events() if e["data"]["order_id"] == order_id]


@pytest.fixture
async def shop(client, token_issuer, redis_client, redis_prefix) -> Shop:
    return Shop(client, token_issuer, redis_client, redis_prefix)
