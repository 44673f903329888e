"""Charging reserved orders and refunding cancelled ones: at most one capture and one refund.

How idempotency and the races are handled: every use case runs in the consumer's transaction
and first claims the order's one ``payments`` row (``INSERT ... ON CONFLICT DO NOTHING`` on
the unique ``order_id``), else locks the existing row with ``SELECT ... FOR UPDATE``. Two
deliveries of the same order (same or new event id, one or two consumers) therefore queue on
that row and the second sees the first's decision. The orders and catalog streams are read
independently, so ``order.cancelled`` may come before ``inventory.reserved``: the cancel then
leaves the row ``voided`` and the reservation charges nothing.

The provider is called inside the transaction, keyed by the order id: if we crash after the
provider charged but before our commit, the redelivered event calls it again with the same
key and gets the same charge back, not a second one. Temporary provider failures are retried
a few times with short back-off; after that the delivery fails (rolled back, redelivered
later by the stream). A temporary failure never becomes ``payment.failed``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from souk_common.db import on_commit
from souk_common.events.outbox import Outbox
from souk_common.logging import get_logger
from souk_common.telemetry import annotate
from souk_contracts.events import PaymentFailedV1, PaymentRefundedV1, PaymentSucceededV1
from souk_payments import ledger
from souk_payments.metrics import PAYMENTS
from souk_payments.models import Payment, PaymentStatus
from souk_payments.provider import PaymentProvider, TemporaryProviderError, method_type

log = get_logger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per provider call within one delivery, and the first back-off delay."""

    attempts: int = 3
    backoff_seconds: float = 0.05


async def with_retries(policy: RetryPolicy, call: Callable[[], Awaitable[T]], what: str) -> T:
    """Run ``call``, retrying temporary provider failures; re-raise after the last attempt."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return await call()
        except TemporaryProviderError as error:
            log.warning("provider_temporary_failure", call=what, attempt=attempt, error=str(error))
            if attempt == policy.attempts:
                raise
            await asyncio.sleep(policy.backoff_seconds * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover


async def _claim(session: AsyncSession, order_id: uuid.UUID, **values: object) -> Payment | None:
    """Insert the order's payment row; return it when inserted, None when it existed."""
    inserted = await session.scalar(
        insert(Payment)
        .values(id=uuid.uuid4(), order_id=order_id, **values)
        .on_conflict_do_nothing(index_elements=["order_id"])
        .returning(Payment.id)
    )
    if inserted is None:
        return None
    return await _locked(session, order_id)


async def _locked(session: AsyncSession, order_id: uuid.UUID) -> Payment:
    """Return the order's payment row, locked for this transaction."""
    query = (
        select(Payment)
        .where(Payment.order_id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).one()


async def charge_order(
    session: AsyncSession,
    outbox: Outbox,
    provider: PaymentProvider,
    policy: RetryPolicy,
    *,
    order_id: uuid.UUID,
    buyer_id: uuid.UUID,
    amount: Decimal,
    currency: str,
    token: str | None,
) -> str | None:
    """Charge a reserved order once and emit the outcome; None when already decided."""
    annotate(order_id=order_id, user_id=buyer_id)
    kind = method_type(token)
    payment = await _claim(
        session,
        order_id,
        buyer_id=buyer_id,
        status=PaymentStatus.PENDING,
        amount=amount,
        currency=currency,
        method_type=kind,
    )
    if payment is None:
        payment = await _locked(session, order_id)
        if payment.status != PaymentStatus.PENDING:
            log.info("payment_already_decided", order_id=str(order_id), status=payment.status)
            return None
    result = await with_retries(
        policy, lambda: provider.charge(str(order_id), amount, currency, token), "charge"
    )
    if result.succeeded:
        payment.status, payment.provider_charge_ref = PaymentStatus.CAPTURED, result.charge_ref
        await ledger.post_capture(session, payment, amount)
        await outbox.add(
            session,
            PaymentSucceededV1(
                order_id=order_id,
                buyer_id=buyer_id,
                payment_id=payment.id,
                amount=amount,
                currency=currency,
            ),
        )
    else:
        payment.status = PaymentStatus.FAILED
        payment.failure_reason = result.decline_code or "declined"
        await outbox.add(
            session,
            PaymentFailedV1(
                order_id=order_id,
                buyer_id=buyer_id,
                payment_id=payment.id,
                reason=payment.failure_reason,
            ),
        )
    await session.flush()
    on_commit(session, PAYMENTS.labels(payment.status).inc)
    log.info(
        "payment_decided",
        order_id=str(order_id),
        status=payment.status,
        method_type=kind,
        reason=payment.failure_reason,
    )
    return payment.status


async def cancel_order(
    session: AsyncSession,
    outbox: Outbox,
    provider: PaymentProvider,
    policy: RetryPolicy,
    *,
    order_id: uuid.UUID,
    buyer_id: uuid.UUID,
) -> str | None:
    """Refund a captured order once, or void one not charged yet; None when a no-op."""
    if await _claim(session, order_id, buyer_id=buyer_id, status=PaymentStatus.VOIDED) is not None:
        log.info("payment_voided_before_charge", order_id=str(order_id))
        return PaymentStatus.VOIDED
    payment = await _locked(session, order_id)
    if payment.status == PaymentStatus.PENDING:  # never committed in practice; treat as not charged
        payment.status = PaymentStatus.VOIDED
        return PaymentStatus.VOIDED
    if payment.status != PaymentStatus.CAPTURED:
        log.info("cancel_is_a_no_op", order_id=str(order_id), status=payment.status)
        return None
    amount, currency, charge_ref = payment.amount, payment.currency, payment.provider_charge_ref
    if amount is None or currency is None or charge_ref is None:
        raise RuntimeError(f"captured payment {payment.id} lacks its amount or charge")
    refund = await with_retries(
        policy,
        lambda: provider.refund(f"refund:{order_id}", charge_ref, amount, currency),
        "refund",
    )
    payment.status, payment.refund_id = PaymentStatus.REFUNDED, uuid.uuid4()
    payment.provider_refund_ref, payment.refunded_amount = refund.refund_ref, amount
    await ledger.post_refund(session, payment, amount)
    await outbox.add(
        session,
        PaymentRefundedV1(
            order_id=order_id,
            buyer_id=payment.buyer_id,
            payment_id=payment.id,
            refund_id=payment.refund_id,
            amount=amount,
            currency=currency,
        ),
    )
    await session.flush()
    on_commit(session, PAYMENTS.labels(PaymentStatus.REFUNDED).inc)
    log.info("payment_refunded", order_id=str(order_id), amount=str(amount))
    return PaymentStatus.REFUNDED
