"""Demo catalog for the local stack: ``souk-catalog seed`` (idempotent).

The demo products belong to auth's demo seller. Catalog never reads auth's database: the seed
logs in as that seller through auth's HTTP API (``AUTH_URL``, or derived from
``AUTH_JWKS_URL``) and reads ``/api/auth/me`` for the id, then creates categories and products
through catalog's own use cases. A category or product that exists (by slug, or by seller and
name) is left alone, so a second run creates nothing.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx

from souk_catalog import repository, service
from souk_catalog.config import CatalogSettings
from souk_catalog.schemas import CategoryCreate, ProductCreate
from souk_common.db import Database
from souk_common.logging import get_logger
from souk_common.security import Principal

log = get_logger(__name__)
DEMO_SELLER_EMAIL = "seller@souk.test"
DEMO_PASSWORD = "souk-demo-password"  # noqa: S105 - documented demo credential (DESIGN.md)
DEMO_CATEGORIES: tuple[tuple[str, str, str | None], ...] = (
    ("home", "Home & Kitchen", None),
    ("books", "Books", None),
    ("electronics", "Electronics", None),
    ("outdoors", "Outdoors", None),
    ("coffee", "Coffee & Tea", "home"),
)
# (category, name, description, price, stock)
DEMO_PRODUCTS: tuple[tuple[str, str, str, str, int], ...] = (
    ("coffee", "Moka pot", "Aluminium stovetop espresso maker for six cups.", "34.90", 40),
    (
        "coffee",
        "Single-origin coffee beans",
        "Ethiopian Yirgacheffe, light roast, 500 g.",
        "14.50",
        120,
    ),
    ("home", "Cast iron skillet", "Pre-seasoned 26 cm skillet for oven and hob.", "39.00", 25),
    ("home", "Linen tea towels", "Set of three stonewashed linen towels.", "18.00", 60),
    (
        "books",
        "The Art of the Souk",
        "A photographic journey through Marrakech's markets.",
        "29.95",
        15,
    ),
    (
        "books",
        "Distributed Systems Notes",
        "Lecture notes on consensus, clocks and queues.",
        "24.00",
        30,
    ),
    ("books", "Cooking with Spices", "Recipes built around cumin, saffron and sumac.", "21.50", 8),
    (
        "electronics",
        "Wireless earbuds",
        "Noise-cancelling earbuds with a 24 h charging case.",
        "79.00",
        50,
    ),
    (
        "electronics",
        "Mechanical keyboard",
        "Tenkeyless keyboard with hot-swappable switches.",
        "119.00",
        12,
    ),
    (
        "electronics",
        "USB-C charger 65 W",
        "Compact gallium-nitride charger with two ports.",
        "45.00",
        75,
    ),
    ("outdoors", "Trail backpack 30 L", "Lightweight daypack with a rain cover.", "89.00", 20),
    ("outdoors", "Insulated water bottle", "Keeps drinks cold for 24 hours, 750 ml.", "27.00", 100),
    ("outdoors", "Camping lantern", "Rechargeable LED lantern with three light modes.", "32.00", 4),
    (
        "home",
        "Hand-woven rug",
        "Wool rug, 120 x 180 cm, from a cooperative in the Atlas.",
        "249.00",
        3,
    ),
)


async def demo_seller_id(settings: CatalogSettings, http: httpx.AsyncClient) -> uuid.UUID:
    """Log in as the demo seller through auth's HTTP API and return their user id."""
    base = settings.auth_base_url()
    login = await http.post(
        f"{base}/api/auth/login", json={"email": DEMO_SELLER_EMAIL, "password": DEMO_PASSWORD}
    )
    login.raise_for_status()
    token = login.json()["access_token"]
    me = await http.get(f"{base}/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    me.raise_for_status()
    return uuid.UUID(me.json()["id"])


async def seed_into(database: Database, seller_id: uuid.UUID) -> int:
    """Create the demo categories and products that are missing; return how many products."""
    seller = Principal(user_id=seller_id, role="seller")
    created = 0
    async with database.sessions() as session, session.begin():
        for slug, name, parent in DEMO_CATEGORIES:
            if await repository.get_category_by_slug(session, slug) is None:
                body = CategoryCreate(slug=slug, name=name, parent=parent)
                await service.create_category(session, body)
        for category, name, description, price, stock in DEMO_PRODUCTS:
            if await repository.find_product_by_name(session, seller_id, name) is not None:
                continue
            product = ProductCreate(
                name=name,
                description=description,
                price=Decimal(price),
                currency="EUR",
                category=category,
                stock=stock,
            )
            await service.create_product(session, seller, product)
            created += 1
    return created


async def seed_demo_catalog(
    settings: CatalogSettings, http: httpx.AsyncClient | None = None
) -> None:
    """Seed the demo catalog for auth's demo seller (the ``seed`` command)."""
    database = Database(settings.sqlalchemy_url, pool_size=1)
    client = http or httpx.AsyncClient(timeout=10.0)
    try:
        seller_id = await demo_seller_id(settings, client)
        created = await seed_into(database, seller_id)
        log.info("demo_catalog_seeded", products_created=created)
    finally:
        if http is None:
            await client.aclose()
        await database.dispose()
