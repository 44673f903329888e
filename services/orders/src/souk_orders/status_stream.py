"""The live status stream of one order as Server-Sent Events (``GET .../events``).

The stream sends the order's current status at once, then every later status change (each
history entry, ``id`` = its position, so ``Last-Event-ID`` resumes without gaps), and ends
after a terminal status or ``STATUS_FEED_MAX_SECONDS`` (a client reconnects with
``Last-Event-ID``). It subscribes to the order's pub/sub channel before reading the order, and
re-reads the order on every hint (:mod:`souk_orders.status_hints`) and every
``STATUS_FEED_POLL_SECONDS``, so a lost hint only delays an update. No database connection is
held between reads.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk_common.errors import NotFoundError
from souk_common.logging import get_logger
from souk_common.security import Principal
from souk_orders import repository
from souk_orders.config import OrdersSettings
from souk_orders.schemas import StatusChangeOut
from souk_orders.states import OrderStatus, is_terminal
from souk_orders.status_hints import status_channel

log = get_logger(__name__)


async def read_history(
    sessions: async_sessionmaker[AsyncSession], order_id: uuid.UUID, caller: Principal
) -> list[StatusChangeOut]:
    """Return the order's status history; 404 unless the caller is its buyer or an admin."""
    async with sessions() as session:
        order = await repository.get_order(session, order_id)
        if order is None or not (caller.is_admin or order.buyer_id == caller.user_id):
            raise NotFoundError("order not found")
        return [
            StatusChangeOut(status=OrderStatus(c.status), at=c.at, reason=c.reason)
            for c in order.history
        ]


def sse_message(index: int, change: StatusChangeOut, order_id: uuid.UUID) -> str:
    """Render one status change as an SSE ``status`` event."""
    data = {"order_id": str(order_id), **change.model_dump(mode="json")}
    return f"id: {index}\nevent: status\ndata: {json.dumps(data)}\n\n"


def first_index(history_length: int, last_event_id: str | None) -> int:
    """Position of the first change to send: after ``Last-Event-ID``, else the current one."""
    if last_event_id is not None and last_event_id.strip().isdigit():
        return min(int(last_event_id) + 1, history_length)
    return max(history_length - 1, 0)


async def status_events(
    *,
    sessions: async_sessionmaker[AsyncSession],
    redis: Redis,
    settings: OrdersSettings,
    order_id: uuid.UUID,
    caller: Principal,
    last_event_id: str | None,
    disconnected: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    """Yield SSE messages for the order until it ends, the client leaves, or time runs out."""
    loop = asyncio.get_running_loop()
    ends_at = loop.time() + settings.status_feed_max_seconds
    pubsub = redis.pubsub()
    listening = True
    try:
        try:
            await pubsub.subscribe(status_channel(settings.stream_prefix, order_id))
        except (RedisError, OSError) as error:  # polling alone still works
            log.warning("order_feed_subscribe_failed", error=str(error))
            listening = False
        history = await read_history(sessions, order_id, caller)
        sent = first_index(len(history), last_event_id)
        yield f"retry: {int(settings.status_feed_poll_seconds * 1000)}\n\n"
        last_output = loop.time()
        while True:
            for index in range(sent, len(history)):
                yield sse_message(index, history[index], order_id)
                last_output = loop.time()
            sent = len(history)
            if history and is_terminal(history[-1].status):
                return
            remaining = ends_at - loop.time()
            if remaining <= 0 or await disconnected():
                return
            wait = min(settings.status_feed_poll_seconds, remaining)
            await _wait_for_hint(pubsub if listening else None, wait)
            if loop.time() - last_output >= settings.status_feed_keepalive_seconds:
                yield ": keep-alive\n\n"
                last_output = loop.time()
            history = await read_history(sessions, order_id, caller)
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]


async def _wait_for_hint(pubsub: PubSub | None, seconds: float) -> None:
    """Wait until a change is announced on the channel, or ``seconds`` pass."""
    if pubsub is None:
        await asyncio.sleep(seconds)
        return
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    try:
        while (left := until - loop.time()) > 0:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            if message is not None:
                return
    except (RedisError, OSError) as error:
        log.warning("order_feed_hint_failed", error=str(error))
        await asyncio.sleep(max(0.0, until - loop.time()))
