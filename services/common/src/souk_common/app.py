"""The app factory every service uses.

One place wires logging, tracing, metrics, errors, health, the database, Redis, token
verification and the event workers.

A service's ``main.create_app()`` calls :func:`create_service_app` with its settings, routers
and (optionally) its event tables and stream handlers. Nothing connects at import time: the
lifespan opens connections and starts the outbox relay and consumer group runner (unless
``RUN_WORKERS=false``, for a process that only serves HTTP).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from redis.asyncio import Redis

from souk_common.correlation import CorrelationIdMiddleware, correlated_http_client
from souk_common.db import Database
from souk_common.errors import install_error_handlers
from souk_common.events.consumer import ConsumerGroupRunner
from souk_common.events.handlers import PayloadHandlers, by_event_type
from souk_common.events.inbox_pruning import InboxPruner
from souk_common.events.outbox import Outbox
from souk_common.events.relay import OutboxRelay
from souk_common.events.streams import stream_key
from souk_common.events.tables import EventTables
from souk_common.health import ReadinessCheck, health_router
from souk_common.logging import configure_logging, get_logger
from souk_common.metrics import HttpMetricsMiddleware, metrics_router
from souk_common.migrations import pending_migrations
from souk_common.security import JwksKeySource, KeySource, TokenVerifier
from souk_common.settings import ServiceSettings
from souk_common.telemetry import configure_tracing, instrument_app, instrument_engines

log = get_logger(__name__)


@dataclass
class ServiceRuntime:
    """Everything a service holds for its lifetime; kept on ``app.state.runtime``."""

    settings: ServiceSettings
    database: Database
    redis: Redis
    http: httpx.AsyncClient
    # The event workers' own pool (relay, consumer, background loops): HTTP bursts that
    # take every connection of ``database`` cannot stall the saga.
    worker_database: Database | None = None
    outbox: Outbox | None = None
    relay: OutboxRelay | None = None
    consumer: ConsumerGroupRunner | None = None
    inbox_pruner: InboxPruner | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def workers_db(self) -> Database:
        """The database of the event workers (the request pool when none was set up)."""
        return self.worker_database or self.database


RuntimeHook = Callable[[ServiceRuntime], Awaitable[None]]
HandlerFactory = Callable[[ServiceRuntime], PayloadHandlers]
KeySourceFactory = Callable[[ServiceRuntime], Awaitable[KeySource]]
ReadinessFactory = Callable[[ServiceRuntime], Mapping[str, ReadinessCheck]]
BackgroundLoop = Callable[[ServiceRuntime, asyncio.Event], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class ServiceDefinition:
    """The parts of one service that :func:`create_service_app` assembles."""

    title: str
    migrations_package: str
    routers: Sequence[APIRouter] = ()
    event_tables: EventTables | None = None
    subscribes: tuple[str, ...] = ()
    handlers: HandlerFactory | None = None
    key_source: KeySourceFactory | None = None
    on_startup: Sequence[RuntimeHook] = ()
    # Long-running loops of the service (e.g. a deadline sweeper), run beside the event
    # workers and stopped with them: ``async def loop(runtime, stop: asyncio.Event)``.
    background: Sequence[BackgroundLoop] = ()
    # Extra readiness checks of the service, added to database, redis and migrations.
    readiness: ReadinessFactory | None = None
    version: str = "0.1.0"


def _readiness_checks(runtime: ServiceRuntime, package: str) -> dict[str, ReadinessCheck]:
    async def migrations() -> None:
        if await pending_migrations(runtime.database.engine, package):
            raise RuntimeError("database is not at the latest migration")

    async def redis() -> None:
        await runtime.redis.ping()

    return {"database": runtime.database.ping, "redis": redis, "migrations": migrations}


async def _default_key_source(runtime: ServiceRuntime) -> KeySource:
    if runtime.settings.auth_jwks_url is None:
        raise RuntimeError("AUTH_JWKS_URL must be set for services that verify tokens")
    return JwksKeySource(runtime.settings.auth_jwks_url, runtime.http)


def _build_workers(runtime: ServiceRuntime, definition: ServiceDefinition) -> None:
    settings = runtime.settings
    if definition.event_tables is None:
        return
    runtime.outbox = Outbox(definition.event_tables, settings.service_name, settings.stream_prefix)
    runtime.relay = OutboxRelay(
        sessions=runtime.workers_db.sessions,
        redis=runtime.redis,
        tables=definition.event_tables,
        service=settings.service_name,
        max_length=settings.stream_max_length,
        poll_interval=settings.outbox_poll_interval_ms / 1000,
        wake_on=[runtime.database.sessions],
    )
    if definition.handlers is not None and definition.subscribes:
        runtime.inbox_pruner = InboxPruner(
            sessions=runtime.workers_db.sessions,
            inbox=definition.event_tables.inbox,
            service=settings.service_name,
            retention=timedelta(hours=settings.inbox_retention_hours),
        )
        runtime.consumer = ConsumerGroupRunner(
            redis=runtime.redis,
            sessions=runtime.workers_db.sessions,
            tables=definition.event_tables,
            group=settings.service_name,
            consumer=settings.consumer_name,
            streams=[stream_key(settings.stream_prefix, s) for s in definition.subscribes],
            handlers=by_event_type(definition.handlers(runtime)),
            prefix=settings.stream_prefix,
            batch_size=settings.stream_batch_size,
            block_ms=settings.stream_block_ms,
            claim_idle_ms=settings.stream_claim_idle_ms,
            max_deliveries=settings.stream_max_deliveries,
            max_length=settings.stream_max_length,
        )


@contextlib.asynccontextmanager
async def run_workers(
    runtime: ServiceRuntime, background: Sequence[BackgroundLoop] = ()
) -> AsyncIterator[None]:
    """Run the relay, the consumer runner and background loops until the block exits."""
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = [
        asyncio.create_task(loop(runtime, stop), name=getattr(loop, "__name__", "background"))
        for loop in background
    ]
    if runtime.relay is not None:
        tasks.append(asyncio.create_task(runtime.relay.run(stop), name="outbox-relay"))
    if runtime.consumer is not None:
        await runtime.consumer.ensure_groups()
        tasks.append(asyncio.create_task(runtime.consumer.run(stop), name="consumer"))
    if runtime.inbox_pruner is not None:
        tasks.append(asyncio.create_task(runtime.inbox_pruner.run(stop), name="inbox-pruner"))
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


def create_service_app(settings: ServiceSettings, definition: ServiceDefinition) -> FastAPI:
    """Return the FastAPI app of one service, wired with Souk's shared infrastructure."""
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    configure_tracing(settings.service_name)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.sqlalchemy_url, pool_size=settings.db_pool_size)
        worker_database = Database(
            settings.sqlalchemy_url, pool_size=settings.db_worker_pool_size, max_overflow=0
        )
        instrument_engines(database.engine, worker_database.engine)
        runtime = ServiceRuntime(
            settings=settings,
            database=database,
            redis=Redis.from_url(settings.redis_url),
            http=correlated_http_client(),
            worker_database=worker_database,
        )
        _build_workers(runtime, definition)
        key_source = await (definition.key_source or _default_key_source)(runtime)
        app.state.runtime = runtime
        app.state.database = database
        app.state.token_verifier = TokenVerifier(key_source)
        app.state.readiness_checks = _readiness_checks(runtime, definition.migrations_package)
        if definition.readiness is not None:
            app.state.readiness_checks.update(definition.readiness(runtime))
        try:
            for hook in definition.on_startup:
                await hook(runtime)
            if settings.run_workers:
                async with run_workers(runtime, definition.background):
                    log.info("service_started", workers=True)
                    yield
            else:
                log.info("service_started", workers=False)
                yield
        finally:
            await runtime.http.aclose()
            await runtime.redis.aclose()
            await database.dispose()
            await worker_database.dispose()
            log.info("service_stopped")

    app = FastAPI(
        title=definition.title,
        version=definition.version,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(health_router())
    app.include_router(metrics_router())
    for router in definition.routers:
        app.include_router(router)
    instrument_app(app)
    app.add_middleware(HttpMetricsMiddleware)
    app.add_middleware(CorrelationIdMiddleware)
    return app
