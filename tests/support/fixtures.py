"""The pytest fixtures every package's tests share, built on :mod:`souk_common.testing`.

Registered by the root ``conftest.py``. Each test that asks for :func:`database_url` gets a
fresh database (dropped afterwards); :func:`redis_prefix` gives a unique key prefix whose keys
are deleted afterwards, so runs never collide. :func:`migrated_database` and
:func:`running_app` replace the per-service copies of "migrate, start the app, make a
client". Tests under a ``tests/integration`` folder are marked ``integration`` by path.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from redis.exceptions import RedisError

from souk_common.migrations import upgrade_to_head
from souk_common.testing import (
    REDIS_URL,
    RunningApp,
    ServerUnavailableError,
    TokenIssuer,
    asyncpg_url,
    create_database,
    delete_prefixed_keys,
    drop_database,
)
from souk_common.testing import (
    running_app as run_app,
)

MigratedDatabase = Callable[[str], Awaitable[str]]
AppRunner = Callable[..., Awaitable[RunningApp]]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test below a ``tests/integration`` folder ``integration``."""
    for item in items:
        parts = Path(str(item.path)).parts
        if any(pair == ("tests", "integration") for pair in itertools.pairwise(parts)):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def token_issuer() -> TokenIssuer:
    """A :class:`TokenIssuer`; apps run by :func:`running_app` verify its tokens."""
    return TokenIssuer()


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test (``postgresql+asyncpg://`` URL)."""
    name = f"souk_test_{uuid.uuid4().hex[:12]}"
    try:
        url = await create_database(name)
    except ServerUnavailableError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield asyncpg_url(url)
    finally:
        await drop_database(name)


@pytest.fixture
def migrated_database(database_url: str) -> MigratedDatabase:
    """``await migrated_database("souk_orders")``: the test database, migrated to head."""

    async def migrate(package: str) -> str:
        await upgrade_to_head(package, database_url)
        return database_url

    return migrate


@pytest.fixture
async def running_app(token_issuer: TokenIssuer) -> AsyncIterator[AppRunner]:
    """``await running_app(create_app, settings)``: the app in its lifespan, with a client.

    The app verifies :func:`token_issuer`'s tokens (``own_keys=True``: its own, as auth
    does); it stops when the test ends.
    """
    async with AsyncExitStack() as stack:

        async def start(
            create_app: Callable[[Any], FastAPI], settings: Any, *, own_keys: bool = False
        ) -> RunningApp:
            verifier = None if own_keys else token_issuer.verifier
            return await stack.enter_async_context(run_app(create_app, settings, verifier))

        yield start


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
