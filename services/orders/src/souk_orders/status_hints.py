"""Status hints for the live status stream: Redis pub/sub messages, published after commit.

A transition registers :meth:`StatusPublisher.announce` with :func:`souk_common.db.on_commit`;
once the transaction commits, the new status is published on
``{STREAM_PREFIX}orders:status:{order_id}``. The message is only a hint ("read the order
again"): the stream (:mod:`souk_orders.status_stream`) re-reads the database on every
message and also every few seconds, so a lost message (Redis down, a publish racing a
subscribe) only delays an update.
"""

from __future__ import annotations

import asyncio
import uuid

from redis.asyncio import Redis
from redis.exceptions import RedisError

from souk_common.logging import get_logger

log = get_logger(__name__)
_RUNNING: set[asyncio.Task[None]] = set()  # keeps fire-and-forget publications alive


def status_channel(prefix: str, order_id: uuid.UUID) -> str:
    """Return the pub/sub channel announcing changes of one order."""
    return f"{prefix}orders:status:{order_id}"


class StatusPublisher:
    """Publishes "order changed" hints on the order's channel."""

    def __init__(self, redis: Redis, prefix: str, concurrency: int = 8) -> None:
        self.redis = redis
        self.prefix = prefix
        # Publications run after commit as fire-and-forget tasks; at a few hundred
        # transitions a second, unbounded they took every connection of the Redis pool and
        # starved the consumer group. A few at a time keep up (a PUBLISH takes ~0.1 ms).
        self._in_flight = asyncio.Semaphore(concurrency)

    async def publish(self, order_id: uuid.UUID, status: str) -> None:
        """Publish ``status`` on the order's channel; failures are logged, never raised."""
        try:
            async with self._in_flight:
                await self.redis.publish(status_channel(self.prefix, order_id), status)
        except (RedisError, OSError) as error:
            log.warning("order_status_publish_failed", order_id=str(order_id), error=str(error))

    def announce(self, order_id: uuid.UUID, status: str) -> None:
        """Start publishing ``status`` in the background (an ``on_commit`` callback)."""
        task = asyncio.get_running_loop().create_task(self.publish(order_id, status))
        _RUNNING.add(task)
        task.add_done_callback(_RUNNING.discard)
