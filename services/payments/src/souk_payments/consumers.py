"""Stream handlers of the consumer group ``payments`` on the catalog and orders streams.

Each handler parses the versioned payload and calls one use case of
:mod:`souk_payments.charging` in the runner's transaction (which also records the event id in
the inbox). The use cases are idempotent per order too, so a re-emitted event with a new id
never charges or refunds twice.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.app import ServiceRuntime
from souk_common.events.consumer import EventHandler
from souk_common.events.envelope import CloudEvent
from souk_common.events.outbox import Outbox
from souk_contracts.events import InventoryReservedV1, OrderCancelledV1
from souk_payments import charging
from souk_payments.config import PaymentsSettings
from souk_payments.provider import PaymentProvider, RedisMemory, build_provider

PROVIDER_KEY = "payment_provider"


def payment_handlers(
    outbox: Outbox, provider: PaymentProvider, policy: charging.RetryPolicy
) -> Mapping[str, EventHandler]:
    """Return the handlers for the events payments reacts to."""

    async def on_inventory_reserved(event: CloudEvent, session: AsyncSession) -> None:
        """Charge the order's authoritative total with the buyer's payment method."""
        payload = InventoryReservedV1.model_validate(event.data)
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

    async def on_order_cancelled(event: CloudEvent, session: AsyncSession) -> None:
        """Refund a captured payment, or make sure the order is never charged."""
        payload = OrderCancelledV1.model_validate(event.data)
        await charging.cancel_order(
            session, outbox, provider, policy, order_id=payload.order_id, buyer_id=payload.buyer_id
        )

    return {"inventory.reserved": on_inventory_reserved, "order.cancelled": on_order_cancelled}


def build_handlers(runtime: ServiceRuntime) -> Mapping[str, EventHandler]:
    """Return the handler for each event type payments consumes (``ServiceDefinition``).

    The provider is kept in ``runtime.extras["payment_provider"]`` (a test may read it there).
    """
    if runtime.outbox is None:
        raise RuntimeError("the payments app was built without event tables")
    settings = runtime.settings
    # The simulated provider's idempotency memory lives in Redis, shared by every replica.
    memory = RedisMemory(runtime.redis, f"{settings.stream_prefix}payments:provider:")
    if isinstance(settings, PaymentsSettings):
        provider = build_provider(settings.payment_provider, memory)
        policy = charging.RetryPolicy(
            settings.provider_attempts, settings.provider_backoff_ms / 1000
        )
    else:  # a generic ServiceSettings (tools): the defaults
        provider, policy = build_provider("simulated", memory), charging.RetryPolicy()
    runtime.extras[PROVIDER_KEY] = provider
    return payment_handlers(runtime.outbox, provider, policy)
