"""``/api/payments``: the caller's payments (an admin sees all), usually for one order."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from souk_common.db import SessionDep
from souk_common.security import CurrentUser
from souk_payments import service
from souk_payments.schemas import PaymentOut

router = APIRouter(prefix="/api/payments", tags=["payments"])


@router.get("", response_model=list[PaymentOut])
async def list_payments(
    caller: CurrentUser,
    session: SessionDep,
    order_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[PaymentOut]:
    """List the caller's payments, newest first; ``order_id`` narrows to one order."""
    return await service.list_payments(session, caller, order_id, limit)
