"""Retrying the event workers' loops: back-off delays, stop-aware waits, outage detection.

The outbox relay and the consumer runner must survive PostgreSQL or Redis going away: they
log, wait (longer each time, with jitter so replicas do not retry in step) and try again.
:func:`is_connection_error` tells an outage apart from a failing handler, so the consumer
does not count an outage as a failed delivery of the entry it was handling.
"""

from __future__ import annotations

import asyncio
import random

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError

# SQLSTATE classes that mean "the server or the connection is unavailable", not "your
# statement is wrong": 08 connection exception, 53 insufficient resources, 57P operator
# intervention (shutdown, database starting up).
_OUTAGE_SQLSTATES = ("08", "53", "57P")


class Backoff:
    """Exponential back-off with full jitter, reset after a success."""

    def __init__(self, initial: float = 0.1, maximum: float = 10.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.failures = 0

    def next_delay(self) -> float:
        """Return the delay before the next attempt and count one more failure."""
        ceiling = min(self.maximum, self.initial * 2**self.failures)
        self.failures += 1
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        """Forget earlier failures after a successful attempt."""
        self.failures = 0


async def wait_for_stop(
    stop: asyncio.Event, delay: float, wake: asyncio.Event | None = None
) -> None:
    """Sleep up to ``delay`` seconds, returning early when ``stop`` (or ``wake``) is set."""
    if stop.is_set() or (wake is not None and wake.is_set()):
        return
    waiters = {asyncio.ensure_future(stop.wait())}
    if wake is not None:
        waiters.add(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


def is_connection_error(error: BaseException) -> bool:
    """Return whether ``error`` (or its cause) means PostgreSQL or Redis is unreachable."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError | RedisConnectionError | RedisTimeoutError):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_OUTAGE_SQLSTATES):
            return True
        current = current.__cause__ or current.__context__
    return False


def describe_error(error: BaseException, limit: int = 500) -> str:
    """Return ``Type: message`` of an error, truncated to ``limit`` characters."""
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= limit else text[: limit - 3] + "..."
