"""The migration creates exactly what the models describe (one source of truth, checked)."""

from souk_common.migrations import schema_drift, upgrade_to_head
from souk_notifications.models import Base


async def test_models_and_migrations_agree(database_url):
    await upgrade_to_head("souk_notifications", database_url)
    assert await schema_drift(database_url, Base.metadata) == []
