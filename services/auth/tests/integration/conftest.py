"""Fixtures for the auth integration tests: a migrated database, real Redis, the app in its
lifespan driven through httpx, and a small client helper for the common calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from souk_auth.config import AuthSettings
from souk_auth.main import create_app
from souk_auth.schemas import RegisterRequest
from souk_auth.service import register_user
from souk_common.testing import RunningApp, service_test_settings

PASSWORD = "correct-Horse-battery"
# Cheap argon2 parameters: the suite hashes dozens of passwords.
FAST_ARGON2: dict[str, Any] = {
    "argon2_time_cost": 1,
    "argon2_memory_cost_kib": 1024,
    "argon2_parallelism": 1,
}


def make_settings(database_url: str, prefix: str, **overrides: Any) -> AuthSettings:
    """Settings for a test app on its own database and key prefix."""
    values = {"run_workers": False, "cookie_secure": False, **FAST_ARGON2, **overrides}
    return service_test_settings(AuthSettings, database_url, prefix, **values)


@pytest.fixture
def settings_factory() -> Callable[..., AuthSettings]:
    """Return :func:`make_settings` (test modules cannot import this conftest)."""
    return make_settings


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change the app's settings."""
    return {}


@pytest.fixture
async def settings(
    migrated_database, redis_prefix: str, settings_overrides: dict[str, Any]
) -> AuthSettings:
    """Settings of the app under test, on its migrated database."""
    url = await migrated_database("souk_auth")
    return make_settings(url, redis_prefix, **settings_overrides)


@pytest.fixture
async def running(running_app, settings: AuthSettings) -> RunningApp:
    """The auth app in its lifespan (verifying its own tokens) and a client on it."""
    return await running_app(create_app, settings, own_keys=True)


@pytest.fixture
def app(running: RunningApp) -> FastAPI:
    """The running auth app."""
    return running.app


@pytest.fixture
def client(running: RunningApp) -> httpx.AsyncClient:
    """An HTTP client talking to the app in process."""
    return running.client


class AuthApi:
    """The calls most tests make, with cookies cleared so each call's credentials are explicit."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        """Authorization header for ``token``."""
        return {"Authorization": f"Bearer {token}"}

    @staticmethod
    def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
        """Assert a problem+json error with ``status`` and ``code``; return its body."""
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        body: dict[str, Any] = response.json()
        assert body["code"] == code
        assert body["type"] == f"https://souk.dev/problems/{code}"
        assert body["status"] == status
        return body

    async def register(
        self, email: str, role: str = "buyer", token: str | None = None, **extra: Any
    ) -> httpx.Response:
        body = {"email": email, "password": PASSWORD, "display_name": "Test User", "role": role}
        body.update(extra)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.post("/api/auth/register", json=body, headers=headers)

    async def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        response = await self.client.post(
            "/api/auth/login", json={"email": email, "password": password}
        )
        self.client.cookies.clear()
        return response

    async def user_tokens(self, email: str, role: str = "buyer") -> dict[str, Any]:
        """Register ``email`` and log in; return the token response body."""
        assert (await self.register(email, role)).status_code == 201
        response = await self.login(email)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def admin_tokens(self, email: str = "root@souk.test") -> dict[str, Any]:
        """Create an admin through the use case (as the seed does) and log in."""
        runtime = self.app.state.runtime
        parts = self.app.state.context
        request = RegisterRequest.model_validate(
            {"email": email, "password": PASSWORD, "display_name": "Root", "role": "admin"}
        )
        session: AsyncSession
        async with runtime.database.sessions() as session, session.begin():
            await register_user(
                session,
                parts.outbox,
                parts.passwords,
                request,
                may_grant_admin=True,
            )
        response = await self.login(email)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def api(app: FastAPI, client: httpx.AsyncClient) -> AuthApi:
    """The :class:`AuthApi` helper."""
    return AuthApi(app, client)
