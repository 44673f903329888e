"""Use cases of the payments HTTP API (the saga's use cases live in :mod:`.charging`)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.security import Principal
from souk_payments import repository
from souk_payments.schemas import PaymentOut


async def list_payments(
    session: AsyncSession, caller: Principal, order_id: uuid.UUID | None, limit: int
) -> list[PaymentOut]:
    """Return the caller's payments (an admin's: everyone's), optionally for one order.

    Someone else's order gives an empty list, exactly like an order that does not exist, so
    the answer never tells a stranger whether an order exists.
    """
    rows = await repository.list_payments(
        session,
        buyer_id=None if caller.is_admin else caller.user_id,
        order_id=order_id,
        limit=limit,
    )
    return [PaymentOut.model_validate(row) for row in rows]
