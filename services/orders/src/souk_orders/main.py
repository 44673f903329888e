"""App factory of the orders service (``uvicorn --factory souk_orders.main:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from souk_common.app import ServiceDefinition, create_service_app
from souk_common.settings import load_settings
from souk_contracts.topology import SERVICES
from souk_orders.api import ROUTERS
from souk_orders.config import OrdersSettings
from souk_orders.consumers import build_handlers
from souk_orders.context import build_context
from souk_orders.models import tables
from souk_orders.sweeper import deadline_sweeper


def create_app(settings: OrdersSettings | None = None) -> FastAPI:
    """Return the orders app; settings come from the environment unless given."""
    return create_service_app(
        settings or load_settings(OrdersSettings),
        ServiceDefinition(
            title="Souk orders",
            migrations_package="souk_orders",
            context=build_context,
            routers=ROUTERS,
            event_tables=tables,
            subscribes=SERVICES["orders"].subscribes,
            handlers=build_handlers,
            background=[deadline_sweeper],
        ),
    )
