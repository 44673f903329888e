"""The one keyset cursor: exact round trips, and every bad or out-of-range value a named 422."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from souk_common.errors import ValidationFailedError
from souk_common.pagination import Cursor


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("newest", datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)),
        ("price_asc", Decimal("19.90")),
        ("relevance", 0.0607927106320858),
    ],
)
def test_cursors_round_trip_exactly(sort, key):
    cursor = Cursor(sort, key, uuid.uuid4())
    assert Cursor.decode(cursor.encode(), sort, type(key)) == cursor


@pytest.mark.parametrize(
    "bad",
    [
        Cursor("price_asc", Decimal("1.00"), uuid.uuid4()).encode(),  # another sort order
        "@@@",
        "W10",
        Cursor("newest", datetime(2026, 1, 1), uuid.uuid4()).encode(),  # no time zone
        Cursor("newest", Decimal("1e20"), uuid.uuid4()).encode(),
        Cursor("newest", Decimal("NaN"), uuid.uuid4()).encode(),
        Cursor("newest", float("inf"), uuid.uuid4()).encode(),
        Cursor("newest", Decimal("1.00"), uuid.uuid4()).encode(),  # a key of another type
    ],
)
def test_a_bad_or_out_of_range_cursor_is_a_422_naming_the_field(bad):
    with pytest.raises(ValidationFailedError) as error:
        Cursor.decode(bad, "newest", datetime)
    assert error.value.status_code == 422
    assert error.value.extensions["errors"][0]["field"] == "query.cursor"
