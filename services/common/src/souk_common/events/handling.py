"""Handling one delivered stream entry: parse, trace, inbox transaction, retry or dead-letter.

:class:`EntryHandler` turns an entry into an outcome (``ok``, ``duplicate``, ``ignored``,
``error``, ``dead_letter``); the consumer runner (``souk_common.events.consumer``) decides
what to acknowledge from it. The handler runs in the transaction that inserts the event id
into the inbox, so a redelivered event whose effect already committed is a no-op.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.trace import Status, StatusCode, Tracer
from redis.asyncio import Redis
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk_common.correlation import correlation_scope
from souk_common.events.backoff import describe_error, is_connection_error
from souk_common.events.dead_letter import DeadLetter, move_to_dead_letter
from souk_common.events.envelope import CloudEvent, MalformedEventError
from souk_common.logging import get_logger
from souk_common.metrics import STREAM_EVENTS, STREAM_HANDLER_DURATION
from souk_common.telemetry import consumer_span

log = get_logger(__name__)

EventHandler = Callable[[CloudEvent, AsyncSession], Awaitable[None]]
"""Handles one event inside the transaction that records it in the inbox; must not commit."""

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


@dataclass(frozen=True)
class EntryHandler:
    """Handles entries for one consumer group with its event handlers."""

    redis: Redis
    sessions: async_sessionmaker[AsyncSession]
    inbox: Table
    group: str
    handlers: Mapping[str, EventHandler]
    dead_letter_stream: str
    max_deliveries: int
    max_length: int
    tracer: Tracer

    async def handle(self, entry: StreamEntry) -> str:
        """Handle one entry and return its outcome; only an outage propagates."""
        if entry.fields is None:
            log.warning("stream_entry_lost", stream=entry.stream, entry_id=entry.entry_id)
            return IGNORED
        if entry.deliveries is not None and entry.deliveries > self.max_deliveries:
            # Delivered again and again without an outcome: its consumers keep crashing.
            await self._dead_letter(entry, "delivery limit exceeded")
            return DEAD_LETTER
        try:
            event = CloudEvent.from_fields(entry.fields)
        except MalformedEventError as error:
            await self._dead_letter(entry, describe_error(error))
            return DEAD_LETTER
        handler = self.handlers.get(event.type)
        if handler is None:
            return IGNORED
        with (
            correlation_scope(event.correlationid),
            consumer_span(
                self.tracer,
                f"process {entry.stream}",
                event.trace_carrier(),
                self._span_attributes(entry, event),
            ) as span,
        ):
            started = time.perf_counter()
            try:
                outcome = await self._apply(entry, event, handler)
            except Exception as error:  # a failing handler must not stop the group
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, describe_error(error, 200)))
                if is_connection_error(error):
                    STREAM_EVENTS.labels(entry.stream, self.group, ERROR).inc()
                    raise  # an outage, not this entry's fault: back off, retry it later
                outcome = await self._handle_failure(entry, event, error)
            finally:
                STREAM_HANDLER_DURATION.labels(entry.stream, self.group).observe(
                    time.perf_counter() - started
                )
            span.set_attribute("souk.outcome", outcome)
            return outcome

    def _span_attributes(self, entry: StreamEntry, event: CloudEvent) -> dict[str, Any]:
        return {
            "messaging.system": "redis",
            "messaging.operation.name": "process",
            "messaging.destination.name": entry.stream,
            "messaging.consumer.group.name": self.group,
            "messaging.message.id": event.id,
            "souk.event.type": event.type,
            "souk.stream.entry_id": entry.entry_id,
        }

    async def _apply(self, entry: StreamEntry, event: CloudEvent, handler: EventHandler) -> str:
        """Record the event in the inbox and run its handler, in one transaction."""
        record = (
            insert(self.inbox)
            .values(event_id=event.id, stream=entry.stream, type=event.type)
            .on_conflict_do_nothing(index_elements=[self.inbox.c.event_id])
            .returning(self.inbox.c.event_id)
        )
        async with self.sessions() as session, session.begin():
            if await session.scalar(record) is None:
                return DUPLICATE
            await handler(event, session)
        return OK

    async def _handle_failure(self, entry: StreamEntry, event: CloudEvent, error: Exception) -> str:
        """Leave a failed entry pending for a retry, or dead-letter it at the limit."""
        if entry.deliveries is None:
            await look_up_deliveries(self.redis, self.group, [entry])
        log.warning(
            "stream_handler_failed",
            stream=entry.stream,
            group=self.group,
            entry_id=entry.entry_id,
            event_id=event.id,
            event_type=event.type,
            deliveries=entry.deliveries,
            max_deliveries=self.max_deliveries,
            error=describe_error(error),
            exc_info=error,
        )
        if (entry.deliveries or 1) >= self.max_deliveries:
            await self._dead_letter(entry, describe_error(error))
            return DEAD_LETTER
        return ERROR

    async def _dead_letter(self, entry: StreamEntry, error: str) -> None:
        assert entry.fields is not None
        letter = DeadLetter(
            entry.stream, entry.entry_id, entry.fields, error, entry.deliveries or 1
        )
        await move_to_dead_letter(
            self.redis,
            letter,
            group=self.group,
            dead_letter_stream=self.dead_letter_stream,
            max_length=self.max_length,
        )
        log.error(
            "stream_entry_dead_lettered",
            stream=entry.stream,
            group=self.group,
            entry_id=entry.entry_id,
            dead_letter_stream=self.dead_letter_stream,
            deliveries=letter.deliveries,
            error=error,
        )
