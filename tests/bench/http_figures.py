"""The platform's HTTP figures: catalog listing (with and without ``q``), login, order POST.

Closed loop with wrk for throughput (requests/s with p50/p95/p99 at that load, ``connections``
requests always in flight); open loop with the harness's driver for ``POST /api/orders`` at a
fixed rate (latency at a given load, no coordinated omission).
"""

from __future__ import annotations

from typing import Any

from souk_auth.config import AuthSettings
from tests.bench.catalog_data import QUERIES
from tests.bench.openloop import OpenLoopResult, open_loop
from tests.bench.shop_setup import LOGIN_PASSWORD, Shop
from tests.bench.wrk import WrkResult, run_wrk


async def catalog(
    shop: Shop, seconds: float, connections: int, threads: int
) -> dict[str, WrkResult]:
    """Return wrk's figures for the product listing, without and with a text query."""
    url = f"{shop.url('catalog')}/api/catalog/products?limit=20"
    results = {}
    for name, queries in (("no_q", []), ("q", list(QUERIES))):
        common: dict[str, Any] = {
            "script": "catalog.lua",
            "script_args": queries,
            "connections": connections,
            "threads": threads,
        }
        await run_wrk(url, seconds=1, **common)  # warm the pool and PostgreSQL's caches
        results[name] = await run_wrk(url, seconds=seconds, **common)
    return results


def argon2_cost() -> dict[str, int]:
    """Return auth's argon2id parameters (its defaults: the stack does not override them)."""
    fields = AuthSettings.model_fields
    return {
        "time_cost": fields["argon2_time_cost"].default,
        "memory_cost_kib": fields["argon2_memory_cost_kib"].default,
        "parallelism": fields["argon2_parallelism"].default,
        "hash_concurrency": fields["password_hash_concurrency"].default,
    }


async def login(shop: Shop, seconds: float, connections: int) -> WrkResult:
    """Return wrk's figures for ``POST /api/auth/login`` (one user, the right password)."""
    return await run_wrk(
        f"{shop.url('auth')}/api/auth/login",
        script="login.lua",
        script_args=[shop.login_email, LOGIN_PASSWORD],
        seconds=seconds,
        connections=connections,
    )


async def orders_at_rate(shop: Shop, rate: float, seconds: float) -> OpenLoopResult:
    """POST orders at ``rate`` per second (open loop); return latencies from each due time."""

    async def send(n: int, _due_wall: float) -> bool:
        response = await shop.place_order(n)
        return response.status_code == 202

    return await open_loop(send, rate, seconds)
