"""Souk's event layer: CloudEvents on Redis Streams, a transactional outbox and an inbox.

Producers stage events with :class:`Outbox` in the transaction that changes their state;
:class:`OutboxRelay` publishes them. Consumers register :data:`EventHandler` functions with a
:class:`ConsumerGroupRunner`, which handles each event exactly once per group (inbox table)
and dead-letters entries that keep failing.
"""

from souk_common.events.consumer import ConsumerGroupRunner, EventHandler
from souk_common.events.envelope import CloudEvent, MalformedEventError
from souk_common.events.outbox import Outbox
from souk_common.events.relay import OutboxRelay, install_commit_hook
from souk_common.events.streams import dead_letter_key, stream_key
from souk_common.events.tables import EventTables, create_event_tables, event_tables

__all__ = [
    "CloudEvent",
    "ConsumerGroupRunner",
    "EventHandler",
    "EventTables",
    "MalformedEventError",
    "Outbox",
    "OutboxRelay",
    "create_event_tables",
    "dead_letter_key",
    "event_tables",
    "install_commit_hook",
    "stream_key",
]
