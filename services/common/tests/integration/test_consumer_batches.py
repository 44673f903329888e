"""One read, one transaction: how the runner handles a whole read of a consumer group.

The entries of a read share one transaction (one inbox insert, one commit); a failure rolls
the batch back and every entry is handled again on its own; a BatchEventHandler takes a run
of events in one call.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import event as sqlalchemy_event

from souk_common.db import on_commit
from souk_common.events import BatchEventHandler

from .consumer_helpers import (
    outcome_count,
    pending_count,
    publish,
)


def count_commits(events_db) -> list[int]:
    """Return a list that grows by one per COMMIT on ``events_db``'s engine."""
    commits: list[int] = []
    sqlalchemy_event.listen(events_db.engine.sync_engine, "commit", lambda _: commits.append(1))
    return commits


async def test_a_read_is_handled_in_one_transaction(
    events_db, redis_client, redis_prefix, orders_stream
):
    runner = events_db.runner(redis_client, redis_prefix)
    await runner.ensure_groups()
    events = [await publish(redis_client, orders_stream, n) for n in range(10)]
    commits = count_commits(events_db)

    assert await runner.run_once() == 10

    assert len(commits) == 1
    assert await events_db.effect_rows() == [(e.id, n) for n, e in enumerate(events)]
    assert await pending_count(redis_client, orders_stream) == 0


async def test_a_failing_entry_costs_the_others_nothing_and_its_queued_work_is_dropped(
    events_db, redis_client, redis_prefix, orders_stream
):
    applied = Counter("souk_test_batch_applied", "applied", registry=CollectorRegistry())
    calls: list[int] = []

    async def handler(event, session):
        calls.append(event.data["n"])
        await events_db.record_effect(event, session)
        on_commit(session, applied.inc)
        if event.data["n"] == 3:
            raise ValueError("bad line")

    runner = events_db.runner(redis_client, redis_prefix, handlers={"thing.happened": handler})
    await runner.ensure_groups()
    events = [await publish(redis_client, orders_stream, n) for n in range(6)]

    await runner.run_once()

    # The batch rolled back and each entry was handled again alone: the others took effect
    # once, the failing one's effect and counter increment were dropped...
    assert await events_db.effect_rows() == [(e.id, n) for n, e in enumerate(events) if n != 3]
    assert applied._value.get() == 5
    # ...and it is left pending for the usual retry.
    assert calls.count(3) == 2
    assert await pending_count(redis_client, orders_stream) == 1
    assert outcome_count(orders_stream, "ok") == 5
    assert outcome_count(orders_stream, "error") == 1


async def test_the_same_event_twice_in_one_read_takes_effect_once(
    events_db, redis_client, redis_prefix, orders_stream
):
    runner = events_db.runner(redis_client, redis_prefix)
    await runner.ensure_groups()
    event = await publish(redis_client, orders_stream, 7)
    await redis_client.xadd(orders_stream, event.to_fields())  # a relay re-publish

    assert await runner.run_once() == 2

    assert await events_db.effect_rows() == [(event.id, 7)]
    assert outcome_count(orders_stream, "ok") == 1
    assert outcome_count(orders_stream, "duplicate") == 1
    assert await pending_count(redis_client, orders_stream) == 0


async def test_an_entry_failing_only_in_the_batch_succeeds_on_its_own(
    events_db, redis_client, redis_prefix, orders_stream
):
    """A conflict inside the batch (here: the first attempt fails) is retried at once."""
    attempts: dict[int, int] = {}

    async def handler(event, session):
        n = event.data["n"]
        attempts[n] = attempts.get(n, 0) + 1
        if n == 1 and attempts[n] == 1:
            raise RuntimeError("could not obtain lock on row")
        await events_db.record_effect(event, session)

    runner = events_db.runner(redis_client, redis_prefix, handlers={"thing.happened": handler})
    await runner.ensure_groups()
    events = [await publish(redis_client, orders_stream, n) for n in range(3)]

    await runner.run_once()

    assert await events_db.effect_rows() == [(e.id, n) for n, e in enumerate(events)]
    assert await pending_count(redis_client, orders_stream) == 0
    assert outcome_count(orders_stream, "ok") == 3


async def test_a_batch_handler_takes_a_whole_read_in_one_call(
    events_db, redis_client, redis_prefix, orders_stream
):
    calls: list[list[int]] = []

    async def insert_all(events, session):
        calls.append([event.data["n"] for event in events])
        for event in events:
            await events_db.record_effect(event, session)

    runner = events_db.runner(
        redis_client, redis_prefix, handlers={"thing.happened": BatchEventHandler(insert_all)}
    )
    await runner.ensure_groups()
    events = [await publish(redis_client, orders_stream, n) for n in range(8)]
    await redis_client.xadd(orders_stream, events[2].to_fields())  # a repeat in the same read

    assert await runner.run_once() == 9

    assert calls == [list(range(8))]
    assert await events_db.effect_rows() == [(e.id, n) for n, e in enumerate(events)]
    assert outcome_count(orders_stream, "ok") == 8
    assert outcome_count(orders_stream, "duplicate") == 1
    assert await pending_count(redis_client, orders_stream) == 0


async def test_a_failing_batch_handler_falls_back_to_one_event_per_call(
    events_db, redis_client, redis_prefix, orders_stream
):
    calls: list[list[int]] = []

    async def insert_all(events, session):
        calls.append([event.data["n"] for event in events])
        if any(event.data["n"] == 1 for event in events):
            raise ValueError("bad event in batch")
        for event in events:
            await events_db.record_effect(event, session)

    runner = events_db.runner(
        redis_client, redis_prefix, handlers={"thing.happened": BatchEventHandler(insert_all)}
    )
    await runner.ensure_groups()
    events = [await publish(redis_client, orders_stream, n) for n in range(3)]

    await runner.run_once()

    assert calls == [[0, 1, 2], [0], [1], [2]]
    assert await events_db.effect_rows() == [(events[0].id, 0), (events[2].id, 2)]
    assert await pending_count(redis_client, orders_stream) == 1
