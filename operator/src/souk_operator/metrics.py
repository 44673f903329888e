"""The operator's Prometheus metrics, defined once (names are contracts, see DESIGN.md)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

RECONCILE_TOTAL = Counter(
    "souk_operator_reconcile",
    "Reconciles of a Marketplace by outcome (the phase it ended in, or error).",
    ["outcome"],
)
RECONCILE_DURATION = Histogram(
    "souk_operator_reconcile_duration_seconds",
    "Time to reconcile one Marketplace (databases, streams, Secrets, status).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
