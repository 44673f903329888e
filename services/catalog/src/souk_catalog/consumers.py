"""Stream handlers of the consumer group ``catalog`` on the ``orders`` stream.

Each handler takes its versioned payload (parsed by the runner) and calls one use case of
:mod:`souk_catalog.inventory` in the runner's transaction (which also records the event id in
the inbox). The use cases are idempotent per order as well, so a second cancellation with a
new event id is harmless.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from souk_catalog import inventory
from souk_catalog.context import CatalogContext
from souk_common.events.envelope import CloudEvent
from souk_common.events.handlers import PayloadHandlers
from souk_common.events.outbox import Outbox
from souk_contracts.events import OrderCancelledV1, OrderConfirmedV1, OrderPlacedV1


def order_handlers(outbox: Outbox, policy: inventory.StockPolicy) -> PayloadHandlers:
    """Return the handlers for the order events, emitting through ``outbox``."""

    async def on_order_placed(payload: OrderPlacedV1, _: CloudEvent, session: AsyncSession) -> None:
        """Reserve the order's lines (or reject it) and emit the outcome."""
        await inventory.reserve_order(
            session,
            outbox,
            policy,
            order_id=payload.order_id,
            buyer_id=payload.buyer_id,
            items=payload.items,
            payment_method=payload.payment_method,
        )

    async def on_order_cancelled(
        payload: OrderCancelledV1, _: CloudEvent, session: AsyncSession
    ) -> None:
        """Release the order's reservation (compensation)."""
        await inventory.release_order(session, outbox, payload.order_id)

    async def on_order_confirmed(
        payload: OrderConfirmedV1, _: CloudEvent, session: AsyncSession
    ) -> None:
        """Turn the order's reservation into a sale."""
        await inventory.confirm_order(session, payload.order_id)

    return {
        OrderPlacedV1: on_order_placed,
        OrderCancelledV1: on_order_cancelled,
        OrderConfirmedV1: on_order_confirmed,
    }


def build_handlers(context: CatalogContext) -> PayloadHandlers:
    """Return the handler for each payload model catalog consumes (``ServiceDefinition``)."""
    return order_handlers(context.outbox, context.policy)
