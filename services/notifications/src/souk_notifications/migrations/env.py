"""Alembic environment of the notifications service."""

from souk_common.migrations import run_alembic_env
from souk_notifications.models import Base

run_alembic_env(Base.metadata)
