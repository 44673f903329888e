"""Opaque keyset cursors for product listings: the sort key and id of the last row seen.

A cursor names its sort order, so one taken from a ``price_asc`` listing cannot be replayed on
``newest``. Keyset pagination (``WHERE (key, id) > (:key, :id)``) never skips or repeats a row
that existed when the walk began, however many rows are inserted meanwhile; offsets would.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from souk_common.errors import ValidationFailedError

SortKey = datetime | Decimal | float


@dataclass(frozen=True)
class Cursor:
    """Position just after one row of a listing in sort order ``sort``."""

    sort: str
    key: SortKey
    id: uuid.UUID


def _key_text(key: SortKey) -> str:
    if isinstance(key, datetime):
        return key.isoformat()
    return repr(key) if isinstance(key, float) else str(key)


def _parse_key(sort: str, text: str) -> SortKey:
    if sort == "newest":
        return datetime.fromisoformat(text)
    if sort == "relevance":
        return float(text)
    return Decimal(text)


def encode_cursor(cursor: Cursor) -> str:
    """Return the opaque, URL-safe form of ``cursor``."""
    raw = json.dumps([cursor.sort, _key_text(cursor.key), str(cursor.id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str, sort: str) -> Cursor:
    """Decode a cursor for a listing sorted by ``sort``; a bad one is a 422 naming ``cursor``."""
    try:
        padded = text + "=" * (-len(text) % 4)
        cursor_sort, key, identifier = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if cursor_sort != sort:
            raise ValidationFailedError("query.cursor", f"belongs to a listing sorted by {sort}")
        return Cursor(cursor_sort, _parse_key(sort, key), uuid.UUID(identifier))
    except (ValueError, TypeError, InvalidOperation, binascii.Error):
        raise ValidationFailedError("query.cursor", "is not a valid cursor") from None
