"""Souk's event layer: CloudEvents on Redis Streams, a transactional outbox and an inbox.

Producers stage events with :class:`Outbox` in the transaction that changes their state;
:class:`OutboxRelay` publishes them. Consumers register :data:`EventHandler` functions (or a
:class:`BatchEventHandler` for many events in one call) with a :class:`ConsumerGroupRunner`,
which handles each event exactly once per group (inbox table) and dead-letters entries that
keep failing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from souk_common.lazy import lazy_exports

if TYPE_CHECKING:
    from souk_common.events.consumer import ConsumerGroupRunner, EventHandler
    from souk_common.events.envelope import CloudEvent, MalformedEventError
    from souk_common.events.handlers import BatchEventHandler
    from souk_common.events.outbox import Outbox, wake_on_commit
    from souk_common.events.relay import OutboxRelay
    from souk_common.events.streams import dead_letter_key, stream_key
    from souk_common.events.tables import EventTables, create_event_tables, event_tables

_EXPORTS: dict[str, str] = {
    "BatchEventHandler": "souk_common.events.handlers",
    "CloudEvent": "souk_common.events.envelope",
    "ConsumerGroupRunner": "souk_common.events.consumer",
    "EventHandler": "souk_common.events.consumer",
    "EventTables": "souk_common.events.tables",
    "MalformedEventError": "souk_common.events.envelope",
    "Outbox": "souk_common.events.outbox",
    "OutboxRelay": "souk_common.events.relay",
    "create_event_tables": "souk_common.events.tables",
    "dead_letter_key": "souk_common.events.streams",
    "event_tables": "souk_common.events.tables",
    "wake_on_commit": "souk_common.events.outbox",
    "stream_key": "souk_common.events.streams",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "BatchEventHandler",
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
    "stream_key",
    "wake_on_commit",
]
