"""Queries on the notifications tables."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

from sqlalchemy import literal, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.errors import ValidationFailedError
from souk_notifications.models import DeliveryAttempt, Notification


def encode_cursor(notification: Notification) -> str:
    """Return an opaque cursor that points just after ``notification``."""
    raw = f"{notification.created_at.isoformat()}|{notification.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Decode a cursor from :func:`encode_cursor`; a bad one is a 422 naming ``cursor``."""
    try:
        created_at, _, identifier = (
            base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        )
        return datetime.fromisoformat(created_at), uuid.UUID(identifier)
    except ValueError:
        raise ValidationFailedError("query.cursor", "is not a valid cursor") from None


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
        created_at, identifier = decode_cursor(cursor)
        query = query.where(
            tuple_(Notification.created_at, Notification.id)
            < tuple_(literal(created_at), literal(identifier))
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
