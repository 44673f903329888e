"""Fixtures for orders integration tests: a migrated database, the app in its lifespan driven
through httpx, and helpers to place orders and feed catalog/payments events."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from souk_common.events import CloudEvent, stream_key
from souk_common.migrations import upgrade_to_head
from souk_common.testing import service_test_settings
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
async def migrated_url(database_url: str) -> str:
    """The test database, migrated to head."""
    await upgrade_to_head("souk_orders", database_url)
    return database_url


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Per-test settings (override the fixture in a module to change the deadline)."""
    return {}


@pytest.fixture
async def app(migrated_url, redis_prefix, token_issuer, settings_overrides):
    """The orders app running with its event workers and deadline sweeper."""
    application = create_app(make_settings(migrated_url, redis_prefix, **settings_overrides))
    async with LifespanManager(application):
        application.state.token_verifier = token_issuer.verifier
        yield application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the orders app."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


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

    async def publish(self, service: str, event_type: str, payload: Any) -> CloudEvent:
        event = CloudEvent.create(event_type, service, payload.model_dump(mode="json"))
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
        return await self.publish("catalog", "inventory.reserved", payload)

    async def reject(self, order: dict[str, Any]) -> CloudEvent:
        line = order["items"][0]
        payload = InventoryRejectedV1(
            order_id=order["id"],
            buyer_id=order["buyer_id"],
            lines=[{**line, "reason": "out_of_stock", "available": 0}],
        )
        return await self.publish("catalog", "inventory.rejected", payload)

    async def pay(self, order: dict[str, Any], amount: str) -> CloudEvent:
        payload = PaymentSucceededV1(
            order_id=order["id"],
            buyer_id=order["buyer_id"],
            payment_id=uuid.uuid4(),
            amount=Decimal(amount),
            currency="EUR",
        )
        return await self.publish("payments", "payment.succeeded", payload)

    async def decline(self, order: dict[str, Any]) -> CloudEvent:
        payload = PaymentFailedV1(
            order_id=order["id"],
            buyer_id=order["buyer_id"],
            payment_id=uuid.uuid4(),
            reason="card_declined",
        )
        return await self.publish("payments", "payment.failed", payload)

    async def wait_status(self, order_id: str, status: str) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for _ in range(200):
            body = (await self.get(order_id, self.admin, "admin")).json()
            if body["status"] == status:
                return body
            await asyncio.sleep(0.025)
        raise AssertionError(f"order stayed {body.get('status')}, expected {status}")

    async def events(self, count: int = 0, settle: float = 0.0) -> list[dict[str, Any]]:
        """Orders' own stream entries (waits for ``count``), decoded, data parsed."""
        key = stream_key(self.prefix, "orders")
        entries: list[Any] = []
        for _ in range(200):
            entries = await self.redis.xrange(key)
            if len(entries) >= count:
                break
            await asyncio.sleep(0.025)
        if settle:
            await asyncio.sleep(settle)
            entries = await self.redis.xrange(key)
        decoded = []
        for _, fields in entries:
            entry = {k.decode(): v.decode() for k, v in fields.items()}
            entry["data"] = json.loads(entry["data"])
            decoded.append(entry)
        return decoded

    async def events_for(self, order_id: str, count: int, settle: float = 0.0):
        for _ in range(200):
            found = [e for e in await self.events() if e["data"]["order_id"] == order_id]
            if len(found) >= count:
                break
            await asyncio.sleep(0.025)
        if settle:
            await asyncio.sleep(settle)
        return [e for e in await self.events() if e["data"]["order_id"] == order_id]


@pytest.fixture
async def shop(client, token_issuer, redis_client, redis_prefix) -> Shop:
    return Shop(client, token_issuer, redis_client, redis_prefix)
