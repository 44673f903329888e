"""The service topology of DESIGN.md: names, local ports and stream subscriptions.

This is the single source for which producer streams each consumer group reads; the local
stack, the operator (defaults of ``spec.services``) and the charts derive from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceTopology:
    """One service: its name, its port on a single machine and the streams it consumes."""

    name: str
    port: int
    subscribes: tuple[str, ...] = ()


SERVICES: Mapping[str, ServiceTopology] = {
    topology.name: topology
    for topology in (
        ServiceTopology("auth", 8001),
        ServiceTopology("catalog", 8002, ("orders",)),
        ServiceTopology("orders", 8003, ("catalog", "payments")),
        ServiceTopology("payments", 8004, ("catalog", "orders")),
        ServiceTopology("notifications", 8005, ("orders", "payments", "auth")),
    )
}


def subscriptions(services: list[str] | None = None) -> dict[str, tuple[str, ...]]:
    """Return ``{consumer group: producer services}`` for the given (default: all) services."""
    names = list(SERVICES) if services is None else services
    return {name: SERVICES[name].subscribes for name in names if SERVICES[name].subscribes}
