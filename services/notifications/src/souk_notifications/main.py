"""App factory of the notifications service."""

from __future__ import annotations

from fastapi import FastAPI

from souk_common.app import ServiceDefinition, create_service_app
from souk_common.settings import load_settings
from souk_contracts.topology import SERVICES
from souk_notifications.api.notifications import router as notifications_router
from souk_notifications.config import NotificationsSettings
from souk_notifications.consumers import build_handlers
from souk_notifications.models import tables


def create_app(settings: NotificationsSettings | None = None) -> FastAPI:
    """Return the notifications app (settings from the environment unless given)."""
    return create_service_app(
        settings or load_settings(NotificationsSettings),
        ServiceDefinition(
            title="Souk notifications",
            migrations_package="souk_notifications",
            routers=[notifications_router],
            event_tables=tables,
            subscribes=SERVICES["notifications"].subscribes,
            handlers=build_handlers,
        ),
    )
