"""Database tables of payments: one payment per order, and a double-entry ledger.

``payments`` holds exactly one row per order (``order_id`` is unique), whatever arrives first:
``inventory.reserved`` creates it to charge, ``order.cancelled`` creates it ``voided`` when the
order was never charged, so a late reservation finds it and charges nothing. Status moves
``pending → captured | failed`` and ``captured → refunded``; ``voided``, ``failed`` and
``refunded`` are final. ``pending`` only exists inside the charging transaction.

``ledger_entries`` records money movements as balanced double-entry lines: a capture debits
``customer_funds`` and credits ``merchant_revenue``; a refund reverses both. The unique
``(order_id, kind, direction)`` makes a second capture or refund posting for an order
impossible, whatever the code above it does.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, Index, Numeric, String, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from souk_common.db import sql_values
from souk_common.events.tables import event_tables


class PaymentStatus(StrEnum):
    """Status of a payment (also the ``outcome`` label of ``souk_payments_total``)."""

    PENDING = "pending"
    CAPTURED = "captured"
    FAILED = "failed"
    REFUNDED = "refunded"
    VOIDED = "voided"


CUSTOMER_FUNDS, MERCHANT_REVENUE = "customer_funds", "merchant_revenue"
CAPTURE, REFUND = "capture", "refund"
DEBIT, CREDIT = "debit", "credit"


class Base(DeclarativeBase):
    """Declarative base of the payments tables."""


class Payment(Base):
    """The payment of one order (amount unknown for an order voided before it was priced)."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_values(PaymentStatus)})", name="ck_payments_status"),
        CheckConstraint("amount >= 0", name="ck_payments_amount_non_negative"),
        Index("ix_payments_buyer_created", "buyer_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    buyer_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    # Only the token's type (``pm_card``); the token itself is never stored or logged.
    method_type: Mapped[str | None] = mapped_column(String(32))
    provider_charge_ref: Mapped[str | None] = mapped_column(String(128))
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    refund_id: Mapped[uuid.UUID | None]
    provider_refund_ref: Mapped[str | None] = mapped_column(String(128))
    refunded_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class LedgerEntry(Base):
    """One line of a balanced posting (a capture or a refund writes one debit, one credit)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_ledger_entries_amount_positive"),
        CheckConstraint("direction IN ('debit', 'credit')", name="ck_ledger_entries_direction"),
        CheckConstraint("kind IN ('capture', 'refund')", name="ck_ledger_entries_kind"),
        UniqueConstraint("order_id", "kind", "direction", name="uq_ledger_entries_posting"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    order_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(16))
    account: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


tables = event_tables(Base.metadata)
