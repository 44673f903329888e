"""The consumer group runner against real PostgreSQL and Redis.

Crashes are simulated at the step that matters (between commit and ack, between read and
handling), and the assertions count effects, pending entries and dead letters.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from souk_common.correlation import correlation_scope, get_correlation_id
from souk_common.events import Outbox, dead_letter_key
from souk_common.testing import eventually

from .conftest import GROUP, ThingHappened
from .consumer_helpers import (
    dead_letters,
    outcome_count,
    pending_count,
    publish,
    run_until,
)


async def test_handles_each_entry_once_acks_it_and_counts_ok(
    events_db, redis_client, redis_prefix, orders_stream
):
    runner = events_db.runner(redis_client, redis_prefix)
    await runner.ensure_groups()
    await runner.ensure_groups()  # idempotent
    events = [await publish(redis_client, orders_stream, n) for n in range(5)]

    assert await runner.run_once() == 5

    assert await events_db.effect_rows() == [(e.id, n) for n, e in enumerate(events)]
    assert await pending_count(redis_client, orders_stream) == 0
    assert outcome_count(orders_stream, "ok") == 5
    histogram = REGISTRY.get_sample_value(
        "souk_stream_handler_duration_seconds_count", {"stream": orders_stream, "group": GROUP}
    )
    assert histogram == 5
    await runner.report_lag()
    labels = {"stream": orders_stream, "group": GROUP}
    assert REGISTRY.get_sample_value("souk_stream_pending", labels) == 0
    assert REGISTRY.get_sample_value("souk_stream_lag", labels) == 0


async def test_killed_between_commit_and_ack_resumes_own_pending_without_repeating(
    events_db, redis_client, redis_prefix, orders_stream, monkeypatch
):
    first = events_db.runner(redis_client, redis_prefix, consumer="pod-0")
    await first.ensure_groups()
    event = await publish(redis_client, orders_stream, 1)

    async def killed(*args, **kwargs):
        raise asyncio.CancelledError

    monkeypatch.setattr(first, "_ack", killed)
    with pytest.raises(asyncio.CancelledError):
        await first.run_once()
    assert await events_db.effect_rows() == [(event.id, 1)]
    assert await pending_count(redis_client, orders_stream) == 1

    # Same consumer name after the restart; a long claim_idle_ms rules out XAUTOCLAIM.
    restarted = events_db.runner(
        redis_client, redis_prefix, consumer="pod-0", claim_idle_ms=600_000
    )
    assert await restarted.run_once() == 1

    assert await events_db.effect_rows() == [(event.id, 1)]
    assert await pending_count(redis_client, orders_stream) == 0
    assert outcome_count(orders_stream, "duplicate") == 1


async def test_always_failing_handler_dead_letters_after_max_deliveries_and_moves_on(
    events_db, redis_client, redis_prefix, orders_stream
):
    calls: list[int] = []

    async def handler(event, session):
        calls.append(event.data["n"])
        if event.data["n"] == 1:
            raise ValueError("no price for sku 42")
        await events_db.record_effect(event, session)

    runner = events_db.runner(redis_client, redis_prefix, handlers={"thing.happened": handler})
    await runner.ensure_groups()
    bad = await publish(redis_client, orders_stream, 1)
    entry_id = (await redis_client.xrange(orders_stream))[0][0].decode()

    async def dead_lettered() -> bool:
        return bool(await redis_client.xlen(dead_letter_key(redis_prefix, GROUP)))

    await run_until(runner, dead_lettered)
    good = await publish(redis_client, orders_stream, 2)
    await runner.run_once()

    assert calls.count(1) == 3
    [letter] = await dead_letters(redis_client, redis_prefix)
    assert letter["id"] == bad.id
    assert letter["dlq_original_stream"] == orders_stream
    assert letter["dlq_original_id"] == entry_id
    assert letter["dlq_error"] == "ValueError: no price for sku 42"
    assert letter["dlq_deliveries"] == "3"
    assert letter["dlq_group"] == GROUP
    assert await pending_count(redis_client, orders_stream) == 0
    assert await events_db.effect_rows() == [(good.id, 2)]
    assert outcome_count(orders_stream, "error") == 2
    assert outcome_count(orders_stream, "dead_letter") == 1
    assert (
        REGISTRY.get_sample_value(
            "souk_stream_dead_letters_total", {"stream": orders_stream, "group": GROUP}
        )
        == 1
    )


async def test_dead_letter_error_text_carries_no_secrets(
    events_db, redis_client, redis_prefix, orders_stream
):
    async def leaky(event, session):
        raise ValueError("cannot reach http://svc:hunter2@payments/api with Bearer abc.def")

    runner = events_db.runner(
        redis_client, redis_prefix, handlers={"thing.happened": leaky}, max_deliveries=1
    )
    await runner.ensure_groups()
    await publish(redis_client, orders_stream, 1)

    await runner.run_once()

    [letter] = await dead_letters(redis_client, redis_prefix)
    assert letter["dlq_error"].startswith("ValueError: cannot reach http://svc:")
    assert "hunter2" not in letter["dlq_error"]
    assert "abc.def" not in letter["dlq_error"]


async def test_crashed_consumers_pending_entries_are_reclaimed_by_another(
    events_db, redis_client, redis_prefix, orders_stream
):
    b = events_db.runner(redis_client, redis_prefix, consumer="b")
    await b.ensure_groups()
    events = [await publish(redis_client, orders_stream, n) for n in range(3)]
    # Consumer "a" reads the entries and dies before handling them.
    await redis_client.xreadgroup(GROUP, "a", {orders_stream: ">"}, count=10)
    assert await b.run_once() == 0, "entries of a live consumer are not taken too early"

    await asyncio.sleep(0.06)
    assert await b.run_once() == 3

    assert await events_db.effect_rows() == [(e.id, n) for n, e in enumerate(events)]
    assert await pending_count(redis_client, orders_stream) == 0


async def test_a_long_backlog_of_idle_entries_is_reclaimed_page_after_page(
    events_db, redis_client, redis_prefix, orders_stream
):
    b = events_db.runner(redis_client, redis_prefix, consumer="b", batch_size=20)
    await b.ensure_groups()
    for n in range(50):
        await publish(redis_client, orders_stream, n)
    await redis_client.xreadgroup(GROUP, "a", {orders_stream: ">"}, count=100)
    await asyncio.sleep(0.06)

    processed = [await b.run_once() for _ in range(3)]

    assert processed == [20, 20, 10]
    assert len(await events_db.effect_rows()) == 50
    assert await pending_count(redis_client, orders_stream) == 0


async def test_reclaimed_entry_over_the_delivery_limit_is_dead_lettered_unhandled(
    events_db, redis_client, redis_prefix, orders_stream
):
    b = events_db.runner(redis_client, redis_prefix, consumer="b")
    await b.ensure_groups()
    await publish(redis_client, orders_stream, 1)
    # Consumer "a" crashes while handling the entry, three restarts in a row.
    await redis_client.xreadgroup(GROUP, "a", {orders_stream: ">"}, count=10)
    for _ in range(2):
        await redis_client.xreadgroup(GROUP, "a", {orders_stream: "0"}, count=10)
    await asyncio.sleep(0.06)

    await b.run_once()

    [letter] = await dead_letters(redis_client, redis_prefix)
    assert letter["dlq_error"] == "delivery limit exceeded"
    assert letter["dlq_deliveries"] == "4"
    assert await events_db.effect_rows() == []
    assert await pending_count(redis_client, orders_stream) == 0


async def test_malformed_entry_goes_straight_to_dead_letter(
    events_db, redis_client, redis_prefix, orders_stream
):
    runner = events_db.runner(redis_client, redis_prefix)
    await runner.ensure_groups()
    await redis_client.xadd(orders_stream, {"id": "x", "type": "thing.happened", "data": "{"})

    assert await runner.run_once() == 1

    [letter] = await dead_letters(redis_client, redis_prefix)
    assert letter["dlq_error"].startswith("MalformedEventError: missing CloudEvents attributes")
    assert letter["data"] == "{"
    assert await pending_count(redis_client, orders_stream) == 0


async def test_unknown_event_type_is_acked_and_ignored(
    events_db, redis_client, redis_prefix, orders_stream
):
    runner = events_db.runner(redis_client, redis_prefix)
    await runner.ensure_groups()
    await publish(redis_client, orders_stream, 1, type_="thing.unknown")

    assert await runner.run_once() == 1

    assert await events_db.effect_rows() == []
    assert await pending_count(redis_client, orders_stream) == 0
    assert outcome_count(orders_stream, "ignored") == 1


async def test_trimmed_pending_entry_is_acked(events_db, redis_client, redis_prefix, orders_stream):
    b = events_db.runner(redis_client, redis_prefix, consumer="b")
    await b.ensure_groups()
    await publish(redis_client, orders_stream, 1)
    [(entry_id, _)] = (await redis_client.xreadgroup(GROUP, "a", {orders_stream: ">"}))[0][1]
    await redis_client.xdel(orders_stream, entry_id)
    await asyncio.sleep(0.06)

    await b.run_once()

    assert await pending_count(redis_client, orders_stream) == 0
    assert await dead_letters(redis_client, redis_prefix) == []
    assert outcome_count(orders_stream, "ignored") == 1


async def test_correlation_id_and_trace_context_follow_the_event(
    events_db, redis_client, redis_prefix, orders_stream
):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    seen: dict[str, object] = {}

    async def handler(event, session):
        seen["correlation_id"] = get_correlation_id()
        seen["trace_id"] = trace.get_current_span().get_span_context().trace_id
        await events_db.record_effect(event, session)

    outbox = Outbox(events_db.tables, "orders", redis_prefix)
    with tracer.start_as_current_span("POST /api/orders") as producer, correlation_scope("req-42"):
        async with events_db.sessions() as session, session.begin():
            await outbox.add(session, ThingHappened(n=1))
    await events_db.relay(redis_client).publish_once()
    runner = events_db.runner(
        redis_client, redis_prefix, handlers={"thing.happened": handler}, tracer=tracer
    )
    await runner.ensure_groups()

    assert await runner.run_once() == 1

    producer_context = producer.get_span_context()
    assert seen == {"correlation_id": "req-42", "trace_id": producer_context.trace_id}
    [consumer] = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CONSUMER]
    assert consumer.parent is not None
    assert consumer.parent.span_id == producer_context.span_id
    assert consumer.attributes["messaging.system"] == "redis"
    assert consumer.attributes["messaging.destination.name"] == orders_stream
    assert consumer.attributes["messaging.consumer.group.name"] == GROUP
    assert consumer.attributes["souk.event.type"] == "thing.happened"
    assert get_correlation_id() is None, "the correlation id must not leak past the handler"


async def test_database_outage_is_not_counted_as_a_handler_failure(
    events_db, redis_client, redis_prefix, orders_stream
):
    engine = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    runner = events_db.runner(
        redis_client,
        redis_prefix,
        sessions=async_sessionmaker(engine),
        max_deliveries=1,
    )
    await runner.ensure_groups()
    await publish(redis_client, orders_stream, 1)

    with pytest.raises(ConnectionRefusedError):
        await runner.run_once()
    await engine.dispose()

    assert await pending_count(redis_client, orders_stream) == 1
    assert await dead_letters(redis_client, redis_prefix) == []


async def test_run_stops_within_block_time_after_finishing_its_batch(
    events_db, redis_client, redis_prefix, orders_stream
):
    runner = events_db.runner(redis_client, redis_prefix, block_ms=200)
    await runner.ensure_groups()
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    event = await publish(redis_client, orders_stream, 1)

    await eventually(events_db.effect_rows, within=5, interval=0.01)
    stopped_at = time.monotonic()
    stop.set()
    await asyncio.wait_for(task, 2)

    assert time.monotonic() - stopped_at < 0.5
    assert await events_db.effect_rows() == [(event.id, 1)]
    assert await pending_count(redis_client, orders_stream) == 0


async def test_run_recreates_a_deleted_group(events_db, redis_client, redis_prefix, orders_stream):
    runner = events_db.runner(redis_client, redis_prefix, block_ms=50)
    await runner.ensure_groups()
    await redis_client.delete(orders_stream)  # e.g. Redis lost its data
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    await asyncio.sleep(0.3)
    event = await publish(redis_client, orders_stream, 1)

    await eventually(events_db.effect_rows, within=5, interval=0.01)
    stop.set()
    await asyncio.wait_for(task, 2)
    assert await events_db.effect_rows() == [(event.id, 1)]
