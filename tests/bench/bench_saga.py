"""End-to-end saga figures: completed orders per second at saturation, and the time from
``POST /api/orders`` to ``CONFIRMED`` at half that rate (open-loop arrivals).

The saga part of the full benchmark (``python -m tests.bench.run``) on its own, for a quick
look while working on the event layer. Starts an isolated local stack (every service a real
process, its own databases, streams and ports), fills the catalog, registers buyers, then:

1. saturation: wrk posts orders back to back from ``--concurrency`` connections for
   ``--seconds``; the rate is confirmed orders divided by the time from the first POST to the
   last CONFIRMED;
2. half rate: orders arrive on a fixed schedule at 50% of that rate (open loop: a slow reply
   never delays the next arrival, so no coordinated omission) for ``--seconds``; each order's
   latency is from its due time to the CONFIRMED transition the orders service recorded.

See ``tests/bench/saga.py`` for the details. Needs wrk (scripts/install-bench-tools.sh).

Usage: ``uv run python tests/bench/bench_saga.py [--seconds 20] [--concurrency 32] [--json P]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench import saga
from tests.bench.machine import load_average, machine_facts
from tests.bench.shop_setup import shop_under_test


async def run(seconds: float, clients: int, profile_dir: Path | None = None) -> dict[str, Any]:
    """Run both phases against a fresh isolated stack and return the figures."""
    with tempfile.TemporaryDirectory() as state_dir:
        async with shop_under_test(
            Path(state_dir), products=1_000, order_products=100, buyers=10
        ) as shop:
            load_start = load_average()
            saturation = await saga.saturation(
                shop,
                seconds=seconds,
                connections=clients,
                max_orders=int(seconds * 600),
                profile_dir=profile_dir,
            )
            half = max(1.0, saturation["orders_per_s"] / 2)
            half_rate = await saga.half_rate(shop, half, seconds)
    return {
        "saturation": saturation,
        "half_rate": half_rate,
        "machine": {**await machine_facts(), "load_average": [load_start, load_average()]},
    }


def main(argv: list[str] | None = None) -> int:
    """Run the saga benchmark; print the figures and optionally write them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--concurrency", type=int, default=32, help="connections at saturation")
    parser.add_argument("--profile", metavar="DIR", help="py-spy every service into DIR")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    profile_dir = Path(args.profile).resolve() if args.profile else None
    figures = asyncio.run(run(args.seconds, args.concurrency, profile_dir))
    sat, half = figures["saturation"], figures["half_rate"]
    post = sat["post"]
    print(
        f"saturation ({sat['connections']} connections): {sat['orders_per_s']} confirmed "
        f"orders/s ({sat['confirmed']}/{sat['orders']} confirmed; POST "
        f"{post['requests_per_s']} req/s, p99 {post['p99_ms']} ms)"
    )
    print(
        f"half rate ({half['rate']}/s, open loop): POST -> CONFIRMED p50 "
        f"{half['confirm_p50_ms']} ms, p99 {half['confirm_p99_ms']} ms; POST p50 "
        f"{half['post']['p50_ms']} ms, p99 {half['post']['p99_ms']} ms"
    )
    for name, profile in (sat.get("profiles") or {}).items():
        print(f"profile {name}: {profile.get('speedscope', profile.get('error'))}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
