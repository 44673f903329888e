"""Database tables of the catalog: categories, products, and stock held for orders.

``products.stock`` is the number of units available to buy. Units held for an order move from
``stock`` into ``reservations`` rows (status ``reserved``), then to ``sold`` or back to
``stock`` (``released``), so for every product ``initial stock = stock + reserved + sold``.
``stock_orders`` records one decision per order, which makes every order event idempotent
per order, whatever its event id.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from souk_common.events.tables import event_tables

# Weighted English full-text document: name matches rank above description matches.
SEARCH_DOCUMENT = (
    "setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')"
)
SEARCH_CONFIG = "english"


class Base(DeclarativeBase):
    """Declarative base of the catalog tables."""


class Category(Base):
    """An admin-managed category; a category may have a parent, one level deep."""

    __tablename__ = "categories"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Product(Base):
    """A product owned by a seller; deleted products are kept (``deleted_at``) for orders."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="ck_products_stock_non_negative"),
        CheckConstraint("price > 0", name="ck_products_price_positive"),
        Index("ix_products_search", "search", postgresql_using="gin"),
        Index("ix_products_created", "created_at", "id"),
        Index("ix_products_price", "price", "id"),
        Index("ix_products_seller", "seller_id", "created_at"),
        Index("ix_products_category", "category_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    seller_id: Mapped[uuid.UUID]
    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("categories.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    search: Mapped[str] = mapped_column(TSVECTOR, Computed(SEARCH_DOCUMENT, persisted=True))


class StockStatus(StrEnum):
    """Status of catalog's decision about an order, and of each of its reservations."""

    RESERVED = "reserved"
    REJECTED = "rejected"
    RELEASED = "released"
    SOLD = "sold"
    # A cancellation that arrived before the order was seen (stock orders only).
    CANCELLED = "cancelled"


class StockOrder(Base):
    """Catalog's decision about one order, which makes order events idempotent per order.

    Its status is a :class:`StockStatus`.
    """

    __tablename__ = "stock_orders"

    order_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    buyer_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Reservation(Base):
    """Units of one product held for one order, priced when reserved."""

    __tablename__ = "reservations"

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("stock_orders.order_id"), primary_key=True
    )
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id"), primary_key=True, index=True
    )
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


tables = event_tables(Base.metadata)
