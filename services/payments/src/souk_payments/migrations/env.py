"""Alembic environment of the payments service."""

from souk_common.migrations import run_alembic_env
from souk_payments.models import Base

run_alembic_env(Base.metadata)
