"""The consumer group runner: reads a service's subscribed streams and calls its handlers.

Delivery is at least once, the effect exactly once. Each iteration (1) after a start, re-reads
this consumer's own pending entries (``XREADGROUP ... 0``); (2) reclaims entries idle longer
than ``claim_idle_ms`` (``XAUTOCLAIM``: crashed consumers' entries and our own failed ones);
(3) reads new entries (``XREADGROUP ... >``, bounded ``BLOCK`` so a stop is noticed). The
entries of one read are handled by :class:`~souk_common.events.handling.EntryHandler` in one
database transaction, with no savepoints, that also records each event id in the inbox; they
are acknowledged only after that transaction commits. If any entry fails, the transaction
rolls back and every entry of the read is handled again on its own. A failing entry stays
pending and is retried after ``claim_idle_ms``; after ``max_deliveries`` it goes to
``{prefix}dlq.{group}``.

Entries of one stream are handled one at a time, in order, so a handler sees an aggregate's
events in the order they were published (except while an earlier one is being retried).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opentelemetry.trace import Tracer
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk_common.events.backoff import (
    Backoff,
    describe_error,
    is_connection_error,
    wait_for_stop,
)
from souk_common.events.entries import (
    ACKED_OUTCOMES,
    IGNORED,
    StreamEntry,
    look_up_deliveries,
    parse_entries,
    text,
)
from souk_common.events.handlers import EventHandler
from souk_common.events.handling import EntryHandler
from souk_common.events.tables import EventTables
from souk_common.logging import get_logger
from souk_common.metrics import STREAM_EVENTS, STREAM_LAG, STREAM_PENDING
from souk_common.streams import dead_letter_key
from souk_common.telemetry import get_tracer

__all__ = ["ConsumerGroupRunner", "EventHandler"]

log = get_logger(__name__)


class ConsumerGroupRunner:
    """Consumes ``streams`` as consumer ``consumer`` of group ``group``."""

    def __init__(
        self,
        *,
        redis: Redis,
        sessions: async_sessionmaker[AsyncSession],
        tables: EventTables,
        group: str,
        consumer: str,
        streams: Sequence[str],
        handlers: Mapping[str, EventHandler],
        prefix: str,
        batch_size: int,
        block_ms: int,
        claim_idle_ms: int,
        max_deliveries: int,
        max_length: int,
        tracer: Tracer | None = None,
        lag_interval: float = 5.0,
    ) -> None:
        self.redis = redis
        self.group = group
        self.consumer = consumer
        self.streams = list(streams)
        self.batch_size = batch_size
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.lag_interval = lag_interval
        self.entries = EntryHandler(
            redis=redis,
            sessions=sessions,
            inbox=tables.inbox,
            group=group,
            handlers=dict(handlers),
            dead_letter_stream=dead_letter_key(prefix, group),
            max_deliveries=max_deliveries,
            max_length=max_length,
            tracer=tracer or get_tracer("souk_common.events"),
        )
        self._recovered = False
        self._claim_cursors = dict.fromkeys(self.streams, "0-0")
        self._claim_interval = min(claim_idle_ms / 2, 5000) / 1000
        self._next_claim_at = 0.0
        self._next_lag_at = 0.0

    async def ensure_groups(self) -> None:
        """Create the group on every stream (and the stream itself) unless it exists.

        A new group starts at the beginning of the stream: events published before the
        consumer's first deployment are handled, not skipped (the inbox absorbs repeats).
        """
        for stream in self.streams:
            try:
                await self.redis.xgroup_create(stream, self.group, id="0", mkstream=True)
            except ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, finishing the current batch; outages are retried."""
        backoff = Backoff()
        log.info("consumer_started", group=self.group, consumer=self.consumer, streams=self.streams)
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception as error:  # the loop must outlive any failure
                delay = backoff.next_delay()
                log.warning(
                    "consumer_failed",
                    group=self.group,
                    error=describe_error(error),
                    retry_in=round(delay, 3),
                )
                await wait_for_stop(stop, delay)
                if is_connection_error(error):
                    await self._wait_for_dependencies(stop, backoff)
                # Entries read before the failure are still ours: take them up first.
                self._recovered = False
                if isinstance(error, ResponseError) and "NOGROUP" in str(error):
                    await self._recreate_groups()
                continue
            backoff.reset()
        log.info("consumer_stopped", group=self.group, consumer=self.consumer)

    async def _wait_for_dependencies(self, stop: asyncio.Event, backoff: Backoff) -> None:
        """After an outage, probe Redis and PostgreSQL until both answer.

        Every re-read of a pending entry counts as a delivery toward the dead-letter limit, so
        retrying entries while a dependency is down would dead-letter events that did nothing
        wrong (seen when the PostgreSQL pod was replaced: five re-reads in three seconds).
        Probing without reading costs each held entry one delivery per outage instead.
        """
        while not stop.is_set():
            try:
                await self.redis.ping()
                async with self.entries.sessions() as session:
                    await session.execute(sql_text("SELECT 1"))
                return
            except Exception as error:  # any failure: still down, or down again
                delay = backoff.next_delay()
                log.info(
                    "consumer_waiting_for_dependencies",
                    group=self.group,
                    error=describe_error(error),
                    retry_in=round(delay, 3),
                )
                await wait_for_stop(stop, delay)

    async def run_once(self) -> int:
        """Run one iteration (own pending, reclaim, read new); return entries processed."""
        processed = 0
        if not self._recovered:
            processed += await self._recover_own_pending()
            self._recovered = True
        if time.monotonic() >= self._next_claim_at:
            processed += await self._claim_idle()
            more = any(cursor != "0-0" for cursor in self._claim_cursors.values())
            # A long backlog of idle entries is reclaimed page after page, without pausing.
            self._next_claim_at = time.monotonic() + (0.0 if more else self._claim_interval)
        processed += await self._read_new()
        if time.monotonic() >= self._next_lag_at:
            await self.report_lag()
            self._next_lag_at = time.monotonic() + self.lag_interval
        return processed

    async def report_lag(self) -> None:
        """Set ``souk_stream_pending`` and ``souk_stream_lag`` from ``XINFO GROUPS``."""
        for stream in self.streams:
            for info in await self.redis.xinfo_groups(stream):
                if text(info["name"]) != self.group:
                    continue
                STREAM_PENDING.labels(stream, self.group).set(info["pending"])
                if info.get("lag") is not None:  # Redis reports no lag when it cannot tell
                    STREAM_LAG.labels(stream, self.group).set(info["lag"])

    async def _recreate_groups(self) -> None:
        try:
            await self.ensure_groups()
        except Exception as error:  # retried on the next failure
            log.warning("consumer_group_create_failed", error=describe_error(error))

    async def _recover_own_pending(self) -> int:
        """Handle entries delivered to this consumer name before a restart, page by page."""
        processed = 0
        for stream in self.streams:
            start = "0"
            while True:
                reply = await self.redis.xreadgroup(
                    self.group, self.consumer, {stream: start}, count=self.batch_size
                )
                entries = [e for _, raw in _reply_items(reply) for e in parse_entries(stream, raw)]
                if not entries:
                    break
                await look_up_deliveries(self.redis, self.group, entries)
                processed += await self._process(entries)
                start = entries[-1].entry_id
        return processed

    async def _claim_idle(self) -> int:
        """``XAUTOCLAIM`` entries idle longer than ``claim_idle_ms`` and handle them."""
        processed = 0
        for stream in self.streams:
            reply = await self.redis.xautoclaim(
                stream,
                self.group,
                self.consumer,
                min_idle_time=self.claim_idle_ms,
                start_id=self._claim_cursors[stream],
                count=self.batch_size,
            )
            self._claim_cursors[stream] = text(reply[0])
            entries = parse_entries(stream, reply[1])
            deleted = [text(i) for i in reply[2]] if len(reply) > 2 else []
            if deleted:  # trimmed before anyone acknowledged them: nothing left to handle
                log.warning("stream_entries_lost", stream=stream, group=self.group, ids=deleted)
                await self._ack({stream: deleted})
                STREAM_EVENTS.labels(stream, self.group, IGNORED).inc(len(deleted))
            if entries:
                await look_up_deliveries(self.redis, self.group, entries)
                processed += await self._process(entries)
        return processed

    async def _read_new(self) -> int:
        """Read never-delivered entries from every stream (blocking up to ``block_ms``)."""
        reply = await self.redis.xreadgroup(
            self.group,
            self.consumer,
            dict.fromkeys(self.streams, ">"),
            count=self.batch_size,
            block=self.block_ms,
        )
        entries = [
            e for stream, raw in _reply_items(reply) for e in parse_entries(text(stream), raw, 1)
        ]
        return await self._process(entries) if entries else 0

    async def _process(self, entries: Sequence[StreamEntry]) -> int:
        """Handle ``entries`` in order, then acknowledge the ones that are done."""
        outcomes = await self.entries.handle_batch(entries)
        acks: dict[str, list[str]] = defaultdict(list)
        counts: Counter[tuple[str, str]] = Counter()
        for entry, outcome in zip(entries, outcomes, strict=True):
            counts[entry.stream, outcome] += 1
            if outcome in ACKED_OUTCOMES:
                acks[entry.stream].append(entry.entry_id)
        if acks:
            await self._ack(acks)
        for (stream, outcome), count in counts.items():
            STREAM_EVENTS.labels(stream, self.group, outcome).inc(count)
        return len(entries)

    async def _ack(self, acks: Mapping[str, Sequence[str]]) -> None:
        """``XACK`` the given entry ids of each stream in one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for stream, ids in acks.items():
                pipe.xack(stream, self.group, *ids)
            await pipe.execute()


def _reply_items(reply: Any) -> Iterable[tuple[Any, Any]]:
    """Return ``(stream, entries)`` pairs of an ``XREADGROUP`` reply (RESP2 list or RESP3 map)."""
    if not reply:
        return []
    if isinstance(reply, dict):
        return list(reply.items())
    return [(stream, raw) for stream, raw in reply]
