"""Handling one delivered stream entry: parse, trace, inbox transaction, retry or dead-letter.

:class:`EntryHandler` turns an entry into an outcome (``ok``, ``duplicate``, ``ignored``,
``error``, ``dead_letter``); the consumer runner (``souk_common.events.consumer``) decides
what to acknowledge from it. The handler runs in the transaction that inserts the event id
into the inbox, so a redelivered event whose effect already committed is a no-op.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, Tracer
from redis.asyncio import Redis
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk_common.correlation import correlation_scope
from souk_common.events.backoff import describe_error, is_connection_error
from souk_common.events.dead_letter import DeadLetter, move_to_dead_letter
from souk_common.events.entries import (
    DEAD_LETTER,
    DUPLICATE,
    ERROR,
    IGNORED,
    OK,
    StreamEntry,
    look_up_deliveries,
)
from souk_common.events.envelope import CloudEvent, MalformedEventError
from souk_common.events.handlers import BatchEventHandler, EventHandler
from souk_common.events.inbox import insert_many, insert_one
from souk_common.logging import get_logger
from souk_common.metrics import STREAM_EVENTS, STREAM_HANDLER_DURATION
from souk_common.telemetry import consumer_span, span_context_of

log = get_logger(__name__)


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
        """Handle one entry in its own transaction and return its outcome.

        Only an outage (a connection error) propagates; every other failure becomes an
        outcome (``error`` to retry later, ``dead_letter`` at the delivery limit).
        """
        prepared = await self._prepare(entry)
        if isinstance(prepared, str):
            return prepared
        event, handler = prepared
        with self._scope(entry, event) as span:
            started = time.perf_counter()
            try:
                outcome = await self._apply(entry, event, handler)
            except Exception as error:  # a failing handler must not stop the group
                _record_error(span, error)
                if is_connection_error(error):
                    STREAM_EVENTS.labels(entry.stream, self.group, ERROR).inc()
                    raise  # an outage, not this entry's fault: back off, retry it later
                outcome = await self._handle_failure(entry, event, error)
            finally:
                self._observe(entry, started)
            span.set_attribute("souk.outcome", outcome)
            return outcome

    async def handle_batch(self, entries: Sequence[StreamEntry]) -> list[str]:
        """Handle ``entries`` in order in ONE transaction; return their outcomes in order.

        One commit covers the whole read, which is what lets a group approach Redis' own
        rate: a commit and a session are the dominant costs of a small handler. The batch is
        optimistic: if any entry fails, the transaction rolls back (with the deferred work
        queued in the session: metrics, notifications) and every entry of the batch is handled
        again on its own, in its own transaction, with the usual retry or dead-letter
        treatment. Failures are rare, so the common path pays for no savepoints.
        """
        outcomes: list[str | None] = []
        work: list[tuple[int, StreamEntry, CloudEvent, EventHandler]] = []
        for entry in entries:
            prepared = await self._prepare(entry)
            if isinstance(prepared, str):
                outcomes.append(prepared)
            else:
                work.append((len(outcomes), entry, *prepared))
                outcomes.append(None)
        if len(work) > 1 and await self._apply_batch(work, outcomes):
            return [outcome or ERROR for outcome in outcomes]
        for index, entry, _, _ in work:
            outcomes[index] = await self.handle(entry)
        return [outcome or ERROR for outcome in outcomes]

    async def _apply_batch(
        self,
        work: Sequence[tuple[int, StreamEntry, CloudEvent, EventHandler]],
        outcomes: list[str | None],
    ) -> bool:
        """Apply ``work`` in one transaction; False (nothing applied) when any entry failed."""
        decided: list[tuple[int, str]] = []
        try:
            async with self.sessions() as session, session.begin():
                # One statement records the whole read in the inbox; what it did not insert
                # was handled before (or appears twice in this read: the first one wins).
                recorded = set(await session.scalars(insert_many(work)))
                run: list[tuple[int, StreamEntry, CloudEvent]] = []
                run_handler: BatchEventHandler | None = None
                for index, entry, event, handler in work:
                    if event.id not in recorded:
                        decided.append((index, DUPLICATE))
                        continue
                    recorded.discard(event.id)
                    if run and handler is not run_handler:
                        assert run_handler is not None
                        decided += await self._apply_run(session, run_handler, run)
                        run = []
                    if isinstance(handler, BatchEventHandler):
                        run_handler = handler
                        run.append((index, entry, event))
                        continue
                    await self._apply_one(session, entry, event, handler)
                    decided.append((index, OK))
                if run:
                    assert run_handler is not None
                    decided += await self._apply_run(session, run_handler, run)
        except Exception as error:
            if is_connection_error(error):
                raise
            log.info(
                "stream_batch_retried_singly",
                group=self.group,
                entries=len(work),
                error=describe_error(error),
            )
            return False
        for index, outcome in decided:
            outcomes[index] = outcome
        return True

    async def _apply_one(
        self, session: AsyncSession, entry: StreamEntry, event: CloudEvent, handler: EventHandler
    ) -> None:
        """Run one event's handler inside the batch transaction, in its own span."""
        with self._scope(entry, event) as span:
            started = time.perf_counter()
            try:
                await handler(event, session)
            except Exception as error:
                _record_error(span, error)
                raise
            finally:
                self._observe(entry, started)
            span.set_attribute("souk.outcome", OK)

    async def _apply_run(
        self,
        session: AsyncSession,
        handler: BatchEventHandler,
        run: Sequence[tuple[int, StreamEntry, CloudEvent]],
    ) -> list[tuple[int, str]]:
        """Run a batch handler over ``run`` in one call, in one span linked to each producer."""
        entry = run[0][1]
        links = [Link(span_context_of(event.trace_carrier())) for _, _, event in run]
        attributes: dict[str, str | int] = {
            "messaging.system": "redis",
            "messaging.operation.name": "process",
            "messaging.destination.name": entry.stream,
            "messaging.consumer.group.name": self.group,
            "messaging.batch.message_count": len(run),
        }
        with self.tracer.start_as_current_span(
            f"process {entry.stream}", kind=SpanKind.CONSUMER, links=links, attributes=attributes
        ) as span:
            started = time.perf_counter()
            try:
                await handler.handle([event for _, _, event in run], session)
            except Exception as error:
                _record_error(span, error)
                raise
            finally:
                elapsed = (time.perf_counter() - started) / len(run)
                for _, each, _ in run:
                    STREAM_HANDLER_DURATION.labels(each.stream, self.group).observe(elapsed)
        return [(index, OK) for index, _, _ in run]

    async def _prepare(self, entry: StreamEntry) -> str | tuple[CloudEvent, EventHandler]:
        """Return the entry's event and handler, or its outcome when no handler should run."""
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
        return event, handler

    @contextmanager
    def _scope(self, entry: StreamEntry, event: CloudEvent) -> Iterator[Span]:
        """The event's correlation ID and a CONSUMER span, child of the producer's."""
        with (
            correlation_scope(event.correlationid),
            consumer_span(
                self.tracer,
                f"process {entry.stream}",
                event.trace_carrier(),
                self._span_attributes(entry, event),
            ) as span,
        ):
            yield span

    def _observe(self, entry: StreamEntry, started: float) -> None:
        STREAM_HANDLER_DURATION.labels(entry.stream, self.group).observe(
            time.perf_counter() - started
        )

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
        async with self.sessions() as session, session.begin():
            if await session.scalar(insert_one(self.inbox, entry, event)) is None:
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


def _record_error(span: Span, error: Exception) -> None:
    span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, describe_error(error, 200)))
