"""Benchmark of Souk's event layer on this machine: relay, consumer runner and raw Redis.

Measures (a) the consumer group runner's throughput, one process, with a handler that inserts
one row in the inbox transaction; (b) the outbox relay's publish rate from a pre-filled
outbox; (c) raw pipelined ``XADD``, unpipelined ``XADD`` and ``XREADGROUP`` + ``XACK`` rates
from Python, as the ceiling the layer is compared against. Uses its own fresh database and
stream prefix and removes both afterwards.

Run: ``uv run python tests/bench/bench_events.py --events 20000 [--json results.json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg
from redis.asyncio import Redis
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from souk_common.events import (
    BatchEventHandler,
    CloudEvent,
    ConsumerGroupRunner,
    EventTables,
    OutboxRelay,
    create_event_tables,
    event_tables,
    stream_key,
)

PG_ADMIN_URL = os.environ.get(
    "SOUK_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("SOUK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
GROUP = "bench"


@dataclass(frozen=True)
class Result:
    """One measurement: ``count`` items in ``seconds``."""

    name: str
    count: int
    seconds: float

    @property
    def rate(self) -> float:
        """Items per second."""
        return self.count / self.seconds if self.seconds else float("inf")


@dataclass
class Bench:
    """Connections and schema of one benchmark run."""

    redis: Redis
    sessions: async_sessionmaker[AsyncSession]
    tables: EventTables
    effects: Table
    prefix: str


async def timed(name: str, count: int, work: Any) -> Result:
    """Await ``work`` and return how long it took for ``count`` items."""
    started = time.perf_counter()
    await work
    return Result(name, count, time.perf_counter() - started)


async def raw_xadd_pipelined(bench: Bench, events: int, chunk: int) -> None:
    """``XADD`` ``events`` entries in pipelines of ``chunk`` commands."""
    stream = f"{bench.prefix}raw.events"
    fields = CloudEvent(type="thing.happened", source="bench", data={"n": 0}).to_fields()
    for start in range(0, events, chunk):
        async with bench.redis.pipeline(transaction=False) as pipe:
            for _ in range(min(chunk, events - start)):
                pipe.xadd(stream, fields)  # type: ignore[arg-type]
            await pipe.execute()


async def raw_xadd_single(bench: Bench, events: int) -> None:
    """``XADD`` ``events`` entries, one round trip each."""
    stream = f"{bench.prefix}single.events"
    fields = CloudEvent(type="thing.happened", source="bench", data={"n": 0}).to_fields()
    for _ in range(events):
        await bench.redis.xadd(stream, fields)  # type: ignore[arg-type]


async def raw_read_and_ack(bench: Bench, events: int, batch: int) -> None:
    """Read the pipelined stream with ``XREADGROUP`` and ``XACK`` each batch."""
    stream = f"{bench.prefix}raw.events"
    await bench.redis.xgroup_create(stream, GROUP, id="0")
    done = 0
    while done < events:
        reply: Any = await bench.redis.xreadgroup(GROUP, "c", {stream: ">"}, count=batch, block=100)
        ids = [entry_id for _, entries in reply for entry_id, _ in entries]
        if ids:
            await bench.redis.xack(stream, GROUP, *ids)
        done += len(ids)


async def fill_outbox(bench: Bench, events: int) -> None:
    """Insert ``events`` unpublished outbox rows, as ``Outbox.add`` would."""
    stream = stream_key(bench.prefix, "orders")
    for start in range(0, events, 1000):
        rows = []
        for n in range(start, min(start + 1000, events)):
            event = CloudEvent(type="thing.happened", source="orders", data={"n": n})
            rows.append(
                {
                    "event_id": event.id,
                    "stream": stream,
                    "type": event.type,
                    "fields": event.to_fields(),
                }
            )
        async with bench.sessions() as session, session.begin():
            await session.execute(insert(bench.tables.outbox), rows)


async def relay_drain(relay: OutboxRelay) -> None:
    """Publish until the outbox is empty."""
    while await relay.publish_once():
        pass


async def consume_all(runner: ConsumerGroupRunner, events: int) -> None:
    """Run the runner until it has processed ``events`` entries."""
    done = 0
    while done < events:
        done += await runner.run_once()


async def run_benchmarks(events: int, batch_size: int, relay_batch: int) -> list[Result]:
    """Run every measurement in a fresh database and prefix; return the results."""
    name = f"souk_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rpartition("/")[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_async_engine(f"{base}/{name}", pool_size=5)
    redis = Redis.from_url(REDIS_URL)
    prefix = f"bench-{uuid.uuid4().hex[:8]}:"
    try:
        metadata = MetaData()
        tables = event_tables(metadata)
        effects = Table("effects", metadata, Column("event_id", String(64)), Column("n", Integer))
        async with engine.begin() as connection:
            await connection.run_sync(create_event_tables)
            await connection.run_sync(metadata.create_all, tables=[effects])
        bench = Bench(
            redis, async_sessionmaker(engine, expire_on_commit=False), tables, effects, prefix
        )
        return await _measure(bench, events, batch_size, relay_batch)
    finally:
        async for key in redis.scan_iter(match=f"{prefix}*", count=500):
            await redis.delete(key)
        await redis.aclose()
        await engine.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


# The batch-handler runner reads this many entries at a time (STREAM_BATCH_SIZE allows 1000):
# one inbox INSERT, one handler call (one multi-row INSERT) and one COMMIT per read.
BATCH_HANDLER_READ = 500
BATCH_RUNNER = "consumer runner (batch handler, 1 insert per read)"


def consumer(
    bench: Bench, events: int, group: str, handlers: dict[str, Any], batch_size: int
) -> ConsumerGroupRunner:
    """Return a runner of ``group`` on the bench's ``orders`` stream."""
    return ConsumerGroupRunner(
        redis=bench.redis,
        sessions=bench.sessions,
        tables=bench.tables,
        group=group,
        consumer="bench-0",
        streams=[stream_key(bench.prefix, "orders")],
        handlers=handlers,
        prefix=bench.prefix,
        batch_size=batch_size,
        block_ms=100,
        claim_idle_ms=60_000,
        max_deliveries=5,
        max_length=max(events * 2, 100_000),
    )


async def _measure(bench: Bench, events: int, batch_size: int, relay_batch: int) -> list[Result]:
    async def handler(event: CloudEvent, session: AsyncSession) -> None:
        await session.execute(insert(bench.effects).values(event_id=event.id, n=event.data["n"]))

    results = [
        await timed("raw XADD, pipelined", events, raw_xadd_pipelined(bench, events, relay_batch)),
        await timed(
            "raw XADD, one round trip each",
            min(events, 5000),
            raw_xadd_single(bench, min(events, 5000)),
        ),
        await timed("raw XREADGROUP + XACK", events, raw_read_and_ack(bench, events, batch_size)),
    ]
    await fill_outbox(bench, events)
    relay = OutboxRelay(
        sessions=bench.sessions,
        redis=bench.redis,
        tables=bench.tables,
        service="orders",
        max_length=max(events * 2, 100_000),
        batch_size=relay_batch,
    )
    results.append(await timed("outbox relay publish", events, relay_drain(relay)))
    runner = consumer(bench, events, GROUP, {"thing.happened": handler}, batch_size)
    await runner.ensure_groups()
    results.append(
        await timed("consumer runner (insert per event)", events, consume_all(runner, events))
    )
    async with bench.sessions() as session:
        applied = await session.scalar(select(func.count()).select_from(bench.effects))
    if applied != events:
        raise RuntimeError(f"consumer applied {applied} effects, expected {events}")

    async def insert_all(batch: Sequence[CloudEvent], session: AsyncSession) -> None:
        rows = [{"event_id": event.id, "n": event.data["n"]} for event in batch]
        await session.execute(insert(bench.effects), rows)

    batch_runner = consumer(
        bench,
        events,
        f"{GROUP}-batch",
        {"thing.happened": BatchEventHandler(insert_all)},
        BATCH_HANDLER_READ,
    )
    await batch_runner.ensure_groups()
    results.append(await timed(BATCH_RUNNER, events, consume_all(batch_runner, events)))
    return results


def render(results: Sequence[Result]) -> str:
    """Return the results as a small text table."""
    width = max([len("measurement"), *(len(r.name) for r in results)])
    lines = [f"{'measurement':<{width}} {'count':>8} {'seconds':>9} {'per second':>12}"]
    lines += [f"{r.name:<{width}} {r.count:>8} {r.seconds:>9.3f} {r.rate:>12,.0f}" for r in results]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print a table and optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500, help="events per measurement")
    parser.add_argument("--batch-size", type=int, default=64, help="consumer read batch")
    parser.add_argument("--relay-batch", type=int, default=200, help="relay batch / pipeline")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    results = asyncio.run(run_benchmarks(args.events, args.batch_size, args.relay_batch))
    print(render(results))
    if args.json:
        document = {
            "events": args.events,
            "batch_size": args.batch_size,
            "relay_batch": args.relay_batch,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "results": [{**asdict(r), "rate": round(r.rate, 1)} for r in results],
        }
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
