"""Stream handlers of the consumer group ``orders`` on the catalog and payments streams.

Each handler takes its versioned payload (parsed by the runner) and calls one use case of
:mod:`souk_orders.saga` in the runner's transaction (which also records the event id in the
inbox). Events orders does not act on (released stock, low stock, refunds) have no handler and
are acknowledged as ``ignored`` by the runner.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.app import ServiceRuntime
from souk_common.events.envelope import CloudEvent
from souk_common.events.handlers import PayloadHandlers
from souk_contracts.events import (
    InventoryRejectedV1,
    InventoryReservedV1,
    PaymentFailedV1,
    PaymentSucceededV1,
)
from souk_orders import saga
from souk_orders.status_feed import StatusPublisher
from souk_orders.transitions import Effects


def saga_handlers(effects: Effects) -> PayloadHandlers:
    """Return the handlers for catalog's and payments' events."""

    async def on_inventory_reserved(
        payload: InventoryReservedV1, _: CloudEvent, session: AsyncSession
    ) -> None:
        """Store catalog's prices and mark the order reserved."""
        await saga.on_inventory_reserved(session, effects, payload)

    async def on_inventory_rejected(
        payload: InventoryRejectedV1, _: CloudEvent, session: AsyncSession
    ) -> None:
        """Reject the order and emit its rejection."""
        await saga.on_inventory_rejected(session, effects, payload)

    async def on_payment_succeeded(
        payload: PaymentSucceededV1, _: CloudEvent, session: AsyncSession
    ) -> None:
        """Confirm the order and emit its confirmation."""
        await saga.on_payment_succeeded(session, effects, payload)

    async def on_payment_failed(
        payload: PaymentFailedV1, _: CloudEvent, session: AsyncSession
    ) -> None:
        """Cancel the order and emit its cancellation."""
        await saga.on_payment_failed(session, effects, payload)

    return {
        InventoryReservedV1: on_inventory_reserved,
        InventoryRejectedV1: on_inventory_rejected,
        PaymentSucceededV1: on_payment_succeeded,
        PaymentFailedV1: on_payment_failed,
    }


def effects_of(runtime: ServiceRuntime) -> Effects:
    """Return the outbox and status publisher of a running orders service."""
    if runtime.outbox is None:
        raise RuntimeError("the orders app was built without event tables")
    return Effects(runtime.outbox, StatusPublisher(runtime.redis, runtime.settings.stream_prefix))


def build_handlers(runtime: ServiceRuntime) -> PayloadHandlers:
    """Return the handler for each event type orders consumes (``ServiceDefinition``)."""
    return saga_handlers(effects_of(runtime))
