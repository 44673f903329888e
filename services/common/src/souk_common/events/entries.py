"""Delivered stream entries and their outcomes, as the consumer runner and handler see them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

OK, DUPLICATE, IGNORED, ERROR, DEAD_LETTER = "ok", "duplicate", "ignored", "error", "dead_letter"
ACKED_OUTCOMES = frozenset({OK, DUPLICATE, IGNORED})


def text(value: bytes | str) -> str:
    """Return ``value`` as text (redis-py returns bytes unless ``decode_responses``)."""
    return value.decode() if isinstance(value, bytes) else value


@dataclass(slots=True)
class StreamEntry:
    """One delivered entry; ``fields`` is ``None`` when the stream no longer holds it."""

    stream: str
    entry_id: str
    fields: Mapping[bytes, bytes] | None
    deliveries: int | None = None


def parse_entries(
    stream: str, raw: Iterable[Any], deliveries: int | None = None
) -> list[StreamEntry]:
    """Turn redis-py's ``(id, fields)`` pairs into :class:`StreamEntry` objects."""
    return [StreamEntry(stream, text(i), f or None, deliveries) for i, f in raw]


async def look_up_deliveries(redis: Redis, group: str, entries: Sequence[StreamEntry]) -> None:
    """Fill in each entry's delivery count from ``XPENDING``, in one pipelined round trip."""
    async with redis.pipeline(transaction=False) as pipe:
        for entry in entries:
            pipe.xpending_range(
                entry.stream, group, min=entry.entry_id, max=entry.entry_id, count=1
            )
        replies = await pipe.execute()
    for entry, pending in zip(entries, replies, strict=True):
        entry.deliveries = int(pending[0]["times_delivered"]) if pending else None
