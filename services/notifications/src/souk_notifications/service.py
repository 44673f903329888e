"""Use cases of the notifications service, shared by the event handlers and the HTTP API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.errors import NotFoundError
from souk_common.logging import get_logger
from souk_common.telemetry import annotate
from souk_notifications import repository
from souk_notifications.models import Notification

IN_APP_CHANNEL = "in_app"
log = get_logger(__name__)


async def notify(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    kind: str,
    title: str,
    body: str,
    source_event_id: str,
) -> bool:
    """Store a notification for ``user_id`` and deliver it in-app; False when it existed."""
    notification_id = await repository.insert_notification(
        session,
        user_id=user_id,
        kind=kind,
        title=title,
        body=body,
        source_event_id=source_event_id,
    )
    if notification_id is None:
        return False
    annotate(user_id=user_id, notification_id=notification_id)
    await repository.record_delivery(session, notification_id, IN_APP_CHANNEL, "delivered")
    log.info("notification_created", kind=kind, user_id=str(user_id))
    return True


async def list_notifications(
    session: AsyncSession, user_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[Notification], str | None]:
    """Return one page of the user's notifications and the cursor of the next page."""
    rows = await repository.list_for_user(session, user_id, limit + 1, cursor)
    page = rows[:limit]
    next_cursor = repository.cursor_after(page[-1]) if len(rows) > limit else None
    return page, next_cursor


async def mark_read(
    session: AsyncSession, notification_id: uuid.UUID, user_id: uuid.UUID
) -> Notification:
    """Mark the caller's notification read; 404 when it is not theirs (no existence leak)."""
    notification = await repository.get_for_user(session, notification_id, user_id)
    if notification is None:
        raise NotFoundError("notification not found")
    if notification.read_at is None:
        notification.read_at = datetime.now(UTC)
    return notification
