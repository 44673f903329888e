"""Pruning of the inbox: handled event ids are kept for a retention period, then deleted.

The inbox (``event_inbox``) makes consumers idempotent: a redelivered event whose id is
there is acknowledged without running its handler again. Redeliveries happen within
minutes (a reclaimed pending entry, a restarted consumer), and an entry is dead-lettered
after ``STREAM_MAX_DELIVERIES`` attempts, so ids older than ``INBOX_RETENTION_HOURS``
(default 7 days) protect nothing and would otherwise grow the table for ever. An event
replayed from a dead-letter stream after the retention is handled again, as a replay should.

Deletion runs in the event workers every ``interval`` seconds, in chunks of bounded size so
each transaction (and its locks) stays short.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Table, func
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk_common.db import delete_in_chunks
from souk_common.events.backoff import describe_error, wait_for_stop
from souk_common.logging import get_logger

log = get_logger(__name__)


@dataclass(kw_only=True)
class InboxPruner:
    """Deletes inbox rows handled more than ``retention`` ago, every ``interval`` seconds."""

    sessions: async_sessionmaker[AsyncSession]
    inbox: Table
    service: str
    retention: timedelta
    interval: float = 3600.0
    chunk: int = 5000

    async def prune_once(self) -> int:
        """Delete every row older than the retention, chunk by chunk; return how many."""
        inbox = self.inbox
        handled_before = inbox.c.processed_at < func.now() - self.retention
        return await delete_in_chunks(
            self.sessions, inbox, inbox.c.event_id, handled_before, self.chunk
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Prune now and then every ``interval`` seconds until ``stop`` is set."""
        # Replicas started together should not all prune at the same moment.
        await wait_for_stop(stop, random.uniform(0, min(self.interval, 60.0)))
        while not stop.is_set():
            try:
                deleted = await self.prune_once()
            except Exception as error:  # the loop must outlive any failure; retried next time
                log.warning("inbox_prune_failed", service=self.service, error=describe_error(error))
            else:
                if deleted:
                    log.info("inbox_pruned", service=self.service, deleted=deleted)
            await wait_for_stop(stop, self.interval)
