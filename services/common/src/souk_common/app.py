"""The app factory every service uses.

One place wires logging, tracing, metrics, errors, health, the database, Redis, token
verification and the event workers.

A service's ``main.create_app()`` calls :func:`create_service_app` with its settings and a
:class:`ServiceDefinition`: routers, event tables, and the function that builds the service's
typed context once the shared parts are up. Nothing connects at import time: the lifespan
opens connections, builds the :class:`ServiceRuntime` (typed by the service's settings class),
then the service's context (kept on ``app.state.context``; its stream handlers, background
loops and routes take it), and starts the outbox relay and consumer group runner (unless
``RUN_WORKERS=false``, for a process that only serves HTTP).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any, Generic, TypeVar

import httpx
from fastapi import APIRouter, FastAPI, Request
from redis.asyncio import Redis

from souk_common.correlation import CorrelationIdMiddleware, correlated_http_client
from souk_common.db import Database
from souk_common.errors import ErrorBoundaryMiddleware, install_error_handlers
from souk_common.events.consumer import ConsumerGroupRunner
from souk_common.events.handlers import PayloadHandlers, by_event_type
from souk_common.events.inbox_pruning import InboxPruner
from souk_common.events.outbox import Outbox
from souk_common.events.relay import OutboxRelay
from souk_common.events.tables import EventTables
from souk_common.headers import SecurityHeadersMiddleware
from souk_common.health import ReadinessCheck, health_router
from souk_common.inputs import TextInputGuardMiddleware
from souk_common.logging import configure_logging, get_logger
from souk_common.metrics import HttpMetricsMiddleware, metrics_router
from souk_common.migrations import pending_migrations
from souk_common.security import JwksKeySource, KeySource, TokenVerifier
from souk_common.settings import ServiceSettings
from souk_common.streams import stream_key
from souk_common.telemetry import configure_tracing, instrument_app, instrument_engines

log = get_logger(__name__)


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
ContextT = TypeVar("ContextT")


@dataclass
class ServiceRuntime(Generic[SettingsT]):
    """The shared parts a service holds for its lifetime; kept on ``app.state.runtime``."""

    settings: SettingsT
    database: Database
    # The event workers' own pool (relay, consumer, background loops): HTTP bursts that
    # take every connection of ``database`` cannot stall the saga.
    worker_database: Database
    redis: Redis
    http: httpx.AsyncClient
    event_tables: EventTables | None = None
    relay: OutboxRelay | None = None
    consumer: ConsumerGroupRunner | None = None
    inbox_pruner: InboxPruner | None = None

    @cached_property
    def outbox(self) -> Outbox:
        """The service's outbox (a service that produces events has event tables)."""
        if self.event_tables is None:
            raise RuntimeError(f"{self.settings.service_name} was defined without event tables")
        return Outbox(self.event_tables, self.settings.service_name, self.settings.stream_prefix)


async def runtime_context(runtime: ServiceRuntime[SettingsT]) -> ServiceRuntime[SettingsT]:
    """The context of a service that needs nothing beyond the shared runtime."""
    return runtime


async def service_context(request: Request) -> Any:
    """Dependency: the service's context (``Annotated[MyContext, Depends(service_context)]``)."""
    return request.app.state.context


_RUNTIME_CONTEXT: Any = runtime_context  # the default, whatever the definition's ContextT


@dataclass(frozen=True)
class ServiceDefinition(Generic[SettingsT, ContextT]):
    """The parts of one service that :func:`create_service_app` assembles.

    ``context`` builds the service's typed context once the runtime is up; everything else
    that is the service's own (handlers, key source, loops, readiness) receives it.
    """

    title: str
    migrations_package: str
    context: Callable[[ServiceRuntime[SettingsT]], Awaitable[ContextT]] = _RUNTIME_CONTEXT
    routers: Sequence[APIRouter] = ()
    event_tables: EventTables | None = None
    subscribes: tuple[str, ...] = ()
    # The stream handlers, keyed by payload model (``souk_common.events.handlers``).
    handlers: Callable[[ContextT], PayloadHandlers] | None = None
    # Where token signatures are checked (default: auth's JWKS at ``AUTH_JWKS_URL``).
    key_source: Callable[[ContextT], KeySource] | None = None
    # Long-running loops of the service (e.g. a deadline sweeper), run beside the event
    # workers and stopped with them: ``async def loop(context, stop: asyncio.Event)``.
    background: Sequence[Callable[[ContextT, asyncio.Event], Coroutine[Any, Any, None]]] = ()
    # Extra readiness checks of the service, added to database, redis and migrations.
    readiness: Callable[[ContextT], Mapping[str, ReadinessCheck]] | None = None
    version: str = "0.1.0"


def _readiness_checks(runtime: ServiceRuntime[Any], package: str) -> dict[str, ReadinessCheck]:
    async def migrations() -> None:
        if await pending_migrations(runtime.database.engine, package):
            raise RuntimeError("database is not at the latest migration")

    async def redis() -> None:
        await runtime.redis.ping()

    return {"database": runtime.database.ping, "redis": redis, "migrations": migrations}


def _default_key_source(runtime: ServiceRuntime[Any]) -> KeySource:
    if runtime.settings.auth_jwks_url is None:
        raise RuntimeError("AUTH_JWKS_URL must be set for services that verify tokens")
    return JwksKeySource(runtime.settings.auth_jwks_url, runtime.http)


def _build_workers(
    runtime: ServiceRuntime[Any], definition: ServiceDefinition[Any, ContextT], context: ContextT
) -> None:
    settings = runtime.settings
    if definition.event_tables is None:
        return
    runtime.relay = OutboxRelay(
        sessions=runtime.worker_database.sessions,
        redis=runtime.redis,
        tables=definition.event_tables,
        service=settings.service_name,
        max_length=settings.stream_max_length,
        poll_interval=settings.outbox_poll_interval_ms / 1000,
        wake_on=[runtime.database.sessions],
    )
    if definition.handlers is not None and definition.subscribes:
        runtime.inbox_pruner = InboxPruner(
            sessions=runtime.worker_database.sessions,
            inbox=definition.event_tables.inbox,
            service=settings.service_name,
            retention=timedelta(hours=settings.inbox_retention_hours),
        )
        runtime.consumer = ConsumerGroupRunner(
            redis=runtime.redis,
            sessions=runtime.worker_database.sessions,
            tables=definition.event_tables,
            group=settings.service_name,
            consumer=settings.consumer_name,
            streams=[stream_key(settings.stream_prefix, s) for s in definition.subscribes],
            handlers=by_event_type(definition.handlers(context)),
            prefix=settings.stream_prefix,
            batch_size=settings.stream_batch_size,
            block_ms=settings.stream_block_ms,
            claim_idle_ms=settings.stream_claim_idle_ms,
            max_deliveries=settings.stream_max_deliveries,
            max_length=settings.stream_max_length,
        )


@contextlib.asynccontextmanager
async def run_workers(
    runtime: ServiceRuntime[Any],
    context: ContextT,
    background: Sequence[Callable[[ContextT, asyncio.Event], Coroutine[Any, Any, None]]] = (),
) -> AsyncIterator[None]:
    """Run the relay, the consumer runner and the service's loops until the block exits."""
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = [
        asyncio.create_task(loop(context, stop), name=getattr(loop, "__name__", "background"))
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


def create_service_app(
    settings: SettingsT, definition: ServiceDefinition[SettingsT, ContextT]
) -> FastAPI:
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
            worker_database=worker_database,
            redis=Redis.from_url(settings.redis_url),
            http=correlated_http_client(),
            event_tables=definition.event_tables,
        )
        context = await definition.context(runtime)
        _build_workers(runtime, definition, context)
        if definition.key_source is None:
            key_source = _default_key_source(runtime)
        else:
            key_source = definition.key_source(context)
        app.state.runtime = runtime
        app.state.context = context
        app.state.database = database
        app.state.token_verifier = TokenVerifier(key_source)
        app.state.readiness_checks = _readiness_checks(runtime, definition.migrations_package)
        if definition.readiness is not None:
            app.state.readiness_checks.update(definition.readiness(context))
        try:
            if settings.run_workers:
                async with run_workers(runtime, context, definition.background):
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
    app.add_middleware(TextInputGuardMiddleware)
    app.add_middleware(HttpMetricsMiddleware)
    app.add_middleware(ErrorBoundaryMiddleware)
    app.add_middleware(CorrelationIdMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
