"""Versioned event payload models, keyed by CloudEvents ``type``.

A payload model never loses a field within a version; a breaking change adds a ``V2`` model
and producers emit both types until every consumer reads the new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class EventPayload(BaseModel):
    """Base of every payload: immutable, unknown fields ignored (forward compatible)."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class UserRegisteredV1(EventPayload):
    """``user.registered``: a new account exists."""

    schema_version: Literal[1] = 1
    user_id: UUID
    email: str
    display_name: str
    role: Literal["buyer", "seller", "admin"]


EVENT_PAYLOADS: Mapping[str, type[EventPayload]] = {
    "user.registered": UserRegisteredV1,
}


def parse_payload(event_type: str, data: Mapping[str, Any]) -> EventPayload:
    """Validate ``data`` against the model registered for ``event_type``."""
    return EVENT_PAYLOADS[event_type].model_validate(data)
