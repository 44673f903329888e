"""Response bodies of the notifications API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class NotificationOut(BaseModel):
    """One notification as its owner sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    """A page of notifications, newest first; follow ``next_cursor`` for the next page."""

    items: list[NotificationOut]
    next_cursor: str | None
