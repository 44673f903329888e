"""The migration creates exactly what the models describe (one source of truth, checked)."""

from souk_common.migrations import schema_drift
from souk_payments.models import Base


async def test_models_and_migrations_agree(migrated_database):
    migrated_url = await migrated_database("souk_payments")
    assert await schema_drift(migrated_url, Base.metadata) == []
