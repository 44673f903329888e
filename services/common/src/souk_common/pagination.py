"""One keyset cursor for every list endpoint: the sort key and id of the last row seen.

A cursor is opaque to clients: URL-safe base64 of ``[sort, kind, key, id]``, where ``kind``
says how ``key`` is typed (``t`` a timestamp, ``d`` a decimal, ``f`` a float). It names its
sort order, so one taken from a ``price_asc`` listing cannot be replayed on ``newest``.
Keyset pagination (``WHERE (key, id) > (:key, :id)``, see :func:`after`) never skips or
repeats a row that existed when the walk began, however many rows are inserted meanwhile;
offsets would.

A malformed cursor, or one whose key is out of range (a timestamp without a time zone or
beyond datetime's range once in UTC, a non-finite number, a decimal too large for any
column), is refused with 422 naming ``query.cursor``, before any query runs.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, Float, SQLColumnExpression, literal, tuple_

from souk_common.errors import ValidationFailedError

SortKey = datetime | Decimal | float
FIELD = "query.cursor"
# The largest sort key a decimal cursor may hold: more than any price column (NUMERIC(12,2)).
_MAX_DECIMAL = Decimal(10) ** 15


@dataclass(frozen=True)
class Cursor:
    """Position just after one row of a listing in sort order ``sort``."""

    sort: str
    key: SortKey
    id: uuid.UUID

    def encode(self) -> str:
        """Return the opaque, URL-safe form of this cursor."""
        kind, text = _key_text(self.key)
        raw = json.dumps([self.sort, kind, text, str(self.id)], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, sort: str, key_type: type[SortKey]) -> Cursor:
        """Decode a cursor of a listing sorted by ``sort`` on a ``key_type`` key.

        A bad one (malformed, out of range, of another sort or key type) is a 422 naming it.
        """
        try:
            padded = text + "=" * (-len(text) % 4)
            cursor_sort, kind, key, identifier = json.loads(base64.urlsafe_b64decode(padded))
            cursor = cls(str(cursor_sort), _parse_key(kind, key), uuid.UUID(identifier))
        except (ValueError, TypeError, InvalidOperation, binascii.Error):
            raise ValidationFailedError(FIELD, "is not a valid cursor") from None
        if cursor.sort != sort or not isinstance(cursor.key, key_type):
            raise ValidationFailedError(FIELD, f"belongs to a listing sorted by {cursor.sort}")
        return cursor


def after(
    key: SQLColumnExpression[Any],
    id_column: SQLColumnExpression[Any],
    cursor: Cursor,
    *,
    ascending: bool,
) -> ColumnElement[bool]:
    """The keyset condition: rows strictly after ``cursor`` in ``(key, id)`` order."""
    value = literal(cursor.key, Float) if isinstance(cursor.key, float) else literal(cursor.key)
    left, right = tuple_(key, id_column), tuple_(value, literal(cursor.id))
    return left > right if ascending else left < right


def _key_text(key: SortKey) -> tuple[str, str]:
    if isinstance(key, datetime):
        return "t", key.isoformat()
    if isinstance(key, Decimal):
        return "d", str(key)
    return "f", repr(float(key))


def _parse_key(kind: object, text: object) -> SortKey:
    """Parse a key of ``kind``; raises ValueError when it is malformed or out of range."""
    if not isinstance(text, str):
        raise TypeError("the key is not text")
    if kind == "t":
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise ValueError("a timestamp without a time zone")
        try:  # 0001-01-01T00:00+14:00 and 9999-12-31T23:59-14:00 lie outside datetime in UTC
            moment.astimezone(UTC)
        except OverflowError:
            raise ValueError("a timestamp out of range") from None
        return moment
    if kind == "d":
        number = Decimal(text)
        if not number.is_finite() or abs(number) >= _MAX_DECIMAL:
            raise ValueError("a decimal out of range")
        return number
    if kind == "f":
        value = float(text)
        if not math.isfinite(value):
            raise ValueError("a non-finite number")
        return value
    raise ValueError(f"an unknown key kind {kind!r}")
