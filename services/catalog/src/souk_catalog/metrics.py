"""Business metrics of the catalog service, defined once (dashboards and alerts use the names).

Counters are incremented when the transaction that caused them commits, so a rolled-back or
redelivered event is never counted twice. No metric is labelled per product (cardinality).
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

# Exported as `souk_low_stock_events_total`.
LOW_STOCK_EVENTS = Counter(
    "souk_low_stock_events",
    "Reservations that took a product's stock to or below the low-stock threshold.",
)
# Exported as `souk_inventory_reservations_total{outcome}` (reserved, rejected).
INVENTORY_RESERVATIONS = Counter(
    "souk_inventory_reservations",
    "Orders whose stock reservation was decided, by outcome.",
    ["outcome"],
)


def count_on_commit(session: AsyncSession, counter: Counter, *labels: str) -> None:
    """Increment ``counter`` (with ``labels``) only if the session's transaction commits."""

    def increment(_: Any) -> None:
        (counter.labels(*labels) if labels else counter).inc()

    event.listen(session.sync_session, "after_commit", increment, once=True)
