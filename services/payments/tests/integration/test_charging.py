"""The charging use cases against the real database: concurrency, temporary failures that
outlast the retries, and a ledger that reconciles after a mixed run."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from souk_common.events.outbox import Outbox
from souk_payments import ledger
from souk_payments.charging import RetryPolicy, cancel_order, charge_order
from souk_payments.models import LedgerEntry, Payment, tables
from souk_payments.provider import ChargeResult, SimulatedProvider, TemporaryProviderError

FAST = RetryPolicy(attempts=3, backoff_seconds=0.001)
OUTBOX = Outbox(tables, "payments", "unused:")


async def charge(database, provider, order_id, buyer_id, amount="10.00", token="pm_card_visa"):
    async with database.sessions() as session, session.begin():
        return await charge_order(
            session,
            OUTBOX,
            provider,
            FAST,
            order_id=order_id,
            buyer_id=buyer_id,
            amount=Decimal(amount),
            currency="EUR",
            token=token,
        )


async def cancel(database, provider, order_id, buyer_id):
    async with database.sessions() as session, session.begin():
        return await cancel_order(
            session, OUTBOX, provider, FAST, order_id=order_id, buyer_id=buyer_id
        )


async def outbox_types(database) -> list[str]:
    async with database.sessions() as session:
        rows = await session.execute(text("SELECT type FROM event_outbox ORDER BY id"))
        return [row[0] for row in rows]


async def test_concurrent_deliveries_capture_once(database):
    provider = SimulatedProvider()
    order, buyer = uuid.uuid4(), uuid.uuid4()
    outcomes = await asyncio.gather(*(charge(database, provider, order, buyer) for _ in range(10)))
    assert outcomes.count("captured") == 1
    assert outcomes.count(None) == 9
    assert await outbox_types(database) == ["payment.succeeded"]
    async with database.sessions() as session:
        lines = (await session.scalars(select(LedgerEntry))).all()
    assert len(lines) == 2


class AlwaysUnavailable(SimulatedProvider):
    async def charge(self, idempotency_key, amount, currency, token) -> ChargeResult:
        self.calls += 1
        raise TemporaryProviderError("provider down")


async def test_temporary_failures_beyond_the_retries_roll_back_for_redelivery(database):
    provider = AlwaysUnavailable()
    order, buyer = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(TemporaryProviderError):
        await charge(database, provider, order, buyer)
    assert provider.calls == 3
    # Nothing committed: no payment row, no payment.failed, so a redelivery charges afresh.
    async with database.sessions() as session:
        assert (await session.scalars(select(Payment))).all() == []
    assert await outbox_types(database) == []
    assert await charge(database, SimulatedProvider(), order, buyer) == "captured"


async def test_ledger_reconciles_after_a_mixed_run(database):
    provider = SimulatedProvider()
    buyer = uuid.uuid4()
    kept, refunded, declined, voided = (uuid.uuid4() for _ in range(4))
    await charge(database, provider, kept, buyer, "12.34")
    await charge(database, provider, refunded, buyer, "50.00", token="pm_card_retry")
    await charge(database, provider, declined, buyer, "7.00", token="pm_card_declined")
    assert await cancel(database, provider, refunded, buyer) == "refunded"
    assert await cancel(database, provider, refunded, buyer) is None  # no second refund
    assert await cancel(database, provider, voided, buyer) == "voided"
    assert await charge(database, provider, voided, buyer, "9.99") is None  # never charged
    assert await cancel(database, provider, declined, buyer) is None

    async with database.sessions() as session:
        report = await ledger.reconcile(session)
        statuses = dict((await session.execute(select(Payment.order_id, Payment.status))).all())
    assert statuses == {
        kept: "captured",
        refunded: "refunded",
        declined: "failed",
        voided: "voided",
    }
    assert report.debits == report.credits == Decimal("112.34")  # 12.34 + 50 + 50 back
    assert report.mismatches == {}
    assert report.balanced
    assert await outbox_types(database) == [
        "payment.succeeded",
        "payment.succeeded",
        "payment.failed",
        "payment.refunded",
    ]

    # The check catches a ledger that disagrees with the payments.
    async with database.sessions() as session, session.begin():
        await session.execute(
            text(
                "UPDATE ledger_entries SET amount = 12.00"
                " WHERE order_id = :o AND direction = 'credit'"
            ),
            {"o": kept},
        )
    async with database.sessions() as session:
        broken = await ledger.reconcile(session)
    assert not broken.balanced
    assert broken.mismatches == {kept: (Decimal("12.00"), Decimal("12.34"))}


async def test_the_database_refuses_a_second_capture_posting(database):
    provider = SimulatedProvider()
    order = uuid.uuid4()
    await charge(database, provider, order, uuid.uuid4())
    async with database.sessions() as session:
        payment = (await session.scalars(select(Payment))).one()
    with pytest.raises(Exception, match="uq_ledger_entries_posting"):
        async with database.sessions() as session, session.begin():
            await ledger.post_capture(session, payment, Decimal("10.00"))
