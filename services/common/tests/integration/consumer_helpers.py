"""What the consumer runner's tests share: publishing, and reading pending entries, dead
letters and outcome counters."""

from __future__ import annotations

import asyncio

from prometheus_client import REGISTRY
from redis.asyncio import Redis

from souk_common.events import CloudEvent, dead_letter_key

from .conftest import GROUP


async def publish(redis: Redis, stream: str, n: int, type_: str = "thing.happened") -> CloudEvent:
    """Put one event of ``type_`` with data ``{"n": n}`` on ``stream``; return it."""
    event = CloudEvent.create(type_, "orders", {"n": n})
    await redis.xadd(stream, event.to_fields())
    return event


async def pending_count(redis: Redis, stream: str) -> int:
    """Return how many entries of ``stream`` the group has read but not acknowledged."""
    return int((await redis.xpending(stream, GROUP))["pending"])


async def dead_letters(redis: Redis, prefix: str) -> list[dict[str, str]]:
    """Return the fields of every entry on the group's dead-letter stream."""
    entries = await redis.xrange(dead_letter_key(prefix, GROUP))
    return [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in entries]


def outcome_count(stream: str, outcome: str) -> float:
    """Return ``souk_stream_events_total`` of the group on ``stream`` for ``outcome``."""
    labels = {"stream": stream, "group": GROUP, "outcome": outcome}
    return REGISTRY.get_sample_value("souk_stream_events_total", labels) or 0.0


async def run_until(runner, condition, within: float = 5.0) -> None:
    """Call ``runner.run_once`` until ``condition()`` holds."""
    async with asyncio.timeout(within):
        while not await condition():
            await runner.run_once()
            await asyncio.sleep(0.01)
