"""Typed service settings read from the environment, validated once at start-up.

Every service subclasses :class:`ServiceSettings`. A missing or malformed value stops the
process with one line that names the variable (see :func:`load_settings`), never with a
traceback that an operator has to read backwards.
"""

from __future__ import annotations

import socket
import sys
from typing import Literal, TypeVar
from urllib.parse import quote

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SettingsT = TypeVar("SettingsT", bound=BaseSettings)

_DATABASE_SCHEMES = ("postgresql://", "postgresql+asyncpg://", "postgres://")
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class SettingsError(SystemExit):
    """Raised when settings are invalid: exits the process with one clear line."""


class ServiceSettings(BaseSettings):
    """Settings every Souk service reads; services add their own fields in a subclass."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    # Name of the service: used in logs, metrics, events (`source`) and the consumer group.
    service_name: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9-]*$")
    # Full database URL; when unset it is built from the libpq variables PG*.
    database_url: str | None = None
    pghost: str | None = None
    pgport: int = 5432
    pgdatabase: str | None = None
    pguser: str | None = None
    pgpassword: str | None = Field(default=None, repr=False)
    # Redis connection used for streams, throttling and caches.
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Prefix of every stream key, e.g. "shop:" (empty locally).
    stream_prefix: str = ""
    # JWKS endpoint of the auth service (services other than auth verify tokens with it).
    auth_jwks_url: str | None = None
    # Logging: level and format ("json" for machines, "console" for humans).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    # Run the outbox relay and stream consumers inside the API process.
    run_workers: bool = True
    # Event layer tuning: batch size, block time, reclaim idle time, dead-letter threshold.
    stream_batch_size: int = Field(default=64, ge=1, le=1000)
    stream_block_ms: int = Field(default=1000, ge=1)
    stream_claim_idle_ms: int = Field(default=30_000, ge=1)
    stream_max_deliveries: int = Field(default=5, ge=1)
    stream_max_length: int = Field(default=100_000, ge=1)
    outbox_poll_interval_ms: int = Field(default=200, ge=1)
    # Handled event ids are kept this long for deduplication, then pruned (see
    # souk_common.events.inbox_pruning); redeliveries come within minutes.
    inbox_retention_hours: float = Field(default=168.0, gt=0)
    # Consumer name within the group: stable across restarts of the same pod/host, so a
    # restarted process resumes its own pending entries first.
    consumer_name: str = Field(default_factory=socket.gethostname, min_length=1)
    # Database connections per process for HTTP requests (plus up to half as many again
    # under bursts).
    db_pool_size: int = Field(default=10, ge=1)
    # Connections of the event workers (outbox relay, consumer group, background loops): a
    # pool of their own, so a burst of HTTP requests can never starve the saga's consumers.
    db_worker_pool_size: int = Field(default=3, ge=1)

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str) -> str:
        if not value.startswith(_REDIS_SCHEMES):
            raise ValueError(f"must start with one of {', '.join(_REDIS_SCHEMES)}")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(_DATABASE_SCHEMES):
            raise ValueError("must be a postgresql:// URL")
        return value

    @model_validator(mode="after")
    def _require_database(self) -> ServiceSettings:
        if self.database_url is None and not (self.pghost and self.pgdatabase and self.pguser):
            raise ValueError(
                "DATABASE_URL is not set (nor PGHOST, PGDATABASE and PGUSER): "
                "set DATABASE_URL=postgresql://user:password@host:5432/dbname"
            )
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in the form SQLAlchemy's asyncpg dialect expects."""
        if self.database_url is not None:
            url = self.database_url
        else:
            auth = quote(self.pguser or "", safe="")
            if self.pgpassword:
                auth += ":" + quote(self.pgpassword, safe="")
            url = f"postgresql://{auth}@{self.pghost}:{self.pgport}/{self.pgdatabase}"
        for scheme in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
            if url.startswith(scheme):
                return "postgresql+asyncpg://" + url[len(scheme) :]
        return url


def describe_validation_error(error: ValidationError, env_prefix: str = "") -> str:
    """Render a settings validation error as one line naming each bad variable.

    A field's variable is ``env_prefix`` plus its name; a location that is already a
    variable (an alias such as ``POD_NAME``) is kept as it is.
    """
    parts = []
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        if loc and loc[0].islower():
            loc[0] = env_prefix + loc[0]
        name = "_".join(loc).upper() or "settings"
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{name}: {message}" if item["loc"] else message)
    return "; ".join(parts)


def load_settings(settings_class: type[SettingsT], **overrides: object) -> SettingsT:
    """Build settings from the environment or exit with one line naming what is wrong."""
    try:
        return settings_class(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        prefix = str(settings_class.model_config.get("env_prefix") or "")
        reason = describe_validation_error(error, prefix)
        line = f"invalid settings for {settings_class.__name__}: {reason}"
        print(line, file=sys.stderr)
        raise SettingsError(2) from None
