"""The deadline sweeper: cancels orders stuck in PENDING or RESERVED for too long.

A background loop of every replica. Each pass takes up to a batch of overdue open orders with
``SELECT ... FOR UPDATE SKIP LOCKED``, so replicas sweeping at the same time take disjoint
orders and never wait on an order that an event handler is changing; each is cancelled
(``timeout``) through the status machine, which emits ``order.cancelled`` (catalog releases
the stock, payments refunds a capture). One transaction per pass.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from souk_common.logging import get_logger
from souk_orders.context import OrdersContext
from souk_orders.models import Order
from souk_orders.states import OPEN, Trigger
from souk_orders.transitions import Effects, apply

log = get_logger(__name__)


async def sweep_once(
    sessions: async_sessionmaker[AsyncSession],
    effects: Effects,
    deadline_seconds: float,
    batch_size: int = 100,
) -> int:
    """Cancel up to ``batch_size`` overdue open orders; return how many were cancelled."""
    async with sessions() as session, session.begin():
        overdue = (
            select(Order.id)
            .where(
                Order.status.in_([str(status) for status in OPEN]),
                Order.created_at < func.now() - timedelta(seconds=deadline_seconds),
            )
            .order_by(Order.created_at)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        ids = list((await session.scalars(overdue)).all())
        cancelled = 0
        for order_id in ids:
            outcome = await apply(session, effects, order_id, Trigger.DEADLINE, "timeout")
            cancelled += outcome.changed
    if cancelled:
        log.info("orders_timed_out", count=cancelled)
    return cancelled


async def deadline_sweeper(context: OrdersContext, stop: asyncio.Event) -> None:
    """Sweep every ``ORDER_SWEEP_INTERVAL_SECONDS`` until ``stop`` is set; never crashes."""
    settings = context.settings
    while not stop.is_set():
        full = False
        try:
            swept = await sweep_once(
                context.runtime.worker_database.sessions,
                context.effects,
                settings.order_deadline_seconds,
                settings.order_sweep_batch_size,
            )
            full = swept >= settings.order_sweep_batch_size
        except Exception as error:  # an outage must not end the loop
            log.warning("order_sweep_failed", error=str(error), error_type=type(error).__name__)
        if not full:  # a full batch means more are overdue: go again at once
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.order_sweep_interval_seconds)
