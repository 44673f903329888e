"""Stream handlers: turn other services' events into notifications for their users."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.app import ServiceRuntime
from souk_common.events.consumer import EventHandler
from souk_common.events.envelope import CloudEvent
from souk_contracts.events import UserRegisteredV1
from souk_notifications.service import notify


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


def build_handlers(_: ServiceRuntime) -> Mapping[str, EventHandler]:
    """Return the handler for each event type this service consumes."""
    return {"user.registered": on_user_registered}
