"""Use cases driven by other services' events: the orders side of the saga (choreography).

``inventory.reserved`` prices the order (catalog's prices are authoritative) and reserves it;
``inventory.rejected`` rejects it; a payment outcome confirms or cancels it. Each goes through
:func:`souk_orders.transitions.apply`, so an event for an order that already ended, or a
duplicate under a new event id, changes nothing and is logged, never raised (raising would
retry the entry and finally dead-letter it).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.logging import get_logger
from souk_contracts.events import (
    InventoryRejectedV1,
    InventoryReservedV1,
    PaymentFailedV1,
    PaymentSucceededV1,
)
from souk_orders.models import Order
from souk_orders.states import OrderStatus, Trigger
from souk_orders.transitions import Effects, Outcome, apply

log = get_logger(__name__)


def _store_prices(payload: InventoryReservedV1) -> Callable[[Order, tuple[OrderStatus, ...]], None]:
    def store(order: Order, path: tuple[OrderStatus, ...]) -> None:
        # Price the order when it is reserved now, or when a payment outcome got here first
        # and confirmed it (the lines are still unpriced then).
        unpriced = any(line.unit_price is None for line in order.lines)
        if not (path or (order.status == OrderStatus.CONFIRMED and unpriced)):
            return
        prices = {line.product_id: line for line in payload.lines}
        for line in order.lines:
            priced = prices.get(line.product_id)
            if priced is not None:
                line.unit_price, line.line_total = priced.unit_price, priced.line_total
        order.total, order.currency = payload.total, payload.currency

    return store


async def on_inventory_reserved(
    session: AsyncSession, effects: Effects, payload: InventoryReservedV1
) -> Outcome:
    """PENDING → RESERVED with catalog's prices and total."""
    return await apply(
        session,
        effects,
        payload.order_id,
        Trigger.INVENTORY_RESERVED,
        "inventory_reserved",
        before=_store_prices(payload),
    )


async def on_inventory_rejected(
    session: AsyncSession, effects: Effects, payload: InventoryRejectedV1
) -> Outcome:
    """PENDING → REJECTED; ``order.rejected`` carries one reason per failing line."""
    reasons = [f"{line.reason}:{line.product_id}" for line in payload.lines]
    summary = ", ".join(sorted({line.reason for line in payload.lines}))
    return await apply(
        session,
        effects,
        payload.order_id,
        Trigger.INVENTORY_REJECTED,
        f"inventory_rejected: {summary}",
        rejection_reasons=reasons,
    )


async def on_payment_succeeded(
    session: AsyncSession, effects: Effects, payload: PaymentSucceededV1
) -> Outcome:
    """RESERVED → CONFIRMED (through RESERVED if the payment outran inventory.reserved)."""

    def take_amount(order: Order, path: tuple[OrderStatus, ...]) -> None:
        if path and order.total is None:
            # Catalog's event is still on its way; the captured amount is its total.
            order.total, order.currency = payload.amount, payload.currency

    return await apply(
        session,
        effects,
        payload.order_id,
        Trigger.PAYMENT_SUCCEEDED,
        "payment_succeeded",
        before=take_amount,
    )


async def on_payment_failed(
    session: AsyncSession, effects: Effects, payload: PaymentFailedV1
) -> Outcome:
    """RESERVED → CANCELLED (``payment_failed``); catalog releases the stock."""
    outcome = await apply(
        session, effects, payload.order_id, Trigger.PAYMENT_FAILED, "payment_failed"
    )
    if outcome.changed:
        log.info("order_payment_failed", order_id=str(payload.order_id), code=payload.reason)
    return outcome
