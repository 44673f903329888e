"""Queries on the payments tables used by the HTTP API."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from souk_payments.models import Payment


async def list_payments(
    session: AsyncSession, *, buyer_id: uuid.UUID | None, order_id: uuid.UUID | None, limit: int
) -> list[Payment]:
    """Return payments, newest first, filtered by buyer (None: any) and order (None: any)."""
    query = select(Payment)
    if buyer_id is not None:
        query = query.where(Payment.buyer_id == buyer_id)
    if order_id is not None:
        query = query.where(Payment.order_id == order_id)
    query = query.order_by(Payment.created_at.desc(), Payment.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())
