"""Souk's shared service infrastructure (no domain code).

The public face is re-exported here; the modules are small and have one role each:
``settings`` (typed, fail-fast), ``logging`` (structlog JSON with redaction), ``correlation``
(X-Request-ID), ``telemetry`` (OpenTelemetry), ``metrics`` (Prometheus), ``db`` and
``migrations`` (async SQLAlchemy, Alembic), ``errors`` (problem+json), ``health``,
``security`` (JWT/JWKS), ``events`` (CloudEvents on Redis Streams, outbox, consumer runner),
``provisioning`` (databases, roles, streams), ``app`` (the app factory), ``service`` and
``cli`` (how a service declares and runs itself) and ``testing`` (pytest fixtures).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from souk_common.lazy import lazy_exports

if TYPE_CHECKING:
    from souk_common.app import ServiceDefinition, ServiceRuntime, create_service_app
    from souk_common.correlation import correlation_scope, get_correlation_id
    from souk_common.db import Database, DatabaseDep, SessionDep
    from souk_common.errors import (
        BadRequestError,
        ConflictError,
        ForbiddenError,
        NotFoundError,
        RateLimitedError,
        ServiceUnavailableError,
        SoukError,
        UnauthorizedError,
        ValidationFailedError,
    )
    from souk_common.logging import configure_logging, get_logger
    from souk_common.security import AdminUser, CurrentUser, OptionalUser, Principal, SellerUser
    from souk_common.service import ServiceManifest
    from souk_common.settings import ServiceSettings, load_settings

# Re-exports load lazily, so importing one light module (say souk_common.logging, from the
# operator) does not pull in FastAPI, SQLAlchemy and OpenTelemetry.
_EXPORTS: dict[str, str] = {
    "AdminUser": "souk_common.security",
    "BadRequestError": "souk_common.errors",
    "ConflictError": "souk_common.errors",
    "CurrentUser": "souk_common.security",
    "Database": "souk_common.db",
    "DatabaseDep": "souk_common.db",
    "ForbiddenError": "souk_common.errors",
    "NotFoundError": "souk_common.errors",
    "OptionalUser": "souk_common.security",
    "Principal": "souk_common.security",
    "RateLimitedError": "souk_common.errors",
    "SellerUser": "souk_common.security",
    "ServiceDefinition": "souk_common.app",
    "ServiceManifest": "souk_common.service",
    "ServiceRuntime": "souk_common.app",
    "ServiceSettings": "souk_common.settings",
    "ServiceUnavailableError": "souk_common.errors",
    "SessionDep": "souk_common.db",
    "SoukError": "souk_common.errors",
    "UnauthorizedError": "souk_common.errors",
    "ValidationFailedError": "souk_common.errors",
    "configure_logging": "souk_common.logging",
    "correlation_scope": "souk_common.correlation",
    "create_service_app": "souk_common.app",
    "get_correlation_id": "souk_common.correlation",
    "get_logger": "souk_common.logging",
    "load_settings": "souk_common.settings",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "AdminUser",
    "BadRequestError",
    "ConflictError",
    "CurrentUser",
    "Database",
    "DatabaseDep",
    "ForbiddenError",
    "NotFoundError",
    "OptionalUser",
    "Principal",
    "RateLimitedError",
    "SellerUser",
    "ServiceDefinition",
    "ServiceManifest",
    "ServiceRuntime",
    "ServiceSettings",
    "ServiceUnavailableError",
    "SessionDep",
    "SoukError",
    "UnauthorizedError",
    "ValidationFailedError",
    "configure_logging",
    "correlation_scope",
    "create_service_app",
    "get_correlation_id",
    "get_logger",
    "load_settings",
]
