"""Use cases of the catalog: products and categories, shared by the HTTP API and the seed.

Rules enforced here rather than in routes: only a product's owner or an admin changes it;
a category must exist; categories nest one level; inactive products are visible to their
owner and admins only; deleted products are kept for orders but hidden from everyone.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from souk_catalog import repository
from souk_catalog.models import Category, Product
from souk_catalog.repository import ProductQuery
from souk_catalog.schemas import (
    CategoryCreate,
    CategoryOut,
    ProductCreate,
    ProductOut,
    ProductPage,
    ProductPatch,
)
from souk_common.errors import ConflictError, ForbiddenError, NotFoundError, ValidationFailedError
from souk_common.logging import get_logger
from souk_common.security import Principal

log = get_logger(__name__)


def product_out(product: Product, category: str) -> ProductOut:
    """Render a product row as the API shows it."""
    return ProductOut(
        id=product.id,
        name=product.name,
        description=product.description,
        price=product.price,
        currency=product.currency,
        category=category,
        seller_id=product.seller_id,
        stock=product.stock,
        active=product.active,
    )


def _may_manage(caller: Principal | None, product: Product) -> bool:
    return caller is not None and (caller.is_admin or caller.user_id == product.seller_id)


async def _category(session: AsyncSession, slug: str, field: str) -> Category:
    category = await repository.get_category_by_slug(session, slug)
    if category is None:
        raise ValidationFailedError(field, f"category {slug!r} does not exist")
    return category


async def create_product(
    session: AsyncSession, caller: Principal, body: ProductCreate
) -> ProductOut:
    """Create a product owned by the caller (a seller, or an admin)."""
    category = await _category(session, body.category, "body.category")
    product = Product(
        id=uuid.uuid4(),
        seller_id=caller.user_id,
        category_id=category.id,
        name=body.name,
        description=body.description,
        price=body.price,
        currency=body.currency,
        stock=body.stock,
        active=body.active,
    )
    session.add(product)
    await session.flush()
    await session.refresh(product)
    log.info("product_created", product_id=str(product.id))
    return product_out(product, category.slug)


async def get_product(
    session: AsyncSession, product_id: uuid.UUID, caller: Principal | None
) -> ProductOut:
    """Return a product; an inactive one only to its owner or an admin (404 otherwise)."""
    found = await repository.get_product(session, product_id)
    if found is None or not (found[0].active or _may_manage(caller, found[0])):
        raise NotFoundError("product not found")
    return product_out(*found)


async def _managed_product(
    session: AsyncSession, product_id: uuid.UUID, caller: Principal
) -> tuple[Product, str]:
    found = await repository.get_product(session, product_id, for_update=True)
    if found is None:
        raise NotFoundError("product not found")
    if not _may_manage(caller, found[0]):
        raise ForbiddenError("only the product's seller or an admin may change it")
    return found


async def update_product(
    session: AsyncSession, product_id: uuid.UUID, caller: Principal, patch: ProductPatch
) -> ProductOut:
    """Apply the fields the client sent (row locked, so reservations see a consistent stock)."""
    product, slug = await _managed_product(session, product_id, caller)
    changes: dict[str, Any] = patch.changes()
    if "category" in changes:
        category = await _category(session, changes.pop("category"), "body.category")
        product.category_id, slug = category.id, category.slug
    for field, value in changes.items():
        setattr(product, field, value)
    await session.flush()
    await session.refresh(product)
    log.info("product_updated", product_id=str(product.id), fields=sorted(patch.changes()))
    return product_out(product, slug)


async def delete_product(session: AsyncSession, product_id: uuid.UUID, caller: Principal) -> None:
    """Soft-delete: hide the product and stop sales, keep the row for existing orders."""
    product, _ = await _managed_product(session, product_id, caller)
    product.deleted_at = datetime.now(UTC)
    product.active = False
    log.info("product_deleted", product_id=str(product.id))


def listing_spec(caller: Principal | None, spec: ProductQuery) -> ProductQuery:
    """Check a listing's filters; sellers (own listing) and admins also see inactive products."""
    if spec.sort == "relevance" and not spec.q:
        raise ValidationFailedError("query.sort", "relevance needs a search text in q")
    low, high = spec.min_price, spec.max_price
    if low is not None and high is not None and low > high:
        raise ValidationFailedError("query.max_price", "must not be below min_price")
    own = caller is not None and spec.seller_id is not None and caller.user_id == spec.seller_id
    admin_view = caller is not None and caller.is_admin
    return replace(spec, include_inactive=own or admin_view)


async def list_products(session: AsyncSession, spec: ProductQuery) -> ProductPage:
    """Return one page of a listing checked by :func:`listing_spec`."""
    rows = await repository.list_products(session, spec)
    page = rows[: spec.limit]
    more = len(rows) > spec.limit
    return ProductPage(
        items=[product_out(row.product, row.category) for row in page],
        next_cursor=repository.cursor_after(page[-1], spec.sort) if more else None,
    )


async def list_categories(session: AsyncSession) -> list[CategoryOut]:
    """Return the category tree: top-level categories with their children."""
    categories = await repository.list_categories(session)
    slugs = {category.id: category.slug for category in categories}
    tops = {c.id: CategoryOut(slug=c.slug, name=c.name) for c in categories if c.parent_id is None}
    for category in categories:
        if category.parent_id is not None:
            tops[category.parent_id].children.append(
                CategoryOut(
                    slug=category.slug, name=category.name, parent=slugs[category.parent_id]
                )
            )
    return list(tops.values())


async def create_category(session: AsyncSession, body: CategoryCreate) -> CategoryOut:
    """Create a category; a parent must exist and be top-level (one level of nesting)."""
    parent_id = None
    if body.parent is not None:
        parent = await _category(session, body.parent, "body.parent")
        if parent.parent_id is not None:
            raise ValidationFailedError("body.parent", "categories nest one level only")
        parent_id = parent.id
    if await repository.get_category_by_slug(session, body.slug) is not None:
        raise ConflictError(f"category {body.slug!r} exists")
    try:
        async with session.begin_nested():
            await repository.add_category(session, body.slug, body.name, parent_id)
    except IntegrityError:
        raise ConflictError(f"category {body.slug!r} exists") from None
    return CategoryOut(slug=body.slug, name=body.name, parent=body.parent)
