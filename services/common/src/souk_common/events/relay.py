"""The outbox relay: publishes committed outbox rows to Redis Streams and marks them.

Each batch runs in one transaction: lock the oldest unpublished rows with
``FOR UPDATE SKIP LOCKED`` (so several replicas share the work without publishing a row
twice), ``XADD`` them all in one pipelined round trip (``MAXLEN ~`` trims the stream), mark
them published and commit. A crash between ``XADD`` and commit publishes the same event id
again on the next pass; consumers' inbox tables turn the repeat into a no-op.

The relay polls every ``poll_interval`` seconds when idle, and wakes at once when a session of
its sessionmakers commits outbox rows (see :func:`souk_common.events.outbox.wake_on_commit`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import timedelta

from redis.asyncio import Redis
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk_common.db import delete_in_chunks
from souk_common.events.backoff import Backoff, describe_error, wait_for_stop
from souk_common.events.outbox import wake_on_commit
from souk_common.events.tables import EventTables
from souk_common.logging import get_logger
from souk_common.metrics import OUTBOX_PUBLISHED, OUTBOX_UNPUBLISHED

log = get_logger(__name__)


class OutboxRelay:
    """Publishes one service's outbox rows to their streams, oldest first."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        redis: Redis,
        tables: EventTables,
        service: str,
        max_length: int,
        batch_size: int = 200,
        poll_interval: float = 0.2,
        retention: timedelta = timedelta(hours=1),
        cleanup_interval: float = 60.0,
        gauge_interval: float = 5.0,
        wake_on: Sequence[async_sessionmaker[AsyncSession]] = (),
    ) -> None:
        self.sessions = sessions
        # Sessionmakers whose commits of outbox rows wake the relay: its own, plus e.g. the
        # HTTP request pool's when the relay works on a pool of its own.
        self.wake_on = [sessions, *(s for s in wake_on if s is not sessions)]
        self.redis = redis
        self.table = tables.outbox
        self.service = service
        self.max_length = max_length
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.retention = retention
        self.cleanup_interval = cleanup_interval
        self.gauge_interval = gauge_interval
        self._wakeup = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next_gauge_at = 0.0
        self._next_cleanup_at = 0.0

    async def publish_once(self) -> int:
        """Publish one batch of unpublished rows and mark them; return how many."""
        table = self.table
        async with self.sessions() as session, session.begin():
            query = (
                select(table.c.id, table.c.stream, table.c.fields)
                .where(table.c.published_at.is_(None))
                .order_by(table.c.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            )
            rows = (await session.execute(query)).all()
            if not rows:
                return 0
            await self._publish([(row.stream, row.fields) for row in rows])
            await self._mark_published(session, [row.id for row in rows])
        OUTBOX_PUBLISHED.labels(self.service).inc(len(rows))
        return len(rows)

    async def _publish(self, entries: Sequence[tuple[str, dict[str, str]]]) -> None:
        """``XADD`` every ``(stream, fields)`` entry in one pipelined round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for stream, fields in entries:
                pipe.xadd(stream, fields, maxlen=self.max_length, approximate=True)  # type: ignore[arg-type]
            await pipe.execute()

    async def _mark_published(self, session: AsyncSession, ids: list[int]) -> None:
        """Stamp ``published_at`` on the rows just published (same transaction as the lock)."""
        await session.execute(
            update(self.table).where(self.table.c.id.in_(ids)).values(published_at=func.now())
        )

    def wake(self) -> None:
        """Make the loop poll now instead of after ``poll_interval`` (safe from any thread)."""
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or running is loop:
            self._wakeup.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._wakeup.set)

    async def refresh_unpublished_gauge(self) -> int:
        """Count unpublished rows, set ``souk_outbox_unpublished`` and return the count."""
        table = self.table
        async with self.sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(table).where(table.c.published_at.is_(None))
            )
        OUTBOX_UNPUBLISHED.labels(self.service).set(count or 0)
        return count or 0

    async def delete_published(self, older_than: timedelta | None = None, chunk: int = 5000) -> int:
        """Delete rows published more than ``older_than`` (the retention) ago; return how many."""
        table = self.table
        cutoff = func.now() - (self.retention if older_than is None else older_than)
        published_before = table.c.published_at.is_not(None) & (table.c.published_at < cutoff)
        return await delete_in_chunks(self.sessions, table, table.c.id, published_before, chunk)

    async def _housekeeping(self) -> None:
        """Refresh the backlog gauge and delete old published rows when they are due."""
        now = time.monotonic()
        if now >= self._next_gauge_at:
            self._next_gauge_at = now + self.gauge_interval
            await self.refresh_unpublished_gauge()
        if now >= self._next_cleanup_at:
            self._next_cleanup_at = now + self.cleanup_interval
            deleted = await self.delete_published()
            if deleted:
                log.info("outbox_cleaned", service=self.service, deleted=deleted)

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set; outages are logged and retried with back-off."""
        self._loop = asyncio.get_running_loop()
        uninstalls = [wake_on_commit(sessions, self) for sessions in self.wake_on]
        backoff = Backoff()
        log.info("outbox_relay_started", service=self.service)
        try:
            while not stop.is_set():
                self._wakeup.clear()
                try:
                    published = await self.publish_once()
                    await self._housekeeping()
                except Exception as error:  # the loop must outlive any failure
                    delay = backoff.next_delay()
                    log.warning(
                        "outbox_relay_failed",
                        service=self.service,
                        error=describe_error(error),
                        retry_in=round(delay, 3),
                    )
                    await wait_for_stop(stop, delay)
                    continue
                backoff.reset()
                if published < self.batch_size:
                    await wait_for_stop(stop, self.poll_interval, self._wakeup)
        finally:
            for uninstall in uninstalls:
                uninstall()
            log.info("outbox_relay_stopped", service=self.service)
