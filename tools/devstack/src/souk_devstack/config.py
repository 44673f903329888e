"""Configuration of a local stack run: where the servers are and how services are named."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from souk_common.provisioning import database_name

DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
_MARKETPLACE_NAME = re.compile(r"^[a-z][a-z0-9]{0,30}$")


@dataclass(frozen=True)
class StackConfig:
    """One local marketplace: its name (database and stream prefix), servers and ports."""

    # Names databases ``<marketplace>_<service>`` and streams ``<marketplace>:...``.
    marketplace: str = "souk"
    # Admin URL of PostgreSQL (needs CREATEDB and CREATEROLE).
    pg_admin_url: str = DEFAULT_PG_ADMIN_URL
    redis_url: str = DEFAULT_REDIS_URL
    # Empty locally by default (DESIGN.md); tests set a unique one.
    stream_prefix: str = ""
    # Added to every service's port from the topology (lets a test stack run beside a dev one).
    port_offset: int = 0
    host: str = "127.0.0.1"
    # Only these services (default: every installed one).
    services: tuple[str, ...] | None = None
    log_format: str = "console"
    log_level: str = "INFO"
    # Where generated credentials and logs are kept.
    state_dir: Path = Path(".souk/local")
    seed: bool = True
    # Extra environment for every service process (e.g. stream tuning in tests).
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _MARKETPLACE_NAME.match(self.marketplace):
            raise ValueError(f"marketplace name {self.marketplace!r} must match [a-z][a-z0-9]*")

    @classmethod
    def from_environment(cls, **overrides: object) -> StackConfig:
        """Read ``SOUK_PG_ADMIN_URL`` and ``REDIS_URL`` (local servers otherwise)."""
        values: dict[str, object] = {
            "pg_admin_url": os.environ.get("SOUK_PG_ADMIN_URL", DEFAULT_PG_ADMIN_URL),
            "redis_url": os.environ.get("REDIS_URL", DEFAULT_REDIS_URL),
            "stream_prefix": os.environ.get("STREAM_PREFIX", ""),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def database_name(self, service: str) -> str:
        """Return the database (and role) name of ``service``."""
        return database_name(self.marketplace, service)
