"""Applying the status machine to a stored order: row lock, history, metrics, events, feed.

Every change of an order's status goes through :func:`apply`. It row-locks the order
(``SELECT ... FOR UPDATE``), asks :func:`souk_orders.states.decide` where the trigger leads,
records each step in ``order_status_changes``, counts it on commit, stages the outcome event
(``order.confirmed``, ``order.rejected`` or ``order.cancelled``) in the outbox and announces
the change on the status feed after commit. All in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.db import on_commit
from souk_common.events.outbox import Outbox
from souk_common.logging import get_logger
from souk_common.telemetry import annotate
from souk_contracts.events import OrderCancelledV1, OrderConfirmedV1, OrderRejectedV1
from souk_orders.metrics import ORDERS, SAGA_DURATION, TERMINATIONS
from souk_orders.models import Order, OrderStatusChange
from souk_orders.states import OrderStatus, Trigger, decide, is_terminal
from souk_orders.status_hints import StatusPublisher

log = get_logger(__name__)


@dataclass(frozen=True)
class Effects:
    """Where a transition's side effects go: the outbox and the status feed."""

    outbox: Outbox
    publisher: StatusPublisher | None = None


@dataclass(frozen=True)
class Outcome:
    """Result of :func:`apply`: the order (None if unknown) and the statuses it went through."""

    order: Order | None
    path: tuple[OrderStatus, ...]

    @property
    def changed(self) -> bool:
        """Whether the order's status changed."""
        return bool(self.path)


async def lock_order(session: AsyncSession, order_id: uuid.UUID) -> Order | None:
    """Return the order row-locked for this transaction (fresh from the database)."""
    query = (
        select(Order)
        .where(Order.id == order_id)
        .with_for_update(of=Order)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).one_or_none()


def record_status(
    session: AsyncSession,
    order: Order,
    status: OrderStatus,
    reason: str,
    publisher: StatusPublisher | None,
    at: datetime | None = None,
) -> None:
    """Set the order's status and record the change (history row, metrics, feed hint)."""
    now = at or datetime.now(UTC)
    order.status = status
    order.updated_at = now
    order.history.append(OrderStatusChange(status=status, reason=reason, at=now))
    on_commit(session, ORDERS.labels(status).inc)
    if is_terminal(status):
        elapsed = max(0.0, (now - order.created_at).total_seconds())
        on_commit(session, partial(SAGA_DURATION.observe, elapsed))
        on_commit(session, TERMINATIONS.labels(status, reason_label(reason)).inc)
    if publisher is not None:
        on_commit(session, partial(publisher.announce, order.id, status))


def reason_label(reason: str) -> str:
    """Return the bounded metric label of a history reason (drops per-order detail).

    ``inventory_rejected: out_of_stock, unknown_product`` becomes
    ``out_of_stock, unknown_product``; other reasons are trigger names already.
    """
    return reason.split(": ", 1)[-1][:100]


async def apply(
    session: AsyncSession,
    effects: Effects,
    order_id: uuid.UUID,
    trigger: Trigger,
    reason: str,
    *,
    before: Callable[[Order, tuple[OrderStatus, ...]], None] | None = None,
    rejection_reasons: list[str] | None = None,
) -> Outcome:
    """Move the order as ``trigger`` demands; no change for an unknown or finished order.

    ``before`` runs on the locked order before the status changes (to store catalog's prices).
    """
    annotate(order_id=order_id)
    order = await lock_order(session, order_id)
    if order is None:
        log.warning("order_unknown", order_id=str(order_id), trigger=str(trigger))
        return Outcome(None, ())
    current = OrderStatus(order.status)
    path = decide(current, trigger)
    if before is not None:
        before(order, path)
    if not path:
        log.info(
            "order_transition_ignored", order_id=str(order_id), status=current, trigger=trigger
        )
        return Outcome(order, ())
    for status in path:
        # A step the trigger only implies (RESERVED before a payment outcome) says so.
        step_reason = reason if status == path[-1] else Trigger.INVENTORY_RESERVED.value
        record_status(session, order, status, step_reason, effects.publisher)
    await session.flush()
    await _emit_outcome(session, effects.outbox, order, reason, rejection_reasons)
    log.info("order_transition", order_id=str(order_id), path=[str(s) for s in path], reason=reason)
    return Outcome(order, path)


async def _emit_outcome(
    session: AsyncSession,
    outbox: Outbox,
    order: Order,
    reason: str,
    rejection_reasons: list[str] | None,
) -> None:
    status = OrderStatus(order.status)
    if status is OrderStatus.CONFIRMED:
        if order.total is None or order.currency is None:
            raise RuntimeError(f"order {order.id} confirmed without a total")  # never happens
        payload: OrderConfirmedV1 | OrderRejectedV1 | OrderCancelledV1 = OrderConfirmedV1(
            order_id=order.id, buyer_id=order.buyer_id, total=order.total, currency=order.currency
        )
        await outbox.add(session, payload)
    elif status is OrderStatus.REJECTED:
        payload = OrderRejectedV1(
            order_id=order.id, buyer_id=order.buyer_id, reasons=rejection_reasons or [reason]
        )
        await outbox.add(session, payload)
    elif status is OrderStatus.CANCELLED:
        payload = OrderCancelledV1(order_id=order.id, buyer_id=order.buyer_id, reason=reason)
        await outbox.add(session, payload)
