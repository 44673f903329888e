"""Placement bodies: the fingerprint replays are compared by, and the rules beyond the schema."""

from __future__ import annotations

import uuid

import pytest

from souk_common.errors import ValidationFailedError
from souk_orders.config import DEFAULT_PAYMENT_METHODS
from souk_orders.schemas import OrderCreate, request_fingerprint
from souk_orders.service import validate_order

A, B = str(uuid.uuid4()), str(uuid.uuid4())


def body(items, payment_method="pm_card_visa"):
    return OrderCreate.model_validate({"items": items, "payment_method": payment_method})


def test_fingerprint_ignores_line_order_but_not_content():
    one = body([{"product_id": A, "quantity": 1}, {"product_id": B, "quantity": 2}])
    same = body([{"product_id": B, "quantity": 2}, {"product_id": A, "quantity": 1}])
    other = body([{"product_id": A, "quantity": 2}, {"product_id": B, "quantity": 2}])
    card = body([{"product_id": A, "quantity": 1}, {"product_id": B, "quantity": 2}], "x")
    assert request_fingerprint(one) == request_fingerprint(same)
    assert len({request_fingerprint(b) for b in (one, other, card)}) == 3


def test_known_payment_methods():
    assert {"pm_card_visa", "pm_card_declined", "pm_card_retry"} == DEFAULT_PAYMENT_METHODS
    validate_order(body([{"product_id": A, "quantity": 1}]), DEFAULT_PAYMENT_METHODS)
    with pytest.raises(ValidationFailedError) as raised:
        validate_order(body([{"product_id": A, "quantity": 1}], "4242"), DEFAULT_PAYMENT_METHODS)
    assert raised.value.extensions["errors"][0]["field"] == "body.payment_method"


def test_duplicate_product_names_the_second_line():
    duplicate = body([{"product_id": A, "quantity": 1}, {"product_id": A, "quantity": 3}])
    with pytest.raises(ValidationFailedError) as raised:
        validate_order(duplicate, DEFAULT_PAYMENT_METHODS)
    assert raised.value.extensions["errors"][0]["field"] == "body.items.1.product_id"
