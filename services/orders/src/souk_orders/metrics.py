"""Business metrics of the orders service, defined once (dashboards and alerts use the names).

Both are recorded when the transaction that caused them commits (``count_on_commit`` and
:func:`observe_on_commit`), so a rolled-back or redelivered event is never counted twice.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

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
_PENDING_OBSERVATIONS = "souk_orders_pending_observations"


def observe_on_commit(session: AsyncSession, histogram: Histogram, value: float) -> None:
    """Observe ``value`` in ``histogram`` when, and only when, the transaction commits."""
    session.info.setdefault(_PENDING_OBSERVATIONS, []).append((histogram, value))


@event.listens_for(Session, "after_commit")
def _apply_observations(session: Session) -> None:
    for histogram, value in session.info.pop(_PENDING_OBSERVATIONS, ()):
        histogram.observe(value)


@event.listens_for(Session, "after_rollback")
def _drop_observations(session: Session) -> None:
    session.info.pop(_PENDING_OBSERVATIONS, None)
