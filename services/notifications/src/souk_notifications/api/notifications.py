"""``/api/notifications``: the caller's own notifications."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from souk_common.db import SessionDep
from souk_common.security import CurrentUser
from souk_notifications import service
from souk_notifications.schemas import NotificationOut, NotificationPage

router = APIRouter(prefix="/api/notifications", tags=["notifications"])


@router.get("", response_model=NotificationPage)
async def list_own_notifications(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> NotificationPage:
    """List the caller's notifications, newest first."""
    items, next_cursor = await service.list_notifications(session, user.user_id, limit, cursor)
    return NotificationPage(
        items=[NotificationOut.model_validate(item) for item in items], next_cursor=next_cursor
    )


@router.post("/{notification_id}/read", response_model=NotificationOut)
async def mark_notification_read(
    notification_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> NotificationOut:
    """Mark one of the caller's notifications as read."""
    notification = await service.mark_read(session, notification_id, user.user_id)
    return NotificationOut.model_validate(notification)
