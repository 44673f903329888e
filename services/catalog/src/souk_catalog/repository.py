"""Queries on the catalog tables (products, categories); reservations are in ``inventory``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Select,
    SQLColumnExpression,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from souk_catalog.models import SEARCH_CONFIG, Category, Product
from souk_common.pagination import Cursor, SortKey, after


@dataclass(frozen=True)
class ProductQuery:
    """Filters, order and page of a product listing."""

    sort: str = "newest"
    q: str | None = None
    category: str | None = None
    seller_id: uuid.UUID | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    include_inactive: bool = False
    limit: int = 20
    cursor: str | None = None


@dataclass(frozen=True)
class ListedProduct:
    """A product row with its category slug and (for ``relevance``) its rank."""

    product: Product
    category: str
    rank: float | None = None


async def get_category_by_slug(session: AsyncSession, slug: str) -> Category | None:
    """Return the category with ``slug``."""
    return (await session.scalars(select(Category).where(Category.slug == slug))).one_or_none()


async def list_categories(session: AsyncSession) -> list[Category]:
    """Return every category, parents first, by name."""
    query = select(Category).order_by(Category.parent_id.is_not(None), Category.name)
    return list((await session.scalars(query)).all())


async def add_category(
    session: AsyncSession, slug: str, name: str, parent_id: uuid.UUID | None
) -> Category:
    """Insert a category."""
    category = Category(id=uuid.uuid4(), slug=slug, name=name, parent_id=parent_id)
    session.add(category)
    await session.flush()
    return category


async def get_product(
    session: AsyncSession, product_id: uuid.UUID, *, for_update: bool = False
) -> tuple[Product, str] | None:
    """Return a product that is not deleted, with its category slug (optionally locked)."""
    query = (
        select(Product, Category.slug)
        .join(Category, Category.id == Product.category_id)
        .where(Product.id == product_id, Product.deleted_at.is_(None))
    )
    if for_update:
        query = query.with_for_update(of=Product)
    row = (await session.execute(query)).one_or_none()
    return None if row is None else (row[0], row[1])


async def find_product_by_name(
    session: AsyncSession, seller_id: uuid.UUID, name: str
) -> Product | None:
    """Return the seller's live product called ``name`` (used by the idempotent seed)."""
    query = select(Product).where(
        Product.seller_id == seller_id, Product.name == name, Product.deleted_at.is_(None)
    )
    return (await session.scalars(query.limit(1))).first()


def _category_ids(slug: str) -> Select[Any]:
    """Ids of the category ``slug`` and its sub-categories."""
    parent = select(Category.id).where(Category.slug == slug).scalar_subquery()
    return select(Category.id).where(or_(Category.id == parent, Category.parent_id == parent))


async def list_products(session: AsyncSession, spec: ProductQuery) -> list[ListedProduct]:
    """Return up to ``spec.limit + 1`` products after ``spec.cursor`` (one extra shows more)."""
    tsquery = func.websearch_to_tsquery(literal_column(f"'{SEARCH_CONFIG}'::regconfig"), spec.q)
    rank = func.ts_rank(Product.search, tsquery)
    sort_key: SQLColumnExpression[Any]
    key_type: type[SortKey]
    if spec.sort == "relevance":
        sort_key, key_type = rank, float
    elif spec.sort == "newest":
        sort_key, key_type = Product.created_at, datetime
    else:
        sort_key, key_type = Product.price, Decimal
    ascending = spec.sort == "price_asc"
    query = (
        select(Product, Category.slug, rank if spec.sort == "relevance" else literal(None))
        .join(Category, Category.id == Product.category_id)
        .where(Product.deleted_at.is_(None))
    )
    if not spec.include_inactive:
        query = query.where(Product.active.is_(True))
    if spec.q is not None:
        query = query.where(Product.search.op("@@")(tsquery))
    if spec.category is not None:
        query = query.where(Product.category_id.in_(_category_ids(spec.category)))
    if spec.seller_id is not None:
        query = query.where(Product.seller_id == spec.seller_id)
    if spec.min_price is not None:
        query = query.where(Product.price >= spec.min_price)
    if spec.max_price is not None:
        query = query.where(Product.price <= spec.max_price)
    if spec.cursor is not None:
        cursor = Cursor.decode(spec.cursor, spec.sort, key_type)
        query = query.where(after(sort_key, Product.id, cursor, ascending=ascending))
    order = (
        (sort_key.asc(), Product.id.asc()) if ascending else (sort_key.desc(), Product.id.desc())
    )
    rows = (await session.execute(query.order_by(*order).limit(spec.limit + 1))).all()
    return [ListedProduct(row[0], row[1], row[2]) for row in rows]


def cursor_after(item: ListedProduct, sort: str) -> str:
    """Return the cursor pointing just after ``item`` in a listing sorted by ``sort``."""
    product = item.product
    key: SortKey
    if sort == "relevance":
        key = item.rank if item.rank is not None else 0.0
    elif sort == "newest":
        key = product.created_at
    else:
        key = product.price
    return Cursor(sort, key, product.id).encode()
