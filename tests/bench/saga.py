"""The saga end to end: saturation (with cost, consumer rates, profiles), half rate, soak.

* **Saturation**: wrk posts orders back to back (``orders.lua``: ``connections`` in flight,
  a pool of buyers and products, a new ``Idempotency-Key`` each) for ``seconds``, then the
  harness waits until every order is terminal and every consumer group's backlog is empty.
  The rate is confirmed orders / (last ``CONFIRMED`` - first POST), as ``bench_saga`` has
  always counted it; the rate of confirmations while the load ran is reported beside it.
  The same window gives the cost per 1,000 orders and each consumer group's handled
  events/s; with ``--profile`` py-spy records every service while wrk runs.
* **Half rate**: orders arrive open loop at 50% of that rate; each order's latency runs from
  its due time (client side, monotonic schedule mapped once to the wall clock) to the
  ``CONFIRMED`` transition the orders service recorded (same machine, same clock).
* **Soak**: the same open loop for a long time while each service's RSS is sampled.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from pathlib import Path
from typing import Any

from tests.bench import procfs, profiling
from tests.bench.consumers import group_backlogs, group_rates, scrape_stream_counters
from tests.bench.cost import CostMeter
from tests.bench.openloop import latency_summary, open_loop
from tests.bench.shop_setup import Shop, confirmed_times, utc_now, wait_drained
from tests.bench.wrk import run_wrk


async def saturation(
    shop: Shop,
    *,
    seconds: float,
    connections: int,
    max_orders: int,
    profile_dir: Path | None,
) -> dict[str, Any]:
    """Saturate the saga; return its rate, the POST figures, cost, group rates, profiles."""
    urls = {name: shop.url(name) for name in shop.services}
    threads = 1
    since = utc_now()
    meter = CostMeter(shop.pids())
    counters_before = await scrape_stream_counters(shop.http, urls)
    meter.start()
    profilers = await profiling.start(shop.pids(), seconds, profile_dir) if profile_dir else []
    posted = await run_wrk(
        f"{shop.url('orders')}/api/orders",
        script="orders.lua",
        script_args=[str(shop.orders_file()), uuid.uuid4().hex[:12], str(max_orders // threads)],
        seconds=seconds,
        connections=connections,
        threads=threads,
    )
    load_end = time.time()
    backlog_at_load_end = await group_backlogs(
        shop.redis, shop.stack.config.stream_prefix, shop.services
    )
    profiles = await profiling.finish(profilers) if profilers else None
    accepted = posted.requests - posted.errors.get("status", 0)
    drained = await wait_drained(shop, since, expected=accepted)
    times = await confirmed_times(shop, since)
    cost = meter.stop(len(times))
    counters_after = await scrape_stream_counters(shop.http, urls)
    start = since.timestamp()
    last = max(times.values(), default=start)
    while_loading = sum(1 for t in times.values() if t <= load_end)
    return {
        "connections": connections,
        "orders": drained["orders"],
        "terminal": drained["terminal"],
        "confirmed": len(times),
        "orders_per_s": round(len(times) / (last - start), 1) if last > start else 0.0,
        "confirmed_per_s_while_loading": round(while_loading / (load_end - start), 1),
        "load_seconds": round(load_end - start, 2),
        "drain_seconds": round(max(0.0, last - load_end), 2),
        "post": posted.as_dict(),
        "backlog_at_load_end": backlog_at_load_end,
        "drained": drained,
        "consumer_groups": group_rates(counters_before, counters_after, cost["window_s"]),
        "cost": cost,
        "profiles": profiles,
    }


async def _orders_open_loop(
    shop: Shop, rate: float, seconds: float
) -> tuple[dict[str, float], Any]:
    sent: dict[str, float] = {}

    async def send(n: int, due_wall: float) -> bool:
        response = await shop.place_order(n)
        if response.status_code != 202:
            return False
        sent[response.json()["id"]] = due_wall
        return True

    return sent, await open_loop(send, rate, seconds)


async def half_rate(shop: Shop, rate: float, seconds: float) -> dict[str, Any]:
    """Send orders open loop at ``rate``; return POST -> CONFIRMED latencies."""
    since = utc_now()
    sent, posted = await _orders_open_loop(shop, rate, seconds)
    drained = await wait_drained(shop, since, expected=len(sent))
    times = await confirmed_times(shop, since)
    latencies = [(times[i] - due) * 1000 for i, due in sent.items() if i in times]
    confirm = latency_summary(latencies)
    return {
        "rate": round(rate, 1),
        "seconds": seconds,
        "orders": len(sent),
        "confirmed": len(latencies),
        "drained": drained,
        **{f"confirm_{key}": value for key, value in confirm.items()},
        "post": posted.as_dict(),
    }


def slope_mib_per_min(samples: list[tuple[float, float]]) -> float:
    """Return the least-squares slope of (seconds, MiB) samples, in MiB per minute."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if var == 0:
        return 0.0
    cov = sum((t - mean_t) * (m - mean_m) for t, m in samples)
    return cov / var * 60


async def soak(
    shop: Shop, rate: float, seconds: float, interval: float, max_slope: float
) -> dict[str, Any]:
    """Run orders open loop at ``rate`` for ``seconds``; sample and judge each service's RSS.

    A process passes when the slope of its RSS over the second half of the soak (after the
    allocator and caches warmed up) is at most ``max_slope`` MiB/min.
    """
    pids = shop.pids()
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in pids}
    begin = time.monotonic()
    since = utc_now()

    def sample() -> None:
        now = time.monotonic() - begin
        for name, pid in pids.items():
            rss = procfs.rss_mib(pid)
            if rss is not None:
                samples[name].append((now, rss))

    async def sampler() -> None:
        while True:
            sample()
            await asyncio.sleep(interval)

    task = asyncio.create_task(sampler())
    try:
        _, posted = await _orders_open_loop(shop, rate, seconds)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    sample()
    drained = await wait_drained(shop, since, expected=posted.succeeded)
    processes = {}
    for name, series in samples.items():
        values = [m for _, m in series]
        second_half = [(t, m) for t, m in series if t >= seconds / 2]
        slope_late = slope_mib_per_min(second_half)
        processes[name] = {
            "samples": len(series),
            "start_mib": round(values[0], 1),
            "end_mib": round(values[-1], 1),
            "max_mib": round(max(values), 1),
            "slope_mib_per_min": round(slope_mib_per_min(series), 3),
            "slope_second_half_mib_per_min": round(slope_late, 3),
            "grows": slope_late > max_slope,
        }
    return {
        "rate": round(rate, 1),
        "seconds": seconds,
        "interval_s": interval,
        "max_slope_mib_per_min": max_slope,
        "post": posted.as_dict(),
        "drained": drained,
        "processes": processes,
    }
