"""Fixtures for notifications tests: the app on a migrated database, in its lifespan."""

import httpx
import pytest
from asgi_lifespan import LifespanManager

from souk_common.migrations import upgrade_to_head
from souk_notifications.config import NotificationsSettings
from souk_notifications.main import create_app


@pytest.fixture
async def service(database_url, redis_prefix, token_issuer):
    await upgrade_to_head("souk_notifications", database_url)
    settings = NotificationsSettings(
        database_url=database_url,
        stream_prefix=redis_prefix,
        auth_jwks_url="http://auth.invalid/.well-known/jwks.json",
        stream_block_ms=50,
        consumer_name="test",
        log_format="json",
    )
    app = create_app(settings)
    async with LifespanManager(app):
        app.state.token_verifier = token_issuer.verifier
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
