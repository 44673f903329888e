"""Souk's shared service infrastructure (no domain code).

The modules are small and have one role each: ``settings`` (typed, fail-fast), ``logging``
(structlog JSON with redaction), ``correlation`` (X-Request-ID), ``streams`` (stream names),
``telemetry`` (OpenTelemetry), ``metrics`` (Prometheus), ``db``, ``pagination`` and
``migrations`` (async SQLAlchemy, keyset cursors, Alembic), ``errors`` (problem+json and
the 500 boundary), ``inputs`` (input rules of every request), ``asgi`` (middleware base),
``health``, ``security`` (JWT/JWKS), ``events`` (CloudEvents on Redis Streams, outbox,
consumer runner), ``provisioning`` (databases, roles, streams), ``app`` (the app factory),
``service`` and ``cli`` (how a service declares and runs itself) and ``testing`` (test
helpers).

Heavy dependencies sit behind extras (``db``, ``redis``, ``http``, ``provisioning``;
``service`` is all a service needs), so this package re-exports only what every process can
import: settings, logging and correlation. Everything else is imported from its module, e.g.
``from souk_common.app import create_service_app``.
"""

from souk_common.correlation import correlation_scope, get_correlation_id
from souk_common.logging import configure_logging, get_logger
from souk_common.settings import ServiceSettings, SettingsError, load_settings

__all__ = [
    "ServiceSettings",
    "SettingsError",
    "configure_logging",
    "correlation_scope",
    "get_correlation_id",
    "get_logger",
    "load_settings",
]
