"""The inbox: recording handled event ids, so a redelivered event becomes a no-op.

Each handler runs in the transaction that inserts its event's id; an id already there means
the effect committed before, and the handler is skipped. Old ids are pruned by
:mod:`souk_common.events.inbox_pruning`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy import text as text_clause
from sqlalchemy.dialects.postgresql import insert

from souk_common.events.entries import StreamEntry
from souk_common.events.envelope import CloudEvent
from souk_common.events.handlers import EventHandler

# The inbox table is ``souk_common.events.tables.INBOX_TABLE`` in every service database.
INSERT_MANY = text_clause(
    "INSERT INTO event_inbox (event_id, stream, type) "
    "SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:streams AS text[]), CAST(:types AS text[])) "
    "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
)


def insert_one(inbox: Table, entry: StreamEntry, event: CloudEvent) -> Any:
    """``INSERT`` of the event id into the inbox, returning it unless already there."""
    return (
        insert(inbox)
        .values(event_id=event.id, stream=entry.stream, type=event.type)
        .on_conflict_do_nothing(index_elements=[inbox.c.event_id])
        .returning(inbox.c.event_id)
    )


def insert_many(work: Sequence[tuple[int, StreamEntry, CloudEvent, EventHandler]]) -> Any:
    """One ``INSERT`` of every event id of a batch, returning those not yet recorded.

    The rows travel as three arrays (``unnest``), so the statement text is the same for
    any batch size: prepared once per connection, never recompiled.
    """
    return INSERT_MANY.bindparams(
        ids=[event.id for _, _, event, _ in work],
        streams=[entry.stream for _, entry, _, _ in work],
        types=[event.type for _, _, event, _ in work],
    )
