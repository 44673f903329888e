"""Benchmark of the catalog on this machine: listing latency and reservations per second.

Builds a fresh database with ``--products`` products (10,000 by default) spread over eight
categories, with names and descriptions drawn from a small vocabulary so text queries match a
realistic share of rows. Then:

* **listing**: ``--requests`` sequential ``GET /api/catalog/products`` through the real app
  (FastAPI, middleware, SQLAlchemy, asyncpg) over ``httpx.ASGITransport``, for the default
  listing, a text query (relevance), a text query with a price range sorted by price, and the
  third page of a text query (keyset cursor); p50/p99 in milliseconds;
* **reservations**: ``--orders`` orders of one to three lines through the reservation use case
  (one transaction each, the same code the ``order.placed`` handler runs) with
  ``--concurrency`` concurrent sessions, once spread over 200 products and once all on one
  product (the row-lock worst case).

The database is dropped afterwards. Run:
``uv run python services/catalog/bench/bench_catalog.py [--products 10000] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import time
import uuid
from decimal import Decimal
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import insert, text

from souk_catalog.config import CatalogSettings
from souk_catalog.inventory import StockPolicy, reserve_order
from souk_catalog.main import create_app
from souk_catalog.models import Category, Product, tables
from souk_common.db import Database
from souk_common.events.outbox import Outbox
from souk_common.migrations import upgrade_to_head
from souk_common.testing import REDIS_URL, asyncpg_url, create_database, drop_database
from souk_contracts.events import OrderItemV1

_VOCABULARY = (
    "wireless bluetooth headphones leather wallet ceramic mug organic coffee cotton shirt "
    "running shoes stainless bottle wooden chair lamp desk notebook pen backpack camera lens "
    "kettle teapot rug blanket pillow candle soap spice olive oil honey jam knife board"
)
WORDS = _VOCABULARY.split()
CATEGORIES = ("home", "books", "electronics", "outdoors", "fashion", "food", "toys", "garden")


def percentile(samples: list[float], fraction: float) -> float:
    """Return the ``fraction`` percentile of ``samples`` (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def fill(database: Database, count: int, rng: random.Random) -> list[uuid.UUID]:
    """Insert the categories and ``count`` products; return the product ids."""
    category_ids = [uuid.uuid4() for _ in CATEGORIES]
    sellers = [uuid.uuid4() for _ in range(50)]
    rows: list[dict[str, Any]] = []
    for _ in range(count):
        rows.append(
            {
                "id": uuid.uuid4(),
                "seller_id": rng.choice(sellers),
                "category_id": rng.choice(category_ids),
                "name": " ".join(rng.sample(WORDS, 3)).capitalize(),
                "description": " ".join(rng.choices(WORDS, k=20)),
                "price": Decimal(rng.randint(100, 50_000)) / 100,
                "currency": "EUR",
                "stock": 1_000_000,
                "active": True,
            }
        )
    async with database.sessions() as session, session.begin():
        await session.execute(
            insert(Category),
            [
                {"id": i, "slug": s, "name": s.title()}
                for i, s in zip(category_ids, CATEGORIES, strict=True)
            ],
        )
        for start in range(0, len(rows), 2000):
            await session.execute(insert(Product), rows[start : start + 2000])
    async with database.sessions() as session, session.begin():
        await session.execute(text("ANALYZE products"))
    return [row["id"] for row in rows]


async def time_listing(
    client: httpx.AsyncClient, params: dict[str, Any], requests: int, pages: int = 1
) -> dict[str, float]:
    """Time ``requests`` listings (following ``pages`` cursors each); p50/p99 in ms."""
    samples: list[float] = []
    for _ in range(requests):
        cursor = None
        for _ in range(pages):
            query = {**params, **({"cursor": cursor} if cursor else {})}
            started = time.perf_counter()
            response = await client.get("/api/catalog/products", params=query)
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            cursor = response.json()["next_cursor"]
        samples.append(elapsed * 1000)
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(percentile(samples, 0.99), 2),
    }


async def bench_listing(database_url: str, requests: int) -> dict[str, dict[str, float]]:
    """Measure listing latency through the app (workers off: HTTP only)."""
    settings = CatalogSettings(
        database_url=database_url,
        redis_url=REDIS_URL,
        auth_jwks_url="http://auth.invalid/.well-known/jwks.json",
        run_workers=False,
        log_level="WARNING",
    )
    app = create_app(settings)
    results = {}
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await time_listing(client, {}, 20)  # warm the pool and caches
            cases: dict[str, tuple[dict[str, Any], int]] = {
                "newest, no q": ({"limit": 20}, 1),
                "q=wireless headphones": ({"q": "wireless headphones", "limit": 20}, 1),
                "q=coffee, 10-100 EUR, price_asc": (
                    {"q": "coffee", "min_price": "10", "max_price": "100", "sort": "price_asc"},
                    1,
                ),
                "q=lamp, 3rd page": ({"q": "lamp", "limit": 20}, 3),
            }
            for name, (params, pages) in cases.items():
                results[name] = await time_listing(client, params, requests, pages)
    return results


async def bench_reservations(
    database: Database, products: list[uuid.UUID], orders: int, concurrency: int, lines: int
) -> float:
    """Reserve ``orders`` orders with ``concurrency`` sessions; return reservations per second."""
    outbox = Outbox(tables, "catalog", "bench:")
    policy = StockPolicy(low_stock_threshold=0)
    rng = random.Random(7)
    queue: asyncio.Queue[list[OrderItemV1]] = asyncio.Queue()
    for _ in range(orders):
        chosen = rng.sample(products, min(len(products), rng.randint(1, lines)))
        queue.put_nowait([OrderItemV1(product_id=p, quantity=1) for p in chosen])

    async def worker() -> None:
        while not queue.empty():
            items = queue.get_nowait()
            async with database.sessions() as session, session.begin():
                outcome = await reserve_order(
                    session,
                    outbox,
                    policy,
                    order_id=uuid.uuid4(),
                    buyer_id=uuid.uuid4(),
                    items=items,
                )
            if outcome != "reserved":  # stock is ample: a rejection is a bug
                raise RuntimeError(f"unexpected reservation outcome {outcome}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return round(orders / (time.perf_counter() - started), 1)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    """Run every measurement on a fresh database and return the figures."""
    name = f"souk_bench_catalog_{uuid.uuid4().hex[:8]}"
    url = asyncpg_url(await create_database(name))
    try:
        await upgrade_to_head("souk_catalog", url)
        database = Database(url, pool_size=args.concurrency)
        try:
            ids = await fill(database, args.products, random.Random(42))
            listing = await bench_listing(url, args.requests)
            spread = await bench_reservations(database, ids[:200], args.orders, args.concurrency, 3)
            hot = await bench_reservations(database, ids[-1:], args.orders, args.concurrency, 1)
        finally:
            await database.dispose()
    finally:
        await drop_database(name)
    return {
        "machine": f"{platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}",
        "products": args.products,
        "listing_latency": listing,
        "reservations_per_second": {
            f"1-3 lines over 200 products, {args.concurrency} concurrent": spread,
            f"1 line, all on one product, {args.concurrency} concurrent": hot,
        },
    }


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300, help="listings timed per case")
    parser.add_argument("--orders", type=int, default=2000, help="orders per reservation run")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--json", help="also write the figures to this file")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = _arguments()
    figures = asyncio.run(main(arguments))
    print(json.dumps(figures, indent=2))
    if arguments.json:
        with open(arguments.json, "w") as output:
            json.dump(figures, output, indent=2)
