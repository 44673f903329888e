"""Stream handlers: turn other services' events into notifications for their users.

Each handler notifies the user once per event (``source_event_id`` is unique), so a
redelivered event changes nothing. Wording lives in :mod:`souk_notifications.messages`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.app import ServiceRuntime
from souk_common.events.envelope import CloudEvent
from souk_common.events.handlers import PayloadHandler, PayloadHandlers
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
from souk_notifications.config import NotificationsSettings
from souk_notifications.service import notify

P = TypeVar("P", bound=EventPayload)


async def on_user_registered(
    payload: UserRegisteredV1, event: CloudEvent, session: AsyncSession
) -> None:
    """Welcome a newly registered user."""
    await notify(
        session,
        user_id=payload.user_id,
        kind="welcome",
        title="Welcome to Souk",
        body=f"Hello {payload.display_name}, your {payload.role} account is ready.",
        source_event_id=event.id,
    )


def buyer_handler(compose: Callable[[P], messages.Message]) -> PayloadHandler[P]:
    """Return a handler that stores the message ``compose`` makes of a payload."""

    async def handle(payload: P, event: CloudEvent, session: AsyncSession) -> None:
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

    handle.__doc__ = f"Notify the buyer with ``{compose.__name__}``."
    return handle


def build_handlers(_: ServiceRuntime[NotificationsSettings]) -> PayloadHandlers:
    """Return the handler for each payload model this service consumes."""
    return {
        UserRegisteredV1: on_user_registered,
        OrderConfirmedV1: buyer_handler(messages.order_confirmed),
        OrderRejectedV1: buyer_handler(messages.order_rejected),
        OrderCancelledV1: buyer_handler(messages.order_cancelled),
        PaymentRefundedV1: buyer_handler(messages.payment_refunded),
    }
