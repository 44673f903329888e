"""The limits of the parts: what Redis, PostgreSQL and the HTTP server alone can do here.

* Redis: pipelined ``XADD`` and batched ``XREADGROUP`` + ``XACK`` from Python, plus the
  outbox relay and the consumer group runner on their own (``bench_events``);
* PostgreSQL: transactions per second, each inserting a row and updating a counter row in
  another table, from a few concurrent asyncpg connections, in a database of its own;
* HTTP: the trivial endpoint (``trivial_app``: ``GET /ping``) in a subprocess under the
  services' uvicorn settings, measured with wrk.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from souk_common.testing import PG_ADMIN_URL, database_url_for
from tests.bench.bench_events import BATCH_HANDLER_READ, BATCH_RUNNER
from tests.bench.bench_events import run_benchmarks as run_event_benchmarks
from tests.bench.wrk import WrkResult, run_wrk

ROOT = Path(__file__).resolve().parents[2]


async def event_layer(events: int, batch_size: int = 64, relay_batch: int = 200) -> dict[str, Any]:
    """Return Redis's raw rates and the event layer's own rates (events per second)."""
    results = {r.name: r for r in await run_event_benchmarks(events, batch_size, relay_batch)}

    def rate(name: str) -> float:
        return round(results[name].rate, 1)

    return {
        "events": events,
        "batch_size": batch_size,
        "pipeline": relay_batch,
        "xadd_pipelined_per_s": rate("raw XADD, pipelined"),
        "xadd_single_per_s": rate("raw XADD, one round trip each"),
        "xreadgroup_xack_per_s": rate("raw XREADGROUP + XACK"),
        "outbox_relay_per_s": rate("outbox relay publish"),
        "consumer_runner_per_s": rate("consumer runner (insert per event)"),
        "consumer_batch_handler_per_s": rate(BATCH_RUNNER),
        "consumer_batch_handler_read": BATCH_HANDLER_READ,
    }


async def postgres_transactions(seconds: float, connections: int = 4) -> dict[str, Any]:
    """Return committed insert-and-update transactions per second (own database, dropped)."""
    name = f"souk_bench_pg_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    pool: asyncpg.Pool | None = None
    try:
        url = database_url_for(name, PG_ADMIN_URL)
        pool = await asyncpg.create_pool(url, min_size=connections, max_size=connections)
        async with pool.acquire() as connection:
            await connection.execute(
                "CREATE TABLE rows (id bigserial PRIMARY KEY, worker int NOT NULL, "
                "payload text NOT NULL, at timestamptz NOT NULL DEFAULT now());"
                "CREATE TABLE counters (worker int PRIMARY KEY, n bigint NOT NULL);"
            )
            await connection.executemany(
                "INSERT INTO counters VALUES ($1, 0)", [(w,) for w in range(connections)]
            )
        counts = [0] * connections
        stop_at = time.monotonic() + seconds

        async def worker(index: int) -> None:
            assert pool is not None
            async with pool.acquire() as connection:
                insert = await connection.prepare(
                    "INSERT INTO rows (worker, payload) VALUES ($1, $2)"
                )
                update = await connection.prepare("UPDATE counters SET n = n + 1 WHERE worker = $1")
                while time.monotonic() < stop_at:
                    async with connection.transaction():
                        await insert.fetch(index, "x" * 200)
                        await update.fetch(index)
                    counts[index] += 1

        started = time.monotonic()
        await asyncio.gather(*(worker(i) for i in range(connections)))
        elapsed = time.monotonic() - started
        async with pool.acquire() as connection:
            committed = await connection.fetchval("SELECT sum(n) FROM counters")
        if committed != sum(counts):
            raise RuntimeError(f"counted {sum(counts)} transactions, database has {committed}")
        return {
            "connections": connections,
            "transactions": sum(counts),
            "seconds": round(elapsed, 3),
            "transactions_per_s": round(sum(counts) / elapsed, 1),
        }
    finally:
        if pool is not None:
            await pool.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def free_port() -> int:
    """Return a TCP port that is free on the loopback interface now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def trivial_server() -> AsyncIterator[str]:
    """Serve the trivial endpoint in a subprocess; yield its URL, stop it afterwards."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bench.trivial_app",
        "--port",
        str(port),
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/ping"
    try:
        async with httpx.AsyncClient(timeout=1.0) as client:
            for _ in range(150):
                if process.returncode is not None:
                    break
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url)).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the trivial endpoint did not answer within 15 s")
        if process.returncode is not None:
            assert process.stderr is not None
            error = (await process.stderr.read()).decode(errors="replace")
            raise RuntimeError(f"the trivial endpoint exited: {error[-2000:]}")
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def trivial_endpoint(seconds: float, connections: int, threads: int) -> WrkResult:
    """Return wrk's figures for ``GET /ping`` on the trivial endpoint."""
    async with trivial_server() as url:
        await run_wrk(url, seconds=1, connections=connections, threads=threads)  # warm-up
        return await run_wrk(url, seconds=seconds, connections=connections, threads=threads)
