"""App factory of the catalog service (``uvicorn --factory souk_catalog.main:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from souk_catalog.api import ROUTERS
from souk_catalog.config import CatalogSettings
from souk_catalog.consumers import build_handlers
from souk_catalog.context import build_context
from souk_catalog.models import tables
from souk_common.app import ServiceDefinition, create_service_app
from souk_common.settings import load_settings
from souk_contracts.topology import SERVICES


def create_app(settings: CatalogSettings | None = None) -> FastAPI:
    """Return the catalog app; settings come from the environment unless given."""
    return create_service_app(
        settings or load_settings(CatalogSettings),
        ServiceDefinition(
            title="Souk catalog",
            migrations_package="souk_catalog",
            context=build_context,
            routers=ROUTERS,
            event_tables=tables,
            subscribes=SERVICES["catalog"].subscribes,
            handlers=build_handlers,
        ),
    )
