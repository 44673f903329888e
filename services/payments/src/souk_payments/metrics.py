"""Business metrics of the payments service, defined once (dashboards and alerts use the names).

Counters move only when the transaction that caused them commits (``souk_common.db.on_commit``), so
a rolled-back or redelivered event is never counted twice. Nothing is labelled per order.
"""

from __future__ import annotations

from prometheus_client import Counter

# Exported as `souk_payments_total{outcome}` (captured, failed, refunded).
PAYMENTS = Counter(
    "souk_payments",
    "Payment decisions that committed, by outcome.",
    ["outcome"],
)
