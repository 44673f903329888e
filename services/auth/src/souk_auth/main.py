"""App factory of the auth service (``uvicorn --factory souk_auth.main:create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from souk_auth.api import ROUTERS
from souk_auth.components import build_components, signing_key_source
from souk_auth.config import AuthSettings
from souk_auth.models import tables
from souk_common.app import ServiceDefinition, create_service_app
from souk_common.settings import load_settings


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    """Return the auth app; settings come from the environment unless given."""
    return create_service_app(
        settings or load_settings(AuthSettings),
        ServiceDefinition(
            title="Souk auth",
            migrations_package="souk_auth",
            context=build_components,
            routers=ROUTERS,
            event_tables=tables,
            key_source=signing_key_source,
        ),
    )
