"""Notifications tells the buyer about each order outcome (orders and payments streams),
once per event, and only the buyer sees it."""

import uuid
from decimal import Decimal

import pytest

from souk_common.events import stream_key
from souk_common.testing import event_of
from souk_contracts.events import (
    OrderCancelledV1,
    OrderConfirmedV1,
    OrderRejectedV1,
    PaymentRefundedV1,
)
from souk_notifications import messages

from .conftest import wait_for_items


async def test_each_order_outcome_notifies_the_buyer_once(
    service, redis_client, redis_prefix, token_issuer
):
    buyer, stranger = uuid.uuid4(), uuid.uuid4()
    confirmed, rejected, cancelled = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    orders = stream_key(redis_prefix, "orders")
    payments = stream_key(redis_prefix, "payments")
    outcomes = [
        (
            orders,
            event_of(
                OrderConfirmedV1(
                    order_id=confirmed, buyer_id=buyer, total=Decimal("42.50"), currency="EUR"
                ),
                "orders",
            ),
        ),
        (
            orders,
            event_of(
                OrderRejectedV1(order_id=rejected, buyer_id=buyer, reasons=["out_of_stock"]),
                "orders",
            ),
        ),
        (
            orders,
            event_of(
                OrderCancelledV1(order_id=cancelled, buyer_id=buyer, reason="buyer_cancelled"),
                "orders",
            ),
        ),
        (
            payments,
            event_of(
                PaymentRefundedV1(
                    order_id=cancelled,
                    buyer_id=buyer,
                    payment_id=uuid.uuid4(),
                    refund_id=uuid.uuid4(),
                    amount=Decimal("19.90"),
                    currency="EUR",
                ),
                "payments",
            ),
        ),
    ]
    for stream, outcome in outcomes:
        await redis_client.xadd(stream, outcome.to_fields())
    for stream, outcome in outcomes:  # every event delivered twice: still one notification
        await redis_client.xadd(stream, outcome.to_fields())

    items = await wait_for_items(service, token_issuer.headers(buyer), 4, settle=0.2)
    by_kind = {item["kind"]: item for item in items}
    assert len(items) == 4
    assert set(by_kind) == {
        "order_confirmed",
        "order_rejected",
        "order_cancelled",
        "payment_refunded",
    }
    assert str(confirmed) in by_kind["order_confirmed"]["body"]
    assert "42.50 EUR" in by_kind["order_confirmed"]["body"]
    assert str(confirmed)[:8] in by_kind["order_confirmed"]["title"]
    assert str(rejected) in by_kind["order_rejected"]["body"]
    assert "out of stock" in by_kind["order_rejected"]["body"]
    assert str(cancelled) in by_kind["order_cancelled"]["body"]
    assert "at your request" in by_kind["order_cancelled"]["body"]
    assert str(cancelled) in by_kind["payment_refunded"]["body"]
    assert "19.90 EUR" in by_kind["payment_refunded"]["body"]

    others = await service.get("/api/notifications", headers=token_issuer.headers(stranger))
    assert others.json()["items"] == []


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        ("payment_failed", "because the payment did not go through"),
        ("timeout", "because it was not completed in time"),
        ("seller_gone_fishing", "(seller gone fishing)"),
    ],
)
def test_cancellation_reasons_read_as_sentences(reason, text):
    order = uuid.uuid4()
    message = messages.order_cancelled(
        OrderCancelledV1(order_id=order, buyer_id=uuid.uuid4(), reason=reason)
    )
    assert message.body.startswith(f"Your order {order} was cancelled {text}.")


def test_rejection_lists_each_reason_once():
    message = messages.order_rejected(
        OrderRejectedV1(
            order_id=uuid.uuid4(),
            buyer_id=uuid.uuid4(),
            reasons=["out_of_stock", "out_of_stock", "currency_mismatch"],
        )
    )
    assert "an item is out of stock; the items are priced in different currencies." in message.body
    assert message.kind == "order_rejected"
