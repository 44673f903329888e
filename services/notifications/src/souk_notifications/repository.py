"""Queries on the notifications tables."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.pagination import Cursor, after
from souk_notifications.models import DeliveryAttempt, Notification

NEWEST = "newest"  # the one sort order of notification listings


def cursor_after(notification: Notification) -> str:
    """Return the cursor pointing just after ``notification`` (newest-first order)."""
    return Cursor(NEWEST, notification.created_at, notification.id).encode()


async def insert_notification(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    kind: str,
    title: str,
    body: str,
    source_event_id: str,
) -> uuid.UUID | None:
    """Insert a notification unless one exists for the event; return its id when inserted."""
    statement = (
        insert(Notification)
        .values(
            id=uuid.uuid4(),
            user_id=user_id,
            kind=kind,
            title=title,
            body=body,
            source_event_id=source_event_id,
        )
        .on_conflict_do_nothing(index_elements=["source_event_id"])
        .returning(Notification.id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def record_delivery(
    session: AsyncSession, notification_id: uuid.UUID, channel: str, status: str
) -> None:
    """Record one delivery attempt."""
    session.add(DeliveryAttempt(notification_id=notification_id, channel=channel, status=status))
    await session.flush()


async def list_for_user(
    session: AsyncSession, user_id: uuid.UUID, limit: int, cursor: str | None
) -> list[Notification]:
    """Return up to ``limit`` of the user's notifications, newest first, after ``cursor``."""
    query = select(Notification).where(Notification.user_id == user_id)
    if cursor is not None:
        position = Cursor.decode(cursor, NEWEST, datetime)
        query = query.where(
            after(Notification.created_at, Notification.id, position, ascending=False)
        )
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def get_for_user(
    session: AsyncSession, notification_id: uuid.UUID, user_id: uuid.UUID
) -> Notification | None:
    """Return the notification when it belongs to ``user_id``."""
    query = select(Notification).where(
        Notification.id == notification_id, Notification.user_id == user_id
    )
    return (await session.scalars(query)).one_or_none()
