"""Test helpers shared by every package's tests: real PostgreSQL and Redis, isolated.

Plain functions and classes, no pytest (this module ships in the runtime package): the pytest
fixtures built on them live in ``tests/support/fixtures.py``, registered by the root
``conftest.py``. Servers come from ``SOUK_TEST_PG_ADMIN_URL`` and ``SOUK_TEST_REDIS_URL`` (the
local defaults otherwise); an unreachable one raises :class:`ServerUnavailableError`, which the
fixtures turn into a one-line failure.

- :func:`service_test_settings`: every test builds a service's settings through it (its own
  database and stream prefix, fast polling, small connection pools);
- :func:`running_app`: a service app inside its lifespan, with an httpx client on it
  (:func:`served_by_uvicorn` serves one on a free port, for what only a real server shows);
- :func:`eventually`: the one way to wait for something asynchronous to become true
  (:func:`wait_until` is its blocking twin, for the Kubernetes client).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, overload

import asyncpg
import httpx
import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from pydantic import BaseModel
from redis.asyncio import Redis

from souk_common.events.envelope import CloudEvent
from souk_common.events.handlers import event_type_of
from souk_common.security import (
    TOKEN_ALGORITHM,
    TOKEN_AUDIENCE,
    TOKEN_ISSUER,
    StaticKeySource,
    TokenVerifier,
)
from souk_common.server import SERVER_OPTIONS
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


class ServerUnavailableError(RuntimeError):
    """PostgreSQL or Redis, which the tests need, cannot be reached."""


async def create_database(name: str, admin_url: str = PG_ADMIN_URL) -> str:
    """Create database ``name`` and return its plain ``postgresql://`` URL."""
    try:
        connection = await asyncpg.connect(admin_url)
    except (OSError, asyncpg.PostgresError) as error:
        message = f"PostgreSQL is not reachable at {admin_url}: {error}"
        raise ServerUnavailableError(message) from None
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
# Event-layer timings that make a test app react in tens of milliseconds, and small pools:
# PostgreSQL's connections are shared with everything else on the machine (see
# docs/architecture.md, "Tests on a shared machine").
FAST_EVENT_SETTINGS: dict[str, Any] = {
    "stream_block_ms": 50,
    "outbox_poll_interval_ms": 50,
    "consumer_name": "test",
    "log_format": "json",
    "db_pool_size": 2,
    "db_worker_pool_size": 2,
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


T = TypeVar("T")


@overload
async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    within: float = ...,
    interval: float = ...,
    what: str = ...,
) -> T: ...


@overload
async def eventually(
    probe: Callable[[], T | None],
    *,
    within: float = ...,
    interval: float = ...,
    what: str = ...,
) -> T: ...


async def eventually(
    probe: Callable[[], Any],
    *,
    within: float = 15.0,
    interval: float = 0.025,
    what: str = "the condition",
) -> Any:
    """Call ``probe`` until it returns something truthy, and return that; fail after ``within``.

    ``probe`` may be sync or async. On timeout the :class:`AssertionError` names ``what`` and
    the last value seen, so a failing wait says what it was waiting for.
    """
    deadline = time.monotonic() + within
    while True:
        value = probe()
        result = await value if inspect.isawaitable(value) else value
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not hold within {within:g}s (last: {result!r})")
        await asyncio.sleep(interval)


def event_of(payload: BaseModel, source: str) -> CloudEvent:
    """Return a new CloudEvent carrying ``payload``, of its model's event type."""
    return CloudEvent.create(event_type_of(type(payload)), source, payload.model_dump(mode="json"))


async def stream_entries(
    redis: Redis, key: str, count: int = 0, *, within: float = 5.0
) -> list[dict[str, str]]:
    """Stream ``key``'s entries once it holds at least ``count``, decoded (``_id``: entry id)."""

    async def enough() -> list[tuple[bytes, dict[bytes, bytes]]] | None:
        entries: list[tuple[bytes, dict[bytes, bytes]]] = await redis.xrange(key)  # type: ignore[assignment]
        return entries if len(entries) >= count else None

    if count:
        entries = await eventually(enough, within=within, what=f"{count} entries on {key}")
    else:
        entries = await enough() or []
    return [
        {k.decode(): v.decode() for k, v in fields.items()} | {"_id": entry_id.decode()}
        for entry_id, fields in entries
    ]


def wait_until(
    check: Callable[[], T | None],
    *,
    within: float = 60.0,
    interval: float = 0.2,
    what: str = "the condition",
    tolerate: tuple[type[Exception], ...] = (Exception,),
) -> T:
    """The blocking twin of :func:`eventually`, for tests that drive blocking clients.

    Kubernetes' API is eventually consistent (discovery lags a new CRD, a Secret appears a
    moment after its owner), so an exception of a ``tolerate`` type counts as "not yet".
    """
    deadline = time.monotonic() + within
    last: object = None
    while True:
        try:
            result = check()
        except tolerate as error:
            result, last = None, error
        else:
            last = result
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not hold within {within:g}s (last: {last!r})")
        time.sleep(interval)


@asynccontextmanager
async def served_by_uvicorn(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn and the services' options on a free port; yield its URL.

    For what only a real server shows: headers uvicorn adds, keep-alive, HEAD bodies.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    options = {k: v for k, v in SERVER_OPTIONS.items() if k != "loop"}  # the test's own loop
    server = uvicorn.Server(uvicorn.Config(app, **options))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started or task.done(), what="uvicorn to start")
        if task.done():
            task.result()
            raise RuntimeError("uvicorn stopped before it started")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass(frozen=True)
class RunningApp:
    """A service app inside its lifespan and an httpx client on it."""

    app: FastAPI
    client: httpx.AsyncClient

    @property
    def context(self) -> Any:
        """The service's context (``app.state.context``)."""
        return self.app.state.context


@asynccontextmanager
async def running_app(
    create_app: Callable[[SettingsT], FastAPI],
    settings: SettingsT,
    verifier: TokenVerifier | None = None,
) -> AsyncIterator[RunningApp]:
    """Run ``create_app(settings)`` inside its lifespan; ``verifier`` checks its tokens."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        if verifier is not None:
            app.state.token_verifier = verifier
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield RunningApp(app, client)
