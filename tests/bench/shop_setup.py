"""The shop under test: an isolated local stack with many products, buyers and their tokens.

Every service runs as its own process with production-like settings (JSON logs at INFO, the
services' default stream and pool settings), in a marketplace of its own (databases, stream
prefix, ports), dropped at the end. Only the access-token lifetime is raised, so a long soak
does not outlive the buyers' tokens. The demo data is not seeded (it would cost a process
start per service): the catalog gets its categories and products straight from
:mod:`tests.bench.catalog_data`, and buyers register through auth's API.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from redis.asyncio import Redis

from souk_common.settings import ServiceSettings
from souk_common.testing import PG_ADMIN_URL, REDIS_URL, database_url_for
from souk_devstack import LocalStack
from tests.bench.catalog_data import fill_products
from tests.bench.consumers import group_backlogs
from tests.support.shop import ShopClient
from tests.support.stack import isolated_stack

TERMINAL = ("CONFIRMED", "REJECTED", "CANCELLED")
LOGIN_PASSWORD = "bench passphrase 8 for login"


def production_environment() -> dict[str, str]:
    """Return the stream settings at the services' own defaults (the test stack lowers them)."""
    fields = ServiceSettings.model_fields
    return {
        "STREAM_BLOCK_MS": str(fields["stream_block_ms"].default),
        "OUTBOX_POLL_INTERVAL_MS": str(fields["outbox_poll_interval_ms"].default),
        "ACCESS_TOKEN_TTL_SECONDS": str(4 * 3600),
    }


@dataclass
class Shop:
    """A running stack and what the measurements need from it."""

    stack: LocalStack
    client: ShopClient
    http: httpx.AsyncClient
    redis: Redis
    workdir: Path
    products: list[str] = field(default_factory=list)
    order_products: list[str] = field(default_factory=list)
    buyers: list[dict[str, Any]] = field(default_factory=list)
    login_email: str = ""
    orders_db: asyncpg.Pool | None = None  # admin connections to the orders database

    def url(self, service: str) -> str:
        """Return the base URL of ``service``."""
        return self.stack.service_url(service)

    @property
    def services(self) -> list[str]:
        """Return the names of the running services."""
        return list(self.stack.services)

    def pids(self) -> dict[str, int]:
        """Return {service: pid} of the running service processes."""
        pids = {}
        for name, running in self.stack.services.items():
            process = running.process.process
            if process is not None and process.returncode is None:
                pids[name] = process.pid
        return pids

    def log_paths(self) -> dict[str, Path]:
        """Return {service: its JSON-lines log file} (kept until the work directory goes)."""
        return {name: running.process.log_path for name, running in self.stack.services.items()}

    def orders_file(self) -> Path:
        """Write the buyers' tokens and the products for wrk's ``orders.lua``; return it."""
        path = self.workdir / "orders-wrk.txt"
        lines = [f"token {buyer['token']}" for buyer in self.buyers]
        lines += [f"product {product}" for product in self.order_products]
        path.write_text("\n".join(lines) + "\n")
        return path

    async def place_order(self, n: int) -> httpx.Response:
        """POST one order as buyer ``n`` (mod the pool) for one unit of a product."""
        buyer = self.buyers[n % len(self.buyers)]
        product = self.order_products[(n * 7 + n // len(self.buyers)) % len(self.order_products)]
        return await self.client.place_order(buyer, [(product, 1)])


async def register_login_user(http: httpx.AsyncClient, auth_url: str) -> str:
    """Register the user the login measurement logs in as; return the email."""
    email = f"login-{uuid.uuid4().hex[:10]}@example.com"
    response = await http.post(
        f"{auth_url}/api/auth/register",
        json={"email": email, "password": LOGIN_PASSWORD, "display_name": "Bench", "role": "buyer"},
    )
    response.raise_for_status()
    return email


@asynccontextmanager
async def shop_under_test(
    workdir: Path, *, products: int, order_products: int, buyers: int
) -> AsyncIterator[Shop]:
    """Start the stack, fill the catalog, register buyers; yield the :class:`Shop`."""
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    async with (
        isolated_stack(workdir, extra_env=production_environment(), seed=False) as stack,
        httpx.AsyncClient(timeout=30, limits=limits) as http,
    ):
        redis = Redis.from_url(REDIS_URL)
        orders_db = database_url_for(stack.config.database_name("orders"), PG_ADMIN_URL)
        pool = await asyncpg.create_pool(orders_db, min_size=1, max_size=2)
        try:
            client = ShopClient({name: stack.service_url(name) for name in stack.services}, http)
            shop = Shop(stack, client, http, redis, workdir, orders_db=pool)
            catalog_db = database_url_for(stack.config.database_name("catalog"), PG_ADMIN_URL)
            shop.products = await fill_products(catalog_db, products)
            shop.order_products = shop.products[:order_products]
            shop.buyers = list(
                await asyncio.gather(*(client.register("buyer", "Bench") for _ in range(buyers)))
            )
            shop.login_email = await register_login_user(http, shop.url("auth"))
            yield shop
        finally:
            await pool.close()
            await redis.aclose()


async def order_statuses(shop: Shop, since: datetime) -> dict[str, int]:
    """Return {status: orders} for orders created since ``since``."""
    assert shop.orders_db is not None
    rows = await shop.orders_db.fetch(
        "SELECT status, count(*) AS n FROM orders WHERE created_at >= $1 GROUP BY status",
        since,
    )
    return {row["status"]: int(row["n"]) for row in rows}


async def confirmed_times(shop: Shop, since: datetime) -> dict[str, float]:
    """Return {order id: epoch seconds of CONFIRMED} for orders created since ``since``."""
    assert shop.orders_db is not None
    rows = await shop.orders_db.fetch(
        "SELECT c.order_id, c.at FROM order_status_changes c "
        "JOIN orders o ON o.id = c.order_id "
        "WHERE c.status = 'CONFIRMED' AND o.created_at >= $1",
        since,
    )
    return {str(row["order_id"]): row["at"].timestamp() for row in rows}


async def wait_drained(
    shop: Shop, since: datetime, expected: int = 0, stall_s: float = 60.0
) -> dict[str, Any]:
    """Wait until the orders since ``since`` are terminal and every group's backlog is empty.

    At least ``expected`` orders must exist (a reply may leave before its transaction is
    visible), and the state must hold for two polls in a row (requests still in flight when
    the load stopped may commit late). Gives up when nothing moved for ``stall_s`` seconds;
    returns the orders by status and what was left.
    """
    prefix = shop.stack.config.stream_prefix
    progress_at, last, settled = time.monotonic(), None, 0
    while True:
        statuses = await order_statuses(shop, since)
        total = sum(statuses.values())
        done = sum(n for status, n in statuses.items() if status in TERMINAL)
        waiting = sum((await group_backlogs(shop.redis, prefix, shop.services)).values())
        state = (total, done, waiting)
        drained = total >= expected and done == total and waiting == 0
        settled = settled + 1 if drained and state == last else 0
        if settled >= 2:
            return {"orders": total, "terminal": done, "backlog": 0, "statuses": statuses}
        if state != last:
            progress_at, last = time.monotonic(), state
        elif time.monotonic() - progress_at > stall_s:
            return {
                "orders": total,
                "terminal": done,
                "backlog": waiting,
                "statuses": statuses,
                "stalled": True,
            }
        await asyncio.sleep(0.25)


def utc_now() -> datetime:
    """Return the current time, timezone-aware (orders' ``created_at`` is UTC)."""
    return datetime.now(UTC)
