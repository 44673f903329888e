"""Stream handlers of the consumer group ``orders`` on the catalog and payments streams.

Each handler takes its versioned payload (parsed by the runner) and calls one use case of
:mod:`souk_orders.saga` in the runner's transaction (which also records the event id in the
inbox). Events orders does not act on (released stock, low stock, refunds) have no handler and
are acknowledged as ``ignored`` by the runner.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.events.envelope import CloudEvent
from souk_common.events.handlers import P, PayloadHandler, PayloadHandlers
from souk_contracts.events import (
    InventoryRejectedV1,
    InventoryReservedV1,
    PaymentFailedV1,
    PaymentSucceededV1,
)
from souk_orders import saga
from souk_orders.context import OrdersContext
from souk_orders.transitions import Effects


def saga_handlers(effects: Effects) -> PayloadHandlers:
    """Return the handlers for catalog's and payments' events."""

    def run(use_case: Callable[[AsyncSession, Effects, P], Awaitable[object]]) -> PayloadHandler[P]:
        async def handle(payload: P, _: CloudEvent, session: AsyncSession) -> None:
            await use_case(session, effects, payload)

        handle.__doc__ = use_case.__doc__
        return handle

    return {
        InventoryReservedV1: run(saga.on_inventory_reserved),
        InventoryRejectedV1: run(saga.on_inventory_rejected),
        PaymentSucceededV1: run(saga.on_payment_succeeded),
        PaymentFailedV1: run(saga.on_payment_failed),
    }


def build_handlers(context: OrdersContext) -> PayloadHandlers:
    """Return the handler for each payload model orders consumes (``ServiceDefinition``)."""
    return saga_handlers(context.effects)
