"""Souk's event layer: CloudEvents on Redis Streams, a transactional outbox and an inbox.

Producers stage events with :class:`Outbox` in the transaction that changes their state;
:class:`OutboxRelay` publishes them. Consumers map payload models to handlers
(:data:`PayloadHandlers`, keyed by each model's ``event_type``); a :class:`ConsumerGroupRunner`
handles each event exactly once per group (inbox table) and dead-letters entries that keep
failing. Stream names come from :mod:`souk_common.streams`.
"""

from souk_common.events.consumer import ConsumerGroupRunner
from souk_common.events.envelope import CloudEvent, MalformedEventError
from souk_common.events.handlers import (
    BatchEventHandler,
    EventHandler,
    PayloadHandler,
    PayloadHandlers,
    by_event_type,
)
from souk_common.events.outbox import Outbox, wake_on_commit
from souk_common.events.relay import OutboxRelay
from souk_common.events.tables import EventTables, create_event_tables, event_tables
from souk_common.streams import dead_letter_key, stream_key

__all__ = [
    "BatchEventHandler",
    "CloudEvent",
    "ConsumerGroupRunner",
    "EventHandler",
    "EventTables",
    "MalformedEventError",
    "Outbox",
    "OutboxRelay",
    "PayloadHandler",
    "PayloadHandlers",
    "by_event_type",
    "create_event_tables",
    "dead_letter_key",
    "event_tables",
    "stream_key",
    "wake_on_commit",
]
