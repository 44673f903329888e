"""Stream handlers: turn other services' events into notifications for their users.

Each handler notifies the user once per event (``source_event_id`` is unique), so a
redelivered event changes nothing. Wording lives in :mod:`souk_notifications.messages`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.app import ServiceRuntime
from souk_common.events.consumer import EventHandler
from souk_common.events.envelope import CloudEvent
from souk_common.telemetry import annotate
from souk_contracts.events import (
    EventPayload,
    OrderCancelledV1,
    OrderConfirmedV1,
    OrderRejectedV1,
    PaymentRefundedV1,
    UserRegisteredV1,
)
from souk_notifications import messages
from souk_notifications.service import notify

P = TypeVar("P", bound=EventPayload)


async def on_user_registered(event: CloudEvent, session: AsyncSession) -> None:
    """Welcome a newly registered user."""
    payload = UserRegisteredV1.model_validate(event.data)
    await notify(
        session,
        user_id=payload.user_id,
        kind="welcome",
        title="Welcome to Souk",
        body=f"Hello {payload.display_name}, your {payload.role} account is ready.",
        source_event_id=event.id,
    )


def buyer_handler(model: type[P], compose: Callable[[P], messages.Message]) -> EventHandler:
    """Return a handler that parses ``model`` and stores the message ``compose`` makes."""

    async def handle(event: CloudEvent, session: AsyncSession) -> None:
        payload = model.model_validate(event.data)
        annotate(order_id=getattr(payload, "order_id", None))
        message = compose(payload)
        await notify(
            session,
            user_id=message.user_id,
            kind=message.kind,
            title=message.title,
            body=message.body,
            source_event_id=event.id,
        )

    handle.__doc__ = f"Notify the buyer of ``{model.__name__}``."
    return handle


def build_handlers(_: ServiceRuntime) -> Mapping[str, EventHandler]:
    """Return the handler for each event type this service consumes."""
    return {
        "user.registered": on_user_registered,
        "order.confirmed": buyer_handler(OrderConfirmedV1, messages.order_confirmed),
        "order.rejected": buyer_handler(OrderRejectedV1, messages.order_rejected),
        "order.cancelled": buyer_handler(OrderCancelledV1, messages.order_cancelled),
        "payment.refunded": buyer_handler(PaymentRefundedV1, messages.payment_refunded),
    }
