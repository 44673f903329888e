"""The consumer group ``payments`` fed with real stream entries on the catalog and orders
streams: one capture per order whatever the redelivery, declines, temporary failures,
refunds, and cancellations that overtake the reservation."""

from __future__ import annotations

import uuid

from souk_payments.provider import SimulatedProvider


async def metric(payments, outcome: str) -> float:
    text = (await payments.client.get("/metrics")).text
    for line in text.splitlines():
        if line.startswith(f'souk_payments_total{{outcome="{outcome}"}} '):
            return float(line.split()[1])
    return 0.0


async def test_visa_is_captured_once_however_often_the_reservation_arrives(payments):
    order, buyer = uuid.uuid4(), uuid.uuid4()
    before = await metric(payments, "captured")
    event = await payments.reserve(order, buyer, total="42.50")
    await payments.publish("catalog", event)  # the relay published it twice (same id)
    # catalog re-emitted it with a new event id: still one capture
    again = await payments.reserve(order, buyer, total="42.50")
    await payments.consumed(again.id)
    emitted = await payments.events(1, settle=0.3)
    assert [e["type"] for e in emitted] == ["payment.succeeded"]
    data = emitted[0]["data"]
    assert data["order_id"] == str(order)
    assert data["buyer_id"] == str(buyer)
    assert data["amount"] == "42.50"  # a decimal string, never a float
    assert data["currency"] == "EUR"
    provider: SimulatedProvider = payments.provider
    assert provider.charges_made == 1  # one charge at the provider too
    assert await metric(payments, "captured") == before + 1


async def test_declined_card_fails_the_payment(payments):
    order, buyer = uuid.uuid4(), uuid.uuid4()
    await payments.reserve(order, buyer, token="pm_card_declined")
    emitted = await payments.events(1)
    assert [e["type"] for e in emitted] == ["payment.failed"]
    assert emitted[0]["data"]["reason"] == "card_declined"
    # An unknown token and a missing one are declines too, with their own codes.
    await payments.reserve(uuid.uuid4(), buyer, token="pm_card_bogus")
    await payments.reserve(uuid.uuid4(), buyer, token=None)
    reasons = [e["data"]["reason"] for e in await payments.events(3)]
    assert sorted(reasons) == ["card_declined", "missing_payment_method", "unknown_payment_method"]


async def test_temporary_failure_is_retried_and_never_reported_as_failed(payments):
    order, buyer = uuid.uuid4(), uuid.uuid4()
    event = await payments.reserve(order, buyer, token="pm_card_retry")
    await payments.consumed(event.id)
    emitted = await payments.events(1, settle=0.2)
    assert [e["type"] for e in emitted] == ["payment.succeeded"]
    provider: SimulatedProvider = payments.provider
    assert provider.calls == 2  # one temporary failure, then the success


async def test_cancel_after_capture_refunds_exactly_once(payments):
    order, buyer = uuid.uuid4(), uuid.uuid4()
    before = await metric(payments, "refunded")
    await payments.reserve(order, buyer, total="19.90")
    await payments.events(1)
    first = await payments.cancel(order, buyer)
    await payments.publish("orders", first)  # same event again
    second = await payments.cancel(order, buyer)  # and a new cancel for the same order
    await payments.consumed(second.id)
    emitted = await payments.events(2, settle=0.3)
    assert [e["type"] for e in emitted] == ["payment.succeeded", "payment.refunded"]
    refund = emitted[1]["data"]
    assert refund["amount"] == "19.90"
    assert refund["payment_id"] == emitted[0]["data"]["payment_id"]
    provider: SimulatedProvider = payments.provider
    assert provider.refunds_made == 1
    assert await metric(payments, "refunded") == before + 1
    # A reservation redelivered after the refund charges nothing.
    late = await payments.reserve(order, buyer, total="19.90")
    await payments.consumed(late.id)
    assert len(await payments.events(2, settle=0.2)) == 2


async def test_cancel_before_reservation_means_never_charged(payments, token_issuer):
    order, buyer = uuid.uuid4(), uuid.uuid4()
    cancelled = await payments.cancel(order, buyer)
    await payments.consumed(cancelled.id)
    late = await payments.reserve(order, buyer)
    await payments.consumed(late.id)
    assert await payments.events(0, settle=0.2) == []
    provider: SimulatedProvider = payments.provider
    assert provider.calls == 0
    response = await payments.client.get(
        "/api/payments", params={"order_id": str(order)}, headers=token_issuer.headers(buyer)
    )
    (payment,) = response.json()
    assert payment["status"] == "voided"
    assert payment["amount"] is None


async def test_cancel_after_decline_is_a_no_op(payments):
    order, buyer = uuid.uuid4(), uuid.uuid4()
    await payments.reserve(order, buyer, token="pm_card_declined")
    await payments.events(1)
    cancelled = await payments.cancel(order, buyer, reason="payment_failed")
    await payments.consumed(cancelled.id)
    assert [e["type"] for e in await payments.events(1, settle=0.2)] == ["payment.failed"]
