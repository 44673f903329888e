"""Stream handlers of the consumer group ``orders`` on the catalog and payments streams.

Each handler parses the versioned payload and calls one use case of :mod:`souk_orders.saga`
in the runner's transaction (which also records the event id in the inbox). Events orders
does not act on (``inventory.released``, ``product.low_stock``, ``payment.refunded``) have no
handler and are acknowledged as ``ignored`` by the runner.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.app import ServiceRuntime
from souk_common.events.consumer import EventHandler
from souk_common.events.envelope import CloudEvent
from souk_contracts.events import (
    InventoryRejectedV1,
    InventoryReservedV1,
    PaymentFailedV1,
    PaymentSucceededV1,
)
from souk_orders import saga
from souk_orders.status_feed import StatusPublisher
from souk_orders.transitions import Effects


def saga_handlers(effects: Effects) -> Mapping[str, EventHandler]:
    """Return the handlers for catalog's and payments' events."""

    async def on_inventory_reserved(event: CloudEvent, session: AsyncSession) -> None:
        """Store catalog's prices and mark the order reserved."""
        await saga.on_inventory_reserved(
            session, effects, InventoryReservedV1.model_validate(event.data)
        )

    async def on_inventory_rejected(event: CloudEvent, session: AsyncSession) -> None:
        """Reject the order and emit order.rejected."""
        await saga.on_inventory_rejected(
            session, effects, InventoryRejectedV1.model_validate(event.data)
        )

    async def on_payment_succeeded(event: CloudEvent, session: AsyncSession) -> None:
        """Confirm the order and emit order.confirmed."""
        await saga.on_payment_succeeded(
            session, effects, PaymentSucceededV1.model_validate(event.data)
        )

    async def on_payment_failed(event: CloudEvent, session: AsyncSession) -> None:
        """Cancel the order and emit order.cancelled."""
        await saga.on_payment_failed(session, effects, PaymentFailedV1.model_validate(event.data))

    return {
        "inventory.reserved": on_inventory_reserved,
        "inventory.rejected": on_inventory_rejected,
        "payment.succeeded": on_payment_succeeded,
        "payment.failed": on_payment_failed,
    }


def effects_of(runtime: ServiceRuntime) -> Effects:
    """Return the outbox and status publisher of a running orders service."""
    if runtime.outbox is None:
        raise RuntimeError("the orders app was built without event tables")
    return Effects(runtime.outbox, StatusPublisher(runtime.redis, runtime.settings.stream_prefix))


def build_handlers(runtime: ServiceRuntime) -> Mapping[str, EventHandler]:
    """Return the handler for each event type orders consumes (``ServiceDefinition``)."""
    return saga_handlers(effects_of(runtime))
