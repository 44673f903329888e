"""Stock reservations for orders: all lines or none, no oversell, idempotent per order.

How concurrency is handled: one transaction per order event. It first claims the order's row
in ``stock_orders`` (``INSERT ... ON CONFLICT DO NOTHING``, or a conditional ``UPDATE`` on
its status), so a second delivery of the same order event, whatever its event id, finds the
decision already taken and changes nothing. It then locks the products of the order with
``SELECT ... FOR UPDATE`` in product-id order (one global order, so two orders sharing
products never deadlock), checks every line, and only then moves units. Concurrent orders
for one product therefore queue on its row lock, and each sees the stock the previous one
left; the ``stock >= 0`` check constraint is a last line of defence.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk_catalog.metrics import INVENTORY_RESERVATIONS, LOW_STOCK_EVENTS
from souk_catalog.models import Product, Reservation, StockOrder, StockStatus
from souk_common.db import on_commit
from souk_common.events.outbox import Outbox
from souk_common.logging import get_logger
from souk_common.telemetry import annotate
from souk_contracts.events import (
    InventoryRejectedV1,
    InventoryReleasedV1,
    InventoryReservedV1,
    OrderItemV1,
    ProductLowStockV1,
    RejectedLineV1,
    RejectionReason,
    ReleasedLineV1,
    ReservedLineV1,
)

log = get_logger(__name__)


@dataclass(frozen=True)
class StockPolicy:
    """Knobs of the reservation use cases."""

    low_stock_threshold: int = 5


def merge_lines(items: Iterable[OrderItemV1]) -> dict[uuid.UUID, int]:
    """Sum quantities per product (an order may name a product twice), sorted by id."""
    totals: dict[uuid.UUID, int] = defaultdict(int)
    for item in items:
        totals[item.product_id] += item.quantity
    return dict(sorted(totals.items()))


async def _lock_products(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Product]:
    """Lock the products in id order (the one lock order every transaction uses)."""
    query = select(Product).where(Product.id.in_(ids)).order_by(Product.id).with_for_update()
    return {product.id: product for product in (await session.scalars(query)).all()}


def check_lines(
    lines: dict[uuid.UUID, int], products: dict[uuid.UUID, Product]
) -> list[RejectedLineV1]:
    """Return the lines that cannot be reserved, each with its reason."""
    rejected: list[RejectedLineV1] = []
    currencies = {p.currency for p in products.values() if p.active and p.deleted_at is None}
    mixed = len(currencies) > 1  # one currency per order: never sum EUR and USD
    for product_id, quantity in lines.items():
        product = products.get(product_id)
        reason: RejectionReason | None = None
        available = None
        if product is None:
            reason = "unknown_product"
        elif not product.active or product.deleted_at is not None:
            reason = "inactive_product"
        elif mixed:
            reason = "currency_mismatch"
        elif product.stock < quantity:
            reason, available = "out_of_stock", product.stock
        if reason is not None:
            rejected.append(
                RejectedLineV1(
                    product_id=product_id, quantity=quantity, reason=reason, available=available
                )
            )
    return rejected


async def reserve_order(
    session: AsyncSession,
    outbox: Outbox,
    policy: StockPolicy,
    *,
    order_id: uuid.UUID,
    buyer_id: uuid.UUID,
    items: Sequence[OrderItemV1],
    payment_method: str | None = None,
) -> str | None:
    """Reserve every line of an order or none; emit the outcome. None when already decided."""
    annotate(order_id=order_id, user_id=buyer_id, product_id=[i.product_id for i in items])
    claimed = await session.execute(
        insert(StockOrder)
        .values(order_id=order_id, buyer_id=buyer_id, status=StockStatus.RESERVED)
        .on_conflict_do_nothing(index_elements=["order_id"])
        .returning(StockOrder.order_id)
    )
    if claimed.scalar_one_or_none() is None:
        log.info("order_already_decided", order_id=str(order_id))
        return None
    lines = merge_lines(items)
    products = await _lock_products(session, list(lines))
    rejected = check_lines(lines, products)
    if rejected:
        await session.execute(
            update(StockOrder)
            .where(StockOrder.order_id == order_id)
            .values(status=StockStatus.REJECTED)
        )
        await outbox.add(
            session,
            InventoryRejectedV1(order_id=order_id, buyer_id=buyer_id, lines=rejected),
        )
        on_commit(session, INVENTORY_RESERVATIONS.labels(StockStatus.REJECTED).inc)
        log.info("order_rejected", order_id=str(order_id), reasons=[r.reason for r in rejected])
        return StockStatus.REJECTED
    reserved: list[ReservedLineV1] = []
    for product_id, quantity in lines.items():
        product = products[product_id]
        before = product.stock
        product.stock = before - quantity
        session.add(
            Reservation(
                order_id=order_id,
                product_id=product_id,
                quantity=quantity,
                unit_price=product.price,
                currency=product.currency,
                status=StockStatus.RESERVED,
            )
        )
        reserved.append(
            ReservedLineV1(
                product_id=product_id,
                quantity=quantity,
                unit_price=product.price,
                line_total=product.price * quantity,
            )
        )
        if before > policy.low_stock_threshold >= product.stock:
            await _signal_low_stock(session, outbox, product, policy.low_stock_threshold)
    await session.flush()
    total = sum((line.line_total for line in reserved), Decimal("0.00"))
    currency = products[next(iter(lines))].currency
    await outbox.add(
        session,
        InventoryReservedV1(
            order_id=order_id,
            buyer_id=buyer_id,
            lines=reserved,
            total=total,
            currency=currency,
            payment_method=payment_method,
        ),
    )
    on_commit(session, INVENTORY_RESERVATIONS.labels(StockStatus.RESERVED).inc)
    log.info("order_reserved", order_id=str(order_id), total=str(total))
    return StockStatus.RESERVED


async def _signal_low_stock(
    session: AsyncSession, outbox: Outbox, product: Product, threshold: int
) -> None:
    """Emit ``product.low_stock`` and count it (once, when the threshold is crossed)."""
    await outbox.add(
        session,
        ProductLowStockV1(
            product_id=product.id,
            seller_id=product.seller_id,
            stock=product.stock,
            threshold=threshold,
        ),
    )
    on_commit(session, LOW_STOCK_EVENTS.inc)


async def _transition(
    session: AsyncSession, order_id: uuid.UUID, from_statuses: tuple[str, ...], to: str
) -> str | None:
    """Move the order from one of ``from_statuses`` to ``to`` (row-locked); old status or None."""
    current = await session.scalar(
        select(StockOrder.status).where(StockOrder.order_id == order_id).with_for_update()
    )
    if current not in from_statuses:
        return None
    await session.execute(
        update(StockOrder).where(StockOrder.order_id == order_id).values(status=to)
    )
    return current


async def release_order(session: AsyncSession, outbox: Outbox, order_id: uuid.UUID) -> bool:
    """Return a cancelled order's reserved units to stock and emit ``inventory.released``.

    A cancellation for an order catalog has not seen yet leaves a ``cancelled`` marker, so a
    late ``order.placed`` reserves nothing. Anything else (rejected, released, sold) is a no-op.
    """
    inserted = await session.execute(
        insert(StockOrder)
        .values(order_id=order_id, buyer_id=None, status=StockStatus.CANCELLED)
        .on_conflict_do_nothing(index_elements=["order_id"])
        .returning(StockOrder.order_id)
    )
    if inserted.scalar_one_or_none() is not None:
        log.info("order_cancelled_before_placed", order_id=str(order_id))
        return False
    if await _transition(session, order_id, (StockStatus.RESERVED,), StockStatus.RELEASED) is None:
        return False
    held = list(
        (
            await session.scalars(
                select(Reservation)
                .where(Reservation.order_id == order_id, Reservation.status == StockStatus.RESERVED)
                .order_by(Reservation.product_id)
            )
        ).all()
    )
    products = await _lock_products(session, [r.product_id for r in held])
    for reservation in held:
        products[reservation.product_id].stock += reservation.quantity
        reservation.status = StockStatus.RELEASED
    await session.flush()
    lines = [ReleasedLineV1(product_id=r.product_id, quantity=r.quantity) for r in held]
    await outbox.add(session, InventoryReleasedV1(order_id=order_id, lines=lines))
    log.info("order_released", order_id=str(order_id))
    return True


async def confirm_order(session: AsyncSession, order_id: uuid.UUID) -> bool:
    """Mark a reserved order's units sold (they never return to stock); False if a no-op."""
    if await _transition(session, order_id, (StockStatus.RESERVED,), StockStatus.SOLD) is None:
        return False
    await session.execute(
        update(Reservation)
        .where(Reservation.order_id == order_id, Reservation.status == StockStatus.RESERVED)
        .values(status=StockStatus.SOLD)
    )
    log.info("order_sold", order_id=str(order_id))
    return True
