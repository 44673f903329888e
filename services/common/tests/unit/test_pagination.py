"""The one keyset cursor: exact round trips, and every bad or out-of-range value a named 422."""

from __future__ import annotations

import base64
import json
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


def _forged(sort: str, kind: str, key: str) -> str:
    """A cursor written by hand, as an attacker would."""
    raw = json.dumps([sort, kind, key, str(uuid.uuid4())]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("sort", "kind", "key", "key_type"),
    [
        ("price_asc", "d", "1e999999", Decimal),
        ("price_asc", "d", "-1e999999", Decimal),
        ("relevance", "f", "1e999999", float),
        ("newest", "t", "0001-01-01T00:00:00+14:00", datetime),
        ("newest", "t", "9999-12-31T23:59:59-14:00", datetime),
    ],
)
def test_a_forged_key_beyond_any_range_is_a_422(sort, kind, key, key_type):
    with pytest.raises(ValidationFailedError) as error:
        Cursor.decode(_forged(sort, kind, key), sort, key_type)
    assert error.value.extensions["errors"][0]["field"] == "query.cursor"


@pytest.mark.parametrize(
    "key", ["0001-01-01T00:00:00-14:00", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00Z"]
)
def test_the_extreme_timestamps_that_fit_are_accepted(key):
    cursor = Cursor.decode(_forged("newest", "t", key), "newest", datetime)
    assert cursor.key == datetime.fromisoformat(key)
