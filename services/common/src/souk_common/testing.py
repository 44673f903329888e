"""Pytest fixtures shared by every package's tests: real PostgreSQL and Redis, isolated.

Each test that asks for :func:`database_url` gets a fresh database (dropped afterwards); each
test that asks for :func:`redis_prefix` gets a unique key prefix whose keys are deleted
afterwards, so runs never collide. Servers come from ``SOUK_TEST_PG_ADMIN_URL`` and
``SOUK_TEST_REDIS_URL`` (the local defaults otherwise). When a server is unreachable the test
fails with one line saying which, rather than being skipped silently.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import asyncpg
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from souk_common.security import (
    TOKEN_ALGORITHM,
    TOKEN_AUDIENCE,
    TOKEN_ISSUER,
    StaticKeySource,
    TokenVerifier,
)
from souk_common.settings import ServiceSettings

PG_ADMIN_URL = os.environ.get(
    "SOUK_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("SOUK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def database_url_for(name: str, admin_url: str = PG_ADMIN_URL) -> str:
    """Return ``admin_url`` pointed at database ``name``."""
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def asyncpg_url(url: str) -> str:
    """Return ``url`` with the SQLAlchemy asyncpg scheme."""
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


async def create_database(name: str, admin_url: str = PG_ADMIN_URL) -> str:
    """Create database ``name`` and return its plain ``postgresql://`` URL."""
    try:
        connection = await asyncpg.connect(admin_url)
    except (OSError, asyncpg.PostgresError) as error:
        pytest.fail(f"PostgreSQL is not reachable at {admin_url}: {error}", pytrace=False)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return database_url_for(name, admin_url)


async def drop_database(name: str, admin_url: str = PG_ADMIN_URL) -> None:
    """Drop database ``name``, terminating its sessions first."""
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def delete_prefixed_keys(redis: Redis, prefix: str) -> None:
    """Delete every key that starts with ``prefix``."""
    async for key in redis.scan_iter(match=f"{prefix}*", count=500):
        await redis.delete(key)


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
# Event-layer timings that make a test app react in tens of milliseconds.
FAST_EVENT_SETTINGS: dict[str, Any] = {
    "stream_block_ms": 50,
    "outbox_poll_interval_ms": 50,
    "consumer_name": "test",
    "log_format": "json",
}


def service_test_settings(
    settings_class: type[SettingsT], database_url: str, prefix: str, **overrides: Any
) -> SettingsT:
    """Settings for a service under test: its own database and stream prefix, fast polling.

    Tokens are verified with a :class:`TokenIssuer`'s keys installed on ``app.state``, so the
    JWKS URL points nowhere.
    """
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": REDIS_URL,
        "stream_prefix": prefix,
        "auth_jwks_url": "http://auth.invalid/.well-known/jwks.json",
        **FAST_EVENT_SETTINGS,
        **overrides,
    }
    return settings_class(**values)


class TokenIssuer:
    """Signs access tokens the way auth does, for tests of services that verify them."""

    def __init__(self) -> None:
        self.kid = f"test-{uuid.uuid4().hex[:8]}"
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.verifier = TokenVerifier(StaticKeySource({self.kid: self.private_key.public_key()}))

    def token(self, user_id: uuid.UUID, role: str = "buyer", ttl: int = 300) -> str:
        """Return a signed access token for ``user_id`` with ``role``."""
        now = int(time.time())
        claims = {
            "iss": TOKEN_ISSUER,
            "aud": TOKEN_AUDIENCE,
            "sub": str(user_id),
            "role": role,
            "typ": "access",
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(
            claims, self.private_key, algorithm=TOKEN_ALGORITHM, headers={"kid": self.kid}
        )

    def headers(self, user_id: uuid.UUID, role: str = "buyer") -> dict[str, str]:
        """Return an ``Authorization`` header for ``user_id``."""
        return {"Authorization": f"Bearer {self.token(user_id, role)}"}


@pytest.fixture
def token_issuer() -> TokenIssuer:
    """A :class:`TokenIssuer`; install ``token_issuer.verifier`` on ``app.state``."""
    return TokenIssuer()


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test (``postgresql+asyncpg://`` URL)."""
    name = f"souk_test_{uuid.uuid4().hex[:12]}"
    url = await create_database(name)
    try:
        yield asyncpg_url(url)
    finally:
        await drop_database(name)


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    """A Redis client for the test server; fails the test in one line when it is down."""
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (OSError, RedisError) as error:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {error}", pytrace=False)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def redis_prefix(redis_client: Redis) -> AsyncIterator[str]:
    """A unique stream/key prefix for one test; its keys are deleted afterwards."""
    prefix = f"test-{uuid.uuid4().hex[:10]}:"
    try:
        yield prefix
    finally:
        await delete_prefixed_keys(redis_client, prefix)
