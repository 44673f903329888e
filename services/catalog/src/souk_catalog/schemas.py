"""Request and response bodies of the catalog API.

Prices are decimals with two places, sent and returned as strings (``"19.90"``); numbers are
accepted on input too. ``ProductPatch`` is partial: only the fields sent change, and an
explicit ``null`` is refused with the field named.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from souk_catalog.currencies import is_currency


def _check_currency(value: str) -> str:
    if not is_currency(value):
        raise ValueError("must be an ISO 4217 currency code such as EUR or USD")
    return value


def _two_places(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


Price = Annotated[
    Decimal, Field(gt=0, max_digits=12, decimal_places=2), AfterValidator(_two_places)
]
ProductName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=5000)]
Currency = Annotated[
    str, StringConstraints(min_length=3, max_length=3), AfterValidator(_check_currency)
]
Stock = Annotated[int, Field(ge=0, le=1_000_000)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
SortOrder = Literal["newest", "price_asc", "price_desc", "relevance"]


class ProductCreate(BaseModel):
    """Body of ``POST /api/catalog/products``."""

    model_config = ConfigDict(extra="forbid")

    name: ProductName
    description: Description = ""
    price: Price
    currency: Currency
    category: Slug
    stock: Stock
    active: bool = True


class ProductPatch(BaseModel):
    """Body of ``PATCH /api/catalog/products/{id}``: any subset of the product's fields."""

    model_config = ConfigDict(extra="forbid")

    name: ProductName | None = None
    description: Description | None = None
    price: Price | None = None
    currency: Currency | None = None
    category: Slug | None = None
    stock: Stock | None = None
    active: bool | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Runs only for fields that were sent: a sent null would erase a required field.
        if value is None:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value

    def changes(self) -> dict[str, Any]:
        """Return only the fields the client sent."""
        return self.model_dump(exclude_unset=True)


class ProductOut(BaseModel):
    """A product as clients see it; ``stock`` is the units available to buy."""

    id: uuid.UUID
    name: str
    description: str
    price: Decimal
    currency: str
    category: str
    seller_id: uuid.UUID
    stock: int
    active: bool


class ProductPage(BaseModel):
    """One page of a listing; follow ``next_cursor`` until it is ``null``."""

    items: list[ProductOut]
    next_cursor: str | None


class CategoryCreate(BaseModel):
    """Body of ``POST /api/catalog/categories`` (admin)."""

    model_config = ConfigDict(extra="forbid")

    slug: Slug
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    parent: Slug | None = None


class CategoryOut(BaseModel):
    """A category with its sub-categories (one level)."""

    slug: str
    name: str
    parent: str | None = None
    children: list[CategoryOut] = Field(default_factory=list)
