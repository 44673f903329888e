"""Business metrics of the orders service, defined once (dashboards and alerts use the names).

Each is recorded when the transaction that caused it commits (:func:`souk_common.db.on_commit`),
so a rolled-back or redelivered event is never counted twice.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Exported as `souk_orders_total{status}`: transitions into each status (PENDING = placed).
ORDERS = Counter("souk_orders", "Orders that entered each status.", ["status"])
# Exported as `souk_order_terminations_total{status,reason}`: how orders ended. ``reason`` is
# bounded: the trigger (payment_failed, buyer_cancelled, timeout, payment_succeeded) or, for
# REJECTED, catalog's line reasons (out_of_stock, unknown_product, ...), never an id.
TERMINATIONS = Counter(
    "souk_order_terminations",
    "Orders that reached a terminal status, by status and reason.",
    ["status", "reason"],
)
# Exported as `souk_order_saga_duration_seconds`: from placement to a terminal status.
SAGA_DURATION = Histogram(
    "souk_order_saga_duration_seconds",
    "Time from an order's placement to its terminal status.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0),
)
