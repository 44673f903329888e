"""Fixtures for notifications tests: the app on a migrated database, in its lifespan."""

import asyncio

import pytest

from souk_common.testing import eventually, service_test_settings
from souk_notifications.config import NotificationsSettings
from souk_notifications.main import create_app


@pytest.fixture
async def service(migrated_database, running_app, redis_prefix):
    url = await migrated_database("souk_notifications")
    settings = service_test_settings(NotificationsSettings, url, redis_prefix)
    return (await running_app(create_app, settings)).client


async def wait_for_items(client, headers, count: int, settle: float = 0.0) -> list[dict]:
    """The caller's notifications once there are ``count``; ``settle`` leaves room for more."""

    async def enough() -> list[dict] | None:
        items = (await client.get("/api/notifications", headers=headers)).json()["items"]
        return items if len(items) >= count else None

    items = await eventually(enough, within=5, what=f"{count} notifications")
    if settle:
        await asyncio.sleep(settle)  # room for a wrong duplicate to show up
        items = (await client.get("/api/notifications", headers=headers)).json()["items"]
    return items
