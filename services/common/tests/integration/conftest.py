"""Fixtures for the event layer's integration tests: a tiny schema in a fresh database.

The schema is the outbox and inbox tables plus ``effects(event_id, n)``, the visible effect of
the test handlers, so a test can count how often an event really took effect.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel
from redis.asyncio import Redis
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from souk_common.events import (
    CloudEvent,
    ConsumerGroupRunner,
    EventHandler,
    EventTables,
    Outbox,
    OutboxRelay,
    create_event_tables,
    event_tables,
    stream_key,
)

SERVICE = "orders"


class ThingHappened(BaseModel):
    """The test events' payload, bound to its type like the models of souk_contracts."""

    event_type: ClassVar[str] = "thing.happened"
    n: int


GROUP = "billing"


@dataclass
class EventsDb:
    """A fresh database with the event tables and an ``effects`` table, and helpers."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tables: EventTables
    effects: Table

    async def record_effect(self, event: CloudEvent, session: AsyncSession) -> None:
        """The test handler: one ``effects`` row per applied event."""
        await session.execute(
            insert(self.effects).values(event_id=event.id, n=int(event.data.get("n", 0)))
        )

    async def effect_rows(self) -> list[tuple[str, int]]:
        """Return every ``effects`` row, in insertion order of ``n``."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(self.effects.c.event_id, self.effects.c.n).order_by(self.effects.c.n)
            )
            return [(r.event_id, r.n) for r in rows]

    async def stage(self, prefix: str, n: int, *, commit: bool = True) -> CloudEvent:
        """Stage one ``thing.happened`` event through the outbox; commit or roll back."""
        outbox = Outbox(self.tables, SERVICE, prefix)
        async with self.sessions() as session:
            event = await outbox.add(session, ThingHappened(n=n))
            await (session.commit() if commit else session.rollback())
        return event

    async def unpublished(self) -> int:
        """Count outbox rows not yet published."""
        outbox = self.tables.outbox
        async with self.sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            )
            return int(count or 0)

    def relay(self, redis: Redis, **overrides: Any) -> OutboxRelay:
        """Return a relay for the ``orders`` outbox."""
        options: dict[str, Any] = {
            "max_length": 10_000,
            "batch_size": 50,
            "sessions": self.sessions,
        }
        options.update(overrides)
        return OutboxRelay(redis=redis, tables=self.tables, service=SERVICE, **options)

    def runner(
        self,
        redis: Redis,
        prefix: str,
        handlers: Mapping[str, EventHandler] | None = None,
        **overrides: Any,
    ) -> ConsumerGroupRunner:
        """Return a runner of group ``billing`` on the ``orders`` stream (small timings)."""
        options: dict[str, Any] = {
            "group": GROUP,
            "consumer": "c1",
            "batch_size": 20,
            "block_ms": 20,
            "claim_idle_ms": 50,
            "max_deliveries": 3,
            "max_length": 10_000,
            "sessions": self.sessions,
        }
        options.update(overrides)
        return ConsumerGroupRunner(
            redis=redis,
            tables=self.tables,
            streams=[stream_key(prefix, SERVICE)],
            handlers={"thing.happened": self.record_effect} if handlers is None else handlers,
            prefix=prefix,
            **options,
        )


@pytest.fixture
async def events_db(database_url: str) -> AsyncIterator[EventsDb]:
    """A fresh database holding the outbox, inbox and ``effects`` tables."""
    metadata = MetaData()
    tables = event_tables(metadata)
    effects = Table(
        "effects", metadata, Column("event_id", String(64)), Column("n", Integer, nullable=False)
    )
    engine = create_async_engine(database_url, pool_size=5)
    async with engine.begin() as connection:
        await connection.run_sync(create_event_tables)
        await connection.run_sync(metadata.create_all, tables=[effects])
    try:
        yield EventsDb(engine, async_sessionmaker(engine, expire_on_commit=False), tables, effects)
    finally:
        await engine.dispose()


@pytest.fixture
def orders_stream(redis_prefix: str) -> str:
    """The test's ``orders`` stream key."""
    return stream_key(redis_prefix, SERVICE)
