"""``/api/orders``: buyers place, read, list and cancel their orders; admins read all."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from souk_common.db import SessionDep
from souk_common.security import CurrentUser
from souk_orders import service
from souk_orders.api.deps import EffectsDep, SettingsDep
from souk_orders.schemas import OrderCreate, OrderOut, OrderPage
from souk_orders.states import OrderStatus

router = APIRouter(prefix="/api/orders", tags=["orders"])
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Client-chosen key: a retry with the same key and body returns the same "
        "order; the same key with another body is refused (409).",
    ),
]


@router.post("", response_model=OrderOut, status_code=status.HTTP_202_ACCEPTED)
async def place_order(
    body: OrderCreate,
    idempotency_key: IdempotencyKey,
    caller: CurrentUser,
    session: SessionDep,
    effects: EffectsDep,
    settings: SettingsDep,
    response: Response,
) -> OrderOut:
    """Place an order (PENDING); catalog prices and reserves it, payments charges it."""
    order, replayed = await service.place_order(
        session, effects, caller, idempotency_key, body, settings.payment_methods
    )
    response.headers["Location"] = f"/api/orders/{order.id}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return order


@router.get("", response_model=OrderPage)
async def list_orders(
    caller: CurrentUser,
    session: SessionDep,
    status_filter: Annotated[OrderStatus | None, Query(alias="status")] = None,
    buyer_id: Annotated[uuid.UUID | None, Query(description="admins only")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> OrderPage:
    """List the caller's orders, newest first (admins: everyone's, or ``buyer_id``'s)."""
    return await service.list_orders(
        session, caller, status=status_filter, buyer_id=buyer_id, limit=limit, cursor=cursor
    )


@router.get("/{order_id}", response_model=OrderOut)
async def get_order(order_id: uuid.UUID, caller: CurrentUser, session: SessionDep) -> OrderOut:
    """Return one order (its buyer or an admin)."""
    return await service.get_order(session, order_id, caller)


@router.post("/{order_id}/cancel", response_model=OrderOut)
async def cancel_order(
    order_id: uuid.UUID, caller: CurrentUser, session: SessionDep, effects: EffectsDep
) -> OrderOut:
    """Cancel the caller's order while it is PENDING or RESERVED."""
    return await service.cancel_order(session, effects, order_id, caller)
