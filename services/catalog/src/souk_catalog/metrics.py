"""Business metrics of the catalog service, defined once (dashboards and alerts use the names).

Counters are incremented when the transaction that caused them commits, so a rolled-back or
redelivered event is never counted twice. No metric is labelled per product (cardinality).
"""

from __future__ import annotations

from prometheus_client import Counter

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
