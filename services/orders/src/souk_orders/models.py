"""Database tables of orders: orders, their lines, their status history, idempotency keys.

``orders.total``, ``currency`` and the lines' prices stay ``NULL`` until catalog priced the
order (``inventory.reserved``); the client never sends a price. ``order_status_changes`` keeps
one row per transition (the first is ``PENDING``, reason ``placed``). ``idempotency_keys``
maps a buyer's ``Idempotency-Key`` to the hash of the request body and the order it created.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from souk_common.db import sql_values
from souk_common.events.tables import event_tables
from souk_orders.states import OrderStatus

STATUS_VALUES = sql_values(OrderStatus)


class Base(DeclarativeBase):
    """Declarative base of the orders tables."""


class Order(Base):
    """One order of one buyer; ``status`` changes only through :mod:`souk_orders.states`."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(f"status IN ({STATUS_VALUES})", name="ck_orders_status"),
        Index("ix_orders_buyer_created", "buyer_id", "created_at", "id"),
        Index("ix_orders_created", "created_at", "id"),
        # The deadline sweeper looks only at open orders, oldest first.
        Index(
            "ix_orders_open_created",
            "created_at",
            postgresql_where="status IN ('PENDING', 'RESERVED')",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    buyer_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(16))
    payment_method: Mapped[str] = mapped_column(String(64))
    total: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    lines: Mapped[list[OrderLine]] = relationship(
        lazy="selectin", order_by="OrderLine.position", cascade="all, delete-orphan"
    )
    history: Mapped[list[OrderStatusChange]] = relationship(
        lazy="selectin", order_by="OrderStatusChange.id", cascade="all, delete-orphan"
    )


class OrderLine(Base):
    """One requested product of an order, priced by catalog once reserved."""

    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="ck_order_lines_quantity_positive"),)

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    line_total: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))


class OrderStatusChange(Base):
    """One transition of an order: the status it entered, when and why."""

    __tablename__ = "order_status_changes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IdempotencyKey(Base):
    """A buyer's ``Idempotency-Key``: the body it was first used with and the order it made."""

    __tablename__ = "idempotency_keys"

    buyer_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


tables = event_tables(Base.metadata)
