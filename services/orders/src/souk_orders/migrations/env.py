"""Alembic environment of the orders service."""

from souk_common.migrations import run_alembic_env
from souk_orders.models import Base

run_alembic_env(Base.metadata)
