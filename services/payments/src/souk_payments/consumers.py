"""Stream handlers of the consumer group ``payments`` on the catalog and orders streams.

Each handler takes its versioned payload (parsed by the runner) and calls one use case of
:mod:`souk_payments.charging` in the runner's transaction (which also records the event id in
the inbox). The use cases are idempotent per order too, so a re-emitted event with a new id
never charges or refunds twice.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.events.envelope import CloudEvent
from souk_common.events.handlers import PayloadHandlers
from souk_common.events.outbox import Outbox
from souk_contracts.events import InventoryReservedV1, OrderCancelledV1
from souk_payments import charging
from souk_payments.context import PaymentsContext
from souk_payments.provider import PaymentProvider


def payment_handlers(
    outbox: Outbox, provider: PaymentProvider, policy: charging.RetryPolicy
) -> PayloadHandlers:
    """Return the handlers for the events payments reacts to."""

    async def on_inventory_reserved(
        payload: InventoryReservedV1, _: CloudEvent, session: AsyncSession
    ) -> None:
        """Charge the order's authoritative total with the buyer's payment method."""
        await charging.charge_order(
            session,
            outbox,
            provider,
            policy,
            order_id=payload.order_id,
            buyer_id=payload.buyer_id,
            amount=payload.total,
            currency=payload.currency,
            token=payload.payment_method,
        )

    async def on_order_cancelled(
        payload: OrderCancelledV1, _: CloudEvent, session: AsyncSession
    ) -> None:
        """Refund a captured payment, or make sure the order is never charged."""
        await charging.cancel_order(
            session, outbox, provider, policy, order_id=payload.order_id, buyer_id=payload.buyer_id
        )

    return {InventoryReservedV1: on_inventory_reserved, OrderCancelledV1: on_order_cancelled}


def build_handlers(context: PaymentsContext) -> PayloadHandlers:
    """Return the handler for each payload model payments consumes (``ServiceDefinition``)."""
    return payment_handlers(context.outbox, context.provider, context.policy)
