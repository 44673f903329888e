"""What the buyer reads for each order outcome: titles and bodies built from event payloads.

Pure functions, so the wording is tested without a database. Amounts are the decimal strings
of the events (``"42.50 EUR"``); titles carry the order's short id, bodies the full one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from souk_contracts.events import (
    OrderCancelledV1,
    OrderConfirmedV1,
    OrderRejectedV1,
    PaymentRefundedV1,
)

CANCEL_REASONS = {
    "buyer_cancelled": "at your request",
    "payment_failed": "because the payment did not go through",
    "timeout": "because it was not completed in time",
}
REJECT_REASONS = {
    "out_of_stock": "an item is out of stock",
    "unknown_product": "an item no longer exists",
    "inactive_product": "an item is no longer sold",
    "currency_mismatch": "the items are priced in different currencies",
}


@dataclass(frozen=True)
class Message:
    """A notification: who gets it, its kind, title and body."""

    user_id: UUID
    kind: str
    title: str
    body: str


def short(order_id: UUID) -> str:
    """The first eight characters of an order id, as shown in titles."""
    return str(order_id)[:8]


def _reasons(codes: Iterable[str]) -> str:
    texts = list(dict.fromkeys(REJECT_REASONS.get(code, code.replace("_", " ")) for code in codes))
    return "; ".join(texts)


def order_confirmed(payload: OrderConfirmedV1) -> Message:
    """The order was paid and confirmed."""
    return Message(
        payload.buyer_id,
        "order_confirmed",
        f"Order {short(payload.order_id)} confirmed",
        f"Your order {payload.order_id} is confirmed and {payload.total} {payload.currency} "
        "was charged.",
    )


def order_rejected(payload: OrderRejectedV1) -> Message:
    """The order could not be reserved; nothing was charged."""
    return Message(
        payload.buyer_id,
        "order_rejected",
        f"Order {short(payload.order_id)} could not be placed",
        f"Your order {payload.order_id} could not be placed: {_reasons(payload.reasons)}. "
        "Nothing was charged.",
    )


def order_cancelled(payload: OrderCancelledV1) -> Message:
    """The order was cancelled; a payment already taken is refunded separately."""
    why = CANCEL_REASONS.get(payload.reason, f"({payload.reason.replace('_', ' ')})")
    return Message(
        payload.buyer_id,
        "order_cancelled",
        f"Order {short(payload.order_id)} cancelled",
        f"Your order {payload.order_id} was cancelled {why}. "
        "If you were charged, the amount will be refunded.",
    )


def payment_refunded(payload: PaymentRefundedV1) -> Message:
    """A captured payment was refunded in full."""
    return Message(
        payload.buyer_id,
        "payment_refunded",
        f"Refund for order {short(payload.order_id)}",
        f"{payload.amount} {payload.currency} for your order {payload.order_id} was refunded.",
    )
