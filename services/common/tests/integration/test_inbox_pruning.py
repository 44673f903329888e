"""Inbox pruning on a real database: old ids go in chunks, recent ones stay and still dedupe."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import insert, select, text

from souk_common.events import stream_key
from souk_common.events.inbox_pruning import InboxPruner
from souk_common.testing import eventually

from .conftest import SERVICE, EventsDb


async def add_inbox_rows(events_db: EventsDb, prefix: str, count: int, age: timedelta) -> None:
    """Insert ``count`` handled ids whose ``processed_at`` is ``age`` ago."""
    processed_at = datetime.now(UTC) - age
    rows = [
        {
            "event_id": f"{prefix}-{n}",
            "stream": "orders.events",
            "type": "thing.happened",
            "processed_at": processed_at,
        }
        for n in range(count)
    ]
    async with events_db.sessions() as session, session.begin():
        await session.execute(insert(events_db.tables.inbox).values(rows))


async def inbox_ids(events_db: EventsDb) -> set[str]:
    """Return every id in the inbox."""
    inbox = events_db.tables.inbox
    async with events_db.sessions() as session:
        return set((await session.scalars(select(inbox.c.event_id))).all())


def pruner(events_db: EventsDb, **overrides: object) -> InboxPruner:
    """Return a pruner of the test inbox with a 7-day retention (overridable)."""
    options: dict[str, object] = {"retention": timedelta(days=7), "chunk": 3, **overrides}
    return InboxPruner(
        sessions=events_db.sessions,
        inbox=events_db.tables.inbox,
        service=SERVICE,
        **options,  # type: ignore[arg-type]
    )


async def test_only_ids_older_than_the_retention_are_deleted_in_chunks(events_db: EventsDb):
    await add_inbox_rows(events_db, "old", 8, timedelta(days=8))
    await add_inbox_rows(events_db, "edge", 2, timedelta(days=6, hours=23))
    await add_inbox_rows(events_db, "new", 4, timedelta(minutes=1))
    assert await pruner(events_db).prune_once() == 8  # chunks of 3: 3 + 3 + 2
    assert await inbox_ids(events_db) == {f"edge-{n}" for n in range(2)} | {
        f"new-{n}" for n in range(4)
    }
    assert await pruner(events_db).prune_once() == 0


async def test_a_recent_duplicate_is_still_refused_after_pruning(
    events_db: EventsDb, redis_client: Redis, redis_prefix: str
):
    runner = events_db.runner(redis_client, redis_prefix)
    await runner.ensure_groups()
    event = await events_db.stage(redis_prefix, 1)
    relay = events_db.relay(redis_client)
    await relay.publish_once()
    await runner.run_once()
    await add_inbox_rows(events_db, "old", 5, timedelta(days=30))
    assert await pruner(events_db).prune_once() == 5
    assert event.id in await inbox_ids(events_db)
    # The same event again (a redelivery): the inbox still knows it, no second effect.
    async with events_db.sessions() as session, session.begin():
        await session.execute(
            text("UPDATE event_outbox SET published_at = NULL WHERE event_id = :id"),
            {"id": event.id},
        )
    assert await relay.publish_once() == 1
    assert await redis_client.xlen(stream_key(redis_prefix, SERVICE)) == 2  # delivered twice
    await runner.run_once()
    assert [n for _, n in await events_db.effect_rows()] == [1]


async def test_the_loop_prunes_at_once_then_waits_and_stops(events_db: EventsDb):
    await add_inbox_rows(events_db, "old", 4, timedelta(days=8))
    stop = asyncio.Event()
    loop = asyncio.create_task(pruner(events_db, interval=0.05).run(stop))

    async def pruned() -> bool:
        return not await inbox_ids(events_db)

    await eventually(pruned, within=5, interval=0.05, what="the old inbox rows pruned")
    stop.set()
    await asyncio.wait_for(loop, timeout=5)
