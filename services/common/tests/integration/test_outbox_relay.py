"""The outbox relay against real PostgreSQL and Redis: order, exactly-once, crashes, outages."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker

from souk_common.events import CloudEvent
from souk_common.testing import eventually


async def stream_event_ids(redis: Redis, stream: str) -> list[str]:
    return [CloudEvent.from_fields(fields).id for _, fields in await redis.xrange(stream)]


def published_total() -> float:
    return REGISTRY.get_sample_value("souk_outbox_published_total", {"service": "orders"}) or 0.0


async def test_publishes_committed_rows_in_order_and_never_rolled_back_ones(
    events_db, redis_client, redis_prefix, orders_stream
):
    committed = []
    for n in range(6):
        committed.append(await events_db.stage(redis_prefix, n))
        await events_db.stage(redis_prefix, 100 + n, commit=False)
    relay = events_db.relay(redis_client, batch_size=4)
    published_before = published_total()

    assert await relay.publish_once() == 4
    assert await relay.publish_once() == 2
    assert await relay.publish_once() == 0

    assert await stream_event_ids(redis_client, orders_stream) == [e.id for e in committed]
    assert await events_db.unpublished() == 0
    published_after = published_total()
    assert published_after - published_before == 6
    first = CloudEvent.from_fields((await redis_client.xrange(orders_stream))[0][1])
    assert first.type == "thing.happened"
    assert first.data == {"n": 0}


async def test_two_relays_publish_each_row_exactly_once(
    events_db, redis_client, redis_prefix, orders_stream
):
    staged = [await events_db.stage(redis_prefix, n) for n in range(300)]
    relays = [events_db.relay(redis_client, batch_size=10) for _ in range(2)]
    counts = [0, 0]

    async def drain(index: int) -> None:
        while published := await relays[index].publish_once():
            counts[index] += published
            await asyncio.sleep(0)

    await asyncio.gather(drain(0), drain(1))

    ids = await stream_event_ids(redis_client, orders_stream)
    assert len(ids) == 300
    assert set(ids) == {e.id for e in staged}
    assert sum(counts) == 300
    assert min(counts) > 0, "both relays should have taken a share of the rows"


async def test_crash_after_xadd_republishes_and_consumer_applies_once(
    events_db, redis_client, redis_prefix, orders_stream, monkeypatch
):
    event = await events_db.stage(redis_prefix, 7)
    relay = events_db.relay(redis_client)
    runner = events_db.runner(redis_client, redis_prefix)
    await runner.ensure_groups()

    async def crash(*args, **kwargs):
        raise RuntimeError("relay died before marking the rows")

    with monkeypatch.context() as patch:
        patch.setattr(relay, "_mark_published", crash)
        with pytest.raises(RuntimeError):
            await relay.publish_once()
    assert await events_db.unpublished() == 1
    assert await relay.publish_once() == 1

    assert await stream_event_ids(redis_client, orders_stream) == [event.id, event.id]
    assert await runner.run_once() == 2
    assert await events_db.effect_rows() == [(event.id, 7)]
    assert (await redis_client.xpending(orders_stream, "billing"))["pending"] == 0
    duplicates = REGISTRY.get_sample_value(
        "souk_stream_events_total",
        {"stream": orders_stream, "group": "billing", "outcome": "duplicate"},
    )
    assert duplicates == 1


async def published_within(redis: Redis, stream: str, seconds: float) -> None:
    """Wait until ``stream`` holds an entry (a relay sleeping 30 s was woken)."""
    await eventually(lambda: redis.xlen(stream), within=seconds, interval=0.01, what="a publish")


async def test_commit_of_outbox_rows_wakes_the_relay(
    events_db, redis_client, redis_prefix, orders_stream
):
    relay = events_db.relay(redis_client, poll_interval=30.0)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(0.2)  # the first (empty) poll is done; the relay now sleeps 30 s

    await events_db.stage(redis_prefix, 1)
    await published_within(redis_client, orders_stream, 2)

    stop.set()
    await asyncio.wait_for(task, 2)


async def test_a_relay_on_its_own_pool_wakes_on_commits_of_the_request_pool(
    events_db, redis_client, redis_prefix, orders_stream
):
    worker_sessions = async_sessionmaker(events_db.engine, expire_on_commit=False)
    relay = events_db.relay(
        redis_client, poll_interval=30.0, sessions=worker_sessions, wake_on=[events_db.sessions]
    )
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(0.2)  # the first (empty) poll is done; the relay now sleeps 30 s

    await events_db.stage(redis_prefix, 1)  # committed through events_db.sessions
    await published_within(redis_client, orders_stream, 2)

    stop.set()
    await asyncio.wait_for(task, 2)


async def test_relay_survives_a_redis_outage_and_stops_cleanly(
    events_db, redis_client, redis_prefix, orders_stream
):
    await events_db.stage(redis_prefix, 1)
    unreachable = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    relay = events_db.relay(unreachable, poll_interval=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(0.5)
    assert not task.done(), "the relay loop must not crash while Redis is down"
    stop.set()
    await asyncio.wait_for(task, 3)
    await unreachable.aclose()

    assert await events_db.unpublished() == 1
    assert await events_db.relay(redis_client).publish_once() == 1
    assert await redis_client.xlen(orders_stream) == 1


async def test_stream_is_trimmed_approximately(
    events_db, redis_client, redis_prefix, orders_stream
):
    for n in range(400):
        await events_db.stage(redis_prefix, n)
    relay = events_db.relay(redis_client, max_length=10, batch_size=100)
    while await relay.publish_once():
        pass
    length = await redis_client.xlen(orders_stream)
    # "MAXLEN ~" trims whole radix-tree nodes (stream-node-max-entries, 100 by default).
    assert 10 <= length <= 10 + 100


async def test_gauge_counts_backlog_and_cleanup_deletes_only_old_published_rows(
    events_db, redis_client, redis_prefix
):
    for n in range(3):
        await events_db.stage(redis_prefix, n)
    relay = events_db.relay(redis_client, batch_size=2)
    assert await relay.refresh_unpublished_gauge() == 3
    assert REGISTRY.get_sample_value("souk_outbox_unpublished", {"service": "orders"}) == 3

    await relay.publish_once()
    assert await relay.delete_published() == 0  # published just now: within the retention
    assert await relay.delete_published(older_than=timedelta(0)) == 2
    assert await events_db.unpublished() == 1
    assert await relay.refresh_unpublished_gauge() == 1
