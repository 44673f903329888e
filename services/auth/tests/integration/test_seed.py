"""Demo data: three accounts, created once, each announced by ``user.registered``."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from souk_auth.seed import DEMO_PASSWORD, seed_demo_data


async def test_seed_is_idempotent_and_emits_events(
    migrated_database, redis_prefix, settings_factory
):
    migrated_url = await migrated_database("souk_auth")
    settings = settings_factory(migrated_url, redis_prefix)
    await seed_demo_data(settings)
    await seed_demo_data(settings)

    engine = create_async_engine(migrated_url)
    try:
        async with engine.connect() as connection:
            users = (
                await connection.execute(text("SELECT email, role FROM users ORDER BY email"))
            ).all()
            events = (await connection.execute(text("SELECT type, fields FROM event_outbox"))).all()
    finally:
        await engine.dispose()
    assert users == [
        ("admin@souk.test", "admin"),
        ("buyer@souk.test", "buyer"),
        ("seller@souk.test", "seller"),
    ]
    assert [event_type for event_type, _ in events] == ["user.registered"] * 3
    roles = sorted(json.loads(fields["data"])["role"] for _, fields in events)
    assert roles == ["admin", "buyer", "seller"]
    assert all(fields["correlationid"] for _, fields in events)


async def test_seeded_admin_can_log_in_and_manage_users(api, settings):
    await seed_demo_data(settings)
    response = await api.login("admin@souk.test", DEMO_PASSWORD)
    assert response.status_code == 200, response.text
    users = await api.client.get(
        "/api/auth/users", headers=api.bearer(response.json()["access_token"])
    )
    assert users.status_code == 200
    assert users.json()["total"] == 3
