"""Request and response bodies of the orders API.

Prices are decimal strings (``"19.90"``) and are ``null`` until catalog priced the order; a
client never sends one. :func:`request_fingerprint` is the canonical form of a placement
request that ``Idempotency-Key`` replays are compared by.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from souk_orders.states import OrderStatus

MAX_LINES = 50
MAX_QUANTITY = 100


class OrderItemIn(BaseModel):
    """One requested line: a product and how many units (1 to 100)."""

    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY, strict=True)]


class OrderCreate(BaseModel):
    """Body of ``POST /api/orders``: 1 to 50 lines, each product at most once, a payment token."""

    model_config = ConfigDict(extra="forbid")

    items: Annotated[list[OrderItemIn], Field(min_length=1, max_length=MAX_LINES)]
    payment_method: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
    ]


def request_fingerprint(body: OrderCreate) -> str:
    """Return the SHA-256 of the canonical body (lines sorted by product: order is irrelevant)."""
    canonical = {
        "items": [
            [str(item.product_id), item.quantity]
            for item in sorted(body.items, key=lambda item: str(item.product_id))
        ],
        "payment_method": body.payment_method,
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class OrderItemOut(BaseModel):
    """One line of an order; the prices appear once catalog reserved the stock."""

    product_id: uuid.UUID
    quantity: int
    unit_price: Decimal | None = None
    line_total: Decimal | None = None


class StatusChangeOut(BaseModel):
    """One transition of an order."""

    status: OrderStatus
    at: datetime
    reason: str


class OrderOut(BaseModel):
    """An order as its buyer (or an admin) sees it."""

    id: uuid.UUID
    buyer_id: uuid.UUID
    status: OrderStatus
    items: list[OrderItemOut]
    total: Decimal | None
    currency: str | None
    payment_method: str
    status_history: list[StatusChangeOut]
    created_at: datetime
    updated_at: datetime


class OrderPage(BaseModel):
    """One page of orders, newest first; follow ``next_cursor`` until it is ``null``."""

    items: list[OrderOut]
    next_cursor: str | None
