"""The outbox and inbox tables that every service database carries.

Services add them to their own metadata with :func:`event_tables` and create them in their
first migration with :func:`create_event_tables`, so the definition lives only here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection

OUTBOX_TABLE = "event_outbox"
INBOX_TABLE = "event_inbox"


@dataclass(frozen=True)
class EventTables:
    """The outbox and inbox tables bound to one service's metadata."""

    outbox: Table
    inbox: Table


def event_tables(metadata: MetaData) -> EventTables:
    """Define (or return the already defined) outbox and inbox tables on ``metadata``."""
    if OUTBOX_TABLE in metadata.tables:
        return EventTables(metadata.tables[OUTBOX_TABLE], metadata.tables[INBOX_TABLE])
    outbox = Table(
        OUTBOX_TABLE,
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False),
        Column("stream", String(255), nullable=False),
        Column("type", String(128), nullable=False),
        Column("fields", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True), nullable=True),
        # Explicit names, so a service metadata with a naming convention compares equal.
        PrimaryKeyConstraint("id", name="pk_event_outbox"),
        UniqueConstraint("event_id", name="uq_event_outbox_event_id"),
        Index(
            "ix_event_outbox_unpublished",
            "id",
            postgresql_where=text("published_at IS NULL"),
        ),
    )
    inbox = Table(
        INBOX_TABLE,
        metadata,
        Column("event_id", String(64)),
        Column("stream", String(255), nullable=False),
        Column("type", String(128), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("event_id", name="pk_event_inbox"),
    )
    return EventTables(outbox, inbox)


def create_event_tables(connection: Connection) -> None:
    """Create the outbox and inbox tables (for a service's first migration)."""
    metadata = MetaData()
    tables = event_tables(metadata)
    metadata.create_all(connection, tables=[tables.outbox, tables.inbox])


def drop_event_tables(connection: Connection) -> None:
    """Drop the outbox and inbox tables (for a migration's downgrade)."""
    metadata = MetaData()
    tables = event_tables(metadata)
    metadata.drop_all(connection, tables=[tables.outbox, tables.inbox])
