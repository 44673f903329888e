"""Alembic environment: delegates to Souk's shared runner with the auth metadata."""

from souk_auth.models import Base
from souk_common.migrations import run_alembic_env

run_alembic_env(Base.metadata)
