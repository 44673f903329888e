"""App factory of the payments service (``uvicorn --factory souk_payments.main:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from souk_common.app import ServiceDefinition, create_service_app
from souk_common.settings import load_settings
from souk_contracts.topology import SERVICES
from souk_payments.api import ROUTERS
from souk_payments.config import PaymentsSettings
from souk_payments.consumers import build_handlers
from souk_payments.context import build_context
from souk_payments.models import tables


def create_app(settings: PaymentsSettings | None = None) -> FastAPI:
    """Return the payments app; settings come from the environment unless given."""
    return create_service_app(
        settings or load_settings(PaymentsSettings),
        ServiceDefinition(
            title="Souk payments",
            migrations_package="souk_payments",
            context=build_context,
            routers=ROUTERS,
            event_tables=tables,
            subscribes=SERVICES["payments"].subscribes,
            handlers=build_handlers,
        ),
    )
