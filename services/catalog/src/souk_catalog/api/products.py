"""``/api/catalog/products``: public listing and reading; sellers manage their own products."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from souk_catalog import service
from souk_catalog.context import ContextDep
from souk_catalog.listing_cache import ListingCache
from souk_catalog.repository import ProductQuery
from souk_catalog.schemas import ProductCreate, ProductOut, ProductPage, ProductPatch, SortOrder
from souk_common.db import DatabaseDep, SessionDep
from souk_common.security import CurrentUser, OptionalUser, SellerUser

router = APIRouter(prefix="/api/catalog/products", tags=["products"])


async def listing_cache(context: ContextDep) -> ListingCache:
    """Return the process's listing cache (part of the service's context)."""
    return context.listings


async def clear_listings_after_commit(context: ContextDep) -> AsyncIterator[None]:
    """Empty the listing cache once a product write has committed.

    Route dependencies are entered before the endpoint's own, so this one exits after
    ``SessionDep`` has committed: a listing loaded in between cannot keep the old rows.
    """
    yield
    context.listings.clear()


ListingCacheDep = Annotated[ListingCache, Depends(listing_cache)]
CLEARS_LISTINGS = Depends(clear_listings_after_commit, scope="function")
PriceBound = Annotated[Decimal | None, Query(ge=0, max_digits=12, decimal_places=2)]


@router.get("", response_model=ProductPage)
async def list_products(
    database: DatabaseDep,
    cache: ListingCacheDep,
    caller: OptionalUser,
    q: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    seller_id: uuid.UUID | None = None,
    min_price: PriceBound = None,
    max_price: PriceBound = None,
    sort: SortOrder | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """List products; ``q`` searches names and descriptions (default sort: relevance).

    Pages anyone may see come from the listing cache (see ``souk_catalog.listing_cache``).
    """
    spec = service.listing_spec(
        caller,
        ProductQuery(
            sort=sort or ("relevance" if q else "newest"),
            q=q,
            category=category,
            seller_id=seller_id,
            min_price=min_price,
            max_price=max_price,
            limit=limit,
            cursor=cursor,
        ),
    )

    async def load() -> bytes:
        async with database.sessions() as session, session.begin():
            page = await service.list_products(session, spec)
        return page.model_dump_json().encode()

    body = await (load() if spec.include_inactive else cache.get_or_load(spec, load))
    return Response(body, media_type="application/json")


@router.get("/{product_id}", response_model=ProductOut)
async def get_product(
    product_id: uuid.UUID, session: SessionDep, caller: OptionalUser
) -> ProductOut:
    """Return one product."""
    return await service.get_product(session, product_id, caller)


@router.post(
    "",
    response_model=ProductOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[CLEARS_LISTINGS],
)
async def create_product(
    body: ProductCreate, caller: SellerUser, session: SessionDep
) -> ProductOut:
    """Create a product owned by the caller (sellers and admins)."""
    return await service.create_product(session, caller, body)


@router.patch("/{product_id}", response_model=ProductOut, dependencies=[CLEARS_LISTINGS])
async def update_product(
    product_id: uuid.UUID, body: ProductPatch, caller: CurrentUser, session: SessionDep
) -> ProductOut:
    """Change some fields of a product (its seller or an admin)."""
    return await service.update_product(session, product_id, caller, body)


@router.delete(
    "/{product_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[CLEARS_LISTINGS]
)
async def delete_product(
    product_id: uuid.UUID, caller: CurrentUser, session: SessionDep
) -> Response:
    """Delete a product (soft: existing orders keep it); its seller or an admin."""
    await service.delete_product(session, product_id, caller)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
