"""Alembic environment of the catalog service."""

from souk_catalog.models import Base
from souk_common.migrations import run_alembic_env

run_alembic_env(Base.metadata)
