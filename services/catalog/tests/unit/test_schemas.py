"""Validation of product bodies and currencies, without I/O."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from pydantic import ValidationError

from souk_catalog.inventory import merge_lines
from souk_catalog.schemas import ProductCreate, ProductPatch
from souk_contracts.events import OrderItemV1

VALID = {"name": "Mug", "price": "5", "currency": "EUR", "category": "home", "stock": 0}


def test_price_is_normalised_to_two_places():
    assert ProductCreate.model_validate(VALID).price == Decimal("5.00")
    assert ProductCreate.model_validate({**VALID, "price": 9.9}).price == Decimal("9.90")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", "0"),
        ("price", "-1"),
        ("price", "1.005"),
        ("currency", "eur"),
        ("currency", "ABC"),
        ("name", " "),
        ("name", "x" * 201),
        ("stock", -1),
        ("category", "Not A Slug"),
    ],
)
def test_invalid_fields_are_refused(field, value):
    with pytest.raises(ValidationError) as error:
        ProductCreate.model_validate({**VALID, field: value})
    assert error.value.errors()[0]["loc"] == (field,)


def test_patch_keeps_unsent_fields_and_refuses_null():
    assert ProductPatch.model_validate({"stock": 3}).changes() == {"stock": 3}
    with pytest.raises(ValidationError):
        ProductPatch.model_validate({"price": None})
    with pytest.raises(ValidationError):
        ProductPatch.model_validate({"seller_id": str(uuid.uuid4())})


def test_lines_for_the_same_product_are_merged_in_id_order():
    a, b = sorted([uuid.uuid4(), uuid.uuid4()])
    items = [
        OrderItemV1(product_id=b, quantity=1),
        OrderItemV1(product_id=a, quantity=2),
        OrderItemV1(product_id=b, quantity=3),
    ]
    assert list(merge_lines(items).items()) == [(a, 2), (b, 4)]
