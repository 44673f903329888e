"""Queries on the orders tables: idempotency keys and keyset-paginated listings."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.pagination import Cursor, after
from souk_orders.models import IdempotencyKey, Order

NEWEST = "newest"  # the one sort order of order listings


def cursor_after(order: Order) -> str:
    """Return the cursor pointing just after ``order`` (newest-first order)."""
    return Cursor(NEWEST, order.created_at, order.id).encode()


async def get_idempotency_key(
    session: AsyncSession, buyer_id: uuid.UUID, key: str
) -> IdempotencyKey | None:
    """Return the buyer's stored ``Idempotency-Key``, if any."""
    query = select(IdempotencyKey).where(
        IdempotencyKey.buyer_id == buyer_id, IdempotencyKey.key == key
    )
    return (await session.scalars(query)).one_or_none()


async def claim_idempotency_key(
    session: AsyncSession, buyer_id: uuid.UUID, key: str, request_hash: str, order_id: uuid.UUID
) -> bool:
    """Insert the key for ``order_id``; False when another request holds it already.

    A concurrent request with the same key waits on the unique index until the first one
    commits (then gets False) or rolls back (then inserts).
    """
    claimed = await session.execute(
        insert(IdempotencyKey)
        .values(buyer_id=buyer_id, key=key, request_hash=request_hash, order_id=order_id)
        .on_conflict_do_nothing(index_elements=["buyer_id", "key"])
        .returning(IdempotencyKey.order_id)
    )
    return claimed.scalar_one_or_none() is not None


async def get_order(session: AsyncSession, order_id: uuid.UUID) -> Order | None:
    """Return the order with its lines and history."""
    return (await session.scalars(select(Order).where(Order.id == order_id))).one_or_none()


async def list_orders(
    session: AsyncSession,
    *,
    buyer_id: uuid.UUID | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> list[Order]:
    """Return up to ``limit`` orders, newest first, after ``cursor`` (all buyers when None)."""
    query = select(Order)
    if buyer_id is not None:
        query = query.where(Order.buyer_id == buyer_id)
    if status is not None:
        query = query.where(Order.status == status)
    if cursor is not None:
        position = Cursor.decode(cursor, NEWEST, datetime)
        query = query.where(after(Order.created_at, Order.id, position, ascending=False))
    query = query.order_by(Order.created_at.desc(), Order.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())
