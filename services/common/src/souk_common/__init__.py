"""Souk's shared service infrastructure (no domain code).

The public face is re-exported here; the modules are small and have one role each:
``settings`` (typed, fail-fast), ``logging`` (structlog JSON with redaction), ``correlation``
(X-Request-ID), ``telemetry`` (OpenTelemetry), ``metrics`` (Prometheus), ``db`` and
``migrations`` (async SQLAlchemy, Alembic), ``errors`` (problem+json), ``health``,
``security`` (JWT/JWKS), ``events`` (CloudEvents on Redis Streams, outbox, consumer runner),
``provisioning`` (databases, roles, streams), ``app`` (the app factory), ``service`` and
``cli`` (how a service declares and runs itself) and ``testing`` (pytest fixtures).
"""

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
