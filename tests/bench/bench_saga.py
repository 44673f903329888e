"""End-to-end saga figures: completed orders per second at saturation, and the time from
``POST /api/orders`` to ``CONFIRMED`` at half that rate (open-loop arrivals).

Starts an isolated local stack (every service a real process, its own databases, streams and
ports), creates products with ample stock and a pool of buyers, then:

1. saturation: ``--concurrency`` clients post orders back-to-back for ``--seconds``; the rate
   is confirmed orders divided by the time from the first POST to the last CONFIRMED;
2. half rate: orders arrive on a fixed schedule at 50% of that rate (open loop: a slow reply
   never delays the next arrival, so no coordinated omission) for ``--seconds``; each order's
   latency is from the client's send time (wall clock) to the CONFIRMED transition the orders
   service recorded (same machine, same clock).

Usage: ``uv run python tests/bench/bench_saga.py [--seconds 20] [--concurrency 32] [--json P]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from souk_common.testing import PG_ADMIN_URL, database_url_for
from souk_devstack import LocalStack
from tests.support.shop import ShopClient
from tests.support.stack import isolated_stack


async def confirmed_times(stack: LocalStack, order_ids: list[str]) -> dict[str, float]:
    """Return {order id: epoch seconds of its CONFIRMED transition} for confirmed orders."""
    url = database_url_for(stack.config.database_name("orders"), PG_ADMIN_URL)
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT order_id, at FROM order_status_changes "
            "WHERE status = 'CONFIRMED' AND order_id = ANY($1::uuid[])",
            order_ids,
        )
    finally:
        await connection.close()
    return {str(row["order_id"]): row["at"].timestamp() for row in rows}


async def wait_confirmed(
    stack: LocalStack, order_ids: list[str], within: float
) -> dict[str, float]:
    """Wait until every order is confirmed (or ``within`` passes); return the times."""
    deadline = time.monotonic() + within
    while True:
        times = await confirmed_times(stack, order_ids)
        if len(times) == len(order_ids) or time.monotonic() > deadline:
            return times
        await asyncio.sleep(0.5)


def percentile(values: list[float], fraction: float) -> float:
    """Return the ``fraction`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


async def saturation(
    shop: ShopClient,
    buyers: list[dict[str, Any]],
    products: list[str],
    seconds: float,
    clients: int,
) -> tuple[list[str], float]:
    """Post orders back-to-back from ``clients`` clients; return order ids and start time."""
    order_ids: list[str] = []
    start = time.time()
    stop_at = time.monotonic() + seconds

    async def client(index: int) -> None:
        n = index
        while time.monotonic() < stop_at:
            buyer, product = buyers[n % len(buyers)], products[n % len(products)]
            response = await shop.place_order(buyer, [(product, 1)])
            if response.status_code == 202:
                order_ids.append(response.json()["id"])
            n += clients

    await asyncio.gather(*(client(i) for i in range(clients)))
    return order_ids, start


async def open_loop(
    shop: ShopClient, buyers: list[dict[str, Any]], products: list[str], rate: float, seconds: float
) -> tuple[dict[str, float], list[float]]:
    """Send orders at ``rate`` per second for ``seconds``; return send times and POST latencies."""
    sent: dict[str, float] = {}
    post_latencies: list[float] = []
    interval = 1.0 / rate
    begin = time.monotonic()

    async def one(n: int) -> None:
        buyer, product = buyers[n % len(buyers)], products[n % len(products)]
        wall, mono = time.time(), time.monotonic()
        response = await shop.place_order(buyer, [(product, 1)])
        post_latencies.append(time.monotonic() - mono)
        if response.status_code == 202:
            sent[response.json()["id"]] = wall

    tasks = []
    for n in range(int(rate * seconds)):
        delay = begin + n * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)
    return sent, post_latencies


async def run(seconds: float, clients: int) -> dict[str, Any]:
    """Run both phases against a fresh isolated stack and return the figures."""
    with tempfile.TemporaryDirectory() as state_dir:
        async with isolated_stack(Path(state_dir)) as stack, httpx.AsyncClient(timeout=30) as http:
            shop = ShopClient({name: stack.service_url(name) for name in stack.services}, http)
            seller = await shop.login("seller@souk.test")
            products = [
                (await shop.create_product(seller, stock=1_000_000, price="5.00"))["id"]
                for _ in range(20)
            ]
            buyers = [await shop.register("buyer") for _ in range(20)]

            ids, started = await saturation(shop, buyers, products, seconds, clients)
            times = await wait_confirmed(stack, ids, 120)
            saturated_rate = len(times) / (max(times.values()) - started)

            half = saturated_rate / 2
            sent, post_latencies = await open_loop(shop, buyers, products, half, seconds)
            confirmed = await wait_confirmed(stack, list(sent), 120)
            latencies = [confirmed[i] - sent[i] for i in sent if i in confirmed]
            return {
                "saturation": {
                    "clients": clients,
                    "orders": len(ids),
                    "confirmed": len(times),
                    "orders_per_second": round(saturated_rate, 1),
                },
                "half_rate": {
                    "rate": round(half, 1),
                    "orders": len(sent),
                    "confirmed": len(latencies),
                    "confirm_p50_ms": round(statistics.median(latencies) * 1000, 1),
                    "confirm_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
                    "post_p50_ms": round(statistics.median(post_latencies) * 1000, 1),
                    "post_p99_ms": round(percentile(post_latencies, 0.99) * 1000, 1),
                },
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "load_average": os.getloadavg(),
                },
            }


def main(argv: list[str] | None = None) -> int:
    """Run the saga benchmark; print the figures and optionally write them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--concurrency", type=int, default=32, help="clients at saturation")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args.seconds, args.concurrency))
    sat, half = figures["saturation"], figures["half_rate"]
    print(
        f"saturation ({sat['clients']} clients): {sat['orders_per_second']} confirmed orders/s"
        f" ({sat['confirmed']}/{sat['orders']} confirmed)"
    )
    print(
        f"half rate ({half['rate']}/s, open loop): POST -> CONFIRMED p50 "
        f"{half['confirm_p50_ms']} ms, p99 {half['confirm_p99_ms']} ms; POST p50 "
        f"{half['post_p50_ms']} ms, p99 {half['post_p99_ms']} ms"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
