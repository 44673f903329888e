"""Filling the stack's catalog with many products, fast (``COPY`` straight into its database).

Names and descriptions are drawn from a small vocabulary (as ``bench_catalog`` does), so a
text query matches a realistic share of rows. Every product has ample stock, so the saga
never rejects an order for want of it.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg

_VOCABULARY = (
    "wireless bluetooth headphones leather wallet ceramic mug organic coffee cotton shirt "
    "running shoes stainless bottle wooden chair lamp desk notebook pen backpack camera lens "
    "kettle teapot rug blanket pillow candle soap spice olive oil honey jam knife board"
)
WORDS = _VOCABULARY.split()
# The text queries the catalog measurement cycles through (some broad, some narrow).
QUERIES = ("wireless headphones", "coffee", "leather wallet", "lamp", "ceramic mug", "olive oil")
CATEGORIES = ("home", "books", "electronics", "outdoors", "fashion", "food", "toys", "garden")
COLUMNS = (
    "id",
    "seller_id",
    "category_id",
    "name",
    "description",
    "price",
    "currency",
    "stock",
    "active",
    "created_at",
    "updated_at",
)


async def fill_products(database_url: str, count: int, seed: int = 42) -> list[str]:
    """Insert ``count`` products (and categories if none) into the catalog; return their ids."""
    rng = random.Random(seed)
    connection = await asyncpg.connect(database_url)
    try:
        categories = [row["id"] for row in await connection.fetch("SELECT id FROM categories")]
        if not categories:  # an unseeded stack: the categories bench_catalog uses
            categories = [uuid.uuid4() for _ in CATEGORIES]
            await connection.copy_records_to_table(
                "categories",
                records=[(i, s, s.title()) for i, s in zip(categories, CATEGORIES, strict=True)],
                columns=("id", "slug", "name"),
            )
        sellers = [uuid.uuid4() for _ in range(50)]
        now = datetime.now(UTC)
        records = []
        for n in range(count):
            created = now - timedelta(seconds=count - n)
            records.append(
                (
                    uuid.uuid4(),
                    rng.choice(sellers),
                    rng.choice(categories),
                    " ".join(rng.sample(WORDS, 3)).capitalize(),
                    " ".join(rng.choices(WORDS, k=20)),
                    Decimal(rng.randint(100, 50_000)) / 100,
                    "EUR",
                    1_000_000,
                    True,
                    created,
                    created,
                )
            )
        await connection.copy_records_to_table("products", records=records, columns=COLUMNS)
        await connection.execute("ANALYZE products")
    finally:
        await connection.close()
    return [str(record[0]) for record in records]
