"""Use cases of orders behind the HTTP API: place (idempotently), read, list, cancel.

Placement writes the order, its lines, its first history row, the idempotency key and the
``order.placed`` outbox row in the request's one transaction. The key is claimed inside a
savepoint: if a concurrent request with the same key won, the savepoint (and this order) is
rolled back and the winner's order is returned (or 409 when the bodies differ).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.errors import ConflictError, NotFoundError, ValidationFailedError
from souk_common.logging import get_logger
from souk_common.security import Principal
from souk_common.telemetry import annotate
from souk_contracts.events import OrderItemV1, OrderPlacedV1
from souk_orders import repository
from souk_orders.models import Order, OrderLine
from souk_orders.schemas import (
    OrderCreate,
    OrderItemOut,
    OrderOut,
    OrderPage,
    StatusChangeOut,
    request_fingerprint,
)
from souk_orders.states import OrderStatus, Trigger
from souk_orders.transitions import Effects, apply, record_status

log = get_logger(__name__)


def order_out(order: Order) -> OrderOut:
    """Render an order as the API shows it."""
    return OrderOut(
        id=order.id,
        buyer_id=order.buyer_id,
        status=OrderStatus(order.status),
        items=[
            OrderItemOut(
                product_id=line.product_id,
                quantity=line.quantity,
                unit_price=line.unit_price,
                line_total=line.line_total,
            )
            for line in order.lines
        ],
        total=order.total,
        currency=order.currency,
        payment_method=order.payment_method,
        status_history=[
            StatusChangeOut(status=OrderStatus(c.status), at=c.at, reason=c.reason)
            for c in order.history
        ],
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


def validate_order(body: OrderCreate, payment_methods: Collection[str]) -> None:
    """Check the rules the schema cannot: each product once, a known payment method."""
    seen: set[uuid.UUID] = set()
    for index, item in enumerate(body.items):
        if item.product_id in seen:
            raise ValidationFailedError(
                f"body.items.{index}.product_id",
                "names a product already in the order; put the whole quantity on one line",
            )
        seen.add(item.product_id)
    if body.payment_method not in payment_methods:
        raise ValidationFailedError(
            "body.payment_method", f"must be one of {', '.join(sorted(payment_methods))}"
        )


async def _replay(
    session: AsyncSession, buyer: Principal, key: str, fingerprint: str
) -> OrderOut | None:
    stored = await repository.get_idempotency_key(session, buyer.user_id, key)
    if stored is None:
        return None
    if stored.request_hash != fingerprint:
        raise ConflictError(
            "this Idempotency-Key was already used with a different request body",
            reason="idempotency_key_reused",
        )
    order = await repository.get_order(session, stored.order_id)
    if order is None:  # the key's foreign key cascades, so this cannot happen
        raise NotFoundError("order not found")
    return order_out(order)


async def place_order(
    session: AsyncSession,
    effects: Effects,
    buyer: Principal,
    key: str,
    body: OrderCreate,
    payment_methods: Collection[str],
) -> tuple[OrderOut, bool]:
    """Place an order (PENDING) or replay the key's earlier one; returns (order, replayed)."""
    validate_order(body, payment_methods)
    fingerprint = request_fingerprint(body)
    replayed = await _replay(session, buyer, key, fingerprint)
    if replayed is not None:
        return replayed, True
    now = datetime.now(UTC)
    order = Order(
        id=uuid.uuid4(),
        buyer_id=buyer.user_id,
        status=OrderStatus.PENDING,
        payment_method=body.payment_method,
        created_at=now,
        updated_at=now,
        lines=[
            OrderLine(product_id=item.product_id, position=index, quantity=item.quantity)
            for index, item in enumerate(body.items)
        ],
        history=[],
    )
    annotate(
        order_id=order.id, user_id=buyer.user_id, product_id=[i.product_id for i in body.items]
    )
    async with session.begin_nested() as savepoint:
        session.add(order)
        await session.flush()
        if not await repository.claim_idempotency_key(
            session, buyer.user_id, key, fingerprint, order.id
        ):
            await savepoint.rollback()
    if order not in session:  # a concurrent request with this key committed first
        session.expunge_all()
        replayed = await _replay(session, buyer, key, fingerprint)
        if replayed is None:
            raise ConflictError("a request with this Idempotency-Key is still in progress")
        return replayed, True
    record_status(session, order, OrderStatus.PENDING, "placed", effects.publisher, at=now)
    await effects.outbox.add(
        session,
        OrderPlacedV1(
            order_id=order.id,
            buyer_id=order.buyer_id,
            items=[OrderItemV1(product_id=i.product_id, quantity=i.quantity) for i in body.items],
            payment_method=order.payment_method,
        ),
    )
    await session.flush()
    log.info("order_placed", order_id=str(order.id), lines=len(body.items))
    return order_out(order), False


async def get_order(session: AsyncSession, order_id: uuid.UUID, caller: Principal) -> OrderOut:
    """Return an order to its buyer or an admin; 404 for anyone else (no existence leak)."""
    order = await repository.get_order(session, order_id)
    if order is None or not (caller.is_admin or order.buyer_id == caller.user_id):
        raise NotFoundError("order not found")
    return order_out(order)


async def list_orders(
    session: AsyncSession,
    caller: Principal,
    *,
    status: OrderStatus | None,
    buyer_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> OrderPage:
    """Return one page of the caller's orders (an admin: everyone's, or one buyer's)."""
    owner = buyer_id if caller.is_admin else caller.user_id
    rows = await repository.list_orders(
        session, buyer_id=owner, status=status, limit=limit + 1, cursor=cursor
    )
    page = rows[:limit]
    more = len(rows) > limit
    return OrderPage(
        items=[order_out(order) for order in page],
        next_cursor=repository.cursor_after(page[-1]) if more else None,
    )


async def cancel_order(
    session: AsyncSession, effects: Effects, order_id: uuid.UUID, caller: Principal
) -> OrderOut:
    """Cancel the caller's open order (``buyer_cancelled``); 409 once it is final."""
    order = await repository.get_order(session, order_id)
    if order is None or order.buyer_id != caller.user_id:
        raise NotFoundError("order not found")
    outcome = await apply(session, effects, order_id, Trigger.BUYER_CANCEL, "buyer_cancelled")
    if outcome.order is None:
        raise NotFoundError("order not found")
    if not outcome.changed:
        raise ConflictError(
            f"the order is {outcome.order.status} and can no longer be cancelled",
            reason="order_not_cancellable",
            order_status=outcome.order.status,
        )
    return order_out(outcome.order)
