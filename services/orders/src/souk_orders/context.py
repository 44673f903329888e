"""The orders service's context: what it builds once at start-up and hands to every part.

Routes (through :mod:`souk_orders.api.deps`), stream handlers and the deadline sweeper all take
an :class:`OrdersContext`; none of them looks anything up by a string key or checks a type.
"""

from __future__ import annotations

from dataclasses import dataclass

from souk_common.app import ServiceRuntime
from souk_orders.config import OrdersSettings
from souk_orders.status_hints import StatusPublisher
from souk_orders.transitions import Effects


@dataclass(frozen=True)
class OrdersContext:
    """The shared runtime plus what every transition writes to (outbox, status hints)."""

    runtime: ServiceRuntime[OrdersSettings]
    effects: Effects

    @property
    def settings(self) -> OrdersSettings:
        """The service's settings."""
        return self.runtime.settings


async def build_context(runtime: ServiceRuntime[OrdersSettings]) -> OrdersContext:
    """Build the context (``ServiceDefinition.context``)."""
    publisher = StatusPublisher(runtime.redis, runtime.settings.stream_prefix)
    return OrdersContext(runtime, Effects(runtime.outbox, publisher))
