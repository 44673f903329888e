"""Souk's benchmark: the platform measured against the limits of its parts, in one run.

    uv run python -m tests.bench.run [--json bench-results/latest.json]   # full, ~3 min
    uv run python -m tests.bench.run --quick                                # smoke, ~1 min
    uv run python -m tests.bench.run --soak 600                             # + 10-min soak
    uv run python -m tests.bench.run --profile                              # + py-spy profiles
    uv run python -m tests.bench.run --compare before.json after.json       # two runs

Needs PostgreSQL and Redis (as the tests do) and wrk (``scripts/install-bench-tools.sh``).
Prints a table and writes every figure, with the machine's facts, to a JSON file. What each
figure means and how it is measured: docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.bench import http_figures, limits, logscan, saga
from tests.bench.compare import compare
from tests.bench.machine import load_average, machine_facts
from tests.bench.report import figures, goals, problems, ratios
from tests.bench.shop_setup import shop_under_test, utc_now, wait_drained
from tests.bench.table import render
from tests.bench.wrk import INSTALL_HINT, wrk_path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Plan:
    """How long and how big each measurement is."""

    mode: str
    http_seconds: float
    login_seconds: float
    connections: int
    login_connections: int
    wrk_threads: int
    events: int
    pg_seconds: float
    products: int
    order_products: int
    buyers: int
    orders_rate: float
    orders_seconds: float
    saga_seconds: float
    saga_connections: int
    saga_max_orders: int
    half_seconds: float


FULL = Plan(
    mode="full",
    http_seconds=10,
    login_seconds=10,
    connections=32,
    login_connections=4,
    wrk_threads=1,
    events=20_000,
    pg_seconds=10,
    products=10_000,
    order_products=100,
    buyers=10,
    orders_rate=200,
    orders_seconds=10,  # 2,000 orders: the saga must drain them before saturation starts
    saga_seconds=20,
    saga_connections=32,
    saga_max_orders=12_000,
    half_seconds=20,
)
# Every measurement once, briefly, with small data: proves the harness works (CI's smoke).
QUICK = Plan(
    mode="quick",
    http_seconds=1,
    login_seconds=3,  # argon2id: a loaded machine may finish no login in one second
    connections=32,
    login_connections=4,
    wrk_threads=1,
    events=1_000,
    pg_seconds=1,
    products=1_000,
    order_products=20,
    buyers=2,
    orders_rate=200,
    orders_seconds=0.5,
    saga_seconds=2,
    saga_connections=32,
    saga_max_orders=200,
    half_seconds=1.5,
)


def log(message: str) -> None:
    """Print a progress line to standard error (the table goes to standard output)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def measure_limits(plan: Plan) -> dict[str, Any]:
    """Measure Redis, PostgreSQL and the trivial endpoint."""
    log(f"event layer and raw Redis ({plan.events} events)")
    events = await limits.event_layer(plan.events)
    log(f"PostgreSQL transactions ({plan.pg_seconds} s)")
    postgres = await limits.postgres_transactions(plan.pg_seconds)
    log(f"trivial endpoint ({plan.http_seconds} s, {plan.connections} connections)")
    trivial = await limits.trivial_endpoint(plan.http_seconds, plan.connections, plan.wrk_threads)
    return {"events": events, "postgres": postgres, "trivial": trivial.as_dict()}


async def measure_platform(
    plan: Plan, args: argparse.Namespace, profile_dir: Path | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Start the shop and measure HTTP, saga, cost (and soak); return platform and soak."""
    with tempfile.TemporaryDirectory(prefix="souk-bench-") as workdir:
        log(f"starting the stack, {plan.products} products, {plan.buyers} buyers")
        async with shop_under_test(
            Path(workdir),
            products=plan.products,
            order_products=plan.order_products,
            buyers=plan.buyers,
        ) as shop:
            log("catalog listing, without and with q")
            catalog = await http_figures.catalog(
                shop, plan.http_seconds, plan.connections, plan.wrk_threads
            )
            log("login")
            login = await http_figures.login(shop, plan.login_seconds, plan.login_connections)
            log(f"POST /api/orders open loop at {plan.orders_rate}/s")
            since = utc_now()
            orders = await http_figures.orders_at_rate(shop, plan.orders_rate, plan.orders_seconds)
            await wait_drained(shop, since, expected=orders.succeeded)
            log(f"saga saturation ({plan.saga_seconds} s{', profiled' if profile_dir else ''})")
            saturation = await saga.saturation(
                shop,
                seconds=plan.saga_seconds,
                connections=plan.saga_connections,
                max_orders=plan.saga_max_orders,
                profile_dir=profile_dir,
            )
            half = max(1.0, saturation["orders_per_s"] / 2)
            log(f"saga at half rate ({half:.1f}/s, {plan.half_seconds} s)")
            half_rate = await saga.half_rate(shop, half, plan.half_seconds)
            soak = None
            if args.soak:
                log(f"soak at {half:.1f}/s for {args.soak} s")
                soak = await saga.soak(shop, half, args.soak, args.soak_interval, args.max_slope)
            log("stopping the stack")
        service_logs = logscan.scan_services(shop.log_paths())
    platform = {
        "catalog": {name: result.as_dict() for name, result in catalog.items()},
        "login": {**login.as_dict(), "argon2": http_figures.argon2_cost()},
        "orders_post": orders.as_dict(),
        "saga": {"saturation": saturation, "half_rate": half_rate},
        "service_log_warnings": service_logs,
    }
    return platform, soak


async def run(plan: Plan, args: argparse.Namespace) -> dict[str, Any]:
    """Run every measurement; return the result document."""
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    load_start = load_average()
    machine = await machine_facts()
    profile_dir = (Path(args.out_dir) / "profiles" / stamp).resolve() if args.profile else None
    limit_figures = await measure_limits(plan)
    platform, soak = await measure_platform(plan, args, profile_dir)
    doc: dict[str, Any] = {
        "schema": 1,
        "mode": plan.mode,
        "command": " ".join(["python -m tests.bench.run", *sys.argv[1:]]),
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "load_average": {"start": load_start, "end": load_average()},
        "machine": machine,
        "plan": asdict(plan),
        "limits": limit_figures,
        "platform": platform,
        "soak": soak,
    }
    doc["figures"] = figures(doc)
    doc["ratios"] = ratios(doc)
    doc["goals"] = [goal.as_dict() for goal in goals(doc)]
    doc["problems"] = problems(doc)
    return doc


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Return the command line's options."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.run", description=__doc__.splitlines()[0] if __doc__ else ""
    )
    parser.add_argument("--quick", "--smoke", action="store_true", help="~1 s per measurement")
    parser.add_argument("--json", metavar="PATH", help="result file (default OUT/latest.json)")
    parser.add_argument("--out-dir", default=str(ROOT / "bench-results"), metavar="OUT")
    parser.add_argument("--soak", type=float, default=0, metavar="SECONDS")
    parser.add_argument("--soak-interval", type=float, default=5.0, metavar="SECONDS")
    parser.add_argument(
        "--max-slope", type=float, default=0.1, help="soak: MiB/min counted as growth"
    )
    parser.add_argument("--profile", action="store_true", help="py-spy every service")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or compare two result files); return the exit code."""
    args = parse_args(argv)
    if args.compare:
        before, after = (json.loads(Path(p).read_text()) for p in args.compare)
        print(compare(before, after))
        return 0
    if wrk_path() is None:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    plan = QUICK if args.quick else FULL
    doc = finite(asyncio.run(run(plan, args)))
    output = Path(args.json) if args.json else Path(args.out_dir) / "latest.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(doc, indent=2, allow_nan=False))
    print(render(doc, goals(doc)))
    print(f"\nresults: {output}")
    return 0


def finite(value: Any) -> Any:
    """Return ``value`` with NaN and infinities (a figure with no sample) turned into None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


if __name__ == "__main__":
    sys.exit(main())
