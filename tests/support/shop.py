"""A small HTTP client for the shop's public API, used by the journey tests.

It knows only URLs and JSON, so the same journeys run against the local stack (one base URL
per service) and against a cluster behind one Ingress (one base URL for all).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from souk_common.testing import eventually

TERMINAL_STATUSES = frozenset({"CONFIRMED", "REJECTED", "CANCELLED"})
DEMO_PASSWORD = "souk-demo-password"  # the documented demo password


class ShopClient:
    """Calls auth, catalog, orders, payments and notifications over HTTP."""

    def __init__(self, base_urls: Mapping[str, str], http: httpx.AsyncClient) -> None:
        self.base_urls = dict(base_urls)
        self.http = http

    def url(self, service: str, path: str) -> str:
        """Return the absolute URL of ``path`` on ``service``."""
        return self.base_urls[service].rstrip("/") + path

    async def register(self, role: str = "buyer", name: str = "Journey") -> dict[str, Any]:
        """Register a fresh user and log in; return {id, email, token, headers}."""
        email = f"{role}-{uuid.uuid4().hex[:10]}@example.com"
        password = f"journey passphrase {uuid.uuid4().hex[:6]}"
        response = await self.http.post(
            self.url("auth", "/api/auth/register"),
            json={"email": email, "password": password, "display_name": name, "role": role},
        )
        response.raise_for_status()
        user = await self.login(email, password)
        return {**user, "id": response.json()["id"]}

    async def login(self, email: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
        """Log in and return {email, token, headers}."""
        response = await self.http.post(
            self.url("auth", "/api/auth/login"), json={"email": email, "password": password}
        )
        response.raise_for_status()
        token = response.json()["access_token"]
        return {"email": email, "token": token, "headers": {"Authorization": f"Bearer {token}"}}

    async def create_product(
        self, seller: Mapping[str, Any], *, stock: int, price: str = "10.00", **fields: Any
    ) -> dict[str, Any]:
        """Create a product as ``seller``."""
        body = {
            "name": f"Journey product {uuid.uuid4().hex[:6]}",
            "description": "Made for an end-to-end journey.",
            "price": price,
            "currency": "EUR",
            "category": "home",
            "stock": stock,
            **fields,
        }
        response = await self.http.post(
            self.url("catalog", "/api/catalog/products"), json=body, headers=seller["headers"]
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    async def product(self, product_id: str) -> dict[str, Any]:
        """Return one product (public)."""
        response = await self.http.get(self.url("catalog", f"/api/catalog/products/{product_id}"))
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    async def browse(self, **params: Any) -> list[dict[str, Any]]:
        """Return the first page of the public listing."""
        response = await self.http.get(self.url("catalog", "/api/catalog/products"), params=params)
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def place_order(
        self,
        buyer: Mapping[str, Any],
        items: Iterable[tuple[str, int]],
        payment_method: str = "pm_card_visa",
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """POST an order; return the raw response (202 expected)."""
        return await self.http.post(
            self.url("orders", "/api/orders"),
            json={
                "items": [{"product_id": p, "quantity": q} for p, q in items],
                "payment_method": payment_method,
            },
            headers={**buyer["headers"], "Idempotency-Key": idempotency_key or uuid.uuid4().hex},
        )

    async def place_order_until_accepted(
        self,
        buyer: Mapping[str, Any],
        items: Iterable[tuple[str, int]],
        payment_method: str = "pm_card_visa",
        within: float = 60.0,
    ) -> str:
        """Place an order, retrying with one Idempotency-Key while orders is unreachable.

        Retries on connection errors and 5xx (a pod being replaced); returns the order's id.
        A 4xx is a failure.
        """
        key = uuid.uuid4().hex
        lines = list(items)
        deadline = asyncio.get_running_loop().time() + within
        while True:
            try:
                response = await self.place_order(buyer, lines, payment_method, key)
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code in (200, 201, 202):
                return str(response.json()["id"])
            if response is not None and response.status_code < 500:
                raise AssertionError(f"order refused: {response.status_code} {response.text}")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"orders did not accept the order within {within:.0f}s")
            await asyncio.sleep(0.25)

    async def order(self, buyer: Mapping[str, Any], order_id: str) -> dict[str, Any]:
        """Return one of the buyer's orders."""
        response = await self.http.get(
            self.url("orders", f"/api/orders/{order_id}"), headers=buyer["headers"]
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    async def wait_for_status(
        self,
        buyer: Mapping[str, Any],
        order_id: str,
        statuses: Iterable[str] = TERMINAL_STATUSES,
        within: float = 30.0,
    ) -> dict[str, Any]:
        """Wait until the order's status is one of ``statuses``; return it."""
        wanted = set(statuses)

        async def reached() -> dict[str, Any] | None:
            order = await self.order(buyer, order_id)
            return order if order["status"] in wanted else None

        return await eventually(
            reached, within=within, interval=0.1, what=f"order {order_id} in {sorted(wanted)}"
        )

    async def cancel(self, buyer: Mapping[str, Any], order_id: str) -> httpx.Response:
        """Ask to cancel an order."""
        return await self.http.post(
            self.url("orders", f"/api/orders/{order_id}/cancel"), headers=buyer["headers"]
        )

    async def payments(self, buyer: Mapping[str, Any], order_id: str) -> list[dict[str, Any]]:
        """Return the payments of one order, as its buyer sees them."""
        response = await self.http.get(
            self.url("payments", "/api/payments"),
            params={"order_id": order_id},
            headers=buyer["headers"],
        )
        response.raise_for_status()
        body = response.json()
        items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
        return items

    async def notifications(self, user: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Return the user's notifications, newest first."""
        response = await self.http.get(
            self.url("notifications", "/api/notifications"),
            params={"limit": 100},
            headers=user["headers"],
        )
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def wait_for_notification(
        self, user: Mapping[str, Any], kind: str, within: float = 20.0
    ) -> list[dict[str, Any]]:
        """Wait until the user has a notification of ``kind``; return all of that kind."""

        async def found() -> list[dict[str, Any]]:
            return [n for n in await self.notifications(user) if n["kind"] == kind]

        return await eventually(found, within=within, interval=0.2, what=f"a {kind} notice")
