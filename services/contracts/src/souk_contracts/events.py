"""Versioned event payload models, each bound to its CloudEvents ``type`` once.

Every event model names its type in the class attribute ``event_type``; producers pass the
model to ``Outbox.add`` and consumers key their handlers by the model, so a type string is
written here and nowhere else. :data:`EVENT_PAYLOADS` (every event type and its model) is
derived from the models.

A payload model never loses a field within a version; a breaking change adds a ``V2`` model
and producers emit both types until every consumer reads the new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class EventPayload(BaseModel):
    """Base of every payload: immutable, unknown fields ignored (forward compatible).

    An event's model sets ``event_type``; a part of a payload (a line) leaves it unset.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")
    event_type: ClassVar[str]


class UserRegisteredV1(EventPayload):
    """``user.registered``: a new account exists."""

    event_type: ClassVar[str] = "user.registered"
    schema_version: Literal[1] = 1
    user_id: UUID
    email: str
    display_name: str
    role: Literal["buyer", "seller", "admin"]


# Money travels as a decimal string with two places ("19.90"): Pydantic renders Decimal as a
# string in JSON, so no float ever carries a price.
Money = Annotated[Decimal, Field(max_digits=14, decimal_places=2, ge=0)]
Quantity = Annotated[int, Field(ge=1, le=1_000_000)]


class OrderItemV1(EventPayload):
    """One requested line of an order: a product and how many units."""

    product_id: UUID
    quantity: Quantity


class OrderPlacedV1(EventPayload):
    """``order.placed``: a buyer placed an order; catalog prices and reserves it."""

    event_type: ClassVar[str] = "order.placed"
    schema_version: Literal[1] = 1
    order_id: UUID
    buyer_id: UUID
    items: list[OrderItemV1] = Field(min_length=1)
    payment_method: str | None = None


class OrderConfirmedV1(EventPayload):
    """``order.confirmed``: the order was paid; its reserved units are sold."""

    event_type: ClassVar[str] = "order.confirmed"
    schema_version: Literal[1] = 1
    order_id: UUID
    buyer_id: UUID
    total: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class OrderCancelledV1(EventPayload):
    """``order.cancelled``: the order ended without a sale; reserved units return to stock.

    ``reason`` is one of ``buyer_cancelled``, ``payment_failed``, ``timeout`` (orders may add
    more; consumers treat unknown reasons as plain text).
    """

    event_type: ClassVar[str] = "order.cancelled"
    schema_version: Literal[1] = 1
    order_id: UUID
    buyer_id: UUID
    reason: str


class OrderRejectedV1(EventPayload):
    """``order.rejected``: catalog could not reserve the order; nothing was held or charged.

    Added to DESIGN.md's list so that notifications (which reads orders, not catalog) can tell
    the buyer about every terminal state from the order's own stream.
    """

    event_type: ClassVar[str] = "order.rejected"
    schema_version: Literal[1] = 1
    order_id: UUID
    buyer_id: UUID
    reasons: list[str] = Field(min_length=1)


class ReservedLineV1(EventPayload):
    """One reserved line, priced by catalog (never by the client)."""

    product_id: UUID
    quantity: Quantity
    unit_price: Money
    line_total: Money


class InventoryReservedV1(EventPayload):
    """``inventory.reserved``: every line is held; ``total`` is authoritative for the order.

    One order has one currency: an order whose products are priced in different currencies
    is rejected (reason ``currency_mismatch``) rather than summed.
    """

    event_type: ClassVar[str] = "inventory.reserved"
    schema_version: Literal[1] = 1
    order_id: UUID
    buyer_id: UUID
    lines: list[ReservedLineV1]
    total: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    # Copied from ``order.placed``, so payments can charge without waiting for the orders
    # stream (which it reads separately, with no ordering across streams). A token such as
    # ``pm_card_visa``, never card data.
    payment_method: str | None = None


RejectionReason = Literal[
    "out_of_stock", "unknown_product", "inactive_product", "currency_mismatch"
]


class RejectedLineV1(EventPayload):
    """One line that could not be reserved, and why (``available`` for ``out_of_stock``)."""

    product_id: UUID
    quantity: Quantity
    reason: RejectionReason
    available: int | None = None


class InventoryRejectedV1(EventPayload):
    """``inventory.rejected``: nothing was reserved; ``lines`` lists each failing line."""

    event_type: ClassVar[str] = "inventory.rejected"
    schema_version: Literal[1] = 1
    order_id: UUID
    buyer_id: UUID
    lines: list[RejectedLineV1] = Field(min_length=1)


class ReleasedLineV1(EventPayload):
    """Units of one product returned to stock."""

    product_id: UUID
    quantity: Quantity


class InventoryReleasedV1(EventPayload):
    """``inventory.released``: a cancelled order's units are available again."""

    event_type: ClassVar[str] = "inventory.released"
    schema_version: Literal[1] = 1
    order_id: UUID
    lines: list[ReleasedLineV1]


class ProductLowStockV1(EventPayload):
    """``product.low_stock``: a product's available units fell to or below the threshold."""

    event_type: ClassVar[str] = "product.low_stock"
    schema_version: Literal[1] = 1
    product_id: UUID
    seller_id: UUID
    stock: int = Field(ge=0)
    threshold: int = Field(ge=0)


class PaymentSucceededV1(EventPayload):
    """``payment.succeeded``: the order's total was captured."""

    event_type: ClassVar[str] = "payment.succeeded"
    schema_version: Literal[1] = 1
    order_id: UUID
    buyer_id: UUID
    payment_id: UUID
    amount: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class PaymentFailedV1(EventPayload):
    """``payment.failed``: the charge was declined for good; the order will be cancelled."""

    event_type: ClassVar[str] = "payment.failed"
    schema_version: Literal[1] = 1
    order_id: UUID
    buyer_id: UUID
    payment_id: UUID
    # Stable code from the provider, e.g. ``card_declined``, ``unknown_payment_method``.
    reason: str


class PaymentRefundedV1(EventPayload):
    """``payment.refunded``: a captured payment of a cancelled order was refunded in full."""

    event_type: ClassVar[str] = "payment.refunded"
    schema_version: Literal[1] = 1
    order_id: UUID
    buyer_id: UUID
    payment_id: UUID
    refund_id: UUID
    amount: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")


EVENT_PAYLOADS: Mapping[str, type[EventPayload]] = {
    model.event_type: model
    for model in (
        UserRegisteredV1,
        OrderPlacedV1,
        OrderConfirmedV1,
        OrderCancelledV1,
        OrderRejectedV1,
        InventoryReservedV1,
        InventoryRejectedV1,
        InventoryReleasedV1,
        ProductLowStockV1,
        PaymentSucceededV1,
        PaymentFailedV1,
        PaymentRefundedV1,
    )
}
