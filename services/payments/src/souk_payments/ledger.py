"""The double-entry ledger: postings for captures and refunds, and a reconciliation check.

Every posting is balanced (one debit, one credit of the same amount), so across the whole
ledger debits equal credits. Per order, ``merchant_revenue`` nets to what was captured minus
what was refunded, which :func:`reconcile` compares with the ``payments`` rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from souk_payments.models import (
    CAPTURE,
    CREDIT,
    CUSTOMER_FUNDS,
    DEBIT,
    MERCHANT_REVENUE,
    REFUND,
    LedgerEntry,
    Payment,
    PaymentStatus,
)

ZERO = Decimal("0.00")


async def _post(
    session: AsyncSession, payment: Payment, kind: str, debit: str, credit: str, amount: Decimal
) -> None:
    if amount <= 0 or payment.currency is None:
        return  # nothing moved (a free order): no lines rather than zero lines
    for account, direction in ((debit, DEBIT), (credit, CREDIT)):
        session.add(
            LedgerEntry(
                payment_id=payment.id,
                order_id=payment.order_id,
                kind=kind,
                account=account,
                direction=direction,
                amount=amount,
                currency=payment.currency,
            )
        )
    await session.flush()


async def post_capture(session: AsyncSession, payment: Payment, amount: Decimal) -> None:
    """Record a capture: the customer's funds become the merchant's revenue."""
    await _post(session, payment, CAPTURE, CUSTOMER_FUNDS, MERCHANT_REVENUE, amount)


async def post_refund(session: AsyncSession, payment: Payment, amount: Decimal) -> None:
    """Record a refund: the reverse of the capture."""
    await _post(session, payment, REFUND, MERCHANT_REVENUE, CUSTOMER_FUNDS, amount)


@dataclass(frozen=True)
class Reconciliation:
    """The ledger's totals and every order whose net revenue disagrees with its payment."""

    debits: Decimal
    credits: Decimal
    # order id → (net revenue in the ledger, captured - refunded according to ``payments``)
    mismatches: dict[uuid.UUID, tuple[Decimal, Decimal]] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        """Whether debits equal credits and every order's net matches its payment."""
        return self.debits == self.credits and not self.mismatches


def expected_net(payment: Payment) -> Decimal:
    """What ``merchant_revenue`` should hold for the payment: captured - refunded."""
    if payment.status == PaymentStatus.CAPTURED and payment.amount is not None:
        return payment.amount
    if payment.refunded_amount is not None and payment.amount is not None:
        return payment.amount - payment.refunded_amount
    return ZERO


async def reconcile(session: AsyncSession) -> Reconciliation:
    """Check the ledger: balanced overall, and each order's net equals captured - refunded."""
    signed = case((LedgerEntry.direction == CREDIT, LedgerEntry.amount), else_=-LedgerEntry.amount)
    totals = (
        await session.execute(
            select(
                func.coalesce(
                    func.sum(LedgerEntry.amount).filter(LedgerEntry.direction == DEBIT), ZERO
                ),
                func.coalesce(
                    func.sum(LedgerEntry.amount).filter(LedgerEntry.direction == CREDIT), ZERO
                ),
            )
        )
    ).one()
    net_rows = await session.execute(
        select(LedgerEntry.order_id, func.sum(signed))
        .where(LedgerEntry.account == MERCHANT_REVENUE)
        .group_by(LedgerEntry.order_id)
    )
    net = {order_id: Decimal(amount) for order_id, amount in net_rows.all()}
    mismatches: dict[uuid.UUID, tuple[Decimal, Decimal]] = {}
    for payment in (await session.scalars(select(Payment))).all():
        want = expected_net(payment)
        have = net.pop(payment.order_id, ZERO)
        if have != want:
            mismatches[payment.order_id] = (have, want)
    for order_id, have in net.items():  # ledger lines without a payment row
        mismatches[order_id] = (have, ZERO)
    return Reconciliation(Decimal(totals[0]), Decimal(totals[1]), mismatches)
